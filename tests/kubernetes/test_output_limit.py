"""A Kubernetes job's collector sending more than ``max_output_bytes``: refused with 413
as the upload passes the limit, the refusal kept, and the collector tidied up on the next
round rather than replaced, so an oversized output is never collected again; the job
then shows failed, saying why, in its own answer and in the (cached) listing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp

from asgard.backends.kubernetes.jobs import KubernetesJobsBackend
from asgard.events import EventHub
from asgard.models import Role
from testbed.kube import items
from tests.conftest import StartAsgard, running_kube

LIMIT = 64 * 1024


async def test_an_oversized_output_is_refused_and_not_collected_again(
    start_asgard: StartAsgard,
) -> None:
    async with running_kube() as kube:
        kube.orchestrator.enable_caches(hub := EventHub())
        asgard = await start_asgard(
            kube.orchestrator, hub=hub, data_dir=kube.context.data_dir, max_output_bytes=LIMIT
        )
        jobs = kube.cluster.parts["jobs"]
        assert isinstance(jobs, KubernetesJobsBackend)
        jobs.public_url = str(asgard.client.make_url("")).rstrip("/")
        account = await asgard.account("dev")
        dev = await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
        spec = {"cluster": "k8s", "name": "big", "image": "sum:1"}
        job_id = (await dev.json("POST", "/jobs", status=201, json=spec))["job"]["id"]
        await kube.controllers.end_job("dev", job_id, 0)
        await jobs.collector.collect()

        [collector] = [
            j
            for j in items(kube.emulator, "batch/v1/jobs", "dev")
            if j["metadata"]["name"] == f"{job_id}-collect"
        ]
        variables = {
            e["name"]: e for e in collector["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        secret = variables["ASGARD_TOKEN"]["valueFrom"]["secretKeyRef"]["name"]
        [stored] = [
            s for s in items(kube.emulator, "v1/secrets", "dev") if s["metadata"]["name"] == secret
        ]

        async def tar_stream() -> AsyncIterator[bytes]:
            for _ in range(16):
                yield bytes(16 * 1024)

        async with (
            aiohttp.ClientSession() as session,
            session.post(
                variables["ASGARD_URL"]["value"],
                data=tar_stream(),
                headers={"Authorization": f"Bearer {stored['stringData']['token']}"},
            ) as response,
        ):
            assert response.status == 413
            reason = f"output over the limit of {LIMIT} bytes"
            assert (await response.json())["errors"][0]["msg"] == f"the job's {reason}"
        await kube.controllers.end_job("dev", f"{job_id}-collect", 1)  # its pod failed

        await jobs.collector.collect()  # tidied up, not replaced
        names = [j["metadata"]["name"] for j in items(kube.emulator, "batch/v1/jobs", "dev")]
        assert names == [job_id]
        output = await dev.get(f"/clusters/k8s/jobs/{job_id}/output")
        assert output.status == 404
        assert reason in (await output.json())["errors"][0]["msg"]

        shown = (await dev.json("GET", f"/clusters/k8s/jobs/{job_id}"))["job"]["status"]
        assert (shown["state"], shown["message"]) == ("failed", f"exited with code 0; {reason}")
        deadline = asyncio.get_running_loop().time() + 10
        while True:  # the listing comes from the cache, which the Job's watch event updates
            [listed] = (await dev.json("GET", "/jobs"))["jobs"]
            if (
                listed["status"]["state"] == "failed"
                or asyncio.get_running_loop().time() > deadline
            ):
                break
            await asyncio.sleep(0.1)
        assert listed["status"] == shown
        await jobs.collector.collect()  # marked once: nothing more to do
        [kept] = [j for j in items(kube.emulator, "batch/v1/jobs", "dev")]
        assert kept["metadata"]["annotations"]["asgard.io/output-refused"] == reason
