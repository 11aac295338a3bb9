"""The pure parsing and drawing rules behind ``heron metrics`` and ``heron logs``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from heron.cli_monitor.render import (
    dimensions_text,
    event_line,
    format_bytes,
    format_instant,
    format_ms,
    format_number,
    parse_dimension,
    parse_positive,
    parse_time,
    short_stream,
    sparkline,
    table,
)

NOW = datetime(2024, 3, 14, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", NOW - timedelta(seconds=45)),
        ("30m", NOW - timedelta(minutes=30)),
        ("1h", NOW - timedelta(hours=1)),
        ("2d", NOW - timedelta(days=2)),
        ("1w", NOW - timedelta(weeks=1)),
        ("10M", NOW - timedelta(minutes=10)),
        ("now", NOW),
        ("2024-03-14T11:00:00Z", datetime(2024, 3, 14, 11, tzinfo=UTC)),
        ("2024-03-14T13:00:00+02:00", datetime(2024, 3, 14, 11, tzinfo=UTC)),
        ("2024-03-14 11:30", datetime(2024, 3, 14, 11, 30, tzinfo=UTC)),
        ("2024-03-14", datetime(2024, 3, 14, tzinfo=UTC)),
    ],
)
def test_times_are_ages_or_iso_instants_in_utc(text: str, expected: datetime) -> None:
    assert parse_time(text).resolve(NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "1y", "-5m", "", "12"])
def test_unparseable_times_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="30m, 1h, 2d or an ISO 8601"):
        parse_time(text)


def test_dimensions_need_a_value_only_where_asked() -> None:
    assert parse_dimension("FunctionName=createUser", value_required=True) == (
        "FunctionName",
        "createUser",
    )
    assert parse_dimension("Key=a=b", value_required=True) == ("Key", "a=b")
    assert parse_dimension("FunctionName", value_required=False) == ("FunctionName", None)
    with pytest.raises(ValueError, match="needs a value"):
        parse_dimension("FunctionName=", value_required=True)
    with pytest.raises(ValueError, match="Name=Value"):
        parse_dimension("=x", value_required=False)


def test_positive_numbers_only() -> None:
    assert parse_positive("60") == 60
    for bad in ("0", "-1", "1.5", "x"):
        with pytest.raises(ValueError):
            parse_positive(bad)


def test_table_aligns_columns_and_right_aligns_numbers() -> None:
    text = table(["TIME", "Sum"], [["t1", "3"], ["t2", "12.50"]], right=1)
    assert text.splitlines() == ["TIME    Sum", "t1        3", "t2    12.50"]
    assert table(["A", "B"], []) == "A  B"


def test_sparkline_scales_marks_gaps_and_keeps_spikes_when_folded() -> None:
    assert sparkline([0, 7, None, 3.5]) == "▁█ ▅"
    assert sparkline([5, 5]) == "▄▄"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([None]) == " "
    folded = sparkline([0.0] * 99 + [10.0] + [0.0] * 100, width=20)
    assert len(folded) == 20 and folded.count("█") == 1


def test_numbers_dates_and_sizes_read_naturally() -> None:
    assert [format_number(v) for v in (3.0, 23.456, 0.01234, -2.0)] == [
        "3",
        "23.46",
        "0.01234",
        "-2",
    ]
    assert format_instant(NOW) == "2024-03-14T12:00:00Z"
    assert format_ms(1710417600123) == "2024-03-14T12:00:00.123Z"
    assert [format_bytes(n) for n in (512, 1536, 3 * 1024 * 1024)] == [
        "512 B",
        "1.5 KiB",
        "3.0 MiB",
    ]


def test_event_lines_shorten_lambda_streams_and_indent_continuations() -> None:
    stream = "2024/03/14/[$LATEST]e467c88398334384b95df5db3941d83c"
    assert short_stream(stream) == "[$LATEST]e467c883"
    assert short_stream("access") == "access"
    line = event_line(1710417600123, stream, '{"level":"INFO"}\n')
    assert line == '2024-03-14T12:00:00.123Z  [$LATEST]e467c883  {"level":"INFO"}'
    first, second = event_line(1710417600123, "s", "Traceback:\n  boom").splitlines()
    assert second == " " * first.index("Traceback") + "  boom"


def test_dimensions_text() -> None:
    assert dimensions_text([]) == "-"
    assert dimensions_text([{"Name": "A", "Value": "1"}, {"Name": "B"}]) == "A=1, B=*"
