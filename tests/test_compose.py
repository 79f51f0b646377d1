"""The production setup, checked without a Docker engine: docker-compose.yml parses, every
service runs a command `backcheck` accepts with settings backcheck knows, health checks
look where the bot serves /healthz, and the image gets only what runs."""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from drive import SECRET_KEY
from redis_server import RedisServer
from support import make_app

from bot.cli import build_parser
from bot.config import ENV_FILE, VARIABLES
from bot.platforms import PLATFORMS
from bot.stores import open_sealed
from bot.types import Incoming, SessionKey

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
BOTS = ("telegram", "slack", "web", "teams")
QUOTED_NAME = re.compile(r"[\"'](BACKCHECK_[A-Z0-9_]*[A-Z0-9]|TELEGRAM_[A-Z0-9_]*[A-Z0-9]"
                         r"|SLACK_[A-Z0-9_]*[A-Z0-9])[\"']")
COMPOSE_ONLY = {"REDIS_PASSWORD", "REDIS_MAXMEMORY"}  # .env variables only compose reads
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
        assert "env_file" not in service  # no service gets the whole .env
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


def test_redis_has_a_memory_limit_and_never_drops_a_check_to_make_room() -> None:
    command = SERVICES["redis"]["command"]
    assert command[command.index("--maxmemory") + 1] == "${REDIS_MAXMEMORY:-256mb}"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert env_example()["REDIS_MAXMEMORY"] == "256mb"


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
    service = SERVICES[name]
    command, check = service["command"], service["healthcheck"]
    port = (command[command.index("--port") + 1] if "--port" in command
            else service["environment"]["BACKCHECK_METRICS_PORT"])
    assert check["test"][:3] == ["CMD", "python", "-c"]  # no curl in a slim image
    assert f"http://127.0.0.1:{port}/healthz" in check["test"][3]
    compile(check["test"][3], "healthcheck", "exec")


def test_the_public_ports_are_published_and_the_metrics_port_stays_inside() -> None:
    assert SERVICES["slack"]["ports"] == ["3000:3000"]
    assert "ports" not in SERVICES["telegram"]
    assert SERVICES["web"]["ports"] == ["8080:8080"]
    for name in BOTS:  # Prometheus reaches /metrics on the compose network, nobody else
        service = SERVICES[name]
        metrics = service["environment"]["BACKCHECK_METRICS_PORT"]
        assert service["environment"]["BACKCHECK_METRICS_HOST"] == "0.0.0.0"
        assert service["expose"] == [metrics]
        assert not any(p.split(":")[-1] == metrics for p in service.get("ports", []))
        assert "--metrics-port" not in service["command"]
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
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert '\nENTRYPOINT ["backcheck"]' in text
    instructions = [line for line in text.splitlines() if not line.startswith("#")]
    assert not any("[dev]" in line or "pytest" in line for line in instructions)
    assert not any("tests" in copy for copy in re.findall(r"^COPY .*", text, re.M))
    for needed in ("flows", "locales"):
        assert re.search(rf"^COPY {needed} ", text, re.M), needed
    assert "BACKCHECK_ROOT=/app" in text and re.search(r"^WORKDIR /app$", text, re.M)


# -- each service gets only its own secrets ------------------------------------------------

def platform_secrets() -> dict[str, set[str]]:
    """Each platform's secret variables (tokens, signing secrets), by platform name."""
    return {p.name: {v.name for v in p.variables if v.secret} for p in PLATFORMS}


@pytest.mark.parametrize("name", BOTS)
def test_each_bot_gets_its_own_platforms_secrets_and_no_others(name: str) -> None:
    environment = set(SERVICES[name]["environment"])
    for platform, secrets in platform_secrets().items():
        if platform == name:
            assert secrets <= environment, platform
        else:
            assert not secrets & environment, f"{name} gets {platform}'s secrets"
    assert "REDIS_PASSWORD" not in environment  # only inside BACKCHECK_STORE


def test_redis_gets_only_its_password() -> None:
    assert set(SERVICES["redis"]["environment"]) == {"REDISCLI_AUTH"}
    assert "env_file" not in SERVICES["redis"]


COMPOSE_SET = ("BACKCHECK_STORE", "BACKCHECK_METRICS_PORT", "BACKCHECK_METRICS_HOST")


