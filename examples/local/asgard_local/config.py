"""The configuration of a ``local`` cluster: which folder it keeps its state in, and how
the processes it starts run.

A local cluster exists only when a ``[[clusters]]`` entry names it (the kind offers no
default), because it runs commands on the machine Asgard itself runs on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import Field, model_validator

from asgard.backends.registry import BackendContext, ClusterConfig

KIND: Final = "local"
AGENT_TYPE: Final = "LOCAL"
MAX_UID: Final = 2**31 - 1
"""Ids past it read as negative to some tools."""


class LocalClusterConfig(ClusterConfig):
    kind: Literal["local"] = "local"
    state_dir: Path | None = Field(
        None,
        description="Where apps, jobs, their logs and files are kept; "
        "<data dir>/local/<cluster name> when absent. One Asgard process at a time may "
        "supervise it",
    )
    attributes: dict[str, str] = Field(
        default_factory=dict,
        description="The host agent's attributes (e.g. owner); <state_dir>/attributes.json "
        "adds to them and is read again on every call",
    )
    run_as: str | None = Field(
        None,
        description="The user (optionally 'user:group') every process of every account runs "
        "as, e.g. 'nobody', instead of a uid per account: accounts are then not kept from "
        "one another's files and processes. Needs Asgard to run as root",
    )
    uid_base: int = Field(
        1_900_000_000,
        ge=1000,
        description="When Asgard runs as root (and run_as is absent), each account namespace "
        "runs as a uid and gid of its own, from uid_base up, allocated in "
        "<state_dir>/uids.json; the default lies in a range hosts leave unused",
    )
    uid_count: int = Field(
        65536, ge=1, description="How many uids from uid_base: the most namespaces this host runs"
    )
    hide: list[Path] = Field(
        default_factory=list,
        description="More files and folders jobs may not see, beside those hidden always "
        "(the state folder, Asgard's data folder, its SQLite database's and its clusters "
        "file's folders): e.g. the key files other clusters' entries name",
    )
    isolate_jobs: bool = Field(
        True,
        description="Run each job in mount and PID namespaces of its own, with /input and "
        "/output, where the host allows it; false runs jobs as plain processes, which then "
        "take no files",
    )
    stop_grace_s: float = Field(
        10.0,
        ge=0,
        description="How long a process may take to end after SIGTERM before it is killed",
    )

    @model_validator(mode="after")
    def _uids_fit(self) -> LocalClusterConfig:
        if self.uid_base + self.uid_count > MAX_UID:
            raise ValueError(f"uid_base + uid_count must not pass {MAX_UID}")
        return self

    def state_path(self, context: BackendContext) -> Path:
        """The state folder, absolute: processes run in other working directories."""
        chosen = self.state_dir or context.data_dir / "local" / self.name
        return chosen.expanduser().absolute()
