"""Execution shared by the reward functions of one spec: sandboxes, a thread pool and memos.

A GRPO step calls every reward function on the same batch, one after another. The functions
built from one spec share one :class:`RewardExecutor`, so a batch is executed once, whatever
number of execution-based rewards read it:

- an :class:`ExecutedBatch` per batch (the last few are kept, keyed by the batch's texts, gold
  queries, databases, engines and dialects) holds every prediction's and gold's
  :class:`Outcome` and memoises scores computed from them (verdicts per mode, partial scores);
- across batches, outcomes are memoised by ``(database, engine, SQL that ran)`` in two LRU
  caches, one for gold queries (they come back every epoch) and one for predictions. Query
  texts that look non-deterministic (``random()``, ``now``, ``current_*``) are not memoised
  across batches. A prediction that timed out is remembered as a timeout.

Every distinct query of a batch that is not memoised runs once, in parallel on a persistent
thread pool when queries are slow enough to gain from it (both engines release the GIL while
executing; each worker thread keeps its pooled connection), and its result table is
canonicalised once for the scoring core. Scores of all pairs come from one call of the core.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlrl.rewards.batch import Batch, RewardInputError
from sqlrl.sandbox import ErrorKind, ExecResult, Sandbox
from sqlrl.sandbox.sandbox_pool import SANDBOX_OPTIONS, SandboxPool, did_you_mean
from sqlrl.scoring import gold_has_order_by, score_batch
from sqlrl.sql.extract import clean_sql

__all__ = ["ENGINES", "ExecutedBatch", "Outcome", "RewardExecutor"]

ENGINES = ("sqlite", "duckdb")
#: Error kinds of predictions that never reached the engine's data.
NO_SQL = "no_sql"
TRANSPILE = "transpile"
BAD_ENGINE = "bad_engine"
_NONDETERMINISTIC = ("random", "now", "current_", "changes", "last_insert_rowid")
_SERIAL_BELOW = 4  # fewer queries than this run on the calling thread
_PARALLEL_ABOVE = 0.0005  # seconds per query: quicker queries run on one thread (with workers=None)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What running one query gave, in the form the rewards read.

    Attributes:
        ok: the query ran; ``table`` is its canonicalised result.
        table: a ``sqlrl._core.Table`` (None when not ok).
        num_rows, num_columns: the result's shape (0 when not ok).
        error_kind: an :class:`~sqlrl.sandbox.ErrorKind` value, or ``no_sql`` (nothing to run),
            ``transpile`` (the dialect could not be translated), ``bad_engine``; None when ok.
        error: the message.
        elapsed: seconds in the sandbox.
        truncated: the result had more rows than ``max_rows``.
        sql: the text that ran (after translation into the sandbox's dialect).
    """

    ok: bool
    table: Any = None
    num_rows: int = 0
    num_columns: int = 0
    error_kind: str | None = None
    error: str = ""
    elapsed: float = 0.0
    truncated: bool = False
    sql: str = ""

    @property
    def empty(self) -> bool:
        """The query ran and returned no rows."""
        return self.ok and self.num_rows == 0

    @classmethod
    def failure(cls, kind: str, message: str, sql: str = "") -> Outcome:
        return cls(False, error_kind=kind, error=message, sql=sql)

    @classmethod
    def from_result(cls, r: ExecResult) -> Outcome:
        if not r.ok:
            return cls(False, error_kind=str(r.error_kind), error=r.error, elapsed=r.elapsed, sql=r.sql)
        try:
            table = r.table
        except Exception as e:  # noqa: BLE001 - a cell the core cannot read: unscorable, not fatal
            return cls(False, error_kind=str(ErrorKind.INTERNAL), error=f"cannot score the result: {e}", sql=r.sql)
        return cls(True, table, r.num_rows, len(r.columns), None, "", r.elapsed, r.truncated, r.sql)


