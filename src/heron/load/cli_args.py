"""The ``heron load`` command: its options and its entry point, for the CLI to wire in."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from collections.abc import Callable
from typing import TextIO

import orjson


def _number(kind: str, ok: Callable[[float], bool]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}")
        return value

    return parse


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


_positive = _number("a positive number", lambda v: v > 0)
_fraction = _number("a fraction between 0 and 1", lambda v: 0 <= v <= 1)
_non_negative = _number("zero or a positive number", lambda v: v >= 0)


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``heron load`` options to ``parser``."""
    parser.add_argument(
        "--url",
        default="http://127.0.0.1:8080",
        metavar="URL",
        help="application port of the Heron service to load (default: %(default)s)",
    )
    parser.add_argument(
        "--users",
        type=_count,
        default=20,
        metavar="N",
        help="simulated users to sign up; they chat in WebSocket pairs (default: %(default)s)",
    )
    parser.add_argument(
        "--rate",
        type=_positive,
        default=50.0,
        metavar="OPS",
        help="target operations per second, all users together; operations are launched on "
        "schedule without waiting for earlier ones (open loop) (default: %(default)s)",
    )
    parser.add_argument(
        "--duration",
        type=_positive,
        default=30.0,
        metavar="SECONDS",
        help="how long to send load, after sign-up; the run then stops by itself "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--ws-fraction",
        type=_fraction,
        default=0.5,
        metavar="F",
        help="share of operations that are WebSocket chat messages, timed from send to the "
        "recipient's frame; 0 disables WebSocket (default: %(default)s)",
    )
    parser.add_argument(
        "--error-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="share of requests deliberately malformed (bad JSON, unknown route, bad token); "
        "each must be answered with a 4xx (default: %(default)s)",
    )
    parser.add_argument(
        "--inject-latency-ms",
        type=_non_negative,
        default=0.0,
        metavar="MS",
        help="send header x-heron-inject-latency-ms with every request, asking a service that "
        "honours it to add that much latency; 0 sends no header (default: %(default)s)",
    )
    parser.add_argument(
        "--inject-error-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="share of well-formed requests sent with header x-heron-inject-error, asking a "
        "service with fault injection on (`heron up --demo`) to fail the handler; their 5xx "
        "answers count as error kind 'injected' (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="seed the operation mix for a repeatable run (default: random)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --url that is not on this machine (off by default, so a typo never "
        "floods someone else's server)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the summary as JSON on stdout instead of a table",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no live progress line (progress goes to stderr otherwise)",
    )


async def main_load(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run ``heron load`` with parsed ``args``; returns the exit code (0 ran, 1 could not run)."""
    # Here, not at the top: building the CLI's parser imports this module, and ``heron up``
    # should not load the generator's HTTP and WebSocket clients just to parse its arguments.
    from heron.load.generator import LoadError, is_loopback_url, run_load
    from heron.load.progress import ProgressPrinter
    from heron.load.summary import format_summary

    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if not args.allow_remote and not is_loopback_url(args.url):
        err.write(
            f"heron load: {args.url} is not on this machine; pass --allow-remote to load it anyway\n"
        )
        return 1
    try:
        summary = await run_load(
            args.url,
            users=args.users,
            rate=args.rate,
            duration_s=args.duration,
            ws_fraction=args.ws_fraction,
            error_rate=args.error_rate,
            latency_injection_ms=args.inject_latency_ms,
            error_injection_rate=args.inject_error_rate,
            progress=None if args.quiet else ProgressPrinter(err),
            seed=args.seed,
        )
    except LoadError as exc:
        err.write(f"heron load: {exc}\n")
        return 1
    if args.json:
        out.write(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        out.write(format_summary(summary) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point (``python -m heron.load``) until the CLI wires ``heron load``."""
    parser = argparse.ArgumentParser(
        prog="heron load", description="Send a bounded, open-loop load to a running Heron service."
    )
    add_load_arguments(parser)
    return asyncio.run(main_load(parser.parse_args(argv)))
