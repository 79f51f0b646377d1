"""The hazard log (docs/hazards.yaml): each hazard, its cause and effect, the control
that prevents it and what verifies the control — the shape DCB0129 asks a manufacturer
of health IT for. Loading checks that every verification it names exists: an invariant
of the flow (proved by lint over every path) or a test (`tests/<file>.py::<test>`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.engine.yamlio import load_yaml
from bot.errors import FlowError

FIELDS = ("id", "hazard", "cause", "effect", "control", "verified_by")
TEST_ID = re.compile(r"(?P<file>tests/[\w/]+\.py)::(?P<test>\w+)(\[.*\])?")


@dataclass(frozen=True)
class Hazard:
    """One entry of the log."""

    id: str
    hazard: str
    cause: str
    effect: str
    control: str
    verified_by: tuple[str, ...]


@dataclass(frozen=True)
class HazardLog:
    """The log, and every reference in it that does not resolve (empty when all do)."""

    path: str
    hazards: tuple[Hazard, ...]
    unresolved: dict[tuple[str, str], str]  # (hazard id, reference) -> why it does not resolve

    @property
    def problems(self) -> list[str]:
        """One line per reference that does not resolve, naming the hazard."""
        return [f"{hid}: {why}" for (hid, _), why in self.unresolved.items()]


def load_hazards(path: Path, invariants: set[str], root: Path | None = None) -> HazardLog:
    """Read the log; `problems` lists each verification that names no invariant in
    `invariants` and no test function under `root` (default: the log's repository)."""
    if not path.is_file():
        return HazardLog(str(path), (), {("-", str(path)): f"there is no hazard log {path}"})
    raw = load_yaml(path)
    entries = raw.get("hazards") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise FlowError("a hazard log is a mapping with a non-empty list 'hazards'",
                        file=str(path))
    hazards = tuple(_hazard(path, entry) for entry in entries)
    base = root if root is not None else path.resolve().parent.parent
    unresolved = {(h.id, ref): why for h in hazards for ref in h.verified_by
                  if (why := check_reference(ref, invariants, base))}
    return HazardLog(str(path), hazards, unresolved)


def _hazard(path: Path, entry: object) -> Hazard:
    if not isinstance(entry, dict) or set(FIELDS) - set(entry):
        raise FlowError(f"a hazard has {', '.join(FIELDS)}; got {entry!r}", file=str(path))
    refs = entry["verified_by"]
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        raise FlowError("verified_by is a non-empty list of invariant names and test ids",
                        file=str(path), node=str(entry["id"]))
    hid, hazard, cause, effect, control = (" ".join(str(entry[f]).split()) for f in FIELDS[:-1])
    return Hazard(hid, hazard, cause, effect, control, tuple(refs))


def check_reference(ref: str, invariants: set[str], root: Path) -> str:
    """Why `ref` does not resolve, or "" when it does."""
    if "::" not in ref and not ref.startswith("tests/"):
        return "" if ref in invariants else f"the flow has no invariant {ref!r}"
    match = TEST_ID.fullmatch(ref)
    if not match:
        return f"{ref!r} is not a test id like tests/test_x.py::test_name"
    file = root / match["file"]
    if not file.is_file():
        return f"{ref!r}: there is no {match['file']}"
    if not re.search(rf"^(async )?def {match['test']}\(", file.read_text(), re.MULTILINE):
        return f"{ref!r}: {match['file']} has no test {match['test']}"
    return ""
