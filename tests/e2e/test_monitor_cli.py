"""``heron metrics`` and ``heron logs`` as a user runs them against a real ``heron up``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from .conftest import Heron, free_port

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  \[\$LATEST\][0-9a-f]{8}  \S")


def sign_up(heron: Heron) -> str:
    """Create a user through the HTTP API; return its userId."""
    name = f"m{uuid.uuid4().hex[:10]}"
    r = httpx.post(
        f"{heron.base_url}/users",
        json={"username": name, "displayName": "M", "email": f"{name}@example.com"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["user"]["userId"])


def monitor_cli(heron: Heron, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``heron <args>`` pointed at the running monitor with its own data directory."""
    return subprocess.run(
        [sys.executable, "-m", "heron.cli", *args, "--data-dir", str(heron.data_dir),
         "--endpoint", heron.monitor_url],
        cwd=cwd, capture_output=True, text=True, timeout=30,
    )  # fmt: skip


@pytest.fixture(scope="module")
def user_ids(heron: Heron, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Three sign-ups, waited for until their invocations are counted by the monitor."""
    ids = [sign_up(heron) for _ in range(3)]
    cwd = tmp_path_factory.mktemp("cli")
    deadline = time.monotonic() + 10
    while True:
        done = monitor_cli(
            heron, cwd, "metrics", "get", "AWS/Lambda", "Invocations",
            "--dimension", "FunctionName=createUser", "--stat", "Sum", "--json",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        if sum(p["Sum"] for p in json.loads(done.stdout)["datapoints"]) >= 3:
            return ids
        assert time.monotonic() < deadline, done.stdout
        time.sleep(0.2)


def test_metrics_list_shows_lambda_metrics_as_json_and_as_a_table(
    heron: Heron, user_ids: list[str], tmp_path: Path
) -> None:
    done = monitor_cli(heron, tmp_path, "metrics", "list", "--json")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert {
        "Namespace": "AWS/Lambda",
        "MetricName": "Invocations",
        "Dimensions": [{"Name": "FunctionName", "Value": "createUser"}],
    } in metrics
    table = monitor_cli(
        heron, tmp_path, "metrics", "list", "--namespace", "AWS/Lambda", "--dimension",
        "FunctionName=createUser",
    )  # fmt: skip
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["NAMESPACE", "METRIC", "DIMENSIONS"]
    assert rows and all(r.split()[0] == "AWS/Lambda" and "createUser" in r for r in rows)
    assert any(r.split()[1] == "Invocations" for r in rows)


def test_metrics_get_counts_the_invocations_per_statistic(
    heron: Heron, user_ids: list[str], tmp_path: Path
) -> None:
    done = monitor_cli(
        heron, tmp_path, "metrics", "get", "AWS/Lambda", "Invocations",
        "--dimension", "FunctionName=createUser", "--stat", "Sum", "--stat", "SampleCount,Maximum",
        "--since", "30m",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["TIME", "Sum", "SampleCount", "Maximum"]
    rows = [line.split() for line in lines[1:] if re.match(r"^\d{4}-", line)]
    assert rows and sum(float(r[1]) for r in rows) >= 3
    assert all(float(r[1]) == float(r[2]) and float(r[3]) == 1 for r in rows)
    sparks = [line for line in lines if line.startswith("Sum ")]
    assert sparks and set(sparks[0].split(maxsplit=1)[1]) <= set("▁▂▃▄▅▆▇█ ")


def test_logs_filter_prints_the_structured_info_record(
    heron: Heron, user_ids: list[str], tmp_path: Path
) -> None:
    done = monitor_cli(
        heron, tmp_path, "logs", "filter", "/aws/lambda/createUser", '{ $.level = "INFO" }',
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(json.loads(line)["message"]) for line in done.stdout.splitlines()]
    assert {r["level"] for r in records} == {"INFO"}
    created = {r["userId"] for r in records if r["action"] == "user_created"}
    assert set(user_ids) <= created
    text = monitor_cli(
        heron, tmp_path, "logs", "filter", "/aws/lambda/createUser", user_ids[0], "--limit", "1"
    )
    assert text.returncode == 0, text.stderr
    (line,) = text.stdout.splitlines()
    assert LINE.match(line) and f'"userId":"{user_ids[0]}"' in line and '"level":"INFO"' in line


def test_logs_tail_prints_recent_events_and_follow_prints_new_ones_once(
    heron: Heron, user_ids: list[str], tmp_path: Path
) -> None:
    done = monitor_cli(heron, tmp_path, "logs", "tail", "/aws/lambda/createUser")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(LINE.match(line) for line in lines)
    assert any("  START RequestId: " in line for line in lines)
    assert any("  REPORT RequestId: " in line for line in lines)

    follow = subprocess.Popen(
        [sys.executable, "-m", "heron.cli", "logs", "tail", "/aws/lambda/createUser", "--follow",
         "--since", "1s", "--filter", '{ $.action = "user_created" }', "--max-polls", "12",
         "--poll-interval", "0.25", "--data-dir", str(heron.data_dir),
         "--endpoint", heron.monitor_url],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.0)  # the follower is polling by now (or about to: it starts 1 s back)
    new_user = sign_up(heron)
    out, err = follow.communicate(timeout=30)
    assert follow.returncode == 0, err
    assert out.count(new_user) == 1, out


def test_logs_groups_lists_the_function_log_groups(
    heron: Heron, user_ids: list[str], tmp_path: Path
) -> None:
    done = monitor_cli(heron, tmp_path, "logs", "groups")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split()[:3] == ["LOG", "GROUP", "RETENTION"]
    assert "/aws/lambda/createUser" in [r.split()[0] for r in rows]


def test_unreachable_monitor_says_how_to_start_it(heron: Heron, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "heron.cli", "metrics", "list", "--data-dir", str(heron.data_dir),
         "--endpoint", f"http://127.0.0.1:{free_port()}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 1
    assert "cannot reach the monitor at http://127.0.0.1:" in done.stderr
    assert "`heron up` running?" in done.stderr and "make run" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_log_group_is_aws_message_and_exit_1(heron: Heron, tmp_path: Path) -> None:
    done = monitor_cli(heron, tmp_path, "logs", "tail", "/aws/lambda/noSuchFunction")
    assert done.returncode == 1
    assert "The specified log group does not exist." in done.stderr
    assert "heron logs groups" in done.stderr and "Traceback" not in done.stderr


def test_missing_credentials_names_the_file_and_who_creates_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "heron.cli", "logs", "groups", "--data-dir", "nowhere"],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 1
    assert str(tmp_path / "nowhere" / "credentials") in done.stderr
    assert "`heron up` creates them" in done.stderr
