"""Whatever a cluster answers is that cluster's error, never the request's or the server's.

One Asgard, started as ``asgard serve`` starts (clusters from a TOML file), serves a
real Docker Engine (``good``) beside a cluster of each kind (Docker, Kubernetes, a
Mesos master, Marathon, Chronos) for each way an endpoint answers wrongly
(``tests/support/wrong_answers.py``). Every list, ``/clusters``, ``/events`` and every
dashboard page answers 200 with the healthy engine's data and an ``errors`` entry per
failing cluster; a Kubernetes API server, a Docker Engine, a Marathon and a Chronos
that first ask to wait (429 with ``Retry-After``) are waited for, and answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from asgard.models import Role
from asgard.server import create_app
from tests.conftest import emulated_api, make_settings
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.dockerd import DockerDaemon
from tests.support.mesos_fakes import FakeChronos, FakeMarathon, FakeMesos
from tests.support.resources import shared
from tests.support.scratch import scratch_dir
from tests.support.wrong_answers import MISBEHAVIOURS, Misbehaviour, WrongAnswers

pytestmark = pytest.mark.asyncio(loop_scope="module")

KINDS = ("docker", "kubernetes", "mesos", "marathon", "chronos")
TIMEOUT_S = 2.0
SETTLE_S = 60.0
"""How long every cluster may take to have been heard from, or to have failed, once."""
CAP_MIB = 4
LISTS = ("/agents", "/apps", "/jobs", "/workflows", "/scheduled-jobs")
PAGES = ("/ui/", "/ui/agents", "/ui/apps", "/ui/jobs", "/ui/workflows", "/ui/scheduled-jobs")
PAGES_WITH_EVENTS = (*PAGES, "/ui/events")
SHOWN_IN: dict[str, tuple[str, ...]] = {
    "docker": ("/agents", "/apps", "/jobs", "/clusters"),
    "kubernetes": ("/agents", "/apps", "/jobs", "/scheduled-jobs", "/clusters"),
    "mesos": ("/agents", "/clusters"),
    "marathon": ("/apps",),
    "chronos": ("/jobs", "/scheduled-jobs"),
}
"""Where a cluster whose endpoint of that kind answers wrongly must be an ``errors``
entry: the listings that ask that endpoint, and ``/clusters`` for the endpoint probed."""
SAYS: dict[Misbehaviour, tuple[str, ...]] = {
    "404": ("404",),
    "html": ("text/html",),
    "cut": ("does not parse", "cut short"),
    "array": ("shape",),
    "other": ("shape",),
    "huge": ("over", "did not answer"),  # on a loaded machine the timeout may come first
    "stall": ("did not answer", "stalled"),
    "reset": ("unreachable", "reset", "cut short", "disconnected"),
}
"""What an error's message says of each misbehaviour, one of these at least."""
NO_LEADER = "knows no leader"
"""A Mesos master answering anything but a redirect to ``/master/redirect`` (a 200 of any
body) is asked nothing more: no master knows a leader, the message says."""
VALID: set[tuple[str, Misbehaviour, str]] = {("chronos", "array", "/scheduled-jobs")}
"""Where the wrong answer happens to be a right one: Chronos finding no job is ``[]``
(its job summary, which ``/jobs`` reads too, is an object: ``[]`` is wrong there)."""


BUSY = ("kubernetes-busy", "docker-busy", "mesos-busy")
"""Clusters whose server first asks to wait (429 with ``Retry-After``): waited for, they
answer. The Mesos one's Marathon and Chronos ask to wait; its master does not."""


def bad_name(kind: str, how: Misbehaviour) -> str:
    return f"{kind}-{how}"


@dataclass
class Fleet:
    asgard: AsgardUnderTest
    caller: Caller
    answers: dict[str, Any] = field(default_factory=dict)
    """Each path's JSON answer (or page's text), asked once for every test."""


