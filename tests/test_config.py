"""Settings: every wrong or missing value stops start-up with one line naming the variable
and what is expected; `.env` is read; `backcheck config` masks every secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.config import BY_NAME, VARIABLES, Settings, load_env_file, mask_url, port
from bot.errors import ConfigError

TG_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
SLACK_TOKEN = "xoxb-1234-5678-backchecktest"
APP_TOKEN = "xapp-1-A0BCKAPP1-1234-backchecktest"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """os.environ without any backcheck variable; changes end with the test."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BACKCHECK_", "TELEGRAM_", "SLACK_"))}
    env["BACKCHECK_ENV_FILE"] = os.devnull
    monkeypatch.setattr(os, "environ", env)
    return env


BAD = [
    ("BACKCHECK_STORE", "postgres://db/x"),
    ("BACKCHECK_STORE", "sqlite:///"),
    ("BACKCHECK_STORE", "redis://"),
    ("BACKCHECK_STORE", "redis://redis:port/0"),
    ("BACKCHECK_STORE", "redis://redis:6379/zero"),
    ("BACKCHECK_SESSION_TTL", "a day"),
    ("BACKCHECK_SESSION_TTL", "-5"),
    ("BACKCHECK_SESSION_TTL", "inf"),
    ("BACKCHECK_REGION", "SEK"),
    ("BACKCHECK_LANG", "de"),
    ("BACKCHECK_FLOW", "/nonexistent/flow.yaml"),
    ("BACKCHECK_LOG_LEVEL", "LOUD"),
    ("BACKCHECK_LOG_FORMAT", "xml"),
    ("BACKCHECK_SHUTDOWN_TIMEOUT", "0"),
    ("BACKCHECK_ADMINS", "U0123ABCD"),
    ("BACKCHECK_ADMINS", "slack:C0123ABCD"),  # a channel, not a user
    ("BACKCHECK_ADMINS", "telegram:@alice"),
    ("BACKCHECK_ADMINS", "teams:123"),
    ("TELEGRAM_BOT_TOKEN", "abc"),
    ("TELEGRAM_BOT_TOKEN", "123:short"),
    ("TELEGRAM_BOT_TOKEN", "notdigits:" + "A" * 35),
    ("TELEGRAM_API_BASE_URL", "api.telegram.org/bot"),
    ("TELEGRAM_WEBHOOK_SECRET", "has spaces and $ymbols"),
    ("SLACK_BOT_TOKEN", "xoxp-a-user-token-1234567890"),
    ("SLACK_BOT_TOKEN", APP_TOKEN),
    ("SLACK_APP_TOKEN", SLACK_TOKEN),
    ("SLACK_SIGNING_SECRET", "two words"),
    ("SLACK_API_URL", "ftp://slack.com/api/"),
]


@pytest.mark.parametrize("name, value", BAD)
def test_a_wrong_value_is_one_line_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}=") and "expected" in message
    assert "\n" not in message
    assert message.endswith(BY_NAME[name].expected)


@pytest.mark.parametrize("name", [v.name for v in VARIABLES if v.secret])
def test_a_wrong_secret_is_named_but_never_shown(name: str) -> None:
    value = "wrong secret value 1234567890"
    with pytest.raises(ConfigError, match=name) as caught:
        Settings.from_env({name: value})
    assert "1234567890" not in str(caught.value) and "wrong" not in str(caught.value)


def test_a_store_password_is_never_shown_in_an_error() -> None:
    with pytest.raises(ConfigError, match="BACKCHECK_STORE") as caught:
        Settings.from_env({"BACKCHECK_STORE": "redis://:hunter2@redis:port/0"})
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("name", [v.name for v in VARIABLES])
def test_require_names_a_missing_variable_and_what_it_should_hold(name: str) -> None:
    settings = Settings(flow="", admins="", telegram_bot_token="", slack_bot_token="")
    if getattr(settings, BY_NAME[name].field):
        settings.require(name)  # has a default: nothing is missing
        return
    with pytest.raises(ConfigError) as caught:
        settings.require(name)
    assert str(caught.value) == f"{name} is not set: expected {BY_NAME[name].expected}"


def test_require_passes_when_set() -> None:
    Settings.from_env({"TELEGRAM_BOT_TOKEN": TG_TOKEN}).require("TELEGRAM_BOT_TOKEN")


def test_good_values_are_read() -> None:
    settings = Settings.from_env({
        "BACKCHECK_STORE": "redis://:pw@redis:6379/0",
        "BACKCHECK_SESSION_TTL": "3600",
        "BACKCHECK_REGION": "GB",
        "BACKCHECK_LANG": "sv",
        "BACKCHECK_LOG_LEVEL": "debug",
        "BACKCHECK_LOG_FORMAT": "json",
        "BACKCHECK_SHUTDOWN_TIMEOUT": "5",
        "BACKCHECK_ADMINS": "slack:U0123ABCD, telegram:123456789,",
        "TELEGRAM_BOT_TOKEN": f" {TG_TOKEN}\n",
        "TELEGRAM_WEBHOOK_SECRET": "s3cr3t_-token",
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING,
        "SLACK_API_URL": "http://127.0.0.1:8080/api",
    })
    assert settings.store == "redis://:pw@redis:6379/0"
    assert (settings.session_ttl, settings.region, settings.default_lang) == (3600, "GB", "sv")
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")
    assert settings.admins == frozenset({"slack:U0123ABCD", "telegram:123456789"})  # parsed once
    assert settings.is_admin("telegram", "123456789") and not settings.is_admin("slack", "U1")
    assert settings.telegram_bot_token == TG_TOKEN
    assert settings.slack_api_url == "http://127.0.0.1:8080/api/"  # slack_sdk appends methods


