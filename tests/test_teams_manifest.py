"""`backcheck teams manifest`: an app package an admin can upload, checked against
Microsoft's published app manifest schema (tests/fixtures/teams/, see its README)."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest
from teams_stub import APP_ID

from bot import cli

SCHEMA = Path(__file__).parent / "fixtures" / "teams" / "MicrosoftTeams.v1.24.schema.json"
SITE = "https://intranet.example.org/backcheck"


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, RGBA pixels) of an 8-bit RGBA PNG without interlacing or filters."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    data, at = b"", 8
    while at < len(png):
        (size,), kind = struct.unpack(">I", png[at:at + 4]), png[at + 4:at + 8]
        data += png[at + 8:at + 8 + size] if kind == b"IDAT" else b""
        at += 12 + size
    raw = zlib.decompress(data)
    row = 1 + 4 * width
    return width, height, [raw[y * row + 1 + 4 * x: y * row + 5 + 4 * x]
                           for y in range(height) for x in range(width)]


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    assert cli.main(["teams", "manifest", "--out", str(tmp_path / "app"),
                     "--website", SITE, "--version", "1.2.0"]) == 0
    assert "backcheck-teams.zip" in capsys.readouterr().out
    return tmp_path / "app"


def test_the_manifest_is_valid_against_microsofts_schema(package: Path) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(manifest)] == []
    assert manifest["manifestVersion"] == schema["properties"]["manifestVersion"]["const"]
    assert manifest["bots"][0]["botId"] == APP_ID and manifest["version"] == "1.2.0"
    assert manifest["developer"]["privacyUrl"] == SITE
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert "help" in titles and "forget" in titles


def test_a_broken_manifest_would_be_caught() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors({"manifestVersion": "1.24", "id": "not-a-guid"}))


def test_the_icons_are_the_sizes_teams_asks_and_the_outline_is_white_on_clear(
        package: Path) -> None:
    width, height, _ = pixels((package / "color.png").read_bytes())
    assert (width, height) == (192, 192)
    width, height, outline = pixels((package / "outline.png").read_bytes())
    assert (width, height) == (32, 32)
    assert set(outline) == {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}


def test_the_zip_holds_exactly_the_three_files(package: Path) -> None:
    with zipfile.ZipFile(package / "backcheck-teams.zip") as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert archive.read("manifest.json") == (package / "manifest.json").read_bytes()


def test_the_manifest_needs_an_https_website(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    with pytest.raises(SystemExit):
        cli.main(["teams", "manifest", "--out", str(tmp_path), "--website", "http://x.org"])
    assert "https" in capsys.readouterr().err
