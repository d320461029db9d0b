"""Reading scenarios: YAML files and built-ins, ``extends``, and clear errors.

A scenario may start with ``extends: corridor-2015`` (a built-in) or a path
relative to the file: the parent is read first and the child's mappings are
merged into it key by key (lists are replaced whole). That is how every
built-in shares one corridor parameter set and changes only its events.

Every failure becomes a :class:`ScenarioError` with the field path, the line
where the YAML says it (when known) and what is expected, so the CLI and the
web can show one clear line instead of a traceback. Before YAML is built into
objects its size, nesting depth and alias expansion are checked against
:mod:`straits.scenario.limits`, and a key given twice in one mapping is refused
(YAML would silently keep the last).
"""

from __future__ import annotations

import copy
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from straits.scenario.common import ScenarioReferenceError, deep_merge, error_location
from straits.scenario.limits import (
    MAX_DOCUMENT_BYTES,
    MAX_EXTENDS_DEPTH,
    MAX_NESTING_DEPTH,
    MAX_YAML_NODES,
)
from straits.scenario.schema import Scenario
from straits.scenario.units import format_minutes

_BUILTIN_PACKAGE = "straits.scenario"
_BUILTIN_DIR = "builtin"
_COLLECTION_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_COLLECTION_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class ScenarioError(ValueError):
    """Bad scenario input: ``field`` is a dotted path, ``message`` the fix."""

    def __init__(self, field: str, message: str, source: str = "", line: int | None = None):
        self.field = field
        self.message = message
        self.source = source
        self.line = line
        where = source + (f":{line}" if line else "")
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{field}: {message}" if field else f"{prefix}{message}")


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with straits (excluding shared bases)."""
    folder = resources.files(_BUILTIN_PACKAGE) / _BUILTIN_DIR
    names = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))
    return [n for n in names if not n.startswith("corridor")]


def builtin_text(name: str) -> str:
    """YAML text of a built-in scenario or base, by name (never a path)."""
    folder = resources.files(_BUILTIN_PACKAGE) / _BUILTIN_DIR
    known = {p.name for p in folder.iterdir()}
    path = folder / f"{name}.yaml"
    if f"{name}.yaml" not in known or not path.is_file():
        raise ScenarioError(
            "", f"unknown scenario {name!r}; built-ins are {builtin_names()}, or give a .yaml path"
        )
    return path.read_text(encoding="utf-8")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A validated scenario from a built-in name or a YAML file path."""
    text, source, base_dir = _locate(name_or_path)
    return scenario_from_text(text, source=source, base_dir=base_dir)


def scenario_from_text(text: str, source: str = "<text>", base_dir: Path | None = None) -> Scenario:
    """Validate YAML text (following ``extends``) into a scenario."""
    document = _parse(text, source)
    merged = _resolve_extends(document, source, base_dir, depth=0)
    return scenario_from_mapping(merged, source=source, text=text)


def with_horizon(scenario: Scenario, horizon_minutes: float, source: str = "horizon"
                 ) -> Scenario:
    """``scenario`` run for ``horizon_minutes`` instead, validated like any scenario.

    A shorter run keeps only the disruptions, security changes and report periods
    that start inside it (the rest would be refused as outside the horizon).
    """
    data = copy.deepcopy(scenario.model_dump(mode="json"))
    data["horizon"] = format_minutes(horizon_minutes)
    data["disruptions"] = [d for d, model in zip(data["disruptions"], scenario.disruptions,
                                                 strict=True)
                           if scenario.start_minutes(model) < horizon_minutes]
    if scenario.security is not None:
        starts: dict[str, list[Any]] = {"changes": [c.start for c in scenario.security.changes],
                  "report_periods": [p.start for p in scenario.security.report_periods]}
        for key, begins in starts.items():
            data["security"][key] = [
                item for item, start in zip(data["security"][key], begins, strict=True)
                if scenario.minutes_after_start(start) < horizon_minutes]
    return scenario_from_mapping(data, source=source)


def scenario_from_mapping(data: dict[str, Any], source: str = "<mapping>",
                          text: str | None = None) -> Scenario:
    """Validate a plain mapping (already merged) into a scenario."""
    _check_depth(data, source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, data, source, text) from None


