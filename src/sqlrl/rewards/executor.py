"""Execution shared by the reward functions of one spec: sandboxes, a thread pool and memos.

A GRPO step calls every reward function on the same batch, one after another. The functions
built from one spec share one :class:`RewardExecutor`, so a batch is executed once, whatever
number of execution-based rewards read it:

- an :class:`ExecutedBatch` per batch (the last few are kept, keyed by the batch's texts, gold
  queries, databases, engines and dialects) holds every prediction's and gold's
  :class:`Outcome` and memoises scores computed from them (verdicts per mode, partial scores);
- the queries run on the executor's :class:`~sqlrl.sandbox.service.ExecutionService`: each distinct
  ``(database, engine, SQL that ran)`` once, remembered across batches in two memos (gold
  queries come back every epoch; predictions), in parallel when queries are slow enough to gain
  from it; query texts that look non-deterministic (``random()``, ``now``, ``current_*``) are
  never shared. A prediction that timed out is remembered as a timeout. Results keep only
  their table, canonicalised once for the scoring core.

Scores of all pairs come from one call of the core.
"""

from __future__ import annotations

import operator
import threading
import time
from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

from sqlrl.rewards.batch import TRL_HOOKS, Batch, RewardInputError, read_batch
from sqlrl.sandbox import ErrorKind, ExecResult, Sandbox
from sqlrl.sandbox.cache import LRUCache
from sqlrl.sandbox.parallel import resolve_workers
from sqlrl.sandbox.ray_service import BACKENDS, make_service
from sqlrl.sandbox.service import SANDBOX_OPTIONS, ExecutionService, did_you_mean, translate_for
from sqlrl.scoring import gold_has_order_by, score_batch
from sqlrl.sql.extract import clean_sql

__all__ = ["ENGINES", "ExecutedBatch", "Outcome", "RewardExecutor"]

ENGINES = ("sqlite", "duckdb")
#: Error kinds of predictions that never reached the engine's data (values of :class:`~sqlrl.sandbox.ErrorKind`).
NO_SQL = ErrorKind.NO_SQL.value
TRANSPILE = ErrorKind.TRANSPILE.value
BAD_ENGINE = ErrorKind.BAD_ENGINE.value
#: Former name of the result type the rewards read: an :class:`~sqlrl.sandbox.ExecResult` without rows.
Outcome = ExecResult


#: Completions from which a batch's predictions start running a quarter at a time while the next are read (a
#: batch of fewer runs its predictions in the service's call, which needs no thread of its own for so few).
_PREFETCH_FROM = 64


def _failure(kind: str, message: str, sql: str = "") -> ExecResult:
    return ExecResult.failure(sql, ErrorKind(kind), message)


