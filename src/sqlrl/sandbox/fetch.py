"""Reading an executed query's rows into Python within its deadline and its memory budget.

Rows come in chunks (``fetchmany``): the first two rows alone, then chunks sized from the bytes per row
seen so far (a quarter of the room left), at most :data:`CELLS_PER_CHUNK` cells. After each chunk
the deadline is checked (converting a wide or long result into Python objects is not part of the engine's own execution
time) and the result's size is estimated (``sys.getsizeof`` of the cells, nested values counted
shallowly, plus the row tuples); past ``max_bytes`` the query fails as ``resource``.
"""

from __future__ import annotations

import itertools
import sys
import time
from typing import Any

from sqlrl.errors import SqlrlError

#: Most cells fetched per ``fetchmany`` call (2,000 columns: 32 rows at a time).
CELLS_PER_CHUNK = 65_536
_chain = itertools.chain.from_iterable
_sizeof = sys.getsizeof


class ResultTooLarge(SqlrlError):
    """The rows fetched so far exceed the result budget."""

    @classmethod
    def after(cls, max_bytes: int, rows: int, ncols: int, size: int) -> ResultTooLarge:
        """The error once ``rows`` rows of ``ncols`` columns, about ``size`` bytes, were read."""
        return cls(
            f"result over its {max_bytes:,}-byte budget after {rows:,} rows of {ncols} columns "
            f"(about {size:,} bytes); select fewer or smaller columns or rows"
        )


class FetchDeadline(SqlrlError):
    """The deadline passed while the rows were being fetched."""


def fetch_rows(cursor: Any, ncols: int, max_rows: int, deadline: float, max_bytes: int) -> list[tuple[Any, ...]]:
    """Up to ``max_rows + 1`` rows of ``cursor`` (the extra row tells that the result was cut).

    Raises:
        ResultTooLarge: the rows take more than ``max_bytes`` (estimated).
        FetchDeadline: ``time.monotonic()`` passed ``deadline`` between two chunks.
    """
    want = max_rows + 1
    widest = max(1, CELLS_PER_CHUNK // max(ncols, 1))
    row_bytes = _sizeof(()) + 8 * ncols  # the tuple holding a row
    rows: list[tuple[Any, ...]] = []
    size = 0
    step = 2  # the first row or two alone: one call for the many one-row results
    while True:
        step = min(step, want - len(rows))
        chunk = cursor.fetchmany(step)
        if chunk:
            size += len(chunk) * row_bytes + sum(map(_sizeof, _chain(chunk)))
            rows += chunk
            if size > max_bytes:
                raise ResultTooLarge.after(max_bytes, len(rows), ncols, size)
        if len(chunk) < step or len(rows) >= want:
            return rows
        if time.monotonic() > deadline:
            raise FetchDeadline("the deadline passed while fetching the result")
        per_row = size // len(rows) + 1
        step = max(1, min(widest, 64 * len(rows), (max_bytes - size) // (4 * per_row)))
