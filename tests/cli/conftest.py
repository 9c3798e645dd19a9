"""A real ``asgard serve`` in its own process over a real Docker Engine, and the
``asgard`` command run against it as a user runs it: a subprocess, with its own config
folder, its output read from pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from testbed.asgard_process import RunningAsgard, running_asgard
from tests.support.dockerd import DockerDaemon

ASGARD = [sys.executable, "-m", "asgard"]
FAST = {"ASGARD_WORKFLOW_TICK_S": "0.2", "ASGARD_RECONCILE_S": "3600"}


@dataclass
class Cli:
    """The ``asgard`` command, with ``ASGARD_URL`` and ``ASGARD_TOKEN`` set unless a test
    logs in instead."""

    cwd: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)
    """Not in reprs: it holds a key, and a failing test's report is a log too."""

    def command(self, *args: str) -> list[str]:
        return [*ASGARD, *args]

    def run(
        self, *args: str, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
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


@pytest.fixture
async def served(engine: DockerDaemon, tmp_path: Path) -> AsyncIterator[RunningAsgard]:
    """``asgard serve`` on the engine as cluster ``local``; its key is an operator's."""
    clusters = [{"name": "local", "kind": "docker", "url": engine.url, "job_retention_s": 3600}]
    async with running_asgard(
        tmp_path / "server", clusters, role="operator", settings=FAST
    ) as running:
        yield running


@pytest.fixture
def cli(served: RunningAsgard, tmp_path: Path) -> Cli:
    work = tmp_path / "work"
    work.mkdir()
    return Cli(work, cli_env(tmp_path, {"ASGARD_URL": served.url, "ASGARD_TOKEN": served.key}))
