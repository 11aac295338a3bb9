"""The ``heron`` command: start the system, invoke a function, generate load, show settings."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import orjson

from heron.errors import ConfigError
from heron.settings import ResolvedSettings, load_settings
from heron.settings_table import SETTINGS


def _default_functions() -> tuple[Any, ...]:
    from heron.functions.specs import DEFAULT_FUNCTIONS

    return tuple(DEFAULT_FUNCTIONS)


def _settings(args: argparse.Namespace, **overrides: Any) -> ResolvedSettings:
    config = Path(args.config) if getattr(args, "config", None) else None
    return load_settings(config, overrides=overrides, default_functions=_default_functions())


def _cmd_up(args: argparse.Namespace) -> int:
    from heron.gateway.gc_freeze import use_server_thresholds
    from heron.up import run_up

    settings = _settings(
        args,
        host=args.host,
        port=args.port,
        monitor_port=args.monitor_port,
        data_dir=args.data_dir,
        tables_backend=args.tables,
        dynamodb_endpoint=args.dynamodb_endpoint,
    )
    use_server_thresholds()  # this process is the server from here on
    with contextlib.suppress(KeyboardInterrupt):
        run_event_loop(run_up(settings, demo=args.demo))
    return 0


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop when it is installed (it serves sockets markedly faster), else asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def _cmd_invoke(args: argparse.Namespace) -> int:
    from heron.up import invoke_once

    settings = _settings(args, data_dir=args.data_dir)
    event_text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text()
    try:
        event = orjson.loads(event_text) if event_text.strip() else {}
    except orjson.JSONDecodeError as exc:
        print(f"heron invoke: {args.event} is not valid JSON: {exc}", file=sys.stderr)
        return 2
    return invoke_once(settings, args.function, event)


def _cmd_load(args: argparse.Namespace) -> int:
    from heron.load.cli_args import main_load

    return asyncio.run(main_load(args))


def _cmd_config_show(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.json:
        body = {
            "settings": {
                s.name: {"value": settings[s.name], "source": settings.sources[s.name]}
                for s in SETTINGS
            },
            "functions": [
                {
                    "name": f.name,
                    "handler": f.handler,
                    "memory_mb": f.memory_mb,
                    "timeout_s": f.timeout_s,
                    "http_routes": list(f.http_routes),
                    "ws_routes": list(f.ws_routes),
                }
                for f in settings.functions
            ],
        }
        print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
        return 0
    width = max(len(s.name) for s in SETTINGS)
    print(f"{'SETTING':<{width}}  {'VALUE':<14}  {'SOURCE':<28}  HELP")
    for s in SETTINGS:
        value = str(settings[s.name])
        print(f"{s.name:<{width}}  {value:<14}  {settings.sources[s.name]:<28}  {s.help}")
    print()
    print("FUNCTIONS")
    for f in settings.functions:
        routes = ", ".join(f.http_routes + f.ws_routes) or "(no routes)"
        print(f"  {f.name:<22} {f.memory_mb:>5} MB {f.timeout_s:>5.1f} s  {f.handler}  [{routes}]")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every ``heron`` subcommand."""
    parser = argparse.ArgumentParser(
        prog="heron",
        description="Heron: a serverless real-time messaging backend with its own monitoring.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start the gateway, Lambda runtime and monitor")
    up.add_argument("--host", help="address to bind (default 127.0.0.1)")
    up.add_argument("--port", type=int, help="application port (default 8080)")
    up.add_argument("--monitor-port", type=int, help="monitor port (default 4566)")
    up.add_argument("--data-dir", help="directory for all state (default ./.heron)")
    up.add_argument("--config", help="config file (default ./heron.toml if present)")
    up.add_argument("--tables", choices=("sqlite", "dynamodb"), help="tables backend")
    up.add_argument("--dynamodb-endpoint", help="DynamoDB endpoint URL (dynamodb backend)")
    up.add_argument(
        "--demo",
        action="store_true",
        help="also generate gentle demo traffic, with a staged incident every"
        " demo_incident_interval_s (injected errors, then latency)",
    )
    up.set_defaults(func=_cmd_up)

    invoke = sub.add_parser("invoke", help="run one invocation, like `sam local invoke`")
    invoke.add_argument("function", help="function name, e.g. createUser")
    invoke.add_argument("--event", default="-", help="event JSON file, or - for stdin (default)")
    invoke.add_argument("--data-dir", help="directory for all state (default ./.heron)")
    invoke.add_argument("--config", help="config file (default ./heron.toml if present)")
    invoke.set_defaults(func=_cmd_invoke)

    load = sub.add_parser("load", help="simulated users doing HTTP CRUD and WebSocket chat")
    from heron.load.cli_args import add_load_arguments

    add_load_arguments(load)
    load.set_defaults(func=_cmd_load)

    config = sub.add_parser("config", help="inspect settings")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = config_sub.add_parser("show", help="every setting, its value and its source")
    show.add_argument("--config", help="config file (default ./heron.toml if present)")
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(func=_cmd_config_show)

    from heron.cli_monitor import add_monitor_commands

    add_monitor_commands(sub)
    from heron.cli_alarms import add_alarm_commands

    add_alarm_commands(sub)
    from heron.cli_notify import add_notify_commands

    add_notify_commands(sub)
    from heron.cli_deploy import add_deploy_commands

    add_deploy_commands(sub)
    from heron.cli_tables import add_tables_commands

    add_tables_commands(sub)
    from heron.cli_dashboard import add_dashboard_commands

    add_dashboard_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``heron`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"heron: configuration error: {exc}", file=sys.stderr)
        print("Run `heron config show` to see every setting and its source.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
