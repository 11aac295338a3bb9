"""The reusable constraint checker operations may call for AWS-style validation messages."""

from __future__ import annotations

from heron.awsapi.models import service_spec
from heron.awsapi.shapes import validate_against_shape


def test_validate_against_shape_reports_aws_style_constraints() -> None:
    shape = service_spec("cloudwatch").operation("PutMetricData").input_shape
    request = {
        "Namespace": "",
        "MetricData": [{"MetricName": "x" * 256, "Unit": "Parsecs", "Dimensions": [{"Name": "a"}]}],
    }
    problems = validate_against_shape(shape, request)
    assert (
        "Value '' at 'namespace' failed to satisfy constraint: Member must have length greater than or equal to 1"
        in problems
    )
    assert any(
        p.startswith(
            "Value 'Parsecs' at 'metricData.1.member.unit' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Seconds, "
        )
        for p in problems
    )
    assert any(
        "'metricData.1.member.metricName'" in p and "less than or equal to 255" in p
        for p in problems
    )
    assert (
        "Value null at 'metricData.1.member.dimensions.1.member.value' failed to satisfy "
        "constraint: Member must not be null" in problems
    )
    assert (
        validate_against_shape(shape, {"Namespace": "N", "MetricData": [{"MetricName": "M"}]}) == []
    )
