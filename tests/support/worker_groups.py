"""pytest-xdist's ``--dist loadgroup``, with the groups handed to the controller directly.

xdist tells its controller a test's group by appending ``@group`` to the test's id on the
worker, which pytest 9.2 no longer lets a plugin do (pytest-dev/pytest-xdist#1386): the
tests of a group were spread over the workers as if unmarked, each worker starting the
Swarm or the module's server again. Here the controller gives each worker a folder
(``configure_node``), each worker writes there the group of every test it collected
(``record``), and the controller's scheduler reads them when it splits the work.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Final

import pytest
from xdist.scheduler import LoadGroupScheduling

__all__ = ["GroupScheduling", "configure", "configure_node", "record", "scheduler", "unconfigure"]

FOLDER: Final = "asgard_groups_folder"
"""The key of the folder in a worker's ``workerinput``."""
_FOLDER = pytest.StashKey[Path]()


def configure(config: pytest.Config) -> None:
    """On the controller of a distributed run: the folder the workers write to."""
    if not hasattr(config, "workerinput") and config.getoption("dist", "no") != "no":
        config.stash[_FOLDER] = Path(tempfile.mkdtemp(prefix="asgard-xdist-groups-"))


def unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def configure_node(node: Any) -> None:
    """Tell a worker where to write its groups."""
    folder = node.config.stash.get(_FOLDER, None)
    if folder is not None:
        node.workerinput[FOLDER] = str(folder)


def record(config: pytest.Config, groups: dict[str, str]) -> None:
    """On a worker: the group of each test that has one, by test id."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is None or FOLDER not in workerinput:
        return
    path = Path(workerinput[FOLDER]) / f"{workerinput['workerid']}.json"
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(groups))
    partial.rename(path)  # whole or absent: the controller reads it once collection is done


class GroupScheduling(LoadGroupScheduling):  # type: ignore[misc]  # xdist has no types
    """``loadgroup``, reading each test's group from what the workers wrote."""

    def __init__(self, config: pytest.Config, log: Any, folder: Path) -> None:
        super().__init__(config, log)
        self.folder = folder
        self.groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self.groups is None:  # every worker collected the same tests: one file will do
            found = sorted(self.folder.glob("*.json"))
            self.groups = json.loads(found[0].read_text()) if found else {}
        group = self.groups.get(nodeid)
        return group if group is not None else super()._split_scope(nodeid)


def scheduler(config: pytest.Config, log: Any) -> GroupScheduling | None:
    folder = config.stash.get(_FOLDER, None)
    if folder is None or config.getoption("dist") != "loadgroup":
        return None
    return GroupScheduling(config, log, folder)
