"""Versions and rollback: what every kind must get right, as Asgard serves it.

The history a kind keeps is joined with Asgard's record of what it deployed, so these
checks run the apps service over the cluster under test and a database of their own: a
kind that keeps no history (a single engine) passes through Asgard's record, one that
keeps its own through that, and every kind must tell who deployed what.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from asgard.backends.contract import AppsBackend
from asgard.errors import Conflict, InvalidValue, NotFound
from asgard.models import App, AppPatch, Role, User
from asgard.models.version import spec_of
from asgard.services.apps import AppsService
from asgard.services.principal import Principal
from asgard.testing.common import DEV, database, running, settle, web
from asgard.testing.coverage import exercises
from asgard.testing.harness import Harness

__all__ = [
    "ANA",
    "BEN",
    "test_a_rollback_deploys_the_previous_version",
    "test_a_rollback_during_a_change_is_refused_or_supersedes_it",
    "test_a_version_asgard_cannot_say_is_listed_and_refused",
    "test_the_first_version_is_what_runs",
    "test_versions_say_who_deployed_them",
]


def operator(user_id: int, email: str) -> Principal:
    """An operator of the account the kit's apps live in."""
    return Principal(
        user=User(id=user_id, name=email.split("@")[0], email=email),
        account=DEV,
        role=Role.OPERATOR,
    )


ANA = operator(1, "ana@example.com")
BEN = operator(2, "ben@example.com")


@asynccontextmanager
async def apps_service(harness: Harness, folder: Path) -> AsyncIterator[AppsService]:
    """The apps service over the cluster under test and a database of its own in
    ``folder`` (SQLite, migrated as Asgard migrates its own)."""
    async with database(folder) as db:
        yield AppsService(harness.orchestrator, db)


@exercises(
    AppsBackend.create_app,
    AppsBackend.update_app,
    AppsBackend.app_versions,
    AppsBackend.app_version,
)
async def test_the_first_version_is_what_runs(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=1))
    await running(harness, "shop/web", 1)
    await harness.call(DEV, AppsBackend.update_app, "shop/web", AppPatch(env={"MODE": "prod"}))
    await running(harness, "shop/web", 1)

    versions = await harness.call(DEV, AppsBackend.app_versions, "shop/web")
    assert versions, "at least the version that runs"
    first = versions[0]
    assert first.spec.env == {"MODE": "prod"}
    assert first.spec.image == harness.image
    assert first.spec.instances == 1
    assert first.unsupported is None
    assert len({v.id for v in versions}) == len(versions), "ids name one version each"
    assert await harness.call(DEV, AppsBackend.app_version, "shop/web", first.id) == first
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.app_version, "shop/web", "no-such-version")
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.app_versions, "shop/nothing")


@exercises(
    AppsBackend.create_app,
    AppsBackend.update_app,
    AppsBackend.app_versions,
    AppsBackend.app_version,
)
async def test_versions_say_who_deployed_them(harness: Harness, tmp_path: Path) -> None:
    async with apps_service(harness, tmp_path) as apps:
        await apps.create(ANA, web(harness, instances=1))
        await running(harness, "shop/web", 1)
        await apps.update(BEN, harness.cluster, "shop/web", AppPatch(env={"MODE": "prod"}))
        await running(harness, "shop/web", 1)

        versions = await apps.versions(ANA, harness.cluster, "shop/web")
        assert [v.spec.env for v in versions[:2]] == [{"MODE": "prod"}, web(harness).env]
        assert [v.by for v in versions[:2]] == ["ben@example.com", "ana@example.com"]
        assert all(v.created_at is not None for v in versions[:2])
        assert versions[0].created_at >= versions[1].created_at  # type: ignore[operator]
        one = await apps.version(ANA, harness.cluster, "shop/web", versions[1].id)
        assert one.spec == versions[1].spec
        assert one.by == "ana@example.com"
        with pytest.raises(NotFound):
            await apps.version(ANA, harness.cluster, "shop/web", "no-such-version")


