"""Clusters registered, changed and removed at run time through the API, beside the
clusters file's: who may, what is refused, what is checked, what each account sees, and
what a removal takes away. On a real socket, with the test-only ``static`` kind and the
Kubernetes emulator."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from yarl import URL

from asgard.backends.orchestrator import Orchestrator
from asgard.cluster_keys import new_key
from asgard.models import Role
from testbed.kube import Emulator
from tests.conftest import StartAsgard, emulated_api
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.climbing import CLIMBING_IDS
from tests.support.kube_controllers import Controllers
from tests.support.static_backend import static_cluster
from tests.support.watching import eventually
from tests.support.wrong_answers import WrongAnswers

KEY = new_key()
TOKEN = "a-token-nobody-may-read"


def static_entry(name: str, *agents: str, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "static",
        "agents": [{"id": a, "resources": {"cpus": 1, "mem": 512}} for a in agents],
        **more,
    }


async def with_lab(start_asgard: StartAsgard, **settings: Any) -> AsgardUnderTest:
    """Asgard serving ``lab`` from its clusters file (here: the orchestrator it is given)."""
    fleet = Orchestrator([await static_cluster("lab", [{"id": "l1"}])])
    return await start_asgard(fleet, cluster_keys=KEY, **settings)


async def admin_of(asgard: AsgardUnderTest) -> Caller:
    return await asgard.caller("root@example.com", admin=True)


@contextlib.asynccontextmanager
async def kube_api(*denied: tuple[str, str, str]) -> AsyncIterator[tuple[Emulator, str]]:
    """The emulator with one node; access reviews deny ``denied``."""
    async with emulated_api() as (emulator, url, session):
        emulator.denied.update(denied)
        await Controllers(emulator, url, session).add_node("node-1", cpu="4", memory="8Gi")
        yield emulator, url


def kube_entry(name: str, url: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "kind": "kubernetes", "url": url, "token": TOKEN, "timeout_s": 5, **more}


async def test_only_administrators_register_change_see_or_remove_clusters(
    start_asgard: StartAsgard,
) -> None:
    asgard = await with_lab(start_asgard)
    account = await asgard.account("dev")
    operator = await asgard.caller("op@example.com", roles={account.id: Role.ADMIN})

    for method, path, body in [
        ("POST", "/clusters", static_entry("b", "b1")),
        ("GET", "/clusters/lab", None),
        ("PATCH", "/clusters/lab", {"timeout_s": 3}),
        ("DELETE", "/clusters/lab", None),
    ]:
        answer = await operator.request(method, path, json=body)
        assert answer.status == 403, (method, path)
    assert asgard.orchestrator.cluster_names() == ["lab"]


async def test_a_registered_cluster_is_served_at_once_and_listed_beside_the_files(
    start_asgard: StartAsgard,
) -> None:
    asgard = await with_lab(start_asgard)
    admin = await admin_of(asgard)
    account = await asgard.account("dev")
    viewer = await asgard.caller("v@example.com", roles={account.id: Role.VIEWER})

    created = await admin.json("POST", "/clusters", 201, json=static_entry("b", "b1", "b2"))
    assert created["cluster"]["source"] == "api"
    assert created["cluster"]["settings"]["agents"][0]["id"] == "b1"
    assert created["cluster"]["status"]["status"] == "ok"

    agents = await viewer.json("GET", "/agents")
    assert sorted(a["id"] for a in agents["agents"]) == ["b1", "b2", "l1"]
    listed = {c["name"]: c["source"] for c in (await admin.json("GET", "/clusters"))["clusters"]}
    assert listed == {"b": "api", "lab": "file"}
    shown = await admin.json("GET", "/clusters/lab")
    assert shown["cluster"]["source"] == "file"
    assert shown["cluster"]["settings"]["agents"] == [{"id": "l1"}]


async def test_a_bad_entry_is_422_naming_its_field_and_nothing_is_saved(
    start_asgard: StartAsgard,
) -> None:
    asgard = await with_lab(start_asgard)
    admin = await admin_of(asgard)
    cases = [
        ({**static_entry("b"), "timeout_s": -1}, "timeout_s"),
        ({**static_entry("b"), "port": 1}, "port"),
        ({"name": "b", "kind": "nomad"}, "kind"),
        ({"name": "../b", "kind": "static"}, "name"),
        ({"name": "b c", "kind": "static"}, "name"),
        ({"name": "b", "kind": "kubernetes"}, None),  # no url, kubeconfig nor in_cluster
    ]
    for entry, field in cases:
        answer = await admin.request("POST", "/clusters", json=entry)
        assert answer.status == 422, entry
        errors = (await answer.json())["errors"]
        if field is not None:
            assert field in [e.get("field") for e in errors], (entry, errors)
    assert asgard.orchestrator.cluster_names() == ["lab"]
    assert (await admin.request("GET", "/clusters/b")).status == 404


async def test_a_taken_name_is_409_and_the_files_entries_are_read_only(
    start_asgard: StartAsgard,
) -> None:
    asgard = await with_lab(start_asgard)
    admin = await admin_of(asgard)
    await admin.json("POST", "/clusters", 201, json=static_entry("b", "b1"))

    for entry in (static_entry("lab"), static_entry("b")):
        assert (await admin.request("POST", "/clusters", json=entry)).status == 409
    assert (await admin.request("PATCH", "/clusters/lab", json={"timeout_s": 3})).status == 409
    assert (await admin.request("DELETE", "/clusters/lab")).status == 409
    assert asgard.orchestrator.cluster_names() == ["b", "lab"]


async def test_odd_and_climbing_names_in_the_path_are_refused(start_asgard: StartAsgard) -> None:
    asgard = await with_lab(start_asgard)
    admin = await admin_of(asgard)
    base = str(asgard.client.make_url("/")).rstrip("/")
    for name in [*CLIMBING_IDS, "-x", "a%20b", "lab%2F..%2Flab"]:
        for method in ("GET", "PATCH", "DELETE"):
            url = URL(f"{base}/clusters/{name}", encoded=True)
            body: dict[str, Any] | None = {} if method == "PATCH" else None
            answer = await asgard.client.session.request(
                method, url, json=body, headers=admin.headers
            )
            assert answer.status in (404, 422), (method, name, answer.status)
    assert (await admin.request("GET", "/clusters/nothing-here")).status == 404
    assert asgard.orchestrator.cluster_names() == ["lab"]


async def test_a_cluster_that_fails_its_check_is_not_saved_unless_asked(
    start_asgard: StartAsgard,
) -> None:
    asgard = await with_lab(start_asgard)
    admin = await admin_of(asgard)
    account = await asgard.account("dev")
    viewer = await asgard.caller("v@example.com", roles={account.id: Role.VIEWER})
    down = static_entry("gone", "g1", down=True, timeout_s=1)

    refused = await admin.request("POST", "/clusters", json=down)
    assert refused.status == 422
    reasons = [e["msg"] for e in (await refused.json())["errors"]]
    assert any(r.startswith("unreachable:") for r in reasons), reasons
    assert (await admin.request("GET", "/clusters/gone")).status == 404

    await admin.json("POST", "/clusters?check=false", 201, json=down)
    agents = await viewer.json("GET", "/agents")
    assert [a["id"] for a in agents["agents"]] == ["l1"]
    assert [e["cluster"] for e in agents["errors"]] == ["gone"]


async def test_kubernetes_is_checked_for_the_permissions_asgard_needs(
    start_asgard: StartAsgard,
) -> None:
    asgard = await with_lab(start_asgard)
    admin = await admin_of(asgard)
    denied = [("", "nodes", "watch"), ("apps", "deployments", "list")]
    async with kube_api(*denied) as (_, url):
        refused = await admin.request("POST", "/clusters", json=kube_entry("k", url))
        assert refused.status == 422
        reasons = [e["msg"] for e in (await refused.json())["errors"]]
        assert reasons == [
            "missing permission: watch nodes",
            "missing permission: list deployments (apps)",
        ]
    async with kube_api() as (_, url):
        created = await admin.json("POST", "/clusters", 201, json=kube_entry("k", url))
        assert created["cluster"]["status"]["status"] == "ok"
        statuses = {c["name"]: c for c in (await admin.json("GET", "/clusters"))["clusters"]}
        assert statuses["k"]["source"] == "api"
        await admin.json("DELETE", "/clusters/k", 204)


async def test_secrets_are_encrypted_at_rest_and_never_shown(
    start_asgard: StartAsgard, db_url: str
) -> None:
    asgard = await with_lab(start_asgard, db_url=db_url)
    admin = await admin_of(asgard)
    async with kube_api() as (_, url):
        created = await admin.request("POST", "/clusters", json=kube_entry("k", url))
        body = await created.text()
        assert created.status == 201, body
        assert TOKEN not in body
        assert json.loads(body)["cluster"]["settings"]["token"] == "set"
        shown = await admin.request("GET", "/clusters/k")
        assert TOKEN not in await shown.text()
        patched = await admin.json("PATCH", "/clusters/k", json={"timeout_s": 4})
        assert patched["cluster"]["settings"] == {
            "url": url,
            "timeout_s": 4.0,
            "token": "set",
        }
        async with asgard.db.session() as session:
            row = (await session.execute(text("SELECT * FROM clusters"))).mappings().one()
        assert TOKEN not in json.dumps(dict(row), default=str)
        assert row["secrets"]
        assert row["secret_names"] == "token"
        audit = await admin.json("GET", "/audit?resource=cluster")
        assert [(e["action"], e["id"]) for e in audit["entries"]] == [
            ("update", "k"),
            ("create", "k"),
        ]
        assert TOKEN not in json.dumps(audit)
        # the token kept is the one used: the cluster answers with it
        assert asgard.orchestrator.clusters["k"].config.token.get_secret_value() == TOKEN  # type: ignore[attr-defined]
        await admin.json("DELETE", "/clusters/k", 204)  # its watches end before the emulator


async def test_without_a_key_secrets_are_refused_and_entries_without_them_work(
    start_asgard: StartAsgard,
) -> None:
    fleet = Orchestrator([await static_cluster("lab", [{"id": "l1"}])])
    asgard = await start_asgard(fleet)
    admin = await admin_of(asgard)
    async with kube_api() as (_, url):
        refused = await admin.request("POST", "/clusters", json=kube_entry("k", url))
        assert refused.status == 422
        [error] = (await refused.json())["errors"]
        assert error["field"] == "token"
        assert "ASGARD_CLUSTER_KEYS" in error["msg"]
        without = {k: v for k, v in kube_entry("k", url).items() if k != "token"}
        await admin.json("POST", "/clusters", 201, json=without)
        await admin.json("DELETE", "/clusters/k", 204)
    await admin.json("POST", "/clusters", 201, json=static_entry("b", "b1"))
    assert asgard.orchestrator.cluster_names() == ["b", "lab"]


async def test_an_account_limited_to_some_clusters_never_sees_one_registered_later(
    start_asgard: StartAsgard,
) -> None:
    asgard = await with_lab(start_asgard)
    admin = await admin_of(asgard)
    limited = await asgard.account("team-a", clusters=["lab"])
    everything = await asgard.account("team-all")
    a = await asgard.caller("a@example.com", roles={limited.id: Role.VIEWER})
    anyone = await asgard.caller("all@example.com", roles={everything.id: Role.VIEWER})

    await admin.json("POST", "/clusters", 201, json=static_entry("b", "b1"))

    assert [c["name"] for c in (await a.json("GET", "/clusters"))["clusters"]] == ["lab"]
    assert [x["id"] for x in (await a.json("GET", "/agents"))["agents"]] == ["l1"]
    assert (await a.request("GET", "/agents?cluster=b")).status == 404
    assert (await a.request("GET", "/clusters/b/agents/b1")).status == 404
    assert (await a.request("GET", "/clusters/b")).status == 403
    assert sorted(x["id"] for x in (await anyone.json("GET", "/agents"))["agents"]) == [
        "b1",
        "l1",
    ]
    assert all(e.cluster != "b" for e in asgard.services.events.recent(limited, 100))


async def test_removing_a_cluster_ends_its_feed_cache_history_and_kept_answers(
    start_asgard: StartAsgard,
) -> None:
    asgard = await with_lab(start_asgard, history_interval_s=0.2)
    admin = await admin_of(asgard)
    account = await asgard.account("dev")
    viewer = await asgard.caller("v@example.com", roles={account.id: Role.VIEWER})
    await admin.json("POST", "/clusters", 201, json=static_entry("b", "b1"))
    cluster = asgard.orchestrator.clusters["b"]
    assert cluster.cache is not None
    await viewer.json("GET", "/agents")  # an answer kept over b's cache
    history = asgard.services.agents.usage
    assert history is not None

    async def sampled() -> bool:
        return history.latest("b", "b1") is not None

    await eventually(sampled, "b1 sampled", 10)
    assert (await viewer.json("GET", "/clusters/b/agents/b1/history"))["history"]

    assert (await admin.request("DELETE", "/clusters/b")).status == 204

    assert asgard.orchestrator.cluster_names() == ["lab"]
    assert not cluster.prober.running
    assert not cluster.cache.following.running
    assert history.latest("b", "b1") is None
    assert not [v for v, _ in asgard.services.agents.pages._kept.values() if "b" in str(v)]
    assert (await viewer.request("GET", "/clusters/b/agents/b1")).status == 404
    assert (await viewer.request("GET", "/clusters/b/agents/b1/history")).status == 404
    assert [a["id"] for a in (await viewer.json("GET", "/agents"))["agents"]] == ["l1"]
    removed = [e for e in asgard.services.events.recent(account, 100) if e.cluster == "b"]
    assert [(e.kind, e.change) for e in removed] == [("cluster", "deleted")]
    assert (await admin.request("GET", "/clusters/b")).status == 404
    assert (await admin.request("DELETE", "/clusters/b")).status == 404


async def test_a_patch_serves_the_cluster_from_its_new_entry(start_asgard: StartAsgard) -> None:
    asgard = await with_lab(start_asgard)
    admin = await admin_of(asgard)
    account = await asgard.account("dev")
    viewer = await asgard.caller("v@example.com", roles={account.id: Role.VIEWER})
    await admin.json("POST", "/clusters", 201, json=static_entry("b", "b1"))
    before = asgard.orchestrator.clusters["b"]

    changed = await admin.json(
        "PATCH", "/clusters/b", json={"agents": [{"id": "b2"}], "timeout_s": 2}
    )
    assert changed["cluster"]["settings"]["agents"] == [{"id": "b2"}]
    assert changed["cluster"]["updated_at"] > changed["cluster"]["created_at"]
    after = asgard.orchestrator.clusters["b"]
    assert after is not before
    assert after.timeout_s == 2
    assert not before.prober.running
    assert [a["id"] for a in (await viewer.json("GET", "/agents?cluster=b"))["agents"]] == ["b2"]
    back = await admin.json("PATCH", "/clusters/b", json={"timeout_s": None})
    assert "timeout_s" not in back["cluster"]["settings"]
    assert asgard.orchestrator.clusters["b"].timeout_s == 10.0
    for patch in ({"name": "c"}, {"kind": "docker"}, {"timeout_s": 0}):
        assert (await admin.request("PATCH", "/clusters/b", json=patch)).status == 422


async def test_a_cluster_registered_through_one_process_is_served_by_the_other(
    start_asgard: StartAsgard, db_url: str
) -> None:
    """Two processes on one database: PostgreSQL tells the other at once (``NOTIFY``),
    SQLite's finds the registry's revision moved at its next look."""
    fleet_a = Orchestrator([await static_cluster("lab", [{"id": "l1"}])])
    fleet_b = Orchestrator([await static_cluster("lab", [{"id": "l1"}])])
    one = await start_asgard(fleet_a, db_url=db_url, cluster_keys=KEY, clusters_poll_s=0.2)
    other = await start_asgard(fleet_b, db_url=db_url, cluster_keys=KEY, clusters_poll_s=0.2)
    admin = await admin_of(one)
    account = await one.account("dev")
    viewer = await one.caller("v@example.com", roles={account.id: Role.VIEWER})
    reader = Caller(other.client, viewer.user, viewer.key)

    async def served() -> list[str]:
        return sorted(a["id"] for a in (await reader.json("GET", "/agents"))["agents"])

    async def agents_are(*ids: str) -> bool:
        return await served() == sorted(ids)

    await admin.json("POST", "/clusters", 201, json=static_entry("b", "b1"))
    await eventually(lambda: agents_are("b1", "l1"), "b served by the other process", 10)
    assert other.orchestrator.clusters["b"].source == "api"

    await admin.json("PATCH", "/clusters/b", json={"agents": [{"id": "b2"}]})
    await eventually(lambda: agents_are("b2", "l1"), "b's change served by the other", 10)

    await admin.json("DELETE", "/clusters/b", 204)
    await eventually(lambda: agents_are("l1"), "b gone from the other process", 10)
    assert other.orchestrator.cluster_names() == ["lab"]
    assert (await reader.request("GET", "/clusters/b/agents/b2")).status == 404


async def test_a_wrong_answering_cluster_added_at_run_time_is_that_clusters_error(
    start_asgard: StartAsgard,
) -> None:
    asgard = await with_lab(start_asgard)
    admin = await admin_of(asgard)
    account = await asgard.account("dev")
    viewer = await asgard.caller("v@example.com", roles={account.id: Role.VIEWER})
    async with WrongAnswers("html") as wall:
        entry = {**kube_entry("walled", wall.url), "timeout_s": 2}
        refused = await admin.request("POST", "/clusters", json=entry)
        assert refused.status == 422  # its check found no version there
        await admin.json("POST", "/clusters?check=false", 201, json=entry)
        agents = await viewer.json("GET", "/agents")
        assert [a["id"] for a in agents["agents"]] == ["l1"]
        assert [e["cluster"] for e in agents["errors"]] == ["walled"]
        assert (await viewer.request("GET", "/clusters/walled/agents/x")).status == 502
        await admin.json("DELETE", "/clusters/walled", 204)
    assert (await viewer.json("GET", "/agents"))["errors"] == []


async def test_removing_a_kubernetes_cluster_ends_its_watches(start_asgard: StartAsgard) -> None:
    asgard = await with_lab(start_asgard)
    admin = await admin_of(asgard)
    async with kube_api() as (emulator, url):
        await admin.json("POST", "/clusters", 201, json=kube_entry("k", url))

        async def watching() -> bool:
            return bool(emulator._watches)

        await eventually(watching, "k's feed watches its API server", 10)
        await admin.json("DELETE", "/clusters/k", 204)

        async def ended() -> bool:
            return not emulator._watches

        await eventually(ended, "k's watches ended", 10)
