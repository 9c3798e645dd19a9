"""A local job's output over ``max_output_bytes`` is not zipped: its folder is measured
first (links not followed), and the answer is 404 naming the limit."""

from __future__ import annotations

import asyncio
from pathlib import Path

from asgard_local.config import LocalClusterConfig
from local_support import DEV, eventually

from asgard.backends.contract import JobsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.backends.registry import BackendContext
from asgard.clusters import assemble
from asgard.errors import NotFound
from asgard.models import JobSpec
from asgard.testing.files import unzip

LIMIT = 64 * 1024


async def test_an_output_over_the_limit_is_refused_with_its_reason(tmp_path: Path) -> None:
    config = LocalClusterConfig(name="local", state_dir=tmp_path / "state")
    context = BackendContext.local(tmp_path / "data", "test-secret", max_output_bytes=LIMIT)
    orchestrator = Orchestrator([await assemble(config, context)])
    await orchestrator.start()
    try:
        script = "head -c 100000 /dev/zero > /output/big; echo ok > /output/small"
        big = JobSpec(cluster="local", name="big", image="host", command=["sh", "-c", script])
        small = JobSpec(
            cluster="local", name="small", image="host", command=["sh", "-c", "echo ok > /output/r"]
        )
        created = await orchestrator.call(DEV, "local", JobsBackend.create_job, big, None)
        fine = await orchestrator.call(DEV, "local", JobsBackend.create_job, small, None)
        for job_id in (created.id, fine.id):

            async def finished(job_id: str = job_id) -> bool:
                job = await orchestrator.call(DEV, "local", JobsBackend.get_job, job_id)
                return job.status.finished

            await eventually(finished, f"job {job_id} ended")
        try:
            await orchestrator.call(DEV, "local", JobsBackend.job_output, created.id)
            raise AssertionError("an output over the limit was zipped")
        except NotFound as exc:
            reason = exc.msg
        assert reason == f"job '{created.id}' has no output: output over the limit of {LIMIT} bytes"
        kept = await orchestrator.call(DEV, "local", JobsBackend.job_output, fine.id)
        assert unzip(kept) == {"r": b"ok\n"}
    finally:
        await asyncio.shield(orchestrator.close())
