"""Jobs' ``/input`` and ``/output``: how a command finds its files at those literal paths
without anything being made at the host's root.

A job runs in fresh mount and PID namespaces (util-linux's ``unshare`` makes the first,
``launcher.py`` the second), through ``launcher.py``, which builds it a root of its own: the host's
files, read-only, with a private ``/tmp`` and ``/dev/shm``, the state folder and
Asgard's data hidden, and the job's folders bound at ``/input`` and ``/output``. A root
Asgard does it directly; any other user does it in a user namespace of its own where
the kernel allows one (``--map-root-user``).

Whether that works here is found once, when the cluster is built, by running a job
that reads ``/input`` and writes ``/output``. Where it does not (no ``unshare``, no
namespaces in a container), jobs still run, in their own folder with no ``/input`` or
``/output``, and the cluster's capabilities say so: an input zip or a workflow's
folders are refused with ``NotSupported``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import structlog

from asgard_local.commands import DEFAULT_PATH, process_env
from asgard_local.identities import Identity, hand_over, own_folder

__all__ = ["LAUNCHER", "Isolation", "hidden_paths", "probe"]

log = structlog.get_logger(__name__)

LAUNCHER = Path(__file__).with_name("launcher.py")
PROBE_TIMEOUT_S = 15.0
SIDE_FILES: Final = ("-wal", "-shm", "-journal")
"""What SQLite keeps beside a database, with parts of it."""
HOST_FOLDERS: Final = frozenset(
    {
        "/",
        *("/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media"),
        *("/mnt", "/opt", "/proc", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr"),
        *("/usr/local", "/var", "/var/lib", "/var/tmp", "/var/local", "/var/opt"),
    }
)
"""Folders a job needs, or that hold far more than Asgard's files: never hidden whole."""
PROBE_SCRIPT = 'test "$(cat /input/probe)" = asked && : > /tmp/t && echo done > /output/probe'


@dataclass(frozen=True)
class Isolation:
    available: bool
    reason: str = ""
    """Why jobs cannot have their own /input and /output, when they cannot."""
    unshare: str = "unshare"
    user_namespace: bool = False
    hidden: tuple[str, ...] = field(default=())

    def wrap(
        self,
        argv: list[str],
        *,
        root: Path,
        input_dir: Path,
        output_dir: Path,
        user: Identity | None,
    ) -> list[str]:
        """``argv`` as run by the launcher; ``root`` is an empty folder to build it in."""
        namespaces = ["--user", "--map-root-user"] if self.user_namespace else []
        launcher = [
            sys.executable,
            "-I",
            "-S",
            str(LAUNCHER),
            "--root",
            str(root),
            "--input",
            str(input_dir),
            "--output",
            str(output_dir),
            *(f"--hide={path}" for path in self.hidden),
            *(_identity_options(user) if user is not None else []),
            "--",
        ]
        return [
            self.unshare,
            *namespaces,
            "--mount",
            "--propagation",
            "private",
            *launcher,
            *argv,
        ]


def _identity_options(user: Identity) -> list[str]:
    return [
        f"--uid={user.uid}",
        f"--gid={user.gid}",
        f"--groups={','.join(str(g) for g in user.groups)}",
    ]


async def _try(candidate: Isolation, user: Identity | None) -> str | None:
    """Run the probe job with ``candidate``; None when it worked, else what went wrong."""
    with tempfile.TemporaryDirectory(prefix="asgard-local-probe-") as folder:
        base = Path(folder)
        root, given, made = base / "root", base / "input", base / "output"
        for path in (root, given, made):
            path.mkdir()
        (given / "probe").write_text("asked")
        own_folder(made, user)
        hand_over(given, user)
        argv = candidate.wrap(
            ["sh", "-c", PROBE_SCRIPT], root=root, input_dir=given, output_dir=made, user=user
        )
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=process_env("/tmp", {}),
                start_new_session=True,
            )
        except OSError as exc:
            return str(exc)
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                said, _ = await process.communicate()
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            return f"the probe did not end in {PROBE_TIMEOUT_S:g} s"
        if process.returncode == 0 and (made / "probe").is_file():
            return None
        return said.decode(errors="replace").strip() or f"exit code {process.returncode}"


def hidden_paths(kept: Sequence[Path], files: Sequence[Path]) -> list[str]:
    """What jobs may not see: the ``kept`` folders and files (the state folder, Asgard's
    data, what the operator names), and Asgard's own ``files`` (its SQLite database with
    its journals, its clusters file) with the folder of each, unless that folder is one
    of the host's own (``/etc``...), which jobs need: the files alone are hidden then."""
    found = [os.path.realpath(p) for p in kept]
    for path in files:
        real = os.path.realpath(path)
        found.extend([real, *(real + suffix for suffix in SIDE_FILES)])
        folder = os.path.dirname(real)
        if folder not in HOST_FOLDERS:
            found.append(folder)
    return list(dict.fromkeys(found))


async def probe(user: Identity | None, hidden: list[str]) -> Isolation:
    """Whether jobs can have their own /input and /output on this host, and how."""
    unshare = shutil.which("unshare", path=DEFAULT_PATH)
    if unshare is None:
        return Isolation(False, "util-linux's unshare is not installed")
    candidate = Isolation(
        True,
        unshare=unshare,
        user_namespace=os.geteuid() != 0,
        hidden=tuple(hidden),
    )
    if user is not None and candidate.user_namespace:
        return Isolation(False, "run_as needs Asgard to run as root")
    problem = await _try(candidate, user)
    if problem is not None:
        log.warning("jobs get no /input and /output on this host", why=problem)
        return Isolation(False, f"cannot isolate jobs on this host: {problem}")
    return candidate
