"""What the ``heron notify`` and ``heron oncall`` commands share: options, config, notify.db, times."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from heron.errors import ConfigError
from heron.monitor.notify.clockfile import instance_clock
from heron.monitor.notify.config import NotifyConfig, load_notify_config
from heron.monitor.notify.notifier import open_context
from heron.monitor.notify.pipeline import Context
from heron.types import Clock


def common_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--data-dir``, ``--config`` and ``--tz`` to a subcommand's parser."""
    p.add_argument("--data-dir", help="directory for all state (default ./.heron)")
    p.add_argument("--config", help="config file (default ./heron.toml if present)")
    p.add_argument("--tz", help="time zone for times without an offset (default UTC)")
    return p


def notify_config(args: argparse.Namespace) -> NotifyConfig:
    """The ``[notify]`` configuration of the heron.toml the command names (or ./heron.toml)."""
    from heron.settings import load_settings

    path = Path(args.config) if getattr(args, "config", None) else None
    settings = load_settings(path, overrides={"data_dir": getattr(args, "data_dir", None)})
    return load_notify_config(settings.notify)


def data_dir(args: argparse.Namespace) -> Path:
    """The data directory the command names (``--data-dir``, else settings)."""
    from heron.settings import load_settings

    path = Path(args.config) if getattr(args, "config", None) else None
    return load_settings(path, overrides={"data_dir": args.data_dir}).data_dir


def notify_context(args: argparse.Namespace, *, need: bool = True) -> Context | None:
    """The notifier's context on ``<data-dir>/notify.db``; None (said if ``need``) without one."""
    db = data_dir(args) / "notify.db"
    if not db.exists():
        if need:
            print(
                f"heron: no notifications yet ({db} does not exist); run `heron up`",
                file=sys.stderr,
            )
        return None
    return open_context(notify_config(args), db)


def instance_now(args: argparse.Namespace) -> Clock:
    """The clock of the ``heron up`` running on the data directory (Heron time when it runs
    with ``time_scale`` > 1), else real time: what the notifier will compare our stamps with."""
    return instance_clock(data_dir(args))


def parse_time(text: str | None, tz: str | None, clock: Clock = time.time) -> float:
    """An ISO-8601 ``--at``/``--start``/``--end`` time (``tz`` when it has no offset) or now."""
    if not text or text == "now":
        return clock()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--at: expected a time like 2026-03-06T03:00, got {text!r}") from None
    if when.tzinfo is None:
        try:
            when = when.replace(tzinfo=ZoneInfo(tz or "UTC"))
        except ZoneInfoNotFoundError:
            raise ConfigError(f"--tz: unknown time zone {tz!r}") from None
    return when.timestamp()


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())
