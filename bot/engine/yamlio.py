"""YAML as data: a safe loader that keeps `yes`/`no`/`on`/`off` as strings and remembers
the line of every mapping key, so validation errors can name the line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.errors import FlowError


class LineDict(dict[str, Any]):
    """A mapping from YAML that knows the line where it and each of its keys start."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    """SafeLoader whose only booleans are true/false: option ids like `yes` stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in mapping:
            raise FlowError(f"duplicate id or key {key!r}", node=key,
                            line=key_node.start_mark.line + 1)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file safely; any problem becomes a FlowError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FlowError(f"cannot read file: {exc.strerror}", file=str(path)) from exc
    try:
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except FlowError as exc:
        raise FlowError(str(exc).split(": ", 1)[-1], file=str(path), node=exc.node,
                        line=exc.line) from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise FlowError(f"invalid YAML: {exc.problem}", file=str(path), line=line) from exc
    except yaml.YAMLError as exc:
        raise FlowError(f"invalid YAML: {exc}", file=str(path)) from exc


def line_of(data: Any, key: str | None = None) -> int | None:
    """The line of a mapping (or of one of its keys), when known."""
    if isinstance(data, LineDict):
        return data.key_lines.get(key, data.line) if key else data.line
    return None
