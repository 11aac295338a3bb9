"""The live one-line progress report of a load run.

On a terminal the line is rewritten in place with a carriage return; into a file or pipe a fresh
line is written every few seconds instead, so logs stay readable.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot of a running load: time, completed operations, rate, recent p99 and errors."""

    elapsed_s: float
    duration_s: float
    ops: int
    ops_per_s: float
    p99_ms: float
    errors: int
    final: bool = False


def format_progress(p: Progress) -> str:
    """Render a snapshot as ``[ 12s/60s] 1,203 ops  100.2 ops/s  p99 8.1 ms  errors 0``."""
    total = f"{p.duration_s:.0f}s"
    elapsed = f"{p.elapsed_s:.0f}s".rjust(len(total))
    p99 = "-" if math.isnan(p.p99_ms) else f"{p.p99_ms:.1f}"
    return (
        f"[{elapsed}/{total}] {p.ops:,} ops  {p.ops_per_s:.1f} ops/s  "
        f"p99 {p99} ms  errors {p.errors:,}"
    )


class ProgressPrinter:
    """A progress callback that writes ``format_progress`` lines to a stream.

    On a TTY every snapshot rewrites the line in place; otherwise a line is written at most every
    ``interval_s`` seconds of run time, plus the final one.
    """

    def __init__(
        self, stream: TextIO | None = None, *, tty: bool | None = None, interval_s: float = 5.0
    ) -> None:
        """Write to ``stream`` (stderr by default); ``tty`` overrides the stream's own isatty()."""
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval_s = interval_s
        self._last_written: float | None = None
        self._width = 0

    def __call__(self, p: Progress) -> None:
        """Show one snapshot."""
        line = format_progress(p)
        if self.tty:
            # Pad with spaces so a shorter line fully covers the previous, longer one.
            padded = line.ljust(self._width)
            self._width = len(line)
            self.stream.write("\r" + padded + ("\n" if p.final else ""))
        else:
            due = self._last_written is None or p.elapsed_s - self._last_written >= self.interval_s
            if not (due or p.final):
                return
            self._last_written = p.elapsed_s
            self.stream.write(line + "\n")
        self.stream.flush()
