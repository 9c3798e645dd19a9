"""``asgard events``, ``get --watch``, the exit codes, and shell completion."""

from __future__ import annotations

import json
import os
import select
import subprocess
from pathlib import Path

from testbed.asgard_process import RunningAsgard
from tests.cli.conftest import Cli, cli_env
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE


def read_line(process: subprocess.Popen[str], timeout_s: float = 30) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    assert ready, "no line came"
    return process.stdout.readline()


def deploy(cli: Cli, app_id: str) -> None:
    spec = {"id": app_id, "image": TEST_IMAGE, "args": SERVE_FOREVER, "instances": 0}
    (cli.cwd / f"{app_id}.json").write_text(json.dumps(spec))
    cli.ok("apps", "deploy", "-f", f"{app_id}.json")


def test_events_and_watch_follow_the_changes(cli: Cli) -> None:
    events = cli.start("events", "--kind", "app", "-o", "json", "--count", "1")
    watching = cli.start("get", "apps", "--watch")
    try:
        assert read_line(watching).split() == ["CLUSTER", "ID", "STATUS", "RUNNING", "IMAGE"]
        deploy(cli, "first")
        out, err = events.communicate(timeout=60)
        assert events.returncode == 0, err
        [line] = out.splitlines()
        event = json.loads(line)
        assert (event["kind"], event["cluster"], event["id"]) == ("app", "local", "first")
        assert event["change"] == "added"
        assert event["event_id"], "the id to resume from"

        added = read_line(watching).split()
        assert added[:3] == ["ADDED", "local", "first"]
        deploy(cli, "second")
        while (row := read_line(watching).split())[2] != "second":
            assert row[2] == "first", row  # the first app settling
        assert row[0] == "ADDED"
        assert watching.poll() is None, "--watch goes on"

        resumed = cli.ok(
            "events", "--kind", "app", "-o", "json", "-n", "1",
            "--last-event-id", event["event_id"],
        )  # fmt: skip
        assert json.loads(resumed.stdout)["id"] in ("first", "second"), "what came after it"
    finally:
        for process in (events, watching):
            if process.poll() is None:
                process.terminate()
            process.communicate(timeout=30)


def test_exit_codes(cli: Cli, served: RunningAsgard, tmp_path: Path) -> None:
    """As a shell sees them: each command a process of its own."""
    cli = cli.as_process()
    for usage in (
        ("get", "nothing"),
        ("apps", "deploy"),
        ("apps", "scale", "web", "many"),
        ("get", "apps", "--", "ls"),
        ("get", "scheduled-jobs", "--watch"),
        ("apps", "deploy", "-f", "missing.toml"),
        ("login", "--url", "localhost:4898"),
        ("get", "agents", "--attr", "zone"),
    ):
        done = cli.run(*usage)
        assert done.returncode == 2, (usage, done.stderr)
        assert "error" in done.stderr
        assert "Traceback" not in done.stderr

    missing = cli.run("apps", "scale", "nowhere", "2")
    assert missing.returncode == 1
    assert missing.stderr.startswith("asgard: ")
    assert "nowhere" in missing.stderr

    nobody = Cli(cli.cwd, cli_env(tmp_path, {}), process=True)
    unset = nobody.run("get", "apps")
    assert unset.returncode == 2
    assert "asgard login --url URL" in unset.stderr
    down = Cli(
        cli.cwd,
        cli_env(tmp_path, {"ASGARD_URL": "http://127.0.0.1:9", "ASGARD_TOKEN": "x"}),
        process=True,
    )
    unreachable = down.run("get", "apps")
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("asgard: http://127.0.0.1:9")


def test_the_shell_completes_the_command(cli: Cli, tmp_path: Path) -> None:
    script = cli.ok("completion", "bash").stdout
    assert "complete " in script
    assert "asgard" in script
    answer = tmp_path / "completions"
    env = {
        **cli.env,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_IFS": "\n",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
        "COMP_TYPE": "9",
    }
    for line, expected in (
        ("asgard ge", {"get"}),
        ("asgard get ", {"agents", "apps", "clusters", "jobs", "scheduled-jobs", "workflows"}),
        ("asgard apps ", {"deploy", "logs", "restart", "rollback", "scale", "versions"}),
    ):
        env.update(COMP_LINE=line, COMP_POINT=str(len(line)))
        subprocess.run(cli.command(), env=env, cwd=cli.cwd, check=True, timeout=60)
        assert set(answer.read_text().split()) >= expected, line
        os.unlink(answer)
