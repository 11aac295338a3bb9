"""The running notifier's clock, recorded in the data directory for ``heron notify`` commands.

With ``time_scale`` N the notifier lives in Heron time (``ScaledClock``: N Heron seconds per
real second from an anchor). A ``heron notify snooze --minutes 30`` stamped with the real clock
would set a snooze that, in Heron time, may already be over. So the notifier writes its scale
and anchor to ``<data-dir>/notify-clock.json`` (with its pid) when it starts and removes the
file when it stops; the commands read it and stamp times with the same clock. A file left by a
process that is gone (``kill -9``) is ignored: the next ``heron up`` starts a new anchor at real
time, so real time is then the right clock.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import orjson

from heron.monitor.timescale import ScaledClock
from heron.types import Clock

FILE = "notify-clock.json"


def record_clock(data_dir: Path, clock: Clock, *, pid: int | None = None) -> Path | None:
    """Write ``clock``'s scale and anchor for ``pid`` (this process); None for a clock that is
    neither real time nor a ScaledClock (a test's hand-moved clock: nothing to share)."""
    if isinstance(clock, ScaledClock):
        scale, anchor = clock.scale, clock.anchor
    elif clock is time.time:
        scale, anchor = 1.0, 0.0
    else:
        return None
    path = data_dir / FILE
    tmp = path.with_suffix(".tmp")
    doc = {"scale": scale, "anchor": anchor, "pid": os.getpid() if pid is None else pid}
    tmp.write_bytes(orjson.dumps(doc))
    tmp.replace(path)  # atomic: a command never reads half a file
    return path


def forget_clock(data_dir: Path, *, pid: int | None = None) -> None:
    """Remove the record if it is this process's (a newer instance may have replaced it)."""
    path = data_dir / FILE
    with contextlib.suppress(OSError, ValueError, TypeError):
        doc = orjson.loads(path.read_bytes())
        if doc.get("pid") == (os.getpid() if pid is None else pid):
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def instance_clock(data_dir: Path) -> Clock:
    """The clock of the notifier running on ``data_dir``: its ScaledClock, else real time."""
    try:
        doc = orjson.loads((data_dir / FILE).read_bytes())
        scale, anchor, pid = float(doc["scale"]), float(doc["anchor"]), int(doc["pid"])
    except (OSError, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        return time.time
    if scale == 1 or not scale > 0 or not _alive(pid):
        return time.time
    return ScaledClock(scale, anchor=anchor)
