"""Prompt templates of the verbal loop and the functions that fill them.

The generator prompt is :func:`sqlrl.data.prompts.build_messages` (schema as ``CREATE TABLE``
statements with sample values, BIRD evidence, the dialect). The judge and refinement prompts are
``str.format`` templates; :class:`~sqlrl.verbal.config.VerbalConfig` takes replacements
(``judge_system``, ``judge_user``, ``refine_user``) that may use the fields listed in
:data:`JUDGE_FIELDS` and :data:`REFINE_FIELDS` (literal braces written ``{{`` and ``}}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "JUDGE_FIELDS",
    "JUDGE_SYSTEM",
    "JUDGE_USER",
    "PREVIOUS_NONE",
    "PREVIOUS_SQL",
    "REFINE_FIELDS",
    "REFINE_USER",
    "REPLY_FORMAT",
    "RETRY_USER",
    "format_candidate",
    "format_summary",
    "reply_format",
]

#: Fields the judge templates may use.
JUDGE_FIELDS = ("dialect", "schema", "evidence", "question", "candidates", "num_candidates", "num_samples",
                "score_max", "labels", "reply_format")  # fmt: skip
#: Fields the refinement template may use.
REFINE_FIELDS = ("dialect", "previous", "sql", "result", "problem", "critique", "failures")

JUDGE_SYSTEM = (
    "You are a meticulous {dialect} expert who reviews SQL queries written to answer a question about a "
    "database. Every candidate query below was executed; you see its text and a summary of its result. "
    "Judge each candidate on whether it answers the question exactly: the right tables and joins, filters "
    "and values, aggregation and grouping, ordering and limits, and the columns asked for. Results that "
    "look implausible for the question (no rows, NULLs, wrong magnitudes, missing or extra columns) are "
    "evidence against a candidate."
)

JUDGE_USER = """Database schema:
{schema}

{evidence}Question: {question}

{num_samples} sampled queries ran and gave {num_candidates} different results. One query per result:

{candidates}

Score every candidate from 0 (certainly wrong) to {score_max} (certainly right). Reply with only this JSON object:
{reply_format}"""

#: What the judge is asked to return; ``{labels}`` become ``"1": <0-10>, "2": ...``.
REPLY_FORMAT = '{{"scores": {{{labels}}}, "critique": "<what the best candidate may still get wrong, or none>"}}'

RETRY_USER = "Your reply could not be used ({reason}). Reply with only this JSON object:\n{reply_format}"

REFINE_USER = """{previous}
{problem}{critique}{failures}
Check the query against the question and the schema. Give the corrected query, or the same query if it is right, \
in a ```sql fenced code block."""

#: ``{previous}`` of :data:`REFINE_USER` when a query was found / when no reply held one.
PREVIOUS_SQL = "Your query:\n```sql\n{sql}\n```\n{result}"
PREVIOUS_NONE = "None of your replies held a SQL query."


def _cell(value: Any, max_chars: int) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<blob {len(bytes(value))} bytes>"
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, str):
        text = "'" + " ".join(value.split()) + "'"
    else:
        text = str(value)
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


def clip(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` characters, ending in ``...`` when cut."""
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


def format_summary(
    ok: bool,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    num_rows: int,
    *,
    error_kind: str | None = None,
    error: str = "",
    truncated: bool = False,
    max_rows: int = 5,
    max_cell_chars: int = 60,
    max_error_chars: int = 300,
) -> str:
    """A few lines describing one execution: its error, or columns, row count and first rows.

    >>> print(format_summary(True, ["name", "n"], [("a", 3), (None, 1)], 2, max_rows=1))
    Result: 2 rows, columns (name, n); first 1:
      ('a', 3)
    >>> print(format_summary(False, [], [], 0, error_kind="runtime", error="no such column: x"))
    Error (runtime): no such column: x
    """
    if not ok:
        return f"Error ({error_kind or 'error'}): {clip(' '.join(str(error).split()), max_error_chars)}"
    cols = ", ".join(clip(str(c), max_cell_chars) for c in columns)
    more = "+" if truncated else ""
    if num_rows == 0:
        return f"Result: no rows, columns ({cols})"
    plural = "row" if num_rows == 1 else "rows"
    shown = list(rows)[:max_rows]
    head = "" if len(shown) == num_rows else f"; first {len(shown)}"
    lines = [f"Result: {num_rows}{more} {plural}, columns ({cols}){head}:"]
    for row in shown:
        lines.append("  (" + ", ".join(_cell(v, max_cell_chars) for v in row) + ")")
    return "\n".join(lines)


def format_candidate(
    label: str, sql: str, summary: str, votes: int | None, num_samples: int, max_sql_chars: int
) -> str:
    """One candidate block of the judge prompt."""
    head = f"Candidate {label}"
    if votes is not None:
        head += f" (result of {votes} of the {num_samples} queries)"
    return f"{head}:\n```sql\n{clip(sql, max_sql_chars)}\n```\n{summary}"


def reply_format(labels: Sequence[str], score_max: int) -> str:
    """The JSON object the judge is asked for, with one entry per label."""
    entries = ", ".join(f'"{label}": <0-{score_max}>' for label in labels)
    return REPLY_FORMAT.format(labels=entries)
