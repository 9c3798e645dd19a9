"""The configuration of a ``local`` cluster: which folder it keeps its state in, and how
the processes it starts run.

A local cluster exists only when a ``[[clusters]]`` entry names it (the kind offers no
default), because it runs commands on the machine Asgard itself runs on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import Field

from asgard.backends.registry import BackendContext, ClusterConfig

KIND: Final = "local"
AGENT_TYPE: Final = "LOCAL"


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
        description="The user (optionally 'user:group') every process runs as, e.g. "
        "'nobody'; Asgard's own user when absent. Needs Asgard to run as root",
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

    def state_path(self, context: BackendContext) -> Path:
        """The state folder, absolute: processes run in other working directories."""
        chosen = self.state_dir or context.data_dir / "local" / self.name
        return chosen.expanduser().absolute()
