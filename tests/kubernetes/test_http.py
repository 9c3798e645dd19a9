"""A Kubernetes cluster through Asgard's HTTP API, asserting on what the emulator stores."""

from __future__ import annotations

import asyncio
import io
import json
import time
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import kmock
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from asgard.backends.kubernetes.jobs import KubernetesJobsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.events import EventHub
from asgard.models import Role
from asgard.testing.files import unzip
from testbed.kube import items
from tests.conformance.kubernetes_harness import tar_of
from tests.conftest import KubeCluster, StartAsgard, build, running_kube
from tests.support.asgard import AsgardUnderTest, Caller

APP = "/clusters/k8s/apps/shop/web"


@dataclass
class Env:
    kube: KubeCluster
    asgard: AsgardUnderTest
    dev: Caller


@pytest.fixture
async def env(start_asgard: StartAsgard) -> AsyncIterator[Env]:
    async with running_kube() as kube:
        hub = EventHub()
        fleet = kube.orchestrator
        fleet.enable_caches(hub)
        asgard = await start_asgard(
            fleet, hub=hub, data_dir=kube.context.data_dir
        )  # one file store
        jobs = kube.cluster.parts["jobs"]
        assert isinstance(jobs, KubernetesJobsBackend)
        jobs.public_url = str(asgard.client.make_url("")).rstrip("/")  # pods reach Asgard here
        account = await asgard.account("dev")
        yield Env(
            kube, asgard, await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
        )


def stored(env: Env, resource: str, name: str) -> dict[str, Any]:
    found = [o for o in items(env.kube.emulator, resource, "dev") if o["metadata"]["name"] == name]
    assert found, f"{resource} {name} is not stored"
    return found[0]


def requests(env: Env, method: str, suffix: str) -> list[dict[str, str]]:
    return [q for m, p, q in env.kube.emulator.requests_log if m == method and p.endswith(suffix)]


async def test_a_deployment_is_created_scaled_restarted_and_deleted(env: Env) -> None:
    spec = {
        "cluster": "k8s",
        "id": "shop/web",
        "image": "registry.example/web:1",
        "args": ["serve", "--port", "8080"],
        "env": {"MODE": "prod"},
        "labels": {"team": "shop"},
        "resources": {"cpus": 0.5, "mem": 256},
        "ports": [{"container_port": 8080}],
        "constraints": ["zone==b", "disk!=hdd"],
        "instances": 2,
    }
    created = await env.dev.json("POST", "/apps", status=201, json=spec)
    assert created["app"]["id"] == "shop/web"
    deployment = stored(env, "apps/v1/deployments", "shop--web")
    assert deployment["metadata"]["annotations"]["asgard.io/app-id"] == "shop/web"
    assert deployment["metadata"]["labels"]["team"] == "shop"
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "registry.example/web:1"
    assert container["args"] == ["serve", "--port", "8080"]
    assert container["env"] == [{"name": "MODE", "value": "prod"}]
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert pod["nodeSelector"] == {"zone": "b"}
    expression = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert expression["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "disk", "operator": "NotIn", "values": ["hdd"]}
    ]
    await env.kube.controllers.reconcile()
    app = (await env.dev.json("GET", APP))["app"]
    assert (app["status"], app["instances"]["running"]) == ("running", 2)
    assert app["constraints"] == ["zone==b", "disk!=hdd"]

    await env.dev.json("PATCH", APP, json={"instances": 5})
    assert requests(env, "PATCH", "/deployments/shop--web/scale"), (
        "scaled through the scale subresource"
    )
    assert stored(env, "apps/v1/deployments", "shop--web")["spec"]["replicas"] == 5
    await env.kube.controllers.reconcile()
    assert len((await env.dev.json("GET", f"{APP}/tasks"))["tasks"]) == 5

    await env.dev.json("PATCH", APP, json={"env": {"MODE": "debug"}, "labels": {"tier": "front"}})
    changed = stored(env, "apps/v1/deployments", "shop--web")
    assert changed["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "MODE", "value": "debug"}
    ]
    assert "team" not in changed["metadata"]["labels"]
    assert changed["metadata"]["labels"]["tier"] == "front"

    await env.dev.json("POST", f"{APP}/restart")
    restarted = stored(env, "apps/v1/deployments", "shop--web")
    assert (
        "kubectl.kubernetes.io/restartedAt"
        in restarted["spec"]["template"]["metadata"]["annotations"]
    )

    await env.dev.json("DELETE", APP, status=204)
    assert requests(env, "DELETE", "/deployments/shop--web") == [
        {"propagationPolicy": "Background"}
    ]
    assert not [o for o in items(env.kube.emulator, "apps/v1/deployments", "dev")]
    assert (await env.dev.get(APP)).status == 404


