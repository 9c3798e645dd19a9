"""What the client reads of the past: an app's versions (and a rollback to one), and the
audit log, against Asgard on a real socket over a real Docker Engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from asgard import client as c
from asgard.client import AuditFilter
from asgard.models.audit import AuditOutcome
from tests.client.conftest import Site
from tests.client.test_client import app


async def test_versions_and_rollback(site: Site) -> None:
    async with site.client() as asgard:
        await asgard.apps.create(app("web", instances=0, env={"V": "1"}))
        await asgard.apps.update("local", "web", {"env": {"V": "2"}})
        versions = await asgard.apps.versions("local", "web")
        assert [v.spec_field("env") for v in versions] == [{"V": "2"}, {"V": "1"}], "newest first"
        assert {v.by for v in versions} == {"dev@example.com"}
        oldest = await asgard.apps.version("local", "web", versions[-1].id)
        assert (oldest.id, oldest.spec_field("env")) == (versions[-1].id, {"V": "1"})
        back = await asgard.apps.rollback("local", "web")
        assert back.env == {"V": "1"}, "by default, the previous version"
        forth = await asgard.apps.rollback("local", "web", versions[0].id)
        assert forth.env == {"V": "2"}
        with pytest.raises(c.NotFound):
            await asgard.apps.version("local", "web", "no-such-version")


async def test_the_audit_log_in_pages_and_filtered(site: Site) -> None:
    async with site.client() as asgard:
        await asgard.apps.create(app("web", instances=0))
        with pytest.raises(c.Conflict):
            await asgard.apps.create(app("web", instances=0))
        me = (await asgard.users.me()).user
        with pytest.raises(c.Forbidden):
            await asgard.audit.page()  # an operator, not the account's admin
    since = datetime.now(UTC) - timedelta(minutes=5)
    async with site.client(site.admin) as root:
        where = AuditFilter(resource="app", user=me.id, since=since)
        entries = [e async for e in root.audit.all(where)]
        assert [(e.action, e.outcome, e.status) for e in entries] == [
            ("create", AuditOutcome.REFUSED, 409),
            ("create", AuditOutcome.SUCCEEDED, 201),
        ], "newest first"
        assert {(e.cluster, e.id) for e in entries} == {("local", "web")}
        first = await root.audit.page(where, limit=1)
        assert first.total == 2
        assert first.next_cursor is not None
        assert [e async for e in root.audit.all(AuditFilter(action="delete", user=me.id))] == []
