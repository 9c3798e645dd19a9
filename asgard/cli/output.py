"""How answers are shown: tables that fit the terminal (rich), plain aligned columns when
stdout is a pipe or a file, or the objects themselves as JSON or YAML for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, TextIO

import yaml
from pydantic import BaseModel

__all__ = [
    "FORMATS",
    "Format",
    "Table",
    "dump",
    "is_terminal",
    "render_plain",
    "render_rich",
    "rich_table",
    "show",
    "when",
]

Format = Literal["table", "wide", "json", "yaml"]
FORMATS: Final = ("table", "wide", "json", "yaml")


def is_terminal(stream: TextIO) -> bool:
    return stream.isatty()


def when(value: datetime | None) -> str:
    """A time as a person reads it in a table: UTC, to the second."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@dataclass
class Table:
    """Columns and rows of text; ``wide`` columns only show with ``-o wide``."""

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    wide_from: int | None = None
    """The index of the first column shown only with ``-o wide``."""

    def narrowed(self, wide: bool) -> Table:
        if wide or self.wide_from is None:
            return self
        cut = self.wide_from
        return Table(self.columns[:cut], [row[:cut] for row in self.rows])


def render_plain(table: Table) -> str:
    """Columns padded to their widest cell, two spaces apart: what ``awk``/``cut`` read."""
    widths = [len(c) for c in table.columns]
    for row in table.rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for row in [table.columns, *table.rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def rich_table(table: Table) -> Any:
    """The table as rich draws it, fitted to the terminal's width."""
    from rich import box
    from rich.table import Table as RichTable

    shown = RichTable(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for column in table.columns:
        shown.add_column(column, overflow="fold")
    for row in table.rows:
        shown.add_row(*row)
    return shown


def render_rich(table: Table, out: TextIO) -> None:
    from rich.console import Console

    Console(file=out).print(rich_table(table))


def plain_data(items: Iterable[BaseModel | dict[str, Any]]) -> list[Any]:
    return [i.model_dump(mode="json") if isinstance(i, BaseModel) else i for i in items]


def dump(data: Any, fmt: Literal["json", "yaml"]) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip()


def show(
    table: Table,
    items: Sequence[BaseModel | dict[str, Any]],
    fmt: Format,
    out: TextIO | None = None,
) -> None:
    """A list as asked: the objects for json and yaml, the table (narrow or wide) otherwise,
    drawn only where stdout is a terminal."""
    out = out or sys.stdout
    if fmt in ("json", "yaml"):
        out.write(dump(plain_data(items), fmt) + "\n")
        return
    shown = table.narrowed(fmt == "wide")
    if is_terminal(out):
        render_rich(shown, out)
    else:
        out.write(render_plain(shown) + "\n")
