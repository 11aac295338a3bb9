"""The ``[notify]`` tables of heron.toml: channels, routes per topic, hours, on-call, escalation.

Everything is validated at load; an error names the offending key (``notify.channels.team.url``).
Secrets come from ``${ENV_VAR}`` or ``*_file`` keys and stay wrapped in Secret. docs/notify.md
documents every key. With no ``[notify]`` table, both topics deliver to the local inbox.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from heron.errors import ConfigError
from heron.monitor.notify.hours import Hours, parse_hours
from heron.monitor.notify.maintenance import Window, parse_windows
from heron.monitor.notify.oncall import Schedule, parse_schedule
from heron.monitor.notify.retry import HTTP_TOTAL_CAP_S, SNS_EMAIL, RetryPolicy, parse_retry
from heron.monitor.notify.secrets import Secret, resolve_secret

PROTOCOLS = ("slack", "email", "http", "https", "inbox")
#: Channel names with a meaning of their own.
INBOX, ONCALL = "inbox", "oncall"
#: Slack allows about one message per second per webhook (and per channel for chat.postMessage).
SLACK_RATE = 1.0
#: Slack's Web API (tests point a channel's ``api_url`` at a local server instead).
SLACK_API = "https://slack.com/api"
_SECTIONS = {
    "channels", "routes", "hours", "oncall", "people", "escalation", "flapping", "public_url",
    "link_expiry_min", "snooze_min", "maintenance",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Channel:
    """One destination: a Slack webhook, an SMTP mailbox, an SNS-style HTTP(S) webhook, the inbox."""

    name: str
    protocol: str
    url: Secret | None = None
    rate_per_s: float = 0.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 10.0
    host: str = ""
    port: int = 25
    sender: str = ""
    to: tuple[str, ...] = ()
    starttls: bool = False
    user: str = ""
    password: Secret | None = None
    confirm: bool = True
    token: Secret | None = None
    slack_channel: str = ""
    api_url: str = SLACK_API


@dataclass(frozen=True, slots=True)
class Route:
    """Where a topic's alerts go and when."""

    topic: str
    channels: tuple[str, ...]
    window: str | None = None
    escalate: bool = False
    promote_after_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Escalation:
    """Unacknowledged critical incidents climb ``levels`` every ``after_s`` and then loop."""

    after_s: float = 900.0
    repeat_s: float = 900.0
    levels: tuple[str, ...] = ()
    max_loops: int = 0


@dataclass(frozen=True, slots=True)
class Flapping:
    """More than ``changes`` state changes within ``window_s`` is flapping."""

    changes: int = 4
    window_s: float = 600.0


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """The whole notification configuration."""

    channels: Mapping[str, Channel]
    routes: Mapping[str, Route]
    hours: Mapping[str, Hours]
    schedules: Mapping[str, Schedule]
    people: Mapping[str, tuple[str, ...]]
    escalation: Escalation = Escalation()
    flapping: Flapping = Flapping()
    public_url: str = "http://127.0.0.1:4566"
    link_expiry_s: float = 86400.0
    snooze_min: int = 60
    maintenance: tuple[Window, ...] = ()

    def route(self, topic: str) -> Route:
        """The route for ``topic`` (the inbox when none is configured)."""
        return self.routes.get(topic) or Route(topic, (INBOX,))

    def contacts(self, person: str) -> tuple[str, ...]:
        """The channels that reach ``person`` (the inbox when none are configured)."""
        return self.people.get(person) or (INBOX,)


def _table(raw: Any, key: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{key}: expected a table")
    return raw


def _check_keys(raw: Mapping[str, Any], key: str, allowed: set[str]) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"{key}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")


def _number(raw: Mapping[str, Any], name: str, key: str, default: float) -> float:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key}.{name}: expected a non-negative number, got {value!r}")
    return float(value)


def _url(secret: Secret, key: str, schemes: tuple[str, ...]) -> Secret:
    parts = urlsplit(secret.reveal())
    if parts.scheme not in schemes or not parts.netloc:
        # Never echo the value: it is a secret. Say what shape was expected instead.
        raise ConfigError(f"{key}: expected a {' or '.join(schemes)} URL (value hidden)")
    return secret