@exercises(AppsBackend.create_app, AppsBackend.app_versions, AppsBackend.rollback_app)
async def test_a_rollback_deploys_the_previous_version(harness: Harness, tmp_path: Path) -> None:
    async with apps_service(harness, tmp_path) as apps:
        await apps.create(ANA, web(harness, instances=1))
        await running(harness, "shop/web", 1)
        await apps.update(
            ANA, harness.cluster, "shop/web", AppPatch(env={"MODE": "prod"}, instances=2)
        )
        await running(harness, "shop/web", 2)

        app = await apps.rollback(BEN, harness.cluster, "shop/web", None)
        assert app.env == web(harness).env
        await running(harness, "shop/web", 1)
        now = await apps.get(ANA, harness.cluster, "shop/web")
        assert now.env == web(harness).env
        assert now.instances.desired == 1

        versions = await apps.versions(ANA, harness.cluster, "shop/web")
        assert versions[0].spec.env == web(harness).env
        assert versions[0].by == "ben@example.com"
        prod = next(v for v in versions if v.spec.env == {"MODE": "prod"})
        again = await apps.rollback(ANA, harness.cluster, "shop/web", prod.id)
        assert again.env == {"MODE": "prod"}
        await running(harness, "shop/web", 2)
        with pytest.raises(NotFound):
            await apps.rollback(ANA, harness.cluster, "shop/web", "no-such-version")


@exercises(AppsBackend.create_app, AppsBackend.update_app, AppsBackend.rollback_app)
async def test_a_rollback_during_a_change_is_refused_or_supersedes_it(
    harness: Harness, tmp_path: Path
) -> None:
    """A rollback asked while a change rolls is refused with 409 where the kind refuses
    while a deployment is in progress (a single engine, Marathon, the local kind), or
    supersedes the change (Kubernetes, Swarm): either way, every write answered is one the
    app ends as, and one refused left nothing of itself."""
    async with apps_service(harness, tmp_path) as apps:
        await apps.create(ANA, web(harness, instances=1))
        await running(harness, "shop/web", 1)
        await apps.update(ANA, harness.cluster, "shop/web", AppPatch(env={"MODE": "b"}))
        await running(harness, "shop/web", 1)

        change = asyncio.create_task(
            apps.update(ANA, harness.cluster, "shop/web", AppPatch(env={"MODE": "c"}))
        )
        await asyncio.sleep(0)  # the change is asked first
        back: App | BaseException
        try:
            back = await apps.rollback(BEN, harness.cluster, "shop/web", None)
        except Conflict as refused:
            back = refused
        changed: App | BaseException
        try:
            changed = await change
        except Conflict as refused:
            changed = refused
        answered = [a.env for a in (changed, back) if isinstance(a, App)]
        assert answered, "at least one of the two writes is done"

        async def settled() -> bool:
            now = await harness.call(DEV, AppsBackend.get_app, "shop/web")
            return now.env in answered and now.instances.running == 1

        await settle(harness, settled, f"the app running as one of {answered}")
        if isinstance(back, Conflict):
            now = await harness.call(DEV, AppsBackend.get_app, "shop/web")
            assert now.env == {"MODE": "c"}, "a refused rollback changed nothing"


@pytest.mark.hook("unsayable")
@exercises(AppsBackend.create_app, AppsBackend.app_versions, AppsBackend.rollback_app)
async def test_a_version_asgard_cannot_say_is_listed_and_refused(
    harness: Harness, tmp_path: Path
) -> None:
    """The cluster runs a version Asgard cannot deploy (changed behind its back): it is
    listed, saying why, beside the one Asgard deployed, and a rollback to it is refused
    with 422 on ``version``, the app left as it runs."""
    async with apps_service(harness, tmp_path) as apps:
        await apps.create(ANA, web(harness, instances=1))
        await running(harness, "shop/web", 1)
        await harness.unsayable("dev", "shop/web")
        await running(harness, "shop/web", 1)
        before = await apps.get(ANA, harness.cluster, "shop/web")

        versions = await apps.versions(ANA, harness.cluster, "shop/web")
        odd = [v for v in versions if v.unsupported]
        assert odd, "the version Asgard cannot say is listed"
        assert any(v.by == "ana@example.com" for v in versions), "and the one Asgard deployed"
        with pytest.raises(InvalidValue) as refused:
            await apps.rollback(BEN, harness.cluster, "shop/web", odd[0].id)
        assert refused.value.details[0].field == "version"
        assert str(odd[0].unsupported) in refused.value.msg
        now = await apps.get(ANA, harness.cluster, "shop/web")
        assert spec_of(now) == spec_of(before), "nothing changed"
