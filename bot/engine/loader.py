"""Flow files: YAML -> validated Flow, or one FlowError naming file, node and line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bot.engine import rules
from bot.engine.flow import Fit, Flow, Invariant, Node, Option, Rule, SafetyNet, Source, Transition
from bot.engine.yamlio import line_of, load_yaml
from bot.errors import FlowError
from bot.i18n import Locales


def _root() -> Path:
    """Where flows/ and locales/ live: $BACKCHECK_ROOT, else the source checkout this
    package runs from, else the working directory (an installed package in a container)."""
    configured = os.environ.get("BACKCHECK_ROOT", "")
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / "flows").is_dir() else Path.cwd()


ROOT = _root()
DEFAULT_FLOW = ROOT / "flows" / "back_pain.yaml"
LOCALES_DIR = ROOT / "locales"
NODE_KINDS = ("question", "info", "outcome")


class _Ctx:
    """Where we are while reading, so every error names file, node and line."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, message: str, node: str = "", line: int | None = None) -> FlowError:
        return FlowError(message, file=self.file, node=node, line=line)


def load_flow(path: Path, locales: Locales) -> Flow:
    """Read, build and validate a flow against the locales it will be spoken in."""
    ctx = _Ctx(str(path))
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise ctx.fail("a flow file must be a mapping with flow, start, levels, nodes, rules")
    for key in ("flow", "start", "levels", "nodes", "rules"):
        if key not in raw:
            raise ctx.fail(f"missing top-level key {key!r}", line=line_of(raw))
    levels = _levels(ctx, raw)
    nodes = _nodes(ctx, raw["nodes"])
    sources = tuple(_source(ctx, s) for s in _list(ctx, raw, "sources"))
    titles = {s.id: s.title for s in sources}
    flow = Flow(
        id=str(raw["flow"]),
        path=str(path),
        start=str(raw["start"]),
        levels=levels,
        exit_at=str(raw.get("exit_at", levels[-1])),
        red_flags=tuple(raw.get("red_flags", ())),
        nodes=nodes,
        rules=tuple(_rule(ctx, r, titles) for r in _list(ctx, raw, "rules")),
        fits=tuple(_fit(ctx, k, v, line_of(raw["fits"], k))
                   for k, v in (raw.get("fits") or {}).items()),
        invariants=tuple(_invariant(ctx, i) for i in _list(ctx, raw, "invariants")),
        ranks={level: i for i, level in enumerate(levels)},
        tests=tuple(_tests(ctx, raw)),
        helps=tuple(_helps(ctx, raw)),
        followup=tuple(str(x) for x in _list(ctx, raw, "followup")),
        worse=tuple(_worse(ctx, w) for w in _list(ctx, raw, "worse")),
        max_questions=int(raw.get("max_questions") or 0),
        after_exit=tuple(str(q) for q in _list(ctx, raw, "after_exit")),
        after_exit_max=int(raw.get("after_exit_max") or 0),
        announce_at=str(raw.get("announce_at") or ""),
        sources=sources,
        help_sources={e["key"]: _ids(e) for e in _list(ctx, raw, "helps") if isinstance(e, dict)},
        fit_notes=tuple(_helps(ctx, raw, "fit_notes")),
    )
    validate(ctx, flow, raw)
    check_locales(ctx, flow, locales)
    return flow


