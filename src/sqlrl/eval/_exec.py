"""The evaluators' settings of the execution service (:class:`sqlrl.sandbox.service.ExecutionService`).

Shared by the Spider, BIRD, Spider 2.0 and PaVeRL evaluators, generation and verbal RL: SQLite by
default, a 30 s timeout, every row fetched (the official scripts fetch everything; a truncated
result is flagged), text decoding as strict as Python's ``sqlite3``, a 2 GB memory budget. On DuckDB over a
SQLite file (``--engine duckdb``, or predictions in another dialect) rows and groups that tie under an ORDER
BY come in SQLite's order (``sqlite_ties``), as the official scripts, which run on SQLite, see them: an
evaluation parses each distinct text once for it, which the rewards' first runs cannot afford, so there it
is off unless asked for.
"""

from __future__ import annotations

import os
from typing import Any

from sqlrl.eval.options import EVAL_MAX_ROWS, RunOptions
from sqlrl.sandbox.ray_service import make_service
from sqlrl.sandbox.service import ExecutionService, is_sqlite_dialect

__all__ = ["DEFAULT_MAX_ROWS", "EVAL_OPTIONS", "evaluation_service", "prediction_dialect", "run_engine"]

PathLike = str | os.PathLike[str]

#: Rows kept per result. The official scripts fetch everything; a truncated result is flagged.
DEFAULT_MAX_ROWS = EVAL_MAX_ROWS
#: The evaluators' sandbox options (any of them can be overridden): their flags' defaults (engine, timeout,
#: rows), text decoded as strictly as Python's ``sqlite3``, a 2 GB memory budget, SQLite's order of ties on DuckDB.
EVAL_OPTIONS: dict[str, Any] = dict(
    engine=RunOptions.engine, timeout=RunOptions.timeout, max_rows=RunOptions.max_rows, text_errors="strict",
    memory_limit="2GB", sqlite_ties=True,
)  # fmt: skip


def run_engine(engine: str, dialect: str | None) -> str:
    """The engine an evaluation runs on: ``engine``, or DuckDB when the predictions are written in another
    dialect than SQLite's (transpiled by sqlglot to DuckDB's; SQLite files are imported)."""
    return engine if is_sqlite_dialect(dialect) else "duckdb"


def prediction_dialect(dialect: str | None) -> str | None:
    """The dialect to give the service with each prediction: None for SQLite's (run as written)."""
    return None if is_sqlite_dialect(dialect) else dialect


def evaluation_service(
    *, backend: str = "local", ray_actors: int | None = None, ray_address: str | None = None, **options: Any
) -> ExecutionService:
    """An :class:`~sqlrl.sandbox.service.ExecutionService` with :data:`EVAL_OPTIONS` overridden by
    ``options`` (None keeps a default); results are not remembered across calls. ``backend="ray"``: a
    :class:`~sqlrl.sandbox.ray_service.RayExecutionService` with ``ray_actors`` actors (the ray options are
    ignored with ``local``)."""
    given = {k: v for k, v in options.items() if v is not None}
    settings = {**EVAL_OPTIONS, **given}
    if backend == "local":
        return ExecutionService(**settings)
    return make_service(backend, ray_actors=ray_actors, ray_address=ray_address, **settings)
