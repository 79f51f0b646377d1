"""The tests never see the operator's settings: a filled-in `.env` in the working
directory (the README's own deploy step), BACKCHECK_* / TELEGRAM_* / SLACK_* variables in
the environment, or the user data directory. The isolation is conftest's `_hermetic`;
these tests show it holds, in this process and in a `backcheck` subprocess, and that
without it the same `.env` would have been read (so they can fail)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from bot.config import Settings, load_env_file

# What an operator's .env holds after `cp .env.example .env` and filling it in.
FILLED_IN = """\
TELEGRAM_BOT_TOKEN=7999999999:AAEoperatorsrealtokenxxxxxxxxxxxxxxx
SLACK_BOT_TOKEN=xoxb-operators-real-token
SLACK_APP_TOKEN=xapp-operators-real-token
BACKCHECK_SECRET_KEY=operators-own-key
BACKCHECK_LANG=sv
BACKCHECK_REGION=GB
BACKCHECK_ADMINS=telegram:42
REDIS_PASSWORD=operatorspassword
"""


def config_in(cwd: Path, env: dict[str, str]) -> str:
    """What `backcheck config` prints, run in `cwd` with `env`."""
    done = subprocess.run([sys.executable, "-m", "bot.cli", "config"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_a_backcheck_subprocess_never_reads_the_operators_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(FILLED_IN, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = config_in(tmp_path, env)
    assert "BACKCHECK_LANG=en  # default" in out
    assert "BACKCHECK_REGION=SE  # default" in out
    assert "TELEGRAM_BOT_TOKEN=  # not set" in out
    assert "operators" not in out and "telegram:42" not in out
    # The control: the same run without the tests' BACKCHECK_ENV_FILE reads that .env.
    unguarded = {k: v for k, v in env.items() if k != "BACKCHECK_ENV_FILE"}
    assert "BACKCHECK_LANG=sv  # .env" in config_in(tmp_path, unguarded)


def test_no_operator_variable_and_no_real_home_in_a_test(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    leaked = [k for k in os.environ
              if k.startswith(("BACKCHECK_", "TELEGRAM_", "SLACK_", "REDIS_PASSWORD"))
              and k not in ("BACKCHECK_ENV_FILE", "BACKCHECK_SECRET_KEY")]
    assert leaked == []
    assert not Path(os.environ["BACKCHECK_ENV_FILE"]).exists()
    assert "pytest" in platformdirs.user_data_dir("backcheck")  # the tests' own tmp dir
    # A .env in the working directory changes nothing for the settings either.
    (tmp_path / ".env").write_text(FILLED_IN, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_env_file() is None
    settings = Settings.from_env()
    assert not settings.get("telegram_bot_token")
    assert settings.default_lang == "en" and settings.region == "SE"
