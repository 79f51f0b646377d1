"""`backcheck --help` as an operator reads it: every command described, no source file
named, and the same listening options for every server."""

from __future__ import annotations

import re

import pytest

from bot.cli import build_parser
from bot.platforms import PLATFORMS


def help_of(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def test_the_top_level_help_names_no_source_file(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(capsys=capsys)
    assert not re.search(r"\b[\w/]+\.py\b", text)
    assert "symptom check" in text
    for platform in PLATFORMS:
        if platform.name != "console":  # the terminal's command is `chat`
            assert f"\n    {platform.name} " in text  # one command per platform, listed


@pytest.mark.parametrize("command", ["lint", "graph", "config", "chat", "telegram", "slack",
                                     "web", "review", "tips", "stats", "keys"])
def test_every_command_says_what_it_does(command: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(command, capsys=capsys)
    usage, _, rest = text.partition("\n\n")
    described = rest.split("\n\n")[0]
    assert not described.startswith(("positional arguments", "options")), text


@pytest.mark.parametrize("command", ["telegram", "slack", "web"])
def test_every_server_takes_host_and_port(command: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(command, capsys=capsys)
    assert "--host" in text and "--port" in text