def entries(good_url: str, servers: dict[Misbehaviour, WrongAnswers], fakes: Any) -> list[str]:
    """The TOML entries: the healthy engine, then every (kind, misbehaviour)."""
    mesos, marathon, chronos, busy = fakes
    common = f"timeout_s = {TIMEOUT_S}\nmax_answer_mib = {CAP_MIB}\nretry_down_s = 1.0\n"
    found = [f'[[clusters]]\nname = "good"\nkind = "docker"\nurl = "{good_url}"\n']
    for how, server in servers.items():
        bad = server.url
        urls = {
            "mesos": (bad, marathon.urls[0], chronos.url),
            "marathon": (mesos.urls[0], bad, chronos.url),
            "chronos": (mesos.urls[0], marathon.urls[0], bad),
        }
        for kind in KINDS:
            head = f'[[clusters]]\nname = "{bad_name(kind, how)}"\n{common}'
            if kind in ("docker", "kubernetes"):
                found.append(f'{head}kind = "{kind}"\nurl = "{bad}"\n')
                continue
            master, apps, jobs = urls[kind]
            # A Mesos cluster whose master answers wrongly has a Marathon that answers (its
            # cache polls it): the cluster is down all the same, its health is per part
            found.append(
                f'{head}kind = "mesos"\nmesos_urls = ["{master}"]\n'
                f'marathon_urls = ["{apps}"]\nchronos_url = "{jobs}"\n'
            )
    # a listing asks several paths in turn, each waited for once: 1 s each
    patient = "timeout_s = 8.0\nretry_down_s = 1.0\n"
    for kind in ("kubernetes", "docker"):
        found.append(
            f'[[clusters]]\nname = "{kind}-busy"\nkind = "{kind}"\n{patient}'
            f'url = "{busy[kind].url}"\n'
        )
    found.append(
        f'[[clusters]]\nname = "mesos-busy"\nkind = "mesos"\n{patient}'
        f'mesos_urls = ["{mesos.urls[0]}"]\nmarathon_urls = ["{busy["marathon"].url}"]\n'
        f'chronos_url = "{busy["chronos"].url}"\n'
    )
    return found


@contextlib.asynccontextmanager
async def wrong_servers() -> AsyncIterator[dict[Misbehaviour, WrongAnswers]]:
    async with contextlib.AsyncExitStack() as stack:
        yield {how: await stack.enter_async_context(WrongAnswers(how)) for how in MISBEHAVIOURS}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
@shared("module")
async def fleet(engine_daemon: DockerDaemon) -> AsyncIterator[Fleet]:
    mesos = FakeMesos()
    marathon = FakeMarathon(mesos)
    chronos = FakeChronos()
    async with (
        mesos.running(),
        marathon.running(),
        chronos.running(),
        emulated_api() as (_emulator, kube_url, _session),
        WrongAnswers("busy", upstream=kube_url) as kube_busy,
        WrongAnswers("busy", upstream=engine_daemon.url) as docker_busy,
        WrongAnswers("busy", upstream=marathon.urls[0]) as marathon_busy,
        WrongAnswers("busy", upstream=chronos.url) as chronos_busy,
        wrong_servers() as servers,
    ):
        root = scratch_dir()
        config = Path(root) / "clusters.toml"
        busy = {
            "kubernetes": kube_busy,
            "docker": docker_busy,
            "marathon": marathon_busy,
            "chronos": chronos_busy,
        }
        fakes = (mesos, marathon, chronos, busy)
        config.write_text("\n".join(entries(engine_daemon.url, servers, fakes)))
        settings = make_settings(Path(root), f"sqlite+aiosqlite:///{root}/asgard.db", config=config)
        app = create_app(settings)  # the clusters from the file, as `asgard serve` does
        client = TestClient(TestServer(app))
        await client.start_server()  # raises if any cluster stops the start
        try:
            asgard = AsgardUnderTest(client, app)
            account = await asgard.account("team")
            caller = await asgard.caller("team@example.com", roles={account.id: Role.ADMIN})
            found = Fleet(asgard, caller)
            await ask_everything(found)
            yield found
        finally:
            await client.close()


async def ask_everything(fleet: Fleet) -> None:
    """Every list, ``/clusters`` (live too) and every dashboard page, once: after every
    cluster has been heard from or has failed (a cluster whose first probe is still
    waiting on a stall is not known to be down yet)."""
    caller = fleet.caller
    deadline = time.monotonic() + SETTLE_S
    while True:
        known = (await caller.json("GET", "/clusters"))["clusters"]
        if all(c["last_contact_at"] or c["error"] for c in known):
            break
        assert time.monotonic() < deadline, [c["name"] for c in known if not c["error"]]
        await asyncio.sleep(0.2)
    for path in LISTS:
        fleet.answers[path] = await settled(caller, path)
    for path in ("/clusters", "/clusters?probe=true"):
        fleet.answers[path] = await caller.json("GET", path)
    async with caller.client.post(
        "/ui/login", data={"key": caller.key, "next": "/ui/"}, allow_redirects=False
    ) as response:
        assert response.status == 303, await response.text()
    for page in PAGES_WITH_EVENTS:
        async with caller.client.get(page) as response:
            fleet.answers[page] = (response.status, await response.text())


ANSWER_AT_ONCE = {how for how in MISBEHAVIOURS if how not in ("stall", "huge")}
"""The wrong answers that come at once: a timeout from one of them is the machine's load."""


