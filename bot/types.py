"""Small frozen dataclasses shared by every layer: the engine, the app, stores and adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.keys import log_id

# What a person did: answered with a button or by typing, gave a command, or opened the bot.
IncomingKind = Literal["answer", "text", "command", "start"]

# What the bot says. "answered" restates an answered question with the choice, so that
# adapters that can edit messages (Telegram, Slack) update the question in place;
# "stale" is a short notice for a button that no longer applies (a toast, not a message);
# "redirect" is all a shared chat (group, channel) gets: go to a private chat (its button,
# if any, starts the check there).
ReplyKind = Literal["question", "info", "outcome", "answered", "stale", "message", "error",
                    "redirect"]

ButtonKind = Literal["answer", "command"]


@dataclass(frozen=True)
class SessionKey:
    """Who a conversation belongs to: one person in one private chat on one platform."""

    platform: str
    workspace: str
    chat: str
    user: str

    def id(self) -> str:
        """The one key every store uses for this conversation."""
        return f"{self.platform}:{self.workspace}:{self.chat}:{self.user}"

    def person(self) -> str:
        """The key of the person across their chats, for language preference and forget."""
        return f"{self.platform}:{self.workspace}:{self.user}"

    def hashed(self) -> str:
        """A short keyed pseudonym of the person, the only form of a user id allowed in logs."""
        return log_id(self.person())


@dataclass(frozen=True)
class Incoming:
    """One event from a person, already translated from the platform's shape."""

    key: SessionKey
    kind: IncomingKind
    value: str = ""
    token: str | None = None  # the stale-button token carried by a button, if any
    lang_hint: str | None = None  # the platform's language for this person, e.g. "sv-SE"
    shared: bool = False  # said in a shared chat (group, channel): the App redirects it
    message: str = ""  # the platform's id of a typed message: one delivered twice counts once


@dataclass(frozen=True)
class Button:
    """One button under a message. `value` is an option id or a command name."""

    kind: ButtonKind
    value: str
    label: str


@dataclass(frozen=True)
class Outcome:
    """The triage result of a finished check."""

    level: str
    fits: tuple[str, ...]
    why: tuple[str, ...]


@dataclass(frozen=True)
class Reply:
    """One message for the person, in their language, ready for any adapter to render."""

    kind: ReplyKind
    text: str  # everything to show, progress line included
    buttons: tuple[Button, ...] = ()
    node: str | None = None
    progress: tuple[int, int] | None = None
    token: str | None = None
    outcome: Outcome | None = None
    sections: tuple[str, ...] = field(default=())  # the outcome in parts, for platform limits
    prompt: str = ""  # a question's own sentence, without the progress line
    lead: str = ""  # a message shown above the question (help, "went back", a re-prompt)


@dataclass(frozen=True)
class Home:
    """A platform's home or landing view (Slack's App Home tab): what the check is, a
    button to start it, the language choice and what is stored. The App decides what it
    says; an adapter only lays it out."""

    title: str
    intro: str
    start: Button
    language_title: str
    language: str
    languages: tuple[Button, ...]
    privacy_title: str
    privacy: str
    notice: str = ""  # e.g. "I've sent you the first question", under the start button
