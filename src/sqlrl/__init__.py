"""sqlrl: text-to-SQL reinforcement learning with fast, faithful execution rewards."""

from __future__ import annotations

from sqlrl.errors import SqlrlError
from sqlrl.scoring import (
    METRICS,
    MODES,
    Table,
    as_table,
    compare,
    gold_has_order_by,
    partial_match,
    score,
    score_batch,
    score_group,
)

__version__ = "0.1.0"

__all__ = [
    "METRICS",
    "MODES",
    "SqlrlError",
    "Table",
    "as_table",
    "compare",
    "gold_has_order_by",
    "partial_match",
    "score",
    "score_batch",
    "score_group",
]


def __getattr__(name: str):
    # The sandbox is imported lazily so that `import sqlrl` stays cheap.
    if name in ("Sandbox", "ExecResult"):
        from sqlrl import sandbox

        return getattr(sandbox, name)
    raise AttributeError(f"module 'sqlrl' has no attribute {name!r}")
