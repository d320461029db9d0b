"""Packaging and provenance: licence, citation and version agree with pyproject."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

import straits

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
FACTS_ID = re.compile(r"\bF\d+\.\d+\b")


def test_version_is_the_packages():
    assert straits.__version__ == PROJECT["version"]


def test_licence_file_matches_pyproject():
    assert PROJECT["license"]["text"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_citation_is_valid_cff_with_the_version_and_licence():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == PROJECT["version"]
    assert citation["license"] == PROJECT["license"]["text"]
    assert citation["title"] and citation["authors"] and citation["message"]


def test_every_cited_source_is_listed_in_docs_sources():
    """Each F… id a built-in scenario cites resolves to a row of docs/sources.md."""
    listed = set(re.findall(r"^\| (F\d+\.\d+) \|", (ROOT / "docs" / "sources.md").read_text(),
                            re.M))
    builtin = ROOT / "src" / "straits" / "scenario" / "builtin"
    cited = {match for path in builtin.glob("*.yaml")
             for match in FACTS_ID.findall(path.read_text())}
    assert cited, "the built-ins cite no source"
    assert cited <= listed, sorted(cited - listed)


DEV_ONLY = ("pytest", "hypothesis", "simpy", "jsonschema", "httpx", "schemathesis", "playwright")
WITHOUT_DEV = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError("dev-only package " + name + " imported at run time")
sys.meta_path.insert(0, Blocker())
sys.argv = ["straits", "run", {scenario!r}]
from straits.cli import main
main()
"""


def test_running_needs_no_dev_extra(tmp_path):
    """README's first command installs only the runtime: `straits run` must not import
    a package that only the dev extra brings."""
    import subprocess
    import sys

    dev = PROJECT["optional-dependencies"]["dev"]
    declared = {re.split(r"[<>=\[ ]", d)[0].lower() for d in dev}
    assert set(DEV_ONLY) <= declared
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text("extends: baseline\nname: tiny\nhorizon: 3h\n")
    code = WITHOUT_DEV.format(blocked=set(DEV_ONLY), scenario=str(scenario))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "tiny · seed 1" in proc.stdout


HEAVY = ("scipy", "plotly", "SALib", "dask", "numba", "duckdb")


def test_the_command_line_starts_without_heavy_modules():
    """`straits --version` and `--help` answer at once: SciPy, plotly, SALib, dask, numba
    and DuckDB load inside the commands that need them (5 s → under 1 s at start-up)."""
    import subprocess
    import sys

    code = ("import sys, straits.cli; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
