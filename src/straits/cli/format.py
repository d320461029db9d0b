"""How numbers read in the terminal: every table of every command formats through here,
so a delay or a queue reads the same in ``run``, ``ensemble``, ``sweep`` and ``validate``
(and, through :mod:`straits.report.text`, in reports).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from straits.report.text import (
    KM_PER_MILE,
    UNIT_NAMES,
    count_text,
    distance_text,
    duration_text,
    queue_length_text,
)

__all__ = ["KM_PER_MILE", "UNIT_NAMES", "count_text", "distance_text", "duration_text",
           "fold_table", "queue_length_text"]


def fold_table(title: str | None, headers: Sequence[str], right_from: int = 1) -> Table:
    """A table whose columns fold long text onto more lines instead of cutting it.

    Rich shrinks a table to the terminal; with ``overflow='fold'`` a narrow
    column wraps, so at 80 columns nothing is replaced by an ellipsis or lost.
    Columns from ``right_from`` on (the numbers) are right-aligned.
    """
    table = Table(title=title)
    for index, header in enumerate(headers):
        table.add_column(header, overflow="fold",
                         justify="right" if index >= right_from else "left")
    return table
