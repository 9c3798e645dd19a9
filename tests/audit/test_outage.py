"""A database that does not answer loses audit entries, never the writes they record: the
write's own outcome decides its answer, and a warning names the entries lost (by request
id, never by what the request carried). Once the database is back, recording goes on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.audit.site import audited_site, rid
from tests.conftest import StartAsgard
from tests.support.postgres import Postgres, start_postgres
from tests.support.resources import needs
from tests.support.watching import eventually

SECRET = "env-s3cr3t-during-the-outage"


@pytest.fixture
@needs("postgres")
def postgres() -> Iterator[Postgres]:
    """A server of this test's own: the test stops it (the session's one is shared)."""
    server = start_postgres()
    yield server
    server.stop()


async def test_a_write_while_the_database_is_down_is_answered_and_its_entry_lost(
    start_asgard: StartAsgard, postgres: Postgres, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres.new_database()
    async with audited_site(start_asgard, url, auth_cache_s=600) as site:
        op = site.operator
        await op.json("POST", "/apps", 201, json={"cluster": "k8s", "id": "web", "image": "x"})
        await op.json("GET", "/apps")  # the caller's key and memberships are cached now
        assert (await site.entries())["total"] == 1, "the create's entry is written"
        capsys.readouterr()
        postgres.stop_server()
        try:
            patch = {"instances": 2, "env": {"PASSWORD": SECRET}}
            await op.json("PATCH", "/clusters/k8s/apps/web", json=patch, headers=rid("in-outage"))

            said = ""

            async def warned() -> str:
                nonlocal said
                said += capsys.readouterr().out
                return said if "in-outage app update 200" in said else ""

            await eventually(warned, "a warning that the entry was lost", 10.0)
            assert "audit entries lost" in said
            assert SECRET not in said
        finally:
            postgres.start_server()
        await op.json("POST", "/clusters/k8s/apps/web/restart", headers=rid("after"))
        entries = await site.by_request()
        assert "after" in entries
        assert "in-outage" not in entries
