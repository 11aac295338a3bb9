"""The ``heron load`` options and entry point, run as a user would."""

from __future__ import annotations

import argparse
import io
import json
import socket

import pytest
from fake_heron import Served

from heron.load.cli_args import add_load_arguments, main_load

OPTIONS = (
    "--url",
    "--users",
    "--rate",
    "--duration",
    "--ws-fraction",
    "--error-rate",
    "--inject-latency-ms",
    "--seed",
    "--allow-remote",
    "--json",
    "--quiet",
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="heron load")
    add_load_arguments(p)
    return p


def test_defaults() -> None:
    args = parser().parse_args([])
    assert (args.url, args.users, args.rate, args.duration) == ("http://127.0.0.1:8080", 20, 50, 30)
    assert (args.ws_fraction, args.error_rate, args.json, args.quiet) == (0.5, 0.0, False, False)


def test_help_explains_every_option() -> None:
    text = parser().format_help()
    for option in OPTIONS:
        assert option in text
    assert text.count("default:") >= 7


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--rate", "0"], "not a positive number"),
        (["--rate", "fast"], "not a number"),
        (["--duration", "inf"], "not a positive number"),
        (["--users", "0"], "must be at least 1"),
        (["--users", "2.5"], "not a whole number"),
        (["--ws-fraction", "1.5"], "between 0 and 1"),
        (["--error-rate", "-0.1"], "between 0 and 1"),
    ],
)
def test_bad_options_are_rejected_with_a_clear_message(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert complaint in capsys.readouterr().err


async def _main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await main_load(parser().parse_args(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


async def test_json_summary_on_stdout(served: Served) -> None:
    code, out, err = await _main(
        [
            "--url",
            served.url,
            "--users",
            "4",
            "--rate",
            "20",
            "--duration",
            "0.5",
            "--error-rate",
            "0.2",
            "--json",
            "--quiet",
            "--seed",
            "3",
        ]
    )
    assert code == 0
    assert err == ""
    data = json.loads(out)
    assert data["users"] == 4 and data["completed"] == 10 and data["error_count"] == 0
    assert data["expected_errors"] > 0


async def test_table_on_stdout_and_progress_on_stderr(served: Served) -> None:
    code, out, err = await _main(
        ["--url", served.url, "--users", "2", "--rate", "10", "--duration", "0.5"]
    )
    assert code == 0
    assert out.startswith(f"Load against {served.url}: 2 users")
    assert "ops/s" in err and "errors 0" in err


async def test_remote_hosts_are_refused_without_allow_remote() -> None:
    code, out, err = await _main(["--url", "http://10.1.2.3:8080", "--duration", "1"])
    assert code == 1 and out == ""
    assert "not on this machine" in err and "--allow-remote" in err


async def test_unreachable_service_exits_1_with_a_hint() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = await _main(["--url", f"http://127.0.0.1:{port}", "--users", "2", "--quiet"])
    assert code == 1
    assert "could not sign up" in err or "no simulated user" in err
    assert "heron up" in err
