"""Starting and stopping: a failure while starting stops what had started, last first."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web

from asgard.server import create_app
from asgard.services.bootstrap import Bootstrapped
from tests.conftest import make_settings

BACKGROUND = {"workflows", "scheduler", "reconciler", "feed-lab", "cache-lab", "resync-lab"}


def running_tasks() -> set[str]:
    current = asyncio.current_task()
    return {t.get_name() for t in asyncio.all_tasks() if not t.done() and t is not current}


async def test_a_failure_while_starting_stops_everything_that_had_started(
    tmp_path: Path, sqlite_url: str
) -> None:
    clusters = tmp_path / "asgard.toml"
    clusters.write_text('[[clusters]]\nname = "lab"\nkind = "static"\nagents = [{ id = "a1" }]\n')
    settings = make_settings(tmp_path, sqlite_url, config=clusters)
    before = running_tasks()
    at_failure: set[str] = set()

    def announce(_created: Bootstrapped) -> None:
        at_failure.update(running_tasks())
        raise RuntimeError("the first administrator's key could not be shown")

    runner = web.AppRunner(create_app(settings, announce=announce))
    with pytest.raises(RuntimeError, match="could not be shown"):
        await runner.setup()
    assert at_failure >= BACKGROUND, "every subsystem had started when the last one failed"
    await runner.cleanup()
    assert running_tasks() - before == set(), "and every one of them was stopped"
