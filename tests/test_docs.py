"""Every shell command and YAML example in README.md and docs/*.md runs as written.

Each fenced block names its language. In ``bash`` blocks every command runs with
the environment's ``straits`` and ``python`` (``.venv/bin/…`` works too), one doc
at a time in a fresh directory, in the order the doc gives them; ``straits serve``
is started on a free port, asked for its page, and stopped. Each ``yaml`` block
passes ``straits check``; each ``python`` block compiles. Markers, both written in
the doc:

- ``<!-- docs-test: slow -->`` on the line before a block: the block runs (in a
  directory of its own) only with the slow tests, which CI also runs;
- a block whose first line starts with ``# not run by the tests:`` says why it
  cannot run here (a cluster, a placeholder); readers see the reason too.

A block whose every line .ci/run runs verbatim (the README's first) is CI's own.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = ("bash", "sh", "shell")
SLOW = "<!-- docs-test: slow -->"
NOT_RUN = "# not run by the tests:"
SERVE = re.compile(r"(^|/)straits serve\b")
COMMAND_SECONDS = 600


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    slow: bool

    @property
    def name(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def not_run(self) -> bool:
        return self.text.lstrip().startswith(NOT_RUN)


def blocks(doc: Path) -> list[Block]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = re.match(r"^\s*(```+)(.*)$", lines[i])  # also indented, inside a list
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines))
                   if lines[j].strip().startswith(fence.group(1)))
        slow = i > 0 and lines[i - 1].strip() == SLOW
        text = textwrap.dedent("\n".join(lines[i + 1:end]))
        found.append(Block(doc, i + 1, fence.group(2).strip(), text, slow))
        i = end + 1
    return found


ALL = [b for doc in DOCS for b in blocks(doc)]


def commands(text: str) -> list[str]:
    """Logical command lines: continuations joined, blank and comment lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _ci_runs(block: Block) -> bool:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    return all(command in ci for command in commands(block.text))


def _shell(block: Block) -> bool:
    return block.language in SHELL and not block.not_run and not _ci_runs(block)


def _environment(workdir: Path) -> dict[str, str]:
    """A stand-in for the repository root: the checkout's straits and the running venv
    (as `.venv/bin/…` and on PATH), its benchmarks, and an empty docs/ folder."""
    (workdir / ".venv").symlink_to(Path(sys.prefix))
    (workdir / "benchmarks").symlink_to(ROOT / "benchmarks")
    (workdir / "docs").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "STRAITS_STORE"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    env["COLUMNS"] = "100"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(command: str, workdir: Path, env: dict[str, str]) -> None:
    """Start the documented server on a free port, fetch its page, stop it with Ctrl-C."""
    port = _free_port()
    args = [*shlex.split(command, comments=True), "--port", str(port)]
    process = subprocess.Popen(args, cwd=workdir, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"{command}: exited\n{process.communicate()[1]}"
            assert time.monotonic() < deadline, f"{command}: no page in 120 s"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    assert page.status == 200
                    break
            except OSError:
                time.sleep(0.2)  # polling for the server to listen, not a fixed wait
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)


def run_block(block: Block, workdir: Path, env: dict[str, str]) -> None:
    for command in commands(block.text):
        if SERVE.search(command):
            _serve(command, workdir, env)
            continue
        result = subprocess.run(["bash", "-c", f"set -eo pipefail\n{command}"], cwd=workdir,
                                env=env, capture_output=True, text=True,
                                timeout=COMMAND_SECONDS)
        assert result.returncode == 0, (
            f"{block.name}: `{command}` exited {result.returncode}\n"
            f"{result.stderr[-2000:]}{result.stdout[-1000:]}")


def test_every_block_names_its_language():
    bare = [b.name for b in ALL if not b.language]
    assert not bare, f"say what each block is (bash, yaml, text, …): {bare}"


@pytest.mark.parametrize("doc", [d for d in DOCS if any(_shell(b) and not b.slow
                                                        for b in blocks(d))],
                         ids=lambda d: str(d.relative_to(ROOT)))
def test_doc_commands_run_as_written(doc, tmp_path):
    env = _environment(tmp_path)
    for block in blocks(doc):
        if _shell(block) and not block.slow:
            run_block(block, tmp_path, env)


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in ALL if _shell(b) and b.slow],
                         ids=lambda b: b.name)
def test_slow_doc_commands_run_as_written(block, tmp_path):
    run_block(block, tmp_path, _environment(tmp_path))


def test_not_run_blocks_say_why():
    for block in ALL:
        if block.not_run:
            reason = block.text.lstrip()[len(NOT_RUN):].splitlines()[0].strip()
            assert reason, f"{block.name}: say why the block cannot run"


@pytest.mark.parametrize("block", [b for b in ALL if b.language == "yaml" and not b.not_run],
                         ids=lambda b: b.name)
def test_yaml_examples_pass_straits_check(block, tmp_path):
    path = tmp_path / "example.yaml"
    path.write_text(block.text + "\n", encoding="utf-8")
    env = _environment(tmp_path)
    result = subprocess.run(["straits", "check", str(path)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=COMMAND_SECONDS)
    assert result.returncode == 0, f"{block.name}: {result.stderr}{result.stdout}"


@pytest.mark.parametrize("block", [b for b in ALL if b.language == "python"],
                         ids=lambda b: b.name)
def test_python_examples_compile(block):
    compile(block.text, block.name, "exec")
