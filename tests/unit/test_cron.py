"""Cron schedules as Asgard's scheduler reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from asgard.errors import InvalidValue
from asgard.models import Schedule
from asgard.scheduling import cron


def test_the_next_run_is_in_the_schedules_zone() -> None:
    at_three_in_paris = Schedule(value="0 3 * * *", tz="Europe/Paris")
    winter = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
    assert cron.next_run(at_three_in_paris, winter) == datetime(2026, 1, 11, 2, 0, tzinfo=UTC)
    assert cron.next_run(at_three_in_paris, summer) == datetime(2026, 7, 11, 1, 0, tzinfo=UTC)


def test_the_next_run_is_strictly_later() -> None:
    every_five = Schedule(value="*/5 * * * *")
    on_the_dot = datetime(2026, 1, 1, 10, 5, tzinfo=UTC)
    assert cron.next_run(every_five, on_the_dot) == datetime(2026, 1, 1, 10, 10, tzinfo=UTC)
    seconds = Schedule(value="* * * * * */3")  # croniter's sixth field: seconds
    assert cron.next_run(seconds, on_the_dot) == datetime(2026, 1, 1, 10, 5, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        (Schedule(value="every day"), "schedule.value"),
        (Schedule(value="R//PT1H"), "schedule.value"),
        (Schedule(value="R0/2026-01-01T00:00:00Z/PT1H"), "schedule.value"),
        (Schedule(value="R/2026-13-01T00:00:00Z/PT1H"), "schedule.value"),
        (Schedule(value="R/2026-01-01T00:00:00Z/PT0S"), "schedule.value"),
        (Schedule(value="R/2026-01-01T00:00:00Z/1H"), "schedule.value"),
        (Schedule(value="R/2026-01-01T00:00:00Z"), "schedule.value"),
        (Schedule(value="61 * * * *"), "schedule.value"),
        (Schedule(value="0 3 * * *", tz="Mars/Olympus"), "schedule.tz"),
    ],
)
def test_bad_schedules_say_which_field(schedule: Schedule, field: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        cron.check(schedule)
    assert raised.value.details[0].field == field


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_repeating_interval_runs_from_its_start_every_period() -> None:
    hourly = Schedule(value="R/2026-01-01T00:30:00Z/PT1H")
    assert cron.next_run(hourly, at(2025, 6, 1)) == at(2026, 1, 1, 0, 30), "not started yet"
    assert cron.next_run(hourly, at(2026, 1, 1, 0, 30)) == at(2026, 1, 1, 1, 30)
    assert cron.next_run(hourly, at(2026, 3, 7, 10, 0)) == at(2026, 3, 7, 10, 30)
    ninety_s = Schedule(value="R/2026-01-01T00:00:00Z/PT1M30S")
    assert cron.next_run(ninety_s, at(2026, 1, 1, 0, 2)) == at(2026, 1, 1, 0, 3)


def test_a_repeating_interval_with_a_count_ends() -> None:
    three = Schedule(value="R3/2026-01-01T00:00:00Z/P1D")
    assert cron.next_run(three, at(2026, 1, 2, 12)) == at(2026, 1, 3)
    assert cron.next_run(three, at(2026, 1, 3)) is None, "three runs: the 1st, 2nd and 3rd"


def test_calendar_periods_follow_the_schedules_clock() -> None:
    # 03:00 in Paris every day: 02:00 UTC in winter, 01:00 UTC in summer.
    daily = Schedule(value="R/2026-01-01T03:00:00/P1D", tz="Europe/Paris")
    assert cron.next_run(daily, at(2026, 1, 10, 12)) == at(2026, 1, 11, 2)
    assert cron.next_run(daily, at(2026, 7, 10, 12)) == at(2026, 7, 11, 1)
    # Monthly from 31 January: the last day of shorter months, never drifting.
    monthly = Schedule(value="R/2026-01-31T00:00:00Z/P1M")
    assert cron.next_run(monthly, at(2026, 2, 1)) == at(2026, 2, 28)
    assert cron.next_run(monthly, at(2026, 3, 1)) == at(2026, 3, 31)
    assert cron.next_run(monthly, at(2031, 4, 1)) == at(2031, 4, 30)
    weekly = Schedule(value="R/2026-01-05T09:00:00Z/P2W")
    assert cron.next_run(weekly, at(2026, 1, 6)) == at(2026, 1, 19, 9)
