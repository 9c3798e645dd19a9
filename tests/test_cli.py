"""The ``asgard`` command as a newcomer uses it: serve on the embedded default, then manage."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.cli_runner import run_in_process, runs_here
from tests.support.dockerd import DockerDaemon

KEY_RE = re.compile(r"asg_[a-z0-9]+_[A-Za-z0-9_-]+")
ASGARD = [sys.executable, "-m", "asgard"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Workspace:
    """A folder to run ``asgard`` in, as a user would: SQLite and data land here."""

    cwd: Path
    env: dict[str, str]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``asgard ARGS`` here: in the test's process (``run_in_process``) but for
        ``serve``, which is a process of its own as a user starts it."""
        if args[0] != "serve" and runs_here():
            done = run_in_process(args, cwd=self.cwd, env=self.env)
        else:
            done = subprocess.run(
                [*ASGARD, *args],
                cwd=self.cwd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        if check:
            assert done.returncode == 0, f"asgard {' '.join(args)}: {done.stderr}"
        return done


@pytest.fixture
def workspace(tmp_path: Path, engine: DockerDaemon, third_party_backend: Path) -> Workspace:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASGARD_")}
    root = str(Path(__file__).resolve().parents[1])
    env.update(
        DOCKER_HOST=engine.url,
        ASGARD_PORT=str(free_port()),
        PYTHONPATH=os.pathsep.join([root, str(third_party_backend)]),
    )
    return Workspace(cwd=tmp_path, env=env)


@dataclass
class Server:
    url: str
    key: str
    output: str


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    process = subprocess.Popen(
        [*ASGARD, "serve"],
        cwd=workspace.cwd,
        env=workspace.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while not any("Try:" in line for line in lines) and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise AssertionError(
                f"asgard serve exited: {process.stderr.read() if process.stderr else ''}"
            )
        lines.append(line)
    output = "".join(lines)
    assert not KEY_RE.search(output), "stdout is no terminal: the key is not printed"
    found = re.search(r"Their API key is in (\S+) \(readable only by this user\)", output)
    assert found is not None, output
    key_file = Path(found.group(1))
    assert key_file == workspace.cwd / "asgard-data" / "first-admin-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    assert KEY_RE.fullmatch(key)
    url = f"http://127.0.0.1:{workspace.env['ASGARD_PORT']}"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(
                ("127.0.0.1", int(workspace.env["ASGARD_PORT"])), timeout=1
            ):
                break
        except OSError:
            time.sleep(0.1)
    yield Server(url=url, key=key, output=output)
    process.terminate()
    rest, errors = process.communicate(timeout=30)
    assert key not in errors + rest, "the key is never logged"
    assert str(key_file) in errors + rest, "the log names the file"


def test_at_a_terminal_the_first_key_is_shown_once_and_kept_nowhere(
    workspace: Workspace,
) -> None:
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [*ASGARD, "serve"],
        cwd=workspace.cwd,
        env=workspace.env,
        stdout=secondary,
        stderr=subprocess.DEVNULL,
    )
    os.close(secondary)
    seen = b""
    deadline = time.monotonic() + 30
    try:
        while b"Try:" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1)
            if ready:
                seen += os.read(primary, 4096)
    finally:
        process.terminate()
        process.wait(timeout=30)
        os.close(primary)
    text = seen.decode(errors="replace")
    assert "shown this once" in text
    assert KEY_RE.search(text), "a person at a terminal sees the key"
    assert not (workspace.cwd / "asgard-data" / "first-admin-key").exists()


async def get(url: str, key: str) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Authorization": f"Token {key}"}) as r,
    ):
        return r.status, await r.json()


async def test_serve_on_the_embedded_default_lists_the_local_engine(
    server: Server, engine: DockerDaemon
) -> None:
    info = json.loads(engine.cli("info", "--format", "{{json .}}"))
    status, body = await get(f"{server.url}/agents", server.key)
    assert status == 200
    agents = body["agents"]
    assert isinstance(agents, list)
    [agent] = agents
    assert agent["cluster"] == "local"
    assert agent["resources"]["cpus"] == info["NCPU"]
    assert agent["resources"]["mem"] == pytest.approx(info["MemTotal"] / 2**20)
    status, health = await get(f"{server.url}/health", server.key)
    assert (status, health) == (200, {"status": "ok"})
    assert f"{server.url}/agents" in server.output, "the hint names the port it serves on"


