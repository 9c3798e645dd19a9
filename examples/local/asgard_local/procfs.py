"""What ``/proc`` says of the host's processes: which belong to a process group, how much
CPU they used and memory they hold, and when each started.

The kernel is the only record of a process group's members (a process may fork at any
time), so every question about a group is asked of ``/proc`` when it is needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CLOCK_TICKS", "ProcStat", "group_members", "read_stat", "rss_kib"]

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcStat:
    pid: int
    state: str
    pgrp: int
    cpu_ticks: int
    """User and system time, in clock ticks."""
    start_ticks: int
    """When it started, in clock ticks after boot: with the pid, names one process."""

    @property
    def alive(self) -> bool:
        """A zombie has ended; only its parent's wait is missing."""
        return self.state not in ("Z", "X")


def parse_stat(pid: int, text: str) -> ProcStat:
    """One ``/proc/<pid>/stat`` line. The command name, in parentheses, may hold spaces
    and parentheses itself, so fields are counted from the last ')'."""
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 of proc(5): state; pgrp is 5, utime 14, stime 15, starttime 22
    return ProcStat(
        pid=pid,
        state=fields[0],
        pgrp=int(fields[2]),
        cpu_ticks=int(fields[11]) + int(fields[12]),
        start_ticks=int(fields[19]),
    )


def read_stat(pid: int) -> ProcStat | None:
    try:
        return parse_stat(pid, (PROC / str(pid) / "stat").read_text())
    except (OSError, ValueError, IndexError):  # ended meanwhile
        return None


def group_members(pgid: int) -> list[ProcStat]:
    """The live processes of a process group."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        stat = read_stat(int(entry.name))
        if stat is not None and stat.pgrp == pgid and stat.alive:
            found.append(stat)
    return found


def rss_kib(pid: int) -> int:
    """Resident memory, from ``VmRSS`` (absent for kernel threads and zombies: 0)."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0
