"""Lambda's own log lines, spelled as AWS spells them."""

from __future__ import annotations

import re

from heron.runtime import platform_logs
from heron.runtime.platform_logs import Report

REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]+)\tDuration: (?P<d>\d+\.\d{2}) ms"
    r"\tBilled Duration: (?P<b>\d+) ms\tMemory Size: (?P<m>\d+) MB"
    r"\tMax Memory Used: (?P<u>\d+) MB(\tInit Duration: (?P<i>\d+\.\d{2}) ms)?"
    r"(\tStatus: (?P<s>timeout|error)(\tError Type: (?P<e>[\w.]+))?)?$"
)


def test_cold_report_matches_the_documented_example() -> None:
    report = Report("6bc28136", 15.74, 128, 56, init_ms=130.49)
    assert report.line() == (
        "REPORT RequestId: 6bc28136\tDuration: 15.74 ms\tBilled Duration: 147 ms"
        "\tMemory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms"
    )


def test_warm_report_has_no_init_duration_and_bills_duration_only() -> None:
    line = Report("abc", 0.4, 256, 40).line()
    match = REPORT.match(line)
    assert match is not None
    assert match["b"] == "1"
    assert match["i"] is None


def test_timeout_report_bills_duration_plus_init_like_aws() -> None:
    line = Report("r", 3000.0, 128, 73, init_ms=402.04, status="timeout").line()
    assert line.endswith(
        "\tBilled Duration: 3403 ms\tMemory Size: 128 MB\tMax Memory Used: 73 MB"
        "\tInit Duration: 402.04 ms\tStatus: timeout"
    )


def test_out_of_memory_report_names_the_error_type() -> None:
    line = Report("1c2d", 812.4, 256, 256, status="error", error_type="Runtime.OutOfMemory").line()
    match = REPORT.match(line)
    assert match is not None
    assert (match["s"], match["e"]) == ("error", "Runtime.OutOfMemory")


def test_billed_duration_ignores_float_noise() -> None:
    assert platform_logs.billed_duration_ms(0.1 + 0.2, None) == 1
    assert platform_logs.billed_duration_ms(100.0000000001, None) == 100
    assert platform_logs.billed_duration_ms(100.001, None) == 101


def test_memory_used_rounds_up_and_caps_at_the_configured_size() -> None:
    assert platform_logs.memory_used_mb(1, 128) == 1
    assert platform_logs.memory_used_mb(56 * 1024 + 1, 128) == 57
    assert platform_logs.memory_used_mb(500 * 1024, 128) == 128


def test_log_stream_name_is_date_version_and_32_hex() -> None:
    name = platform_logs.log_stream_name(1_793_873_800.0)
    assert re.fullmatch(r"2026/11/05/\[\$LATEST\][0-9a-f]{32}", name)


def test_start_end_and_timeout_lines() -> None:
    assert platform_logs.start_line("id-1") == "START RequestId: id-1 Version: $LATEST"
    assert platform_logs.end_line("id-1") == "END RequestId: id-1"
    assert platform_logs.timeout_line("id-1", 1_793_873_800.5, 3) == (
        "2026-11-05T10:16:40.500Z id-1 Task timed out after 3.00 seconds"
    )
    assert platform_logs.timeout_message("id-1", 0.5) == (
        "RequestId: id-1 Error: Task timed out after 0.50 seconds"
    )


def test_exit_messages() -> None:
    assert platform_logs.exit_message("id", "signal: killed") == (
        "RequestId: id Error: Runtime exited with error: signal: killed"
    )
    assert platform_logs.exit_message("id", "exit status 0") == (
        "RequestId: id Error: Runtime exited without providing a reason"
    )


def test_init_start_line_names_the_python_runtime() -> None:
    line = platform_logs.init_start_line("eu-west-1")
    assert re.fullmatch(
        r"INIT_START Runtime Version: python:3\.\d+\.v\d+\t"
        r"Runtime Version ARN: arn:aws:lambda:eu-west-1::runtime:[0-9a-f]{64}",
        line,
    )


def test_captured_output_splits_on_newlines_and_keeps_carriage_return_records_whole() -> None:
    data = b"one\r\ntwo\n[ERROR] X: y\rTraceback (most recent call last):\rtail"
    assert platform_logs.split_captured(data) == [
        "one",
        "two",
        "[ERROR] X: y\nTraceback (most recent call last):\ntail",
    ]
    assert platform_logs.split_captured(b"") == []
    assert platform_logs.split_captured(b"\xffbad\n") == ["\ufffdbad"]
