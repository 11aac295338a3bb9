"""Loading alarm files on start: the seed verbatim, idempotent across restarts, bad files refused
whole, user files replacing by name, and OK notifications for alarms that only name AlarmActions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heron.monitor.alarms.catalogue import MetricFilterSpec
from heron.monitor.alarms.history_log import HistoryQuery
from heron.monitor.alarms.seed import (
    SEED_ALARMS,
    AlarmFileError,
    AlarmSource,
    directory_paths,
    parse_alarm_document,
    read_alarm_file,
    seed_paths,
)
from heron.monitor.service import Monitor

from .alarm_support import FakeClock

ALERTS = "arn:aws:sns:us-east-1:000000000000:alerts"
WARNINGS = "arn:aws:sns:us-east-1:000000000000:warnings"


def seed_sources() -> list[AlarmSource]:
    return [read_alarm_file(p) for p in seed_paths()]


def test_the_five_seed_alarms_load_with_the_seed_topics_made_concrete(tmp_path: Path) -> None:
    monitor = Monitor(tmp_path, clock=FakeClock())
    try:
        report = monitor.load_alarms(seed_sources())
        assert sorted(report.created) == sorted(SEED_ALARMS)
        errors = monitor.alarms.get("LambdaErrors")
        latency = monitor.alarms.get("HighLatency")
        assert errors is not None and latency is not None
        assert errors["AlarmActions"] == [ALERTS] and errors["OKActions"] == [ALERTS]
        assert latency["AlarmActions"] == [WARNINGS]
        assert (errors["MetricName"], errors["Namespace"], errors["Statistic"]) == (
            "Errors",
            "AWS/Lambda",
            "Sum",
        )
        assert (latency["Period"], latency["EvaluationPeriods"], latency["Threshold"]) == (
            300,
            3,
            1000.0,
        )
    finally:
        monitor.close()


def test_strictly_verbatim_loading_notifies_only_on_alarm(tmp_path: Path) -> None:
    monitor = Monitor(tmp_path, clock=FakeClock())
    try:
        monitor.load_alarms(seed_sources(), ok_notifications=False)
        assert monitor.alarms.get("LambdaErrors")["OKActions"] == []  # type: ignore[index]
    finally:
        monitor.close()


def test_loading_again_after_a_restart_changes_nothing(tmp_path: Path) -> None:
    clock = FakeClock()
    first = Monitor(tmp_path, clock=clock)
    first.load_alarms(seed_sources())
    first.scheduler.set_state("LambdaErrors", "ALARM", "by hand", None)
    first.close()
    clock.now += 3600
    again = Monitor(tmp_path, clock=clock)
    try:
        report = again.load_alarms(seed_sources())
        assert report.created == [] and report.updated == []
        assert sorted(report.unchanged) == sorted(SEED_ALARMS)
        alarm = again.alarms.get("LambdaErrors")
        assert alarm is not None and alarm["StateValue"] == "ALARM"
        config_items = again.alarms.history(
            HistoryQuery(name="LambdaErrors", kind="ConfigurationUpdate")
        )
        assert len(config_items) == 1  # created once, never "updated" by a restart
    finally:
        again.close()


def test_a_user_file_replaces_a_seed_alarm_by_name_and_keeps_its_state(tmp_path: Path) -> None:
    data, user = tmp_path / "data", tmp_path / "alarms"
    data.mkdir()
    user.mkdir()
    monitor = Monitor(data, clock=FakeClock())
    try:
        monitor.load_alarms(seed_sources())
        monitor.scheduler.set_state("HighLatency", "ALARM", "by hand", None)
        changed = json.loads((seed_paths()[1]).read_text())
        assert changed["AlarmName"] == "HighLatency"
        changed["Threshold"] = 2000
        changed["Dimensions"] = [{"Name": "ApiId", "Value": "local-http"}]
        (user / "latency.json").write_text(json.dumps([changed]))
        (user / "sub").mkdir()
        (user / "sub" / "ignored.json").write_text("not json")
        report = monitor.load_alarms(
            seed_sources() + [read_alarm_file(p) for p in directory_paths(user)]
        )
        assert report.updated == ["HighLatency"]
        alarm = monitor.alarms.get("HighLatency")
        assert alarm is not None and alarm["Threshold"] == 2000.0
        assert alarm["StateValue"] == "ALARM"
    finally:
        monitor.close()


def test_an_invalid_alarm_anywhere_changes_nothing_and_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "AlarmName": "Broken",
                "MetricName": "Errors",
                "Namespace": "AWS/Lambda",
                "Statistic": "Sum",
                "ExtendedStatistic": "p99",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
            }
        )
    )
    monitor = Monitor(tmp_path, clock=FakeClock())
    try:
        with pytest.raises(AlarmFileError, match=r"bad\.json: alarm Broken: .*Statistic"):
            monitor.load_alarms([*seed_sources(), read_alarm_file(bad)])
        assert len(monitor.alarms) == 0
    finally:
        monitor.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("3", "expected an alarm object"),
        ('[{"Name": "x"}]', "alarm #1 is not an object with an AlarmName"),
        ('{"MetricFilters": [{"filterName": "x"}]}', "needs logGroupName"),
    ],
)
def test_malformed_files_are_refused_with_the_reason(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "f.json"
    path.write_text(text)
    with pytest.raises(AlarmFileError, match=message):
        read_alarm_file(path)


def test_metric_filters_are_installed_once_and_a_bad_pattern_is_refused(tmp_path: Path) -> None:
    spec = MetricFilterSpec(
        "/aws/lambda/f",
        "Errors",
        '{ $.level = "ERROR" }',
        {"metricName": "fErrors", "metricNamespace": "Heron/LogPatterns", "metricValue": "1"},
    )
    clock = FakeClock()
    monitor = Monitor(tmp_path, clock=clock)
    try:
        source = AlarmSource("test", (), (spec,))
        assert monitor.load_alarms([source]).filters == 1
        created = monitor.logs.metric_filters("/aws/lambda/f")[0][1].created_ms
        clock.now += 100
        monitor.load_alarms([source])
        assert monitor.logs.metric_filters("/aws/lambda/f")[0][1].created_ms == created
        broken = MetricFilterSpec(spec.group, "Bad", "{ $.level = ", spec.transformation)
        with pytest.raises(AlarmFileError, match="metric filter Bad"):
            monitor.load_alarms([AlarmSource("test", (), (broken,))])
    finally:
        monitor.close()


def test_the_catalogue_document_shape_parses() -> None:
    source = parse_alarm_document({"MetricFilters": [], "MetricAlarms": [{"AlarmName": "A"}]}, "x")
    assert source.alarms == ({"AlarmName": "A"},) and source.filters == ()
