"""The README's promises: its two set-up commands, its example scenario."""

import re
from pathlib import Path

from straits.scenario import scenario_from_text

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _first_code_block() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert block, "the README opens with a bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_two_commands_that_ci_runs_verbatim():
    commands = _first_code_block()
    assert len(commands) == 2
    install_and_run, tests = commands
    assert "straits run" in install_and_run and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert install_and_run in ci
    assert tests in ci


def test_readme_example_scenario_is_valid():
    example = re.search(r"```yaml\n(extends: corridor-2015.*?)```", README, re.S)
    assert example
    scenario = scenario_from_text(example.group(1))
    assert [d.kind for d in scenario.disruptions] == ["tunnel_suspension", "border_slowdown"]