def test_users_accounts_and_keys_from_the_command_line(
    server: Server, workspace: Workspace
) -> None:
    assert (
        "created user"
        in workspace.run("users", "create", "--email", "ana@example.com", "--name", "Ana").stdout
    )
    assert (
        "created account"
        in workspace.run(
            "accounts", "create", "--name", "payments", "--namespace", "payments", "--owner", "pay"
        ).stdout
    )
    workspace.run(
        "accounts",
        "add-user",
        "--account",
        "payments",
        "--email",
        "ana@example.com",
        "--role",
        "operator",
    )
    printed = workspace.run("tokens", "create", "--email", "ana@example.com").stdout
    assert KEY_RE.fullmatch(printed.strip()), "the key alone on stdout"

    status, me = asyncio.run(get(f"{server.url}/users/me", printed.strip()))
    assert status == 200
    current = me["current_account"]
    assert isinstance(current, dict)
    assert (current["name"], current["role"], current["owner"]) == ("payments", "operator", "pay")

    duplicate = workspace.run(
        "users", "create", "--email", "ana@example.com", "--name", "Ana", check=False
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr
    missing = workspace.run("tokens", "create", "--email", "nobody@example.com", check=False)
    assert missing.returncode == 1
    assert "no user with e-mail" in missing.stderr


def test_clusters_check_reports_each_cluster(workspace: Workspace, engine: DockerDaemon) -> None:
    default = workspace.run("clusters", "check")
    assert re.search(r"^local\s+docker\s+ok\s+version \S+\s+[\d.]+ ms$", default.stdout.strip())

    config = workspace.cwd / "asgard.toml"
    config.write_text(
        f"""
[[clusters]]
name = "here"
kind = "docker"
url = "{engine.url}"

[[clusters]]
name = "gone"
kind = "docker"
url = "unix:///tmp/no-such-docker.sock"
timeout_s = 2
"""
    )
    report = workspace.run("clusters", "check", "--config", str(config), check=False)
    assert report.returncode == 1
    lines = report.stdout.strip().splitlines()
    assert lines[0].startswith("gone")
    assert "unreachable" in lines[0]
    assert lines[1].startswith("here")
    assert " ok " in lines[1]


def test_a_bad_clusters_file_is_a_clear_error(workspace: Workspace) -> None:
    config = workspace.cwd / "bad.toml"
    config.write_text('[[clusters]]\nname = "x"\nkind = "nomad"\n')
    done = workspace.run("clusters", "check", "--config", str(config), check=False)
    assert done.returncode == 1
    assert "unknown cluster kind 'nomad'" in done.stderr
    assert "Traceback" not in done.stderr


def test_db_upgrade_creates_the_schema(workspace: Workspace) -> None:
    assert workspace.run("db", "upgrade").stdout.strip() == "database is up to date"
    assert (workspace.cwd / "asgard.db").exists()


def test_production_refuses_to_start_without_a_secret_key(workspace: Workspace) -> None:
    workspace.env["ASGARD_ENV"] = "production"
    done = workspace.run("serve", check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == "asgard: ASGARD_SECRET_KEY is required when ASGARD_ENV=production"


def test_a_port_another_process_holds_is_one_line_at_once(tmp_path: Path) -> None:
    """Nothing starts (no cluster is asked, no lease taken) when the port is not Asgard's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASGARD_")}
    with socket.create_server(("127.0.0.1", 0)) as held:
        port = held.getsockname()[1]
        env.update(ASGARD_PORT=str(port), DOCKER_HOST=f"unix://{tmp_path}/no.sock")
        done = subprocess.run(
            [*ASGARD, "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1
    assert f"asgard: cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "asgard started" not in done.stderr + done.stdout
