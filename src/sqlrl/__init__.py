"""sqlrl: text-to-SQL reinforcement learning with fast, faithful execution rewards."""

from __future__ import annotations

from sqlrl._lazy import lazy_exports
from sqlrl.errors import SqlrlError

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

# The scoring core and the sandbox load on first use, so that `import sqlrl` (and `sqlrl --help`) stays cheap.
_SCORING = ("METRICS", "MODES", "Table", "as_table", "compare", "gold_has_order_by", "partial_match", "score",
            "score_batch", "score_group")  # fmt: skip
__getattr__, __dir__ = lazy_exports(
    "sqlrl", {**dict.fromkeys(_SCORING, "scoring"), "Sandbox": "sandbox", "ExecResult": "sandbox"}
)
