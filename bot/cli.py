"""`backcheck` subcommands: one per platform (bot/platforms.py), lint and graph, config,
the wellness commands, the operator commands and the clinician's review."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from bot.config import Settings, load_env_file
from bot.errors import BackcheckError
from bot.logs import setup_logging
from bot.platforms import PLATFORMS

# Modules that add their own subcommands with `register(subparsers)`: each platform's
# CLI module first, then backcheck's own.
PLUGINS = (*(p.cli for p in PLATFORMS), "bot.engine.lint", "bot.config", "bot.wellness.cli",
           "bot.dsr", "bot.review.cli")

Handler = Callable[[argparse.Namespace], int]
DESCRIPTION = ("The back pain with tingling toes symptom check: run it (one command per "
               "platform below), prove the flow, review and sign the content, and look "
               "after what is stored.")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="backcheck", description=DESCRIPTION,
        epilog="`backcheck <command> --help` says more about each command. Settings come "
               "from the environment or .env (see .env.example and docs/configuration.md).")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    for listed in sub._choices_actions:  # `backcheck <command> --help` says what it does
        command = sub.choices[listed.dest]
        if not command.description and listed.help:
            command.description = f"{listed.help[:1].upper()}{listed.help[1:]}."
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `backcheck` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        load_env_file()  # .env fills what the environment does not set
        setup_logging(Settings.from_env())  # every setting checked before anything runs
        return handler(args)
    except BackcheckError as exc:
        print(f"backcheck: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`backcheck graph | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
