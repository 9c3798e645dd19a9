"""The Kubernetes harness: the emulator, and the tests playing its controllers."""

from __future__ import annotations

import contextlib
import io
import tarfile
from collections.abc import AsyncIterator, Sequence

import pytest

from asgard.backends.cluster import Cluster
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.backends.kubernetes.jobs import KubernetesJobsBackend
from asgard.models import Capabilities
from asgard.services.jobs import JobFilesService
from asgard.testing import Harness
from asgard.testing.harness import Printed
from tests.conftest import KubeCluster, build, running_kube
from tests.support.dockerd import TEST_IMAGE
from tests.support.kube_controllers import now

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
        self.printed: dict[tuple[str, str], list[str]] = {}
        """What each job printed, by namespace and job: every pod of the job shows it."""
        self.closed: set[tuple[str, str]] = set()
        """The pods whose log has ended (their container exited)."""

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

    async def task_prints(
        self, namespace: str, app_id: str, task_id: str, lines: Sequence[Printed]
    ) -> None:
        """A task is a pod: the kubelet keeps what its container prints, as ``output``."""
        self.kube.emulator.write_log(namespace, task_id, *(text for _, text in lines))

    async def job_prints(self, namespace: str, job_id: str, lines: Sequence[Printed]) -> None:
        """The Job runs a pod (if none does yet) whose container prints ``lines``."""
        texts = [text for _, text in lines]
        self.printed.setdefault((namespace, job_id), []).extend(texts)
        pods = await self._job_pods(namespace, job_id)
        if not pods:
            pods = [await self._run_job(namespace, job_id)]
        for pod in pods:
            if (namespace, pod) not in self.closed:
                self.kube.emulator.write_log(namespace, pod, *texts)

    async def _run_job(self, namespace: str, job_id: str) -> str:
        """The Job's pod runs, as the Job controller and the kubelet would have it."""
        await self.controllers.run_job(namespace, job_id)
        job = await self.controllers.call(
            "GET", f"/apis/batch/v1/namespaces/{namespace}/jobs/{job_id}"
        )
        name = f"{job_id}-run"
        await self.controllers.call(
            "POST",
            f"/api/v1/namespaces/{namespace}/pods",
            {
                "metadata": {"name": name, "namespace": namespace, "labels": {"job-name": job_id}},
                "spec": job["spec"]["template"]["spec"],
                "status": {
                    "phase": "Running",
                    "startTime": now(),
                    "containerStatuses": [
                        {"name": "job", "state": {"running": {"startedAt": now()}}}
                    ],
                },
            },
        )
        return name

    async def _job_pods(self, namespace: str, job_id: str) -> list[str]:
        found = await self.controllers.items(
            f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"job-name={job_id}"
        )
        return [p["metadata"]["name"] for p in found]

    async def settle_job(
        self, namespace: str, job_id: str, *, exit_code: int, output: dict[str, bytes]
    ) -> None:
        await self.controllers.end_job(namespace, job_id, exit_code)
        for pod in await self._job_pods(namespace, job_id):  # its container has exited
            if (namespace, pod) not in self.closed:
                ran = pod == f"{job_id}-run"  # printed already; the others show it too
                printed = [] if ran else self.printed.get((namespace, job_id), [])
                self.kube.emulator.write_log(namespace, pod, *printed, closed=True)
                self.closed.add((namespace, pod))
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

    async def unsayable(self, namespace: str, app_id: str) -> None:
        """A sidecar added to the Deployment's pods, as ``kubectl edit`` would."""
        path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{N.object_name(app_id)}"
        found = await self.controllers.call("GET", path)
        containers = found["spec"]["template"]["spec"]["containers"]
        sidecar = {"name": "sidecar", "image": TEST_IMAGE}
        await self.controllers.call(
            "PATCH",
            path,
            {"spec": {"template": {"spec": {"containers": [*containers, sidecar]}}}},
        )
        await self.controllers.reconcile()

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
