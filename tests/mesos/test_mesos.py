"""Mesos, Marathon and Chronos through Asgard, against the fakes serving recorded JSON."""

from __future__ import annotations

import time
from typing import Any

import pytest

from asgard.backends.contract import AgentsBackend, AppsBackend, ScheduledJobsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import AllClustersFailed
from asgard.models import Account, Role
from tests.conftest import MesosCluster, StartAsgard, build, running_mesos
from tests.support.asgard import Caller
from tests.support.mesos_fakes import BUSY_SHARE, fixture

DEV = Account(id=1, name="dev", namespace="dev")
SIEVE = Account(id=2, name="sieve", namespace="sieve")
S0 = "ead07ffb-5a61-42c9-9386-21b680597e6c-S0"


async def test_the_leader_is_found_and_remembered(mesos: MesosCluster) -> None:
    mesos.mesos.leader = 2
    agents = (await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)).items
    assert len(agents) == 8
    asked = [(master, path) for master, path, _ in mesos.mesos.requests]
    assert asked[0] == (0, "/master/redirect"), "a master was asked who leads"
    assert (2, "/master/slaves") in asked, "and the leader was asked for the agents"
    mesos.mesos.requests.clear()
    await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)
    assert [p for _, p, _ in mesos.mesos.requests] == ["/master/slaves"], "the leader is remembered"
    assert all(p not in ("/master/state", "/state") for _, p, _ in mesos.mesos.requests)


async def test_a_lost_leader_is_replaced_without_an_error(mesos: MesosCluster) -> None:
    await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)
    mesos.mesos.misbehaviour[0].down = True
    mesos.mesos.leader = 1
    agents = (await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)).items
    assert len(agents) == 8
    mesos.mesos.misbehaviour[0].down = False

    mesos.mesos.leader = 2  # the old leader is up but no longer leads: it redirects
    mesos.mesos.requests.clear()
    assert len((await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)).items) == 8
    assert any(m == 2 and p == "/master/slaves" for m, p, _ in mesos.mesos.requests)


async def test_a_hanging_master_does_not_hang_the_request() -> None:
    async with running_mesos(timeout_s=1) as mesos:
        await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)
        for misbehaviour in mesos.mesos.misbehaviour:
            misbehaviour.slow_s = 5
        started = time.monotonic()
        with pytest.raises(AllClustersFailed) as failed:
            await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)
        assert "did not answer" in failed.value.details[0].msg
        assert time.monotonic() - started < 2.5, "cut at the cluster's timeout"


async def test_agents_are_scoped_by_owner(mesos: MesosCluster) -> None:
    owned = Account(id=3, name="infra", namespace="dev", owner="asgard-infra")
    agents = (await mesos.orchestrator.fan_out(owned, None, AgentsBackend.list_agents)).items
    assert sorted(a.id[-3:] for a in agents) == ["-S0", "-S3"]
    assert all(a.attributes["owner"] == "asgard-infra" for a in agents)
    with pytest.raises(Exception, match="not found"):
        await mesos.orchestrator.call(
            owned, "mesos", AgentsBackend.get_agent, "ead07ffb-5a61-42c9-9386-21b680597e6c-S4"
        )


async def test_agents_are_metered_from_their_executors_statistics(mesos: MesosCluster) -> None:
    """In use beside allocated: each agent's executors' resident memory and CPU seconds,
    read twice; an agent with nothing recorded has no executor to count."""
    measured = await mesos.cluster.sample(AgentsBackend.measure_agents, DEV, 10)
    assert measured is not None
    agents = {
        a.id: a
        for a in (await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)).items
    }
    assert set(measured) == set(agents), "every agent answers its /containers"
    recorded = {c["executor_id"]: c["statistics"] for c in fixture("agents", S0, "containers.json")}
    rss = sum(s["mem_rss_bytes"] for s in recorded.values()) / (1024 * 1024)
    assert measured[S0].mem == pytest.approx(rss)
    busy = sum(BUSY_SHARE * s["cpus_limit"] for s in recorded.values())
    assert measured[S0].cpus == pytest.approx(busy, rel=0.05), "half its limit per executor"
    assert measured[S0] != agents[S0].used_resources, "use, not what Marathon allotted"


