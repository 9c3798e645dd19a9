"""Asgard as a user runs it: the ``asgard serve`` command in its own process, set up as its
CLI sets it up (user, account, API key), with a TOML file listing the clusters."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ASGARD = str(Path(sys.executable).with_name("asgard"))
NAMESPACE = "bench"


@dataclass
class RunningAsgard:
    url: str
    key: str
    pid: int
    log: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.key}"}

    def rss_mib(self) -> float:
        """Resident memory of the server process, as the kernel counts it."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for process {self.pid}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):  # a Mesos cluster's masters and Marathons
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def clusters_toml(clusters: Sequence[Mapping[str, Any]]) -> str:
    blocks = []
    for cluster in clusters:
        lines = ["[[clusters]]"] + [f"{k} = {toml_value(v)}" for k, v in cluster.items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _set_up(env: Mapping[str, str], role: str) -> str:
    """The user, the account and a key, made by what ``asgard db upgrade``, ``users
    create``, ``accounts create``, ``accounts add-user`` and ``tokens create`` run
    (``asgard.cli.admin``), in this process: as five commands they started five
    interpreters, about 1.5 s of CPU each, and tests set Asgard up dozens of times. It runs
    in a thread of its own, with a loop of its own, whoever calls it."""
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(_set_up_here, env, role).result()


def _set_up_here(env: Mapping[str, str], role: str) -> str:
    from asgard.cli.admin import add_user, create_account, create_token, create_user
    from asgard.db.engine import upgrade_sync
    from asgard.models import Role
    from asgard.settings import Settings

    settings = Settings(db_url=env["ASGARD_DB_URL"], data_dir=Path(env["ASGARD_DATA_DIR"]))
    upgrade_sync(settings.db_url)

    async def made() -> str:
        await create_user(settings, "bench@example.com", "Bench", False)
        await create_account(settings, "bench", NAMESPACE, None)
        await add_user(settings, "bench", "bench@example.com", Role(role))
        return await create_token(settings, "bench@example.com", "bench")

    return asyncio.run(made())


def set_up_database(db_url: str, role: str = "viewer") -> str:
    """Set up the database at ``db_url`` as a first start would (for a copy to be made
    of it: a PostgreSQL template, say); the key."""
    with tempfile.TemporaryDirectory(prefix="asgard-set-up-") as folder:
        env = {**os.environ, "ASGARD_DB_URL": db_url, "ASGARD_DATA_DIR": str(Path(folder))}
        return _set_up(env, role)


_SET_UP: dict[str, tuple[Path, str]] = {}
"""Per role, an SQLite file set up once by :func:`_set_up` and its key: tests start
Asgard dozens of times, and a copy of the file is the same database at no cost."""


def _copy_set_up_database(role: str, target: Path) -> str:
    if role not in _SET_UP:
        folder = Path(tempfile.mkdtemp(prefix=f"asgard-set-up-{role}-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        database = folder / "asgard.db"
        env = {
            **os.environ,
            "ASGARD_DB_URL": f"sqlite:///{database}",
            "ASGARD_DATA_DIR": str(folder / "data"),
        }
        _SET_UP[role] = (database, _set_up(env, role))
    database, key = _SET_UP[role]
    shutil.copyfile(database, target)
    return key


@dataclass
class _Started:
    process: subprocess.Popen[bytes]
    url: str
    key: str
    log: Path
    log_from: int
    """Where this start's lines begin in ``log`` (a folder's log is appended to)."""


def _start(
    folder: Path,
    clusters: Sequence[Mapping[str, Any]],
    role: str,
    key: str | None,
    settings: Mapping[str, str],
    db_url: str | None = None,
) -> _Started:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "clusters.toml").write_text(clusters_toml(clusters))
    port = free_port()
    env = {
        **os.environ,
        "ASGARD_DB_URL": db_url or f"sqlite:///{folder / 'asgard.db'}",
        "ASGARD_CONFIG": str(folder / "clusters.toml"),
        "ASGARD_DATA_DIR": str(folder / "data"),
        "ASGARD_PORT": str(port),
        "ASGARD_LOG_FORMAT": "json",
        **settings,
    }
    if key is None and db_url is None:  # a first start on SQLite: a copy of a set-up file
        key = _copy_set_up_database(role, folder / "asgard.db")
    elif key is None:
        key = _set_up(env, role)
    log = folder / "asgard.log"
    log_from = log.stat().st_size if log.exists() else 0
    with log.open("a") as output:
        process = subprocess.Popen(
            [ASGARD, "serve"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    return _Started(process, f"http://127.0.0.1:{port}", key, log, log_from)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.asynccontextmanager
async def running_asgard(
    folder: Path,
    clusters: Sequence[Mapping[str, Any]],
    *,
    role: str = "viewer",
    key: str | None = None,
    settings: Mapping[str, str] | None = None,
    db_url: str | None = None,
) -> AsyncIterator[RunningAsgard]:
    """Asgard on a free loopback port over an SQLite file in ``folder`` (or the database
    at ``db_url``); its log goes to ``folder/asgard.log``. Stopped (and waited for) on the
    way out. With ``key``, the folder is one Asgard already ran in: it starts again on what
    it left."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        started = await asyncio.to_thread(
            _start, folder, clusters, role, key, settings or {}, db_url
        )
        key = started.key  # a second attempt starts on what the first set up
        try:
            await _wait_for(started)
            break
        except PortTaken:
            if attempt == PORT_ATTEMPTS:
                raise
        except BaseException:
            await asyncio.to_thread(_stop, started.process)
            raise
    try:
        yield RunningAsgard(
            url=started.url, key=started.key, pid=started.process.pid, log=started.log
        )
    finally:
        await asyncio.to_thread(_stop, started.process)


class PortTaken(RuntimeError):
    """The free port found was taken by another process before Asgard bound it."""


PORT_ATTEMPTS = 3


async def _wait_for(started: _Started, limit_s: float = 60) -> None:
    url, process = started.url, started.process
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                said = (await asyncio.to_thread(started.log.read_bytes))[started.log_from :]
                told = said.decode(errors="replace")[-2000:]
                if "cannot listen on" in told:
                    raise PortTaken(told)
                raise RuntimeError(f"asgard serve exited with {process.returncode}: {told}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/health") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"asgard did not answer at {url} in {limit_s:g} s")
