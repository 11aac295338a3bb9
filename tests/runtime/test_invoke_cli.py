"""``heron invoke``: one invocation, logs on stderr, result JSON on stdout, exit status."""

from __future__ import annotations

import io

import orjson

from heron.runtime.invoke_cli import run_invoke
from heron.types import FunctionSpec


def test_success_prints_logs_and_result(child_env: dict[str, str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    spec = FunctionSpec(name="echo", handler="handlers.basic.echo", provisioned_concurrency=1)
    status = run_invoke(spec, {"hello": "world"}, child_env, stdout=out, stderr=err)
    assert status == 0
    assert orjson.loads(out.getvalue())["event"] == {"hello": "world"}
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("INIT_START Runtime Version: ")
    assert lines[1] == "init: basic loaded"
    assert lines[2].startswith("START RequestId: ")
    assert lines[3] == "echo called 1"
    assert lines[4].startswith("END RequestId: ")
    assert lines[5].startswith("REPORT RequestId: ") and "\tInit Duration: " in lines[5]


def test_function_error_prints_lambdas_error_payload(child_env: dict[str, str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    spec = FunctionSpec(name="bad", handler="handlers.basic.fail")
    status = run_invoke(spec, {"message": "no"}, child_env, stdout=out, stderr=err)
    assert status == 1
    body = orjson.loads(out.getvalue())
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "no"
    assert isinstance(body["stackTrace"], list)
    assert "[ERROR] ValueError: no" in err.getvalue()