async def test_an_agents_apps_are_the_accounts_own(mesos: MesosCluster) -> None:
    """S0 runs apps of the namespaces dev and sieve; each account sees its own only."""
    dev_agent = await mesos.orchestrator.call(DEV, "mesos", AgentsBackend.get_agent, S0)
    assert dev_agent.total_apps == 1
    assert (
        await mesos.orchestrator.call(SIEVE, "mesos", AgentsBackend.get_agent, S0)
    ).total_apps == 4
    assert dev_agent.resources.cpus == 2.5
    assert dev_agent.used_resources.cpus == 1.374
    assert dev_agent.stats.cpu_pct == 54.96

    mesos.marathon.apps["/dev/infra/asgard/api"] = {
        "id": "/dev/infra/asgard/api",
        "instances": 2,
        "tasks": [],
        "cpus": 0.7,
        "mem": 1568,
        "container": {"type": "DOCKER", "docker": {"image": "asgard/api:0.96"}},
        "version": "2026-11-24T12:00:00.000Z",
    }
    mesos.marathon.apps["/sieve/portal/api"] = {
        "id": "/sieve/portal/api",
        "instances": 1,
        "tasks": [],
        "container": {"docker": {"image": "x"}},
        "version": "2026-11-24T12:00:00.000Z",
    }
    apps = await mesos.orchestrator.call(DEV, "mesos", AgentsBackend.list_agent_apps, S0)
    assert [a.id for a in apps] == ["infra/asgard/api"]
    assert apps[0].image == "asgard/api:0.96"
    assert [
        a.id
        for a in await mesos.orchestrator.call(SIEVE, "mesos", AgentsBackend.list_agent_apps, S0)
    ] == ["portal/api"]


async def test_agents_are_asked_at_once(mesos: MesosCluster) -> None:
    mesos.mesos.agent_delay_s = 0.2
    agents = (await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)).items
    assert len(agents) == 8
    assert mesos.mesos.agents_in_flight_peak >= 4, "agents are asked together, not in turn"


async def test_an_unreachable_agent_is_marked_not_dropped(mesos: MesosCluster) -> None:
    mesos.mesos.agents[S0].info["hostname"] = "127.0.0.254"  # nothing listens there
    agents = {
        a.id: a
        for a in (await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)).items
    }
    assert len(agents) == 8
    assert "total_apps" in agents[S0].errors


@pytest.fixture
async def http(start_asgard: StartAsgard, mesos: MesosCluster) -> tuple[MesosCluster, Caller]:
    asgard = await start_asgard(mesos.orchestrator)
    account = await asgard.account("dev", owner="asgard-dev")
    return mesos, await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})


def received(mesos: MesosCluster, method: str) -> list[Any]:
    return [body for _, m, _, body in mesos.marathon.received if m == method]