class _LRU:
    """A small LRU dict (the executor holds the lock)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.data: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        value = self.data.get(key)
        if value is not None:
            self.data.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        if self.maxsize <= 0:
            return
        self.data[key] = value
        self.data.move_to_end(key)
        while len(self.data) > self.maxsize:
            self.data.popitem(last=False)

    def __len__(self) -> int:
        return len(self.data)


def _nondeterministic(sql: str) -> bool:
    low = sql.lower()
    return any(w in low for w in _NONDETERMINISTIC)


class ExecutedBatch:
    """One batch after execution: an :class:`Outcome` per prediction and per gold, plus shared scores.

    Attributes:
        batch: the :class:`~sqlrl.rewards.batch.Batch`.
        preds: the prediction's outcome per completion (``no_sql`` when nothing was extracted).
        golds: the gold's outcome per completion (one shared object per row), None when the row
            has no gold query.
    """

    def __init__(
        self, batch: Batch, preds: list[Outcome], golds: list[Outcome | None], executor: RewardExecutor
    ) -> None:
        self.batch = batch
        self.preds = preds
        self.golds = golds
        self.executor = executor
        self.workers = executor.workers
        self._scores: dict[tuple[str, str], list[float | None]] = {}
        self._lock = threading.Lock()
        self.metrics_logged = False
        self.seconds = 0.0
        self.cache: dict[Hashable, Any] = {}  # per-batch results of other rewards (structure checks, ...)

    def __len__(self) -> int:
        return len(self.preds)

    def gold_usable(self, i: int) -> bool:
        g = self.golds[i]
        return g is not None and g.ok

    def scores(self, kind: str, name: str) -> list[float | None]:
        """Execution verdicts (``kind="mode"``) or partial scores (``kind="metric"``) of every completion.

        None where the gold is missing or failed; 0.0 where the prediction did not run. No
        empty-gold guard here (see :mod:`sqlrl.rewards.guard`).
        """
        key = (kind, name)
        with self._lock:
            if key in self._scores:
                return self._scores[key]
        b = self.batch
        idx = [i for i in range(len(self)) if self.gold_usable(i)]
        out: list[float | None] = [None] * len(self)
        if idx:
            golds = [self.golds[i].table for i in idx]  # type: ignore[union-attr]
            preds = [self.preds[i].table if self.preds[i].ok else None for i in idx]
            options: dict[str, Any] = {}
            if kind == "mode" and name == "spider":
                options["order_matters"] = [gold_has_order_by(self.golds[i].sql) for i in idx]  # type: ignore[union-attr]
            if kind == "mode" and name == "spider2":  # optional columns; without them: unordered, all columns
                ignore = b.column("ignore_order", True)
                options["ignore_order"] = [True if ignore[i] is None else bool(ignore[i]) for i in idx]
                if b.has("condition_cols"):
                    cols = b.columns["condition_cols"]
                    options["condition_cols"] = [list(cols[i] or []) for i in idx]
            values = score_batch(
                golds,
                preds,
                modes=[name] if kind == "mode" else [],
                metrics=[name] if kind == "metric" else [],
                workers=self.workers,
                **options,
            )[name]
            for i, v in zip(idx, values, strict=True):
                out[i] = v
        with self._lock:
            self._scores[key] = out
        return out

    def rates(self) -> dict[str, float]:
        """Batch rates for the logs: SQL found, executed, timed out, failed, empty, ..."""
        n = max(len(self), 1)
        preds = self.preds
        ran = [p for p in preds if p.error_kind != NO_SQL]
        golds = {id(g): g for g in self.golds if g is not None}.values()
        ng = max(len(golds), 1)
        return {
            "sql/extracted": len(ran) / n,
            "sql/valid": sum(p.ok for p in preds) / n,
            "sql/timeout": sum(p.error_kind == ErrorKind.TIMEOUT.value for p in preds) / n,
            "sql/error": sum(not p.ok and p.error_kind not in (NO_SQL, ErrorKind.TIMEOUT.value) for p in preds) / n,
            "sql/not_read_only": sum(p.error_kind == ErrorKind.NOT_READ_ONLY.value for p in preds) / n,
            "sql/empty_result": sum(p.empty for p in preds) / n,
            "sql/truncated": sum(p.ok and p.truncated for p in preds) / n,
            "sql/exec_ms": 1e3 * sum(p.elapsed for p in ran) / max(len(ran), 1),
            "gold/empty": sum(g.empty for g in golds) / ng,
            "gold/failed": sum(not g.ok for g in golds) / ng,
        }


class RewardExecutor:
    """Sandboxes, a thread pool and memos shared by the reward functions built from one spec.

    Args:
        timeout: seconds a query may run (the sandbox stops it and the prediction scores as failed).
        max_rows: rows kept per result (longer results are cut and flagged ``truncated``).
        engine: engine for rows without an ``engine`` column (default: by the database file).
        workers: threads running queries (``-1``: as many as cores). ``None`` (default): as many as
            cores while recent queries average over 0.5 ms in the sandbox; quicker queries run on
            the calling thread, where a thread hand-off would cost more than the query (small
            SQLite databases).
        memo_size: prediction outcomes remembered across batches.
        gold_memo_size: gold outcomes remembered across batches.
        recent_batches: executed batches kept for the next reward functions of the same step.
        **sandbox_options: passed to every :class:`~sqlrl.sandbox.Sandbox` (``memory_limit``,
            ``cache_dir``, ``sqlite_compat``, ``isolation``, ``text_errors``, ...).

    Raises:
        TypeError: an option it does not take (the message lists the valid ones).
        ValueError: a bad value (checked here, not at the first query).

    The executor is picklable: a copy keeps its settings and opens its own sandboxes.

    >>> ex = RewardExecutor(timeout=2.0)
    >>> ex.timeout, ex.stats["executed"]
    (2.0, 0)
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        max_rows: int = 100_000,
        engine: str | None = None,
        workers: int | None = None,
        memo_size: int = 16384,
        gold_memo_size: int = 4096,
        recent_batches: int = 4,
        **sandbox_options: Any,
    ) -> None:
        if engine is not None and engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)} or None, got {engine!r}")
        if not timeout or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if workers is not None and workers != -1 and workers < 1:
            raise ValueError(f"workers must be >= 1, -1 (all cores) or None (automatic), got {workers}")
        valid = self.option_names()
        for name in sandbox_options:
            if name not in valid:
                raise TypeError(
                    f"unknown option {name!r} of the reward executor{did_you_mean(name, valid)}; "
                    f"valid options: {', '.join(valid)}"
                )
        self.timeout = float(timeout)
        self.max_rows = int(max_rows)
        self.engine = engine
        self._auto_workers = workers is None
        self.workers = workers if workers is not None and workers > 0 else os.cpu_count() or 1
        self.memo_size = memo_size
        self.gold_memo_size = gold_memo_size
        self.recent_batches = recent_batches
        self.sandbox_options = dict(sandbox_options)
        self._init_state()

    @staticmethod
    def option_names() -> tuple[str, ...]:
        """Every keyword :meth:`__init__` takes: its own and those passed on to the sandboxes."""
        own = ("timeout", "max_rows", "engine", "workers", "memo_size", "gold_memo_size", "recent_batches")
        return own + tuple(o for o in SANDBOX_OPTIONS if o not in own and o != "gold_cache")

    def _init_state(self) -> None:
        self._lock = threading.RLock()
        self._sandboxes = SandboxPool(timeout=self.timeout, max_rows=self.max_rows, **self.sandbox_options)
        self._memo = _LRU(self.memo_size)
        self._gold_memo = _LRU(self.gold_memo_size)
        self._recent: OrderedDict[int, ExecutedBatch] = OrderedDict()
        self._transpiled = _LRU(8192)
        self._schemas: dict[tuple[str, str], Any] = {}
        self._derived: OrderedDict[Hashable, Any] = OrderedDict()
        self._pool: ThreadPoolExecutor | None = None
        self._mean_query: float | None = None
        self.stats = {"executed": 0, "memo_hits": 0, "batches": 0}

    def options(self) -> dict[str, Any]:
        """The settings this executor was made with (what :meth:`__init__` takes)."""
        return dict(
            timeout=self.timeout,
            max_rows=self.max_rows,
            engine=self.engine,
            workers=None if self._auto_workers else self.workers,
            memo_size=self.memo_size,
            gold_memo_size=self.gold_memo_size,
            recent_batches=self.recent_batches,
            **self.sandbox_options,
        )

    def __getstate__(self) -> dict[str, Any]:
        return {"options": self.options()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        opts = dict(state["options"])
        workers = opts.pop("workers")
        for k in ("timeout", "max_rows", "engine", "memo_size", "gold_memo_size", "recent_batches"):
            setattr(self, k, opts.pop(k))
        self._auto_workers = workers is None
        self.workers = workers if workers is not None and workers > 0 else os.cpu_count() or 1
        self.sandbox_options = opts
        self._init_state()

    def __repr__(self) -> str:
        return f"RewardExecutor(timeout={self.timeout}, workers={self.workers}, sandboxes={len(self._sandboxes)})"

    # -- sandboxes ---------------------------------------------------------------------------------

    def sandbox(self, db_path: str, engine: str) -> Sandbox | str:
        """The sandbox for ``(db_path, engine)``, or a message saying why it cannot be opened."""
        if engine not in ENGINES:
            return f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}"
        return self._sandboxes.get(db_path, engine)

    def check_databases(self, batch: Batch, reward: str = "the reward") -> None:
        """Raise :class:`~sqlrl.rewards.batch.RewardInputError` when a database the batch names cannot be
        opened (missing, not a database, an unknown engine): the dataset's fault, not a completion's."""
        seen: set[tuple[str, str]] = set()
        for i in range(len(batch)):
            db = batch.db(i)
            if db is None:
                continue
            key = (db, batch.engine(i))
            if key in seen:
                continue
            seen.add(key)
            sb = self.sandbox(*key)
            if isinstance(sb, str):
                raise RewardInputError(
                    f"{reward} cannot score row {i}: {sb} (check the dataset's db_path and engine columns)"
                )

    def schema(self, db_path: str, engine: str) -> Any:
        """The :class:`~sqlrl.sql.schema.DbSchema` of a database (read once), or None."""
        key = (db_path, engine)
        if key in self._schemas:
            return self._schemas[key]
        from sqlrl.sql.schema import DbSchema

        schema = None
        sb = self.sandbox(db_path, engine)
        try:
            path = Path(db_path)
            if not path.is_file() and isinstance(sb, Sandbox):
                path = sb.database_path
            schema = DbSchema.from_database(path)
        except Exception:  # noqa: BLE001 - no schema: the rewards that need one score 0 / None
            schema = None
        self._schemas[key] = schema
        return schema

    def sandbox_dialect(self, db_path: str | None, engine: str) -> str:
        """The dialect the sandbox of ``(db_path, engine)`` runs (``sqlite`` for SQLite data on DuckDB)."""
        if db_path is not None:
            sb = self.sandbox(db_path, engine)
            if isinstance(sb, Sandbox):
                return sb.dialect
        return "duckdb" if engine == "duckdb" else "sqlite"

    def translate(self, sql: str, read: str | None, write: str) -> tuple[str | None, str]:
        """``sql`` written in ``read`` as ``write`` (memoised): ``(text, "")`` or ``(None, error)``."""
        if read is None:
            return sql, ""
        from sqlrl.sql.dialects import resolve_dialect, transpile
        from sqlrl.sql.errors import SqlError

        try:
            read = resolve_dialect(read)
        except SqlError as e:
            return None, str(e)
        if read == write:
            return sql, ""
        key = (sql, read, write)
        with self._lock:
            hit = self._transpiled.get(key)
        if hit is not None:
            return hit
        try:
            value: tuple[str | None, str] = (transpile(sql, read=read, write=write, sqlite_compat=False), "")
        except SqlError as e:
            value = (None, str(e))
        except Exception as e:  # noqa: BLE001 - sqlglot raises odd errors on odd input
            value = (None, f"cannot translate from {read} to {write}: {e}")
        with self._lock:
            self._transpiled.put(key, value)
        return value

    # -- running -----------------------------------------------------------------------------------

    def _run_one(self, task: tuple[str, str, str]) -> Outcome:
        db, engine, sql = task
        sb = self.sandbox(db, engine)
        if isinstance(sb, str):
            kind = BAD_ENGINE if engine not in ENGINES else ErrorKind.MISSING_DATABASE.value
            return Outcome.failure(kind, sb, sql)
        return Outcome.from_result(sb.execute(sql))

    def run(self, tasks: Sequence[tuple[str, str, str]], *, gold: bool = False) -> list[Outcome]:
        """Outcomes of ``(db_path, engine, sql)`` tasks: memoised ones looked up, the rest run in parallel.

        Each distinct task runs once, whatever the number of times it occurs.
        """
        memo = self._gold_memo if gold else self._memo
        out: list[Outcome | None] = [None] * len(tasks)
        todo: dict[tuple[str, str, str], list[int]] = {}
        with self._lock:
            for i, task in enumerate(tasks):
                hit = memo.get(task)
                if hit is None and not gold:
                    hit = self._gold_memo.get(task)  # a prediction that is its gold's text
                if hit is not None:
                    out[i] = hit
                    self.stats["memo_hits"] += 1
                else:
                    todo.setdefault(task, []).append(i)
        if todo:
            keys = list(todo)
            results = self._run_all(keys)
            with self._lock:
                self.stats["executed"] += len(keys)
                for k, r in zip(keys, results, strict=True):
                    if not _nondeterministic(k[2]):
                        memo.put(k, r)
                    for i in todo[k]:
                        out[i] = r
        return out  # type: ignore[return-value]

    def _run_all(self, keys: list[tuple[str, str, str]]) -> list[Outcome]:
        """Run the tasks: serially when queries are quick (thread hand-offs would cost more than they
        save), else in ``workers`` contiguous chunks on the pool."""
        if len(keys) < _SERIAL_BELOW or self.workers == 1 or self._quick():
            results = [self._run_one(k) for k in keys]
        else:
            step = -(-len(keys) // (self.workers * 4))
            chunks = [keys[i : i + step] for i in range(0, len(keys), step)]
            results = [r for part in self._executor().map(self._run_chunk, chunks) for r in part]
        seconds = [r.elapsed for r in results if r.elapsed > 0]
        if seconds:
            with self._lock:
                mean = sum(seconds) / len(seconds)
                self._mean_query = mean if self._mean_query is None else 0.8 * self._mean_query + 0.2 * mean
        return results

    def _run_chunk(self, keys: list[tuple[str, str, str]]) -> list[Outcome]:
        return [self._run_one(k) for k in keys]

    def _quick(self) -> bool:
        """Whether recent queries took so little engine time that one thread is fastest (``workers``
        given explicitly: never)."""
        return self._auto_workers and self._mean_query is not None and self._mean_query < _PARALLEL_ABOVE

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sqlrl-reward")
            return self._pool

    def execute(self, batch: Batch) -> ExecutedBatch:
        """Run every prediction and gold query of ``batch`` (once per batch, see the module docs)."""
        sig = batch.signature
        with self._lock:
            hit = self._recent.get(sig)
            if hit is not None and hit.batch.texts == batch.texts:
                self._recent.move_to_end(sig)
                return hit
        t0 = time.perf_counter()
        n = len(batch)
        gold_tasks: dict[tuple[str, str, str], None] = {}
        row_gold: list[tuple[str, str, str] | None] = [None] * n
        pred_tasks: list[tuple[str, str, str]] = []
        pred_where: list[int] = []
        preds: list[Outcome | None] = [None] * n
        natives: dict[tuple[str, str], str] = {}
        for i in range(n):
            db, engine = batch.db(i), batch.engine(i)
            native = None
            if db is not None:
                native = natives.get((db, engine))
                if native is None:
                    native = natives[(db, engine)] = self.sandbox_dialect(db, engine)
            gold_sql = batch.gold(i)
            if native is not None and gold_sql is not None:
                gold_text = clean_sql(gold_sql)  # as extract_sql leaves a completion: `;` off
                if batch.gold_dialect(i) is not None:
                    # an untranslatable gold runs as is and fails there, with the engine's message
                    gold_text = self.translate(gold_text, batch.gold_dialect(i), native)[0] or gold_text
                task = (db, engine, gold_text)
                row_gold[i] = task
                gold_tasks[task] = None
            extraction = batch.extractions[i]
            sql = extraction.sql
            if sql is None:
                preds[i] = Outcome.failure(NO_SQL, extraction.reason)
                continue
            if native is None:
                preds[i] = Outcome.failure(ErrorKind.MISSING_DATABASE.value, "no db_path for this row", sql)
                continue
            if batch.dialect(i) is not None:
                text, err = self.translate(sql, batch.dialect(i), native)
                if text is None:
                    preds[i] = Outcome.failure(TRANSPILE, err, sql)
                    continue
                sql = text
            pred_tasks.append((db, engine, sql))
            pred_where.append(i)
        gold_list = list(gold_tasks)
        gold_out = dict(zip(gold_list, self.run(gold_list, gold=True), strict=True))
        for i, outcome in zip(pred_where, self.run(pred_tasks), strict=True):
            preds[i] = outcome
        golds = [None if t is None else gold_out[t] for t in row_gold]
        executed = ExecutedBatch(batch, preds, golds, self)  # type: ignore[arg-type]
        executed.seconds = time.perf_counter() - t0
        with self._lock:
            self.stats["batches"] += 1
            self._recent[sig] = executed
            while len(self._recent) > self.recent_batches:
                self._recent.popitem(last=False)
        return executed

    def derived(self, key: Hashable, compute: Any) -> Any:
        """A value computed once per key and kept (schemas in other forms, parsed gold queries, ...)."""
        with self._lock:
            if key in self._derived:
                self._derived.move_to_end(key)
                return self._derived[key]
        value = compute()
        with self._lock:
            self._derived[key] = value
            while len(self._derived) > 4096:
                self._derived.popitem(last=False)
        return value

    def close(self) -> None:
        """Close the sandboxes and the thread pool; the executor opens new ones when used again."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._recent.clear()
        if pool is not None:
            pool.shutdown(wait=True)
        self._sandboxes.close()

    def clear(self) -> None:
        """Forget every memoised outcome (e.g. after a database file changed)."""
        with self._lock:
            self._memo = _LRU(self.memo_size)
            self._gold_memo = _LRU(self.gold_memo_size)
            self._recent.clear()
