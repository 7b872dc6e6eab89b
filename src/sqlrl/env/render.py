"""What the model sees of a tool's result: the truncation rules, in one place.

A result is rendered as plain text and cut in this order (the numbers are :class:`~sqlrl.env.EnvConfig`
fields):

1. rows: at most ``max_rows`` (``sample_rows`` for ``describe_table``) are shown; the header says how
   many rows the query returned (``more than fetch_rows`` when the fetch was capped);
2. cells: a value longer than ``max_cell_chars`` characters keeps its first characters and ends in
   ``...``; ``NULL`` is written ``NULL``, text without quotes, bytes as ``<N bytes>``;
3. the whole output: at most ``max_output_chars`` characters, and never more than what is left of the
   episode's ``max_chars``; a cut output ends in ``[truncated: N more characters]`` (the marker counts
   towards the limit).

>>> from sqlrl.sandbox import ExecResult
>>> r = ExecResult(sql="SELECT a, b FROM t", ok=True, columns=["a", "b"], rows=[(1, "x" * 50), (2, None)])
>>> print(render_result(r, max_rows=1, max_cell_chars=10, limit=200, fetch_rows=100))
columns: a INTEGER, b TEXT
rows: 2 (first 1 shown)
a | b
1 | xxxxxxx...
>>> clip("abcdefghijklmnopqrstuvwxyz" * 4, 60)
'abcdefghijklmnopqrstuvwxyzab\\n[truncated: 76 more characters]'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlrl.sandbox import ExecResult

__all__ = ["clip", "render_cell", "render_error", "render_result", "render_rows", "value_type"]

_MARKER = "\n[truncated: {} more characters]"


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in a marker that says how much was cut."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    while True:  # the marker's own length depends on the number in it
        marker = _MARKER.format(cut)
        keep = max(limit - len(marker), 0)
        if len(text) - keep == cut:
            return (text[:keep] + marker)[:limit]
        cut = len(text) - keep


def value_type(value: Any) -> str:
    """The SQL-ish type name of a Python value from a result."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    if isinstance(value, str):
        return "TEXT"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "BLOB"
    return type(value).__name__.upper()


def render_cell(value: Any, max_chars: int) -> str:
    """One cell as text, cut to ``max_chars`` characters (ending in ``...``); line breaks become spaces."""
    if value is None:
        text = "NULL"
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = f"<{len(bytes(value))} bytes>"
    else:
        text = str(value).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    if len(text) > max_chars:
        text = text[: max(max_chars - 3, 0)] + "..."
    return text


def _column_types(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    types = []
    for j in range(len(columns)):
        seen = next((row[j] for row in rows if row[j] is not None), None)
        types.append(value_type(seen) if seen is not None else "NULL")
    return types


def render_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_cell_chars: int) -> list[str]:
    """A header line and one line per row, cells joined by `` | ``."""
    lines = [" | ".join(render_cell(c, max_cell_chars) for c in columns)]
    lines += [" | ".join(render_cell(v, max_cell_chars) for v in row) for row in rows]
    return lines


def render_error(kind: str, message: str, limit: int) -> str:
    """A failed call: ``error (<kind>): <message>``, cut to ``limit``."""
    return clip(f"error ({kind}): {message.strip()}", limit)


def render_result(result: ExecResult, *, max_rows: int, max_cell_chars: int, limit: int, fetch_rows: int) -> str:
    """A query's result (or its error) as the model sees it, at most ``limit`` characters (module docs)."""
    if not result.ok:
        kind = result.error_kind.value if result.error_kind is not None else "error"
        return render_error(kind, result.error or "the query failed", limit)
    rows = result.rows or []
    columns = list(result.columns)
    types = _column_types(columns, rows)
    count = f"more than {fetch_rows}" if result.truncated else str(len(rows))
    shown = rows[:max_rows]
    lines = [
        "columns: " + ", ".join(f"{render_cell(c, max_cell_chars)} {t}" for c, t in zip(columns, types, strict=True)),
        f"rows: {count}" + (f" (first {len(shown)} shown)" if len(shown) < len(rows) or result.truncated else ""),
    ]
    if shown:
        lines += render_rows(columns, shown, max_cell_chars)
    return clip("\n".join(lines), limit)
