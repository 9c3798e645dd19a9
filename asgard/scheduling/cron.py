"""Cron schedules in a time zone: when the next run is, and whether a schedule is valid."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from asgard.errors import InvalidValue
from asgard.models import Schedule


def zone(schedule: Schedule) -> ZoneInfo:
    try:
        return ZoneInfo(schedule.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(
            f"unknown time zone {schedule.tz!r}; use an IANA name such as Europe/Paris",
            field="schedule.tz",
        ) from None


def check(schedule: Schedule) -> None:
    """A cron expression (five fields, or a macro such as @hourly) and a known zone."""
    zone(schedule)
    if schedule.value.startswith("R") or not croniter.is_valid(schedule.value):
        raise InvalidValue(
            f"{schedule.value!r} is not a cron expression (such as '*/5 * * * *'); Asgard's "
            "scheduler takes cron, not ISO 8601 intervals",
            field="schedule.value",
        )


def next_run(schedule: Schedule, after: datetime) -> datetime:
    """The first time strictly after ``after`` that the schedule names, in UTC. The zone
    decides what '0 3 * * *' means, daylight saving time included."""
    local = after.astimezone(zone(schedule))
    upcoming: datetime = croniter(schedule.value, local).get_next(datetime)
    return upcoming.astimezone(UTC)