async def wait_for_state(caller: Caller, job_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        job = (await caller.json("GET", f"/clusters/k8s/jobs/{job_id}"))["job"]
        if job["status"]["state"] == state:
            return dict(job)
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)


async def test_a_job_runs_and_succeeds_or_fails_with_its_reason(env: Env) -> None:
    spec = {
        "cluster": "k8s",
        "name": "etl",
        "image": "etl:1",
        "command": ["run"],
        "timeout_s": 30,
        "retries": 2,
    }
    created = (await env.dev.json("POST", "/jobs", status=201, json=spec))["job"]
    job = stored(env, "batch/v1/jobs", created["id"])
    assert job["spec"]["backoffLimit"] == 2
    assert job["spec"]["activeDeadlineSeconds"] == 30
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    template = job["spec"]["template"]["spec"]
    assert template["automountServiceAccountToken"] is False
    assert template["securityContext"]["runAsNonRoot"] is True
    main = template["containers"][0]
    assert main["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    assert created["status"]["state"] == "pending"

    await env.kube.controllers.run_job("dev", created["id"])
    running = await wait_for_state(env.dev, created["id"], "running")
    assert running["status"]["active"] == 1
    await env.kube.controllers.end_job("dev", created["id"], 0)
    done = await wait_for_state(env.dev, created["id"], "succeeded")
    assert (done["status"]["succeeded"], done["status"]["exit_code"]) == (1, 0)

    failing = (await env.dev.json("POST", "/jobs", status=201, json={**spec, "name": "bad"}))["job"]
    await env.kube.controllers.end_job("dev", failing["id"], 4)
    failed = await wait_for_state(env.dev, failing["id"], "failed")
    assert failed["status"]["exit_code"] == 4
    assert failed["status"]["message"] == "exited with code 4 after 2 retries"

    slow = (await env.dev.json("POST", "/jobs", status=201, json={**spec, "name": "slow"}))["job"]
    await env.kube.controllers.call(
        "PATCH",
        f"/apis/batch/v1/namespaces/dev/jobs/{slow['id']}/status",
        {
            "status": {
                "conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]
            }
        },
    )
    timed_out = await wait_for_state(env.dev, slow["id"], "failed")
    assert timed_out["status"]["message"] == "killed after its timeout of 30 s"

    hungry = (await env.dev.json("POST", "/jobs", status=201, json={**spec, "name": "hungry"}))[
        "job"
    ]
    await env.kube.controllers.end_job("dev", hungry["id"], 137, oom=True)
    assert (await wait_for_state(env.dev, hungry["id"], "failed"))["status"][
        "message"
    ] == "killed: out of memory"


async def test_a_job_fetches_its_input_and_sends_its_output_through_asgard(env: Env) -> None:
    given = io.BytesIO()
    with zipfile.ZipFile(given, "w") as archive:
        archive.writestr("data.csv", b"1,2,3\n")
    form = aiohttp.FormData()
    form.add_field(
        "spec",
        json.dumps({"cluster": "k8s", "name": "sum", "image": "sum:1"}),
        content_type="application/json",
    )
    form.add_field("input", given.getvalue(), filename="input.zip", content_type="application/zip")
    job_id = (await env.dev.json("POST", "/jobs", status=201, data=form))["job"]["id"]

    pod = stored(env, "batch/v1/jobs", job_id)["spec"]["template"]["spec"]
    fetch = pod["initContainers"][0]
    variables = {e["name"]: e for e in fetch["env"]}
    url = variables["ASGARD_URL"]["value"]
    assert url == str(env.asgard.client.make_url(f"/clusters/k8s/jobs/{job_id}/input"))
    secret_name = variables["ASGARD_TOKEN"]["valueFrom"]["secretKeyRef"]["name"]
    token = stored(env, "v1/secrets", secret_name)["stringData"]["token"]
    assert (
        stored(env, "v1/secrets", secret_name)["metadata"]["ownerReferences"][0]["name"] == job_id
    )
    assert stored(env, "v1/persistentvolumeclaims", f"{job_id}-output")

    # the init container, as busybox's wget would ask
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200
            assert await response.read() == given.getvalue()
        async with session.get(url, headers={"Authorization": "Bearer not-the-token"}) as response:
            assert response.status == 401

    await env.kube.controllers.end_job("dev", job_id, 0)
    jobs = env.kube.cluster.parts["jobs"]
    assert isinstance(jobs, KubernetesJobsBackend)
    await jobs.collector.collect()
    collector = stored(env, "batch/v1/jobs", f"{job_id}-collect")
    container = collector["spec"]["template"]["spec"]["containers"][0]
    collect_env = {e["name"]: e for e in container["env"]}
    assert collect_env["ASGARD_URL"]["value"].endswith(f"/clusters/k8s/jobs/{job_id}/output")
    collect_token = stored(
        env, "v1/secrets", collect_env["ASGARD_TOKEN"]["valueFrom"]["secretKeyRef"]["name"]
    )
    assert (await env.dev.get(f"/clusters/k8s/jobs/{job_id}/output")).status == 404

    # the collector's pod, as busybox would send it: a tar, POSTed
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            collect_env["ASGARD_URL"]["value"],
            data=tar_of({"sum.txt": b"6\n"}),
            headers={
                "Authorization": f"Bearer {collect_token['stringData']['token']}",
                "Content-Type": "application/x-tar",
            },
        ) as response,
    ):
        assert response.status == 204
    output = await env.dev.get(f"/clusters/k8s/jobs/{job_id}/output")
    assert output.status == 200
    with zipfile.ZipFile(io.BytesIO(await output.read())) as archive:
        assert archive.read("sum.txt") == b"6\n"
    await jobs.collector.collect()
    assert not [
        j
        for j in items(env.kube.emulator, "batch/v1/jobs", "dev")
        if j["metadata"]["name"].endswith("-collect")
    ]
    assert not list(items(env.kube.emulator, "v1/persistentvolumeclaims", "dev")), (
        "the output volume is gone"
    )

    await env.dev.json("DELETE", f"/clusters/k8s/jobs/{job_id}", status=204)
    assert not list(items(env.kube.emulator, "batch/v1/jobs", "dev"))


