"""``asgard.client`` against Asgard on a real socket over a real Docker Engine: answers
as models, failures as typed errors, pages followed, files up and down, events resumed."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from asgard import client as c
from asgard.client import AsgardClient
from asgard.events import Event
from asgard.models import AppSpec, JobSpec
from asgard.testing.files import a_zip, unzip
from tests.client.conftest import Site
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE

HELLO = ["sh", "-c", "echo hello from $HOSTNAME; trap 'exit 0' TERM; sleep 3600 & wait"]


def app(app_id: str, **extra: object) -> AppSpec:
    return AppSpec.model_validate(
        {"cluster": "local", "id": app_id, "image": TEST_IMAGE, "args": SERVE_FOREVER, **extra}
    )


async def running(asgard: AsgardClient, app_id: str, instances: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = await asgard.apps.get("local", app_id)
        if found.instances.running == instances:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"{app_id} did not reach {instances} running")


async def test_apps_from_create_to_delete(site: Site) -> None:
    async with site.client() as asgard:
        created = await asgard.apps.create(app("web", args=HELLO))
        assert (created.cluster, created.id, created.image) == ("local", "web", TEST_IMAGE)
        await running(asgard, "web", 1)
        scaled = await asgard.apps.scale("local", "web", 2)
        assert scaled.instances.desired == 2
        await running(asgard, "web", 2)
        tasks = await asgard.apps.tasks("local", "web")
        assert len(tasks) == 2
        assert {t.app_id for t in tasks} == {"web"}
        lines = [line async for line in asgard.apps.logs("local", "web")]
        assert sum("hello from" in line for line in lines) == 2, lines
        restarted = await asgard.apps.restart("local", "web")
        assert restarted.id == "web"
        stats = await asgard.apps.stats("local", "web")
        assert stats.source in ("average", "sample")
        await asgard.apps.delete("local", "web")
        with pytest.raises(c.NotFound) as gone:
            await asgard.apps.get("local", "web")
        assert gone.value.status == 404
        assert "web" in gone.value.message


async def test_every_page_is_followed(site: Site) -> None:
    async with site.client() as asgard:
        for name in ("a", "b", "c"):
            await asgard.apps.create(app(name, instances=0))
        first = await asgard.apps.page(limit=1)
        assert [a.id for a in first.apps] == ["a"]
        assert first.total == 3
        assert first.next_cursor is not None
        assert [a.id async for a in asgard.apps.all()] == ["a", "b", "c"]
        seen = []
        async for page in c.pagination.pages(
            lambda cursor: asgard.apps.page(limit=2, cursor=cursor)
        ):
            seen.append([a.id for a in page.apps])
        assert seen == [["a", "b"], ["c"]]
        [agent] = [a async for a in asgard.agents.all()]
        assert agent.cluster == "local"
        assert (await asgard.agents.get("local", agent.id)).hostname == agent.hostname
        [status] = await asgard.clusters.statuses(probe=True)
        assert (status.name, status.status) == ("local", "ok")


async def test_failures_are_typed_and_carry_the_servers_words(site: Site) -> None:
    async with site.client() as asgard:
        await asgard.apps.create(app("taken", instances=0))
        with pytest.raises(c.Conflict) as taken:
            await asgard.apps.create(app("taken", instances=0))
        assert taken.value.status == 409
        with pytest.raises(c.Invalid) as invalid:
            await asgard.apps.create({"cluster": "local", "id": "web/logs", "image": TEST_IMAGE})
        assert invalid.value.status == 422
        assert any(e.field and "id" in e.field for e in invalid.value.errors)
        assert "reserved" in str(invalid.value)
        with pytest.raises(c.NotFound):
            await asgard.jobs.get("local", "no-such-job")
    async with site.client(site.viewer) as viewer:
        with pytest.raises(c.Forbidden):
            await viewer.apps.create(app("mine", instances=0))
        assert [a.id async for a in viewer.apps.all()] == ["taken"]
    async with AsgardClient(site.url, "asg_nope_notakey") as stranger:
        with pytest.raises(c.Unauthorized):
            await stranger.users.me()
        assert await stranger.health(), "health needs no key"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AsgardClient(f"http://127.0.0.1:{port}", "x") as nobody:
        with pytest.raises(c.ConnectionFailed):
            await nobody.users.me()


async def test_another_service_at_the_url_is_an_unexpected_answer(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>a welcome page</html>", content_type="text/html")

    async def proxy_error(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad Gateway</html>", content_type="text/html")

    async def not_a_cluster(request: web.Request) -> web.Response:
        return web.json_response({"clusters": [{"name": "x"}]})

    other = web.Application()
    other.router.add_get("/users/me", page)
    other.router.add_get("/clusters", not_a_cluster)
    other.router.add_get("/apps", proxy_error)
    server = await aiohttp_server(other)
    async with AsgardClient(str(server.make_url("")).rstrip("/"), "key") as asgard:
        with pytest.raises(c.UnexpectedAnswer, match="not JSON"):
            await asgard.users.me()
        with pytest.raises(c.UnexpectedAnswer, match="not the answer this client knows"):
            await asgard.clusters.statuses()
        with pytest.raises(c.ClusterFailure) as bad_gateway:
            await asgard.apps.page()
        assert bad_gateway.value.status == 502
        assert "Bad Gateway" in bad_gateway.value.message


async def test_a_job_with_an_input_zip_and_its_output_downloaded(
    site: Site, tmp_path: Path
) -> None:
    heard: list[tuple[int, int | None]] = []
    spec = JobSpec(
        cluster="local",
        name="count",
        image=TEST_IMAGE,
        command=["sh", "-c", "cat /input/words.txt; wc -w < /input/words.txt > /output/n.txt"],
    )
    words = a_zip({"words.txt": b"one two three\n"})
    async with site.client() as asgard:
        job = await asgard.jobs.create(spec, words, lambda done, total: heard.append((done, total)))
        assert job.id.startswith("count-")
        assert heard[-1] == (len(words), len(words))
        done = await asgard.jobs.wait("local", job.id, poll_s=0.3)
        assert (done.status.state, done.status.exit_code) == ("succeeded", 0)
        logs = [line async for line in asgard.jobs.logs("local", job.id)]
        assert "one two three" in logs
        assert unzip(await asgard.jobs.output("local", job.id))["n.txt"].strip() == b"3"
        sizes: list[int] = []
        target = tmp_path / "out.zip"
        size = await asgard.jobs.download_output(
            "local", job.id, target, lambda n, total: sizes.append(n)
        )
        assert size == target.stat().st_size == sizes[-1]
        assert unzip(target.read_bytes())["n.txt"].strip() == b"3"
        assert [j.id async for j in asgard.jobs.all(state="succeeded")] == [job.id]
        await asgard.jobs.delete("local", job.id)
        with pytest.raises(c.NotFound):
            await asgard.jobs.get("local", job.id)


async def test_a_workflow_is_waited_for(site: Site) -> None:
    stages = [
        {"name": "make", "image": TEST_IMAGE, "command": ["sh", "-c", "echo 42 > /output/n"]},
        {"name": "use", "image": TEST_IMAGE, "command": ["sh", "-c", "cat /input/n"]},
    ]
    async with site.client() as asgard:
        flow = await asgard.workflows.create({"cluster": "local", "name": "pair", "stages": stages})
        done = await asgard.workflows.wait("local", flow.id, poll_s=0.3)
        assert done.state == "succeeded"
        assert [s.state for s in done.stages] == ["succeeded", "succeeded"]
        assert [line async for line in asgard.workflows.stage_logs("local", flow.id, "use")] == [
            "42"
        ]
        assert [w.id async for w in asgard.workflows.all()] == [flow.id]


async def next_app_event(stream: c.EventStream) -> Event:
    async with asyncio.timeout(20):
        async for event in stream:
            if isinstance(event, Event) and event.kind == "app":
                return event
    raise AssertionError("the stream ended")


async def test_events_come_as_models_and_resume_from_the_last_id(site: Site) -> None:
    async with site.client() as asgard:
        stream = asgard.events.stream(kind=["app"], reconnect=False)
        listening = aiter(stream)
        first = asyncio.ensure_future(anext(listening))
        await asyncio.sleep(0.5)  # connected: the stream's first frame is a comment
        await asgard.apps.create(app("one", instances=0))
        event = await asyncio.wait_for(first, 20)
        assert isinstance(event, Event)
        assert (event.kind, event.cluster, event.id, event.change) == (
            "app",
            "local",
            "one",
            "added",
        )
        seen = stream.last_event_id
        assert seen is not None
        await listening.aclose()  # type: ignore[attr-defined]

        await asgard.apps.create(app("two", instances=0))  # while nobody listens
        resumed = asgard.events.stream(kind=["app"], last_event_id=seen)
        missed = await next_app_event(resumed)
        assert (missed.id, missed.change) == ("two", "added")
        assert resumed.last_event_id != seen

        stale = asgard.events.stream(kind=["app"], last_event_id="not-from-here-1")
        async with asyncio.timeout(10):
            notice = await anext(aiter(stale))
        assert isinstance(notice, c.Notice)
        assert notice.name == "resync"


async def test_users_accounts_tokens_and_a_jwt(site: Site) -> None:
    async with site.client(site.admin) as root:
        team = await root.accounts.create({"name": "team", "namespace": "team"})
        ana = await root.users.create({"name": "Ana", "email": "ana@example.com"})
        member = await root.accounts.put_member(team.id, ana.id, "operator")
        assert (member.email, member.role) == ("ana@example.com", "operator")
        assert "ana@example.com" in [m.email for m in await root.accounts.members(team.id)]
        assert [a.name for a in await root.users.accounts(ana.id)] == ["team"]
        assert (await root.users.page(limit=1)).next_cursor is not None
        assert "ana@example.com" in [u.email async for u in root.users.all()]
        new = await root.tokens.create("for a script")
        assert new.key.startswith("asg_")
        assert new.id in [t.id for t in await root.tokens.all()]
        await root.tokens.delete(new.id)
        assert new.id not in [t.id for t in await root.tokens.all()]
        with pytest.raises(c.Forbidden):
            await root.accounts.jwt(team.id)  # not a member
        assert (await root.openapi())["openapi"].startswith("3.")
        assert "asgard_http_requests" in await root.metrics()
    async with site.client(site.dev) as dev:
        dev_account = (await dev.users.me()).current_account
        assert dev_account is not None
        jwt = await dev.accounts.jwt(dev_account.id)
    async with AsgardClient(site.url, jwt) as by_jwt:
        me = await by_jwt.users.me()
        assert me.user.email == "dev@example.com"
        assert me.current_account is not None
        assert me.current_account.name == "dev"


async def test_scheduled_jobs_from_create_to_delete(site: Site) -> None:
    spec = {
        "cluster": "local",
        "name": "nightly",
        "image": TEST_IMAGE,
        "command": ["true"],
        "schedule": {"value": "0 3 * * *"},
    }
    async with site.client() as asgard:
        created = await asgard.scheduled_jobs.create(spec)
        assert (created.id, created.enabled, created.schedule.value) == (
            "nightly",
            True,
            "0 3 * * *",
        )
        assert created.next_run_at is not None
        paused = await asgard.scheduled_jobs.replace("local", "nightly", {**spec, "enabled": False})
        assert paused.enabled is False
        assert (await asgard.scheduled_jobs.get("local", "nightly")).enabled is False
        assert [s.id async for s in asgard.scheduled_jobs.all()] == ["nightly"]
        with pytest.raises(c.Conflict):
            await asgard.scheduled_jobs.create(spec)
        await asgard.scheduled_jobs.delete("local", "nightly")
        assert [s.id async for s in asgard.scheduled_jobs.all()] == []
