"""Settings from the TOML file, the environment and the command line (PRODUCT.md §5)."""

from __future__ import annotations

import getpass
import math
import os
import stat
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from msgterm.domain.errors import MsgtermError
from msgterm.domain.when import QuietHours

APP_NAME = "msgterm"


class ConfigError(MsgtermError):
    """The configuration file or an environment variable is wrong."""


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str | None = None
    auth_token: str | None = field(default=None, repr=False)
    api_key: str | None = None
    api_secret: str | None = field(default=None, repr=False)
    number: str | None = None
    #: Every number whose messages are read (a Messaging Service's sender pool); empty: ``number``.
    numbers: tuple[str, ...] = ()
    messaging_service_sid: str | None = None
    api_url: str = "https://api.twilio.com"
    poll_interval: float = 10.0
    history_days: int = 90

    @property
    def configured(self) -> bool:
        has_auth = bool(self.auth_token) or bool(self.api_key and self.api_secret)
        return bool(self.account_sid and has_auth and (self.number or self.messaging_service_sid))

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.auth_token, self.api_secret) if s)


@dataclass(frozen=True)
class Settings:
    database_url: str
    staff: str
    default_region: str = "US"
    bell: bool = True
    #: Which new messages alert this person: "all", "mine", "mine_and_unassigned" (domain/team.py).
    alerts: str = "mine_and_unassigned"
    #: When nothing goes out unasked, in the business's local time ("21:00-08:00").
    quiet_hours: QuietHours | None = None
    twilio: TwilioSettings = TwilioSettings()
    config_path: Path | None = None


def config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME)


def data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def log_dir() -> Path:
    from platformdirs import user_log_path

    return user_log_path(APP_NAME)


def default_database_path() -> Path:
    return data_dir() / "msgterm.db"


def demo_database_path() -> Path:
    return data_dir() / "demo.db"


_ENV = {
    "database_url": "MSGTERM_DATABASE_URL",
    "staff": "MSGTERM_STAFF",
    "default_region": "MSGTERM_DEFAULT_REGION",
    "bell": "MSGTERM_BELL",
    "alerts": "MSGTERM_ALERTS",
    "quiet_hours": "MSGTERM_QUIET_HOURS",
    "twilio.account_sid": "TWILIO_ACCOUNT_SID",
    "twilio.auth_token": "TWILIO_AUTH_TOKEN",
    "twilio.api_key": "TWILIO_API_KEY",
    "twilio.api_secret": "TWILIO_API_SECRET",
    "twilio.number": "MSGTERM_TWILIO_NUMBER",
    "twilio.numbers": "MSGTERM_TWILIO_NUMBERS",
    "twilio.messaging_service_sid": "MSGTERM_TWILIO_MESSAGING_SERVICE_SID",
    "twilio.api_url": "MSGTERM_TWILIO_API_URL",
    "twilio.poll_interval": "MSGTERM_POLL_INTERVAL",
    "twilio.history_days": "MSGTERM_HISTORY_DAYS",
}
_SECRET_KEYS = {"auth_token", "api_secret"}
#: Numeric settings: (lowest, highest, unit). Polling more often than each second would
#: spend Twilio's rate limit on nothing; less often than hourly would not be a live inbox.
#: Twilio keeps about 400 days of message log; ten years leaves room and stays a date.
BOUNDS = {
    "twilio.poll_interval": (1.0, 3600.0, "seconds"),
    "twilio.history_days": (0, 3650, "days"),
}


def _read_file(path: Path) -> dict:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read the config file {path}: {error.strerror}") from None
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        # tomllib says where: "Expected '=' after a key in a key/value pair (at line 3, column 7)"
        raise ConfigError(f"{path}: {error}. Fix that line, or move the file away to start from defaults.") from None
    twilio = data.get("twilio", {})
    if isinstance(twilio, dict) and any(twilio.get(key) for key in _SECRET_KEYS):
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"{path} holds a Twilio secret but other users can read it (mode {stat.filemode(mode)}). Run: chmod 600 '{path}'"
            )
    return data


def _coerce(key: str, value, source: str):
    def fail(kind: str):
        raise ConfigError(f"{source}: {key} must be {kind}, not {value!r}")

    if key in ("bell",):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.strip().lower() in ("1", "true", "yes", "on")
        fail("true or false")
    if key == "alerts":
        from msgterm.domain.team import AlertsFor

        if isinstance(value, str) and value.strip().lower() in AlertsFor.__members__.values():
            return value.strip().lower()
        fail('"all", "mine" or "mine_and_unassigned"')
    if key == "quiet_hours":
        from msgterm.domain.errors import ValidationError

        if not isinstance(value, str):
            fail('a span of local time like "21:00-08:00"')
        try:
            return QuietHours.parse(value)
        except ValidationError:
            fail('a span of local time like "21:00-08:00"')
    if key in BOUNDS:
        low, high, unit = BOUNDS[key]
        whole = unit == "days"
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            fail(f"a number of {unit} from {low:g} to {high:g}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            fail(f"a number of {unit} from {low:g} to {high:g}")
        if not math.isfinite(number) or not low <= number <= high or (whole and not number.is_integer()):
            fail(f"{'a whole' if whole else 'a'} number of {unit} from {low:g} to {high:g}")
        return int(number) if whole else number
    if key == "twilio.numbers":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
            fail('a list of numbers, e.g. ["+12125550100", "+12125550101"]')
        numbers = tuple(item.strip() for item in items if item.strip())
        bad = [n for n in numbers if not (n.startswith("+") and n[1:].isdigit())]
        if bad:
            fail(f"numbers in E.164 form (+ and digits); {bad[0]!r} is not")
        return numbers
    if not isinstance(value, str):
        fail("a string")
    return value


def load_settings(
    *,
    config_path: str | Path | None = None,
    database: str | None = None,
    staff: str | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Settings with the precedence command line > environment > file > defaults."""
    env = os.environ if environ is None else environ
    path = Path(config_path or env.get("MSGTERM_CONFIG") or config_dir() / "config.toml").expanduser()
    data = _read_file(path)
    flat: dict[str, object] = {}
    for key, value in data.items():
        if key == "twilio" and isinstance(value, dict):
            for sub, subvalue in value.items():
                flat[f"twilio.{sub}"] = subvalue
        else:
            flat[key] = value
    unknown = sorted(set(flat) - set(_ENV))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {', '.join(unknown)}; the settings are listed in the README")
    values = {key: _coerce(key, value, str(path)) for key, value in flat.items()}
    for key, variable in _ENV.items():
        if env.get(variable):
            values[key] = _coerce(key, env[variable], f"environment variable {variable}")
    if database:
        values["database_url"] = database
    if staff:
        values["staff"] = staff

    twilio_values = {key.split(".", 1)[1]: value for key, value in values.items() if key.startswith("twilio.")}
    region = str(values.get("default_region", "US")).upper()
    return Settings(
        database_url=str(values.get("database_url") or default_database_path()),
        staff=str(values.get("staff") or _login_name()),
        default_region=region,
        bell=bool(values.get("bell", True)),
        alerts=str(values.get("alerts", "mine_and_unassigned")),
        quiet_hours=values.get("quiet_hours"),
        twilio=TwilioSettings(**twilio_values),
        config_path=path,
    )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "staff"


def for_demo(settings: Settings) -> Settings:
    """The settings the demo runs on: its own store, whatever the config says."""
    return replace(settings, database_url=str(demo_database_path()))
