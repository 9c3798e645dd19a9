"""Old entries go: past ``audit_retention_days`` an entry is removed by the retention loop,
which one process among all sharing the database runs, by lease."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from asgard.db.tables import AuditRow, LeaseRow
from asgard.models.base import utc_now
from tests.audit.site import audited_site, rid
from tests.conftest import StartAsgard
from tests.support.watching import eventually


async def test_entries_past_the_retention_are_removed_and_the_others_kept(
    start_asgard: StartAsgard, db_url: str
) -> None:
    settings = {"audit_retention_days": 30, "audit_prune_s": 0.2}
    async with audited_site(start_asgard, db_url, **settings) as site:
        second = await start_asgard(site.asgard.orchestrator, db_url=db_url, **settings)
        for name in ("old", "older", "recent", "new"):
            body = {"name": name}
            await site.operator.json("POST", "/users/me/tokens", 201, json=body, headers=rid(name))
        assert (await site.entries())["total"] == 4
        ages = {"old": 31, "older": 400, "recent": 29}
        async with site.asgard.db.writing() as session:
            for name, days in ages.items():
                await session.execute(
                    update(AuditRow)
                    .where(AuditRow.request_id == name)
                    .values(at=utc_now() - timedelta(days=days))
                )

        async def pruned() -> list[str]:
            found = await site.by_request()
            return sorted(found) if len(found) == 2 else []

        assert await eventually(pruned, "the old entries removed", 10.0) == ["new", "recent"]
        async with second.db.session() as session:
            holders = (
                await session.scalars(
                    select(LeaseRow.holder).where(LeaseRow.name == "audit-retention")
                )
            ).all()
        assert len(holders) == 1, "one process holds the retention's lease"
