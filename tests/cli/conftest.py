"""A real ``asgard serve`` in its own process over a real Docker Engine, and the
``asgard`` command run against it as a user runs it: a subprocess, with its own config
folder, its output read from pipes.

One ``asgard serve`` per module (starting one takes seconds); each test gets a user and
an account of its own on it (its own namespace on the engine), made as ``asgard users
create``, ``accounts create``, ``accounts add-user`` and ``tokens create`` make them, so
that what one test deploys never shows in another's lists."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

import pytest
import pytest_asyncio

from asgard.cli.admin import add_user, create_account, create_token, create_user
from asgard.models import Role
from asgard.settings import Settings
from testbed.asgard_process import RunningAsgard, running_asgard
from tests.support.cli_runner import run_in_process, runs_here
from tests.support.dockerd import DockerDaemon
from tests.support.resources import shared

ASGARD = [sys.executable, "-m", "asgard"]
FAST = {"ASGARD_WORKFLOW_TICK_S": "0.2", "ASGARD_RECONCILE_S": "3600"}


@dataclass
class Cli:
    """The ``asgard`` command, with ``ASGARD_URL`` and ``ASGARD_TOKEN`` set unless a test
    logs in instead. Run in the test's process (``tests/support/cli_runner.py``: the same
    code, without half a second of interpreter and imports per command); as a process of
    its own with ``process``, from an async test or another thread, and always for
    ``start``."""

    cwd: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)
    """Not in reprs: it holds a key, and a failing test's report is a log too."""
    process: bool = False

    def command(self, *args: str) -> list[str]:
        return [*ASGARD, *args]

    def as_process(self) -> Cli:
        """The same command, each run a process of its own, as a user's shell runs it."""
        return replace(self, process=True)

    def run(
        self, *args: str, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        if not self.process and runs_here():
            return run_in_process(args, cwd=self.cwd, env=self.env, input=input)
        return subprocess.run(
            self.command(*args),
            cwd=self.cwd,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        done = self.run(*args, input=input)
        assert done.returncode == 0, f"asgard {' '.join(args)}: {done.returncode} {done.stderr}"
        return done

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def cli_env(tmp_path: Path, extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASGARD_")}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        COLUMNS="200",
        **extra,
    )
    return env


SERVED: Final = "server"
"""The folder of the module's ``asgard serve``: its database, data and log."""
_NAMES = itertools.count(1)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
@shared("module")
async def served(
    engine_daemon: DockerDaemon, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningAsgard]:
    """``asgard serve`` on the engine as cluster ``local``, for the module; its key is an
    operator's (of the account ``bench``)."""
    clusters = [
        {"name": "local", "kind": "docker", "url": engine_daemon.url, "job_retention_s": 3600}
    ]
    folder = tmp_path_factory.mktemp("served") / SERVED
    async with running_asgard(folder, clusters, role="operator", settings=FAST) as running:
        yield running


async def new_operator(served: RunningAsgard) -> tuple[str, str]:
    """A user operating an account of its own on the module's server: its e-mail and key.
    Made in the server's database, as the ``asgard`` admin commands make them."""
    folder = served.log.parent
    settings = Settings(db_url=f"sqlite:///{folder / 'asgard.db'}", data_dir=folder / "data")
    name = f"t{next(_NAMES)}"
    email = f"{name}@example.com"
    await create_user(settings, email, name.upper(), False)
    await create_account(settings, name, name, None)
    await add_user(settings, name, email, Role.OPERATOR)
    return email, await create_token(settings, email, "cli")


@pytest.fixture
async def cli(served: RunningAsgard, engine: DockerDaemon, tmp_path: Path) -> Cli:
    """The command as an operator of an account of the test's own, on the module's server
    (the engine cleaned, as every test of the engine finds it)."""
    work = tmp_path / "work"
    work.mkdir()
    _, key = await new_operator(served)
    return Cli(work, cli_env(tmp_path, {"ASGARD_URL": served.url, "ASGARD_TOKEN": key}))
