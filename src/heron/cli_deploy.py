"""``heron deploy synth`` (write the CloudFormation template) and ``heron deploy`` (run it).

``synth`` needs no AWS account. ``deploy`` talks to CloudFormation: a local endpoint with
``--endpoint-url`` (e.g. a moto server), or real AWS only with the explicit ``--aws`` flag.
Secrets the ``[notify]`` table references as ``${VAR}`` are read from the same variables in the
deploying shell and passed as NoEcho parameters.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from heron.deploy.names import DeployError
from heron.errors import ConfigError


def _target(args: argparse.Namespace) -> Any:
    from heron.deploy.target import target_from_settings
    from heron.functions.specs import DEFAULT_FUNCTIONS
    from heron.settings import load_settings

    config = Path(args.config) if args.config else None
    settings = load_settings(config, default_functions=DEFAULT_FUNCTIONS)
    return target_from_settings(
        settings, stage=args.stage, runtime=args.runtime, log_retention_days=args.log_retention_days
    )


def _synth(args: argparse.Namespace) -> int:
    from heron.deploy.synth import render, synthesize

    template = synthesize(_target(args))
    out = Path(args.out) if args.out else None
    fmt = args.format or ("yaml" if out and out.suffix in (".yaml", ".yml") else "json")
    text = render(template, fmt)
    if out is None:
        sys.stdout.write(text)
        return 0
    out.write_text(text)
    kinds: dict[str, int] = {}
    for resource in template["Resources"].values():
        kinds[resource["Type"]] = kinds.get(resource["Type"], 0) + 1
    summary = ", ".join(f"{n} {t.split('::')[-1]}" for t, n in sorted(kinds.items()))
    print(f"Wrote {out} ({len(template['Resources'])} resources: {summary})")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from heron.deploy.notifier import secret_parameter, secret_variables
    from heron.deploy.stack import DeployOptions, deploy
    from heron.deploy.synth import synthesize

    if not args.aws and not args.endpoint_url:
        raise DeployError(
            "say where to deploy: --endpoint-url URL (a local CloudFormation endpoint) or --aws"
            " (your real AWS account; costs money)"
        )
    target = _target(args)
    template = synthesize(target)
    params: dict[str, str] = {}
    if args.alarm_email:
        params["AlarmEmail"] = args.alarm_email
    for variable in secret_variables(target.notify):
        value = os.environ.get(variable)
        if not value:
            raise DeployError(
                f"[notify] reads ${{{variable}}}: set {variable} in this shell to deploy"
                " (its value goes to the notifier as a NoEcho parameter)"
            )
        params[secret_parameter(variable)] = value
    options = DeployOptions(
        stack_name=args.stack_name or f"heron-{args.stage}",
        region=args.region,
        profile=args.profile,
        endpoint_url=args.endpoint_url,
        bucket=args.bucket,
        parameters=params,
        deps_dir=Path(args.deps_dir) if args.deps_dir else None,
        yes=args.yes,
    )
    return deploy(template, options)


def _aws_errors() -> tuple[type[BaseException], ...]:
    try:
        errors = importlib.import_module("botocore.exceptions")
    except ImportError:
        return ()
    return (errors.BotoCoreError, errors.ClientError)


def _run(func: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except (DeployError, ConfigError) as exc:
            print(f"heron deploy: error: {exc}", file=sys.stderr)
            return 2
        except _aws_errors() as exc:
            # AWS refused a call after the checks passed (permissions, quotas, a conflict).
            print(f"heron deploy: AWS error: {exc}", file=sys.stderr)
            return 1

    return run


def _common(parser: argparse.ArgumentParser, *, inherit: bool = False) -> None:
    # On the ``synth`` subcommand, defaults are suppressed so an option given before ``synth``
    # (``heron deploy --stage x synth``) is not overwritten by the subcommand's default.
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if inherit else value

    parser.add_argument(
        "--stage",
        default=default("prod"),
        help="stage name; names are heron-STAGE-* (default prod)",
    )
    parser.add_argument(
        "--config", default=default(None), help="config file (default ./heron.toml if present)"
    )
    parser.add_argument(
        "--runtime",
        default=default("python3.12"),
        help="Lambda Python runtime (default python3.12)",
    )
    parser.add_argument(
        "--log-retention-days",
        type=int,
        default=default(30),
        help="log group retention in days (default 30)",
    )


def add_deploy_commands(sub: Any) -> None:
    """Register ``heron deploy`` and ``heron deploy synth``."""
    deploy = sub.add_parser(
        "deploy",
        help="deploy to AWS with a change set (or `deploy synth` to write the template)",
        description="Create or update the stack through a change set: preview, confirm, execute.",
    )
    _common(deploy)
    where = deploy.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoint-url", help="a local CloudFormation-compatible endpoint (e.g. moto)"
    )
    where.add_argument("--aws", action="store_true", help="deploy to real AWS (explicit opt-in)")
    deploy.add_argument("--stack-name", help="stack name (default heron-STAGE)")
    deploy.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    deploy.add_argument("--profile", help="AWS profile for credentials")
    deploy.add_argument(
        "--bucket", help="S3 bucket for the package (default heron-deploy-ACCOUNT-REGION)"
    )
    deploy.add_argument("--alarm-email", help="also e-mail alarms here, straight from the topics")
    deploy.add_argument("--deps-dir", help="directory of Lambda-built dependencies to include")
    deploy.add_argument("--yes", action="store_true", help="execute the change set without asking")
    deploy.set_defaults(func=_run(_deploy))
    actions = deploy.add_subparsers(dest="deploy_command", metavar="[synth]")
    synth = actions.add_parser("synth", help="write the CloudFormation (SAM) template")
    _common(synth, inherit=True)
    synth.add_argument("--out", help="file to write (.json or .yaml); default stdout")
    synth.add_argument("--format", choices=("json", "yaml"), help="default: from --out, else json")
    synth.set_defaults(func=_run(_synth))
