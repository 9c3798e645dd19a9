"""``asgard apps deploy|scale|restart|logs`` against a running ``asgard serve``."""

from __future__ import annotations

import json
import select
import time
from typing import Any

from tests.cli.conftest import Cli
from tests.support.dockerd import TEST_IMAGE

APP_TOML = f"""
id = "web"
image = "{TEST_IMAGE}"
args = ["sh", "-c", "echo hello from the app; trap 'exit 0' TERM; sleep 3600 & wait"]
instances = 1

[env]
GREETING = "hi"
"""


def app_of(cli: Cli, app_id: str) -> dict[str, Any]:
    apps = json.loads(cli.ok("get", "apps", "-o", "json").stdout)
    [found] = [a for a in apps if a["id"] == app_id]
    return dict(found)


def wait_running(cli: Cli, app_id: str, instances: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = app_of(cli, app_id)
        if found["instances"]["running"] == instances:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{app_id} never had {instances} running")


def test_deploy_scale_restart_and_logs(cli: Cli) -> None:
    (cli.cwd / "web.toml").write_text(APP_TOML)
    created = cli.ok("apps", "deploy", "-f", "web.toml")
    assert created.stdout.startswith("app web created on local ("), "the only cluster is used"
    wait_running(cli, "web", 1)

    (cli.cwd / "web.yaml").write_text(
        f"id: web\ncluster: local\nimage: {TEST_IMAGE}\ninstances: 2\n"
        "args: [sh, -c, \"echo hello from the app; trap 'exit 0' TERM; sleep 3600 & wait\"]\n"
    )
    updated = cli.ok("apps", "deploy", "-f", "web.yaml", "-o", "json")
    assert json.loads(updated.stdout)["instances"]["desired"] == 2, "it exists: updated"
    wait_running(cli, "web", 2)

    scaled = cli.ok("apps", "scale", "web", "1", "--cluster", "local")
    assert scaled.stdout.startswith("app web scaled on local")
    wait_running(cli, "web", 1)
    assert cli.ok("apps", "restart", "web").stdout.startswith("app web restarted on local")
    wait_running(cli, "web", 1)

    deadline = time.monotonic() + 30
    while "hello from the app" not in (logs := cli.ok("apps", "logs", "web").stdout):
        assert time.monotonic() < deadline, logs
        time.sleep(0.5)

    following = cli.start("apps", "logs", "web", "-f", "--tail", "5")
    try:
        assert following.stdout is not None
        ready, _, _ = select.select([following.stdout], [], [], 30)
        assert ready, "a line comes while the command goes on"
        assert "hello from the app" in following.stdout.readline()
        assert following.poll() is None, "with -f the command keeps following"
    finally:
        following.terminate()
        following.wait(timeout=30)


def test_a_spec_file_that_cannot_be_read_is_a_usage_error(cli: Cli) -> None:
    (cli.cwd / "broken.toml").write_text("id = \n")
    broken = cli.run("apps", "deploy", "-f", "broken.toml")
    assert broken.returncode == 2
    assert "broken.toml is not valid TOML, YAML or JSON" in broken.stderr
    (cli.cwd / "bad.json").write_text(json.dumps({"id": "Bad_Id", "image": TEST_IMAGE}))
    refused = cli.run("apps", "deploy", "-f", "bad.json")
    assert refused.returncode == 1, "the server refuses it: an error from Asgard"
    assert refused.stderr.startswith("asgard: ")
    assert "must be DNS labels" in refused.stderr
    assert "field id" in refused.stderr


def test_logs_of_every_task_merged_and_of_one(cli: Cli) -> None:
    (cli.cwd / "pair.toml").write_text(
        APP_TOML.replace('id = "web"', 'id = "pair"').replace("instances = 1", "instances = 2")
    )
    cli.ok("apps", "deploy", "-f", "pair.toml")
    wait_running(cli, "pair", 2)

    deadline = time.monotonic() + 30
    while True:
        merged = cli.ok("apps", "logs", "pair", "--all-tasks").stdout.splitlines()
        said = [line for line in merged if line.endswith(" | hello from the app")]
        if len(said) == 2:
            break
        assert time.monotonic() < deadline, merged
        time.sleep(0.5)
    tasks = {line.split(" | ", 1)[0] for line in said}
    assert len(tasks) == 2, "each line is labelled with its own task"

    one = sorted(tasks)[0]
    alone = cli.ok("apps", "logs", "pair", "--task", one).stdout
    assert "hello from the app" in alone
    assert sorted(tasks)[1] not in alone, "one task's log is that task's only"
    later = cli.ok("apps", "logs", "pair", "--since", "2999-01-01T00:00:00Z").stdout
    assert "hello from the app" not in later, "nothing was said after a time to come"
    unknown = cli.run("apps", "logs", "pair", "--task", "no-such-task")
    assert unknown.returncode == 1, "an error from Asgard"
    assert "has no task 'no-such-task'" in unknown.stderr, "Asgard's message, on stderr"
