"""What backcheck needs to know about a platform, in one value: `Platform`.

Each package under `bot/adapters/<name>/` exports one `PLATFORM` from its `__init__.py`,
and `bot/platforms.py` lists them. Everything outside the adapters (settings, log
redaction, admins, the wellness outboxes, the `backcheck` subcommands, the App's
policies) reads these descriptions instead of naming a platform.

The description is deliberately light: it imports no platform library. What is heavy
(the CLI subcommand, the wellness outbox) is named by a dotted path and imported only
when used, so `backcheck lint` does not load python-telegram-bot, and a platform
package never imports the modules that read its description (no import cycles).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.variables import Var


@dataclass(frozen=True)
class Capabilities:
    """What the App may rely on when it decides what to say on this platform."""

    can_edit: bool = False  # an answered question is edited in place ("answered" replies)
    shared_chats: bool = False  # groups or channels exist, where no health question is asked
    opens_private_chat: bool = False  # from a shared chat the bot can open the DM itself
    can_follow_up: bool = False  # the bot can write to the person days later
    whispers: bool = False  # can answer one person privately inside a shared chat
    # anyone may open it without an account (the web page): nothing is stored about a
    # visitor until their first answer, so anonymous requests cannot fill the store
    anonymous: bool = False
    # the locale block whose keys replace the common ones here ("terminal": no buttons,
    # and the conversation ends at stop or forget); "" for the common words
    wording: str = ""


@dataclass(frozen=True)
class Platform:
    """One platform, as the rest of backcheck sees it.

    - `name`: the `SessionKey.platform` of its conversations and the prefix in
      BACKCHECK_ADMINS and BACKCHECK_TIPS_TARGETS (`<name>:<id>`).
    - `variables`: its settings and secrets (read and validated by `bot.config`).
    - `token_patterns`: regexes of its credentials, replaced in every log line.
    - `log_levels`: the lowest level its libraries may log at (they log URLs with tokens
      or request bodies with message text below it).
    - `user_id`, `user_id_example`: the form of a user id, to check BACKCHECK_ADMINS.
    - `cli`: the module whose `register(subparsers)` adds its `backcheck` subcommand.
    - `outbox`: "module:function" of an async context manager `(app, settings) -> Outbox`
      for tips and follow-ups outside the running bot, or "" when it has none.
    - `token_variable`: the variable without which the outbox cannot post.
    - `capabilities`: what the App's policies may rely on.
    """

    name: str
    capabilities: Capabilities
    cli: str
    variables: tuple[Var, ...] = ()
    token_patterns: tuple[re.Pattern[str], ...] = ()
    log_levels: tuple[tuple[str, int], ...] = ()
    user_id: re.Pattern[str] | None = None
    outbox: str = ""
    token_variable: str = ""
    user_id_example: str = ""  # for the message naming a bad BACKCHECK_ADMINS entry
    tip_target_example: str = ""  # for the message naming a bad BACKCHECK_TIPS_TARGETS entry
    # `backcheck forget/export --user <name>:<rest>`: the person key (SessionKey.person())
    # of the rest split at ":", given the settings; None when the rest has the wrong form.
    person_of: Callable[[list[str], Any], str | None] | None = None
    person_example: str = ""  # the forms person_of takes, for the message naming a bad one

    def is_user_id(self, text: str) -> bool:
        """Whether `text` has the form of one of this platform's user ids."""
        return self.user_id is not None and bool(self.user_id.fullmatch(text))

    def load(self, dotted: str) -> Any:
        """Import the object named `module:attribute` (or a module) on first use."""
        module, _, attribute = dotted.partition(":")
        loaded = importlib.import_module(module)
        return getattr(loaded, attribute) if attribute else loaded
