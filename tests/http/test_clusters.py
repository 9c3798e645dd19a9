"""Agents, apps and clusters over HTTP, on real engines and on several clusters at once."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.events import EventHub
from asgard.models import Role
from tests.conftest import StartAsgard, backend_context, build, docker_cluster
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.dockerd import TEST_IMAGE, DockerDaemon
from tests.support.static_backend import StaticAgents, StaticClient, static_cluster

AGENTS = [
    {
        "id": "a1",
        "attributes": {"owner": "team-a", "zone": "z1"},
        "resources": {"cpus": 4, "mem": 4096},
        "used": {"cpus": 1, "mem": 1024},
    },
    {
        "id": "a2",
        "attributes": {"owner": "team-a", "zone": "z2"},
        "resources": {"cpus": 4, "mem": 4096},
        "used": {"cpus": 3, "mem": 1024},
    },
    {
        "id": "b1",
        "attributes": {"owner": "team-b", "zone": "z1"},
        "resources": {"cpus": 2, "mem": 2048},
    },
]


async def member(
    asgard: AsgardUnderTest, *, owner: str | None = None, namespace: str = "dev"
) -> Caller:
    account = await asgard.account(namespace, owner=owner)
    return await asgard.caller(f"{namespace}@example.com", roles={account.id: Role.VIEWER})


async def test_the_local_engine_is_an_agent_with_its_real_cpus_and_memory(
    start_asgard: StartAsgard, engine: DockerDaemon
) -> None:
    asgard = await start_asgard(Orchestrator([await docker_cluster("local", engine)]))
    caller = await member(asgard)
    info = json.loads(engine.cli("info", "--format", "{{json .}}"))

    body = await caller.json("GET", "/agents")
    assert body["errors"] == []
    [agent] = body["agents"]
    assert agent["cluster"] == "local"
    assert agent["type"] == "DOCKER"
    assert agent["id"] == info["ID"]
    assert agent["hostname"] == info["Name"]
    assert agent["resources"]["cpus"] == info["NCPU"]
    assert agent["resources"]["mem"] == pytest.approx(info["MemTotal"] / 2**20)
    assert agent["version"] == info["ServerVersion"]
    assert body["total"] == 1
    assert body["next_cursor"] is None

    one = await caller.json("GET", f"/clusters/local/agents/{agent['id']}")
    assert one["agent"]["id"] == agent["id"]


async def test_swarm_apps_and_tasks_over_http(
    start_asgard: StartAsgard, swarm: DockerDaemon
) -> None:
    asgard = await start_asgard(Orchestrator([await docker_cluster("swarm", swarm)]))
    caller = await member(asgard)
    swarm.cli(
        "service",
        "create",
        "--detach",
        "--quiet",
        "--name",
        "dev-web",
        "--label",
        "asgard.namespace=dev",
        "--label",
        "asgard.app=web",
        "--replicas",
        "2",
        "--env",
        "MODE=test",
        TEST_IMAGE,
        "sleep",
        "3600",
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        app = (await caller.json("GET", "/clusters/swarm/apps/web"))["app"]
        if app["instances"]["running"] == 2:
            break
        await asyncio.sleep(0.25)
    assert app["status"] == "running"
    assert app["env"] == {"MODE": "test"}
    assert app["args"] == ["sleep", "3600"]

    tasks = (await caller.json("GET", "/clusters/swarm/apps/web/tasks"))["tasks"]
    node = (await caller.json("GET", "/agents"))["agents"][0]
    assert len(tasks) == 2
    assert {t["agent_id"] for t in tasks} == {node["id"]}
    assert {t["state"] for t in tasks} == {"running"}
    assert node["total_apps"] == 1
    on_node = await caller.json("GET", f"/clusters/swarm/agents/{node['id']}/apps")
    assert [a["id"] for a in on_node["apps"]] == ["web"]
    assert (await caller.get("/clusters/swarm/apps/nope")).status == 404


async def test_one_cluster_down_still_answers_with_the_others(start_asgard: StartAsgard) -> None:
    fleet = Orchestrator(
        [
            await static_cluster("alpha", AGENTS[:2]),
            await static_cluster("beta", AGENTS[2:]),
            await static_cluster("gamma", AGENTS, down=True),
        ]
    )
    hub = EventHub()
    fleet.enable_caches(hub)
    caller = await member(await start_asgard(fleet, hub=hub))
    body = await caller.json("GET", "/agents")
    assert [(a["cluster"], a["id"]) for a in body["agents"]] == [
        ("alpha", "a1"),
        ("alpha", "a2"),
        ("beta", "b1"),
    ]
    (error,) = body["errors"]
    assert {k: error[k] for k in ("cluster", "msg", "kind", "stale_since")} == {
        "cluster": "gamma",
        "msg": "cluster gamma is down",
        "kind": "unreachable",
        "stale_since": None,  # without ?stale=true it contributes nothing
    }
    assert "last_contact_at" in error

    clusters = (await caller.json("GET", "/clusters"))["clusters"]
    assert [(c["name"], c["status"]) for c in clusters] == [
        ("alpha", "ok"),
        ("beta", "ok"),
        ("gamma", "unreachable"),
    ]
    assert clusters[0]["version"] == "static-1"
    assert clusters[0]["latency_ms"] >= 0
    assert clusters[2]["error"] == "cluster gamma is down"
    for _ in range(100):  # the feeds connect in the background
        if [c["cache"] for c in clusters] == ["current", "current", "behind"]:
            break
        await asyncio.sleep(0.05)
        clusters = (await caller.json("GET", "/clusters"))["clusters"]
    assert [c["cache"] for c in clusters] == ["current", "current", "behind"], (
        "a cluster that does not answer is never said to be current"
    )


async def test_every_cluster_down_is_502_naming_them(start_asgard: StartAsgard) -> None:
    fleet = Orchestrator(
        [
            await static_cluster("alpha", AGENTS, down=True),
            await static_cluster("beta", AGENTS, down=True),
        ]
    )
    caller = await member(await start_asgard(fleet))
    response = await caller.get("/agents")
    assert response.status == 502
    errors = (await response.json())["errors"]
    assert {e["cluster"] for e in errors} == {"alpha", "beta"}


async def test_a_slow_cluster_is_cut_at_its_timeout(start_asgard: StartAsgard) -> None:
    fleet = Orchestrator(
        [
            await static_cluster("fast", AGENTS[:1]),
            await static_cluster("slow", AGENTS, delay_s=30, timeout_s=0.5),
        ]
    )
    caller = await member(await start_asgard(fleet))
    started = time.monotonic()
    body = await caller.json("GET", "/agents")
    assert time.monotonic() - started < 5
    assert [a["id"] for a in body["agents"]] == ["a1"]
    assert body["errors"][0]["cluster"] == "slow"
    assert body["errors"][0]["kind"] == "timeout"
    single = await caller.get("/clusters/slow/agents/a1")
    assert single.status == 504
    assert (await single.json())["errors"][0]["cluster"] == "slow"


async def test_a_cluster_known_to_be_down_answers_at_once_until_it_is_back(
    start_asgard: StartAsgard,
) -> None:
    slow = await static_cluster("slow", AGENTS, delay_s=30, timeout_s=0.3)
    slow.breaker.retry_s = 0.3
    slow.breaker.down_after_s = 0  # no need to wait: it never answered anything
    asked = slow.parts["agents"]
    assert isinstance(asked, StaticAgents)
    caller = await member(
        await start_asgard(Orchestrator([await static_cluster("fast", AGENTS[:1]), slow]))
    )
    for _ in range(2):  # twice in a row: known to be down
        body = await caller.json("GET", "/agents")
        assert [(e["cluster"], e["kind"]) for e in body["errors"]] == [("slow", "timeout")]
    reads = asked.reads

    body = await caller.json("GET", "/agents")
    assert [(a["cluster"], a["id"]) for a in body["agents"]] == [("fast", "a1")]
    [error] = body["errors"]
    assert (error["cluster"], error["kind"]) == ("slow", "timeout")
    assert "did not answer in 0.3 s" in error["msg"]
    assert "known to be down" in error["msg"]
    assert asked.reads == reads, "the cluster was not asked again"

    asked.config.delay_s = 0  # it is back: a probe finds it, then reads go to it again
    deadline = time.monotonic() + 10
    while body["errors"]:
        assert time.monotonic() < deadline, body["errors"]
        await asyncio.sleep(0.2)
        body = await caller.json("GET", "/agents")
    assert sorted(a["id"] for a in body["agents"] if a["cluster"] == "slow") == ["a1", "a2", "b1"]
    assert asked.reads > reads


async def test_an_unreachable_engine_is_reported_not_raised(
    start_asgard: StartAsgard, engine: DockerDaemon
) -> None:

    gone = await build(
        DockerClusterConfig(name="gone", url="unix:///tmp/no-such-docker.sock", timeout_s=2),
        backend_context(),
    )
    caller = await member(
        await start_asgard(Orchestrator([await docker_cluster("local", engine), gone]))
    )
    body = await caller.json("GET", "/agents")
    assert [a["cluster"] for a in body["agents"]] == ["local"]
    assert body["errors"][0]["cluster"] == "gone"
    assert body["errors"][0]["kind"] == "unreachable"
    response = await caller.get("/clusters/gone/apps/web")
    assert response.status == 502
    assert (await response.json())["errors"][0]["cluster"] == "gone"


async def test_agents_are_scoped_by_owner_and_filtered_by_attributes(
    start_asgard: StartAsgard,
) -> None:
    asgard = await start_asgard(Orchestrator([await static_cluster("lab", AGENTS)]))
    team_a = await member(asgard, owner="team-a", namespace="a")
    everyone = await member(asgard, namespace="all")

    body = await team_a.json("GET", "/agents")
    assert [a["id"] for a in body["agents"]] == ["a1", "a2"]
    assert body["stats"] == {"cpu_pct": 50.0, "ram_pct": 25.0}
    assert body["agents"][0]["stats"] == {"cpu_pct": 25.0, "ram_pct": 25.0}
    assert (await team_a.get("/clusters/lab/agents/b1")).status == 404

    assert [a["id"] for a in (await everyone.json("GET", "/agents"))["agents"]] == [
        "a1",
        "a2",
        "b1",
    ]
    z1 = await everyone.json("GET", "/agents/with-attrs?zone=z1")
    assert [a["id"] for a in z1["agents"]] == ["a1", "b1"]
    both = await everyone.json("GET", "/agents/with-attrs?zone=z1&owner=team-b")
    assert [a["id"] for a in both["agents"]] == ["b1"]
    assert (await everyone.json("GET", "/agents/with-attrs?zone=z9"))["agents"] == []


async def test_an_account_uses_only_its_clusters(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard(
        Orchestrator(
            [await static_cluster("alpha", AGENTS[:1]), await static_cluster("beta", AGENTS[2:])]
        )
    )
    account = await asgard.account("narrow", clusters=["beta"])
    caller = await asgard.caller("narrow@example.com", roles={account.id: Role.VIEWER})
    assert [a["cluster"] for a in (await caller.json("GET", "/agents"))["agents"]] == ["beta"]
    assert [c["name"] for c in (await caller.json("GET", "/clusters"))["clusters"]] == ["beta"]
    assert (await caller.get("/clusters/alpha/agents/a1")).status == 404


async def test_agents_page_through_every_item_once(start_asgard: StartAsgard) -> None:
    many = [{"id": f"n{i:03d}"} for i in range(25)]
    fleet = Orchestrator(
        [await static_cluster("one", many[:10]), await static_cluster("two", many[10:])]
    )
    caller = await member(await start_asgard(fleet))
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        path = "/agents?limit=7" + (f"&cursor={cursor}" if cursor else "")
        page = await caller.json("GET", path)
        assert page["total"] == 25
        seen += [(a["cluster"], a["id"]) for a in page["agents"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 25
    assert seen == sorted(set(seen))
    only_two = await caller.json("GET", "/agents?cluster=two&limit=100")
    assert {a["cluster"] for a in only_two["agents"]} == {"two"}


async def test_a_kind_that_cannot_write_answers_501(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard(Orchestrator([await static_cluster("lab", AGENTS)]))
    account = await asgard.account("dev")
    caller = await asgard.caller("op@example.com", roles={account.id: Role.OPERATOR})
    response = await caller.post("/apps", json={"cluster": "lab", "id": "web", "image": "busybox"})
    assert response.status == 501
    error = (await response.json())["errors"][0]
    assert error == {"msg": "creating apps is not supported on static clusters", "cluster": "lab"}


async def test_writes_to_a_cluster_that_is_down_are_502_naming_it_and_leave_nothing(
    start_asgard: StartAsgard,
) -> None:
    from asgard.db.job_records import JobRecordStore
    from asgard.workflows.store import WorkflowStore

    gone = await build(
        DockerClusterConfig(name="gone", url="unix:///tmp/no-such-docker.sock", timeout_s=2),
        backend_context(),
    )
    asgard = await start_asgard(Orchestrator([gone]))
    account = await asgard.account("dev")
    caller = await asgard.caller("ops@example.com", roles={account.id: Role.OPERATOR})
    job = {"cluster": "gone", "name": "report", "image": TEST_IMAGE, "command": ["true"]}
    writes = [
        ("POST", "/apps", {"cluster": "gone", "id": "web", "image": TEST_IMAGE, "instances": 1}),
        ("PATCH", "/clusters/gone/apps/web", {"instances": 2}),
        ("POST", "/clusters/gone/apps/web/restart", None),
        ("DELETE", "/clusters/gone/apps/web", None),
        ("POST", "/jobs", job),
        ("DELETE", "/clusters/gone/jobs/report-1", None),
        ("POST", "/workflows", {"cluster": "gone", "name": "nightly", "stages": [job]}),
    ]
    for method, path, body in writes:
        response = await caller.request(method, path, json=body)
        assert response.status == 502, (method, path, response.status)
        answer = await response.json()
        assert answer["errors"][0]["cluster"] == "gone", (method, path)
        assert "unreachable" in answer["errors"][0]["msg"], (method, path)
        assert "Traceback" not in json.dumps(answer)

    async with asgard.db.session() as session:
        assert await JobRecordStore(session).of_account(account.id) == []
        assert await WorkflowStore(session).of_account(account.id) == []


async def test_clusters_are_listed_from_what_is_known_and_asked_only_on_request(
    start_asgard: StartAsgard,
) -> None:
    lab = await static_cluster("lab", AGENTS, probe_s=3600)
    client = lab.client
    assert isinstance(client, StaticClient)
    caller = await member(await start_asgard(Orchestrator([lab])))
    [first] = (await caller.json("GET", "/clusters"))["clusters"]
    assert (first["status"], first["version"]) == ("ok", "static-1")
    assert first["last_contact_at"] is not None
    asked = client.asked
    for _ in range(20):
        [known] = (await caller.json("GET", "/clusters"))["clusters"]
        assert known["status"] == "ok"
    assert client.asked == asked, "answered from what Asgard knows, without asking"

    [live] = (await caller.json("GET", "/clusters?probe=true"))["clusters"]
    assert client.asked == asked + 1, "?probe=true asks now"
    assert live["last_contact_at"] >= first["last_contact_at"]

    agents = lab.parts["agents"]
    assert isinstance(agents, StaticAgents)
    client.config.down = agents.config.down = True
    assert (await caller.get("/agents")).status == 502, "a read finds it down"
    [down] = (await caller.json("GET", "/clusters"))["clusters"]
    assert (down["status"], down["error"]) == ("unreachable", "cluster lab is down")
    assert down["last_contact_at"] == live["last_contact_at"], "its last answer is kept"
    assert down["version"] == "static-1", "as is what it last said of itself"
