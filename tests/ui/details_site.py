"""What the detail page and action tests share: Asgard in this process over a real Docker
Engine (``local``) and a cluster whose engine is gone (``gone``), with an operator and a
viewer, each logged in on the login page as a browser would be."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.models import Role
from tests.conftest import StartAsgard, backend_context, build
from tests.support.asgard import Caller
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon
from tests.ui.ui_client import Browser, browser

__all__ = ["Site", "deployed", "finished_job", "site", "text_of", "until"]

SETTLE_S = 60
DEAD_DOCKER = "unix:///nonexistent/asgard-test/docker.sock"


@dataclass
class Site:
    operator: Caller
    viewer: Caller
    ops: Browser
    view: Browser


@pytest.fixture
async def site(
    start_asgard: StartAsgard, engine: DockerDaemon, tmp_path: Path
) -> AsyncIterator[Site]:
    """Asgard over the engine (``local``) and a cluster whose engine is gone (``gone``)."""
    data_dir = tmp_path / "data"
    context = backend_context(data_dir)
    local = await build(
        DockerClusterConfig(name="local", url=engine.url, job_retention_s=3600), context
    )
    gone = await build(DockerClusterConfig(name="gone", url=DEAD_DOCKER, timeout_s=1), context)
    asgard = await start_asgard(
        Orchestrator([local, gone]),
        data_dir=data_dir,
        workflow_tick_s=0.2,
        scheduler_tick_s=0.2,
        history_interval_s=0.2,
        reconcile_s=3600,
    )
    account = await asgard.account("dev")
    operator = await asgard.caller("ops@example.com", roles={account.id: Role.OPERATOR})
    viewer = await asgard.caller("view@example.com", roles={account.id: Role.VIEWER})
    yield Site(operator, viewer, await browser(operator), await browser(viewer))
    await local.close()
    await gone.close()


async def until(what: str, check: Any, timeout_s: float = SETTLE_S) -> Any:
    """Poll ``check`` (an async callable) until it gives something true."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.3)


async def deployed(site: Site, app_id: str = "web", instances: int = 1) -> dict[str, Any]:
    spec = {"cluster": "local", "id": app_id, "image": TEST_IMAGE, "args": SERVE_FOREVER}
    await site.operator.json("POST", "/apps", 201, json={**spec, "instances": instances})

    async def running() -> dict[str, Any] | None:
        app = (await site.operator.json("GET", f"/clusters/local/apps/{app_id}"))["app"]
        return app if app["instances"]["running"] == instances else None

    found: dict[str, Any] = await until(f"{app_id} runs", running)
    return found


async def finished_job(site: Site, script: str = "echo hello from the job") -> dict[str, Any]:
    spec = {
        "cluster": "local",
        "name": "report",
        "image": TEST_IMAGE,
        "command": ["sh", "-c", script],
    }
    job_id = (await site.operator.json("POST", "/jobs", 201, json=spec))["job"]["id"]

    async def done() -> dict[str, Any] | None:
        job = (await site.operator.json("GET", f"/clusters/local/jobs/{job_id}"))["job"]
        return job if job["status"]["state"] in ("succeeded", "failed") else None

    found: dict[str, Any] = await until(f"job {job_id} ends", done)
    return found


def text_of(page: str) -> str:
    """The page as a reader sees its words: tags dropped, entities decoded, spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
