"""Shared wake-up deadlines: the next whole multiple of an interval."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heron.wakeups import delay_to_next


@given(
    st.floats(min_value=0, max_value=1e7, allow_nan=False),
    st.sampled_from([0.02, 0.25, 1.0, 60.0]),
)
def test_the_delay_lands_on_the_next_multiple_of_the_interval(now: float, interval: float) -> None:
    delay = delay_to_next(now, interval)
    assert 0 < delay <= interval
    steps = (now + delay) / interval
    assert math.isclose(steps, round(steps), abs_tol=1e-6)
    assert round(steps) * interval > now - 1e-9


def test_on_a_multiple_the_delay_is_a_whole_interval_and_tasks_share_deadlines() -> None:
    assert delay_to_next(10.0, 0.25) == 0.25
    assert 3.3 + delay_to_next(3.3, 1.0) == pytest.approx(4.0)
    assert 3.8 + delay_to_next(3.8, 0.25) == pytest.approx(4.0)  # the 0.25 s grid holds 4.0 too


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        delay_to_next(1.0, 0)