def _list(ctx: _Ctx, raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise ctx.fail(f"{key!r} must be a list", line=line_of(raw, key))
    return value


def _levels(ctx: _Ctx, raw: dict[str, Any]) -> tuple[str, ...]:
    levels = raw["levels"]
    if not isinstance(levels, list) or not levels or len(set(levels)) != len(levels):
        raise ctx.fail("'levels' must be a list of distinct names, least urgent first",
                       line=line_of(raw, "levels"))
    return tuple(str(x) for x in levels)


def _nodes(ctx: _Ctx, raw: Any) -> dict[str, Node]:
    if not isinstance(raw, dict) or not raw:
        raise ctx.fail("'nodes' must be a mapping of node id to node")
    return {str(nid): _node(ctx, str(nid), spec, line_of(raw, nid)) for nid, spec in raw.items()}


def _node(ctx: _Ctx, nid: str, spec: Any, line: int | None) -> Node:
    spec = spec or {}
    if not isinstance(spec, dict):
        raise ctx.fail("a node must be a mapping", nid, line)
    kind = spec.get("type", "question")
    if kind not in NODE_KINDS:
        raise ctx.fail(f"unknown node type {kind!r} (use {', '.join(NODE_KINDS)})", nid, line)
    options = tuple(_option(ctx, nid, o) for o in spec.get("options") or ())
    if kind == "info" and not options:
        options = (Option("continue", "opt.continue"),)
    if kind == "question" and not options:
        raise ctx.fail("question without options", nid, line)
    if kind == "outcome" and (options or spec.get("next")):
        raise ctx.fail("an outcome node ends the flow: no options or next", nid, line)
    ids = [o.id for o in options]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ctx.fail(f"duplicate option id {dup!r}", nid, line)
    prefix = "q" if kind == "question" else kind
    return Node(
        id=nid, kind=kind, text=spec.get("text", f"{prefix}.{nid}.text"),
        short=spec.get("short", f"{prefix}.{nid}.short" if kind == "question" else ""),
        options=options, next=_transitions(ctx, nid, spec.get("next")), line=line,
    )


def _option(ctx: _Ctx, nid: str, raw: Any) -> Option:
    if isinstance(raw, str):
        return Option(raw, f"opt.{raw}")
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return Option(
            raw["id"], raw.get("label", f"opt.{raw['id']}"), tuple(raw.get("flags") or ()),
            _transitions(ctx, nid, raw.get("next")),
        )
    raise ctx.fail(f"an option is an id or a mapping with 'id', got {raw!r}", nid, line_of(raw))


def _transitions(ctx: _Ctx, nid: str, raw: Any) -> tuple[Transition, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (Transition(raw),)
    if not isinstance(raw, list) or not raw:
        raise ctx.fail("'next' is a node id or a list of {if: ..., goto: node}", nid)
    out = []
    for entry in raw:
        if not isinstance(entry, dict) or "goto" not in entry or set(entry) - {"if", "goto"}:
            raise ctx.fail(f"a next entry is {{if: condition, goto: node}}, got {entry!r}", nid,
                           line_of(entry))
        cond = rules.parse(entry["if"], file=ctx.file, node=nid) if "if" in entry else None
        out.append(Transition(str(entry["goto"]), cond, line_of(entry)))
    if out[-1].cond is not None:
        raise ctx.fail("the last 'next' entry must have no 'if' (the default)", nid, out[-1].line)
    return tuple(out)


def _tests(ctx: _Ctx, raw: dict[str, Any]) -> list[tuple[str, frozenset[str] | None]]:
    tests = raw.get("tests") or {}
    if not isinstance(tests, dict):
        raise ctx.fail("'tests' maps a locale key to 'always' or a list of fit ids",
                       line=line_of(raw, "tests"))
    out: list[tuple[str, frozenset[str] | None]] = []
    for key, when in tests.items():
        if when == "always":
            out.append((key, None))
        elif isinstance(when, list) and all(isinstance(f, str) for f in when):
            out.append((key, frozenset(when)))
        else:
            raise ctx.fail(f"tests.{key}: expected 'always' or a list of fit ids",
                           line=line_of(tests, key))
    return out


def _helps(ctx: _Ctx, raw: dict[str, Any], key: str = "helps"
           ) -> list[tuple[str, rules.Condition | None]]:
    """`helps` (or `fit_notes`): a locale key and when it is shown."""
    out: list[tuple[str, rules.Condition | None]] = []
    for entry in _list(ctx, raw, key):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise ctx.fail(f"a {key} entry is {{key: locale key, if: condition}}, got {entry!r}")
        cond = rules.parse(entry["if"], file=ctx.file, node=key) if "if" in entry else None
        out.append((entry["key"], cond))
    return out


def _ids(raw: dict[str, Any]) -> tuple[str, ...]:
    """The source ids an entry names: `source: id` or `source: [id, ...]`."""
    value = raw.get("source") or ()
    return (value,) if isinstance(value, str) else tuple(str(x) for x in value)


def _source(ctx: _Ctx, raw: Any) -> Source:
    if not isinstance(raw, dict) or not {"id", "title", "url", "kind"} <= set(raw) or (
            raw["kind"] not in ("guideline", "article")):
        raise ctx.fail(f"a source is {{id, title, url, kind: guideline | article}}, got {raw!r}",
                       "sources", line_of(raw))
    return Source(str(raw["id"]), str(raw["title"]), str(raw["url"]), raw["kind"])


def _fit(ctx: _Ctx, fid: str, raw: Any, line: int | None) -> Fit:
    """A fit is a condition, or {if: condition, source: [ids]}."""
    where = f"fits.{fid}"
    if isinstance(raw, dict) and "if" in raw:
        return Fit(fid, rules.parse(raw["if"], file=ctx.file, node=where), line, _ids(raw))
    return Fit(fid, rules.parse(raw, file=ctx.file, node=where), line)


def _rule(ctx: _Ctx, raw: Any, titles: dict[str, str]) -> Rule:
    if not isinstance(raw, dict) or "level" not in raw:
        raise ctx.fail(f"a rule is {{level: L, if: condition, why: [questions]}}, got {raw!r}")
    cond = rules.parse(raw["if"], file=ctx.file, node="rules") if "if" in raw else None
    ids = _ids(raw) if isinstance(raw.get("source"), list) else ()
    for sid in ids:
        if sid not in titles:
            raise ctx.fail(f"unknown source {sid!r}", "rules", line_of(raw))
    text = "; ".join(titles[s] for s in ids) if ids else str(raw.get("source", ""))
    return Rule(str(raw["level"]), cond, tuple(raw.get("why") or ()), line_of(raw), text, ids)


def _worse(ctx: _Ctx, raw: Any) -> SafetyNet:
    if not isinstance(raw, dict) or not {"key", "level"} <= set(raw):
        raise ctx.fail(f"a worse entry is {{key: locale key, level: L, if: condition}}, "
                       f"got {raw!r}", line=line_of(raw))
    cond = rules.parse(raw["if"], file=ctx.file, node="worse") if "if" in raw else None
    return SafetyNet(str(raw["key"]), str(raw["level"]), cond, line_of(raw))


def _invariant(ctx: _Ctx, raw: Any) -> Invariant:
    if not isinstance(raw, dict) or not {"name", "if", "level_at_least"} <= set(raw):
        raise ctx.fail(f"an invariant is {{name, if, level_at_least}}, got {raw!r}",
                       line=line_of(raw))
    cond = rules.parse(raw["if"], file=ctx.file, node=f"invariant {raw['name']}")
    return Invariant(str(raw["name"]), cond, str(raw["level_at_least"]), line_of(raw))


def validate(ctx: _Ctx, flow: Flow, raw: dict[str, Any]) -> None:
    """Every reference resolves, every node is reachable, and the flow has no cycle."""
    if flow.start not in flow.nodes:
        raise ctx.fail(f"start node {flow.start!r} does not exist", line=line_of(raw, "start"))
    if flow.exit_at not in flow.ranks:
        raise ctx.fail(f"exit_at {flow.exit_at!r} is not a level", line=line_of(raw, "exit_at"))
    for node in flow.nodes.values():
        for t in _all_transitions(node):
            if t.goto not in flow.nodes:
                raise ctx.fail(f"unknown target {t.goto!r}", node.id, t.line or node.line)
            _check_refs(ctx, flow, t.cond, node.id, t.line or node.line)
        if node.kind != "outcome" and not _all_transitions(node):
            raise ctx.fail("no 'next': every question and info must lead somewhere", node.id,
                           node.line)
    for rule in flow.rules:
        if rule.level not in flow.ranks:
            raise ctx.fail(f"unknown level {rule.level!r}", "rules", rule.line)
        _check_refs(ctx, flow, rule.cond, "rules", rule.line)
        for q in rule.why:
            _check_question(ctx, flow, q, "rules", rule.line)
    for fit in flow.fits:
        _check_refs(ctx, flow, fit.cond, f"fits.{fit.id}", fit.line)
    for inv in flow.invariants:
        if inv.level not in flow.ranks:
            raise ctx.fail(f"unknown level {inv.level!r}", f"invariant {inv.name}", inv.line)
        _check_refs(ctx, flow, inv.cond, f"invariant {inv.name}", inv.line)
    fit_ids = {f.id for f in flow.fits}
    for key, for_fits in flow.tests:
        if for_fits and for_fits - fit_ids:
            raise ctx.fail(f"tests.{key} names unknown fit {sorted(for_fits - fit_ids)[0]!r}",
                           line=line_of(raw.get("tests"), key))
    for _, cond in flow.helps:
        _check_refs(ctx, flow, cond, "helps", line_of(raw, "helps"))
    for net in flow.worse:
        if net.level not in flow.ranks:
            raise ctx.fail(f"unknown level {net.level!r}", "worse", net.line)
        _check_refs(ctx, flow, net.cond, "worse", net.line)
    for level in flow.followup:
        if level not in flow.ranks:
            raise ctx.fail(f"followup names unknown level {level!r}", line=line_of(raw, "followup"))
    for q in flow.red_flags:
        _check_question(ctx, flow, q, "red_flags", line_of(raw, "red_flags"))
    for q in flow.after_exit:
        _check_question(ctx, flow, q, "after_exit", line_of(raw, "after_exit"))
    if flow.announce_at and flow.announce_at not in flow.ranks:
        raise ctx.fail(f"announce_at {flow.announce_at!r} is not a level",
                       line=line_of(raw, "announce_at"))
    _check_sources(ctx, flow, raw)
    _check_graph(ctx, flow)


def _check_sources(ctx: _Ctx, flow: Flow, raw: dict[str, Any]) -> None:
    """Every source a fit or piece of advice names is in the registry, once."""
    known = [s.id for s in flow.sources]
    if len(set(known)) != len(known):
        raise ctx.fail("duplicate source id", "sources", line_of(raw, "sources"))
    named = [(f"fits.{f.id}", f.sources) for f in flow.fits] + [
        (f"helps.{k}", ids) for k, ids in flow.help_sources.items()]
    for where, ids in named:
        for sid in ids:
            if sid not in known:
                raise ctx.fail(f"unknown source {sid!r}", where)
    for _, cond in flow.fit_notes:
        _check_refs(ctx, flow, cond, "fit_notes", line_of(raw, "fit_notes"))


def _all_transitions(node: Node) -> list[Transition]:
    return [*node.next, *(t for o in node.options for t in o.next)]


def _check_question(ctx: _Ctx, flow: Flow, qid: str, where: str, line: int | None) -> Node:
    node = flow.nodes.get(qid)
    if node is None or node.kind != "question":
        raise ctx.fail(f"{qid!r} is not a question of this flow", where, line)
    return node


def _check_refs(ctx: _Ctx, flow: Flow, cond: rules.Condition | None, where: str,
                line: int | None) -> None:
    if cond is None:
        return
    if isinstance(cond, rules.Answer):
        node = _check_question(ctx, flow, cond.question, where, line)
        unknown = cond.options - {o.id for o in node.options}
        if unknown:
            raise ctx.fail(f"question {cond.question!r} has no option {sorted(unknown)[0]!r}",
                           where, line)
    elif isinstance(cond, rules.Answered):
        _check_question(ctx, flow, cond.question, where, line)
    elif isinstance(cond, rules.LevelAtLeast) and cond.level not in flow.ranks:
        raise ctx.fail(f"unknown level {cond.level!r}", where, line)
    elif isinstance(cond, rules.Any_ | rules.All_):
        for item in cond.items:
            _check_refs(ctx, flow, item, where, line)
    elif isinstance(cond, rules.Not_):
        _check_refs(ctx, flow, cond.item, where, line)


def _check_graph(ctx: _Ctx, flow: Flow) -> None:
    """Reject unreachable nodes and cycles (a check must always end)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(nid: str) -> None:
        state[nid] = 1
        for t in _all_transitions(flow.nodes[nid]):
            if state.get(t.goto) == 1:
                raise ctx.fail(f"cycle: {t.goto!r} can be reached again from itself via {nid!r}",
                               nid, t.line or flow.nodes[nid].line)
            if t.goto not in state:
                visit(t.goto)
        state[nid] = 2

    visit(flow.start)
    for nid, node in flow.nodes.items():
        if nid not in state:
            raise ctx.fail("unreachable node: nothing leads here from the start", nid, node.line)


def required_keys(flow: Flow) -> dict[str, str]:
    """Every locale key the flow needs, mapped to the node that needs it."""
    keys: dict[str, str] = {}
    for node in flow.nodes.values():
        for key in (node.text, node.short, *(o.label for o in node.options)):
            if key and node.kind != "outcome":
                keys.setdefault(key, node.id)
    for level in flow.levels:
        keys.setdefault(f"level.{level}.headline", "levels")
        keys.setdefault(f"level.{level}.advice", "levels")
    for key, _ in flow.tests:
        keys.setdefault(key, "tests")
    for key, _ in flow.helps:
        keys.setdefault(key, "helps")
    for net in flow.worse:
        keys.setdefault(net.key, "worse")
    for key, _ in flow.fit_notes:
        keys.setdefault(key, "fit_notes")
    for level in flow.levels[flow.ranks.get(flow.announce_at, len(flow.levels)):]:  # "" : none
        keys.setdefault(f"banner.{level}", "announce_at")
    for fit in flow.fits:
        keys.setdefault(f"fit.{fit.id}.name", f"fits.{fit.id}")
        keys.setdefault(f"fit.{fit.id}.about", f"fits.{fit.id}")
    return keys


def check_locales(ctx: _Ctx, flow: Flow, locales: Locales) -> None:
    """Every key the flow uses exists in every locale."""
    for key, where in required_keys(flow).items():
        for lang in locales.langs:
            if key not in locales.strings[lang]:
                node = flow.nodes.get(where)
                raise ctx.fail(f"locale key {key!r} is missing in {locales.files[lang]}", where,
                               node.line if node else None)
