"""Secrets (webhook URLs, SMTP passwords) from ``${ENV_VAR}`` or files, kept out of every log.

A Secret prints as ``Secret(<where it came from>)``; only ``reveal()`` gives the value, and only
channels call it, at the moment they send. Every revealed value is registered so ``redact`` (and
the logging filter installed on httpx's loggers, which log request URLs) can blank it out of any
text that might be stored or printed: error messages, ledger details, log records.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

from heron.errors import ConfigError

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_known: set[str] = set()
_known_lock = threading.Lock()
MASK = "***"
#: Loggers that may print request URLs or our own errors; a filter on each blanks secrets.
REDACTED_LOGGERS = ("httpx", "httpcore", "heron.notify", "smtplib")


class Secret:
    """A value that never shows itself in ``str``/``repr``."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source
        _remember(value)

    def reveal(self) -> str:
        """The value itself (for the channel that sends with it, and nothing else)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.source})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _remember(value: str) -> None:
    if len(value) >= 4:  # masking very short strings would mangle ordinary text
        with _known_lock:
            _known.add(value)


def redact(text: str) -> str:
    """``text`` with every known secret value replaced by ``***``."""
    with _known_lock:
        values = sorted(_known, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def resolve_secret(
    raw: object, key: str, environ: Mapping[str, str] | None = None, *, file: object = None
) -> Secret:
    """A Secret from ``raw`` (``${VAR}`` substituted from the environment) or from ``file``.

    ``key`` names the setting in errors, e.g. ``notify.channels.team.url``.
    """
    env = os.environ if environ is None else environ
    if file is not None:
        path = Path(str(file)).expanduser()
        try:
            value = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{key}_file: cannot read {path}: {exc.strerror}") from None
        if not value:
            raise ConfigError(f"{key}_file: {path} is empty")
        return Secret(value, f"file {path}")
    if not isinstance(raw, str) or not raw:
        raise ConfigError(
            f"{key}: required (a string, ${{ENV_VAR}} or {key.rsplit('.', 1)[-1]}_file)"
        )
    missing = [m for m in _ENV.findall(raw) if m not in env]
    if missing:
        raise ConfigError(f"{key}: environment variable {missing[0]} is not set")
    names = _ENV.findall(raw)
    value = _ENV.sub(lambda m: env[m.group(1)], raw)
    source = f"env {', '.join(names)}" if names else "heron.toml"
    return Secret(value, source)


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message with secrets blanked out."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record, but redacted."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's problem, not ours
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_installed = False


def install_log_redaction() -> None:
    """Attach the redacting filter to the loggers that could print a secret (idempotent)."""
    global _installed
    with _known_lock:
        if _installed:
            return
        _installed = True
    for name in REDACTED_LOGGERS:
        logging.getLogger(name).addFilter(RedactingFilter())
    for name in ("httpcore.connection", "httpcore.http11"):
        logging.getLogger(name).addFilter(RedactingFilter())
