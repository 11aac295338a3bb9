"""``heron tables create``: create the four tables in DynamoDB with their keys, indexes and TTL.

The endpoint and region resolve like every setting (flag, ``HERON_DYNAMODB_*``, ``heron.toml``,
default); with neither, the tables go to AWS in ``dynamodb_region`` with the caller's AWS
credentials. Tables that already exist with the right keys are reported, not an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from heron.errors import ConfigError, TableError


def add_tables_commands(sub: Any) -> None:
    """Register ``heron tables create`` on the top-level subparsers."""
    tables = sub.add_parser("tables", help="manage the DynamoDB tables")
    actions = tables.add_subparsers(dest="tables_command", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create Users, Messages, Notifications and Connections in DynamoDB (idempotent)",
    )
    create.add_argument("--endpoint", help="DynamoDB endpoint URL (default: AWS for the region)")
    create.add_argument("--region", help="AWS region (default: dynamodb_region, else region)")
    create.add_argument("--config", help="config file (default ./heron.toml if present)")
    create.set_defaults(func=_cmd_create)


def _cmd_create(args: argparse.Namespace) -> int:
    from heron.settings import load_settings
    from heron.tables.dynamodb_admin import ensure_tables
    from heron.tables.dynamodb_client import DynamoConfig, make_client
    from heron.tables.schema import schemas_with_capacity

    config_path = Path(args.config) if args.config else None
    settings = load_settings(
        config_path, overrides={"dynamodb_endpoint": args.endpoint, "dynamodb_region": args.region}
    )
    config = DynamoConfig.from_settings(settings.values)
    schemas = schemas_with_capacity(str(settings["table_capacity"]))
    print(f"heron: creating {len(schemas)} tables in DynamoDB at {config.where}", flush=True)

    def progress(line: str) -> None:
        print(f"heron: {line}", flush=True)

    try:
        client = make_client(config)
    except ConfigError as exc:
        print(f"heron: {exc}", file=sys.stderr)
        return 1
    try:
        reports = ensure_tables(client, schemas, progress=progress, endpoint=config.endpoint)
    except (ConfigError, TableError) as exc:
        print(f"heron: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    created = sum(1 for r in reports if r.status == "created")
    print(f"heron: done: {created} created, {len(reports) - created} already existed", flush=True)
    return 0
