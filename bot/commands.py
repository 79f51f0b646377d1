"""The command registry: every command a person (or a button) can give, parsed once into
a small typed value, `Command`, and the menus built from the same list.

A command arrives as a button or slash command ("language sv") or typed in any language
("svenska", "glöm mig"); `of(incoming, locales)` turns either into a `Command` or None.
The App decides what each one does; adapters build their menus from `menu()` (e.g. a
platform's registered command list) and accept the names `names()` lists (slash
commands, `/backcheck <subcommand>`, the terminal's JSON commands).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.i18n import Locales, Translator, normalize, words
from bot.types import Incoming

Owner = Literal["engine", "app"]


@dataclass(frozen=True)
class Spec:
    """One command: who carries it out, how it is offered, and its other names."""

    name: str
    owner: Owner
    menu: bool = False  # listed in menus, under `shown_as`, described by `menu.<shown_as>`
    shown_as: str = ""  # the menu's name for it ("check" for start); default `name`
    aliases: tuple[str, ...] = ()  # other slash names for it ("cancel" for stop)
    person: bool = True  # a person may give it (else only buttons and the App do)
    in_place: bool = False  # answered where it is asked, privately; never opens a check
    admin: bool = False  # only for BACKCHECK_ADMINS
    # an admin gets the answer in a shared chat even where everyone there sees it (whoami:
    # the chat's id is what they came for); anyone else is pointed to a private chat
    admins_in_shared: bool = False

    @property
    def label(self) -> str:
        return self.shown_as or self.name


REGISTRY: tuple[Spec, ...] = (
    Spec("start", "engine", menu=True, shown_as="check"),
    Spec("back", "engine", menu=True),
    Spec("restart", "engine", menu=True),
    Spec("stop", "engine", menu=True, aliases=("cancel",)),
    Spec("language", "engine", menu=True),
    Spec("help", "engine", menu=True),
    Spec("faq", "engine", menu=True),
    Spec("privacy", "engine", menu=True),
    Spec("forget", "app", menu=True),
    Spec("summary", "engine"),
    Spec("result", "engine"),  # "Show my result now", once the level is known (SPEC 4.5)
    Spec("stats", "app", in_place=True, admin=True),
    Spec("whoami", "app", in_place=True, admins_in_shared=True),  # the ids operators need
    Spec("followup", "app", person=False),  # "check in with me in 7 days"
    Spec("checkin", "app", person=False),  # better / same / worse
    Spec("current", "engine", person=False),  # where the check stands, after a failed send
)
BY_NAME: dict[str, Spec] = {s.name: s for s in REGISTRY}
ALIASES: dict[str, str] = {a: s.name for s in REGISTRY for a in (*s.aliases, s.shown_as) if a}


@dataclass(frozen=True)
class Command:
    """A parsed command: its canonical name and its argument ("language", "sv")."""

    name: str
    arg: str = ""

    @property
    def spec(self) -> Spec:
        return BY_NAME[self.name]

    def text(self) -> str:
        """The command as the engine and buttons carry it: "language sv"."""
        return f"{self.name} {self.arg}".strip()


def parse_value(value: str) -> Command | None:
    """A button's, slash command's or script's command ("language sv", "cancel"); None
    when the name is not in the registry."""
    name, _, arg = value.strip().partition(" ")
    name = ALIASES.get(name.lower(), name.lower())
    if name not in BY_NAME:
        return None
    return Command(name, arg.strip())


def given(value: str) -> Command | None:
    """A command a person gave by name (a slash command, `/backcheck <subcommand>`): None
    when the name is unknown or the command is not a person's to give (follow-ups, where
    a check stands: buttons and the App give those, never typed input)."""
    command = parse_value(value)
    return command if command is not None and command.spec.person else None


def parse_text(text: str, locales: Locales) -> Command | None:
    """The command a typed message means, in any language ("hjälp" -> help, "svenska" ->
    language sv); None when it is no command."""
    said = normalize(text)
    first, _, rest = said.partition(" ")
    for lang in locales.langs:
        if said in words(locales, f"words.lang_{lang}"):
            return Command("language", lang)
    for spec in REGISTRY:
        if not spec.person:
            continue
        said_as = words(locales, f"words.{spec.name}")
        if said in said_as:
            return Command(spec.name)
        if spec.name == "language" and first in said_as and rest in locales.langs:
            return Command("language", rest)
    return None


def of(incoming: Incoming, locales: Locales) -> Command | None:
    """The command an event carries, by button, slash command or typed word; None if none."""
    if incoming.kind == "command":
        return parse_value(incoming.value)
    if incoming.kind == "text":
        return parse_text(incoming.value, locales)
    return None


def menu(locales: Locales, lang: str) -> list[tuple[str, str]]:
    """(name, description) of every menu command in `lang`, in registry order."""
    tr = locales.translator(lang)
    return [(s.label, tr.t(f"menu.{s.label}")) for s in REGISTRY if s.menu]


def help_text(tr: Translator) -> str:
    """"How this works", with a line for every menu command but help itself: the word to
    type in this language and what it does, from the same list the menus are built from."""
    lines = [tr.t("help.intro")]
    for spec in REGISTRY:
        if spec.menu and spec.name != "help":
            word = (tr.words(f"words.{spec.name}") or [spec.name])[0]
            what = tr.t(f"menu.{spec.label}")
            lines.append(f"• {word} – {what[:1].lower()}{what[1:]}")
    return "\n".join([*lines, tr.t("help.outro")])


def names() -> tuple[str, ...]:
    """Every name a person may use for a command (slash commands, script commands)."""
    found: list[str] = []
    for spec in REGISTRY:
        if spec.person:
            found += [spec.name, *spec.aliases, *([spec.shown_as] if spec.shown_as else [])]
    return tuple(found)
