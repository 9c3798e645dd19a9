"""``asgard clusters add|set|show|remove`` against two real ``asgard serve`` processes
sharing one database (SQLite, then PostgreSQL): a cluster registered through one is
served by the other, its token kept encrypted and never printed; ``asgard clusters
rotate-key`` re-encrypts it, after which the old key can go; ``asgard clusters check``
asks the registered clusters beside the file's."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from asgard.cli.admin import check_clusters, create_token, create_user, rotate_cluster_keys
from asgard.cluster_keys import ClusterKeys, UnreadableSecrets, new_key
from asgard.db.engine import Database
from asgard.settings import Settings
from testbed.asgard_process import RunningAsgard, running_asgard
from testbed.kube import ApiServer, Emulator
from tests.cli.conftest import Cli, cli_env
from tests.support.kube_controllers import RESOURCES, Controllers
from tests.support.watching import eventually

TOKEN = "kube-token-that-stays-secret"
LAB = {"name": "lab", "kind": "local", "isolate_jobs": False, "stop_grace_s": 1}


@contextlib.asynccontextmanager
async def kube() -> AsyncIterator[str]:
    """The Kubernetes emulator on a real port, with one node: its URL."""
    import kmock

    async with (
        Emulator() as emulator,
        ApiServer(emulator) as server,
        aiohttp.ClientSession() as session,
    ):
        for resource in RESOURCES:
            emulator.resources[resource] = kmock.ResourceInfo()
        await Controllers(emulator, server.url, session).add_node("n1", cpu="2", memory="2Gi")
        yield server.url


async def listed_by(served: RunningAsgard) -> list[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{served.url}/clusters", headers={"Authorization": f"Token {served.key}"}
        ) as answer,
    ):
        return sorted(c["name"] for c in (await answer.json())["clusters"])


async def raw_rows(db_url: str) -> list[dict[str, Any]]:
    db = Database(Settings(db_url=db_url).db_url)
    try:
        async with db.session() as session:
            rows = (await session.execute(text("SELECT * FROM clusters"))).mappings().all()
            return [dict(r) for r in rows]
    finally:
        await db.close()


async def test_clusters_added_changed_and_removed_with_the_cli_reach_every_process(
    tmp_path: Path, db_url: str
) -> None:
    key = new_key()
    settings = {"ASGARD_CLUSTER_KEYS": key, "ASGARD_CLUSTERS_POLL_S": "0.3"}
    async with (
        kube() as url,
        running_asgard(tmp_path / "one", [LAB], db_url=db_url, settings=settings) as one,
        running_asgard(
            tmp_path / "two", [LAB], db_url=db_url, key=one.key, settings=settings
        ) as two,
    ):
        local = Settings(db_url=db_url, data_dir=tmp_path / "admin-data")
        await create_user(local, "root@example.com", "Root", True)
        admin_key = await create_token(local, "root@example.com", "cli")
        cli = Cli(tmp_path, cli_env(tmp_path, {"ASGARD_URL": one.url, "ASGARD_TOKEN": admin_key}))

        on_argv = ["--set", f"url={url}", "--set", f"token={TOKEN}"]
        refused = await asyncio.to_thread(
            cli.run, "clusters", "add", "--name", "k", "--kind", "kubernetes", *on_argv
        )
        assert refused.returncode == 2
        assert "never on the command line" in refused.stderr

        entry = tmp_path / "k.toml"
        entry.write_text(f'[[clusters]]\nname = "k"\nkind = "kubernetes"\nurl = "{url}"\n'
                         f'token = "{TOKEN}"\n')  # fmt: skip
        added = await asyncio.to_thread(
            cli.ok, "clusters", "add", "-f", str(entry), "--set", "timeout_s=5"
        )
        assert "cluster k (kubernetes) added, ok" in added.stdout
        assert TOKEN not in added.stdout + added.stderr

        async def served_by_two() -> bool:
            return await listed_by(two) == ["k", "lab"]

        await eventually(served_by_two, "k served by the other process", 15)
        [row] = await raw_rows(db_url)
        assert TOKEN not in json.dumps(row, default=str)

        await asyncio.to_thread(cli.ok, "clusters", "set", "k", "timeout_s=4")
        shown = json.loads(
            (await asyncio.to_thread(cli.ok, "clusters", "show", "k", "-o", "json")).stdout
        )
        assert shown["settings"]["token"] == "set"
        assert shown["settings"]["timeout_s"] == 4
        assert shown["source"] == "api"
        got = (await asyncio.to_thread(cli.ok, "get", "clusters", "-o", "wide")).stdout
        rows = {line.split()[0]: line.split() for line in got.splitlines()[1:]}
        assert rows["k"][-1] == "api"
        assert rows["lab"][-1] == "file"
        assert (
            await asyncio.to_thread(cli.run, "clusters", "remove", "lab")
        ).returncode == 1  # the file's: read-only

        await asyncio.to_thread(cli.ok, "clusters", "remove", "k")

        async def gone_from_two() -> bool:
            return await listed_by(two) == ["lab"]

        await eventually(gone_from_two, "k gone from the other process", 15)
        assert await raw_rows(db_url) == []
        for served in (one, two):
            assert TOKEN not in served.log.read_text()


async def check_sees_what_is_registered(tmp_path: Path, db_url: str, key: str) -> None:
    """``asgard clusters check`` asks the registered clusters too; one whose secrets it
    cannot open is a line of its report, and a failed check."""
    config = tmp_path / "clusters.toml"
    config.write_text('[[clusters]]\nname = "lab"\nkind = "local"\nisolate_jobs = false\n')

    def settings(keys: str) -> Settings:
        return Settings(
            db_url=db_url, config=config, data_dir=tmp_path / "check-data", cluster_keys=keys
        )

    report, healthy = await check_clusters(settings(key))
    lines = report.splitlines()
    assert healthy, report
    assert [line.split()[:3] for line in lines] == [
        ["k", "kubernetes", "ok"],
        ["lab", "local", "ok"],
    ]
    assert TOKEN not in report
    report, healthy = await check_clusters(settings(new_key()))
    assert not healthy
    assert report.splitlines()[0].startswith("k ")
    assert "cannot be read" in report.splitlines()[0]
    assert report.splitlines()[1].split()[:3] == ["lab", "local", "ok"]


async def test_rotate_key_re_encrypts_so_the_old_key_can_go(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    db_url = f"sqlite:///{tmp_path / 'asgard.db'}"
    settings = {"ASGARD_CLUSTER_KEYS": old, "ASGARD_CLUSTERS_POLL_S": "0.3"}
    async with (
        kube() as url,
        running_asgard(tmp_path / "one", [LAB], db_url=db_url, settings=settings) as one,
    ):
        local = Settings(db_url=db_url, data_dir=tmp_path / "admin-data")
        await create_user(local, "root@example.com", "Root", True)
        admin_key = await create_token(local, "root@example.com", "cli")
        cli = Cli(tmp_path, cli_env(tmp_path, {"ASGARD_URL": one.url, "ASGARD_TOKEN": admin_key}))
        adding = ["clusters", "add", "--name", "k", "--kind", "kubernetes", "--set", f"url={url}"]
        await asyncio.to_thread(
            lambda: cli.ok(*adding, "-f", "-", input=json.dumps({"token": TOKEN}))
        )
        [before] = await raw_rows(db_url)
        await check_sees_what_is_registered(tmp_path, db_url, old)

    rotated = Settings(db_url=db_url, cluster_keys=f"{new},{old}", data_dir=tmp_path / "d")
    assert "of 1 registered clusters" in await rotate_cluster_keys(rotated)
    [after] = await raw_rows(db_url)
    assert after["secrets"] != before["secrets"]
    assert after["updated_at"] == before["updated_at"]

    only_new = {"ASGARD_CLUSTER_KEYS": new}
    async with running_asgard(
        tmp_path / "one", [LAB], db_url=db_url, key=one.key, settings=only_new
    ) as again:
        assert await listed_by(again) == ["k", "lab"]  # its API server is gone: unreachable
        assert "cannot be served" not in again.log.read_text()
    with pytest.raises(UnreadableSecrets, match="not in ASGARD_CLUSTER_KEYS"):
        ClusterKeys(old).decrypt(after["secrets"])