async def test_deleting_a_job_while_its_output_is_collected_leaves_nothing(env: Env) -> None:
    spec = {"cluster": "k8s", "name": "big", "image": "sum:1"}
    job_id = (await env.dev.json("POST", "/jobs", status=201, json=spec))["job"]["id"]
    await env.kube.controllers.end_job("dev", job_id, 0)
    jobs = env.kube.cluster.parts["jobs"]
    assert isinstance(jobs, KubernetesJobsBackend)
    await jobs.collector.collect()
    assert stored(env, "batch/v1/jobs", f"{job_id}-collect")

    await env.dev.json("DELETE", f"/clusters/k8s/jobs/{job_id}", status=204)
    # No garbage collector runs in the emulator: what is left is what Asgard left.
    for resource in ("batch/v1/jobs", "v1/secrets", "v1/persistentvolumeclaims"):
        left = [o["metadata"]["name"] for o in items(env.kube.emulator, resource, "dev")]
        assert left == [], f"{resource} left behind: {left}"


async def test_a_collector_whose_job_vanished_is_tidied_up(env: Env) -> None:
    spec = {"cluster": "k8s", "name": "gone", "image": "sum:1"}
    job_id = (await env.dev.json("POST", "/jobs", status=201, json=spec))["job"]["id"]
    await env.kube.controllers.end_job("dev", job_id, 0)
    jobs = env.kube.cluster.parts["jobs"]
    assert isinstance(jobs, KubernetesJobsBackend)
    await jobs.collector.collect()
    # deleted behind Asgard's back, with nothing to collect its owned objects
    await env.kube.controllers.call("DELETE", f"/apis/batch/v1/namespaces/dev/jobs/{job_id}")
    await jobs.collector.collect()
    left = [o["metadata"]["name"] for o in items(env.kube.emulator, "batch/v1/jobs", "dev")]
    assert left == []
    secrets = [o["metadata"]["name"] for o in items(env.kube.emulator, "v1/secrets", "dev")]
    assert f"{job_id}-collect" not in secrets


