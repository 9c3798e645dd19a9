"""Every operation of the served document that takes an id, driven with climbing,
encoded and double-encoded ids, on every kind at once (a Docker Engine, a Swarm, the
Kubernetes emulator, the Mesos, Marathon and Chronos fakes, the local kind): each answer
is a 4xx, and each cluster's objects, read from the cluster itself, are as they were.

Kubernetes holds what the review reached through ``..%2F``: a Deployment ``coredns`` in
``kube-system`` and a Job and a CronJob of another tenant's namespace ``tb``.

Run it under the Swarm lock: ``flock /tmp/asgard-swarm.lock pytest ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from asgard_local.config import LocalClusterConfig
from yarl import URL

from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.backends.registry import BackendContext
from asgard.clusters import assemble
from asgard.models import Role
from tests.conftest import StartAsgard, build, running_kube, running_mesos
from tests.support.climbing import (
    CLIMBING_IDS,
    docker_objects,
    fill,
    id_operations,
    kube_objects,
    local_objects,
    mesos_objects,
)
from tests.support.dockerd import DockerDaemon

CLUSTERS = ["docker", "swarm", "k8s", "mesos", "local"]


def _deployment(namespace: str, name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": "coredns:1.11"}]},
            },
        },
    }


def _job(namespace: str, name: str) -> dict[str, Any]:
    container = {"name": name, "image": "busybox", "env": [{"name": "SALARY", "value": "1"}]}
    template = {"spec": {"restartPolicy": "Never", "containers": [container]}}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": template},
    }


def _cronjob(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": _job(namespace, name)["spec"]}},
    }


async def _seed_kube(session: aiohttp.ClientSession, url: str) -> None:
    made = [
        ("/apis/apps/v1/namespaces/kube-system/deployments", _deployment("kube-system", "coredns")),
        ("/apis/apps/v1/namespaces/ta/deployments", _deployment("ta", "web")),
        ("/apis/batch/v1/namespaces/tb/jobs", _job("tb", "payroll")),
        ("/apis/batch/v1/namespaces/tb/cronjobs", _cronjob("tb", "nightly")),
    ]
    for path, body in made:
        async with session.post(url + path, json=body) as response:
            assert response.status < 300, await response.text()


async def _send(
    session: aiohttp.ClientSession, base: URL, method: str, path: str, key: str
) -> tuple[int, str]:
    """The request exactly as written (``encoded=True``: nothing decoded or normalised)."""
    url = URL(str(base).rstrip("/") + path, encoded=True)
    kwargs: dict[str, Any] = {"headers": {"Authorization": f"Token {key}"}}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    async with session.request(method, url, allow_redirects=False, **kwargs) as response:
        return response.status, (await response.text())[:300]


async def test_no_id_climbs_out_of_its_namespace_on_any_kind(
    start_asgard: StartAsgard, engine: DockerDaemon, swarm: DockerDaemon, tmp_path: Path
) -> None:
    docker = await build(DockerClusterConfig(name="docker", url=engine.url, timeout_s=10))
    swarmed = await build(DockerClusterConfig(name="swarm", url=swarm.url, timeout_s=10))
    local_config = LocalClusterConfig(name="local", state_dir=tmp_path / "local-state")
    local = await assemble(local_config, BackendContext.local(tmp_path / "data", "secret"), None)
    async with running_kube(name="k8s") as kube, running_mesos() as mesos:
        session = aiohttp.ClientSession()
        fleet = Orchestrator([docker, swarmed, kube.cluster, mesos.cluster, local])
        try:
            await _seed_kube(session, kube.url)
            asgard = await start_asgard(fleet)
            account = await asgard.account("ta", namespace="ta")
            admin = await asgard.caller("a@example.com", admin=True, roles={account.id: Role.ADMIN})
            base = asgard.client.make_url("/")
            async with session.get(base.join(URL("/openapi.json"))) as response:
                document = await response.json()
            operations = list(id_operations(document))
            assert len(operations) > 30  # every route under an app, job, workflow, agent...

            before = (
                await kube_objects(session, kube.url),
                await docker_objects(engine),
                await docker_objects(swarm),
                mesos_objects(mesos.marathon, mesos.chronos),
                local_objects(tmp_path / "local-state"),
            )
            assert any("coredns" in d for d in before[0]["/apis/apps/v1/deployments"])
            assert any("payroll" in j for j in before[0]["/apis/batch/v1/jobs"])
            assert before[3]["jobs"]  # each snapshot holds something
            assert before[1]["images"]
            wrong: list[str] = []
            for method, template, ids in operations:
                for cluster in CLUSTERS:
                    for climbing in CLIMBING_IDS:
                        for name in ids:
                            values = {
                                n: ("1" if n in ("account_id", "user_id", "token_id") else "x")
                                for n in ids
                            }
                            values[name] = climbing
                            values["cluster"] = cluster
                            path = fill(template, values)
                            status, text = await _send(session, base, method, path, admin.key)
                            if not 400 <= status < 500:
                                wrong.append(f"{method} {path}: {status} {text}")
            assert not wrong, "\n".join(wrong[:20])
            after = (
                await kube_objects(session, kube.url),
                await docker_objects(engine),
                await docker_objects(swarm),
                mesos_objects(mesos.marathon, mesos.chronos),
                local_objects(tmp_path / "local-state"),
            )
            assert after == before
            coredns = await session.get(
                f"{kube.url}/apis/apps/v1/namespaces/kube-system/deployments/coredns"
            )
            assert coredns.status == 200
        finally:
            await session.close()
            await fleet.close()
