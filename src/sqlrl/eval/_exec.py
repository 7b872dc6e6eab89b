"""The evaluators' settings of the execution service (:class:`sqlrl.sandbox.service.ExecutionService`).

Shared by the Spider, BIRD, Spider 2.0 and PaVeRL evaluators, generation and verbal RL: SQLite by
default, a 30 s timeout, every row fetched (the official scripts fetch everything; a truncated
result is flagged), text decoding as strict as Python's ``sqlite3``, a 2 GB memory budget.
"""

from __future__ import annotations

import os
from typing import Any

from sqlrl.eval.options import EVAL_MAX_ROWS, RunOptions
from sqlrl.sandbox.service import ExecutionService

__all__ = ["DEFAULT_MAX_ROWS", "EVAL_OPTIONS", "evaluation_service"]

PathLike = str | os.PathLike[str]

#: Rows kept per result. The official scripts fetch everything; a truncated result is flagged.
DEFAULT_MAX_ROWS = EVAL_MAX_ROWS
#: The evaluators' sandbox options (any of them can be overridden): their flags' defaults (engine, timeout,
#: rows), text decoded as strictly as Python's ``sqlite3``, a 2 GB memory budget.
EVAL_OPTIONS: dict[str, Any] = dict(
    engine=RunOptions.engine, timeout=RunOptions.timeout, max_rows=RunOptions.max_rows, text_errors="strict",
    memory_limit="2GB",
)  # fmt: skip


def evaluation_service(**options: Any) -> ExecutionService:
    """An :class:`~sqlrl.sandbox.service.ExecutionService` with :data:`EVAL_OPTIONS` overridden by
    ``options`` (None keeps a default); results are not remembered across calls."""
    given = {k: v for k, v in options.items() if v is not None}
    return ExecutionService(**{**EVAL_OPTIONS, **given})
