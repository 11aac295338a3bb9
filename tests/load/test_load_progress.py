"""The one-line progress report: its text, and how it is written to a TTY or a file."""

from __future__ import annotations

import io
import math

from heron.load.progress import Progress, ProgressPrinter, format_progress


def snap(elapsed: float, *, final: bool = False) -> Progress:
    return Progress(
        elapsed_s=elapsed,
        duration_s=60,
        ops=1203,
        ops_per_s=100.24,
        p99_ms=8.14,
        errors=0,
        final=final,
    )


def test_format_progress() -> None:
    assert format_progress(snap(12)) == "[12s/60s] 1,203 ops  100.2 ops/s  p99 8.1 ms  errors 0"
    assert format_progress(snap(3)).startswith("[ 3s/60s] ")


def test_format_progress_without_samples_shows_a_dash() -> None:
    p = Progress(elapsed_s=0.4, duration_s=5, ops=0, ops_per_s=0.0, p99_ms=math.nan, errors=2)
    assert format_progress(p) == "[0s/5s] 0 ops  0.0 ops/s  p99 - ms  errors 2"


def test_tty_rewrites_one_line_in_place() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, tty=True)
    printer(Progress(1, 60, 10_000, 1.0, 1.0, 0))
    printer(Progress(2, 60, 1, 1.0, 1.0, 0))
    printer(Progress(3, 60, 2, 1.0, 1.0, 0, final=True))
    writes = out.getvalue().split("\r")[1:]
    assert len(writes) == 3
    # The shorter second line is padded to cover the longer first one; only the end has a newline.
    assert len(writes[1]) == len(writes[0])
    assert not writes[0].endswith("\n") and writes[2].endswith("\n")


def test_file_gets_a_line_every_interval_plus_the_final_one() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, tty=False, interval_s=5)
    for second in range(1, 13):
        printer(snap(second, final=second == 12))
    lines = out.getvalue().splitlines()
    assert [line[:9] for line in lines] == ["[ 1s/60s]", "[ 6s/60s]", "[11s/60s]", "[12s/60s]"]
    assert "\r" not in out.getvalue()
