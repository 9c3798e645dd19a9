"""Versions and rollback: what every kind must get right, as Asgard serves it.

The history a kind keeps is joined with Asgard's record of what it deployed, so these
checks run the apps service over the cluster under test and a database of their own: a
kind that keeps no history (a single engine) passes through Asgard's record, one that
keeps its own through that, and every kind must tell who deployed what.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from asgard.backends.contract import AppsBackend
from asgard.db.engine import Database, upgrade
from asgard.errors import NotFound
from asgard.models import AppPatch, Role, User
from asgard.services.apps import AppsService
from asgard.services.principal import Principal
from asgard.testing.harness import Harness
from asgard.testing.writes import DEV, running, web


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
    url = f"sqlite+aiosqlite:///{folder / 'versions.db'}"
    await upgrade(url)
    db = Database(url)
    try:
        yield AppsService(harness.orchestrator, db)
    finally:
        await db.close()


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
