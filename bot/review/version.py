"""The content version: one hash over everything the bot can say and decide.

The flow file, every locale file, the tips file and the workplace's care file
(BACKCHECK_CARE_FILE, when one is set) are hashed together (sha256 over each
file's name and bytes, in a fixed order), so changing one Swedish word gives a new
version. A clinician signs a version; `BACKCHECK_SIGNED_VERSION` makes the bots refuse to
start on content whose version differs, so nothing unreviewed reaches people.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from bot.engine.care import load_care
from bot.engine.flow import Flow
from bot.engine.loader import DEFAULT_FLOW, LOCALES_DIR, ROOT, load_flow
from bot.errors import ConfigError
from bot.i18n import Locales, load_locales


class Settings(Protocol):
    """What the version check reads of bot.config.Settings (not imported: no cycle)."""

    flow: str
    signed_version: str
    care_file: str

SHORT = 12  # hex digits shown to people: enough to tell versions apart
SIGNED = "BACKCHECK_SIGNED_VERSION"


@dataclass(frozen=True)
class Content:
    """Where the reviewed content lives: the flow, the locales directory, the tips file
    and the workplace's own places of care (None: no care file)."""

    flow: Path
    locales: Path
    tips: Path
    care: Path | None = None

    @classmethod
    def at(cls, root: Path, flow: Path | None = None, care: Path | None = None) -> Content:
        """The content under `root` (flows/ and locales/), with this flow file and care
        file if given."""
        return cls(flow or root / "flows" / DEFAULT_FLOW.name, root / "locales",
                   root / "flows" / "tips.yaml", care)

    def load(self) -> tuple[Flow, Locales]:
        """The flow (with the care file's places) and its locales, read and validated."""
        locales = load_locales(self.locales)
        flow = load_flow(self.flow, locales)
        if self.care is not None:
            flow = replace(flow, care=load_care(self.care, flow.levels, flow.exit_at,
                                                locales.langs))
        return flow, locales

    def files(self) -> list[tuple[str, Path]]:
        """(name, path) of every hashed file, in the order they are hashed."""
        out = [(f"flows/{self.flow.name}", self.flow)]
        out += [(f"locales/{p.name}", p) for p in sorted(self.locales.glob("*.yaml"))]
        if self.tips.is_file():
            out.append((f"flows/{self.tips.name}", self.tips))
        if self.care is not None:
            out.append((f"care/{self.care.name}", self.care))
        return out


def content_version(root: Path = ROOT, flow: Path | None = None) -> str:
    """The full sha256 (hex) over the flow file, the locale files and the tips file."""
    return version_of(Content.at(root, flow))


def version_of(content: Content) -> str:
    """The full sha256 (hex) of this content."""
    digest = hashlib.sha256()
    for name, path in content.files():
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def short(version: str) -> str:
    """A version as shown on every page and by `backcheck config`."""
    return version[:SHORT]


def running_content(settings: Settings) -> Content:
    """The content a bot with these settings loads."""
    flow = Path(settings.flow) if settings.flow else DEFAULT_FLOW
    care = Path(settings.care_file) if settings.care_file else None
    return Content(flow, LOCALES_DIR, ROOT / "flows" / "tips.yaml", care)


def check_signed(settings: Settings) -> None:
    """Refuse to start (ConfigError, one line naming the variable and both versions) when
    BACKCHECK_SIGNED_VERSION is set and the content this bot would load is another version.
    A signed version may be given in full or shortened to at least 12 hex digits."""
    signed = settings.signed_version
    if not signed:
        return
    actual = version_of(running_content(settings))
    if not actual.startswith(signed):
        raise ConfigError(
            f"{SIGNED}={signed} but the content this bot would load is version "
            f"{short(actual)}: it has not been signed off (review it with `backcheck review`)")
