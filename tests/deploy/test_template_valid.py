"""The synthesized template passes cfn-lint with no errors and the SAM transform accepts it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from cfnlint.api import lint

from heron.deploy.names import DeployError
from heron.deploy.sam import expand

REGIONS = ["us-east-1", "eu-west-1"]


def errors(template: dict[str, Any]) -> list[str]:
    """cfn-lint's error-level findings (E rules) for ``template``."""
    matches = lint(json.dumps(template), regions=REGIONS)
    return [f"{m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.id.startswith("E")]


@pytest.mark.slow
def test_cfn_lint_finds_no_errors_and_does_find_a_planted_one(template: dict[str, Any]) -> None:
    assert errors(template) == []
    broken = copy.deepcopy(template)
    broken["Resources"]["AlarmLambdaErrors"]["Properties"]["ComparisonOperator"] = "Bigger"
    broken["Resources"]["UsersTable"]["Properties"]["BillingMode"] = "FREE"
    found = errors(broken)
    assert any("Bigger" in e for e in found) and any("FREE" in e for e in found)


def test_the_sam_transform_expands_every_serverless_resource(template: dict[str, Any]) -> None:
    out = expand(template, "eu-west-1")
    kinds = [r["Type"] for r in out["Resources"].values()]
    assert "Transform" not in out
    assert not [k for k in kinds if k.startswith("AWS::Serverless::")]
    functions = {k: r for k, r in out["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert len(functions) == 11
    notifier = functions["NotifierFunction"]["Properties"]
    assert notifier["Handler"] == "heron.deploy.notifier_handler.handler"
    subscriptions = [
        r["Properties"] for r in out["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"
    ]
    lambda_subs = [s for s in subscriptions if s["Protocol"] == "lambda"]
    assert sorted(s["TopicArn"]["Ref"] for s in lambda_subs) == ["AlertsTopic", "WarningsTopic"]
    assert kinds.count("AWS::Events::Rule") == 1  # the notifier's one-minute tick
    # The template given is not modified by the transform.
    assert template["Transform"] == "AWS::Serverless-2016-10-31"


def test_the_sam_transform_rejects_a_broken_function(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    broken["Resources"]["GetUserFunction"]["Properties"]["Events"] = {
        "Bad": {"Type": "NoSuchEvent"}
    }
    with pytest.raises(DeployError, match="SAM transform rejected"):
        expand(broken, "eu-west-1")
