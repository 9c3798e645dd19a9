"""Who an account's processes run as, and the folders they may write.

When Asgard runs as root, every account namespace gets a uid (and a gid of the same
number) of its own, ``uid_base + n``, so one account's apps and jobs can neither read
another's files nor signal its processes. ``n`` comes from a small allocation table in
the state folder (``uids.json``), written before the first process of the namespace
starts: a namespace keeps its uid across restarts, and a number once given is never given
to another namespace, even after the first is gone, so files a removed account left can
never be inherited. A hash of the name could collide; the table cannot.

``run_as`` (one user for every account) is kept for hosts that want it, and documented as
not separating accounts. Without root, processes run as Asgard's own user: switching
users needs root.

A folder a process writes (an instance's home, a job's ``input`` and ``output``, a
workflow's folders) belongs to its identity and is ``0700``; the folders above it are
Asgard's, and only let others pass through (``0711``), so a process reaches its own
folder by its path and lists nothing of anybody else's.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from asgard.errors import ClusterFailure
from asgard_local.store import PRIVATE, pass_through, write_text

__all__ = ["OWN", "Identities", "Identity", "hand_over", "named", "own_folder"]

OWN: Final = 0o700


@dataclass(frozen=True)
class Identity:
    """The ids a process runs with."""

    uid: int
    gid: int
    groups: tuple[int, ...] = ()


def named(user: str) -> Identity:
    """``name`` or ``name:group`` of this host; ``KeyError`` when there is none."""
    name, _, group = user.partition(":")
    entry = pwd.getpwnam(name)
    gid = grp.getgrnam(group).gr_gid if group else entry.pw_gid
    return Identity(entry.pw_uid, gid, tuple(os.getgrouplist(name, gid)))


def own_folder(folder: Path, identity: Identity | None) -> Path:
    """``folder``, made if missing, ``0700`` and its identity's (Asgard's when None)."""
    pass_through(folder.parent)
    folder.mkdir(mode=OWN, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        if identity is not None:
            os.fchown(fd, identity.uid, identity.gid)
        os.fchmod(fd, OWN)
    finally:
        os.close(fd)
    return folder


def hand_over(folder: Path, identity: Identity | None) -> None:
    """Everything under ``folder`` (which Asgard alone wrote) given to ``identity``: a job's
    input is unpacked while only Asgard can write there, so no link can be slipped in."""
    if identity is None:
        return
    for top, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            os.chown(os.path.join(top, name), identity.uid, identity.gid, follow_symlinks=False)
    os.chown(folder, identity.uid, identity.gid, follow_symlinks=False)


class Identities:
    """The identity of each namespace's processes, on one host."""

    def __init__(
        self,
        table: Path,
        *,
        run_as: str | None,
        base: int,
        count: int,
        cluster: str,
        root: bool | None = None,
    ) -> None:
        self.table = table
        self.run_as = run_as
        self.base = base
        self.count = count
        self.cluster = cluster
        self.root = os.geteuid() == 0 if root is None else root
        self._given: dict[str, int] | None = None

    @property
    def per_account(self) -> bool:
        """Whether each namespace runs as a uid of its own."""
        return self.root and self.run_as is None

    def of(self, namespace: str) -> Identity | None:
        """Who ``namespace``'s processes run as; None: as Asgard's own user."""
        if self.run_as is not None:
            return named(self.run_as)
        if not self.root:
            return None
        uid = self.base + self._offset(namespace)
        return Identity(uid, uid)

    def sample(self) -> Identity | None:
        """An identity like those processes get, for the isolation probe: the range's last
        number, which goes to a namespace only once every other has."""
        if self.run_as is not None:
            try:
                return named(self.run_as)
            except KeyError:  # the client refuses to supervise, and says why
                return None
        if not self.root:
            return None
        last = self.base + self.count - 1
        return Identity(last, last)

    def _offset(self, namespace: str) -> int:
        given = self._load()
        if namespace in given:
            return given[namespace]
        offset = max(given.values(), default=-1) + 1
        if offset >= self.count:
            raise ClusterFailure(
                self.cluster,
                f"local cluster {self.cluster} has no uid left for namespace '{namespace}' "
                f"(uid_count = {self.count})",
            )
        given[namespace] = offset
        write_text(self.table, json.dumps(given, sort_keys=True), PRIVATE)
        return offset

    def _load(self) -> dict[str, int]:
        if self._given is None:
            try:
                found = json.loads(self.table.read_text())
            except FileNotFoundError:
                found = {}
            except (OSError, ValueError) as exc:  # never guess: a guess could share a uid
                raise ClusterFailure(
                    self.cluster, f"local cluster {self.cluster}: {self.table} is unreadable: {exc}"
                ) from None
            self._given = {str(k): int(v) for k, v in found.items()}
        return self._given
