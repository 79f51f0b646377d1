"""`backcheck` subcommands: chat, lint, graph, and one per platform adapter."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from bot.config import Settings, load_env_file
from bot.errors import BackcheckError
from bot.logs import setup_logging

# Modules that add their own subcommands with `register(subparsers)`.
PLUGINS = ("bot.adapters.console", "bot.engine.lint", "bot.adapters.telegram",
           "bot.adapters.slack_serve", "bot.adapters.web.serve", "bot.config",
           "bot.wellness.cli")

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(prog="backcheck", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
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
