"""The Teams app package an admin uploads: manifest.json and two icons, zipped.

The manifest follows Microsoft's app manifest schema v1.24 (tests/fixtures/teams/ holds
the schema it is checked against). The bot works in personal chats, team channels and
group chats (the last two only point to the personal chat); its command list is the
command registry's menu with the English words the App understands typed. The icons are
drawn here, with the standard library: a 192x192 colour icon and a 32x32 white outline on
transparent, as Teams asks.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot import commands
from bot.i18n import Locales

SCHEMA = ("https://developer.microsoft.com/en-us/json-schemas/teams/v1.24/"
          "MicrosoftTeams.schema.json")
MANIFEST_VERSION = "1.24"
ACCENT = "#1F6F8B"
COLOR_ICON, OUTLINE_ICON = "color.png", "outline.png"
PACKAGE = "backcheck-teams.zip"
RGBA = tuple[int, int, int, int]


def png(size: int, pixel: Callable[[float, float], RGBA]) -> bytes:
    """A size x size RGBA PNG; `pixel(x, y)` gives each pixel's colour, x and y in 0..1."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel((x + 0.5) / size, (y + 0.5) / size))
                           for x in range(size))
        for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def _spine(x: float, y: float) -> bool:
    """Four stacked vertebrae, the mark in both icons."""
    for i in range(4):
        top = 0.18 + i * 0.17
        if top <= y <= top + 0.12 and abs(x - 0.5) <= 0.16 - 0.02 * abs(i - 1.5):
            return True
    return False


def color_icon() -> bytes:
    """192x192: white vertebrae on the accent colour."""
    accent = (0x1F, 0x6F, 0x8B, 255)
    return png(192, lambda x, y: (255, 255, 255, 255) if _spine(x, y) else accent)


def outline_icon() -> bytes:
    """32x32: white vertebrae on transparent."""
    return png(32, lambda x, y: (255, 255, 255, 255) if _spine(x, y) else (0, 0, 0, 0))


def command_list(locales: Locales) -> list[dict[str, str]]:
    """The menu commands as Teams shows them: the typed word, what it does (English)."""
    tr = locales.translator("en")
    out = []
    for spec in commands.REGISTRY:
        if spec.menu:
            word = (tr.words(f"words.{spec.name}") or [spec.name])[0]
            out.append({"title": word, "description": tr.t(f"menu.{spec.label}")})
    return out[:12]


def manifest(locales: Locales, app_id: str, *, version: str, developer: str,
             website: str, privacy: str, terms: str) -> dict[str, Any]:
    """manifest.json for the bot registered as `app_id` (also the Teams app's id)."""
    tr = locales.translator("en")
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {"name": developer[:32], "websiteUrl": website, "privacyUrl": privacy,
                      "termsOfUseUrl": terms},
        "name": {"short": tr.t("teams.app_name")[:30], "full": tr.t("teams.app_full_name")},
        "description": {"short": tr.t("teams.app_short")[:80],
                        "full": tr.t("teams.app_full")[:4000]},
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": ACCENT,
        "bots": [{
            "botId": app_id,
            "scopes": ["personal", "team", "groupChat"],
            "isNotificationOnly": False,
            "supportsFiles": False,
            "commandLists": [{"scopes": ["personal"], "commands": command_list(locales)}],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def write(out: Path, data: dict[str, Any]) -> Path:
    """manifest.json and the icons into `out`, and the zip of the three; the zip's path."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"manifest.json": json.dumps(data, indent=2, ensure_ascii=False).encode(),
             COLOR_ICON: color_icon(), OUTLINE_ICON: outline_icon()}
    for name, content in files.items():
        (out / name).write_bytes(content)
    package = out / PACKAGE
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return package
