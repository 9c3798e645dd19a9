"""Deploying, changing and removing apps: what every backend that writes must get right."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from asgard.backends.contract import AppsBackend
from asgard.errors import Conflict, InvalidValue, NotFound
from asgard.models import Account, App, AppPatch, AppSpec, Port, ResourceLimits, Task
from asgard.testing.harness import Harness

DEV = Account(id=1, name="dev", namespace="dev")
OPS = Account(id=2, name="ops", namespace="ops")
SETTLE_S = 90


def web(harness: Harness, instances: int = 3, **changes: object) -> AppSpec:
    base = AppSpec(
        cluster=harness.cluster,
        id="shop/web",
        image=harness.image,
        args=harness.serve_forever,
        env={"MODE": "test", "EMPTY": ""},
        labels={"team": "shop"},
        resources=ResourceLimits(cpus=0.1, mem=32),
        ports=[Port(container_port=8080)],
        instances=instances,
    )
    return base.model_copy(update=changes)


async def settle(harness: Harness, check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        await harness.converge()
        if await check():
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"the cluster did not settle: {what}")


async def running(harness: Harness, app_id: str, count: int) -> list[Task]:
    """Wait until exactly ``count`` instances run and the app says so; the tasks then."""
    found: list[Task] = []

    async def check() -> bool:
        nonlocal found
        app = await harness.call(DEV, AppsBackend.get_app, app_id)
        found = [
            t
            for t in await harness.call(DEV, AppsBackend.list_tasks, app_id)
            if t.state == "running"
        ]
        return (
            app.instances.running == count
            and len(found) == count
            and app.instances.desired == count
        )

    await settle(harness, check, f"{app_id} with {count} running instances")
    return found


async def test_an_app_is_deployed_as_specified(harness: Harness) -> None:
    spec = web(harness)
    created = await harness.call(DEV, AppsBackend.create_app, spec)
    assert created.id == "shop/web"
    assert created.cluster == harness.cluster
    assert created.instances.desired == 3

    tasks = await running(harness, "shop/web", 3)
    assert len({t.id for t in tasks}) == 3
    app = await harness.call(DEV, AppsBackend.get_app, "shop/web")
    assert app.status == "running"
    assert app.image == harness.image
    assert app.args == harness.serve_forever
    assert app.env == {"MODE": "test", "EMPTY": ""}
    assert app.labels == {"team": "shop"}
    assert app.resources == ResourceLimits(cpus=0.1, mem=32)
    assert [p.container_port for p in app.ports] == [8080]
    assert app.created_at is not None


async def test_a_taken_id_is_a_conflict(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=1))
    with pytest.raises(Conflict):
        await harness.call(DEV, AppsBackend.create_app, web(harness, instances=2))
    other = await harness.call(OPS, AppsBackend.create_app, web(harness, instances=1))
    assert other.id == "shop/web", "the same id in another namespace is another app"


@pytest.mark.can("checks_images")
async def test_an_unknown_image_leaves_nothing_behind(harness: Harness) -> None:
    with pytest.raises(InvalidValue) as raised:
        await harness.call(
            DEV, AppsBackend.create_app, web(harness, image="asgard-test/no-such-image:1")
        )
    assert raised.value.details[0].field == "image"
    assert "no-such-image" in raised.value.msg
    assert await harness.leftovers("dev", "shop/web") == []
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.get_app, "shop/web")


async def test_scaling_up_down_to_zero_and_back(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=3))
    await running(harness, "shop/web", 3)

    await harness.call(DEV, AppsBackend.update_app, "shop/web", AppPatch(instances=5))
    await running(harness, "shop/web", 5)

    await harness.call(DEV, AppsBackend.update_app, "shop/web", AppPatch(instances=0))

    async def suspended() -> bool:
        app = await harness.call(DEV, AppsBackend.get_app, "shop/web")
        tasks = await harness.call(DEV, AppsBackend.list_tasks, "shop/web")
        return (
            app.status == "suspended"
            and app.instances.running == 0
            and not [t for t in tasks if t.state == "running"]
        )

    await settle(harness, suspended, "suspended at 0")
    kept = await harness.call(DEV, AppsBackend.get_app, "shop/web")
    assert kept.image == harness.image, "a suspended app keeps its definition"
    assert kept.env == {"MODE": "test", "EMPTY": ""}
    assert kept.instances.desired == 0

    await harness.call(DEV, AppsBackend.update_app, "shop/web", AppPatch(instances=2))
    await running(harness, "shop/web", 2)


async def test_an_update_redeploys_every_instance(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=2))
    before = {t.id for t in await running(harness, "shop/web", 2)}

    changed = await harness.call(
        DEV,
        AppsBackend.update_app,
        "shop/web",
        AppPatch(env={"MODE": "prod"}, labels={"team": "core"}),
    )
    assert changed.env == {"MODE": "prod"}

    async def replaced() -> bool:
        tasks = await running(harness, "shop/web", 2)
        return not ({t.id for t in tasks} & before)

    await settle(harness, replaced, "every instance replaced")
    app = await harness.call(DEV, AppsBackend.get_app, "shop/web")
    assert app.env == {"MODE": "prod"}
    assert app.labels == {"team": "core"}
    assert app.image == harness.image


async def test_restart_replaces_every_instance(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=3))
    before = {t.id for t in await running(harness, "shop/web", 3)}

    await harness.call(DEV, AppsBackend.restart_app, "shop/web")

    async def replaced() -> bool:
        tasks = await running(harness, "shop/web", 3)
        return not ({t.id for t in tasks} & before)

    await settle(harness, replaced, "every instance replaced by a restart")


async def test_delete_leaves_nothing_behind(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=2))
    await running(harness, "shop/web", 2)

    await harness.call(DEV, AppsBackend.delete_app, "shop/web")

    async def gone() -> bool:
        return await harness.leftovers("dev", "shop/web") == []

    await settle(harness, gone, "nothing of the app left")
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.get_app, "shop/web")
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.delete_app, "shop/web")


async def test_another_account_cannot_touch_an_app(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=1))
    await running(harness, "shop/web", 1)

    with pytest.raises(NotFound):
        await harness.call(OPS, AppsBackend.update_app, "shop/web", AppPatch(instances=3))
    with pytest.raises(NotFound):
        await harness.call(OPS, AppsBackend.restart_app, "shop/web")
    with pytest.raises(NotFound):
        await harness.call(OPS, AppsBackend.delete_app, "shop/web")
    assert [a.id for a in (await harness.listing(OPS, AppsBackend.list_apps)).items] == []

    app: App = await harness.call(DEV, AppsBackend.get_app, "shop/web")
    assert app.instances.desired == 1
    assert len(await running(harness, "shop/web", 1)) == 1