async def test_a_failed_collector_is_replaced_a_bounded_number_of_times(env: Env) -> None:
    from asgard.backends.kubernetes.collector import COLLECT_ATTEMPTS

    spec = {"cluster": "k8s", "name": "unlucky", "image": "sum:1"}
    job_id = (await env.dev.json("POST", "/jobs", status=201, json=spec))["job"]["id"]
    await env.kube.controllers.end_job("dev", job_id, 0)
    jobs = env.kube.cluster.parts["jobs"]
    assert isinstance(jobs, KubernetesJobsBackend)
    attempts = []
    for _ in range(COLLECT_ATTEMPTS + 1):
        await jobs.collector.collect()
        collector = stored(env, "batch/v1/jobs", f"{job_id}-collect")
        attempts.append(collector["metadata"]["annotations"]["asgard.io/collect-attempt"])
        await env.kube.controllers.end_job("dev", f"{job_id}-collect", 1)  # every pod failed
    assert attempts == ["1", "2", "3", "3"], "replaced twice, then left failed"
    assert (await env.dev.get(f"/clusters/k8s/jobs/{job_id}/output")).status == 404


async def test_a_cronjob_keeps_every_field(env: Env) -> None:
    spec = {
        "cluster": "k8s",
        "name": "nightly",
        "image": "report:2",
        "command": ["report"],
        "args": ["--all"],
        "env": {"TO": "ops@example.com"},
        "resources": {"cpus": 0.25, "mem": 128},
        "timeout_s": 600,
        "retries": 1,
        "labels": {"team": "ops"},
        "schedule": {"value": "0 3 * * *", "tz": "Europe/Lisbon"},
        "enabled": False,
        "concurrent": False,
        "description": "the nightly report",
    }
    created = (await env.dev.json("POST", "/scheduled-jobs", status=201, json=spec))[
        "scheduled_job"
    ]
    assert {k: created[k] for k in spec} == spec
    cronjob = stored(env, "batch/v1/cronjobs", "nightly")
    assert cronjob["spec"]["schedule"] == "0 3 * * *"
    assert cronjob["spec"]["timeZone"] == "Europe/Lisbon"
    assert cronjob["spec"]["suspend"] is True
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    read = (await env.dev.json("GET", "/clusters/k8s/scheduled-jobs/nightly"))["scheduled_job"]
    assert {k: read[k] for k in spec} == spec

    changed = {**spec, "enabled": True, "concurrent": True, "labels": {"tier": "batch"}}
    updated = (await env.dev.json("PUT", "/clusters/k8s/scheduled-jobs/nightly", json=changed))[
        "scheduled_job"
    ]
    assert {k: updated[k] for k in spec} == changed
    assert (await env.dev.json("GET", "/scheduled-jobs"))["total"] == 1
    assert (await env.dev.post("/scheduled-jobs", json=spec)).status == 409
    await env.dev.json("DELETE", "/clusters/k8s/scheduled-jobs/nightly", status=204)
    assert (await env.dev.get("/clusters/k8s/scheduled-jobs/nightly")).status == 404

    interval = {**spec, "schedule": {"value": "R/2026-01-01T03:00:00Z/P1D", "tz": "UTC"}}
    refused = await env.dev.json("POST", "/scheduled-jobs", status=422, json=interval)
    assert refused["errors"][0]["field"] == "schedule.value"
    assert "cron" in refused["errors"][0]["msg"]
    assert list(items(env.kube.emulator, "batch/v1/cronjobs", "dev")) == [], "nothing was created"


async def test_stats_with_and_without_the_metrics_api(env: Env) -> None:
    spec = {
        "cluster": "k8s",
        "id": "shop/web",
        "image": "web:1",
        "resources": {"cpus": 0.5, "mem": 100},
        "instances": 2,
    }
    await env.dev.json("POST", "/apps", status=201, json=spec)
    await env.kube.controllers.reconcile()
    absent = (await env.dev.json("GET", f"{APP}/stats"))["stats"]
    assert absent["cpu_pct"] is None
    assert "no metrics API" in absent["message"]

    env.kube.emulator.resources["metrics.k8s.io/v1beta1/pods"] = kmock.ResourceInfo()
    for pod in list(items(env.kube.emulator, "v1/pods", "dev")):
        await env.kube.controllers.call(
            "POST",
            "/apis/metrics.k8s.io/v1beta1/namespaces/dev/pods",
            {
                "metadata": {
                    "name": pod["metadata"]["name"],
                    "namespace": "dev",
                    "labels": pod["metadata"]["labels"],
                },
                "containers": [{"name": "app", "usage": {"cpu": "250m", "memory": "50Mi"}}],
            },
        )
    stats = (await env.dev.json("GET", f"{APP}/stats"))["stats"]
    assert stats["instances"] == 2
    assert stats["cpu_pct"] == 50.0, "0.5 core used of 1 allotted"
    assert stats["ram_pct"] == 50.0
    assert stats["source"] == "sample"


