"""The production setup, checked without a Docker engine: docker-compose.yml parses, every
service runs a command `backcheck` accepts with settings backcheck knows, health checks
look where the bot serves /healthz, and the image gets only what runs."""

from __future__ import annotations

import argparse
import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import build_parser
from bot.config import ENV_FILE, VARIABLES

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
BOTS = ("telegram", "slack", "web", "teams")
QUOTED_NAME = re.compile(r"[\"'](BACKCHECK_[A-Z0-9_]*[A-Z0-9]|TELEGRAM_[A-Z0-9_]*[A-Z0-9]"
                         r"|SLACK_[A-Z0-9_]*[A-Z0-9])[\"']")
COMPOSE_ONLY = {"REDIS_PASSWORD"}  # .env variables only docker-compose.yml reads
VAR_LINE = re.compile(r"#?\s*([A-Z][A-Z0-9_]*)=(.*)")


def variables_read_by_the_code() -> set[str]:
    """Every setting name that appears as a string in bot/ (Settings, wellness, loader)."""
    found = {v.name for v in VARIABLES} | {ENV_FILE}
    for path in (ROOT / "bot").rglob("*.py"):
        found |= set(QUOTED_NAME.findall(path.read_text()))
    return found


def env_example() -> dict[str, str]:
    """The variables .env.example lists, set or commented out, with their values."""
    listed = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = VAR_LINE.fullmatch(line.strip())
        if match:
            listed[match[1]] = match[2]
    return listed


def parse(command: list[str]) -> argparse.Namespace:
    """The command as `backcheck` parses it (argparse exits 2 on anything unknown)."""
    return build_parser().parse_args(command)


def test_services_and_what_they_share() -> None:
    assert set(SERVICES) == {"redis", *BOTS}
    for name in BOTS:
        service = SERVICES[name]
        assert service["env_file"] == ".env"
        assert service["environment"]["BACKCHECK_STORE"] == (
            "redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}@redis:6379/0")
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["restart"] == "unless-stopped"
        assert service["build"] == "." and service["init"] is True


def test_redis_keeps_its_data_in_a_volume_and_reports_health() -> None:
    redis = SERVICES["redis"]
    assert redis["image"].startswith("redis:7")
    assert redis["restart"] == "unless-stopped"
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    volume = redis["volumes"][0].split(":")[0]
    assert volume in COMPOSE["volumes"] and redis["volumes"][0].endswith(":/data")
    assert "--appendonly" in redis["command"]


def test_redis_demands_the_password_from_env_and_the_health_check_uses_it() -> None:
    redis = SERVICES["redis"]
    password = "${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}"
    assert redis["command"][redis["command"].index("--requirepass") + 1] == password
    assert redis["environment"]["REDISCLI_AUTH"] == "${REDIS_PASSWORD}"
    assert "REDIS_PASSWORD" in env_example()


@pytest.mark.parametrize("name", BOTS)
def test_every_bot_command_is_one_backcheck_accepts(name: str) -> None:
    args = parse(SERVICES[name]["command"])
    assert args.command == name and callable(args.handler)


@pytest.mark.parametrize("name", BOTS)
def test_health_checks_look_where_the_bot_serves_healthz(name: str) -> None:
    command, check = SERVICES[name]["command"], SERVICES[name]["healthcheck"]
    flag = "--metrics-port" if "--metrics-port" in command else "--port"
    port = command[command.index(flag) + 1]
    assert check["test"][:3] == ["CMD", "python", "-c"]  # no curl in a slim image
    assert f"http://127.0.0.1:{port}/healthz" in check["test"][3]
    compile(check["test"][3], "healthcheck", "exec")


def test_the_slack_port_is_published_and_telegrams_metrics_port_stays_inside() -> None:
    assert SERVICES["slack"]["ports"] == ["3000:3000"]
    assert "ports" not in SERVICES["telegram"] and SERVICES["telegram"]["expose"] == ["9100"]
    assert SERVICES["web"]["ports"] == ["8080:8080"]
    assert SERVICES["teams"]["ports"] == ["3978:3978"]


def test_shutdown_has_time_to_finish_updates_in_flight() -> None:
    grace = int(SERVICES["telegram"]["stop_grace_period"].removesuffix("s"))
    assert grace > float(env_example()["BACKCHECK_SHUTDOWN_TIMEOUT"])


def test_compose_sets_only_settings_backcheck_reads() -> None:
    known = variables_read_by_the_code()
    for name in BOTS:
        assert set(SERVICES[name]["environment"]) <= known


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    listed, known = set(env_example()) - COMPOSE_ONLY, variables_read_by_the_code()
    assert listed - known == set(), "in .env.example but read nowhere"
    assert known - listed == set(), "read by the code but missing from .env.example"


def test_env_example_explains_every_setting() -> None:
    lines = [line.strip() for line in (ROOT / ".env.example").read_text().splitlines()]
    for above, line in zip(lines, lines[1:], strict=False):
        if VAR_LINE.fullmatch(line):
            assert above.startswith("#") and not VAR_LINE.fullmatch(above), line


def test_env_example_sets_no_secret() -> None:
    for name, value in env_example().items():
        if any(word in name for word in ("TOKEN", "SECRET", "PASSWORD")):
            assert value == "", name


# -- the image -----------------------------------------------------------------------------


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (last match wins)."""
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").removeprefix("**/")
        if any(fnmatch.fnmatch(prefix, glob) or fnmatch.fnmatch(prefix.rsplit("/", 1)[-1], glob)
               for prefix in prefixes):
            ignored = not negated
    return ignored


def test_the_image_gets_only_what_runs() -> None:
    for needed in ("bot/app.py", "flows/back_pain.yaml", "locales/en.yaml", "pyproject.toml",
                   "README.md"):
        assert not dockerignored(needed), needed
    for kept_out in (".env", "tests/test_ops.py", ".venv/bin/python", "docs/triage.md",
                     "bench/__main__.py", ".git/HEAD", "bot/__pycache__/app.cpython-311.pyc"):
        assert dockerignored(kept_out), kept_out


def test_dockerfile_builds_a_slim_non_root_image_with_backcheck_as_entrypoint() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms and all(f == "python:3.11-slim" for f in froms)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert '\nENTRYPOINT ["backcheck"]' in text
    instructions = [line for line in text.splitlines() if not line.startswith("#")]
    assert not any("[dev]" in line or "pytest" in line for line in instructions)
    assert not any("tests" in copy for copy in re.findall(r"^COPY .*", text, re.M))
    for needed in ("flows", "locales"):
        assert re.search(rf"^COPY {needed} ", text, re.M), needed
    assert "BACKCHECK_ROOT=/app" in text and re.search(r"^WORKDIR /app$", text, re.M)