async def settled(caller: Caller, path: str) -> dict[str, Any]:
    """The answer to ``path``, asked again (within ``SETTLE_S``) while a cluster that answers
    at once is said not to have answered in time: on a loaded machine its answer may come
    after the timeout once, and its breaker then opens until a probe hears it again."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        answer: dict[str, Any] = await caller.json("GET", path)
        late = [
            name
            for name, message in errors_of(answer).items()
            if (name in BUSY or name.rsplit("-", 1)[-1] in ANSWER_AT_ONCE)
            and "did not answer" in (message or "")
        ]
        if not late or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(1.0)


def errors_of(answer: dict[str, Any]) -> dict[str, str]:
    """By cluster, the message of its ``errors`` entry (or its status's error)."""
    if "clusters" in answer:
        return {c["name"]: c["error"] for c in answer["clusters"] if c["status"] != "ok"}
    return {e["cluster"]: e["msg"] for e in answer["errors"]}


async def test_asgard_starts_and_answers_with_every_wrong_answer_configured(fleet: Fleet) -> None:
    health = await fleet.caller.client.get("/health")
    ready = await fleet.caller.client.get("/ready")
    assert (health.status, ready.status) == (200, 200)
    names = {c["name"] for c in fleet.answers["/clusters"]["clusters"]}
    assert len(names) == 1 + len(BUSY) + len(KINDS) * len(MISBEHAVIOURS)


@pytest.mark.parametrize("path", [*LISTS, "/clusters", "/clusters?probe=true"])
async def test_a_list_carries_the_healthy_engine_and_never_fails_for_a_bad_cluster(
    fleet: Fleet, path: str
) -> None:
    answer = fleet.answers[path]
    failing = errors_of(answer)
    assert "good" not in failing, failing.get("good")
    for busy in BUSY:
        assert busy not in failing, failing.get(busy)
    if path == "/agents":
        assert [a for a in answer["agents"] if a["cluster"] == "good"], "the engine's agent"
    elif path.startswith("/clusters"):
        statuses = {c["name"]: c for c in answer["clusters"]}
        assert statuses["good"]["status"] == "ok"
        assert statuses["good"]["version"]
        assert [statuses[b]["status"] for b in BUSY] == ["ok"] * len(BUSY)
    elif path != "/workflows":
        assert "good" in answer["as_of"]
        assert set(BUSY) <= set(answer["as_of"])


@pytest.mark.parametrize("how", MISBEHAVIOURS)
@pytest.mark.parametrize("kind", KINDS)
async def test_each_wrong_answer_is_its_clusters_error_entry(
    fleet: Fleet, kind: str, how: Misbehaviour
) -> None:
    name = bad_name(kind, how)
    for path in SHOWN_IN[kind]:
        if (kind, how, path) in VALID:
            assert name not in errors_of(fleet.answers[path]), path
            continue
        failing = errors_of(fleet.answers[path])
        assert name in failing, f"{path}: no error for {name}: {sorted(failing)}"
        message = failing[name].lower()
        says = (*SAYS[how], NO_LEADER) if kind == "mesos" else SAYS[how]
        assert any(s in message for s in says), f"{path}: {name}: {failing[name]}"
    statuses = {c["name"]: c for c in fleet.answers["/clusters"]["clusters"]}
    if "/clusters" in SHOWN_IN[kind]:
        assert statuses[name]["status"] == "unreachable"


@pytest.mark.parametrize("page", PAGES)
async def test_every_dashboard_page_shows_the_healthy_engine_and_names_bad_clusters(
    fleet: Fleet, page: str
) -> None:
    status, text = fleet.answers[page]
    assert status == 200, text[:500]
    assert "<form>Sign in" not in text  # a cluster's page is quoted in a message, never served
    if page in ("/ui/", "/ui/agents"):
        assert "docker-html" in text
        assert "kubernetes-404" in text


async def test_the_events_page_and_stream_open(fleet: Fleet) -> None:
    status, _ = fleet.answers["/ui/events"]
    assert status == 200
    async with fleet.caller.client.get("/events", headers=fleet.caller.headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        first = await response.content.readline()
        assert first  # a comment or an event: the stream is live


@pytest.mark.parametrize("kind", ["docker", "kubernetes", "marathon"])
async def test_one_app_of_a_cluster_answering_html_is_a_502_naming_it(
    fleet: Fleet, kind: str
) -> None:
    name = bad_name(kind, "html")
    response = await fleet.caller.get(f"/clusters/{name}/apps/web")
    body = json.loads(await response.text())
    # 502 for the answer itself; 504 when the cluster is known down after a timeout
    # elsewhere (the breaker answers with its last error without asking again)
    assert response.status in (502, 504), body
    assert body["errors"][0]["cluster"] == name
    missing = await fleet.caller.get("/clusters/good/apps/no-such-app")
    assert missing.status == 404
