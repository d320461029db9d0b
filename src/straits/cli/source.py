"""``straits show``: a scenario merged with everything it extends, comments kept.

The built-ins cite a source (``F…``) or say ``assumption`` in a comment beside
each value; a copy to edit should keep them. The files are merged as
``extends`` merges them (mappings key by key, lists and scalars replaced whole)
on round-trip YAML nodes, so each value keeps the comment of the file it came
from. The result is checked to load as the same scenario.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.tokens import CommentToken

from straits.scenario import Scenario, ScenarioError, scenario_from_text, scenario_to_yaml
from straits.scenario.loading import builtin_text


def commented_scenario(reference: str, loaded: Scenario) -> str:
    """``reference`` (built-in or path) as one YAML document with its sources' comments;
    the plain resolved YAML if the files cannot be merged as written (ruamel is stricter
    than the loader, e.g. about duplicate keys) or the merge would not load as ``loaded``."""
    try:
        chain = _chain(reference)
    except (YAMLError, OSError):
        return scenario_to_yaml(loaded)
    merged = chain[0][1]
    for _, child in chain[1:]:
        _merge(merged, child)
    merged.pop("extends", None)
    names = " ← ".join(source for source, _ in reversed(chain))
    header = [f"straits show {reference}: {names}, merged; each value keeps its file's comment."]
    own = chain[-1][1].ca.comment
    merged.yaml_set_start_comment("\n".join(header))
    if own and own[1] and len(chain) > 1:
        merged.ca.comment[1].extend(own[1])
    text = _dump(merged)
    try:
        same = scenario_from_text(text) == loaded
    except ScenarioError:
        same = False
    return text if same else scenario_to_yaml(loaded)


def _chain(reference: str) -> list[tuple[str, CommentedMap]]:
    """The documents from the root ancestor to ``reference``."""
    path = Path(reference)
    if path.suffix in {".yaml", ".yml"} or len(path.parts) > 1:
        source, text, base = str(path), path.read_text(encoding="utf-8"), path.parent
    else:
        source, text, base = reference, builtin_text(reference), None
    chain = [(source, _yaml().load(text))]
    while isinstance(parent := chain[0][1].get("extends"), str):
        if parent.endswith((".yaml", ".yml")) and base is not None:
            file = base / parent
            chain.insert(0, (str(file), _yaml().load(file.read_text(encoding="utf-8"))))
            base = file.parent
        else:
            chain.insert(0, (parent, _yaml().load(builtin_text(parent))))
    return chain


def _merge(base: CommentedMap, override: CommentedMap) -> None:
    """``override`` into ``base`` in place, moving each replaced value's comment along."""
    for key, value in override.items():
        if key == "extends":
            continue
        if isinstance(value, CommentedMap) and isinstance(base.get(key), CommentedMap):
            _merge(base[key], value)
            continue
        if key in base:
            _take_comment(base, override, key)
            base[key] = value
        else:
            base[key] = value
            if key in override.ca.items:
                base.ca.items[key] = _eol_only(override.ca.items[key])


def _take_comment(base: CommentedMap, override: CommentedMap, key: Any) -> None:
    """The overriding file's end-of-line comment replaces the base's; comment lines
    that follow in the base (they introduce its next key) stay."""
    old = base.ca.items.get(key)
    new = override.ca.items.get(key)
    eol = new[2].value.split("\n", 1)[0] if new and new[2] else ""
    rest = ""
    if old and old[2]:
        rest = old[2].value.partition("\n")[2]
        column = old[2].column
    else:
        column = new[2].column if new and new[2] else 0
    if not eol and not rest:
        base.ca.items.pop(key, None)
        return
    token = CommentToken((eol + "\n" + rest) if eol else ("\n" + rest if rest else "\n"),
                         _mark(column), None)
    entry = list(old) if old else [None, None, None, None]
    entry[2] = token
    base.ca.items[key] = entry


def _eol_only(entry: list[Any]) -> list[Any]:
    out = list(entry)
    if out[2] is not None:
        first = out[2].value.split("\n", 1)[0]
        out[2] = CommentToken(first + "\n", _mark(out[2].column), None)
    return out


def _mark(column: int) -> Any:
    from ruamel.yaml.error import CommentMark

    return CommentMark(column)


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 100
    return yaml


def _dump(document: CommentedMap) -> str:
    stream = io.StringIO()
    _yaml().dump(document, stream)
    return stream.getvalue()