class ExecutedBatch:
    """One batch after execution: an :class:`~sqlrl.sandbox.ExecResult` per prediction and per gold, plus shared scores.

    Attributes:
        batch: the :class:`~sqlrl.rewards.batch.Batch`.
        preds: the prediction's outcome per completion (``no_sql`` when nothing was extracted).
        golds: the gold's outcome per completion (one shared object per row), None when the row
            has no gold query.
    """

    def __init__(
        self, batch: Batch, preds: list[ExecResult], golds: list[ExecResult | None], executor: RewardExecutor
    ) -> None:
        self.batch = batch
        self.preds = preds
        self.golds = golds
        self.executor = executor
        self.workers = executor.workers
        self._scores: dict[tuple[str, str], list[float | None]] = {}
        self._pair_index: tuple[list[int | None], list[tuple[ExecResult, ExecResult, int]]] | None = None
        self._lock = threading.Lock()
        self.metrics_logged = False
        self.seconds = 0.0
        self.cache: dict[Hashable, Any] = {}  # per-batch results of other rewards (structure checks, ...)

    def __len__(self) -> int:
        return len(self.preds)

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
        options: dict[str, list[Any]] = {}
        if kind == "mode" and name == "spider2":  # optional columns; without them: unordered, all columns
            ignore = [True if v is None else bool(v) for v in b.column("ignore_order", True)]
            cols = b.columns.get("condition_cols")
            condition = [tuple(c or ()) for c in cols] if cols is not None else None
            pair_of, pairs = self._pairs(lambda i: (ignore[i], None if condition is None else condition[i]))
            options["ignore_order"] = [ignore[i] for _, _, i in pairs]
            if condition is not None:
                options["condition_cols"] = [list(condition[i]) for _, _, i in pairs]
        else:
            pair_of, pairs = self._pairs()
            if kind == "mode" and name == "spider":
                options["order_matters"] = [gold_has_order_by(g.sql) for g, _, _ in pairs]
        golds = [g.table for g, _, _ in pairs]
        preds = [p.table if p.ok else None for _, p, _ in pairs]
        out: list[float | None] = [None] * len(self)
        if golds:
            values = score_batch(
                golds,
                preds,
                modes=[name] if kind == "mode" else [],
                metrics=[name] if kind == "metric" else [],
                workers=self.workers,
                **options,
            )[name]
            out = [None if k is None else values[k] for k in pair_of]
        with self._lock:
            self._scores[key] = out
        return out

    def _pairs(self, row_key: Any = None) -> tuple[list[int | None], list[tuple[ExecResult, ExecResult, int]]]:
        """Each completion's pair (None where its gold is missing or failed) and the distinct ``(gold, prediction,
        first row)`` pairs: completions share result objects (one per distinct query), so each distinct pair is
        scored once. ``row_key(i)``: what else of row ``i`` a score depends on (spider2's columns); without it
        the pairs are worked out once per batch."""
        if row_key is None and self._pair_index is not None:
            return self._pair_index
        index: dict[Hashable, int] = {}
        pairs: list[tuple[ExecResult, ExecResult, int]] = []
        pair_of: list[int | None] = [None] * len(self)
        for i, (g, p) in enumerate(zip(self.golds, self.preds, strict=True)):
            if g is None or not g.ok:
                continue
            key: Hashable = (id(g), id(p) if p.ok else None)
            if row_key is not None:
                key = (key, row_key(i))
            k = index.get(key)
            if k is None:
                k = index[key] = len(pairs)
                pairs.append((g, p, i))
            pair_of[i] = k
        if row_key is None:
            self._pair_index = (pair_of, pairs)
        return pair_of, pairs

    def rates(self) -> dict[str, float]:
        """Batch rates for the logs: SQL found, executed, timed out, failed, empty, ...

        Completions share result objects (one per distinct query): each is read once, weighted by its count.
        """
        n = max(len(self), 1)
        weight = Counter(map(id, self.preds))
        extracted = valid = timeout = error = not_read_only = empty = truncated = 0
        ms = 0.0
        for key, p in {id(p): p for p in self.preds}.items():  # one pass over the distinct results
            kind = p.error_kind
            if kind == NO_SQL:
                continue
            w = weight[key]
            extracted += w
            ms += w * p.elapsed
            if p.ok:
                valid += w
                empty += w if p.empty else 0
                truncated += w if p.truncated else 0
            elif kind == ErrorKind.TIMEOUT:
                timeout += w
            else:
                error += w
                not_read_only += w if kind == ErrorKind.NOT_READ_ONLY else 0
        golds = {id(g): g for g in self.golds if g is not None}.values()
        ng = max(len(golds), 1)
        return {
            "sql/extracted": extracted / n,
            "sql/valid": valid / n,
            "sql/timeout": timeout / n,
            "sql/error": error / n,
            "sql/not_read_only": not_read_only / n,
            "sql/empty_result": empty / n,
            "sql/truncated": truncated / n,
            "sql/exec_ms": 1e3 * ms / max(extracted, 1),
            "gold/empty": sum(g.empty for g in golds) / ng,
            "gold/failed": sum(not g.ok for g in golds) / ng,
        }


