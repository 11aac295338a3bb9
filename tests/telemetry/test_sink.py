"""The durable telemetry sink commits in the background and loses nothing it acknowledged on flush."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from heron.telemetry.sink import MemorySink, SqliteSink, read_log_events, read_metric_datums
from heron.types import LogEvent, MetricDatum


def test_flush_makes_everything_readable_from_another_connection(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "telemetry.db", commit_interval_s=10.0)
    sink.put_log_events([LogEvent("/aws/lambda/f", "s", 1000 + i, f"line {i}") for i in range(3)])
    dims = MetricDatum.dims({"FunctionName": "f"})
    sink.put_metric_data([MetricDatum("AWS/Lambda", "Errors", 1.0, "Count", dims, 1000)])
    sink.flush()
    events = list(read_log_events(tmp_path / "telemetry.db", "/aws/lambda/f"))
    assert [e.message for e in events] == ["line 0", "line 1", "line 2"]
    [datum] = read_metric_datums(tmp_path / "telemetry.db", "AWS/Lambda", "Errors")
    assert datum.dimensions == (("FunctionName", "f"),) and datum.value == 1.0
    sink.close()


def test_close_commits_what_is_buffered(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "telemetry.db", commit_interval_s=10.0)
    sink.put_log_events([LogEvent("g", "s", 1, "kept")])
    sink.close()
    assert [e.message for e in read_log_events(tmp_path / "telemetry.db")] == ["kept"]


def test_flushed_events_survive_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "telemetry.db"
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from heron.telemetry.sink import SqliteSink
        from heron.types import LogEvent
        sink = SqliteSink(Path({str(db)!r}))
        for i in range(50):
            sink.put_log_events([LogEvent("g", "s", i, f"event {{i}}")])
            sink.flush()
            print(i, flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acked = [int(proc.stdout.readline()) for _ in range(50)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    stored = {e.message for e in read_log_events(db)}
    assert {f"event {i}" for i in acked} <= stored


def test_memory_sink_filters_by_group_and_dimensions() -> None:
    sink = MemorySink()
    sink.put_log_events([LogEvent("a", "s", 1, "x"), LogEvent("b", "s", 1, "y")])
    dims = MetricDatum.dims({"FunctionName": "f"})
    sink.put_metric_data([MetricDatum("N", "M", 1.0, dimensions=dims), MetricDatum("N", "M", 2.0)])
    assert sink.messages("a") == ["x"]
    assert sink.values("N", "M", dims) == [1.0]
    assert sink.values("N", "M") == [1.0, 2.0]
