"""Apps: reading them as their namespace sees them, and deploying, changing and removing
them. What every kind must get right."""

from __future__ import annotations

import pytest

from asgard.backends.contract import AppsBackend
from asgard.errors import Conflict, InvalidValue, NotFound
from asgard.models import App, AppPatch, ResourceLimits
from asgard.testing.common import DEV, OPS, running, settle, web
from asgard.testing.coverage import exercises
from asgard.testing.harness import Harness

__all__ = [
    "test_a_taken_id_is_a_conflict",
    "test_an_app_is_deployed_as_specified",
    "test_an_unknown_image_leaves_nothing_behind",
    "test_an_update_redeploys_every_instance",
    "test_another_account_cannot_touch_an_app",
    "test_another_namespace_cannot_read_an_app",
    "test_apps_of_the_namespace_are_listed_without_it",
    "test_delete_leaves_nothing_behind",
    "test_restart_replaces_every_instance",
    "test_scaling_up_down_to_zero_and_back",
    "test_unknown_app_is_not_found",
]


@exercises(AppsBackend.list_apps)
async def test_apps_of_the_namespace_are_listed_without_it(harness: Harness) -> None:
    await harness.seed_app("dev", "web", instances=2)
    await harness.seed_app("dev", "team/api", instances=1)
    await harness.seed_app("ops", "web", instances=1)

    apps = {a.id: a for a in (await harness.listing(DEV, AppsBackend.list_apps)).items}
    assert set(apps) == {"web", "team/api"}
    web = apps["web"]
    assert web.cluster == harness.cluster
    assert web.type == harness.agent_type
    assert web.instances.desired == 2
    assert web.instances.running == 2
    assert web.status == "running"
    assert web.image.startswith(harness.image.rsplit(":", 1)[0])

    ops = [a.id for a in (await harness.listing(OPS, AppsBackend.list_apps)).items]
    assert ops == ["web"]


@exercises(AppsBackend.get_app, AppsBackend.list_tasks)
async def test_another_namespace_cannot_read_an_app(harness: Harness) -> None:
    await harness.seed_app("dev", "secret", instances=1)
    with pytest.raises(NotFound):
        await harness.call(OPS, AppsBackend.get_app, "secret")
    with pytest.raises(NotFound):
        await harness.call(OPS, AppsBackend.list_tasks, "secret")


@exercises(AppsBackend.get_app, AppsBackend.list_tasks)
async def test_unknown_app_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.get_app, "nothing/here")
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.list_tasks, "nothing")


@exercises(AppsBackend.create_app, AppsBackend.get_app, AppsBackend.list_tasks)
async def test_an_app_is_deployed_as_specified(harness: Harness) -> None:
    spec = web(harness, instances=2)
    created = await harness.call(DEV, AppsBackend.create_app, spec)
    assert created.id == "shop/web"
    assert created.cluster == harness.cluster
    assert created.instances.desired == 2

    tasks = await running(harness, "shop/web", 2)
    assert len({t.id for t in tasks}) == 2
    app = await harness.call(DEV, AppsBackend.get_app, "shop/web")
    assert app.status == "running"
    assert app.image == harness.image
    assert app.args == harness.serve_forever
    assert app.env == {"MODE": "test", "EMPTY": ""}
    assert app.labels == {"team": "shop"}
    assert app.resources == ResourceLimits(cpus=0.1, mem=32)
    assert [p.container_port for p in app.ports] == [8080]
    assert app.created_at is not None


@exercises(AppsBackend.create_app)
async def test_a_taken_id_is_a_conflict(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=1))
    with pytest.raises(Conflict):
        await harness.call(DEV, AppsBackend.create_app, web(harness, instances=2))
    other = await harness.call(OPS, AppsBackend.create_app, web(harness, instances=1))
    assert other.id == "shop/web", "the same id in another namespace is another app"


@exercises(AppsBackend.create_app, AppsBackend.get_app)
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


@exercises(
    AppsBackend.create_app, AppsBackend.update_app, AppsBackend.get_app, AppsBackend.list_tasks
)
async def test_scaling_up_down_to_zero_and_back(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=1))
    await running(harness, "shop/web", 1)

    await harness.call(DEV, AppsBackend.update_app, "shop/web", AppPatch(instances=3))
    await running(harness, "shop/web", 3)

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

    await harness.call(DEV, AppsBackend.update_app, "shop/web", AppPatch(instances=1))
    await running(harness, "shop/web", 1)


@exercises(
    AppsBackend.create_app, AppsBackend.update_app, AppsBackend.get_app, AppsBackend.list_tasks
)
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


@exercises(AppsBackend.create_app, AppsBackend.restart_app, AppsBackend.list_tasks)
async def test_restart_replaces_every_instance(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=2))
    before = {t.id for t in await running(harness, "shop/web", 2)}

    await harness.call(DEV, AppsBackend.restart_app, "shop/web")

    async def replaced() -> bool:
        tasks = await running(harness, "shop/web", 2)
        return not ({t.id for t in tasks} & before)

    await settle(harness, replaced, "every instance replaced by a restart")


@exercises(AppsBackend.create_app, AppsBackend.delete_app, AppsBackend.get_app)
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


@exercises(
    AppsBackend.create_app,
    AppsBackend.update_app,
    AppsBackend.restart_app,
    AppsBackend.delete_app,
    AppsBackend.list_apps,
)
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