def test_every_setting_in_env_example_reaches_the_bots_that_read_it() -> None:
    """Each value is the operator's own from .env (`${NAME:-}`: empty is the default),
    and every setting .env.example offers reaches at least one bot."""
    reached: set[str] = set()
    for name in BOTS:
        for variable, value in SERVICES[name]["environment"].items():
            reached.add(variable)
            if variable not in COMPOSE_SET:  # compose's own network decides these
                assert str(value).startswith((f"${{{variable}:-", f"${{{variable}:?")), variable
    offered = set(env_example()) - COMPOSE_ONLY - {ENV_FILE, "BACKCHECK_ROOT"}
    assert offered - reached == set()


def test_the_shared_settings_start_the_bots_with_defaults_where_empty() -> None:
    """What compose hands a bot when .env leaves a setting empty is backcheck's default."""
    from bot.config import Settings

    empty = {variable: "" for name in BOTS for variable in SERVICES[name]["environment"]}
    settings = Settings.from_env({**empty, "BACKCHECK_STORE": "memory://"})
    assert settings.region == "SE" and settings.default_lang == "en"


# -- the image: pinned, locked, with a health check ---------------------------------------


DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_base_image_is_pinned_to_a_full_version_in_one_place() -> None:
    [image] = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-(bookworm|trixie)(@sha256:[0-9a-f]{64})?",
                        image)
    assert re.findall(r"^FROM (\S+)", DOCKERFILE, re.M) == ["${PYTHON_IMAGE}"] * 2


def test_the_build_backend_is_installed_as_locked_with_hashes() -> None:
    lock = (ROOT / "requirements-build.lock").read_text()
    assert re.search(r"^setuptools==[\d.]+ \\\n\s+--hash=sha256:[0-9a-f]{64}", lock, re.M)
    build = DOCKERFILE.split("\nFROM ")[1]
    assert "pip install --no-cache-dir --require-hashes -r requirements-build.lock" in build
    assert "--no-build-isolation" in build  # pip fetches no other setuptools for the build
    assert not dockerignored("requirements-build.lock")


def test_the_image_has_a_health_check_on_healthz() -> None:
    start = DOCKERFILE.index("\nHEALTHCHECK ")
    check = DOCKERFILE[start:DOCKERFILE.index("\nENTRYPOINT", start)].replace("\\\n", " ")
    assert "/healthz" in check and "HEALTHCHECK_PORT" in check
    assert re.search(r"HEALTHCHECK_PORT=8080", DOCKERFILE)  # backcheck web's default port
    command = json.loads(check[check.index("CMD ") + 4:])
    assert command[:2] == ["python", "-c"]  # no curl in a slim image
    compile(command[2], "healthcheck", "exec")


def test_the_image_and_the_package_name_every_platform() -> None:
    header = DOCKERFILE.split("\n\n")[0].lower()
    description = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["description"]
    for platform in PLATFORMS:
        if platform.name != "console":
            assert platform.name in header, platform.name
            assert platform.name in description.lower(), platform.name


# -- Redis full: nothing lost, no crash ----------------------------------------------------


async def test_a_full_redis_loses_no_answer_and_gets_no_crash(redis_server: RedisServer) -> None:
    """With compose's policy (noeviction) and Redis over its maxmemory, Redis refuses the
    next write: the person gets the kind "can't reach my memory – your answers so far are
    kept" reply, nothing is evicted or lost, forget still works, and once there is room
    again the same button goes through."""
    store = open_sealed(redis_server.url, SECRET_KEY)
    app = make_app(store)
    key = SessionKey("telegram", "1", "2", "3")
    try:
        replies = await app.handle(Incoming(key, "start"))
        first = await app.handle(Incoming(key, "answer", "no", replies[-1].token))
        with redis.Redis.from_url(redis_server.url) as client:
            client.config_set("maxmemory-policy", "noeviction")
            client.config_set("maxmemory", "1")  # over the limit from now on
            refused = await app.handle(Incoming(key, "answer", "no", first[-1].token))
            assert [r.kind for r in refused] == ["error"]
            assert refused[0].text == app.text("en", "errors.unavailable")
            record = await store.get("session", key.id())
            assert record is not None and len(record.data["answers"]) == 1  # kept as it was
            assert client.info("stats")["evicted_keys"] == 0
            client.config_set("maxmemory", "0")  # room again
            again = await app.handle(Incoming(key, "answer", "no", first[-1].token))
            assert again[-1].kind == "question" and again[-1].progress[0] == 3
            client.config_set("maxmemory", "1")
            forgotten = await app.handle(Incoming(key, "command", "forget"))
            assert forgotten[-1].text == app.text("en", "commands.forgotten")
            assert await store.get("session", key.id()) is None
    finally:
        await store.close()