def test_unset_and_empty_take_the_defaults() -> None:
    empty = Settings.from_env({v.name: "" for v in VARIABLES})
    assert empty == Settings.from_env({}) == Settings()


def test_every_store_url_form_is_accepted() -> None:
    for url in ("memory://", "sqlite:///tmp/x.sqlite3", "redis://redis:6379/0",
                "rediss://user:pw@cache.example.org:6380/2", "redis://localhost"):
        assert Settings.from_env({"BACKCHECK_STORE": url}).store == url


def test_masked_hides_secrets_and_the_store_password() -> None:
    settings = Settings(store="redis://:hunter2@redis:6379/0", telegram_bot_token=TG_TOKEN,
                        slack_bot_token="xoxb-1", slack_signing_secret=SIGNING)
    shown = settings.masked()
    assert shown["store"] == "redis://:****@redis:6379/0"
    assert shown["telegram_bot_token"] == "****saw1"
    assert shown["slack_bot_token"] == "****"  # too short to show any of it
    assert SIGNING not in str(shown) and TG_TOKEN not in str(shown)
    assert mask_url("redis://alice:pw@h:1/0") == "redis://alice:****@h:1/0"


def test_secret_values_are_what_the_log_filter_hides() -> None:
    settings = Settings(store="redis://:hunter2@redis:6379/0", slack_bot_token=SLACK_TOKEN)
    assert set(settings.secret_values()) == {"hunter2", SLACK_TOKEN}


def test_port_is_checked_for_the_command_line() -> None:
    assert port("9100") == 9100
    for bad in ("0", "65536", "http", "-1"):
        with pytest.raises(Exception, match="expected a port number 1-65535"):
            port(bad)


# -- .env ------------------------------------------------------------------------------


def test_dotenv_fills_what_the_environment_does_not_set(
        environ: dict[str, str], tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text(
        "# a comment\nBACKCHECK_REGION=GB\nexport BACKCHECK_LANG='sv'\n"
        f'TELEGRAM_BOT_TOKEN="{TG_TOKEN}"\n')
    environ.update({"BACKCHECK_ENV_FILE": str(env_file), "BACKCHECK_REGION": "US"})
    assert load_env_file() == env_file
    settings = Settings.from_env()
    assert (settings.region, settings.default_lang) == ("US", "sv")  # environment wins
    assert settings.telegram_bot_token == TG_TOKEN


def test_dotenv_in_the_working_directory_is_read(
        environ: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("BACKCHECK_LOG_FORMAT=json\n")
    del environ["BACKCHECK_ENV_FILE"]
    monkeypatch.chdir(tmp_path)
    assert load_env_file() == Path(".env")
    assert Settings.from_env().log_format == "json"


def test_a_wrong_value_in_dotenv_stops_start_up_naming_it(
        environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text("BACKCHECK_LANG=fr\n")
    environ["BACKCHECK_ENV_FILE"] = str(tmp_path / ".env")
    assert cli.main(["lint"]) == 2
    err = capsys.readouterr().err
    assert err == "backcheck: BACKCHECK_LANG='fr': expected one of en, sv\n"


# -- backcheck config --------------------------------------------------------------------


def test_backcheck_config_prints_every_variable_with_secrets_masked(
        environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text(f"SLACK_SIGNING_SECRET={SIGNING}\nBACKCHECK_REGION=GB\n")
    environ.update({"BACKCHECK_ENV_FILE": str(tmp_path / ".env"),
                    "BACKCHECK_STORE": "redis://:hunter2@redis:6379/0",
                    "TELEGRAM_BOT_TOKEN": TG_TOKEN, "SLACK_BOT_TOKEN": SLACK_TOKEN})
    assert cli.main(["config"]) == 0
    out = capsys.readouterr().out
    for secret in (TG_TOKEN, TG_TOKEN.split(":")[1], SLACK_TOKEN, SIGNING, "hunter2"):
        assert secret not in out
    lines = dict(line.split("=", 1) for line in out.splitlines() if not line.startswith("#"))
    assert {v.name for v in VARIABLES} <= set(lines)
    assert lines["BACKCHECK_STORE"] == "redis://:****@redis:6379/0  # environment"
    assert lines["BACKCHECK_REGION"] == "GB  # .env"
    assert lines["SLACK_SIGNING_SECRET"] == "****85a5  # .env"
    assert lines["BACKCHECK_LANG"] == "en  # default"
    assert lines["SLACK_APP_TOKEN"] == "  # not set"
    assert lines["BACKCHECK_TIPS_TZ"] == "Europe/Stockholm  # default"


def test_backcheck_config_runs_as_a_command(tmp_path: Path) -> None:
    env = {**os.environ, "BACKCHECK_ENV_FILE": os.devnull, "SLACK_BOT_TOKEN": SLACK_TOKEN,
           "BACKCHECK_STORE": "memory://"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "config"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "SLACK_BOT_TOKEN=****test  # environment" in done.stdout
    assert SLACK_TOKEN not in done.stdout + done.stderr
