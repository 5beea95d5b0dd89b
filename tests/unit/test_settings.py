"""Configuration: TOML file, environment overrides, options; bad files get clear messages."""

from __future__ import annotations

import os

import pytest

from msgterm.settings import ConfigError, load_settings


def write(path, text, mode=0o600):
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_defaults_without_a_file(tmp_path):
    settings = load_settings(config_path=tmp_path / "none.toml", environ={})
    assert settings.database_url.endswith("msgterm/msgterm.db")
    assert settings.default_region == "US" and settings.bell is True
    assert settings.twilio.poll_interval == 10 and settings.twilio.history_days == 90
    assert settings.twilio.api_url == "https://api.twilio.com"
    assert not settings.twilio.configured


def test_file_then_environment_then_options(tmp_path):
    path = write(
        tmp_path / "c.toml",
        'staff = "ann"\ndatabase_url = "/tmp/a.db"\nbell = false\n[twilio]\nnumber = "+12125550100"\npoll_interval = 5\n',
    )
    settings = load_settings(config_path=path, environ={})
    assert (settings.staff, settings.database_url, settings.bell, settings.twilio.poll_interval) == (
        "ann",
        "/tmp/a.db",
        False,
        5.0,
    )
    env = {
        "MSGTERM_STAFF": "bob",
        "MSGTERM_POLL_INTERVAL": "3",
        "MSGTERM_BELL": "yes",
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "tok",
    }
    settings = load_settings(config_path=path, environ=env)
    assert (settings.staff, settings.twilio.poll_interval, settings.bell) == ("bob", 3.0, True)
    assert settings.twilio.configured
    settings = load_settings(config_path=path, environ=env, staff="cy", database="/tmp/b.db")
    assert (settings.staff, settings.database_url) == ("cy", "/tmp/b.db")


def test_config_path_from_environment(tmp_path):
    path = write(tmp_path / "other.toml", 'staff = "envfile"\n')
    assert load_settings(environ={"MSGTERM_CONFIG": str(path)}).staff == "envfile"


def test_bad_toml_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.toml", 'staff = "ann"\n\nbell = \n')
    with pytest.raises(ConfigError) as error:
        load_settings(config_path=path, environ={})
    message = str(error.value)
    assert str(path) in message and "line 3" in message


def test_wrong_types_and_unknown_keys_are_named(tmp_path):
    with pytest.raises(ConfigError, match="poll_interval must be a number"):
        load_settings(config_path=write(tmp_path / "a.toml", '[twilio]\npoll_interval = "soon"\n'), environ={})
    with pytest.raises(ConfigError, match="unknown setting colour"):
        load_settings(config_path=write(tmp_path / "b.toml", 'colour = "red"\n'), environ={})
    with pytest.raises(ConfigError, match="MSGTERM_BELL"):
        load_settings(config_path=tmp_path / "none.toml", environ={"MSGTERM_BELL": "loud"})


def test_secret_in_a_file_others_can_read_is_refused_with_the_fix(tmp_path):
    path = write(tmp_path / "s.toml", '[twilio]\naccount_sid = "AC1"\nauth_token = "supersecret"\n', mode=0o644)
    with pytest.raises(ConfigError) as error:
        load_settings(config_path=path, environ={})
    assert f"chmod 600 '{path}'" in str(error.value)
    assert "supersecret" not in str(error.value)
    os.chmod(path, 0o600)
    assert load_settings(config_path=path, environ={}).twilio.auth_token == "supersecret"


def test_settings_repr_hides_secrets(tmp_path):
    settings = load_settings(
        config_path=tmp_path / "none.toml", environ={"TWILIO_AUTH_TOKEN": "hush123", "TWILIO_API_SECRET": "hush456"}
    )
    assert "hush123" not in repr(settings) and "hush456" not in repr(settings)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("poll_interval = inf", "a number of seconds from 1 to 3600"),
        ("poll_interval = nan", "a number of seconds from 1 to 3600"),
        ("poll_interval = 1e308", "a number of seconds from 1 to 3600"),
        ("poll_interval = 0", "a number of seconds from 1 to 3600"),
        ("poll_interval = true", "a number of seconds from 1 to 3600"),
        ("history_days = 800000", "a whole number of days from 0 to 3650"),
        ("history_days = inf", "a whole number of days from 0 to 3650"),
        ("history_days = 1.5", "a whole number of days from 0 to 3650"),
        ("history_days = -1", "a whole number of days from 0 to 3650"),
        ('history_days = "1e308"', "a whole number of days from 0 to 3650"),
    ],
)
def test_numeric_settings_are_bounded_and_explained(tmp_path, line, words):
    path = tmp_path / "config.toml"
    path.write_text(f"[twilio]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(config_path=path, environ={})
    assert words in str(raised.value)
    assert line.split(" = ")[0] in str(raised.value)


def test_numeric_settings_in_range_are_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[twilio]\npoll_interval = 2.5\nhistory_days = 400\n", encoding="utf-8")
    settings = load_settings(config_path=path, environ={"MSGTERM_HISTORY_DAYS": "30"})
    assert settings.twilio.poll_interval == 2.5 and settings.twilio.history_days == 30
