"""Schedules in a time zone (cron expressions, or ISO 8601 repeating intervals as Chronos
takes them): when the next run is, and whether a schedule is valid."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from asgard.errors import InvalidValue
from asgard.models import Schedule
from asgard.scheduling import intervals


def zone(schedule: Schedule) -> ZoneInfo:
    try:
        return ZoneInfo(schedule.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(
            f"unknown time zone {schedule.tz!r}; use an IANA name such as Europe/Paris",
            field="schedule.tz",
        ) from None


def check(schedule: Schedule) -> None:
    """A cron expression (five fields, or a macro such as @hourly) or an ISO 8601
    repeating interval (``R/2026-01-01T03:00:00Z/P1D``), and a known zone."""
    where = zone(schedule)
    if intervals.is_interval(schedule.value):
        try:
            intervals.parse(schedule.value, where)
        except intervals.BadInterval as exc:
            raise InvalidValue(str(exc), field="schedule.value") from None
    elif not croniter.is_valid(schedule.value):
        raise InvalidValue(
            f"{schedule.value!r} is neither a cron expression (such as '*/5 * * * *') nor an "
            "ISO 8601 repeating interval (such as 'R/2026-01-01T03:00:00Z/PT1H')",
            field="schedule.value",
        )


def next_run(schedule: Schedule, after: datetime) -> datetime | None:
    """The first time strictly after ``after`` that the schedule names, in UTC; None when
    a repeating interval has made all its runs. The zone decides what '0 3 * * *' means,
    daylight saving time included."""
    where = zone(schedule)
    if intervals.is_interval(schedule.value):
        return intervals.parse(schedule.value, where).next_after(after)
    local = after.astimezone(where)
    upcoming: datetime = croniter(schedule.value, local).get_next(datetime)
    return upcoming.astimezone(UTC)
