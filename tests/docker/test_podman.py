"""What a user of Podman does, through the HTTP API alone: the docker kind pointed at
Podman's Docker-compatible service (Debian's podman 4.3, rootful, on a unix socket).

Apps, scaling, merged logs, the stats of an app and of its agent (a 500 once, Podman's
stats meaning other things), jobs with input and output files, and what Podman lacks (a
Swarm), declared by the kit's Podman harness and checked here against the engine.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.docker.stats import sample_all
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import ClusterFailure
from asgard.models import Role
from asgard.testing.files import a_zip, unzip
from tests.conformance.podman_harness import PodmanHarness
from tests.conftest import StartAsgard, backend_context, build
from tests.docker.test_app_logs import TALK, body_of, records
from tests.docker.test_apps import APP, running_tasks, until
from tests.docker.test_jobs import finished
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.podman import PODMAN_IMAGE, PodmanService

BUSY = ["sh", "-c", "trap 'exit 0' TERM; while true; do :; done"]
"""An instance that keeps a CPU busy until it is told to stop."""


@dataclass
class Env:
    asgard: AsgardUnderTest
    podman: PodmanService
    dev: Caller


@pytest.fixture
async def env(
    podman: PodmanService, start_asgard: StartAsgard, tmp_path: Path
) -> AsyncIterator[Env]:
    config = DockerClusterConfig(name="local", url=podman.url, job_retention_s=3600)
    data_dir = tmp_path / "data"
    cluster = await build(config, backend_context(data_dir))
    asgard = await start_asgard(Orchestrator([cluster]), data_dir=data_dir, history_interval_s=0.5)
    dev = await asgard.account("dev")
    yield Env(
        asgard=asgard,
        podman=podman,
        dev=await asgard.caller("dev@example.com", roles={dev.id: Role.OPERATOR}),
    )
    await cluster.close()


def spec(instances: int, args: list[str]) -> dict[str, Any]:
    return {
        "cluster": "local",
        "id": "shop/web",
        "image": PODMAN_IMAGE,
        "args": args,
        "env": {"GREETING": "hello"},
        "instances": instances,
    }


async def test_apps_scale_merge_their_logs_and_say_their_stats(env: Env) -> None:
    clusters = (await env.dev.json("GET", "/clusters"))["clusters"]
    assert [(c["status"], c["version"]) for c in clusters] == [("ok", env.podman.version())]

    await env.dev.json("POST", "/apps", status=201, json=spec(2, TALK))
    await running_tasks(env.dev, 2)
    await env.dev.json("PATCH", APP, json={"instances": 3})
    tasks = await running_tasks(env.dev, 3)
    app = (await env.dev.json("GET", APP))["app"]
    assert app["env"] == {"GREETING": "hello"}, "none of the variables Podman adds"

    async def said_enough() -> bool:
        got = records(await body_of(env.dev, f"{APP}/logs?tasks=all&tail=5&format=jsonl"))
        return {r["task"] for r in got} == tasks

    await until(said_enough, "every task said something")
    merged = records(await body_of(env.dev, f"{APP}/logs?tasks=all&tail=5&format=jsonl"))
    assert [r["ts"] for r in merged] == sorted(r["ts"] for r in merged)
    assert {r["stream"] for r in merged} == {"stdout", "stderr"}

    stats = (await env.dev.json("GET", f"{APP}/stats"))["stats"]
    assert stats["instances"] == 3
    assert stats["source"] == "sample"
    assert isinstance(stats["cpu_pct"], float)
    assert stats["cpu_pct"] >= 0
    assert isinstance(stats["ram_pct"], float)
    assert 0 < stats["ram_pct"] < 100

    agents = (await env.dev.json("GET", "/agents"))["agents"]
    assert len(agents) == 1
    listed = await env.dev.json("GET", f"{APP}/tasks")
    assert {t["agent_id"] for t in listed["tasks"]} == {agents[0]["id"]}, "one agent, one id"
    await env.dev.json("GET", f"/clusters/local/agents/{agents[0]['id']}")

    await env.dev.json("PATCH", APP, json={"instances": 0})
    await running_tasks(env.dev, 0)
    idle = (await env.dev.json("GET", f"{APP}/stats"))["stats"]
    assert idle["instances"] == 0


async def test_a_busy_app_is_one_cpu_and_its_agent_is_metered(env: Env) -> None:
    """Podman's system CPU time is busy time only: read as a Docker Engine's, a container
    busy on one CPU of an otherwise quiet host would show as every CPU of it (200 % here).
    How much of a CPU the loop gets depends on what else the machine runs: it is some,
    and never more than one."""
    await env.dev.json("POST", "/apps", status=201, json=spec(1, BUSY))
    await running_tasks(env.dev, 1)

    stats = (await env.dev.json("GET", f"{APP}/stats"))["stats"]
    assert 0 < stats["cpu_pct"] <= 110, "one busy loop is at most one CPU"

    agent = (await env.dev.json("GET", "/agents"))["agents"][0]["id"]

    async def metered() -> bool:
        history = await env.dev.json("GET", f"/clusters/local/agents/{agent}/history")
        measured = [s["measured_resources"] for s in history["history"]]
        return any(m is not None and 0 < m["cpus"] <= 1.1 for m in measured)

    await until(metered, "the sampler measured the busy instance")


async def test_a_job_turns_its_input_into_output(env: Env) -> None:
    script = "wc -l < /input/data/lines.txt | tr -d ' ' > /output/count.txt && cat /input/note.txt"
    form = aiohttp.FormData()
    body = {
        "cluster": "local",
        "name": "count",
        "image": PODMAN_IMAGE,
        "command": ["sh", "-c", script],
        "env": {"MODE": "batch"},
    }
    form.add_field("spec", json.dumps(body), content_type="application/json")
    form.add_field(
        "input",
        a_zip({"data/lines.txt": b"a\nb\nc\n", "note.txt": b"hello from the input\n"}),
        filename="input.zip",
        content_type="application/zip",
    )
    created = await env.dev.json("POST", "/jobs", status=201, data=form)
    job_id = created["job"]["id"]

    done = await finished(env.dev, job_id)
    assert (done["status"]["state"], done["status"]["exit_code"]) == ("succeeded", 0)
    assert done["env"] == {"MODE": "batch"}
    response = await env.dev.get(f"/clusters/local/jobs/{job_id}/output")
    assert response.status == 200
    assert unzip(await response.read()) == {"count.txt": b"3\n"}
    logs = await env.dev.get(f"/clusters/local/jobs/{job_id}/logs")
    assert await logs.text() == "hello from the input\n"

    await env.dev.json("DELETE", f"/clusters/local/jobs/{job_id}", status=204)
    assert env.podman.cli("ps", "-aq").split() == []
    assert env.podman.cli("volume", "ls", "-q").split() == []


async def test_podman_has_no_swarm_as_its_harness_declares(podman: PodmanService) -> None:
    """The kit runs Podman in the engine mode alone, and says so (``PodmanHarness.modes``):
    the engine itself says it is in no Swarm, and cannot become a manager."""
    client = DockerClient(cluster="podman", url=podman.url, timeout_s=10)
    try:
        assert (await client.mode()).name in PodmanHarness.modes
        assert (await client.info())["Swarm"]["LocalNodeState"] == "inactive"
        with pytest.raises(ClusterFailure, match="does not support"):
            await client.raw("POST", client.path("swarm", "init"), what="swarm init", body=b"{}")
    finally:
        await client.close()


async def test_a_stopped_container_has_no_stats_and_no_error(podman: PodmanService) -> None:
    """Podman answers a stopped container's stats with an empty 200 (an instance that
    stops while its app's stats are read): it is left out of the sample, not an error."""
    stopped = podman.cli("create", PODMAN_IMAGE, "true").strip()
    running = podman.cli("run", "-d", PODMAN_IMAGE, "sleep", "60").strip()
    client = DockerClient(cluster="podman", url=podman.url, timeout_s=10)
    try:
        usages = await sample_all(client, [stopped, running])
    finally:
        await client.close()
    assert len(usages) == 1
    assert usages[0].mem_used > 0
