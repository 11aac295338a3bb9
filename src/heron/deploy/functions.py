"""The Lambda functions as SAM ``AWS::Serverless::Function`` resources.

Each function runs the handler string Heron runs locally, with its memory, timeout and reserved
concurrency, its own role (``iam``), its own log group (created with retention by ``logs``), and
an environment that points the handlers at DynamoDB (``HERON_TABLES_BACKEND=dynamodb``, the four
``*_TABLE`` names) and at the WebSocket API's @connections endpoint (``WS_MANAGEMENT_ENDPOINT``).
Code comes from the ``CodeBucket``/``CodeKey`` parameters: ``heron deploy`` uploads the package.
"""

from __future__ import annotations

import math
from typing import Any

from heron.deploy.names import DeployError, check_name
from heron.tables.schema import TABLE_ENV
from heron.types import FunctionSpec

CODE = {"Bucket": {"Ref": "CodeBucket"}, "Key": {"Ref": "CodeKey"}}
#: Lambda's own limits (memory in MB, timeout in seconds, environment size in bytes).
MEMORY_RANGE = (128, 10_240)
MAX_TIMEOUT_S = 900
MAX_ENVIRONMENT_BYTES = 4096


def base_environment(tables: dict[str, str], management_endpoint: Any) -> dict[str, Any]:
    """What every handler needs to find its tables and the @connections API on AWS."""
    # Lambda's only writable directory is /tmp; nothing is kept there between environments.
    env: dict[str, Any] = {"HERON_TABLES_BACKEND": "dynamodb", "HERON_DATA_DIR": "/tmp/heron"}
    for logical, var in TABLE_ENV.items():
        env[var] = tables[logical]
    env["WS_MANAGEMENT_ENDPOINT"] = management_endpoint
    return env


def function_resource(
    fn: FunctionSpec,
    physical_name: str,
    *,
    runtime: str,
    role_id: str,
    log_group_id: str,
    environment: dict[str, Any],
    events: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``AWS::Serverless::Function`` for ``fn`` named ``physical_name``."""
    check_name("function name", physical_name)
    if not MEMORY_RANGE[0] <= fn.memory_mb <= MEMORY_RANGE[1]:
        raise DeployError(f"function {fn.name!r}: memory {fn.memory_mb} MB is outside 128-10240")
    if not 0 < fn.timeout_s <= MAX_TIMEOUT_S:
        raise DeployError(f"function {fn.name!r}: timeout {fn.timeout_s} s is outside 1-900")
    env = {**environment, **dict(fn.environment)}
    size = sum(len(k) + len(v) for k, v in env.items() if isinstance(v, str))
    if size > MAX_ENVIRONMENT_BYTES:
        raise DeployError(
            f"function {fn.name!r}: environment is {size} bytes; Lambda allows {MAX_ENVIRONMENT_BYTES}"
        )
    props: dict[str, Any] = {
        "FunctionName": physical_name,
        "Handler": fn.handler,
        "Runtime": runtime,
        "CodeUri": CODE,
        "MemorySize": fn.memory_mb,
        # Lambda timeouts are whole seconds; round up so a handler never gets less than locally.
        "Timeout": max(1, math.ceil(fn.timeout_s)),
        "Role": {"Fn::GetAtt": [role_id, "Arn"]},
        "LoggingConfig": {"LogGroup": {"Ref": log_group_id}, "LogFormat": "Text"},
        "Environment": {"Variables": env},
        "Tags": {"heron:function": fn.name},
    }
    if fn.reserved_concurrency is not None:
        props["ReservedConcurrentExecutions"] = fn.reserved_concurrency
    if fn.provisioned_concurrency:
        # Provisioned concurrency attaches to an alias; SAM publishes one named "live".
        props["AutoPublishAlias"] = "live"
        props["ProvisionedConcurrencyConfig"] = {
            "ProvisionedConcurrentExecutions": fn.provisioned_concurrency
        }
    if events:
        props["Events"] = events
    return {"Type": "AWS::Serverless::Function", "Properties": props}
