"""Locales: every user-visible string, per language, with fallback to English.

Locale files are nested YAML mappings; keys are addressed with dots (`level.urgent.headline`).
Values are strings with `{placeholders}`, or lists of words (for typed-answer matching).
Region settings (emergency and advice numbers) are filled in by the Translator, so no
phone number is ever written into a sentence.
"""

from __future__ import annotations

import logging
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.engine.yamlio import line_of, load_yaml
from bot.errors import FlowError

log = logging.getLogger("backcheck.i18n")
_PUNCT = re.compile(r"[\s.!?,;:\"“”„«»()\[\]]+")
_APOSTROPHES = re.compile(r"['’‘`´]")  # don't, don’t and dont are one word
_DASHES = re.compile(r"[‐‑‒–—―−]")  # 1–6, 1—6 and 1-6 are one answer

Value = str | list[str]
FALLBACK = "en"


def placeholders(text: str) -> set[str]:
    """The `{names}` a string expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _flatten(data: Any, file: str, prefix: str = "") -> dict[str, tuple[Value, int | None]]:
    out: dict[str, tuple[Value, int | None]] = {}
    if not isinstance(data, dict):
        raise FlowError("a locale file is a mapping of keys to strings", file=file)
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, file, full + "."))
        elif isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            out[full] = (value, line_of(data, key))
        else:
            raise FlowError(f"key {full!r}: expected text or a list of words, got {value!r}",
                            file=file, line=line_of(data, key))
    return out


class Translator:
    """Strings of one language for one region."""

    def __init__(self, lang: str, strings: dict[str, Value], fallback: dict[str, Value],
                 region: str) -> None:
        self.lang, self._strings, self._fallback = lang, strings, fallback
        prefix = f"region.{region}."
        self.region_params = {  # the numbers and the places of care: {emergency}, {ed}, ...
            key[len(prefix):]: self._raw(key)
            for key in (*fallback, *strings) if key.startswith(prefix)
        }

    def _raw(self, key: str) -> str:
        value = self._strings.get(key, self._fallback.get(key))
        if value is None:
            log.warning("missing locale key %s", key)
            return key
        return value if isinstance(value, str) else ", ".join(value)

    def has(self, key: str) -> bool:
        return key in self._strings or key in self._fallback

    def t(self, key: str, **params: object) -> str:
        """The string for `key`, with region numbers and `params` filled in."""
        text = self._raw(key)
        try:
            return text.format(**self.region_params, **params)
        except (KeyError, IndexError, ValueError):
            log.warning("placeholder mismatch in locale key %s", key)
            return text

    def words(self, key: str) -> list[str]:
        """A list of words (e.g. what counts as "yes")."""
        value = self._strings.get(key, self._fallback.get(key, []))
        return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class Locales:
    """Every loaded language."""

    strings: dict[str, dict[str, Value]]
    files: dict[str, str]
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def langs(self) -> tuple[str, ...]:
        return tuple(self.strings)

    def translator(self, lang: str, region: str = "SE") -> Translator:
        lang = lang if lang in self.strings else FALLBACK
        key = ("translator", lang, region)
        if key not in self.memo:
            self.memo[key] = Translator(lang, self.strings[lang], self.strings[FALLBACK], region)
        translator: Translator = self.memo[key]
        return translator

    def variant(self, name: str) -> Locales:
        """These locales with the keys of the `<name>:` block in place of the common keys
        of the same name (`terminal.reprompt` for `reprompt`): how a platform gets words
        that fit it (the terminal has no buttons) without a sentence in its adapter.
        "" is these locales themselves."""
        if not name:
            return self
        memo_key = ("variant", name)
        if memo_key not in self.memo:
            prefix = f"{name}."
            self.memo[memo_key] = Locales(
                {lang: {**strings, **{k.removeprefix(prefix): v for k, v in strings.items()
                                      if k.startswith(prefix)}}
                 for lang, strings in self.strings.items()}, self.files)
        variant: Locales = self.memo[memo_key]
        return variant

    def words_everywhere(self, key: str) -> dict[str, list[str]]:
        """The word list for `key` in every language."""
        return {lang: self.translator(lang).words(key) for lang in self.strings}


def locale_langs(directory: Path) -> tuple[str, ...]:
    """The languages there are locale files for (`en.yaml` -> "en"), in name order,
    without reading them: what settings and menus offer."""
    return tuple(sorted(path.stem for path in directory.glob("*.yaml")))


def load_locales(directory: Path) -> Locales:
    """Load `<lang>.yaml` files; every language must have the same keys and placeholders."""
    loaded: dict[str, dict[str, tuple[Value, int | None]]] = {}
    files: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        loaded[path.stem] = _flatten(load_yaml(path), str(path))
        files[path.stem] = str(path)
    if FALLBACK not in loaded:
        raise FlowError(f"no {FALLBACK}.yaml in {directory}", file=str(directory))
    base = loaded[FALLBACK]
    for lang, entries in loaded.items():
        _check_parity(base, entries, files[FALLBACK], files[lang])
    return Locales({lang: {k: v for k, (v, _) in e.items()} for lang, e in loaded.items()}, files)


def _check_parity(base: dict[str, tuple[Value, int | None]],
                  other: dict[str, tuple[Value, int | None]], base_file: str, file: str) -> None:
    for key, (value, line) in base.items():
        if key not in other:
            raise FlowError(f"locale key {key!r} is missing (it is in {base_file}:{line})",
                            file=file)
        theirs, their_line = other[key]
        if (isinstance(value, str) and isinstance(theirs, str)
                and placeholders(value) != placeholders(theirs)):
            raise FlowError(
                f"placeholder mismatch in {key!r}: {sorted(placeholders(value))} in "
                f"{base_file} but {sorted(placeholders(theirs))} here", file=file, line=their_line)
    for key, (_, line) in other.items():
        if key not in base:
            raise FlowError(f"locale key {key!r} is not in {base_file}", file=file, line=line)


def detect_lang(hint: str | None, langs: tuple[str, ...], default: str = FALLBACK) -> str:
    """The language for a platform hint like "sv-SE" or "en_GB"; the default otherwise."""
    if hint:
        code = hint.replace("_", "-").split("-")[0].lower()
        if code in langs:
            return code
    return default if default in langs else FALLBACK


def normalize(text: str) -> str:
    """Lower case, single spaces, no surrounding punctuation or slash, every dash a
    hyphen and no apostrophes: what a person types compares equal to what we wrote
    whichever keyboard they have."""
    text = _DASHES.sub("-", _APOSTROPHES.sub("", text.lower()))
    return _PUNCT.sub(" ", text).strip().lstrip("/").strip()


def words(locales: Locales, key: str) -> frozenset[str]:
    """Every language's words for `key`, normalized; remembered per Locales."""
    memo_key = ("words", key)
    if memo_key not in locales.memo:
        locales.memo[memo_key] = frozenset(
            normalize(w) for ws in locales.words_everywhere(key).values() for w in ws)
    words: frozenset[str] = locales.memo[memo_key]
    return words
