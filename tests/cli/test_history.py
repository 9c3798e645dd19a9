"""``asgard apps versions|rollback`` and ``asgard audit`` against a running ``asgard serve``,
as an admin of its account (who may read the account's audit log)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from testbed.asgard_process import running_asgard
from tests.cli.conftest import FAST, Cli, cli_env
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon


@pytest.fixture
async def admin(engine: DockerDaemon, tmp_path: Path) -> AsyncIterator[Cli]:
    clusters = [{"name": "local", "kind": "docker", "url": engine.url}]
    async with running_asgard(tmp_path / "server", clusters, role="admin", settings=FAST) as served:
        env = {"ASGARD_URL": served.url, "ASGARD_TOKEN": served.key}
        yield Cli(tmp_path, cli_env(tmp_path, env))


def deploy(cli: Cli, version: str) -> None:
    spec = {
        "id": "web",
        "image": TEST_IMAGE,
        "args": SERVE_FOREVER,
        "instances": 0,
        "env": {"V": version},
    }
    (cli.cwd / "web.json").write_text(json.dumps(spec))
    cli.ok("apps", "deploy", "-f", "web.json")


def test_versions_rollback_and_the_audit_log(admin: Cli) -> None:
    deploy(admin, "1")
    deploy(admin, "2")
    table = admin.ok("apps", "versions", "web").stdout.splitlines()
    assert table[0].split() == ["VERSION", "CREATED", "BY", "IMAGE", "INSTANCES"]
    assert len(table) == 3
    assert "bench@example.com" in table[1]
    versions = json.loads(admin.ok("apps", "versions", "web", "-o", "json").stdout)
    assert [v["spec"]["env"] for v in versions] == [{"V": "2"}, {"V": "1"}], "newest first"

    back = admin.ok("apps", "rollback", "web")
    assert back.stdout.startswith("app web rolled back to the previous version on local")
    assert json.loads(admin.ok("get", "apps", "-o", "json").stdout)[0]["env"] == {"V": "1"}
    newest = versions[0]["id"]
    forth = admin.ok("apps", "rollback", "web", "--version", newest, "-o", "json")
    assert json.loads(forth.stdout)["env"] == {"V": "2"}
    unknown = admin.run("apps", "rollback", "web", "--version", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("asgard: ")

    audit = admin.ok("audit").stdout.splitlines()
    assert audit[0].split()[:4] == ["AT", "USER", "ACCOUNT", "CLUSTER"]
    entries = json.loads(admin.ok("audit", "-o", "json", "--resource", "app").stdout)
    actions = [(e["action"], e["outcome"]) for e in entries]
    assert actions[0] == ("rollback", "refused"), "newest first; the unknown version too"
    assert actions[-1] == ("create", "succeeded")
    assert {e["id"] for e in entries} == {"web"}
    since = entries[0]["at"]
    latest = json.loads(admin.ok("audit", "-o", "json", "--since", since).stdout)
    assert [e["request_id"] for e in latest] == [entries[0]["request_id"]]
    assert json.loads(admin.ok("audit", "-o", "json", "--action", "delete").stdout) == []
    assert admin.run("audit", "--since", "yesterday").returncode == 2
