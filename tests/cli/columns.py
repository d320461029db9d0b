"""Render a command at a terminal width and check that its tables lost nothing.

Rich shrinks a table to the terminal; a column that may not fold is cut with an
ellipsis (or squeezed to nothing). :func:`assert_no_column_dropped` reads every
box-drawn table in a command's output back into its columns and checks each
header is whole and no cell was cut. Use it for any command:

    output = render(["ensemble", "baseline", "-n", "2"], width=80)
    assert_no_column_dropped(output, {"": "kpi"})
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from typer.testing import CliRunner

from straits.cli import app
from straits.cli.app import console

ELLIPSIS = "…"


@contextmanager
def terminal_width(width: int) -> Iterator[None]:
    """The commands' console as a terminal ``width`` columns wide."""
    before = console._width
    console.width = width
    try:
        yield
    finally:
        console._width = before


def render(args: Sequence[str], width: int = 80) -> str:
    """A command's standard output at ``width`` columns (it must exit 0)."""
    with terminal_width(width):
        result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@dataclass(frozen=True)
class RenderedTable:
    headers: list[str]  # each column's header, folded lines joined
    lines: list[str]  # the table's lines as printed, borders included
    cuts: list[int]  # positions of the column borders

    def column(self, index: int) -> str:
        """Everything printed in body column ``index``, top to bottom, spaces squeezed."""
        body = [row for row in self.lines if row.lstrip().startswith("│")]
        a, b = self.cuts[index], self.cuts[index + 1]
        return "".join("".join(row[a + 1:b].split()) for row in body)


def rendered_tables(output: str) -> list[RenderedTable]:
    """Every rich table (heavy-head box) in ``output``, headers read back by column."""
    lines = output.splitlines()
    tables = []
    for index, line in enumerate(lines):
        if not line.lstrip().startswith("┏"):
            continue
        top = line
        cuts = [i for i, ch in enumerate(top) if ch in "┏┳┓"]
        end = next(j for j in range(index, len(lines)) if lines[j].lstrip().startswith("└"))
        header_lines = []
        for row in lines[index + 1:end]:
            if row.lstrip().startswith("┡"):
                break
            header_lines.append(row)
        headers = [" ".join(row[a + 1:b].strip() for row in header_lines).strip()
                   for a, b in itertools.pairwise(cuts)]
        tables.append(RenderedTable([re.sub(r"\s+", " ", h) for h in headers],
                                    lines[index:end + 1], cuts))
    return tables


def assert_no_column_dropped(output: str, expected: Sequence[Sequence[str]] | None = None,
                             width: int = 80) -> None:
    """Every table fits ``width``, cut nothing and (if ``expected`` is given, one header
    list per table) shows exactly those headers, each whole."""
    tables = rendered_tables(output)
    assert tables, "no table in the output"
    for number, table in enumerate(tables):
        for line in table.lines:
            assert len(line) <= width, f"table {number} is wider than {width}: {line!r}"
            assert ELLIPSIS not in line, f"table {number} cut a cell: {line!r}"
        if expected is not None:
            assert _squeezed(table.headers) == _squeezed(expected[number]), (
                f"table {number}: headers {table.headers} != {list(expected[number])}")


def _squeezed(headers: Sequence[str]) -> list[str]:
    """Headers without spaces: folding may split a word anywhere."""
    return [re.sub(r"\s+", "", h) for h in headers]
