"""Bad input to ``heron deploy``: a clear error before anything is uploaded or created."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from heron.cli import main

from .conftest import REGION, client

MISSING_SERVICE_REGION = next(
    (
        r
        for p in boto3.Session().get_available_partitions()
        for r in boto3.Session().get_available_regions("cloudformation", partition_name=p)
        if r not in boto3.Session().get_available_regions("apigatewayv2", partition_name=p)
    ),
    None,
)


def state(endpoint: str) -> tuple[list[str], list[str]]:
    """What exists on the server: buckets and stacks."""
    buckets = [b["Name"] for b in client("s3", endpoint).list_buckets()["Buckets"]]
    stacks = [
        s["StackName"] for s in client("cloudformation", endpoint).list_stacks()["StackSummaries"]
    ]
    return sorted(buckets), sorted(stacks)


def deploy(endpoint: str, *extra: str) -> int:
    return main(["deploy", "--endpoint-url", endpoint, "--yes", *extra])


def refused(endpoint: str, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the deploy, expect exit status 2 and no change on the server; the error text."""
    before = state(endpoint)
    assert deploy(endpoint, *argv) == 2
    assert state(endpoint) == before
    return capsys.readouterr().err


@pytest.mark.usefixtures("aws_env")
def test_missing_credentials(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    # No instance metadata service to fall back on here, and none wanted.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    err = refused(endpoint, capsys, "--region", REGION)
    assert "no AWS credentials found" in err and "nothing was created" in err


@pytest.mark.usefixtures("aws_env")
def test_region_without_a_required_service(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert MISSING_SERVICE_REGION is not None  # botocore knows regions without API Gateway v2
    err = refused(endpoint, capsys, "--region", MISSING_SERVICE_REGION)
    assert f"region {MISSING_SERVICE_REGION} does not offer" in err and "apigatewayv2" in err


@pytest.mark.usefixtures("aws_env")
def test_unknown_region(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "'mars-north-1' is not an AWS region" in refused(
        endpoint, capsys, "--region", "mars-north-1"
    )


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--stack-name", "1-starts-with-a-digit"],
            "stack name '1-starts-with-a-digit' is not allowed",
        ),
        (["--stack-name", "s" * 129], "is 129 characters; CloudFormation allows 128"),
        (["--stage", "has space"], "stage name 'has space' is not allowed"),
        (["--log-retention-days", "8"], "log retention 8 days"),
        (["--runtime", "python3.9"], "Heron runs on python3.11"),
        (["--profile", "nosuch"], "AWS profile 'nosuch' is not configured"),
    ],
)
def test_names_and_settings_that_break_limits(
    endpoint: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert message in refused(endpoint, capsys, "--region", REGION, *argv)


@pytest.mark.usefixtures("aws_env")
def test_a_function_name_too_long_for_lambda(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "f" * 60
    Path("heron.toml").write_text(f'[[functions]]\nname = "{name}"\nhandler = "x.y"\n')
    err = refused(endpoint, capsys, "--region", REGION)
    assert f"heron-prod-{name}" in err and "allows 64" in err


@pytest.mark.usefixtures("aws_env")
def test_an_alarm_on_an_unknown_topic(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("mine").mkdir()
    alarm: dict[str, Any] = {
        "AlarmName": "PagerDuty", "Namespace": "AWS/Lambda", "MetricName": "Errors",
        "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": ["arn:aws:sns:region:account:pager"],
    }  # fmt: skip
    Path("mine/pager.json").write_text(json.dumps(alarm))
    monkeypatch.setenv("HERON_ALARMS_DIR", "mine")
    err = refused(endpoint, capsys, "--region", REGION)
    assert "mine/pager.json" in err and "topic 'pager'" in err and "alerts, warnings" in err


@pytest.mark.usefixtures("aws_env")
def test_a_literal_secret_is_refused_without_being_shown(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "https://hooks.slack.com/services/T000/B000/verysecret"
    Path("heron.toml").write_text(
        f'[notify.channels.team]\nprotocol = "slack"\nurl = "{secret}"\n'
        '[notify.routes.alerts]\nchannels = ["team"]\n'
    )
    err = refused(endpoint, capsys, "--region", REGION)
    assert "notify.channels.team.url" in err and "verysecret" not in err


@pytest.mark.usefixtures("aws_env")
def test_a_secret_variable_missing_from_the_shell(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TEAM_HOOK", raising=False)
    Path("heron.toml").write_text(
        '[notify.channels.team]\nprotocol = "slack"\nurl = "${TEAM_HOOK}"\n'
        '[notify.routes.alerts]\nchannels = ["team"]\n'
    )
    assert "set TEAM_HOOK in this shell" in refused(endpoint, capsys, "--region", REGION)


@pytest.mark.usefixtures("aws_env")
def test_real_aws_needs_the_explicit_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "--region", REGION]) == 2
    err = capsys.readouterr().err
    assert "--endpoint-url URL" in err and "(your real AWS account" in err
    with pytest.raises(SystemExit):
        main(["deploy", "--aws", "--endpoint-url", "http://127.0.0.1:1"])


class _Events:
    """A CloudFormation client answering DescribeStackEvents only (formatting test)."""

    def describe_stack_events(self, StackName: str) -> dict[str, Any]:
        return {
            "StackEvents": [
                {"LogicalResourceId": "heron-x", "ResourceStatus": "ROLLBACK_IN_PROGRESS"},
                {
                    "LogicalResourceId": "UsersTable",
                    "ResourceStatus": "CREATE_FAILED",
                    "ResourceStatusReason": "Resource handler returned message: quota exceeded",
                },
            ]
        }


def test_a_failed_stack_reports_the_failed_resources_and_why() -> None:
    from heron.deploy.stack import failure_reasons

    assert failure_reasons(_Events(), "heron-x") == [
        "  UsersTable: Resource handler returned message: quota exceeded"
    ]


@pytest.mark.usefixtures("aws_env")
def test_an_aws_error_after_the_checks_is_reported_not_raised(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bucket name AWS rejects: the checks pass, S3 refuses, the command says so.
    assert deploy(endpoint, "--region", REGION, "--bucket", "Bad_Bucket!") == 1
    assert "heron deploy: AWS error:" in capsys.readouterr().err
