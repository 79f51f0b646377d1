"""What changed for a clinician between two versions of the content: questions, rules,
invariants, the workplace's places of care and every text, added, removed or reworded, in
every language.

The old version is a directory holding an older checkout's flows/ and locales/, or a git
revision of this repository (read with `git archive`, nothing checked out)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.engine.care import CarePlace
from bot.engine.flow import Flow
from bot.errors import BackcheckError
from bot.i18n import Locales
from bot.review.content import in_words
from bot.review.version import Content, short, version_of

RESULT_PREFIXES = ("level.", "outcome.", "fit.", "tests.", "helps.", "worse.", "region.",
                   "sources", "button.")
GROUPS = ("Questions", "Rules", "Invariants", "Result texts", "Places of care",
          "Other texts")


@dataclass(frozen=True)
class Change:
    """One difference: `kind` is added, removed or reworded; `lang` is "" for logic."""

    kind: str
    item: str
    lang: str = ""
    old: str = ""
    new: str = ""


@dataclass
class Diff:
    """Every change, by group, between two content versions."""

    old_version: str
    new_version: str
    groups: dict[str, list[Change]] = field(default_factory=lambda: {g: [] for g in GROUPS})

    @property
    def empty(self) -> bool:
        return not any(self.groups.values())


@dataclass(frozen=True)
class _Side:
    flow: Flow
    locales: Locales

    def text(self, lang: str, key: str) -> str:
        value = self.locales.strings.get(lang, {}).get(key)
        return "" if value is None else value if isinstance(value, str) else "\n".join(value)


def _load(content: Content) -> _Side:
    return _Side(*content.load())


def compare(old: Content, new: Content) -> Diff:
    """The changes from `old` to `new`."""
    before, after = _load(old), _load(new)
    diff = Diff(version_of(old), version_of(new))
    langs = sorted(set(before.locales.langs) | set(after.locales.langs), key=lambda x: x != "en")
    question_keys = _questions(diff, before, after, langs)
    _logic(diff, before, after)
    _care(diff, before.flow, after.flow)
    for lang in langs:
        keys = set(before.locales.strings.get(lang, {})) | set(after.locales.strings.get(lang, {}))
        for key in sorted(keys - question_keys):
            old_text, new_text = before.text(lang, key), after.text(lang, key)
            if old_text != new_text:
                group = "Result texts" if key.startswith(RESULT_PREFIXES) else "Other texts"
                diff.groups[group].append(Change(_kind(old_text, new_text), f"text {key}", lang,
                                                 old_text, new_text))
    return diff


def _care(diff: Diff, before: Flow, after: Flow) -> None:
    """Each place of care added, removed or changed, by its English name."""
    olds = {p.name_in("en"): _place(p) for p in before.care}
    news = {p.name_in("en"): _place(p) for p in after.care}
    _keyed(diff, "Places of care", "place", olds, news)


def _place(place: CarePlace) -> str:
    names = "; ".join(f"{lang}: {text}" for lang, text in place.name)
    hours = "; ".join(f"{lang}: {text}" for lang, text in place.hours)
    return "\n".join(filter(None, (
        f"name {names}", f"phone {place.phone}" if place.phone else "",
        f"url {place.url}" if place.url else "", f"hours {hours}" if hours else "",
        f"shown at {', '.join(place.levels)}")))


def _kind(old: str, new: str) -> str:
    return "added" if not old else "removed" if not new else "reworded"


def _questions(diff: Diff, before: _Side, after: _Side, langs: list[str]) -> set[str]:
    """Add the question changes; return the locale keys they cover."""
    olds = {n.id: n for n in before.flow.questions()}
    news = {n.id: n for n in after.flow.questions()}
    covered: set[str] = set()
    for qid in [*news, *(q for q in olds if q not in news)]:
        old, new = olds.get(qid), news.get(qid)
        for part in ("text", "short"):
            keys = (getattr(old, part, ""), getattr(new, part, ""))
            covered |= set(keys)
            for lang in langs:
                was = before.text(lang, keys[0]) if old else ""
                now = after.text(lang, keys[1]) if new else ""
                if was != now:
                    diff.groups["Questions"].append(Change(
                        _kind(was, now), f"question {qid} ({part})", lang, was, now))
        if old and new:
            was_ids, now_ids = [o.id for o in old.options], [o.id for o in new.options]
            if was_ids != now_ids:
                diff.groups["Questions"].append(Change(
                    "reworded", f"question {qid} (answers)", "", ", ".join(was_ids),
                    ", ".join(now_ids)))
    return covered


def _rule_words(side: _Side) -> list[str]:
    en = side.locales.translator("en")
    return [f"{in_words(side.flow, en, r.cond)} → {r.level}"
            + (f"  [source: {r.source}]" if r.source else "") for r in side.flow.rules]


def _logic(diff: Diff, before: _Side, after: _Side) -> None:
    old_rules, new_rules = _rule_words(before), _rule_words(after)
    diff.groups["Rules"] += [Change("removed", "rule", "", r) for r in old_rules
                             if r not in new_rules]
    diff.groups["Rules"] += [Change("added", "rule", "", "", r) for r in new_rules
                             if r not in old_rules]
    en_old, en_new = before.locales.translator("en"), after.locales.translator("en")
    olds = {i.name: f"{in_words(before.flow, en_old, i.cond)} → at least {i.level}"
            for i in before.flow.invariants}
    news = {i.name: f"{in_words(after.flow, en_new, i.cond)} → at least {i.level}"
            for i in after.flow.invariants}
    _keyed(diff, "Invariants", "invariant", olds, news)


def _keyed(diff: Diff, group: str, label: str, olds: dict[str, str],
           news: dict[str, str]) -> None:
    """Each item added, removed or changed between two {name: text} maps, into `group`."""
    for name in [*news, *(n for n in olds if n not in news)]:
        was, now = olds.get(name, ""), news.get(name, "")
        if was != now:
            diff.groups[group].append(Change(_kind(was, now), f"{label} {name}", "", was, now))


def as_text(diff: Diff) -> str:
    """The changes as plain text, for a terminal or an e-mail."""
    lines = [f"Content version {short(diff.old_version)} → {short(diff.new_version)}"]
    if diff.empty:
        return lines[0] + ": no changes\n"
    for group, changes in diff.groups.items():
        if not changes:
            continue
        lines += ["", f"{group} ({len(changes)})"]
        for c in changes:
            lines.append(f"  {c.kind:9} {c.item}" + (f" [{c.lang}]" if c.lang else ""))
            lines += [f"      - {line}" for line in c.old.splitlines()]
            lines += [f"      + {line}" for line in c.new.splitlines()]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def old_content(spec: str, root: Path, flow_name: str,
                care: Path | None = None) -> Iterator[Content]:
    """The old content: a directory with flows/ and locales/, or a git revision of `root`.
    The old care file is the one at the same place (its path under `root`, else its name)
    in that directory or revision; the old version has none when it is not there."""
    rel = _relative(care, root) if care is not None else None
    given = Path(spec)
    if given.is_dir():
        old_care = given / rel if rel is not None and (given / rel).is_file() else None
        yield Content.at(given, given / "flows" / flow_name, old_care)
        return
    with tempfile.TemporaryDirectory(prefix="backcheck-old-") as tmp:
        _archive(spec, root, ["flows", "locales"], Path(tmp))
        old_care = None
        if rel is not None and _archive(spec, root, [str(rel)], Path(tmp), missing_ok=True):
            old_care = Path(tmp) / rel
        yield Content.at(Path(tmp), Path(tmp) / "flows" / flow_name, old_care)


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return Path(path.name)


def _archive(spec: str, root: Path, paths: list[str], into: Path,
             missing_ok: bool = False) -> bool:
    """Extract `paths` of git revision `spec` into `into`; False when a path is not there
    and `missing_ok`."""
    done = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", spec, *paths],
                          capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        if missing_ok:
            return False
        raise BackcheckError(f"--diff {spec}: not a directory, and git cannot read that "
                             f"revision: {done.stderr.decode(errors='replace').strip()[:200]}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(into, filter="data")
    return True


def as_html(diff: Diff, against: str) -> str:
    """The changes as a section of the review page."""
    from bot.review.markup import esc, section, table, tag

    title = f"Changes since {against} (content version {short(diff.old_version)})"
    if diff.empty:
        return section("changes", title, tag("p", "No changes."))
    parts = []
    for group, changes in diff.groups.items():
        if changes:
            parts.append(tag("h3", esc(f"{group} ({len(changes)})")))
            parts.append(table(["change", "what", "language", "before", "after"], [
                [esc(c.kind), tag("code", esc(c.item)), esc(c.lang),
                 tag("span", esc(c.old), "diff-old"), tag("span", esc(c.new), "diff-new")]
                for c in changes], "texts"))
    return section("changes", title, "".join(parts), "pagebreak")
