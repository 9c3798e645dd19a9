"""Secrets that must not leave Asgard, and requests its parser refuses, on ``asgard serve``
itself: the command a user runs, its JSON log read from its file."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from asgard.http.refusals import MESSAGE
from asgard.settings import ConfigError, Settings
from testbed.asgard_process import ASGARD, RunningAsgard, running_asgard
from tests.support.remote import Api
from tests.support.resources import shared
from tests.support.watching import eventually

SECRET = "secret"
"""The password, token and query value of every down cluster's entry below."""
DOWN = "http://user:secret@127.0.0.1:1/"
CLUSTERS: list[dict[str, Any]] = [
    {"name": "local", "kind": "local", "isolate_jobs": False, "stop_grace_s": 1},
    {"name": "kube", "kind": "kubernetes", "url": DOWN + "?access_token=secret", "timeout_s": 2},
    {
        "name": "mesos",
        "kind": "mesos",
        "mesos_urls": [DOWN + "?token=secret"],
        "marathon_urls": [DOWN + "?access_token=secret"],
        "chronos_url": DOWN + "?password=secret",
        "timeout_s": 2,
    },
    {"name": "docker", "kind": "docker", "url": "tcp://user:secret@127.0.0.1:1", "timeout_s": 2},
]
DOWN_CLUSTERS = {"kube", "mesos", "docker"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
@shared("module")
async def asgard(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningAsgard]:
    """One server for the module: each test reads the log lines written since it began."""
    async with running_asgard(tmp_path_factory.mktemp("served") / "asgard", CLUSTERS) as running:
        yield running


def log_lines(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if line.strip()]


async def test_cluster_errors_carry_no_credentials(asgard: RunningAsgard) -> None:
    async with aiohttp.ClientSession() as session:
        api = Api.of(session, asgard)
        agents = await api.ok("GET", "/agents")
        assert {e["cluster"] for e in agents["errors"]} == DOWN_CLUSTERS, agents["errors"]
        by_cluster = {e["cluster"]: e["msg"] for e in agents["errors"]}
        assert "127.0.0.1" in by_cluster["mesos"], "the endpoint is still named, bare"
        for path in ("/agents", "/apps", "/jobs", "/scheduled-jobs", "/clusters?probe=true"):
            answer = await api.call("GET", path)
            assert answer.status == 200, (path, answer.text)
            assert SECRET not in answer.text, (path, answer.text)

        async def all_known_down() -> bool:
            clusters = (await api.ok("GET", "/clusters"))["clusters"]
            return {c["name"] for c in clusters if c["status"] == "unreachable"} == DOWN_CLUSTERS

        await eventually(all_known_down, "every down cluster shown down by /clusters", 30)
        clusters = await api.call("GET", "/clusters")
        assert SECRET not in clusters.text, clusters.text
        down = [c for c in clusters.body["clusters"] if c["name"] in DOWN_CLUSTERS]
        assert all(c["error"] for c in down), down
        single = await api.call("GET", "/clusters/mesos/apps/web")
        assert single.status in (502, 504), single.text
        assert SECRET not in single.text
    lines = log_lines(asgard.log)
    assert any("kube" in line and "unreachable" in line for line in lines), "failures logged"
    assert not [line for line in lines if SECRET in line]


async def send_raw(url: str, request: bytes) -> bytes:
    """``request`` as given, on a connection of its own; what came back before it closed."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


REFUSED = {
    "a NUL in a header": b"GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n",
    "an 8 KB URL": b"GET /health?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "a bad request line": b"GET /health HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    "a bad version": b"GET /health HTTP/7.3\r\nHost: x\r\n\r\n",
    "a header without a colon": b"GET /health HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n",
}


@pytest.mark.parametrize("what", list(REFUSED))
async def test_a_request_the_parser_refuses_is_one_warning_line(
    asgard: RunningAsgard, what: str
) -> None:
    before = len(log_lines(asgard.log))
    answer = await send_raw(asgard.url, REFUSED[what])
    assert answer.split(b" ", 2)[1] == b"400", answer[:200]

    async def logged() -> bool:
        return any(MESSAGE in line for line in log_lines(asgard.log)[before:])

    await eventually(logged, f"the refusal of {what} logged", 10)
    health_url = f"{asgard.url}/health"  # the server goes on answering
    async with aiohttp.ClientSession() as session, session.get(health_url) as health:
        assert health.status == 200
    new = log_lines(asgard.log)[before:]
    refusals = [json.loads(line) for line in new if MESSAGE in line]
    assert len(refusals) == 1, new
    assert refusals[0]["level"] == "warning"
    assert "exception" not in refusals[0]
    assert "\n" not in refusals[0]["event"]
    assert not [line for line in new if "Traceback" in line or '"level": "error"' in line], new


def serve_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``asgard serve`` with these settings, which must not get as far as serving."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return subprocess.run(
        [ASGARD, "serve"],
        env={
            **os.environ,
            "ASGARD_DB_URL": f"sqlite:///{tmp_path / 'asgard.db'}",
            "ASGARD_DATA_DIR": str(tmp_path / "data"),
            "ASGARD_PORT": str(port),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_short_secret_key_in_production_refuses_to_start(tmp_path: Path) -> None:
    short = "short-but-not-32-bytes-k3y"
    done = serve_with(tmp_path, ASGARD_ENV="production", ASGARD_SECRET_KEY=short)
    assert done.returncode == 1, done.stderr
    assert "ASGARD_SECRET_KEY is too short: at least 32 bytes" in done.stderr
    assert "Traceback" not in done.stderr
    assert short not in done.stderr + done.stdout
    assert not (tmp_path / "asgard.db").exists(), "refused before anything was done"


@pytest.mark.parametrize("key", ["k" * 32, "é" * 16, "k" * 64])
def test_a_key_of_32_bytes_or_more_is_taken_in_production(tmp_path: Path, key: str) -> None:
    """Bytes, not characters: what guessing it costs."""
    settings = Settings(env="production", secret_key=key, data_dir=tmp_path)
    assert settings.signing_key() == key


@pytest.mark.parametrize("key", ["k" * 31, "é" * 15 + "k"])
def test_a_key_under_32_bytes_is_refused_in_production_only(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError, match="at least 32 bytes") as refused:
        Settings(env="production", secret_key=key, data_dir=tmp_path).signing_key()
    assert key not in str(refused.value)
    assert Settings(secret_key=key, data_dir=tmp_path).signing_key() == key, "development"
