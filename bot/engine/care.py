"""The workplace's own places of care (BACKCHECK_CARE_FILE): occupational health, an
in-house physiotherapist, an assistance line, shown under "Where to go" in the results of
the levels each one names.

The file is content a clinician signs with the flow and the locales, so it is validated
once, at load, like the flow: one FlowError naming the file and the line. A place may
never stand in for the emergency number, so the levels from the flow's `exit_at` up
(ambulance, emergency) are refused in the file rather than quietly ignored: those
results show only public emergency care.

    care:
      - name: {en: "Occupational health (Previa)", sv: "Företagshälsovården (Previa)"}
        phone: "+46 10 123 45 67"
        url: "https://example.org/boka"
        hours: {en: "Weekdays 8–17", sv: "Vardagar 8–17"}   # optional
        levels: [urgent, appointment, self_care]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.engine.yamlio import line_of, load_yaml
from bot.errors import FlowError

KEYS = ("name", "phone", "url", "hours", "levels")
REQUIRED = ("name", "levels")
PHONE = re.compile(r"\+?[0-9][0-9 ()-]{2,24}")


@dataclass(frozen=True)
class CarePlace:
    """One place of care: its name and opening hours by language, how to reach it, and the
    levels whose results show it."""

    name: tuple[tuple[str, str], ...]  # (lang, text)
    levels: tuple[str, ...]
    phone: str = ""
    url: str = ""
    hours: tuple[tuple[str, str], ...] = ()
    line: int | None = None

    def name_in(self, lang: str) -> str:
        """The name in `lang` (English when the file has no such language)."""
        return _in(self.name, lang)

    def hours_in(self, lang: str) -> str:
        """The opening hours in `lang`, or "" when the file gives none."""
        return _in(self.hours, lang) if self.hours else ""


def _in(texts: tuple[tuple[str, str], ...], lang: str) -> str:
    found = dict(texts)
    return found.get(lang) or found.get("en") or next(iter(found.values()), "")


class _Reader:
    """Reads one care file; every error names the file and the line."""

    def __init__(self, path: Path, levels: Sequence[str], exit_at: str,
                 langs: Sequence[str]) -> None:
        self.file, self.langs = str(path), tuple(langs)
        self.allowed = tuple(levels[:list(levels).index(exit_at)])
        self.refused = tuple(levels[list(levels).index(exit_at):])

    def fail(self, message: str, line: int | None, node: str = "") -> FlowError:
        return FlowError(message, file=self.file, node=node, line=line)

    def place(self, raw: Any, number: int) -> CarePlace:
        where = f"care[{number}]"
        if not isinstance(raw, dict):
            raise self.fail("each place of care is a mapping with name, phone, url, hours, "
                            "levels", None, where)
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            raise self.fail(f"unknown key {unknown[0]!r} (a place of care has "
                            f"{', '.join(KEYS)})", line_of(raw, unknown[0]), where)
        for key in REQUIRED:
            if key not in raw:
                raise self.fail(f"missing {key!r}", line_of(raw), where)
        if "phone" not in raw and "url" not in raw:
            raise self.fail("give a phone number or a url (or both)", line_of(raw), where)
        return CarePlace(
            name=self.texts(raw, "name", where),
            levels=self.levels(raw, where),
            phone=self.phone(raw, where),
            url=self.url(raw, where),
            hours=self.texts(raw, "hours", where) if "hours" in raw else (),
            line=line_of(raw))

    def texts(self, raw: dict[str, Any], key: str, where: str) -> tuple[tuple[str, str], ...]:
        value, line = raw[key], line_of(raw, key)
        if not isinstance(value, dict):
            raise self.fail(f"{key} gives the text in every language: "
                            f"{{{', '.join(f'{lang}: ...' for lang in self.langs)}}}",
                            line, where)
        for lang in self.langs:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                raise self.fail(f"{key} has no {lang!r} text (every place needs "
                                f"{', '.join(self.langs)})", line, where)
        extra = sorted(set(value) - set(self.langs))
        if extra:
            raise self.fail(f"{key} has a language the bot does not speak: {extra[0]!r}",
                            line_of(value, extra[0]), where)
        return tuple((lang, " ".join(value[lang].split())) for lang in self.langs)

    def levels(self, raw: dict[str, Any], where: str) -> tuple[str, ...]:
        value, line = raw["levels"], line_of(raw, "levels")
        if not isinstance(value, list) or not value:
            raise self.fail(f"levels is a list of {', '.join(self.allowed)}", line, where)
        for level in value:
            if level in self.refused:
                raise self.fail(
                    f"level {level!r} is not allowed: from {self.refused[0]} up a result "
                    "shows only public emergency care, never a place instead of the "
                    f"emergency number (use {', '.join(self.allowed)})", line, where)
            if level not in self.allowed:
                raise self.fail(f"unknown level {level!r} (use {', '.join(self.allowed)})",
                                line, where)
        return tuple(str(level) for level in value)

    def phone(self, raw: dict[str, Any], where: str) -> str:
        value = raw.get("phone", "")
        if not isinstance(value, str) or (value and not PHONE.fullmatch(value.strip())):
            raise self.fail(f"phone {value!r} is not a phone number (quote it: "
                            '"+46 10 123 45 67")', line_of(raw, "phone"), where)
        return value.strip()

    def url(self, raw: dict[str, Any], where: str) -> str:
        value = raw.get("url", "")
        parts = urlsplit(value) if isinstance(value, str) else None
        if value and (parts is None or parts.scheme != "https" or not parts.hostname):
            raise self.fail(f"url {value!r} is not an https:// address",
                            line_of(raw, "url"), where)
        return str(value)


def load_care(path: Path, levels: Sequence[str], exit_at: str,
              langs: Sequence[str]) -> tuple[CarePlace, ...]:
    """Read and validate a care file against the flow's levels and the locales' languages."""
    raw = load_yaml(path)
    reader = _Reader(path, levels, exit_at, langs)
    if not isinstance(raw, dict) or not isinstance(raw.get("care"), list) or not raw["care"]:
        raise reader.fail("a care file is a mapping with a non-empty list 'care'",
                          line_of(raw))
    unknown = sorted(set(raw) - {"care"})
    if unknown:
        raise reader.fail(f"unknown key {unknown[0]!r} (the file has only 'care')",
                          line_of(raw, unknown[0]))
    return tuple(reader.place(entry, i) for i, entry in enumerate(raw["care"], 1))


def shown_at(places: Sequence[CarePlace], level: str) -> tuple[CarePlace, ...]:
    """The places a result of this level shows, in the file's order."""
    return tuple(p for p in places if level in p.levels)
