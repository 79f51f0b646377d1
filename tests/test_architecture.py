"""The seams hold: no import cycle anywhere in bot/ (TYPE_CHECKING and function-level
imports count too), and no module outside a platform's own package and the registry
names a platform."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.platforms import PLATFORMS

BOT = Path(__file__).resolve().parent.parent / "bot"


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in BOT.rglob("*.py")}


def imported(name: str, path: Path) -> set[str]:
    """Every bot module this module imports, anywhere in it (under TYPE_CHECKING and
    inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                       for alias in node.names]
        found.update(t for t in targets if t in MODULES and t != name)
    return found


def cycles() -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    graph = {name: imported(name, path) for name, path in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_there_is_no_import_cycle_in_bot() -> None:
    assert cycles() == []


def test_imports_are_read_from_anywhere_in_a_module() -> None:
    assert "bot.app" in imported("bot.compose", MODULES["bot.compose"])
    assert "bot.app" in imported("bot.ops", MODULES["bot.ops"])  # under TYPE_CHECKING


def library_names(tree: ast.AST) -> set[str]:
    """The names a module binds to other libraries' modules and objects (aiohttp's `web`):
    they name the library's things, not a platform."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and not _ours(node.module):
            bound |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names
                      if not _ours(alias.name)}
    return bound


def _ours(module: str | None) -> bool:
    return module == "bot" or (module or "").startswith("bot.")


def code_words(path: Path) -> set[str]:
    """Names, attributes, imported names and string constants (docstrings excluded); a
    name bound to another library's module or object is that library's, not ours."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
                  and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    library = library_names(tree)
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in library:
            words.add(node.id)
        elif isinstance(node, ast.Attribute):
            words.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and (node.level or _ours(node.module)):
            words |= {node.module or "", *(alias.name for alias in node.names)}
        elif isinstance(node, ast.Import):
            words |= {alias.name for alias in node.names if _ours(alias.name)}
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            words.add(node.value)
    return {w.lower() for w in words}


def test_a_library_module_is_no_platform_but_ours_are(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("from aiohttp import web\nfrom bot.adapters import slack\n"
                      "app = web.Application()\nname = slack.PLATFORM.name\n")
    words = code_words(source)
    assert "web" not in words and "application" in words
    assert {"bot.adapters", "slack"} <= words


def test_no_module_outside_its_package_and_the_registry_names_a_platform() -> None:
    names = [p.name for p in PLATFORMS]
    offenders = []
    for name, path in MODULES.items():
        if name == "bot.platforms" or any(name.startswith(f"bot.adapters.{n}") for n in names):
            continue
        for word in code_words(path):
            offenders += [f"{name}: {word!r}" for n in names if n in word]
    assert offenders == []


def test_every_platform_has_the_same_rooms() -> None:
    for platform in PLATFORMS:
        package = BOT / "adapters" / platform.name
        rooms = {p.stem for p in package.glob("*.py")}
        assert {"__init__", "inbound", "render", "transport", "serve"} <= rooms, platform.name
        if platform.outbox:
            assert "outbox" in rooms and platform.outbox.startswith(
                f"bot.adapters.{platform.name}.outbox:")
        assert platform.cli == f"bot.adapters.{platform.name}.serve"
