"""Delivery channels: each turns a Notice into one message at one destination and says how it went."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from heron.monitor.notify.model import Notice


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt's result: delivered, or why not and whether trying again can help."""

    ok: bool
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None
    status: int | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"ok ({self.status})" if self.status else "ok"
        code = f"{self.status} " if self.status else ""
        return f"{code}{self.error}".strip()


OK = Outcome(True)


class Sender(Protocol):
    """Sends a Notice to one destination; never raises (failures are Outcomes)."""

    def send(self, notice: Notice, key: str, now: float) -> Outcome:
        """Deliver ``notice`` with idempotency key ``key`` at ``now``."""
