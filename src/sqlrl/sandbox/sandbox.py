"""The :class:`Sandbox`: run untrusted SQL against one database, safely and fast."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlrl.sandbox import source as _source
from sqlrl.sandbox.cache import DEFAULT_GOLD_CACHE, LRUCache
from sqlrl.sandbox.config import SandboxConfig
from sqlrl.sandbox.errors import SandboxClosedError, UnsupportedDatabaseError
from sqlrl.sandbox.parallel import parallel_map, resolve_workers
from sqlrl.sandbox.pool import ThreadLocalPool
from sqlrl.sandbox.result import ErrorKind, ExecResult
from sqlrl.sandbox.runner import Slot
from sqlrl.sql.sqlite_compat import quantified_comparison, rewrite_tokens, unrecognized_token
from sqlrl.sql.statement import (
    DEFAULT_MAX_SQL_LENGTH,
    check_statement,
    check_text,
    keyword_gate,
    normalize_sql,
)

#: Error kinds that say nothing about the query itself; such gold results are not cached.
TRANSIENT_ERRORS = frozenset(
    {ErrorKind.TIMEOUT, ErrorKind.RESOURCE, ErrorKind.MISSING_DATABASE, ErrorKind.CRASHED, ErrorKind.INTERNAL}
)
#: Seconds past the timeout that a caller waits for a query before abandoning it (the watchdog
#: interrupts the engine 0.15 s past the timeout; an engine step that ignores it is left behind).
ABANDON_GRACE = 0.3


class Tables:
    """A batch of :meth:`Sandbox.start_tables`: its queries, the results known before any ran (refusals), and
    the job of the core's reader, ``(reader, texts, max_rows, max_bytes, seconds, inline)`` (None: it runs
    none of them); :meth:`Sandbox.finish_tables` makes the rest."""

    __slots__ = ("sqls", "results", "job", "finish")

    def __init__(self, sqls: list[Any]) -> None:
        self.sqls = sqls
        self.results: list[ExecResult | None] = [None] * len(sqls)
        self.job: tuple[Any, ...] | None = None
        # (connection, the texts the reader runs, their positions in sqls, and among what it was given)
        self.finish: tuple[Any, list[str], list[int], list[int]] | None = None


class Sandbox:
    """Run untrusted SQL on one database: read-only, one query per call, bounded in time, rows and memory.

    Args:
        database: a SQLite file (``.sqlite``/``.db``), a DuckDB file (``.duckdb``), or a
            directory of CSV files (each ``name.csv`` becomes table ``name``).
        engine: ``"sqlite"``, ``"duckdb"``, or ``"auto"``: SQLite files run on SQLite, DuckDB
            files and CSV directories on DuckDB. ``engine="duckdb"`` on a SQLite file imports it
            once into a cached DuckDB file (see :mod:`sqlrl.sandbox.importer`).
        timeout: seconds a query may run, fetching its rows included; it is then stopped and reported as
            ``timeout``. A query inside one engine step that ignores the interrupt (a single long
            function call) is abandoned 0.3 s later: it runs on its connection's own thread, which
            closes the connection once the engine returns.
        max_rows: rows kept per result; a longer result is cut and marked ``truncated``.
        memory_limit: the memory budget of a query (see :class:`SandboxConfig`); past it the query
            fails as ``resource``.
        threads: DuckDB threads per query. 1 suits batches (parallelism comes from ``execute_many``).
        sqlite_compat: DuckDB only. SQLite semantics for integer division, NULL ordering,
            division by zero, LIKE, and double-quoted names that are no column (strings, as in
            SQLite). ``None``: on when the data comes from a SQLite file.
        sqlite_ties: DuckDB with ``sqlite_compat``: rows that tie under the ORDER BY of a query that
            reads one table come in SQLite's row order, and tied groups of a GROUP BY in SQLite's order of
            groups (:func:`~sqlrl.sql.sqlite_compat.rewrite_tie_break`).
        isolation: ``"thread"`` (default) or ``"process"`` (queries run in worker processes that
            are killed and restarted when they hang or crash).
        fetch: DuckDB result path, ``"rows"`` (default) or ``"arrow"``.
        sqlglot_check: also check each query with sqlglot before the engine sees it.
        text_errors: how SQLite text that is not valid UTF-8 is decoded.
        max_sql_length: longest SQL text accepted.
        cache_dir: where imported copies of databases are kept.
        gold_cache: LRU cache for :meth:`execute_gold` (default: one shared by all sandboxes).

    Raises:
        MissingDatabaseError: ``database`` does not exist or is not a database. (A database that
            disappears *after* the sandbox opened it gives ``missing_database`` results instead.)
        UnsupportedDatabaseError: e.g. a DuckDB file with ``engine="sqlite"``.

    Bad SQL never raises: :meth:`execute` returns an :class:`ExecResult` with an error kind.

    >>> import sqlite3, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.sqlite")
    >>> con = sqlite3.connect(path); _ = con.execute("CREATE TABLE t(x INT)")
    >>> _ = con.execute("INSERT INTO t VALUES (1), (2)"); con.commit(); con.close()
    >>> with Sandbox(path, timeout=2.0) as sb:
    ...     sb.execute("SELECT sum(x) FROM t").rows, sb.execute("DROP TABLE t").error_kind.value
    ([(3,)], 'not_read_only')
    """

    def __init__(
        self,
        database: str | os.PathLike[str],
        *,
        engine: str = "auto",
        timeout: float = 5.0,
        max_rows: int = 100_000,
        memory_limit: str = "1GB",
        threads: int = 1,
        sqlite_compat: bool | None = None,
        sqlite_ties: bool = False,
        isolation: str = "thread",
        fetch: str = "rows",
        sqlglot_check: bool = False,
        text_errors: str = "surrogateescape",
        max_sql_length: int = DEFAULT_MAX_SQL_LENGTH,
        cache_dir: str | os.PathLike[str] | None = None,
        gold_cache: LRUCache | None = None,
    ) -> None:
        self.config = SandboxConfig(
            engine=engine,
            timeout=timeout,
            max_rows=max_rows,
            memory_limit=memory_limit,
            threads=threads,
            sqlite_compat=sqlite_compat,
            sqlite_ties=sqlite_ties,
            isolation=isolation,
            fetch=fetch,
            sqlglot_check=sqlglot_check,
            text_errors=text_errors,
            max_sql_length=max_sql_length,
            cache_dir=None if cache_dir is None else str(cache_dir),
        )
        self.source = Path(database)
        self.source_kind = _source.database_kind(self.source)
        self.engine = self._choose_engine(engine, self.source_kind)
        self.database_path = self._prepare(self.source, self.source_kind, self.engine)
        self.sqlite_compat = bool(
            self.engine == "duckdb" and (self.source_kind == _source.SQLITE if sqlite_compat is None else sqlite_compat)
        )
        self.dialect = "sqlite" if self.engine == "sqlite" or self.sqlite_compat else "duckdb"
        self._gold_cache = DEFAULT_GOLD_CACHE if gold_cache is None else gold_cache
        self._identity = (
            self.engine,
            _source.identity(self.database_path),
            self.sqlite_compat,
            self.sqlite_compat and self.config.sqlite_ties,
            self.config.max_rows,
            self.config.text_errors,
        )
        self._engine = self._make_engine()
        if self.sqlite_compat:
            rewrite_tokens("SELECT CAST(1 AS INT) LIKE 'a'")  # load sqlglot's tokenizer now, not in the first query
        self._pool: ThreadLocalPool[Slot] = ThreadLocalPool(self._new_slot, Slot.close)
        self._executor: ThreadPoolExecutor | None = None
        self._executor_workers = 0
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, database: str | os.PathLike[str], **options: Any) -> Sandbox:
        """Same as ``Sandbox(database, **options)``: a SQLite file, a DuckDB file or a CSV directory."""
        return cls(database, **options)

    # -- setup -------------------------------------------------------------------------------------

    @staticmethod
    def _choose_engine(engine: str, kind: str) -> str:
        if engine == "auto":
            return "sqlite" if kind == _source.SQLITE else "duckdb"
        if engine == "sqlite" and kind == _source.DUCKDB:
            raise UnsupportedDatabaseError("a DuckDB database cannot run on engine='sqlite'; use 'duckdb' or 'auto'")
        return engine

    def _prepare(self, path: Path, kind: str, engine: str) -> Path:
        cache_dir = self.config.cache_dir
        if kind == _source.CSV_DIR:
            from sqlrl.sandbox.csv_dir import cached_csv_database

            return cached_csv_database(path, engine, cache_dir)
        if kind == _source.SQLITE and engine == "duckdb":
            from sqlrl.sandbox.importer import cached_duckdb_copy

            return cached_duckdb_copy(path, cache_dir)
        return path

    def _make_engine(self) -> Any:
        cfg = self.config
        if cfg.isolation == "process":
            from sqlrl.sandbox.isolation import ProcessEngine

            options = dict(
                engine=self.engine,
                timeout=cfg.timeout,
                max_rows=cfg.max_rows,
                memory_limit=cfg.memory_limit,
                threads=cfg.threads,
                sqlite_compat=self.sqlite_compat,
                sqlite_ties=cfg.sqlite_ties,
                fetch=cfg.fetch,
                sqlglot_check=False,
                text_errors=cfg.text_errors,
                max_sql_length=cfg.max_sql_length,
                cache_dir=cfg.cache_dir,
            )
            return ProcessEngine(str(self.database_path), options, cfg.timeout, self.engine)
        if self.engine == "sqlite":
            from sqlrl.sandbox.sqlite_engine import SQLiteEngine

            return SQLiteEngine(self.database_path, cfg)
        from sqlrl.sandbox.duckdb_engine import DuckDBEngine

        origin = self.source if self.source_kind == _source.SQLITE else None
        return DuckDBEngine(self.database_path, cfg, compat=self.sqlite_compat, sqlite_source=origin)

    def _new_slot(self) -> Slot:
        # Under process isolation the worker process guards its own deadline (with its own slots).
        return Slot(self._engine.connect(), self._engine.close_conn, threaded=self.config.isolation == "thread")

    # -- running queries ---------------------------------------------------------------------------

    def execute(self, sql: str, *, rows: bool = True) -> ExecResult:
        """Run one read-only query and return its result; never raises for bad SQL.

        ``rows=False``: the caller needs only the result's table for the scoring core (``result.table``);
        the result may then hold no Python rows (``rows`` None), which lets SQLite's cells go straight into
        the core (:mod:`sqlrl.sandbox.sqlite_reader`).

        Raises:
            SandboxClosedError: the sandbox was closed (a programming error, not a query error).
        """
        t0 = time.perf_counter()
        if self._closed:
            raise SandboxClosedError("this Sandbox is closed")
        refused = self._refusal(sql)
        if refused is not None:
            return ExecResult.failure(sql, refused[0], refused[1], elapsed=time.perf_counter() - t0, engine=self.engine)
        # Compat rewrites happen where the query runs (in the worker process under process isolation).
        try:
            run_sql = self._engine.prepare(sql) if self.sqlite_compat and self.config.isolation == "thread" else sql
        except Exception as e:  # noqa: BLE001 - the promise is: never raise for a query
            message = f"reading the query for SQLite failed: {type(e).__name__}: {e}"
            return ExecResult.failure(sql, ErrorKind.INTERNAL, message, elapsed=time.perf_counter() - t0,
                                      engine=self.engine)  # fmt: skip
        try:
            slot = self._pool.get()
        except Exception as e:  # noqa: BLE001 - e.g. the file was deleted after the sandbox opened it
            kind = ErrorKind.MISSING_DATABASE if not self.database_path.exists() else ErrorKind.INTERNAL
            return ExecResult.failure(
                sql,
                kind,
                f"cannot connect to {self.database_path}: {e}",
                elapsed=time.perf_counter() - t0,
                engine=self.engine,
            )
        try:
            if slot.thread is None:
                return self._engine.run(slot.conn, sql, run_sql, t0, rows=rows)
            run_inline = getattr(self._engine, "run_inline", None)  # SQLite: queries that cannot build large values
            if run_inline is not None:
                result = run_inline(slot.conn, sql, run_sql, t0, rows=rows)
                if result is not None:
                    return result
            wait = t0 + self.config.timeout + ABANDON_GRACE - time.perf_counter()
            finished, result = slot.thread.call(lambda: self._engine.run(slot.conn, sql, run_sql, t0, rows=rows), wait)
            if finished:
                return result
            self._pool.discard()  # its thread closes the connection once the engine returns
            return ExecResult.failure(
                sql,
                ErrorKind.TIMEOUT,
                f"query stopped after the {self.config.timeout:g} s timeout (abandoned inside one long engine "
                f"step; its connection is retired)",
                elapsed=time.perf_counter() - t0,
                engine=self.engine,
            )
        except Exception as e:  # noqa: BLE001 - the promise is: never raise for a query
            self._pool.discard()
            return ExecResult.failure(
                sql,
                ErrorKind.INTERNAL,
                f"{type(e).__name__}: {e}",
                elapsed=time.perf_counter() - t0,
                engine=self.engine,
            )

    def _refusal(self, sql: str) -> tuple[ErrorKind, str] | None:
        """Why ``sql`` may not run (the text checks and the keyword gate before any engine), or None."""
        refused = check_text(sql, self.config.max_sql_length) or keyword_gate(sql, self.engine)
        if refused is None and self.sqlite_compat:
            # as SQLite refuses them; DuckDB would read a number and an alias, or run the comparison
            sqlite_error = unrecognized_token(sql) or quantified_comparison(sql)
            if sqlite_error is not None:
                refused = (ErrorKind.SYNTAX, sqlite_error)
        if refused is None and self.config.sqlglot_check:
            check = check_statement(sql, self.dialect)
            if not check.ok:
                refused = (check.kind, check.message)
        return refused

    def prepare_texts(self, sqls: Sequence[str]) -> None:
        """Read each text as :meth:`execute` will, before any of them runs: on DuckDB with SQLite-compat, its
        rewrites for SQLite (:meth:`DuckDBEngine.prepare_many`), cached for the runs that follow; elsewhere
        nothing. Doing that Python work together, not between DuckDB's queries, makes a batch of new texts
        faster (``benchmarks/ENGINE_COMPAT.md``). Nothing runs; texts :meth:`execute` refuses for their length
        or type are not read."""
        prepare_many = getattr(self._engine, "prepare_many", None)
        if prepare_many is None or not self.sqlite_compat or self.config.isolation != "thread" or self._closed:
            return
        limit = self.config.max_sql_length
        prepare_many([s for s in sqls if check_text(s, limit) is None])

    @property
    def batches(self) -> bool:
        """Whether :meth:`execute_tables` runs queries in batches (SQLite with the core's reader, thread
        isolation); else it runs them one by one."""
        return self.config.isolation == "thread" and bool(getattr(self._engine, "batches", False))

    def execute_tables(self, sqls: Sequence[str]) -> list[ExecResult]:
        """``[self.execute(sql, rows=False) for sql in sqls]``, the same results, run together where the engine
        can: SQLite with the core's reader runs the short queries that call only simple functions (those
        :meth:`execute` runs on the calling thread) in one call, without the GIL, so that threads calling this
        on their own connections run side by side. Every other query goes through :meth:`execute`; DuckDB with
        ``sqlite_compat`` reads every text for SQLite (its rewrites and checks) before the first one runs.

        Raises:
            SandboxClosedError: the sandbox was closed.
        """
        tables = self.start_tables(sqls)
        outcome = None if tables.job is None else self._engine.run_job(tables.job)  # type: ignore[attr-defined]
        return self.finish_tables(tables, outcome)  # type: ignore[return-value]

    def start_tables(self, sqls: Sequence[str], *, background: bool = False) -> Tables:
        """The first half of :meth:`execute_tables`, on the calling thread: the queries' checks, and the job of
        the core's reader (:attr:`Tables.job`, None when it runs none of them). Run the job with the engine's
        ``run_job`` (armed here) or, with ``background``, as a job
        of ``sqlrl._core.SqliteBackground`` (not armed: it arms each query itself), then :meth:`finish_tables`
        on the same thread gives the results, once no job of its connection runs any more.

        Raises:
            SandboxClosedError: the sandbox was closed.
        """
        if self._closed:
            raise SandboxClosedError("this Sandbox is closed")
        tables = Tables(list(sqls))
        if not self.batches:
            self.prepare_texts(tables.sqls)
            return tables
        t0 = time.perf_counter()
        out = tables.results
        todo = []
        for k, sql in enumerate(tables.sqls):
            if not isinstance(sql, str):
                continue  # execute() says what is wrong with it
            refused = self._refusal(sql)
            if refused is None:
                todo.append(k)
            else:
                out[k] = ExecResult.failure(sql, refused[0], refused[1], elapsed=time.perf_counter() - t0,
                                            engine=self.engine)  # fmt: skip
        if todo:
            try:
                slot = self._pool.get()
            except Exception:  # noqa: BLE001 - execute() says why, query by query
                return tables
            texts = [tables.sqls[k] for k in todo]
            on_reader, job = self._engine.start_many(slot.conn, texts, arm=not background)  # type: ignore[attr-defined]
            if job is not None:
                tables.finish = (slot.conn, texts, [todo[j] for j in on_reader], on_reader)
                tables.job = job
        return tables

    def finish_tables(
        self, tables: Tables, outcome: tuple[list[Any], list[float]] | None = None, *, rest: bool = True
    ) -> list[ExecResult | None]:
        """The results of :meth:`start_tables`' queries, given what its job returned (``(outcomes, seconds)``;
        None: it did not run); the queries the reader did not run go through :meth:`execute` (``rest=False``:
        they are None, for a later call with ``rest=True``, once the connection is free)."""
        out = tables.results
        if outcome is not None and tables.finish is not None:
            conn, texts, where, on_reader = tables.finish
            batch = self._engine.finish_many(conn, texts, on_reader, *outcome)  # type: ignore[attr-defined]
            for k, j in zip(where, on_reader, strict=True):
                out[k] = batch[j]
            tables.finish = None  # read once
        if not rest:
            return list(out)
        return [self.execute(sql, rows=False) if r is None else r for sql, r in zip(tables.sqls, out, strict=True)]

    def execute_many(
        self, sqls: Iterable[str], *, workers: int = 8, progress: bool = False, gold: bool = False
    ) -> list[ExecResult]:
        """Run many queries in parallel on a thread pool; results come back in the order of ``sqls``.

        Args:
            sqls: the queries.
            workers: threads (each with its own pooled connection); ``-1`` = all cores, 1 = serial.
            progress: show a progress bar.
            gold: run through :meth:`execute_gold` (cached).
        """
        sqls = list(sqls)
        workers = resolve_workers(workers if workers == -1 or workers > 1 else 1)
        executor = self._get_executor(workers) if workers > 1 and len(sqls) > 1 else None
        run = self.execute_gold if gold else self.execute
        return parallel_map(run, sqls, workers=workers, progress=progress, desc="sql", executor=executor)

    def execute_gold(self, sql: str) -> ExecResult:
        """Like :meth:`execute`, but cached by (database, normalised SQL): run once per gold query.

        The returned result is shared between callers: do not modify it. Timeouts and other
        transient failures are not cached.
        """
        key = (self._identity, normalize_sql(sql) if isinstance(sql, str) else repr(sql))
        return self._gold_cache.get_or_compute(
            key, lambda: self.execute(sql), keep=lambda r: r.error_kind not in TRANSIENT_ERRORS
        )

    def _get_executor(self, workers: int) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None or self._executor_workers != workers:
                if self._executor is not None:
                    self._executor.shutdown(wait=True)
                self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sqlrl-sandbox")
                self._executor_workers = workers
            return self._executor

    # -- lifetime ----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def gold_cache(self) -> LRUCache:
        return self._gold_cache

    @property
    def connections(self) -> int:
        """How many pooled connections (or worker processes) are open."""
        return len(self._pool)

    def close(self) -> None:
        """Close every pooled connection and worker thread. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        self._pool.close_all()
        self._engine.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        compat = ", sqlite_compat" if self.sqlite_compat else ""
        return f"Sandbox({str(self.source)!r}, engine={self.engine!r}{compat}, {state})"