async def test_logs_tail_and_follow(env: Env) -> None:
    await env.dev.json(
        "POST", "/apps", status=201, json={"cluster": "k8s", "id": "shop/web", "image": "web:1"}
    )
    await env.kube.controllers.reconcile()
    [pod] = [p["metadata"]["name"] for p in items(env.kube.emulator, "v1/pods", "dev")]
    env.kube.emulator.write_log("dev", pod, "one", "two", "three")
    assert await (await env.dev.get(f"{APP}/logs?tail=2")).text() == "two\nthree\n"
    assert requests(env, "GET", f"/pods/{pod}/log")[-1] == {"tailLines": "2", "follow": "false"}

    response = await env.dev.get(f"{APP}/logs?tail=0&follow=true")
    async with asyncio.timeout(5):
        while not any(q.get("follow") == "true" for q in requests(env, "GET", f"/pods/{pod}/log")):
            await asyncio.sleep(0.05)  # Asgard is now following the pod's log
    env.kube.emulator.write_log("dev", pod, "four")
    async with asyncio.timeout(5):
        assert await response.content.readline() == b"four\n"
    response.close()


async def test_a_change_behind_asgards_back_shows_in_lists_and_events(env: Env) -> None:
    await env.dev.json("GET", "/apps")
    stream = await env.dev.get("/events")
    await env.kube.controllers.call(
        "POST",
        "/apis/apps/v1/namespaces/dev/deployments",
        {
            "metadata": {"name": "sneaky", "namespace": "dev"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "sneaky"}},
                "template": {
                    "metadata": {"labels": {"app": "sneaky"}},
                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                },
            },
        },
    )
    buffer = b""
    async with asyncio.timeout(15):
        while b'"id":"sneaky"' not in buffer:
            buffer += await stream.content.readany()
    stream.close()
    assert b'"change":"added"' in buffer
    deadline = time.monotonic() + 10
    while "sneaky" not in [a["id"] for a in (await env.dev.json("GET", "/apps"))["apps"]]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def test_an_unreachable_or_unauthorized_cluster_is_502_naming_it(
    start_asgard: StartAsgard,
) -> None:
    async def refuse(_request: web.Request) -> web.Response:
        body = {"kind": "Status", "code": 401, "message": "Unauthorized"}
        return web.json_response(body, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    async with TestServer(app) as refusing:
        from asgard.backends.kubernetes.config import KubernetesClusterConfig
        from tests.conftest import backend_context

        locked = await build(
            KubernetesClusterConfig(name="locked", url=str(refusing.make_url("")), token="wrong"),
            backend_context(),
        )
        gone = await build(
            KubernetesClusterConfig(name="gone", url="http://127.0.0.1:9", token="t", timeout_s=2),
            backend_context(),
        )
        asgard = await start_asgard(Orchestrator([locked, gone]))
        account = await asgard.account("dev")
        caller = await asgard.caller("dev@example.com", roles={account.id: Role.VIEWER})

        response = await caller.get("/agents")
        assert response.status == 502
        errors = {e["cluster"]: e["msg"] for e in (await response.json())["errors"]}
        assert set(errors) == {"locked", "gone"}
        assert "refused" in errors["locked"]
        assert "unreachable" in errors["gone"]
        for cluster in ("locked", "gone"):
            one = await caller.get(f"/clusters/{cluster}/apps/web")
            assert one.status == 502
            assert (await one.json())["errors"][0]["cluster"] == cluster
        statuses = {
            c["name"]: c["status"] for c in (await caller.json("GET", "/clusters"))["clusters"]
        }
        assert statuses == {"locked": "unreachable", "gone": "unreachable"}
        await locked.close()
        await gone.close()


async def play_stage(env: Env, job_id: str, output: dict[str, bytes]) -> dict[str, Any]:
    """What the cluster does for one stage's Job: the command runs and ends, the collector
    sends ``output`` back. Returns the Job's pod template, for what it mounts where."""
    pod: dict[str, Any] = stored(env, "batch/v1/jobs", job_id)["spec"]["template"]["spec"]
    await env.kube.controllers.end_job("dev", job_id, 0)
    jobs = env.kube.cluster.parts["jobs"]
    assert isinstance(jobs, KubernetesJobsBackend)
    await jobs.collector.collect()
    collector = stored(env, "batch/v1/jobs", f"{job_id}-collect")["spec"]["template"]["spec"]
    pod["collector"] = collector
    variables = {e["name"]: e for e in collector["containers"][0]["env"]}
    secret = variables["ASGARD_TOKEN"]["valueFrom"]["secretKeyRef"]["name"]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            variables["ASGARD_URL"]["value"],
            data=tar_of(output),
            headers={
                "Authorization": "Bearer "
                + stored(env, "v1/secrets", secret)["stringData"]["token"],
                "Content-Type": "application/x-tar",
            },
        ) as response,
    ):
        assert response.status == 204
    return pod