def parse_channel(name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> Channel:
    """One ``[notify.channels.NAME]`` table."""
    key = f"notify.channels.{name}"
    protocol = raw.get("protocol")
    if protocol not in PROTOCOLS:
        raise ConfigError(f"{key}.protocol: one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    common = {"protocol", "retry", "rate_per_s", "timeout_s"}
    timeout = _number(raw, "timeout_s", key, 10.0)
    if protocol == "inbox":
        _check_keys(raw, key, {"protocol"})
        return Channel(name, "inbox")
    if protocol == "slack" and ("token" in raw or "token_file" in raw):
        return _slack_bot(name, raw, env, key, common, timeout)
    if protocol in ("slack", "http", "https"):
        _check_keys(raw, key, common | {"url", "url_file", "confirm"})
        schemes = ("https", "http") if protocol != "https" else ("https",)
        url = _url(
            resolve_secret(raw.get("url"), f"{key}.url", env, file=raw.get("url_file")),
            f"{key}.url",
            schemes,
        )
        rate = _number(raw, "rate_per_s", key, SLACK_RATE if protocol == "slack" else 0.0)
        retry = parse_retry(
            raw.get("retry"), f"{key}.retry", RetryPolicy(), max_total_s=HTTP_TOTAL_CAP_S
        )
        confirm = raw.get("confirm", True)
        if not isinstance(confirm, bool):
            raise ConfigError(f"{key}.confirm: expected true or false")
        return Channel(
            name,
            protocol,
            url=url,
            rate_per_s=rate,
            retry=retry,
            timeout_s=timeout,
            confirm=confirm,
        )
    allowed = common | {
        "host",
        "port",
        "from",
        "to",
        "starttls",
        "user",
        "password",
        "password_file",
    }
    _check_keys(raw, key, allowed)
    host = raw.get("host")
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{key}.host: the SMTP server's host name is required")
    port = raw.get("port", 25)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"{key}.port: expected a TCP port, got {port!r}")
    sender, to = raw.get("from"), raw.get("to")
    if not isinstance(sender, str) or "@" not in sender:
        raise ConfigError(f"{key}.from: an email address is required")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to or not all(isinstance(t, str) and "@" in t for t in to):
        raise ConfigError(f"{key}.to: expected a list of email addresses")
    password = None
    if "password" in raw or "password_file" in raw:
        password = resolve_secret(
            raw.get("password"), f"{key}.password", env, file=raw.get("password_file")
        )
    user = raw.get("user", "")
    if password is not None and not user:
        raise ConfigError(f"{key}.user: a password needs a user")
    starttls = raw.get("starttls", False)
    if not isinstance(starttls, bool):
        raise ConfigError(f"{key}.starttls: expected true or false")
    # SNS's customer-managed policy (email): slower, longer; overridable like any other.
    return Channel(
        name, "email", rate_per_s=_number(raw, "rate_per_s", key, 0.0),
        retry=parse_retry(raw.get("retry"), f"{key}.retry", SNS_EMAIL), timeout_s=timeout,
        host=host, port=port, sender=sender, to=tuple(to), starttls=starttls, user=str(user),
        password=password,
    )  # fmt: skip


def parse_route(
    topic: str, raw: Mapping[str, Any], known: set[str], hours: Mapping[str, Hours]
) -> Route:
    """One ``[notify.routes.TOPIC]`` table."""
    key = f"notify.routes.{topic}"
    _check_keys(raw, key, {"channels", "window", "escalate", "promote_after_min"})
    channels = raw.get("channels")
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise ConfigError(f"{key}.channels: expected a list of channel names")
    for c in channels:
        if c not in known:
            raise ConfigError(
                f"{key}.channels: no channel named {c!r} (define [notify.channels.{c}])"
            )
    window = raw.get("window", "always")
    if window != "always" and window not in hours:
        raise ConfigError(f"{key}.window: 'always' or the name of a [notify.hours.NAME] table")
    escalate = raw.get("escalate", ONCALL in channels)
    if not isinstance(escalate, bool):
        raise ConfigError(f"{key}.escalate: expected true or false")
    promote = _number(raw, "promote_after_min", key, 0.0) * 60
    return Route(
        topic, tuple(channels), None if window == "always" else str(window), escalate, promote
    )


def load_notify_config(
    raw: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
) -> NotifyConfig:
    """The configuration from heron.toml's ``[notify]`` table (defaults when absent)."""
    env = os.environ if environ is None else environ
    raw = _table(raw, "notify")
    _check_keys(raw, "notify", _SECTIONS)
    hours = {
        n: parse_hours(_table(h, f"notify.hours.{n}"), f"notify.hours.{n}")
        for n, h in _table(raw.get("hours"), "notify.hours").items()
    }
    hours.setdefault("business", parse_hours({}, "notify.hours.business"))
    channels = {
        n: parse_channel(n, _table(c, f"notify.channels.{n}"), env)
        for n, c in _table(raw.get("channels"), "notify.channels").items()
    }
    if ONCALL in channels:
        raise ConfigError("notify.channels.oncall: 'oncall' is reserved for whoever is on call")
    channels.setdefault(INBOX, Channel(INBOX, "inbox"))
    schedules = {
        n: parse_schedule(n, _table(s, f"notify.oncall.{n}"), f"notify.oncall.{n}", hours)
        for n, s in _table(raw.get("oncall"), "notify.oncall").items()
    }
    people: dict[str, tuple[str, ...]] = {}
    for person, p in _table(raw.get("people"), "notify.people").items():
        key = f"notify.people.{person}"
        _check_keys(_table(p, key), key, {"contacts"})
        contacts = p.get("contacts")
        if not isinstance(contacts, list) or not contacts:
            raise ConfigError(f"{key}.contacts: expected a list of channel names")
        for c in contacts:
            if c not in channels:
                raise ConfigError(f"{key}.contacts: no channel named {c!r}")
        people[person] = tuple(contacts)
    known = set(channels) | {ONCALL}
    routes = {
        t: parse_route(t, _table(r, f"notify.routes.{t}"), known, hours)
        for t, r in _table(raw.get("routes"), "notify.routes").items()
    }
    routes.setdefault("alerts", Route("alerts", (INBOX,)))
    routes.setdefault("warnings", Route("warnings", (INBOX,), window="business"))
    escalation = _escalation(_table(raw.get("escalation"), "notify.escalation"), schedules)
    if any(ONCALL in r.channels for r in routes.values()) and not escalation.levels:
        raise ConfigError(
            "notify.escalation.levels: a route pages 'oncall' but no escalation levels "
            "name a schedule (e.g. levels = ['primary'])"
        )
    flap_raw = _table(raw.get("flapping"), "notify.flapping")
    _check_keys(flap_raw, "notify.flapping", {"changes", "window_min"})
    changes = flap_raw.get("changes", 4)
    if isinstance(changes, bool) or not isinstance(changes, int) or changes < 1:
        raise ConfigError("notify.flapping.changes: expected a positive whole number")
    flapping = Flapping(changes, _number(flap_raw, "window_min", "notify.flapping", 10.0) * 60)
    public_url = raw.get("public_url", "http://127.0.0.1:4566")
    if not isinstance(public_url, str) or urlsplit(public_url).scheme not in ("http", "https"):
        raise ConfigError("notify.public_url: expected an http(s) URL")
    expiry = _number(raw, "link_expiry_min", "notify", 1440.0) * 60
    snooze_min = raw.get("snooze_min", 60)
    if isinstance(snooze_min, bool) or not isinstance(snooze_min, int) or snooze_min < 1:
        raise ConfigError("notify.snooze_min: expected a positive whole number of minutes")
    if expiry <= 0:
        raise ConfigError("notify.link_expiry_min: expected a positive number of minutes")
    windows = parse_windows(_table(raw.get("maintenance"), "notify.maintenance"))
    return NotifyConfig(channels, routes, hours, schedules, people, escalation, flapping,
                        public_url.rstrip("/"), expiry, snooze_min, windows)  # fmt: skip


def _slack_bot(
    name: str,
    raw: Mapping[str, Any],
    env: Mapping[str, str],
    key: str,
    common: set[str],
    timeout: float,
) -> Channel:
    """A Slack channel posting with a bot token (chat.postMessage), which allows threads."""
    _check_keys(raw, key, common | {"token", "token_file", "channel", "api_url"})
    token = resolve_secret(raw.get("token"), f"{key}.token", env, file=raw.get("token_file"))
    channel = raw.get("channel")
    if not isinstance(channel, str) or not channel.strip():
        raise ConfigError(f"{key}.channel: a bot token needs the Slack channel id, e.g. 'C0123ABC'")
    api_url = raw.get("api_url", SLACK_API)
    if not isinstance(api_url, str) or urlsplit(api_url).scheme not in ("http", "https"):
        raise ConfigError(f"{key}.api_url: expected an http(s) URL like {SLACK_API}")
    return Channel(
        name, "slack", rate_per_s=_number(raw, "rate_per_s", key, SLACK_RATE),
        retry=parse_retry(raw.get("retry"), f"{key}.retry", RetryPolicy(),
                          max_total_s=HTTP_TOTAL_CAP_S), timeout_s=timeout,
        token=token, slack_channel=channel.strip(), api_url=api_url.rstrip("/"),
    )  # fmt: skip


def _escalation(raw: Mapping[str, Any], schedules: Mapping[str, Schedule]) -> Escalation:
    key = "notify.escalation"
    _check_keys(raw, key, {"after_min", "repeat_every_min", "levels", "max_loops"})
    levels = raw.get("levels", list(schedules)[:1])
    if not isinstance(levels, list) or not all(isinstance(v, str) for v in levels):
        raise ConfigError(f"{key}.levels: expected a list of schedule names or 'user:NAME'")
    for level in levels:
        if not level.startswith("user:") and level not in schedules:
            raise ConfigError(f"{key}.levels: no schedule named {level!r} in [notify.oncall]")
    after = _number(raw, "after_min", key, 15.0) * 60
    repeat = _number(raw, "repeat_every_min", key, after / 60) * 60
    if levels and (after <= 0 or repeat <= 0):
        raise ConfigError(
            f"{key}.after_min: escalation needs positive after_min and repeat_every_min"
        )
    loops = raw.get("max_loops", 0)
    if isinstance(loops, bool) or not isinstance(loops, int) or loops < 0:
        raise ConfigError(f"{key}.max_loops: a whole number, 0 for no cap")
    return Escalation(after, repeat, tuple(levels), loops)
