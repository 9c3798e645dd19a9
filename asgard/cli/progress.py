"""Progress of an upload or a download: a bar at a terminal (on stderr, so stdout stays the
job's), one closing line otherwise."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

Progress = Callable[[int, int | None], None]

__all__ = ["transfer"]


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


@contextlib.contextmanager
def transfer(label: str) -> Iterator[Progress]:
    """A callback for the client's ``progress``; the line saying how much moved comes when
    the transfer ends."""
    moved = [0]
    if not sys.stderr.isatty():

        def count(done: int, total: int | None) -> None:
            moved[0] = done

        yield count
        print(f"{label}: {size(moved[0])}", file=sys.stderr)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TransferSpeedColumn,
    )
    from rich.progress import (
        Progress as Bar,
    )

    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(file=sys.stderr),
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
