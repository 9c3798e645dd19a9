"""Bounded load against a real ``asgard serve``: 200 readers and 20 ``/events`` listeners
over a fleet with a hung cluster, for ``LOAD_S`` (15 s here; ``bench`` runs a minute).

A Deployment is scaled every second behind Asgard's back meanwhile. It passes when no
answer is anything but 200, the only error entries name the hung cluster, no connection
was dropped, no stream ended and the listeners heard the changes, and once the load
stops the server's memory is back within 10% of where it started.
"""

from __future__ import annotations

import os
from pathlib import Path

from testbed.load import run_against_a_fleet

LOAD_S = float(os.environ.get("ASGARD_LOAD_S", "15"))


async def test_many_readers_and_listeners_with_a_hung_cluster(tmp_path: Path) -> None:
    report = await run_against_a_fleet(tmp_path / "asgard", LOAD_S)
    load = report.load
    print(  # shown with -s: what the run did
        f"{load.answered} answers, {load.events_read} events; memory {report.before_mib:.0f} "
        f"MiB before, {report.peak_mib:.0f} at most, {report.after_mib:.0f} after"
    )
    assert load.problems == [], "\n".join(load.problems)
    assert load.streams_ended == 0
    assert load.events_read > 0, "the listeners heard the changes under load"
    assert load.answered > 200, f"only {load.answered} answers in {LOAD_S:g} s"
    assert report.after_mib <= report.before_mib * 1.10, "memory back within 10%"
