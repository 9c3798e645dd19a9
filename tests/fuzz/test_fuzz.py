"""Asgard under schemathesis, as someone trying it from outside would fuzz it.

Asgard serves every kind at once (a real dockerd, the Kubernetes emulator, the Mesos
and Marathon fakes, and a cluster that never answers in time), and schemathesis runs
over the document Asgard serves: its examples, the coverage of every parameter, random
fuzzing, and the stateful phase that follows the document's links from what a POST
made to the routes that use it. It passes when no answer is a 5xx other than 501 (a
kind that cannot) or a 502 or 504 naming a cluster (``hooks.py``), and every answer
matches the schema documented for it, and every operation of the document was tested.

Each phase runs once, with the number of examples per operation and the stateful
scenarios' length of ``schemathesis.toml`` (about 4,000 cases, under a minute): enough for
every operation, and for the stateful phase to reach those a link leads to, without
spending a fixed time budget. ``ASGARD_FUZZ_S`` sets one: the fuzzing and stateful phases
then repeat until it is spent.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from asgard.backends.orchestrator import Orchestrator
from asgard.models import Role
from tests.conftest import StartAsgard, docker_cluster, running_kube, running_mesos
from tests.support.dockerd import DockerDaemon
from tests.support.static_backend import static_cluster

FUZZ_S = int(os.environ.get("ASGARD_FUZZ_S", "0"))
"""A time budget to spend looking (``600``, say); by default each phase runs once."""
FUZZ_SEED = os.environ.get("ASGARD_FUZZ_SEED", "20261201")
"""The same cases every run in CI, so that what lands stays landed; ``random`` for new ones
(then the report says the seed to replay)."""
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
ROOT = Path(__file__).resolve().parents[2]
CHECKS = [
    "only_documented_server_errors",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]


async def test_no_undocumented_answer_under_the_fuzzer(
    start_asgard: StartAsgard, engine: DockerDaemon, tmp_path: Path
) -> None:
    docker = await docker_cluster("docker", engine, timeout_s=5)
    hung = await static_cluster(
        "hung", [{"id": "h1"}], delay_s=30, timeout_s=0.5, write_timeout_s=1
    )
    async with running_kube(name="k8s") as kube, running_mesos() as mesos:
        fleet = Orchestrator([docker, kube.cluster, mesos.cluster, hung])
        asgard = await start_asgard(fleet, job_retention_s=3600)
        account = await asgard.account("fuzz")
        admin = await asgard.caller(
            "fuzzer@example.com", admin=True, roles={account.id: Role.ADMIN}
        )
        document = str(asgard.client.make_url("/openapi.json"))
        process = await asyncio.create_subprocess_exec(
            str(SCHEMATHESIS),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            document,
            "--phases",
            "examples,coverage,fuzzing,stateful",
            *(["--max-time", str(FUZZ_S)] if FUZZ_S else []),
            "--workers",
            "2",
            "--request-timeout",
            "20",
            "--header",
            f"Authorization: Token {admin.key}",
            "--checks",
            ",".join(CHECKS),
            "--exclude-path",
            "/events",
            *([] if FUZZ_SEED == "random" else ["--seed", FUZZ_SEED]),
            cwd=tmp_path,
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
                "ASGARD_FUZZ_ACCOUNT_ID": str(account.id),
                "ASGARD_FUZZ_USER_ID": str(admin.user.id),
                "PYTHONPATH": str(ROOT),
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with asyncio.timeout(FUZZ_S * 3 + 600):  # 600: a slow machine's run
                said, _ = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await docker.close()
        await hung.close()
    report = said.decode(errors="replace")
    assert process.returncode == 0, report[-8000:]
    counts = re.search(r"Selected: (\d+)/\d+\s+Tested: (\d+)", report)
    assert counts is not None, report[-8000:]
    assert counts.group(1) == counts.group(2), f"operations left untested: {report[-8000:]}"
