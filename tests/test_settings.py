"""Settings resolve flag > environment > heron.toml > default, and every setting is documented."""

from pathlib import Path

import pytest

from heron.errors import ConfigError
from heron.settings import load_settings
from heron.settings_table import SETTINGS
from heron.types import FunctionSpec

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_is_documented_with_its_variable() -> None:
    text = DOCS.read_text()
    for setting in SETTINGS:
        assert f"`{setting.name}`" in text, setting.name
        assert f"`{setting.env_var}`" in text, setting.env_var


def test_resolution_order_is_flag_then_environment_then_file_then_default(tmp_path: Path) -> None:
    config = tmp_path / "heron.toml"
    config.write_text("port = 9001\nmonitor_port = 9002\nthrottle_rate = 5\n")
    env = {"HERON_MONITOR_PORT": "9102", "HERON_THROTTLE_RATE": "7"}
    settings = load_settings(config, overrides={"throttle_rate": 9}, environ=env)
    assert settings["port"] == 9001 and settings.sources["port"] == str(config)
    assert (
        settings["monitor_port"] == 9102
        and settings.sources["monitor_port"] == "HERON_MONITOR_PORT"
    )
    assert settings["throttle_rate"] == 9.0 and settings.sources["throttle_rate"] == "flag"
    assert settings["host"] == "127.0.0.1" and settings.sources["host"] == "default"


def test_declared_functions_add_to_and_replace_defaults(tmp_path: Path) -> None:
    config = tmp_path / "heron.toml"
    config.write_text(
        '[[functions]]\nname = "ping"\nhandler = "app.ping.handler"\nhttp_routes = ["GET /ping"]\n'
        "authorized = false\n\n"
        '[[functions]]\nname = "getUser"\nhandler = "mine.get_user"\nmemory_mb = 512\n'
    )
    default = FunctionSpec("getUser", "heron.functions.users.get_user")
    settings = load_settings(config, environ={}, default_functions=[default])
    by_name = {f.name: f for f in settings.functions}
    assert by_name["getUser"].handler == "mine.get_user" and by_name["getUser"].memory_mb == 512
    assert by_name["ping"].http_routes == ("GET /ping",) and not by_name["ping"].authorized


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = 'eighty'\n", "port"),
        ("no_such_setting = 1\n", "no_such_setting"),
        ("[[functions]]\nname = 'x'\n", "'name' and 'handler' are required"),
        ("[[functions]]\nname = 'x'\nhandler = 'a.b'\nmemory_mb = 64\n", "memory_mb"),
        ("[[functions]]\nname = 'x'\nhandler = 'a.b'\ncolour = 1\n", "unknown keys"),
        ("port = [", "invalid TOML"),
    ],
)
def test_bad_configuration_is_refused_with_the_offending_name(
    tmp_path: Path, text: str, message: str
) -> None:
    config = tmp_path / "heron.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(config, environ={})


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="HERON_PORT"):
        load_settings(None, environ={"HERON_PORT": "x"})
