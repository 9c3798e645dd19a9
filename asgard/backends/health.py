"""What Asgard knows of a cluster's health without asking it again.

``GET /clusters`` used to ask every cluster its version on every request, so it cost
as much as the slowest cluster each time. Now every answer a cluster gives (to any
operation) and every failure is noted here, a background probe asks its version every
``probe_s`` to keep the version and latency current, and the list is built from that.

A cluster can be several servers: a Mesos cluster is its masters, Marathon and Chronos,
and one of them can fail while the others answer. Each is a *part* here, and an answer
from one part says nothing of another: a cluster whose masters stall is not "ok" because
Marathon answered the next call. The transports name the part each request goes to
(``calling``); the guard collects them per call (``touching``). A kind of one server names
no part, and every answer or failure is the whole cluster's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from asgard.models.base import utc_now

__all__ = ["WHOLE", "Fault", "Health", "Touched", "calling", "part_failed", "touching"]

WHOLE = ""
"""The part a failure is noted under when no part was named: the whole cluster."""


@dataclass
class Touched:
    """The parts one call asked: those that answered, and those that did not with what
    went wrong."""

    answered: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)

    def blamed(self) -> set[str]:
        """The parts a failed call is noted under: those that never answered; else those
        that answered something unusable; else (no part named) the whole cluster."""
        return (set(self.failed) - self.answered) or self.answered or {WHOLE}

    def unanswered(self) -> dict[str, str]:
        """The parts that failed within a call that succeeded all the same (a probe that
        asks every part, and answers for the masters whatever Chronos does)."""
        return {p: why for p, why in self.failed.items() if p not in self.answered}


_TOUCHED: ContextVar[Touched | None] = ContextVar("asgard_touched_parts", default=None)


@contextmanager
def touching() -> Iterator[Touched]:
    """Collect the parts the calls made within name (tasks started inside share it)."""
    touched = Touched()
    token = _TOUCHED.set(touched)
    try:
        yield touched
    finally:
        _TOUCHED.reset(token)


@contextmanager
def calling(part: str) -> Iterator[None]:
    """One request to ``part``: it answered when the block ends, else it failed
    (cancelled by a timeout too)."""
    touched = _TOUCHED.get()
    if touched is None:
        yield
        return
    try:
        yield
    except BaseException as exc:
        touched.failed[part] = str(exc) or type(exc).__name__
        raise
    touched.answered.add(part)


def part_failed(part: str, why: str) -> None:
    """``part`` answered, but nothing usable (a login page, a body of the wrong shape),
    within a call that goes on: that part failed all the same. What a probe that asks
    every part notes of one whose failure it does not raise."""
    touched = _TOUCHED.get()
    if touched is None:
        return
    touched.answered.discard(part)
    touched.failed[part] = why


@dataclass(frozen=True)
class Fault:
    error: str
    since: datetime


@dataclass
class Health:
    version: str | None = None
    latency_ms: float | None = None
    last_contact_at: datetime | None = None
    faults: dict[str, Fault] = field(default_factory=dict)
    """By part, its last failure, when it is newer than the part's last answer."""
    probed: bool = False
    """Whether a probe (background or live) has told the version and latency yet."""

    @property
    def error(self) -> str | None:
        """The failures of the parts that are down, the oldest first; None when none is."""
        if not self.faults:
            return None
        return "; ".join(f.error for f in sorted(self.faults.values(), key=lambda f: f.since))

    @property
    def down_since(self) -> datetime | None:
        """Since when what Asgard knows is stale: the first failure of a part still down."""
        return min((f.since for f in self.faults.values()), default=None)

    def answered(self, parts: set[str] | frozenset[str] = frozenset()) -> bool:
        """Note an answer from ``parts`` (none named: the whole cluster); True when it
        ends an outage (no part is down any more)."""
        was_down = bool(self.faults)
        self.last_contact_at = utc_now()
        for part in {*parts, WHOLE}:
            self.faults.pop(part, None)
        return was_down and not self.faults

    def failed(self, error: str, parts: set[str] | frozenset[str] = frozenset({WHOLE})) -> bool:
        """Note a failure of ``parts``; True when it begins an outage (none was down)."""
        began_an_outage = not self.faults
        now = utc_now()
        for part in parts or {WHOLE}:
            known = self.faults.get(part)
            self.faults[part] = Fault(error, known.since if known else now)
        return began_an_outage

    def probed_now(self, version: str, latency_ms: float) -> None:
        self.version, self.latency_ms, self.probed = version, latency_ms, True
