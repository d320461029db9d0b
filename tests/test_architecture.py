"""Imports flow one way (docs/architecture.md): no room imports a room above it, no cycles;
and all SQL lives in the one store API (experiments/store.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "straits"

# Lowest first; a room may import rooms on lower lines only (docs/architecture.md).
LAYERS = [
    {"files"},
    {"scenario"},
    {"engine"},
    {"metrics"},
    {"security"},
    {"pipeline"},
    {"experiments"},
    {"validation", "report", "optimisation"},
    {"calibration"},
    {"web", "api"},
    {"cli", "__init__"},
    {"__main__"},
]
RANK = {room: rank for rank, rooms in enumerate(LAYERS) for room in rooms}
# Cycles that an open issue removes; delete the entry when it is gone.
KNOWN_CYCLES: list[set[str]] = []  # none: scenario/common.py broke schema ↔ security


def _name(path: Path) -> str:
    parts = ["straits", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in SRC.rglob("*.py")}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(module: str) -> set[str]:
    """straits modules ``module`` imports anywhere in its body (lazy imports count too)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            for alias in node.names:  # `from pkg import submodule` is an edge to the submodule
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    # the package root holds __version__ and a facade that loads its rooms lazily
    return {m for m in found if m in MODULES and m not in (module, "straits")}


GRAPH = {module: _imports(module) for module in MODULES}


def test_every_room_has_a_place_in_the_layers():
    unplaced = sorted({_room(m) for m in MODULES} - set(RANK))
    assert not unplaced, f"add {unplaced} to LAYERS here and to docs/architecture.md"


def _upward(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items() for target in targets
        if _room(target) != _room(module)
        and RANK.get(_room(target), -1) >= RANK.get(_room(module), -1)
    )


def test_no_room_imports_a_room_above_or_beside_it():
    wrong = _upward(GRAPH)
    assert not wrong, "imports against the layers (docs/architecture.md):\n" + "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(group)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups


def test_no_import_cycles():
    cycles = _cycles(GRAPH)
    new = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert not new, f"import cycles: {new}"
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in cycles]
    assert not gone, f"cycle gone, remove it from KNOWN_CYCLES: {gone}"


def test_the_checks_see_a_wrong_import():
    """The rules can fail: engine importing metrics is upward, and with the usual
    metrics -> engine import it closes a cycle."""
    engine = next(m for m in MODULES if _room(m) == "engine")
    metrics = next(m for m in MODULES if _room(m) == "metrics")
    graph = {m: set(t) for m, t in GRAPH.items()}
    graph[engine].add(metrics)
    graph[metrics].add(engine)
    assert f"{engine} imports {metrics}" in _upward(graph)
    assert any({engine, metrics} <= c for c in _cycles(graph))


# --- one store API: SQL text only in experiments/store.py ---------------------------------------
STORE = SRC / "experiments" / "store.py"
SQL = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b"
                 r"|\bDELETE\s+FROM\b|\b(CREATE|DROP|ALTER)\s+(OR\s+REPLACE\s+)?(TEMP\w*\s+)?"
                 r"(TABLE|VIEW|SEQUENCE|INDEX|MACRO)\b|\bPRAGMA\s+\w+")


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string in the code: f-strings whole (placeholders as ``{}``);
    docstrings and ``help=`` texts left out (prose, e.g. an example query for the user)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            skipped.add(id(body[0].value))
        if isinstance(node, ast.keyword) and node.arg == "help":
            skipped.update(id(n) for n in ast.walk(node.value))
        if isinstance(node, ast.JoinedStr):
            skipped.update(id(v) for v in node.values)
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            found.append((node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}"
                                               for v in node.values)))
    return found


def _sql(source: str) -> list[tuple[int, str]]:
    """The strings of a module's source that are SQL."""
    return [(line, text) for line, text in _strings(ast.parse(source)) if SQL.search(text)]


def test_sql_lives_only_in_the_store():
    wrong = [f"{path.relative_to(SRC)}:{line}: {text[:60]!r}"
             for path in sorted(MODULES.values()) if path != STORE
             for line, text in _sql(path.read_text(encoding="utf-8"))]
    assert not wrong, ("SQL outside experiments/store.py; add a ResultsStore method:\n"
                       + "\n".join(wrong))


def test_the_sql_check_sees_sql():
    """The rule can fail: it finds the store's own SQL and a query split over an f-string,
    and passes over prose (docstrings, help texts)."""
    store = {text for _, text in _sql(STORE.read_text(encoding="utf-8"))}
    assert any(t.startswith("INSERT INTO web_runs") for t in store)
    assert any("CREATE TABLE IF NOT EXISTS runs" in t for t in store)
    planted = ('def f(con, table):\n    """SELECT a FROM b, as prose."""\n'
               '    typer.Option(help="e.g. \\"SELECT kpi FROM kpis\\"")\n'
               '    con.execute(f"SELECT count(*) "\n                f"FROM {table}")\n')
    assert _sql(planted) == [(4, "SELECT count(*) FROM {}")]
