"""The ``heron`` command as a user runs it: config show, invoke, load, and readable errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from heron.settings_table import SETTINGS

from .conftest import Heron

EVENTS = Path(__file__).resolve().parents[1] / "functions" / "events"


def heron_cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "heron.cli", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_config_show_lists_every_setting_with_its_source(tmp_path: Path) -> None:
    (tmp_path / "heron.toml").write_text("port = 9000\n")
    done = heron_cli("config", "show", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for setting in SETTINGS:
        assert setting.name in done.stdout
    assert "heron.toml" in done.stdout and "createUser" in done.stdout
    as_json = json.loads(heron_cli("config", "show", "--json", cwd=tmp_path).stdout)
    assert as_json["settings"]["port"] == {"value": 9000, "source": "heron.toml"}


def test_bad_config_is_a_readable_error_with_the_next_step(tmp_path: Path) -> None:
    (tmp_path / "heron.toml").write_text("port = 'eighty'\n")
    done = heron_cli("config", "show", cwd=tmp_path)
    assert done.returncode == 2
    assert "port" in done.stderr and "heron config show" in done.stderr
    assert "Traceback" not in done.stderr


def test_invoke_runs_one_function_like_sam_local_invoke(tmp_path: Path) -> None:
    event = json.loads((EVENTS / "http_api_v2.json").read_text())
    event.update(
        routeKey="POST /users",
        rawPath="/users",
        body=json.dumps({"username": "cli_user", "displayName": "C", "email": "c@example.com"}),
    )
    (tmp_path / "event.json").write_text(json.dumps(event))
    done = heron_cli(
        "invoke", "createUser", "--event", "event.json", "--data-dir", "data", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["statusCode"] == 201 and "token" in json.loads(result["body"])
    assert "REPORT RequestId:" in done.stderr and "Init Duration" in done.stderr


def test_invoke_unknown_function_names_the_declared_ones(tmp_path: Path) -> None:
    done = heron_cli("invoke", "nope", "--event", "-", cwd=tmp_path, stdin="{}")
    assert done.returncode == 2 and "createUser" in done.stderr


def test_load_drives_the_running_service_and_summarises(heron: Heron, tmp_path: Path) -> None:
    done = heron_cli(
        "load", "--url", heron.base_url, "--users", "4", "--rate", "20", "--duration", "2",
        "--json", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["scheduled"] > 0 and summary["completed"] == summary["scheduled"]
    assert summary["error_count"] == 0, summary["errors"]
    assert summary["ws_delivered"] == summary["ws_sent"] > 0
    assert summary["ws_latency"]["p99_ms"] >= summary["ws_latency"]["p50_ms"] > 0
    assert sum(op["count"] for op in summary["operations"].values()) >= summary["completed"]
