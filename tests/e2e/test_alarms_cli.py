"""``heron alarms`` as a user runs it against a real ``heron up`` (and ``lint`` offline)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from .conftest import Heron, free_port

REPO = Path(__file__).resolve().parents[2]


def alarms_cli(heron: Heron, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``heron alarms <args>`` pointed at the running monitor with its own data directory."""
    return subprocess.run(
        [sys.executable, "-m", "heron.cli", "alarms", *args, "--data-dir", str(heron.data_dir),
         "--endpoint", heron.monitor_url],
        cwd=cwd, capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def test_list_shows_the_seed_and_catalogue_alarms(heron: Heron, tmp_path: Path) -> None:
    done = alarms_cli(heron, tmp_path, "list", "--json")
    assert done.returncode == 0, done.stderr
    names = {a["AlarmName"] for a in json.loads(done.stdout)}
    assert {"LambdaErrors", "HighLatency", "HttpApi-5xxRate", "ping-ErrorRate"} <= names
    table = alarms_cli(heron, tmp_path, "list", "--prefix", "High")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["NAME", "STATE", "SEVERITY", "SINCE", "CONDITION"]
    assert [r.split()[0] for r in rows] == ["HighLatency", "HighMemoryUsage"]
    assert rows[0].split()[2] == "warning"
    assert "AWS/ApiGateway Latency Average > 1000 (3/3 x 300s)" in rows[0]
    assert "2 alarms:" in table.stderr


def test_show_prints_the_alarm_and_what_lint_says(heron: Heron, tmp_path: Path) -> None:
    done = alarms_cli(heron, tmp_path, "show", "HighLatency")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^Severity\s+warning$", done.stdout, re.MULTILINE), done.stdout
    assert "arn:aws:sns:us-east-1:000000000000:warnings" in done.stdout
    assert "lint: AWS publishes Latency only per ApiId" in done.stdout
    missing = alarms_cli(heron, tmp_path, "show", "NoSuchAlarm")
    assert missing.returncode == 1
    assert "no alarm named 'NoSuchAlarm'; `heron alarms list`" in missing.stderr


def test_set_state_then_history_shows_the_update_and_the_action(
    heron: Heron, tmp_path: Path
) -> None:
    done = alarms_cli(
        heron, tmp_path, "set-state", "WebSocketErrors", "--state", "ALARM", "--reason", "drill"
    )
    assert done.returncode == 0, done.stderr
    assert "WebSocketErrors: state set to ALARM (drill)" in done.stdout
    history = alarms_cli(heron, tmp_path, "history", "WebSocketErrors", "--json")
    assert history.returncode == 0, history.stderr
    items = json.loads(history.stdout)
    kinds = [i["HistoryItemType"] for i in items]
    assert "StateUpdate" in kinds and "Action" in kinds and "ConfigurationUpdate" in kinds
    update = next(i for i in items if i["HistoryItemType"] == "StateUpdate")
    assert json.loads(update["HistoryData"])["newState"]["stateReason"] == "drill"
    text = alarms_cli(heron, tmp_path, "history", "WebSocketErrors", "--type", "Action")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0].split() == ["TIME", "TYPE", "SUMMARY"]
    assert all(" Action " in line for line in text.stdout.splitlines()[1:])


def test_lint_against_the_monitor_flags_the_seed_alarms(heron: Heron, tmp_path: Path) -> None:
    done = alarms_cli(heron, tmp_path, "lint", "--json")
    assert done.returncode == 1, done.stderr  # findings exit 1, as linters do
    flagged = {f["AlarmName"] for f in json.loads(done.stdout)}
    assert flagged == {
        "APIGateway5xxErrors",
        "HighLatency",
        "HighMemoryUsage",
        "WebSocketErrors",
        "WebSocket-Connections",
    }


def test_lint_reads_files_without_a_monitor(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "heron.cli", "alarms", "lint", str(REPO / "alarms"),
         "--endpoint", f"http://127.0.0.1:{free_port()}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "HighMemoryUsage: AWS/Lambda MemoryUsed [no dimensions]" in done.stdout
    assert "instead: 5XXError is the REST API metric" in done.stdout
    assert "5 alarms from" in done.stderr and "4 can never fire on AWS" in done.stderr
    clean = tmp_path / "clean.json"
    clean.write_text(
        json.dumps(
            {
                "AlarmName": "Api5xx",
                "Namespace": "AWS/ApiGateway",
                "MetricName": "5xx",
                "Dimensions": [{"Name": "ApiId", "Value": "abc"}],
            }
        )
    )
    ok = subprocess.run(
        [sys.executable, "-m", "heron.cli", "alarms", "lint", str(clean)],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "no findings" in ok.stdout


def test_an_unreachable_monitor_says_so(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "credentials").write_text(
        "[heron]\naws_access_key_id = AKIAX\naws_secret_access_key = s\nregion = us-east-1\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "heron.cli", "alarms", "list", "--data-dir",
         str(tmp_path / "data"), "--endpoint", f"http://127.0.0.1:{free_port()}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 1
    assert "cannot reach the monitor" in done.stderr
