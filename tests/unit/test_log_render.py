"""How log lines read to a client, in each format (``asgard.http.log_render``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

from asgard.http.log_render import as_json, as_text, render
from asgard.models import LogLine

AT = datetime(2026, 12, 1, 17, 0, 1, 250000, tzinfo=timezone(timedelta(hours=1)))


def test_text_labels_merged_lines_and_asgards_own() -> None:
    line = LogLine(task="web-1", ts=AT, stream="stderr", line="oops")
    assert as_text(line, labelled=True) == b"web-1 | oops\n"
    assert as_text(line, labelled=False) == b"oops\n"
    dropped = LogLine(task=None, ts=AT, stream="asgard", line="3 lines dropped")
    assert as_text(dropped, labelled=True) == b"* | [asgard] 3 lines dropped\n"
    ended = LogLine(task="web-1", ts=AT, stream="asgard", line="task ended")
    assert as_text(ended, labelled=False) == b"[asgard] task ended\n"


def test_jsonl_is_one_object_a_line_in_utc() -> None:
    line = LogLine(task="web-1", ts=AT, stream="stdout", line='say "hi" ✓')
    encoded = as_json(line)
    assert encoded.index(b"\n") == len(encoded) - 1, "one line, ended"
    assert json.loads(encoded) == {
        "task": "web-1",
        "ts": "2026-12-01T16:00:01.250000Z",
        "stream": "stdout",
        "line": 'say "hi" ✓',
    }
    whole = LogLine(
        task=None, ts=AT.replace(microsecond=0).astimezone(UTC), stream="asgard", line="x"
    )
    assert json.loads(as_json(whole))["ts"] == "2026-12-01T16:00:01Z"


async def test_rendering_closes_the_lines_it_was_given() -> None:
    closed = []

    async def lines() -> AsyncIterator[LogLine]:
        try:
            for n in range(10):
                yield LogLine(task="a", ts=AT, stream="stdout", line=str(n))
        finally:
            closed.append(True)

    chunks = render(lines(), "text", labelled=False)
    assert await anext(chunks) == b"0\n"
    await chunks.aclose()
    assert closed == [True], "a client that leaves lets the cluster's stream go"
