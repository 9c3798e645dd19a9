"""ISO 8601 repeating intervals, Chronos' way of saying when: ``R[n]/<start>/<period>``.

``R/2026-01-01T03:00:00Z/P1D`` runs every day at 03:00 UTC from that day on;
``R5/...`` runs five times in all (the runs are counted from the start, so a
start in the past has used some of them up). The period's date part (years,
months, weeks, days) is counted on the clock of the schedule's time zone, so
``P1D`` keeps the time of day across daylight saving changes and ``P1M`` from
31 January lands on the last day of February; its time part (hours, minutes,
seconds) is elapsed time. A start without an offset is read in the schedule's
zone. Chronos' empty start ("from now") has no fixed origin and is refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

_PERIOD = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?"
)


class BadInterval(ValueError):
    """Why a value is not a repeating interval Asgard can run; the message says so."""


@dataclass(frozen=True)
class RepeatingInterval:
    repetitions: int | None  # None: for ever
    start: datetime  # aware, in the schedule's zone
    calendar: relativedelta  # years, months, weeks, days: counted on the local clock
    elapsed: timedelta  # hours, minutes, seconds

    def occurrence(self, index: int) -> datetime:
        """The ``index``-th run (0 is the start), in UTC."""
        local = self.start + self.calendar * index
        return local.astimezone(UTC) + self.elapsed * index

    def _approx_period_s(self) -> float:
        days = self.calendar.years * 365.25 + self.calendar.months * 30.44 + self.calendar.days
        return days * 86400 + self.elapsed.total_seconds()  # relativedelta's days hold weeks

    def next_after(self, after: datetime) -> datetime | None:
        """The first run strictly after ``after``, or None when every run is spent."""
        start = self.occurrence(0)
        index = 0
        if after >= start:
            # Jump close, then step: calendar periods only have an average length.
            index = max(0, math.floor((after - start).total_seconds() / self._approx_period_s()))
            while index > 0 and self.occurrence(index - 1) > after:
                index -= 1
            while self.occurrence(index) <= after:
                index += 1
        if self.repetitions is not None and index >= self.repetitions:
            return None
        return self.occurrence(index)


def is_interval(value: str) -> bool:
    return value.startswith("R")


def parse(value: str, zone: ZoneInfo) -> RepeatingInterval:
    parts = value.split("/")
    if len(parts) != 3:
        raise BadInterval(f"{value!r} is not R[n]/<start>/<period>")
    count, start_text, period_text = parts
    repetitions = _repetitions(value, count)
    start = _start(value, start_text, zone)
    calendar, elapsed = _period(value, period_text)
    return RepeatingInterval(repetitions, start, calendar, elapsed)


def _repetitions(value: str, count: str) -> int | None:
    if count == "R":
        return None
    if not re.fullmatch(r"R\d+", count) or int(count[1:]) == 0:
        raise BadInterval(f"{value!r}: the repetitions are R (for ever) or Rn with n at least 1")
    return int(count[1:])


def _start(value: str, text: str, zone: ZoneInfo) -> datetime:
    if not text:
        raise BadInterval(f"{value!r}: give a start time, such as 2026-01-01T03:00:00Z")
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise BadInterval(f"{value!r}: {text!r} is not an ISO 8601 date and time") from None
    return start.replace(tzinfo=zone) if start.tzinfo is None else start.astimezone(zone)


def _period(value: str, text: str) -> tuple[relativedelta, timedelta]:
    found = _PERIOD.fullmatch(text)
    if found is None or text in ("P", "PT") or text.endswith("T"):
        raise BadInterval(f"{value!r}: {text!r} is not an ISO 8601 period such as PT1H or P1D")
    units = {k: float((v or "0").replace(",", ".")) for k, v in found.groupdict().items()}
    calendar = relativedelta(
        years=int(units["years"]),
        months=int(units["months"]),
        weeks=int(units["weeks"]),
        days=int(units["days"]),
    )
    elapsed = timedelta(hours=units["hours"], minutes=units["minutes"], seconds=units["seconds"])
    if not calendar and not elapsed:
        raise BadInterval(f"{value!r}: the period must not be zero")
    return calendar, elapsed
