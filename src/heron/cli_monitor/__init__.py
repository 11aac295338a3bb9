"""The monitor's command-line readers: ``heron metrics list|get`` and ``heron logs tail|filter|groups``.

They talk to a running ``heron up`` through its AWS-compatible API (botocore, signed with the
key pair in ``<data-dir>/credentials``) and print readable tables, or JSON with ``--json``.
"""

from __future__ import annotations

from typing import Any

from heron.cli_monitor.logs import add_logs_commands
from heron.cli_monitor.metrics import add_metrics_commands

__all__ = ["add_monitor_commands"]


def add_monitor_commands(subparsers: Any) -> None:
    """Register the ``metrics`` and ``logs`` command groups on ``heron``'s subparsers."""
    add_metrics_commands(subparsers)
    add_logs_commands(subparsers)
