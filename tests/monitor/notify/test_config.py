"""The [notify] configuration: secrets from env and files, errors that name the key, docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from heron.errors import ConfigError
from heron.monitor.notify.config import load_notify_config
from heron.settings import load_settings

DOCS = Path(__file__).resolve().parents[3] / "docs" / "notify.md"


def test_secrets_come_from_env_and_files_and_never_print(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("hunter2-password\n")
    cfg = load_notify_config(
        {
            "channels": {
                "slack": {"protocol": "slack", "url": "https://hooks.slack.com/services/${TOKEN}"},
                "mail": {
                    "protocol": "email", "host": "smtp", "from": "a@b.c", "to": ["d@e.f"],
                    "user": "u", "password_file": str(secret_file),
                },
            }
        },
        {"TOKEN": "T000/B000/XYZsecret"},
    )  # fmt: skip
    slack, mail = cfg.channels["slack"], cfg.channels["mail"]
    assert slack.url is not None and slack.url.reveal().endswith("XYZsecret")
    assert mail.password is not None and mail.password.reveal() == "hunter2-password"
    text = repr(cfg) + str(slack) + str(mail)
    assert "XYZsecret" not in text and "hunter2" not in text
    assert "Secret(env TOKEN)" in text


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"channels": {"s": {"protocol": "slack", "url": "${MISSING}"}}}, "notify.channels.s.url"),
        ({"channels": {"s": {"protocol": "slack", "url": "not a url"}}}, "notify.channels.s.url"),
        ({"channels": {"s": {"protocol": "pigeon"}}}, "notify.channels.s.protocol"),
        (
            {"channels": {"m": {"protocol": "email", "host": "h", "from": "x"}}},
            "notify.channels.m.from",
        ),
        (
            {
                "channels": {
                    "m": {
                        "protocol": "email",
                        "host": "h",
                        "from": "a@b",
                        "to": ["c@d"],
                        "password": "p",
                    }
                }
            },
            "notify.channels.m.user",
        ),
        ({"routes": {"alerts": {"channels": ["nowhere"]}}}, "notify.routes.alerts.channels"),
        ({"routes": {"alerts": {"channels": ["oncall"]}}}, "notify.escalation.levels"),
        (
            {"routes": {"warnings": {"channels": [], "window": "lunch"}}},
            "notify.routes.warnings.window",
        ),
        ({"escalation": {"levels": ["ghost"]}}, "notify.escalation.levels"),
        ({"flapping": {"changes": 0}}, "notify.flapping.changes"),
        (
            {
                "channels": {
                    "s": {"protocol": "slack", "url": "https://x", "retry": {"num_retries": 500}}
                }
            },
            "notify.channels.s.retry",
        ),
        ({"colour": "blue"}, "notify"),
    ],
)
def test_validation_errors_name_the_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(key)):
        load_notify_config(raw, {})


def test_a_rejected_secret_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        load_notify_config(
            {"channels": {"s": {"protocol": "slack", "url": "ftp://secret-value"}}}, {}
        )
    assert "secret-value" not in str(info.value)


def test_heron_toml_carries_the_notify_tables(tmp_path: Path) -> None:
    path = tmp_path / "heron.toml"
    path.write_text('port = 9000\n[notify.routes.alerts]\nchannels = ["inbox"]\n')
    settings = load_settings(path, environ={})
    assert settings.notify == {"routes": {"alerts": {"channels": ["inbox"]}}}
    assert load_notify_config(settings.notify).route("alerts").channels == ("inbox",)


def test_every_configuration_key_is_documented() -> None:
    text = DOCS.read_text()
    keys = {
        "public_url", "protocol", "url", "url_file", "confirm", "rate_per_s", "timeout_s", "retry",
        "host", "port", "from", "to", "starttls", "user", "password", "password_file",
        "num_retries", "num_no_delay_retries", "num_min_delay_retries", "num_max_delay_retries",
        "min_delay_s", "max_delay_s", "backoff", "channels", "window", "escalate",
        "promote_after_min", "time_zone", "days", "ranges", "holidays", "layers", "overrides",
        "allow_gaps", "name", "users", "rotation", "length_hours", "handoff", "start", "hours",
        "contacts", "levels", "after_min", "repeat_every_min", "max_loops", "changes", "window_min",
        "link_expiry_min", "snooze_min", "token", "token_file", "channel", "api_url", "alarms",
        "reason",
    }  # fmt: skip
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert not missing, missing