def mounts_of(container: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """mount path -> (volume, subPath)"""
    return {m["mountPath"]: (m["name"], m.get("subPath")) for m in container["volumeMounts"]}


async def test_a_workflow_runs_its_stages_on_one_shared_claim(env: Env) -> None:
    def stage(name: str) -> dict[str, Any]:
        return {"name": name, "image": f"tools/{name}:1"}

    spec = {
        "cluster": "k8s",
        "name": "report",
        "stages": [stage(n) for n in ("count", "double", "publish")],
        "volume": {"size": "5Gi", "storage_class": "fast-ssd", "access_mode": "ReadWriteMany"},
    }
    flow_id = (await env.dev.json("POST", "/workflows", status=201, json=spec))["workflow"]["id"]

    async def stage_job(index: int) -> str:
        deadline = time.monotonic() + 30
        while True:
            flow = (await env.dev.json("GET", f"/clusters/k8s/workflows/{flow_id}"))["workflow"]
            job_id = flow["stages"][index]["job_id"]
            if job_id:
                return str(job_id)
            assert time.monotonic() < deadline, flow
            await asyncio.sleep(0.2)

    first = await stage_job(0)
    claim = stored(env, "v1/persistentvolumeclaims", f"{flow_id}-volume")
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["metadata"]["labels"]["asgard.io/workflow"] == flow_id

    pods = [await play_stage(env, first, {"n.txt": b"21\n"})]
    pods.append(await play_stage(env, await stage_job(1), {"n.txt": b"42\n"}))
    third = await stage_job(2)
    pods.append(await play_stage(env, third, {"result.txt": b"published 42\n"}))
    for index, pod in enumerate(pods):
        shared = {"claimName": claim["metadata"]["name"]}
        assert {"name": "workspace", "persistentVolumeClaim": shared} in pod["volumes"]
        main = next(c for c in pod["containers"] if c["name"] == "job")
        expected_input = ("input", None) if index == 0 else ("workspace", f"stage-{index - 1}")
        assert mounts_of(main) == {
            "/input": expected_input,
            "/output": ("workspace", f"stage-{index}"),
        }, "each stage's /input is the folder the stage before wrote to"
        prepare = pod["initContainers"][0]
        assert prepare["name"] == "prepare-folders"
        assert prepare["command"][-1] == f"/workspace/stage-{index}"
        assert mounts_of(pod["collector"]["containers"][0]) == {
            "/output": ("output", f"stage-{index}")
        }
        assert pod["collector"]["volumes"][0]["persistentVolumeClaim"] == shared
    output = await env.dev.get(f"/clusters/k8s/jobs/{third}/output")
    assert unzip(await output.read()) == {"result.txt": b"published 42\n"}
    assert [
        c["metadata"]["name"] for c in items(env.kube.emulator, "v1/persistentvolumeclaims", "dev")
    ] == [claim["metadata"]["name"]], (
        "stages write to the workflow's claim, not claims of their own"
    )
    deadline = time.monotonic() + 30
    while True:
        flow = (await env.dev.json("GET", f"/clusters/k8s/workflows/{flow_id}"))["workflow"]
        if flow["state"] != "running":
            break
        assert time.monotonic() < deadline, flow
        await asyncio.sleep(0.2)
    assert flow["state"] == "succeeded", flow
    assert [s["state"] for s in flow["stages"]] == ["succeeded"] * 3

    await env.dev.json("DELETE", f"/clusters/k8s/workflows/{flow_id}", status=204)
    assert not [
        j
        for j in items(env.kube.emulator, "batch/v1/jobs", "dev")
        if not j["metadata"]["name"].endswith("-collect")
    ], "every stage's Job is gone"
    assert list(items(env.kube.emulator, "v1/persistentvolumeclaims", "dev")) == [], "and the claim"
