"""``heron dashboard export``: the dashboard's graphs as a CloudWatch dashboard body for AWS."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson


def _cmd_export(args: argparse.Namespace) -> int:
    from heron.cli import _settings
    from heron.dashboard.history.cloudwatch_export import dashboard_body
    from heron.dashboard.layout import DashboardConfig
    from heron.up import catalogue_target

    settings = _settings(args)
    target = catalogue_target(settings)
    config = DashboardConfig.from_specs(
        settings.functions,
        tables=[t.name for t in target.tables],
        http_api_id=args.http_api_id or target.http_api_id,
        ws_api_id=args.ws_api_id or target.ws_api_id,
        account_concurrency=int(settings["account_concurrency"]),
    )
    body = dashboard_body(config, region=args.region or str(settings["region"]))
    text = orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n"
    if args.out in (None, "-"):
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"heron dashboard export: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    widgets = len(body["widgets"])
    print(f"heron: wrote a CloudWatch dashboard body ({widgets} widgets) to {args.out}")
    print(
        "Deploy it with: aws cloudwatch put-dashboard --dashboard-name Heron "
        f"--dashboard-body file://{args.out}",
        file=sys.stderr,
    )
    return 0


def add_dashboard_commands(subparsers: Any) -> None:
    """Register the ``dashboard`` command group on ``heron``'s subparsers."""
    dash = subparsers.add_parser("dashboard", help="the dashboard, for AWS")
    sub = dash.add_subparsers(dest="dashboard_command", required=True, metavar="ACTION")
    export = sub.add_parser(
        "export",
        help="write the equivalent CloudWatch dashboard body JSON (PutDashboard's DashboardBody)",
    )
    export.add_argument("--out", help="file to write (default: standard output)")
    export.add_argument("--region", help="region of the graphs (default: the region setting)")
    export.add_argument("--http-api-id", help="the HTTP API's id on AWS (default: Heron's)")
    export.add_argument("--ws-api-id", help="the WebSocket API's id on AWS (default: Heron's)")
    export.add_argument("--config", help="config file (default ./heron.toml if present)")
    export.set_defaults(func=_cmd_export)
