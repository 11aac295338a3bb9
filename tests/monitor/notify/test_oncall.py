"""On-call schedules: rotations, layers, handoffs across DST, overrides, and bad schedules."""

from __future__ import annotations

from typing import Any

import pytest

from heron.errors import ConfigError
from heron.monitor.notify.hours import parse_hours
from heron.monitor.notify.oncall import parse_schedule

from .support import at

LONDON = "Europe/London"


def _schedule(layers: list[dict[str, Any]], **extra: Any) -> Any:
    hours = {"business": parse_hours({"time_zone": LONDON}, "b")}
    return parse_schedule("primary", {"time_zone": LONDON, "layers": layers, **extra}, "s", hours)


def test_weekly_rotation_hands_off_at_local_time_across_dst() -> None:
    s = _schedule(
        [
            {
                "users": ["alice", "bob"],
                "rotation": "weekly",
                "handoff": "09:00",
                "start": "2026-03-23",
            }
        ]
    )
    assert s.who(at("2026-03-30 08:59", LONDON)).user == "alice"  # BST began on the 29th
    assert s.who(at("2026-03-30 09:00", LONDON)).user == "bob"
    changes = s.changes(at("2026-03-29 00:00", LONDON), at("2026-03-31 00:00", LONDON))
    assert [(t, c.user if c else None) for t, c in changes][1] == (
        at("2026-03-30 09:00", LONDON),
        "bob",
    )


def test_daily_and_custom_rotations() -> None:
    daily = _schedule([{"users": ["a", "b", "c"], "rotation": "daily", "start": "2026-03-02"}])
    assert [daily.who(at(f"2026-03-0{d} 12:00", LONDON)).user for d in (2, 3, 4, 5)] == [
        "a",
        "b",
        "c",
        "a",
    ]
    custom = _schedule(
        [
            {
                "users": ["a", "b"],
                "rotation": "custom",
                "length_hours": 12,
                "handoff": "08:00",
                "start": "2026-03-02",
            }
        ]
    )
    assert custom.who(at("2026-03-02 19:59", LONDON)).user == "a"
    assert custom.who(at("2026-03-02 20:00", LONDON)).user == "b"


def test_later_layer_wins_inside_its_hours_and_override_beats_all() -> None:
    s = _schedule(
        [
            {"name": "nights", "users": ["ops"], "rotation": "weekly", "start": "2026-03-02"},
            {
                "name": "day",
                "users": ["dev"],
                "rotation": "weekly",
                "start": "2026-03-02",
                "hours": "business",
            },
        ],
        overrides=[{"user": "carol", "start": "2026-03-04T10:00", "end": "2026-03-04T11:00"}],
    )
    assert s.who(at("2026-03-04 12:00", LONDON)).user == "dev"
    assert s.who(at("2026-03-04 03:00", LONDON)).user == "ops"
    on = s.who(at("2026-03-04 10:30", LONDON))
    assert on is not None and (on.user, on.source) == ("carol", "override")


@pytest.mark.parametrize(
    ("layers", "extra", "message"),
    [
        (
            [{"users": ["a"], "start": "2026-03-02", "time_zone": "Nowhere/City"}],
            {},
            "unknown time zone",
        ),
        ([{"users": ["a"], "start": "2026-03-02", "hours": "business"}], {}, "nobody is on call"),
        ([{"users": [], "start": "2026-03-02"}], {}, r"layers\[0\].users"),
        ([{"users": ["a"], "rotation": "monthly", "start": "2026-03-02"}], {}, "rotation"),
        ([{"users": ["a"], "rotation": "custom", "start": "2026-03-02"}], {}, "length_hours"),
        (
            [{"users": ["a"], "start": "2026-03-02"}],
            {
                "overrides": [
                    {"user": "b", "start": "2026-03-04T10:00", "end": "2026-03-04T12:00"},
                    {"user": "c", "start": "2026-03-04T11:00", "end": "2026-03-04T13:00"},
                ]
            },
            "overlap",
        ),
    ],
)
def test_bad_schedules_are_refused_at_load(
    layers: list[dict[str, Any]], extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _schedule(layers, **extra)


def test_gaps_are_allowed_when_asked_for() -> None:
    s = _schedule([{"users": ["a"], "start": "2026-03-02", "hours": "business"}], allow_gaps=True)
    assert s.who(at("2026-03-04 03:00", LONDON)) is None