class RewardExecutor:
    """Sandboxes, a thread pool and memos shared by the reward functions built from one spec.

    Args:
        timeout: seconds a query may run (the sandbox stops it and the prediction scores as failed).
        max_rows: rows kept per result (longer results are cut and flagged ``truncated``).
        engine: engine for rows without an ``engine`` column (default: DuckDB for rows whose
            predictions are in another dialect than SQLite's, else by the database file).
        dialect: the dialect of the predictions of rows without a ``dialect`` column (``postgres``,
            ``mysql``, ``snowflake``, ``bigquery``, ... any sqlglot reads; default: the sandbox's own).
            They are transpiled by sqlglot into DuckDB's dialect and run on DuckDB (a SQLite file's
            data imported, with the SQLite-compat settings the gold runs with) unless ``engine`` says
            ``sqlite``; one that cannot be transpiled fails as ``transpile``. The gold stays in the
            sandbox's dialect (or its ``gold_dialect`` / ``dialect`` column).
        workers: threads running queries (``-1``: as many as cores). ``None`` (default): as many as
            cores while recent queries typically (median) take over 0.5 ms in the sandbox (DuckDB's: 0.1 ms,
            as they leave the GIL); quicker queries run on the calling thread, where a thread hand-off would
            cost more than the query (small SQLite databases).
        memo_size: prediction outcomes remembered across batches.
        gold_memo_size: gold outcomes remembered across batches.
        recent_batches: executed batches kept for the next reward functions of the same step.
        backend: where the queries run: ``local`` (default: this process's threads) or ``ray``
            (:class:`~sqlrl.sandbox.ray_service.RayExecutionService`: Ray actors, each with its own
            sandboxes, every database on one actor; the memos stay here). Needs ``pip install 'sqlrl[ray]'``.
        ray_actors: Ray actors with ``backend="ray"`` (default 2).
        ray_address: the Ray cluster to join when Ray is not started (default ``$RAY_ADDRESS``, else local).
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
        dialect: str | None = None,
        workers: int | None = None,
        memo_size: int = 16384,
        gold_memo_size: int = 4096,
        recent_batches: int = 4,
        backend: str = "local",
        ray_actors: int | None = None,
        ray_address: str | None = None,
        **sandbox_options: Any,
    ) -> None:
        if engine is not None and engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)} or None, got {engine!r}")
        if dialect is not None:
            from sqlrl.sql.dialects import resolve_dialect  # an unknown name fails here, with a suggestion

            dialect = resolve_dialect(dialect)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
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
        self.dialect = dialect
        self._workers_option = workers
        self.workers = resolve_workers(workers, default=resolve_workers(-1))
        self.memo_size = memo_size
        self.gold_memo_size = gold_memo_size
        self.recent_batches = recent_batches
        self.sandbox_options = dict(sandbox_options)
        self.backend = backend
        self.ray_actors = ray_actors
        self.ray_address = ray_address
        self._lock = threading.RLock()
        self.service: ExecutionService = make_service(
            backend,
            ray_actors=ray_actors,
            ray_address=ray_address,
            timeout=self.timeout,
            max_rows=self.max_rows,
            workers=workers,
            memo_size=memo_size,
            gold_memo_size=gold_memo_size,
            keep_rows=False,
            **self.sandbox_options,
        )
        self._recent: LRUCache[ExecutedBatch] = LRUCache(recent_batches)
        self._schemas: dict[tuple[str, str], Any] = {}
        self._derived: LRUCache[Any] = LRUCache(4096)
        self._batches = 0
        self._last_read: tuple[Any, Batch] | None = None
        self._checked: Batch | None = None

    @staticmethod
    def option_names() -> tuple[str, ...]:
        """Every keyword :meth:`__init__` takes: its own and those passed on to the sandboxes."""
        own = ("timeout", "max_rows", "engine", "workers", "memo_size", "gold_memo_size", "recent_batches", "dialect",
               "backend", "ray_actors", "ray_address")  # fmt: skip
        return own + tuple(o for o in SANDBOX_OPTIONS if o not in own and o != "gold_cache")

    @property
    def stats(self) -> dict[str, int]:
        """Queries executed, memo hits and batches executed so far."""
        return {**self.service.stats, "batches": self._batches}

    def options(self) -> dict[str, Any]:
        """The settings this executor was made with (what :meth:`__init__` takes)."""
        return dict(
            timeout=self.timeout,
            max_rows=self.max_rows,
            engine=self.engine,
            dialect=self.dialect,
            workers=self._workers_option,
            memo_size=self.memo_size,
            gold_memo_size=self.gold_memo_size,
            recent_batches=self.recent_batches,
            **({} if self.backend == "local" else {"backend": self.backend}),
            **({} if self.ray_actors is None else {"ray_actors": self.ray_actors}),
            **({} if self.ray_address is None else {"ray_address": self.ray_address}),
            **self.sandbox_options,
        )

    def __getstate__(self) -> dict[str, Any]:
        return {"options": self.options()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["options"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"RewardExecutor(timeout={self.timeout}, workers={self.workers}, sandboxes={len(self.service)})"

    # -- reading a call ----------------------------------------------------------------------------

    def read(
        self, prompts: Sequence[Any] | None, completions: Sequence[Any], completion_ids: Any, columns: dict[str, Any]
    ) -> Batch:
        """The :class:`~sqlrl.rewards.batch.Batch` of one reward call, read once for every reward function
        sharing this executor: TRL passes the same lists to each function of a step, so a call whose
        arguments are the very objects of the previous one, holding the very same items, gets the
        previous Batch (texts joined, SQL extracted, groups found once)."""
        snapshot = _snapshot(prompts, completions, completion_ids, columns)
        last = self._last_read
        if last is not None and _same_call(last[0], snapshot):
            return last[1]
        batch = read_batch(
            prompts, completions, completion_ids, columns, default_engine=self.engine, default_dialect=self.dialect
        )
        self._last_read = (snapshot, batch)
        return batch

    # -- sandboxes ---------------------------------------------------------------------------------

    def sandbox(self, db_path: str, engine: str) -> Sandbox | str:
        """The sandbox for ``(db_path, engine)``, or a message saying why it cannot be opened."""
        if engine not in ENGINES:
            return f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}"
        return self.service.get(db_path, engine)

    def check_databases(self, batch: Batch, reward: str = "the reward") -> None:
        """Raise :class:`~sqlrl.rewards.batch.RewardInputError` when a database the batch names cannot be
        opened (missing, not a database, an unknown engine): the dataset's fault, not a completion's."""
        if batch is self._checked:  # the other functions of one call read the same Batch
            return
        first: dict[tuple[str, str], int] = {}  # each (database, engine) and its first row
        for i, key in enumerate(zip(batch.dbs(), batch.engines(), strict=True)):
            if key[0] is not None and key not in first:
                first[key] = i
        self.service.open([key for key in first if key[1] in ENGINES])  # at once (on Ray: one call per actor)
        for key, i in first.items():
            sb = self.sandbox(*key)
            if isinstance(sb, str):
                raise RewardInputError(
                    f"{reward} cannot score row {i}: {sb} (check the dataset's db_path and engine columns)"
                )
        self._checked = batch

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
            if not path.is_file() and not isinstance(sb, str):
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
            if not isinstance(sb, str):  # a Sandbox, or what a Ray actor opened
                return sb.dialect
        return "duckdb" if engine == "duckdb" else "sqlite"

    def translate(self, sql: str, read: str | None, write: str) -> tuple[str | None, str]:
        """``sql`` written in ``read`` as ``write`` (memoised): ``(text, "")`` or ``(None, error)``."""
        if read is None:
            return sql, ""
        return translate_for(sql, read, write, write)

    def translate_to_sandbox(self, sql: str, read: str | None, native: str, engine: str) -> tuple[str | None, str]:
        """``sql`` written in ``read`` as the sandbox of dialect ``native`` on ``engine`` runs it (see
        :func:`~sqlrl.sandbox.service.translate_for`: DuckDB's dialect on DuckDB, also for SQLite data)."""
        return translate_for(sql, read, native, engine)

    # -- running -----------------------------------------------------------------------------------

    def run(
        self, queries: Sequence[tuple[str, str, str]], *, gold: bool | Sequence[bool] = False, ahead: Any = None
    ) -> list[ExecResult]:
        """Results of ``(db_path, sql, engine)`` queries on the executor's service (each distinct one runs
        once, see the module docs; ``gold``: for all queries or a flag per query, and ``ahead``: what the
        service's ``prefetch`` started, as the service takes them); a query whose database or engine cannot be
        opened fails without running."""
        opened: dict[tuple[str, str], str | None] = {}
        for db, _, engine in queries:
            if (db, engine) not in opened:
                sb = self.sandbox(db, engine)
                opened[(db, engine)] = sb if isinstance(sb, str) else None
        if not any(opened.values()):
            return self.service.run(queries, gold=gold, ahead=ahead)
        runnable = [i for i, (db, _, engine) in enumerate(queries) if opened[(db, engine)] is None]
        out: list[ExecResult | None] = [None] * len(queries)
        flags = gold if isinstance(gold, bool) else [gold[i] for i in runnable]
        for i, result in zip(
            runnable, self.service.run([queries[i] for i in runnable], gold=flags, ahead=ahead), strict=True
        ):
            out[i] = result
        for i, (db, sql, engine) in enumerate(queries):
            why = opened[(db, engine)]
            if why is not None:
                out[i] = _failure(BAD_ENGINE if engine not in ENGINES else ErrorKind.MISSING_DATABASE, why, sql)
        return out  # type: ignore[return-value]

    def execute(self, batch: Batch) -> ExecutedBatch:
        """Run every prediction and gold query of ``batch`` (once per batch, see the module docs)."""
        sig = batch.signature
        hit = self._recent.get(sig)
        if hit is not None and (hit.batch is batch or hit.batch.texts == batch.texts):
            return hit
        t0 = time.perf_counter()
        # What decides a row's runs besides its completion: (database, engine, gold, gold's dialect, dialect).
        # Rows share it by the group (GRPO repeats a prompt's columns), so it is worked out once per setting.
        settings = list(
            zip(batch.dbs(), batch.engines(), batch.golds(), batch.gold_dialects(), batch.dialects(), strict=True)
        )
        gold_tasks: dict[tuple[str, str, str], None] = {}
        natives: dict[tuple[str, str], str] = {}
        of_setting: dict[tuple[Any, ...], tuple[tuple[str, str, str] | None, str | None]] = {}
        for setting in dict.fromkeys(settings):
            db, engine, gold_sql, gold_dialect, _ = setting
            native = None
            if db is not None:
                native = natives.get((db, engine))
                if native is None:
                    native = natives[(db, engine)] = self.sandbox_dialect(db, engine)
            task = None
            if native is not None and gold_sql is not None:
                gold_text = clean_sql(gold_sql)  # as extract_sql leaves a completion: `;` off
                if gold_dialect is not None:
                    # an untranslatable gold runs as is and fails there, with the engine's message
                    gold_text = self.translate_to_sandbox(gold_text, gold_dialect, native, engine)[0] or gold_text
                task = (db, gold_text, engine)
                gold_tasks[task] = None
            of_setting[setting] = (task, native)
        row_gold = [of_setting[setting][0] for setting in settings]
        gold_list = list(gold_tasks)
        # the gold queries start now, on a thread of the core's own, while this one reads the completions; a
        # GRPO batch's predictions start part by part as they are read (see ExecutionService.prefetch)
        sqlite_rows = "sqlite" in batch.engines()  # (only SQLite's reader runs queries ahead)
        aheads = [self.service.prefetch(gold_list)] if gold_list and sqlite_rows else []
        part = -(-len(batch) // 4) if sqlite_rows and len(batch) >= _PREFETCH_FROM else 0  # a quarter
        fed = 0  # predictions started so far
        pred_tasks: list[tuple[str, str, str]] = []
        pred_rows: list[int] = []
        preds: list[ExecResult | None] = [None] * len(batch)
        for i, (setting, extraction) in enumerate(zip(settings, batch.iter_extractions(), strict=True)):
            if part and i % part == 0 and len(pred_tasks) > fed:
                aheads.append(self.service.prefetch(pred_tasks[fed:], gold=False, after=aheads))
                fed = len(pred_tasks)
            sql = extraction.sql
            if sql is None:
                preds[i] = _failure(NO_SQL, extraction.reason)
                continue
            db, engine, _, _, dialect = setting
            native = of_setting[setting][1]
            if native is None:
                preds[i] = _failure(ErrorKind.MISSING_DATABASE, "no db_path for this row", sql)
                continue
            if dialect is not None:
                text, err = self.translate_to_sandbox(sql, dialect, native, engine)
                if text is None:
                    preds[i] = _failure(TRANSPILE, err, sql)
                    continue
                sql = text
            pred_tasks.append((db, sql, engine))
            pred_rows.append(i)
        if part and len(pred_tasks) > fed:
            aheads.append(self.service.prefetch(pred_tasks[fed:], gold=False, after=aheads))
        # gold queries and predictions in one call, side by side on the service's threads (which runs each
        # distinct query once; the queries started ahead count as run there)
        results = self.run(
            [*gold_list, *pred_tasks], gold=[True] * len(gold_list) + [False] * len(pred_tasks), ahead=aheads
        )
        gold_out = dict(zip(gold_list, results[: len(gold_list)], strict=True))
        for i, outcome in zip(pred_rows, results[len(gold_list) :], strict=True):
            preds[i] = outcome
        golds = [None if t is None else gold_out[t] for t in row_gold]
        executed = ExecutedBatch(batch, preds, golds, self)  # type: ignore[arg-type]
        executed.seconds = time.perf_counter() - t0
        with self._lock:
            self._batches += 1
        self._recent.put(sig, executed)
        return executed

    def derived(self, key: Hashable, compute: Any) -> Any:
        """A value computed once per key and kept (schemas in other forms, parsed gold queries, ...)."""
        return self._derived.get_or_compute(key, compute)

    def close(self) -> None:
        """Close the sandboxes and the thread pool; the executor opens new ones when used again."""
        self._recent.clear()
        self._last_read = self._checked = None
        self.service.close()

    def clear(self) -> None:
        """Forget every memoised result (e.g. after a database file changed)."""
        self.service.clear()
        self._recent.clear()
        self._last_read = None


def _snapshot(*args: Any) -> tuple[tuple[str, ...], list[tuple[Any, tuple[Any, ...] | None]]]:
    """The objects of a reward call (prompts, completions, completion ids, each column) and their items."""
    prompts, completions, completion_ids, columns = args
    names = tuple(sorted(k for k in columns if k not in TRL_HOOKS))
    parts = [prompts, completions, completion_ids, *(columns[k] for k in names)]
    return names, [(p, tuple(p) if isinstance(p, (list, tuple)) else None) for p in parts]


def _same_call(a: Any, b: Any) -> bool:
    """Whether two snapshots hold the same objects with the same items (by identity: no item is compared)."""
    if a[0] != b[0]:
        return False
    for (x, xs), (y, ys) in zip(a[1], b[1], strict=True):
        if x is not y or (xs is None) != (ys is None):
            return False
        if xs is not None and (len(xs) != len(ys) or not all(map(operator.is_, xs, ys))):
            return False
    return True