async def test_a_marathon_app_is_created_scaled_restarted_and_deleted(
    http: tuple[MesosCluster, Caller],
) -> None:
    mesos, dev = http
    spec = {
        "cluster": "mesos",
        "id": "shop/web",
        "image": "web:1",
        "args": ["serve"],
        "env": {"MODE": "prod"},
        "labels": {"team": "shop"},
        "resources": {"cpus": 0.5, "mem": 256},
        "ports": [{"container_port": 8080}],
        "constraints": ["dc==gcp", ["workload", "UNLIKE", "batch"]],  # Marathon's form too
        "instances": 2,
    }
    created = (await dev.json("POST", "/apps", status=201, json=spec))["app"]
    assert created["id"] == "shop/web"
    assert (created["status"], created["instances"]["running"]) == ("running", 2)
    assert created["constraints"] == ["dc==gcp", "workload!=batch", "owner==asgard-dev"]
    listed = (await dev.json("GET", "/apps"))["apps"]
    assert [a["constraints"] for a in listed] == [created["constraints"]], "the cache says the same"
    sent = received(mesos, "POST")[-1]
    assert sent["id"] == "/dev/shop/web"
    assert ["owner", "LIKE", "asgard-dev"] in sent["constraints"], "the owner constraint is forced"
    assert ["dc", "CLUSTER", "gcp"] in sent["constraints"]
    assert ["workload", "UNLIKE", "batch"] in sent["constraints"]
    assert sent["container"]["docker"]["portMappings"] == [
        {"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}
    ]

    mesos.marathon.apps["/dev/shop/web"]["constraints"].append(["hostname", "UNIQUE"])
    await dev.json("PATCH", "/clusters/mesos/apps/shop/web", json={"instances": 5})
    assert received(mesos, "PUT")[-1]["instances"] == 5
    assert received(mesos, "PUT")[-1]["constraints"] == [
        ["dc", "CLUSTER", "gcp"],
        ["workload", "UNLIKE", "batch"],
        ["hostname", "UNIQUE"],  # set on Marathon, kept through Asgard's update
        ["owner", "LIKE", "asgard-dev"],
    ]
    assert len((await dev.json("GET", "/clusters/mesos/apps/shop/web/tasks"))["tasks"]) == 5

    before = {
        t["id"] for t in (await dev.json("GET", "/clusters/mesos/apps/shop/web/tasks"))["tasks"]
    }
    await dev.json("POST", "/clusters/mesos/apps/shop/web/restart")
    after = {
        t["id"] for t in (await dev.json("GET", "/clusters/mesos/apps/shop/web/tasks"))["tasks"]
    }
    assert len(after) == 5
    assert before.isdisjoint(after)

    mesos.marathon.hold_deployments = True
    deploying = (
        await dev.json("PATCH", "/clusters/mesos/apps/shop/web", json={"env": {"MODE": "debug"}})
    )["app"]
    assert deploying["status"] == "deploying", "a deployment in progress shows"
    mesos.marathon.finish_deployments()
    assert (await dev.json("GET", "/clusters/mesos/apps/shop/web"))["app"]["status"] == "running"

    await dev.json("DELETE", "/clusters/mesos/apps/shop/web", status=204)
    assert "/dev/shop/web" not in mesos.marathon.apps
    assert (await dev.get("/clusters/mesos/apps/shop/web")).status == 404
    taken = await dev.post("/apps", json={**spec, "id": "again"})
    assert taken.status == 201
    assert (await dev.post("/apps", json={**spec, "id": "again"})).status == 409


async def test_stats_and_logs_come_from_the_agents(http: tuple[MesosCluster, Caller]) -> None:
    _, dev = http
    spec = {
        "cluster": "mesos",
        "id": "web",
        "image": "web:1",
        "resources": {"cpus": 1, "mem": 128},
        "instances": 2,
    }
    await dev.json("POST", "/apps", status=201, json=spec)
    stats = (await dev.json("GET", "/clusters/mesos/apps/web/stats"))["stats"]
    assert stats["instances"] == 2
    assert stats["source"] == "sample"
    assert stats["cpu_pct"] > 0
    assert stats["ram_pct"] == 25.0
    assert stats["cpu_thr_pct"] == 10.0
    logs = await (await dev.get("/clusters/mesos/apps/web/logs?tail=5")).text()
    assert logs.count("started dev_web.") == 2


async def test_the_marathon_leader_comes_from_its_header(mesos: MesosCluster) -> None:
    mesos.marathon.leader = 1
    await mesos.orchestrator.fan_out(DEV, None, AppsBackend.list_apps)
    assert mesos.marathon.received[0][0] == 0, "the first Marathon is asked first"
    mesos.marathon.received.clear()
    await mesos.orchestrator.fan_out(DEV, None, AppsBackend.list_apps)
    assert [n for n, *_ in mesos.marathon.received] == [1], "then the leader it named"
    mesos.marathon.misbehaviour[1].down = True
    mesos.marathon.leader = 0
    assert (await mesos.orchestrator.fan_out(DEV, None, AppsBackend.list_apps)).items == []


async def test_a_chronos_job_keeps_every_field(http: tuple[MesosCluster, Caller]) -> None:
    mesos, dev = http
    spec = {
        "cluster": "mesos",
        "name": "nightly",
        "image": "report:2",
        "command": ["report", "--all"],
        "args": ["--to", "ops"],
        "env": {"TO": "ops@example.com"},
        "resources": {"cpus": 0.25, "mem": 64},
        "retries": 3,
        "labels": {"team": "ops"},
        "schedule": {"value": "R/2026-12-01T03:00:00Z/PT24H", "tz": "America/Sao_Paulo"},
        "enabled": False,
        "concurrent": True,
        "description": "the nightly report",
    }
    created = (await dev.json("POST", "/scheduled-jobs", status=201, json=spec))["scheduled_job"]
    assert {k: created[k] for k in spec} == spec
    stored = mesos.chronos.jobs["dev_nightly"]
    assert stored["concurrent"] is True
    assert stored["disabled"] is True
    assert stored["scheduleTimeZone"] == "America/Sao_Paulo"
    assert stored["constraints"] == [["owner", "LIKE", "asgard-dev"]]
    assert (stored["command"], stored["arguments"]) == ("report", ["--all", "--to", "ops"])

    read = (await dev.json("GET", "/clusters/mesos/scheduled-jobs/nightly"))["scheduled_job"]
    assert {k: read[k] for k in spec} == spec
    changed = {**spec, "concurrent": False, "enabled": True, "labels": {}}
    updated = (await dev.json("PUT", "/clusters/mesos/scheduled-jobs/nightly", json=changed))[
        "scheduled_job"
    ]
    assert {k: updated[k] for k in spec} == changed
    names = [j["id"] for j in (await dev.json("GET", "/scheduled-jobs"))["scheduled_jobs"]]
    assert names == ["another-job", "nightly", "with-infra-in-name-job"], "exactly the dev_ prefix"
    recorded = (await dev.json("GET", "/clusters/mesos/scheduled-jobs/another-job"))[
        "scheduled_job"
    ]
    assert recorded["concurrent"] is False
    assert recorded["env"] == {"ENV_1": "VALUE_1", "ENV_2": "VALUE_2", "ENV_3": "VALUE_3"}
    cron = await dev.post(
        "/scheduled-jobs", json={**spec, "name": "cron", "schedule": {"value": "0 3 * * *"}}
    )
    assert cron.status == 422
    assert (await cron.json())["errors"][0]["field"] == "schedule.value"
    await dev.json("DELETE", "/clusters/mesos/scheduled-jobs/nightly", status=204)
    assert "dev_nightly" not in mesos.chronos.jobs


async def test_a_one_time_job_succeeds_or_fails(http: tuple[MesosCluster, Caller]) -> None:
    mesos, dev = http
    spec = {"cluster": "mesos", "name": "etl", "image": "etl:1", "command": ["run"], "retries": 1}
    job_id = (await dev.json("POST", "/jobs", status=201, json=spec))["job"]["id"]
    name = f"dev_once_{job_id}"
    assert mesos.chronos.jobs[name]["schedule"].startswith("R1/")
    assert (await dev.json("GET", f"/clusters/mesos/jobs/{job_id}"))["job"]["status"][
        "state"
    ] == "pending"
    mesos.chronos.state[name] = "running"
    assert (await dev.json("GET", f"/clusters/mesos/jobs/{job_id}"))["job"]["status"][
        "state"
    ] == "running"
    mesos.chronos.finish(name, success=True)
    done = (await dev.json("GET", f"/clusters/mesos/jobs/{job_id}"))["job"]
    assert (done["status"]["state"], done["status"]["succeeded"]) == ("succeeded", 1)

    bad = (await dev.json("POST", "/jobs", status=201, json={**spec, "name": "bad"}))["job"]["id"]
    mesos.chronos.finish(f"dev_once_{bad}", success=False)
    assert (await dev.json("GET", f"/clusters/mesos/jobs/{bad}"))["job"]["status"][
        "state"
    ] == "running"
    mesos.chronos.finish(f"dev_once_{bad}", success=False)
    failed = (await dev.json("GET", f"/clusters/mesos/jobs/{bad}"))["job"]["status"]
    assert (failed["state"], failed["failed"]) == ("failed", 2)
    assert "failed 2 time(s)" in failed["message"]
    assert sorted(j["id"] for j in (await dev.json("GET", "/jobs"))["jobs"]) == sorted(
        [job_id, bad]
    )
    assert (await dev.json("GET", "/scheduled-jobs"))["total"] == 2, (
        "one-time jobs are not scheduled jobs"
    )
    await dev.json("DELETE", f"/clusters/mesos/jobs/{bad}", status=204)
    assert f"dev_once_{bad}" not in mesos.chronos.jobs
    with_input = await dev.post("/jobs", data=_multipart(spec))
    assert with_input.status == 501
    assert (await with_input.json())["errors"][0]["msg"] == (
        "job input is not supported on mesos clusters"
    )
    assert sorted(j["id"] for j in (await dev.json("GET", "/jobs"))["jobs"]) == [job_id], (
        "a refused job leaves nothing behind"
    )


def _multipart(spec: dict[str, Any]) -> Any:
    import io
    import json
    import zipfile

    import aiohttp

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a", b"1")
    form = aiohttp.FormData()
    form.add_field("spec", json.dumps(spec), content_type="application/json")
    form.add_field("input", buffer.getvalue(), filename="in.zip", content_type="application/zip")
    return form


async def test_chronos_basic_auth() -> None:
    from asgard.backends.mesos.config import MesosClusterConfig
    from tests.conftest import backend_context
    from tests.support.mesos_fakes import FakeChronos

    chronos = FakeChronos(user="asgard", password="s3cret")
    async with chronos.running():
        good = await build(
            MesosClusterConfig(
                name="m",
                mesos_urls=["http://127.0.0.1:9"],
                chronos_url=chronos.url,
                chronos_user="asgard",
                chronos_password="s3cret",
            ),
            backend_context(),
        )
        bad = await build(
            MesosClusterConfig(
                name="m",
                mesos_urls=["http://127.0.0.1:9"],
                chronos_url=chronos.url,
                chronos_user="asgard",
                chronos_password="wrong",
            ),
            backend_context(),
        )
        try:
            assert [
                j.id
                for j in (
                    await Orchestrator([good]).fan_out(
                        DEV, None, ScheduledJobsBackend.list_scheduled_jobs
                    )
                ).items
            ] == [
                "another-job",
                "with-infra-in-name-job",
            ]
            with pytest.raises(AllClustersFailed) as failed:
                await Orchestrator([bad]).fan_out(
                    DEV, None, ScheduledJobsBackend.list_scheduled_jobs
                )
            assert "refused" in failed.value.details[0].msg
        finally:
            await good.close()
            await bad.close()


async def test_apps_and_jobs_without_an_image_are_listed(mesos: MesosCluster) -> None:
    """Marathon and Chronos both run plain commands in a sandbox, with no image at all."""
    mesos.marathon.add({"id": "/dev/plain", "cmd": "python -m http.server", "instances": 1})
    plain = next(
        a
        for a in (await mesos.orchestrator.fan_out(DEV, None, AppsBackend.list_apps)).items
        if a.id == "plain"
    )
    assert (plain.image, plain.cmd) == ("", ["python", "-m", "http.server"])
    mesos.chronos.jobs["dev_bare"] = {
        "name": "dev_bare",
        "command": "echo",
        "arguments": ["hi"],
        "shell": False,
        "schedule": "R/2026-12-01T00:00:00Z/PT1H",
        "cpus": 0.1,
        "mem": 32,
    }
    bare = await mesos.orchestrator.call(
        DEV, "mesos", ScheduledJobsBackend.get_scheduled_job, "bare"
    )
    assert (bare.image, bare.command, bare.args) == ("", ["echo"], ["hi"])


async def test_workflows_are_not_supported_and_say_so(http: tuple[MesosCluster, Caller]) -> None:
    _, dev = http
    spec = {
        "cluster": "mesos",
        "name": "flow",
        "stages": [{"name": "a", "image": "busybox", "command": ["true"]}],
    }
    refused = await dev.json("POST", "/workflows", status=501, json=spec)
    assert refused["errors"][0]["msg"] == (
        "workflows (their stages hand files to each other) is not supported on mesos clusters"
    )
    assert (await dev.json("GET", "/workflows"))["workflows"] == []


async def test_what_chronos_cannot_do_is_declared_and_refused_early(
    http: tuple[MesosCluster, Caller],
) -> None:
    """``GET /clusters`` says what the cluster lacks, and Asgard refuses it from that: job
    logs and output with 501 once the job is found (404 for one that is not), a timeout
    with 422 before Chronos is asked."""
    mesos, dev = http
    [cluster] = (await dev.json("GET", "/clusters"))["clusters"]
    lacking = {k for k, v in cluster["capabilities"].items() if v is False}
    assert {"job_logs", "log_since", "job_files", "job_timeouts", "job_exit_codes"} <= lacking
    assert cluster["capabilities"]["jobs"] is True
    spec = {"cluster": "mesos", "name": "etl", "image": "etl:1", "command": ["run"]}
    job_id = (await dev.json("POST", "/jobs", status=201, json=spec))["job"]["id"]
    for what in ("logs", "output"):
        refused = await dev.get(f"/clusters/mesos/jobs/{job_id}/{what}")
        assert refused.status == 501, what
        assert (await refused.json())["errors"][0]["msg"] == (
            f"job {what} is not supported on mesos clusters"
        )
        assert (await dev.get(f"/clusters/mesos/jobs/etl-00000000/{what}")).status == 404
    before = set(mesos.chronos.jobs)
    late = await dev.post("/jobs", json={**spec, "name": "late", "timeout_s": 5})
    assert late.status == 422
    assert (await late.json())["errors"][0]["field"] == "timeout_s"
    assert set(mesos.chronos.jobs) == before, "Chronos was not asked"


async def test_a_part_that_fails_keeps_the_cluster_down_until_a_probe_hears_it(
    mesos: MesosCluster,
) -> None:
    """Chronos fails: the masters and Marathon answering since do not hide it, agents
    are still read, and the next probe (which asks every part) finds Chronos back."""
    cluster = mesos.cluster
    await cluster.probe()
    assert (await cluster.status()).status == "ok"
    mesos.chronos.misbehaviour.down = True
    with pytest.raises(AllClustersFailed):
        await mesos.orchestrator.fan_out(DEV, None, ScheduledJobsBackend.list_scheduled_jobs)
    await mesos.orchestrator.fan_out(DEV, None, AppsBackend.list_apps)  # Marathon answers
    agents = await mesos.orchestrator.fan_out(DEV, None, AgentsBackend.list_agents)
    assert len(agents.items) == 8, "the masters answer: reads of agents are not cut off"
    await cluster.probe()  # the masters answer it, Chronos does not
    status = cluster.known_status()
    assert status.status == "unreachable"
    assert status.error is not None
    assert "chronos" in status.error
    assert mesos.chronos.url in status.error
    mesos.chronos.misbehaviour.down = False
    await cluster.probe()
    status = cluster.known_status()
    assert (status.status, status.error) == ("ok", None)
