"""The connection to the host: whether this Asgard may supervise the state folder, and
what the host is (its name, kernel, CPUs, memory, disk).

Supervising is the connection: only one Asgard process at a time may run a state
folder's processes, so the first to start takes an exclusive ``flock`` on
``<state_dir>/lock`` and keeps it until it closes. Another Asgard started on the same
folder logs why, and its operations fail with ``ClusterUnreachable`` naming the cluster,
as they do where the folder cannot be written. One-off commands (``asgard clusters
check``) never start supervision: a process they started would outlive them unwatched.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import structlog

from asgard.backends.contract import ClusterClient
from asgard.errors import ClusterUnreachable
from asgard_local.identities import Identities, named
from asgard_local.store import Store

__all__ = ["HostFacts", "LocalClient", "mem_total_mib"]

log = structlog.get_logger(__name__)

MiB = 1024 * 1024
MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class HostFacts:
    hostname: str
    kernel: str
    cpus: float
    mem_mib: float
    disk_mib: float


def mem_total_mib(meminfo: str) -> float:
    """``MemTotal:  24683652 kB`` -> MiB."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024
    return 0.0


def existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


class LocalClient(ClusterClient):
    def __init__(
        self, cluster: str, store: Store, attributes: dict[str, str], identities: Identities
    ) -> None:
        self.cluster = cluster
        self.store = store
        self.configured_attributes = dict(attributes)
        self.identities = identities
        self.run_as = identities.run_as
        self.problem: str | None = None
        """Why this Asgard cannot supervise the state folder, once it tried."""
        self._lock: int | None = None

    # supervision

    def connect(self) -> bool:
        """Take the state folder for this process; False (and ``problem`` says why) if not."""
        if self._lock is not None:
            return True
        self.problem = self._cannot_run_as()
        if self.problem is None:
            try:
                self.store.tighten()
                fd = os.open(self.store.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                self.problem = f"cannot use the state folder {self.store.root}: {exc}"
            else:
                self.problem = self._lock_with(fd)
        if self.problem is not None:
            log.error("cannot supervise the local cluster", cluster=self.cluster, why=self.problem)
        return self.problem is None

    def _cannot_run_as(self) -> str | None:
        if self.run_as is None:
            return None
        if os.geteuid() != 0:
            return f"run_as = '{self.run_as}' needs Asgard to run as root"
        try:
            named(self.run_as)
        except KeyError as exc:
            return f"run_as names no user or group of this host: {exc}"
        return None

    def _lock_with(self, fd: int) -> str | None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return (
                f"another Asgard process supervises {self.store.root} "
                f"(it holds {self.store.lock_file})"
            )
        os.truncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock = fd
        return None

    @property
    def connected(self) -> bool:
        return self._lock is not None

    def ensure(self) -> None:
        """Refuse operations while this Asgard does not supervise the state folder."""
        if self._lock is None:
            raise ClusterUnreachable(
                self.cluster,
                f"local cluster {self.cluster} is not supervised by this Asgard: "
                + (self.problem or "only a running Asgard server supervises its processes"),
            )

    def release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor drops the flock
            self._lock = None

    # the contract

    async def version(self) -> str:
        if self.problem is not None:
            raise ClusterUnreachable(self.cluster, f"local cluster {self.cluster}: {self.problem}")
        folder = existing_ancestor(self.store.root)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ClusterUnreachable(
                self.cluster, f"local cluster {self.cluster}: {folder} is not writable"
            )
        return f"local/{os.uname().release}"

    async def close(self) -> None:
        self.release()

    # the host

    def facts(self) -> HostFacts:
        disk = shutil.disk_usage(existing_ancestor(self.store.root)).total / MiB
        return HostFacts(
            hostname=socket.gethostname(),
            kernel=os.uname().release,
            cpus=float(os.cpu_count() or 1),
            mem_mib=mem_total_mib(MEMINFO.read_text()),
            disk_mib=disk,
        )

    def attributes(self) -> dict[str, str]:
        """The configured attributes and, over them, ``attributes.json`` (a null value
        removes one): read on every call, so an operator's change needs no restart."""
        merged = dict(self.configured_attributes)
        try:
            extra = json.loads(self.store.attributes_file.read_text())
        except (OSError, ValueError):
            extra = {}
        if isinstance(extra, dict):
            for key, value in extra.items():
                if value is None:
                    merged.pop(str(key), None)
                else:
                    merged[str(key)] = str(value)
        return merged