def scenario_hash(scenario: Scenario) -> str:
    """A stable digest of everything that defines the scenario's results."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def scenario_to_yaml(scenario: Scenario) -> str:
    """The scenario written back as YAML, with units, loadable again."""
    data = scenario.model_dump(mode="json", exclude_defaults=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _locate(name_or_path: str | Path) -> tuple[str, str, Path | None]:
    path = Path(name_or_path)
    looks_like_path = path.suffix in {".yaml", ".yml"} or len(path.parts) > 1
    if looks_like_path:
        if not path.is_file():
            raise ScenarioError("", f"no scenario file at {str(path)!r}")
        try:
            return path.read_text(encoding="utf-8"), str(path), path.parent
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError("", f"cannot read {str(path)!r}: {exc}") from None
    return builtin_text(str(name_or_path)), f"builtin:{name_or_path}", None


def _parse(text: str, source: str) -> dict[str, Any]:
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_DOCUMENT_BYTES:
        raise ScenarioError("", f"the document is {size:,} bytes, more than the "
                            f"{MAX_DOCUMENT_BYTES:,} a scenario may have; shorten it or split "
                            "it with extends", source)
    try:
        _check_structure(text, source)
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
    except _DuplicateKey as exc:
        raise ScenarioError("", f"key {exc.key!r} is given twice (also on line "
                            f"{exc.first_line}); keep one", source, exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError("", f"malformed YAML: {problem}", source, line) from None
    if not isinstance(document, dict):
        raise ScenarioError("", "a scenario file must be a YAML mapping of fields", source)
    return document


def _resolve_extends(document: dict[str, Any], source: str, base_dir: Path | None,
                     depth: int) -> dict[str, Any]:
    parent_ref = document.pop("extends", None)
    if parent_ref is None:
        return document
    if depth >= MAX_EXTENDS_DEPTH:
        raise ScenarioError("extends", "too many levels of extends (a cycle?)", source)
    if not isinstance(parent_ref, str):
        raise ScenarioError("extends", "give the name of a built-in or a path to a YAML file",
                            source)
    if parent_ref.endswith((".yaml", ".yml")):
        if base_dir is None:
            raise ScenarioError("extends", "a built-in can only extend another built-in", source)
        text, parent_source, parent_dir = _locate(base_dir / parent_ref)
    else:
        text, parent_source, parent_dir = builtin_text(parent_ref), f"builtin:{parent_ref}", None
    parent = _resolve_extends(_parse(text, parent_source), parent_source, parent_dir, depth + 1)
    return deep_merge(parent, document)


def _check_structure(text: str, source: str) -> None:
    """Refuse deep nesting and alias bombs from the event stream, before anything is
    built (PyYAML builds recursively, and aliases multiply later work).

    Each anchor's expanded size and height are kept, so an alias counts as
    everything it stands for.
    """
    frames: list[list[Any]] = [[None, 0, 0]]  # [anchor, expanded values, height below]
    anchors: dict[str, tuple[int, int]] = {}
    expanded = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, _COLLECTION_START):
            frames.append([event.anchor, 1, 0])
            added, height = 1, 0
        elif isinstance(event, _COLLECTION_END):
            anchor, count, height = frames.pop()
            if anchor is not None:
                anchors[anchor] = (count, height + 1)
            frames[-1][1] += count
            frames[-1][2] = max(frames[-1][2], height + 1)
            continue
        elif isinstance(event, yaml.AliasEvent):
            added, height = anchors.get(event.anchor, (1, 0))
            frames[-1][1] += added
            frames[-1][2] = max(frames[-1][2], height)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
            frames[-1][1] += 1
            added, height = 1, 0
        else:
            continue
        line = event.start_mark.line + 1
        if len(frames) - 1 + height > MAX_NESTING_DEPTH:
            raise ScenarioError("", f"nested more than {MAX_NESTING_DEPTH} levels deep "
                                "(counting aliases); flatten it", source, line)
        expanded += added
        if expanded > MAX_YAML_NODES:
            raise ScenarioError("", f"more than {MAX_YAML_NODES:,} values with aliases "
                                "expanded; write the values out or use fewer aliases",
                                source, line)


def _check_depth(data: Any, source: str) -> None:
    """The nesting limit for mappings built in code (sweeps, levers), without recursion."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING_DEPTH:
            raise ScenarioError("", f"nested more than {MAX_NESTING_DEPTH} levels deep; "
                                "flatten it", source)
        children = node.values() if isinstance(node, dict) else (
            node if isinstance(node, list) else ())
        stack.extend((child, depth + 1) for child in children)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, first_line: int, line: int) -> None:
        super().__init__(key)
        self.key, self.first_line, self.line = key, first_line, line


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice in one mapping (merge keys aside)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _DuplicateKey(key, seen[key], line)
                seen[key] = line
            except TypeError:  # unhashable: the base class says so
                break
        return super().construct_mapping(node, deep=deep)


def _first_error(exc: ValidationError, data: dict[str, Any], source: str,
                 text: str | None) -> ScenarioError:
    error = exc.errors(include_url=False)[0]
    loc, message = error_location(error)
    if not isinstance((error.get("ctx") or {}).get("error"), ScenarioReferenceError):
        message = _message(error)
    loc = _data_path(data, loc)
    return ScenarioError(_dotted(loc), message, source, _line_of(text, loc))


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field; check the spelling against docs/scenarios.md"
    if kind == "union_tag_invalid":
        expected = error.get("ctx", {}).get("expected_tags", "")
        return f"unknown kind {error['input']!r}; expected one of {expected}"
    if kind == "union_tag_not_found":
        return f"missing '{error['ctx']['discriminator'].strip(chr(39))}' field"
    message = error["msg"]
    return message.removeprefix("Value error, ")


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Keep only the parts of a pydantic path that exist in the input.

    Pydantic inserts the chosen union member into paths (``'exponential'``);
    walking the input drops those, so users see the path they wrote.
    """
    kept = []
    for part in loc:
        if isinstance(data, dict) and part not in data and part in _TAG_PARTS:
            continue
        kept.append(part)
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        data = data[part] if in_dict or in_list else None
    return tuple(kept)


_TAG_PARTS = frozenset(
    {
        "exponential", "deterministic", "lognormal", "empirical", "fixed", "uniform",
        "triangular", "ferry", "tunnel", "strike", "blockade", "closure", "weather",
        "tunnel_suspension", "sailings_cancelled", "vessels_withdrawn", "border_slowdown",
        "staffing", "turn_back", "demand_shock",
    }
)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(text: str | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line where ``loc`` sits in the YAML text, or its deepest parent."""
    if text is None:
        return None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child, line = value, key.start_mark.line + 1
                    break
        elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
              and 0 <= part < len(node.value)):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
