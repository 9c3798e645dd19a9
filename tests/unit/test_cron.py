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
        (Schedule(value="R/2026-01-01T00:00:00Z/PT1H"), "schedule.value"),
        (Schedule(value="61 * * * *"), "schedule.value"),
        (Schedule(value="0 3 * * *", tz="Mars/Olympus"), "schedule.tz"),
    ],
)
def test_bad_schedules_say_which_field(schedule: Schedule, field: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        cron.check(schedule)
    assert raised.value.details[0].field == field
