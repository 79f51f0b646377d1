"""Where a store URL keeps its data: the SQLite file a `sqlite:` URL names (the rule is in
bot/stores/__init__.py). Imports nothing of backcheck, so settings can check a URL with it."""

from __future__ import annotations

import os
from pathlib import Path

SQLITE_FORMS = "sqlite:///absolute/path or sqlite:./relative/path"


def sqlite_file(url: str) -> Path | None:
    """The absolute path of the file a sqlite URL names; None for another kind of store.
    ValueError when a sqlite URL has neither form (its message says which it expects)."""
    if not url.startswith("sqlite:"):
        return None
    rest = url.removeprefix("sqlite:")
    if rest.startswith("///") and rest.strip("/"):
        return Path("/" + rest.lstrip("/"))
    if rest.startswith(("./", "../")) and rest.rstrip("/") not in (".", ".."):
        return Path(os.path.abspath(rest))
    raise ValueError(f"expected {SQLITE_FORMS}")
