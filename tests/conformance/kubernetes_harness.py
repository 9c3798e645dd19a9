"""The Kubernetes harness: the emulator, and the tests playing its controllers."""

from __future__ import annotations

import contextlib
import io
import tarfile
from collections.abc import AsyncIterator

import pytest

from asgard.backends.cluster import Cluster
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.backends.kubernetes.jobs import KubernetesJobsBackend
from asgard.models import Capabilities
from asgard.services.jobs import JobFilesService
from asgard.testing import Harness
from tests.conftest import KubeCluster, build, running_kube
from tests.support.dockerd import TEST_IMAGE

NODE = "node-1"


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = tarfile.TarInfo(".")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)  # as `tar -C /output -cf - .` does
        for name, data in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class KubernetesHarness(Harness):
    name = "kubernetes"
    kind = "kubernetes"
    agent_type = "KUBERNETES"
    capabilities = Capabilities(own_scheduler=True)  # with a public URL: jobs carry files
    image = TEST_IMAGE

    def __init__(self, kube: KubeCluster) -> None:
        self.kube = kube
        self.controllers = kube.controllers
        self.orchestrator = kube.orchestrator
        self.cluster = kube.cluster.name
        self.tokens = kube.tokens

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
        async with running_kube() as kube:
            yield cls(kube)

    @contextlib.asynccontextmanager
    async def misbehaving(self, url: str) -> AsyncIterator[Cluster]:
        config = KubernetesClusterConfig(name="k8s-wrong", url=url, timeout_s=2)
        cluster = await build(config, self.kube.context)
        try:
            yield cluster
        finally:
            await cluster.close()

    async def seed_app(
        self, namespace: str, app_id: str, *, instances: int, cpus: float = 0.0, mem: float = 0.0
    ) -> None:
        name = N.object_name(app_id)
        resources = {}
        if cpus or mem:
            wanted = {
                **({"cpu": f"{int(cpus * 1000)}m"} if cpus else {}),
                **({"memory": f"{int(mem)}Mi"} if mem else {}),
            }
            resources = {"requests": wanted, "limits": wanted}
        await self.controllers.call(
            "POST",
            f"/apis/apps/v1/namespaces/{namespace}/deployments",
            {
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "annotations": {N.APP_ID_ANNOTATION: app_id},
                },
                "spec": {
                    "replicas": instances,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {
                        "metadata": {"labels": {"app": name}},
                        "spec": {
                            "containers": [
                                {"name": "app", "image": TEST_IMAGE, "resources": resources}
                            ]
                        },
                    },
                },
            },
        )
        await self.controllers.reconcile()

    async def set_owner(self, owner: str | None) -> str:
        await self.controllers.call(
            "PATCH", f"/api/v1/nodes/{NODE}", {"metadata": {"labels": {"owner": owner}}}
        )
        return NODE

    async def converge(self) -> None:
        await self.controllers.reconcile()

    async def settle_job(
        self, namespace: str, job_id: str, *, exit_code: int, output: dict[str, bytes]
    ) -> None:
        await self.controllers.end_job(namespace, job_id, exit_code)
        jobs = self.kube.cluster.parts["jobs"]
        assert isinstance(jobs, KubernetesJobsBackend)
        await jobs.collector.collect()
        collectors = await self.controllers.items(
            f"/apis/batch/v1/namespaces/{namespace}/jobs",
            labelSelector=f"{N.ROLE_LABEL}=collector,{N.JOB_LABEL}={job_id}",
        )
        for collector in collectors:
            if (collector.get("status") or {}).get("conditions"):
                continue
            # the collector's pod: read the token its Secret holds and send /output, as a tar
            secret = collector["spec"]["template"]["spec"]["containers"][0]["env"][1]["valueFrom"][
                "secretKeyRef"
            ]["name"]
            stored = await self.controllers.call(
                "GET", f"/api/v1/namespaces/{namespace}/secrets/{secret}"
            )
            grant = self.tokens.verify(stored["stringData"]["token"])
            await JobFilesService(jobs.artifacts).save_output(
                grant, self.cluster, job_id, tar_of(output)
            )
            await self.controllers.end_job(namespace, collector["metadata"]["name"], 0)

    async def leftovers(self, namespace: str, app_id: str) -> list[str]:
        name = N.object_name(app_id)
        found = [
            f"{plural} {w['metadata']['name']}"
            for plural in ("deployments", "statefulsets", "daemonsets")
            for w in await self.controllers.items(f"/apis/apps/v1/namespaces/{namespace}/{plural}")
            if N.app_id_of(w) == app_id
        ]
        found += [
            f"pod {p['metadata']['name']}"
            for p in await self.controllers.items(f"/api/v1/namespaces/{namespace}/pods")
            if p["metadata"]["name"].startswith(f"{name}-")
        ]
        return found
