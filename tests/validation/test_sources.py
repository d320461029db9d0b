"""Every number in the validation scenarios cites a fact row or says `assumption`."""

from __future__ import annotations

import re
from importlib import resources

import pytest

FILES = ("calais-strike-2015", "dover-checks-2018", "dover-checks-2018-plus1",
         "dover-checks-2018-plus2", "rwcs-2021")
NUMBER = re.compile(r"^\s*-?\s*[a-z_]+:\s*[-+]?\d")  # `key: 12`, `- key: 2h`, dates
CITED = re.compile(r"#.*(F\d\.\d+|assumption|as above)")


@pytest.mark.parametrize("name", FILES)
def test_every_number_is_sourced_or_an_assumption(name):
    text = (resources.files("straits.scenario") / "builtin" / f"{name}.yaml").read_text()
    lines = text.splitlines()
    bare = []
    for i, line in enumerate(lines):
        if not NUMBER.match(line) or CITED.search(line):
            continue
        above = lines[i - 1] if i else ""  # a comment line just above may carry the source
        if not (above.lstrip().startswith("#") and CITED.search(above)):
            bare.append(f"{name}.yaml:{i + 1}: {line.strip()}")
    assert not bare, "\n".join(bare)
