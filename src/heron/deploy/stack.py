"""``heron deploy``: upload the package, create a change set, show it, confirm, execute, wait.

Everything that can be checked is checked before anything is created: the stack name, the
credentials, that the region offers every service the stack uses, and the template itself
(synthesis raises on bad names or alarms). Then the code package and the expanded template go
to an S3 bucket (``heron-deploy-<account>-<region>`` unless named), a change set is created and
its resource changes printed (Add / Modify / Remove), and only on confirmation (or ``--yes``) is
it executed. The same path runs against AWS (``--aws``) and a local endpoint (``--endpoint-url``).
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.deploy.names import DeployError, check_name
from heron.deploy.package import build_package, package_key
from heron.deploy.sam import expand

#: botocore service names the stack needs in its region.
REQUIRED_SERVICES = (
    "cloudformation", "s3", "lambda", "apigatewayv2", "dynamodb", "cloudwatch", "logs", "sns",
    "events",
)  # fmt: skip
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
_DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
_FAILED_SUFFIXES = ("_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_IN_PROGRESS")
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


@dataclass(frozen=True, slots=True)
class DeployOptions:
    """Where and how to deploy."""

    stack_name: str
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    bucket: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    deps_dir: Path | None = None
    yes: bool = False
    poll_s: float = 2.0
    timeout_s: float = 1800.0


def _errors() -> Any:
    return importlib.import_module("botocore.exceptions")


def session_for(options: DeployOptions) -> Any:
    """The boto3 session: the profile and region asked for; DeployError if boto3 is missing."""
    try:
        boto3 = importlib.import_module("boto3")
    except ImportError:
        raise DeployError("heron deploy needs boto3: pip install 'heron[aws]'") from None
    try:
        return boto3.Session(profile_name=options.profile, region_name=options.region)
    except _errors().ProfileNotFound:
        raise DeployError(f"AWS profile {options.profile!r} is not configured") from None


def preflight(session: Any, options: DeployOptions) -> str:
    """Check name, credentials and region before anything is created; returns the region."""
    check_name("stack name", options.stack_name)
    region = session.region_name
    if not region:
        raise DeployError("no AWS region: pass --region or set AWS_REGION / the profile's region")
    if session.get_credentials() is None:
        raise DeployError(
            "no AWS credentials found: pass --profile, or set AWS_PROFILE or"
            " AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (nothing was created)"
        )
    partition = session.get_partition_for_region(region) if _known_region(session, region) else None
    if partition is None:
        raise DeployError(f"region {region!r} is not an AWS region botocore knows")
    missing = [
        s
        for s in REQUIRED_SERVICES
        if region not in session.get_available_regions(s, partition_name=partition)
    ]
    if missing:
        raise DeployError(
            f"region {region} does not offer {', '.join(missing)}, which the stack needs;"
            " choose another --region (nothing was created)"
        )
    return str(region)


def _known_region(session: Any, region: str) -> bool:
    return any(
        region in session.get_available_regions("cloudformation", partition_name=p)
        for p in session.get_available_partitions()
    )


def _client(session: Any, service: str, options: DeployOptions) -> Any:
    return session.client(service, endpoint_url=options.endpoint_url)


def _ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except _errors().ClientError:
        pass
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)


def _stack_status(cfn: Any, name: str) -> str | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except _errors().ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def preview(changes: list[dict[str, Any]]) -> list[str]:
    """The change set as lines: ``+ Add  LogicalId  Type`` (``~`` modify, ``-`` remove)."""
    marks = {"Add": "+", "Modify": "~", "Remove": "-", "Import": ">", "Dynamic": "?"}
    lines = []
    for change in changes:
        rc = change.get("ResourceChange") or {}
        action = str(rc.get("Action", "?"))
        line = f"{marks.get(action, '?')} {action:<7} {rc.get('LogicalResourceId', '?'):<48} {rc.get('ResourceType', '')}"
        if rc.get("Replacement") == "True":
            line += "  (replacement)"
        lines.append(line)
    counts = {
        a: sum(1 for c in changes if (c.get("ResourceChange") or {}).get("Action") == a)
        for a in ("Add", "Modify", "Remove")
    }
    lines.append(
        f"{counts['Add']} to add, {counts['Modify']} to modify, {counts['Remove']} to remove"
    )
    return lines


def deploy(
    template: dict[str, Any],
    options: DeployOptions,
    *,
    out: Callable[[str], None] = print,
    confirm: Callable[[str], str] | None = None,
) -> int:
    """Deploy ``template`` (synthesized, with the SAM transform); the exit status."""
    session = session_for(options)
    region = preflight(session, options)
    expanded = expand(template, region)
    package = build_package(options.deps_dir)
    s3 = _client(session, "s3", options)
    cfn = _client(session, "cloudformation", options)
    account = _client(session, "sts", options).get_caller_identity()["Account"]
    bucket = options.bucket or f"heron-deploy-{account}-{region}"
    _ensure_bucket(s3, bucket, region)
    code_key = package_key(package)
    s3.put_object(Bucket=bucket, Key=code_key, Body=package)
    body = json.dumps(expanded, separators=(",", ":")).encode()
    template_key = f"heron/templates/{options.stack_name}-{package_key(body).rsplit('/', 1)[1].removesuffix('.zip')}.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body)
    url = f"https://s3.{region}.amazonaws.com/{bucket}/{template_key}"
    params = {"CodeBucket": bucket, "CodeKey": code_key, **options.parameters}
    declared = set(expanded.get("Parameters", {}))
    unknown = set(params) - declared
    if unknown:
        raise DeployError(
            f"unknown template parameters {sorted(unknown)}; the template has {sorted(declared)}"
        )
    status = _stack_status(cfn, options.stack_name)
    kind = "UPDATE" if status and status != "REVIEW_IN_PROGRESS" else "CREATE"
    change_set = f"heron-{int(time.time())}"
    out(
        f"Creating change set {change_set} for stack {options.stack_name} ({kind.lower()}) in {region}"
    )
    cfn.create_change_set(
        StackName=options.stack_name,
        ChangeSetName=change_set,
        ChangeSetType=kind,
        TemplateURL=url,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=CAPABILITIES,
        Tags=[{"Key": "heron:stack", "Value": options.stack_name}],
    )
    described = _wait_change_set(cfn, options, change_set)
    if described is None:
        out("No changes: the stack is up to date.")
        cfn.delete_change_set(StackName=options.stack_name, ChangeSetName=change_set)
        return 0
    changes = list(described.get("Changes", []))
    for line in preview(changes):
        out(line)
    if not options.yes:
        ask = confirm or input
        try:
            answer = ask("Execute this change set? [y/N] ").strip().lower()
        except EOFError:
            answer = ""
        if answer not in ("y", "yes"):
            out(f"Not executed. The change set {change_set} is left for review.")
            return 1
    cfn.execute_change_set(StackName=options.stack_name, ChangeSetName=change_set)
    final = _wait_stack(cfn, options)
    out(f"Stack {options.stack_name}: {final}")
    if final not in _DONE:
        for line in failure_reasons(cfn, options.stack_name):
            out(line)
        return 1
    for o in cfn.describe_stacks(StackName=options.stack_name)["Stacks"][0].get("Outputs", []):
        out(f"  {o['OutputKey']}: {o['OutputValue']}")
    return 0


def failure_reasons(cfn: Any, stack: str, limit: int = 10) -> list[str]:
    """Why the stack failed: the resources CloudFormation reports as failed, newest first."""
    try:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    except _errors().ClientError:
        return []
    failed = [e for e in events if str(e.get("ResourceStatus", "")).endswith("_FAILED")]
    return [
        f"  {e.get('LogicalResourceId')}: {e.get('ResourceStatusReason', e.get('ResourceStatus'))}"
        for e in failed[:limit]
    ]


def _wait_change_set(cfn: Any, options: DeployOptions, name: str) -> dict[str, Any] | None:
    deadline = time.monotonic() + options.timeout_s
    while True:
        described: dict[str, Any] = cfn.describe_change_set(
            StackName=options.stack_name, ChangeSetName=name
        )
        status = described.get("Status")
        if status == "CREATE_COMPLETE":
            changes = list(described.get("Changes", []))
            token = described.get("NextToken")
            while token:
                page = cfn.describe_change_set(
                    StackName=options.stack_name, ChangeSetName=name, NextToken=token
                )
                changes += page.get("Changes", [])
                token = page.get("NextToken")
            described["Changes"] = changes
            return described
        if status == "FAILED":
            reason = str(described.get("StatusReason", ""))
            if any(text in reason for text in _NO_CHANGES):
                return None
            raise DeployError(f"change set {name} failed: {reason}")
        if time.monotonic() > deadline:
            raise DeployError(f"change set {name} still {status} after {options.timeout_s:.0f} s")
        time.sleep(options.poll_s)


def _wait_stack(cfn: Any, options: DeployOptions) -> str:
    deadline = time.monotonic() + options.timeout_s
    while True:
        status = _stack_status(cfn, options.stack_name) or "DELETED"
        if status in _DONE or status.endswith(_FAILED_SUFFIXES) or status == "DELETED":
            return status
        if time.monotonic() > deadline:
            return status
        time.sleep(options.poll_s)
