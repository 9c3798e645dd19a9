"""The fleet page's counts of apps and jobs, over the ``local`` kind (processes on this
host: no server): apps running, jobs running and failed in the last 24 hours, and a job
Asgard started that vanished from its cluster, which counts as failed as the jobs list
says it is."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from asgard_local.config import LocalClusterConfig

from asgard.backends.contract import JobsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.backends.registry import BackendContext
from asgard.clusters import assemble
from asgard.events import EventHub
from asgard.models import Account, Role
from tests.conftest import StartAsgard
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.watching import eventually
from tests.ui.test_pages_http import rows
from tests.ui.ui_client import Browser, browser


@dataclass
class Local:
    asgard: AsgardUnderTest
    orchestrator: Orchestrator
    account: Account
    operator: Caller
    viewer: Browser


@pytest.fixture
async def local(start_asgard: StartAsgard, tmp_path: Path) -> AsyncIterator[Local]:
    config = LocalClusterConfig(name="local", state_dir=tmp_path / "local-state")
    hub = EventHub()
    cluster = await assemble(config, BackendContext.local(tmp_path / "data", "secret"), hub)
    orchestrator = Orchestrator([cluster])
    asgard = await start_asgard(orchestrator, hub=hub)
    team = await asgard.account("team")
    operator = await asgard.caller("op@example.com", roles={team.id: Role.OPERATOR})
    viewer = await asgard.caller("v@example.com", roles={team.id: Role.VIEWER})
    yield Local(asgard, orchestrator, team, operator, await browser(viewer))
    await orchestrator.close()


def counts(html: str) -> list[int]:
    """The local line's apps running and failing, jobs running and failed (24 h)."""
    (line,) = rows(html, "fleet-table")
    return [int(n) for n in re.findall(r'state=(?:running|failing|failed)">(\d+)</a>', line)]


async def test_apps_and_jobs_are_counted_and_a_vanished_job_is_failed(local: Local) -> None:
    app = {"cluster": "local", "id": "web", "image": "host", "cmd": ["sleep", "60"]}
    await local.operator.json("POST", "/apps", 201, json=app)
    made = {}
    for name, command in (("busy", ["sleep", "30"]), ("bad", ["sh", "-c", "exit 3"])):
        job = {"cluster": "local", "name": name, "image": "host", "command": command}
        made[name] = await local.operator.json("POST", "/jobs", 201, json=job)

    async def settled() -> bool:
        return counts(await local.viewer.page("/ui/")) == [1, 0, 1, 1]

    await eventually(settled, "web running, busy running, bad failed", 30)
    html = await local.viewer.page("/ui/")
    assert '<span class="value" id="total-jobs-running">1</span>' in html
    assert '<span id="total-jobs-failed">1</span>' in html

    gone = {"cluster": "local", "name": "gone", "image": "host", "command": ["sleep", "30"]}
    created = await local.operator.json("POST", "/jobs", 201, json=gone)
    job_id = created["job"]["id"] if "job" in created else created["id"]
    # removed behind Asgard's back: the cluster no longer has it, Asgard's record says it ran
    await local.orchestrator.call(local.account, "local", JobsBackend.delete_job, job_id)

    async def vanished() -> bool:
        return counts(await local.viewer.page("/ui/")) == [1, 0, 1, 2]

    await eventually(vanished, "the vanished job counted as failed", 30)
    jobs = (await local.operator.json("GET", "/jobs?cluster=local"))["jobs"]
    failed = {j["name"] for j in jobs if j["status"]["state"] == "failed"}
    assert failed == {"bad", "gone"}, "the jobs list says the same"
    busy = made["busy"]["job"]["id"] if "job" in made["busy"] else made["busy"]["id"]
    for path in ("/clusters/local/apps/web", f"/clusters/local/jobs/{busy}"):
        await local.operator.json("DELETE", path, 204)
