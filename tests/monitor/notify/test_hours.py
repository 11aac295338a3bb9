"""Business hours: weekdays, ranges across midnight, holidays, and daylight-saving changes."""

from __future__ import annotations

import pytest

from heron.errors import ConfigError
from heron.monitor.notify.hours import parse_hours

from .support import at


def test_weekday_hours_in_a_time_zone() -> None:
    hours = parse_hours(
        {"time_zone": "Europe/London", "days": ["mon-fri"], "ranges": ["09:00-17:00"]}, "h"
    )
    assert hours.contains(at("2026-03-06 09:00", "Europe/London"))  # Friday
    assert not hours.contains(at("2026-03-06 17:00", "Europe/London"))  # end is exclusive
    assert not hours.contains(at("2026-03-07 12:00", "Europe/London"))  # Saturday
    friday_night = at("2026-03-06 22:00", "Europe/London")
    assert hours.next_open(friday_night) == at("2026-03-09 09:00", "Europe/London")


def test_a_range_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    hours = parse_hours({"days": ["fri"], "ranges": ["22:00-06:00"]}, "h")
    assert hours.contains(at("2026-03-06 23:30"))  # Friday night
    assert hours.contains(at("2026-03-07 05:59"))  # Saturday early morning, still Friday's range
    assert not hours.contains(at("2026-03-07 23:00"))  # Saturday's own night is not open
    assert hours.next_open(at("2026-03-07 07:00")) == at("2026-03-13 22:00")


def test_holidays_remove_the_ranges_that_start_on_them() -> None:
    hours = parse_hours({"days": ["mon-fri"], "holidays": ["2026-12-25"]}, "h")
    assert not hours.contains(at("2026-12-25 10:00"))
    assert hours.next_open(at("2026-12-24 18:00")) == at("2026-12-28 09:00")


def test_hours_follow_the_wall_clock_across_daylight_saving() -> None:
    hours = parse_hours({"time_zone": "Europe/London", "days": ["mon-sun"]}, "h")
    before = hours.next_open(at("2026-03-28 20:00", "Europe/London"))  # Sunday 29 March: BST begins
    assert before == at("2026-03-29 09:00", "Europe/London")
    assert before - at("2026-03-28 09:00", "Europe/London") == 23 * 3600  # the short day
    autumn = hours.next_open(at("2026-10-24 20:00", "Europe/London"))
    assert autumn - at("2026-10-24 09:00", "Europe/London") == 25 * 3600


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "h.time_zone: unknown time zone"),
        ({"days": ["funday"]}, "h.days"),
        ({"ranges": ["9-17"]}, "h.ranges"),
        ({"ranges": ["09:00-09:00"]}, "empty"),
        ({"holidays": ["Christmas"]}, "h.holidays"),
        ({"colour": 1}, "unknown keys"),
    ],
)
def test_bad_hours_are_refused_naming_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_hours(raw, "h")
