"""The execution service: every batch of queries in sqlrl runs here.

Rewards, evaluators, generation and verbal RL hand it ``(database, sql)`` queries and get one
:class:`~sqlrl.sandbox.ExecResult` per query, in order:

- sandboxes are opened on first use and kept, one per ``(database, engine)``, all with the
  service's options; a database that cannot be opened gives ``missing_database`` results (the
  message is remembered until :meth:`ExecutionService.close`);
- each distinct query of a call runs once, whatever the number of times it occurs, unless its
  text looks non-deterministic (``random()``, ``now``, ``current_*``, ...); with ``memo_size`` /
  ``gold_memo_size`` results are also remembered across calls (a prediction equal to a gold
  reuses the gold's result);
- the queries to run go to one thread pool (both engines release the GIL; each thread keeps its
  connection in each sandbox), with one progress bar; with ``workers=None`` SQLite queries that
  take under half a millisecond (DuckDB's: 0.1 ms) run on the calling thread, where a thread
  hand-off costs more than the query. The typical time is the median of the last batches, per
  engine (a moving average of medians): a mean would follow the few queries that waited on a
  thread switch or read a schema first.
  Before any query was timed, the first few of a call run on the calling thread to measure it.
  A service that keeps no rows (the rewards') runs the queries of each SQLite sandbox in batches
  (:meth:`~sqlrl.sandbox.Sandbox.execute_tables`: one call of the core's reader, without the GIL, for
  the queries that may run on the calling thread), split into parts of at least ``_BATCH_CHUNK`` queries
  on the thread pool: a batch's queries run side by side even when each takes 30 us.
- :meth:`~ExecutionService.prefetch` starts queries of a coming call (the rewards: a batch's gold
  queries, then its predictions part by part) on a thread of the core's own, which runs the reader's
  batches without the GIL while the caller goes on (the rewards read the next completions meanwhile);
  :meth:`~ExecutionService.run` with ``ahead=`` takes their results as if it had run them.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar

from sqlrl.sandbox import sqlite_reader
from sqlrl.sandbox.cache import LRUCache
from sqlrl.sandbox.config import SandboxConfig
from sqlrl.sandbox.errors import SandboxClosedError, SandboxError
from sqlrl.sandbox.parallel import parallel_map, resolve_workers
from sqlrl.sandbox.result import ErrorKind, ExecResult
from sqlrl.sandbox.sandbox import Sandbox, Tables
from sqlrl.sandbox.watchdog import wake_if_asleep

__all__ = [
    "SANDBOX_OPTIONS",
    "ExecutionService",
    "Prefetch",
    "check_sandbox_options",
    "did_you_mean",
    "engine_for_dialect",
    "is_sqlite_dialect",
    "nondeterministic",
    "translate_for",
]

PathLike = str | os.PathLike[str]
_Service = TypeVar("_Service", bound="ExecutionService")

#: The keyword options of :class:`~sqlrl.sandbox.Sandbox` (all but the database).
SANDBOX_OPTIONS: tuple[str, ...] = tuple(
    name for name in inspect.signature(Sandbox.__init__).parameters if name not in ("self", "database")
)
_CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(SandboxConfig))
#: Words of query texts whose result may change between two runs: such queries are never shared.
_NONDETERMINISTIC = ("random", "now", "current_", "changes", "last_insert_rowid")  # in the lowercased text
_SERIAL_BELOW = 4  # fewer queries than this run on the calling thread
_PROBE_FIRST = 8  # before any query was timed, this many run on the calling thread to choose for the rest
#: Seconds per query under which queries run on one thread (with workers=None), per engine. SQLite's quick
#: queries hold the GIL for much of their time (the authorizer, the progress handler, building rows), so a
#: thread hand-off costs more than it gains under 0.5 ms; DuckDB spends nearly all of a query inside the
#: engine without the GIL, so two threads already win at its quickest (0.2-0.5 ms on small databases).
_PARALLEL_ABOVE = {"sqlite": 0.0005, "duckdb": 0.0001}
_PARALLEL_ABOVE_DEFAULT = 0.0005
#: Queries of one SQLite database per part of a batch run on its own thread (see ``ExecutionService._run_batches``):
#: a part runs in one call of the core's reader without the GIL, so threads gain even on 30 us queries.
_BATCH_CHUNK = 32


def nondeterministic(sql: Any) -> bool:
    """Whether a query's text looks like its result may change between runs (or it is not text)."""
    if not isinstance(sql, str):
        return True
    low = sql.lower()  # substring tests: several times quicker than one case-insensitive regex
    return any(map(low.__contains__, _NONDETERMINISTIC))


def is_sqlite_dialect(dialect: str | None) -> bool:
    """Whether ``dialect`` names SQLite's dialect (None: a query in the sandbox's own dialect counts as SQLite's).

    >>> is_sqlite_dialect("SQLite3"), is_sqlite_dialect("postgres"), is_sqlite_dialect(None)
    (True, False, True)
    """
    return dialect is None or dialect.strip().lower() in ("sqlite", "sqlite3")


def engine_for_dialect(engine: str | None, dialect: str | None) -> str | None:
    """The engine a query written in ``dialect`` runs on when ``engine`` is not chosen (None or ``auto``):
    DuckDB for every dialect but SQLite's (on a SQLite file: DuckDB over the imported data, whose
    dialect sqlglot writes far better than SQLite's); a chosen engine is kept.

    >>> engine_for_dialect(None, "postgres"), engine_for_dialect("auto", "sqlite")
    ('duckdb', 'auto')
    >>> engine_for_dialect("sqlite", "mysql")
    'sqlite'
    """
    if engine in (None, "auto") and not is_sqlite_dialect(dialect):
        return "duckdb"
    return engine


@lru_cache(maxsize=8192)
def _translate(sql: str, read: str, write: str) -> tuple[str | None, str]:
    from sqlrl.sql.dialects import transpile
    from sqlrl.sql.errors import SqlError

    try:
        return transpile(sql, read=read, write=write, sqlite_compat=False), ""
    except SqlError as e:
        return None, str(e)
    except Exception as e:  # noqa: BLE001 - sqlglot raises odd errors on odd input
        return None, f"cannot translate from {read} to {write}: {e}"


def translate_for(sql: str, dialect: str | None, native: str, engine: str) -> tuple[str | None, str]:
    """``sql``, written in ``dialect``, as the sandbox whose own dialect is ``native`` on ``engine`` runs it:
    ``(text, "")``, or ``(None, why)`` when sqlglot cannot read or write it (memoised).

    A query in the sandbox's own dialect (or ``dialect`` None) is kept as is. Any other dialect is
    transpiled by sqlglot into DuckDB's on DuckDB (also for SQLite data, whose sandbox then applies
    its SQLite-compat settings and rewrites to the DuckDB text), into SQLite's on SQLite.
    """
    if dialect is None:
        return sql, ""
    from sqlrl.sql.dialects import resolve_dialect
    from sqlrl.sql.errors import SqlError

    try:
        read = resolve_dialect(dialect)
    except SqlError as e:
        return None, str(e)
    if read == native:
        return sql, ""
    write = "duckdb" if engine == "duckdb" else native
    if read == write:
        return sql, ""
    return _translate(sql, read, write)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_sandbox_options(options: Mapping[str, Any], valid: Iterable[str] = SANDBOX_OPTIONS) -> None:
    """Fail now on an option no sandbox takes (``TypeError``, naming the valid ones) or a bad value
    (``ValueError`` from :class:`~sqlrl.sandbox.SandboxConfig`), instead of at every query.

    >>> check_sandbox_options({"timout": 2})
    Traceback (most recent call last):
    ...
    TypeError: unknown sandbox option 'timout' (did you mean 'timeout'?); valid options: engine, timeout, \
max_rows, memory_limit, threads, sqlite_compat, sqlite_ties, isolation, fetch, sqlglot_check, text_errors, \
max_sql_length, cache_dir, gold_cache
    """
    valid = list(valid)
    for name in options:
        if name not in valid:
            raise TypeError(
                f"unknown sandbox option {name!r}{did_you_mean(name, valid)}; valid options: {', '.join(valid)}"
            )
    config = {k: v for k, v in options.items() if k in _CONFIG_FIELDS}
    if config.get("cache_dir") is not None:
        config["cache_dir"] = str(config["cache_dir"])
    SandboxConfig(**config)


class ExecutionService:
    """Sandboxes, memos and a thread pool for running many queries; safe to share between threads.

    Args:
        engine: the engine of queries that name none (None: :class:`~sqlrl.sandbox.Sandbox`'s default).
        workers: threads running a call's queries (``-1``: as many as cores). None (default): as
            many as cores while recent queries typically take over 0.5 ms (DuckDB's: 0.1 ms), else the
            calling thread.
        memo_size: results of queries remembered across calls (0: none).
        gold_memo_size: results of gold queries (``run(..., gold=True)``) remembered across calls.
        keep_rows: results keep their Python rows; False keeps only the core's table (what the
            rewards score), which is lighter in memory.
        **sandbox_options: passed to every :class:`~sqlrl.sandbox.Sandbox` (``timeout``,
            ``max_rows``, ``memory_limit``, ``text_errors``, ``cache_dir``, ...); unset ones keep
            the Sandbox defaults.

    Raises:
        TypeError, ValueError: an unknown option or a bad value (at construction, not at the first query).

    >>> with ExecutionService(timeout=2.0) as service:
    ...     service.get("no_such.sqlite", engine="sqlite")
    'cannot open database no_such.sqlite with sqlite: ...'
    """

    def __init__(
        self,
        *,
        engine: str | None = None,
        workers: int | None = None,
        memo_size: int = 0,
        gold_memo_size: int = 0,
        keep_rows: bool = True,
        **sandbox_options: Any,
    ) -> None:
        check_sandbox_options({**sandbox_options, "engine": engine or "auto"})
        if workers is not None:
            resolve_workers(workers)
        self.engine = engine
        self.workers = workers
        self.keep_rows = keep_rows
        self.options = dict(sandbox_options)
        self._opened: dict[tuple[str, str | None], Sandbox | str] = {}
        self._lock = threading.Lock()
        self._memo: LRUCache[ExecResult] = LRUCache(memo_size)
        self._gold_memo: LRUCache[ExecResult] = LRUCache(gold_memo_size)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_width = 0
        self._typical_query: dict[str, float] = {}  # engine -> typical seconds per query (see _observe)
        self.stats = {"executed": 0, "memo_hits": 0}

    # -- sandboxes ---------------------------------------------------------------------------------

    def get(self, database: PathLike, engine: str | None = None) -> Sandbox | str:
        """The sandbox of ``database`` on ``engine`` (default: the service's), or why it cannot be opened (a str)."""
        engine = engine or self.engine
        key = (str(database), engine)
        sb = self._opened.get(key)
        if sb is not None:
            return sb
        with self._lock:
            sb = self._opened.get(key)
            if sb is not None:
                return sb
            engine_option: dict[str, Any] = {} if engine is None else {"engine": engine}
            try:
                sb = Sandbox(key[0], **engine_option, **self.options)
            except (SandboxError, OSError, ValueError) as e:
                on = "" if engine is None else f" with {engine}"
                sb = f"cannot open database {key[0]}{on}: {e}"
            self._opened[key] = sb
            return sb

    def open(self, databases: Iterable[tuple[PathLike, str | None]]) -> None:
        """Open the sandboxes of these ``(database, engine)`` pairs now (see :meth:`get`; a failure is
        remembered). A service on Ray opens them on their actors in one call per actor."""
        for database, engine in databases:
            self.get(database, engine)

    def execute(
        self,
        database: PathLike,
        sql: Any,
        gold: bool = False,
        *,
        engine: str | None = None,
        dialect: str | None = None,
        rows: bool = True,
    ) -> ExecResult:
        """Run one query (through the sandbox's gold cache with ``gold``); never raises for bad SQL or a
        missing database. ``dialect``: the query's dialect when it is not the sandbox's own (see
        :func:`translate_for`; a query sqlglot cannot translate fails as ``transpile``). ``rows=False``: only
        the result's table is needed (see :meth:`Sandbox.execute`; not with ``gold``, whose cache is shared)."""
        sb = self.get(database, engine)
        if isinstance(sb, str):
            return ExecResult.failure(str(sql), ErrorKind.MISSING_DATABASE, sb)
        if dialect is not None and isinstance(sql, str) and sql.strip():
            text, why = translate_for(sql, dialect, sb.dialect, sb.engine)
            if text is None:
                return ExecResult.failure(sql, ErrorKind.TRANSPILE, why, engine=sb.engine)
            sql = text
        return sb.execute_gold(sql) if gold else sb.execute(sql, rows=rows)

    # -- batches -----------------------------------------------------------------------------------

    def run(
        self,
        queries: Sequence[tuple[Any, ...]],
        *,
        gold: bool | Sequence[bool] = False,
        workers: int | None = None,
        progress: bool | None = None,
        desc: str = "sql",
        ahead: Prefetch | Sequence[Prefetch] | None = None,
    ) -> list[ExecResult]:
        """The result of every ``(database, sql)``, ``(database, sql, engine)`` or
        ``(database, sql, engine, dialect)`` query, in order.

        Each distinct query runs once (see the module docs); ``gold`` (for all queries, or a flag per
        query) files the results of gold queries in the gold memo, where later predictions find them too,
        so gold queries and predictions of one batch can run side by side in one call. A query with a
        ``dialect`` other than its sandbox's is translated first (:func:`translate_for`; untranslatable: a
        ``transpile`` failure). ``ahead``: what :meth:`prefetch` started on this thread for this call (a
        handle or several); its queries count as run here.
        """
        flags = [gold] * len(queries) if isinstance(gold, bool) else list(gold)
        if len(flags) != len(queries):
            raise ValueError(f"gold has {len(flags)} flags for {len(queries)} queries")
        out: list[ExecResult | None] = [None] * len(queries)
        groups: dict[tuple[str, str | None, Any], list[int]] = {}
        golden: dict[tuple[str, str | None, Any], bool] = {}  # a text that is a gold query anywhere in the call
        for i, query in enumerate(queries):
            n = len(query)
            engine = (query[2] if n > 2 else None) or self.engine
            dialect = query[3] if n > 3 else None
            if not (engine is None or isinstance(engine, str)) or not (dialect is None or isinstance(dialect, str)):
                raise TypeError(
                    f"a query is (database, sql) or (database, sql, engine) or (database, sql, engine, dialect), "
                    f"got {query!r}"
                )
            sql = query[1]
            if dialect is not None and isinstance(sql, str) and sql.strip():
                sb = self.get(query[0], engine)
                if not isinstance(sb, str):  # a Sandbox, or what an actor opened (RayExecutionService)
                    text, why = translate_for(sql, dialect, sb.dialect, sb.engine)
                    if text is None:
                        out[i] = ExecResult.failure(sql, ErrorKind.TRANSPILE, why, engine=sb.engine)
                        continue
                    sql = text
            key = (str(query[0]), engine, sql if isinstance(sql, str) else _Unshared(sql))
            where = groups.get(key)
            if where is None:
                groups[key] = [i]
                golden[key] = flags[i]
            else:
                where.append(i)
                golden[key] = golden[key] or flags[i]
        # a gold query is looked up among gold results; a prediction among predictions', then golds' (a
        # prediction that is its gold's text); a non-deterministic text is never kept
        keys = list(groups)
        hits = dict(zip(keys, self._gold_memo.get_many(keys), strict=True))
        own = [key for key in keys if not golden[key]]
        hits.update((key, hit) for key, hit in zip(own, self._memo.get_many(own), strict=True) if hit is not None)
        todo: dict[tuple[str, str | None, Any], list[int]] = {}
        reused = 0
        for key, where in groups.items():
            hit = hits[key]
            if hit is None:
                if isinstance(key[2], _Unshared) or nondeterministic(key[2]):
                    for i in where:  # runs every time it occurs
                        todo[(key[0], key[1], key[2] if isinstance(key[2], _Unshared) else _Unshared(key[2]))] = [i]
                else:
                    todo[key] = where
                continue
            reused += len(where)
            for i in where:
                out[i] = hit
        with self._lock:
            self.stats["memo_hits"] += reused
            self.stats["executed"] += len(todo)
        early: dict[tuple[str, str | None, Any], ExecResult] = {}
        handles = [ahead] if isinstance(ahead, Prefetch) else list(ahead or ())
        for handle in handles:  # every one over before a connection of theirs serves anything else
            handle.collect()  # (the work above overlapped with them too, and reading each with the next ones)
        for handle in handles:
            early.update(handle.wait())
        if todo:
            run = list(todo)
            rest = [key for key in run if key not in early]
            ran = dict(zip(rest, self._run_all(rest, workers, progress, desc), strict=True)) if rest else {}
            results = [early[key] if key in early else ran[key] for key in run]
            for key, result in zip(run, results, strict=True):
                for i in todo[key]:
                    out[i] = result
            kept = [(key, r) for key, r in zip(run, results, strict=True) if not isinstance(key[2], _Unshared)]
            self._gold_memo.put_many((key, r) for key, r in kept if golden[key])
            self._memo.put_many((key, r) for key, r in kept if not golden[key])
        return out  # type: ignore[return-value]

    def prefetch(
        self, queries: Sequence[tuple[Any, ...]], *, gold: bool = True, after: Iterable[Prefetch] = ()
    ) -> Prefetch:
        """Start queries of a coming :meth:`run` (``(database, sql)`` or ``(database, sql, engine)``) on a thread
        of the core's own and return at once, so that the caller's other work overlaps with them (the rewards
        start a batch's gold queries, then its predictions part by part as they read the completions). Pass
        the handles to that :meth:`run`, on this thread (the queries use this thread's connections), with the
        same queries among its own: they count as run there. ``gold``: whether these are gold queries (looked
        up in the gold memo only); ``after``: earlier handles of the same call, whose queries do not start
        again. Only what SQLite's reader runs in batches starts here (see :meth:`_run_batches`); a memo hit, a
        non-deterministic text, another engine, a service that keeps rows or runs on one thread (``workers=1``)
        leaves it to :meth:`run`."""
        ahead = Prefetch()
        start = sqlite_reader.background()
        if self.keep_rows or self.workers == 1 or start is None:
            return ahead
        seen: set[tuple[str, str | None, Any]] = set().union(*(handle.keys for handle in after))
        wanted: list[tuple[str, str | None, Any]] = []
        for query in queries:
            sql = query[1]
            if len(query) > 3 or not isinstance(sql, str):
                continue  # (a dialect is translated by run())
            key = (str(query[0]), (query[2] if len(query) > 2 else None) or self.engine, sql)
            if key not in seen:
                seen.add(key)
                if not nondeterministic(sql):
                    wanted.append(key)
        keys = [key for key, hit in zip(wanted, self._gold_memo.get_many(wanted), strict=True) if hit is None]
        if not gold:  # a prediction is also looked up among predictions'
            keys = [key for key, hit in zip(keys, self._memo.get_many(keys), strict=True) if hit is None]
        by_sandbox: dict[tuple[str, str | None], list[tuple[str, str | None, Any]]] = {}
        for key in keys:
            by_sandbox.setdefault((key[0], key[1]), []).append(key)
        for where, ks in by_sandbox.items():
            sb = self.get(*where)
            if isinstance(sb, Sandbox) and sb.batches:
                try:
                    ahead.started.append((sb, ks, sb.start_tables([key[2] for key in ks], background=True)))
                except SandboxClosedError:
                    continue
                ahead.keys.update(ks)
        jobs = [tables.job for _, _, tables in ahead.started if tables.job is not None]
        if jobs:
            try:
                ahead.background = start(jobs)
            except ValueError:  # a reader was closed: wait() runs each query its own way
                for _, _, tables in ahead.started:
                    tables.job = None
            else:
                wake_if_asleep()  # the readers count the batches handed over as running (see the watchdog)
        ahead.observe = self._observe
        return ahead

    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], *, workers: int | None = None,
        progress: bool | None = None, desc: str = "",
    ) -> list[Any]:  # fmt: skip
        """``[fn(x) for x in items]`` on the service's threads (see :func:`~sqlrl.sandbox.parallel.parallel_map`)."""
        n = resolve_workers(workers if workers is not None else self.workers, default=resolve_workers(-1))
        return parallel_map(fn, items, workers=n, progress=progress, desc=desc, executor=self._executor(n))

    def _run_one(self, key: tuple[str, str | None, Any]) -> ExecResult:
        db, engine, sql = key
        if isinstance(sql, _Unshared):
            sql = sql.sql
        result = self.execute(db, sql, engine=engine, rows=self.keep_rows)
        return result if self.keep_rows else result.without_rows()

    def _run_all(
        self, keys: list[tuple[str, str | None, Any]], workers: int | None, progress: bool | None, desc: str
    ) -> list[ExecResult]:
        if self.keep_rows:
            self._prepare_texts(keys)
            return self._run_all_one_by_one(keys, workers, progress, desc)
        results = self._run_batches(keys, workers, progress, desc)
        rest = [k for k in range(len(keys)) if k not in results]
        if rest:
            self._prepare_texts([keys[k] for k in rest])
            one_by_one = self._run_all_one_by_one([keys[k] for k in rest], workers, progress, desc)
            results.update(zip(rest, one_by_one, strict=True))
        return [results[k] for k in range(len(keys))]

    def _prepare_texts(self, keys: list[tuple[str, str | None, Any]]) -> None:
        """Each sandbox's texts read ahead on this thread (:meth:`Sandbox.prepare_texts`: DuckDB's SQLite-compat
        rewrites), before the queries run one by one: on a GRPO batch of new texts the reward is about a tenth
        faster than with each text read where it runs, between DuckDB's queries (``benchmarks/ENGINE_COMPAT.md``)."""
        if len(keys) < 2:
            return
        texts: dict[tuple[str, str | None], list[str]] = {}
        for db, engine, sql in keys:
            texts.setdefault((db, engine), []).append(sql.sql if isinstance(sql, _Unshared) else sql)
        for (db, engine), sqls in texts.items():
            sb = self.get(db, engine)
            if isinstance(sb, Sandbox):
                sb.prepare_texts(sqls)

    def _run_batches(
        self, keys: list[tuple[str, str | None, Any]], workers: int | None, progress: bool | None, desc: str
    ) -> dict[int, ExecResult]:
        """Run the queries of sandboxes that run batches (:attr:`Sandbox.batches`: SQLite with the core's reader)
        through :meth:`Sandbox.execute_tables` (many queries per call of the reader, without the GIL), in parts on
        the service's threads; returns their results by position in ``keys`` (the other keys are not run)."""
        sandboxes: dict[tuple[str, str | None], Sandbox | None] = {}
        groups: dict[tuple[str, str | None], list[int]] = {}
        for k, key in enumerate(keys):
            where = (key[0], key[1])
            if where not in sandboxes:
                sb = self.get(*where)
                sandboxes[where] = sb if isinstance(sb, Sandbox) and sb.batches else None
            if sandboxes[where] is not None:
                groups.setdefault(where, []).append(k)
        n = resolve_workers(workers if workers is not None else self.workers, default=resolve_workers(-1))
        here: list[tuple[Sandbox, list[int]]] = []  # the first part of each database: on the calling thread
        away: list[list[tuple[Sandbox, list[int]]]] = [[] for _ in range(n - 1)]  # part j of each: pool job j - 1
        for where, ks in groups.items():
            parts = max(1, min(n, len(ks) // _BATCH_CHUNK))  # a thread per part, each part worth its hand-off
            size = -(-len(ks) // parts)
            pieces = [(sandboxes[where], ks[i : i + size]) for i in range(0, len(ks), size)]
            here.append(pieces[0])  # type: ignore[arg-type]
            for j, piece in enumerate(pieces[1:]):
                away[j].append(piece)  # type: ignore[arg-type]
        jobs = [job for job in away if job]
        results: dict[int, ExecResult] = {}
        if not here:
            return results

        def run(chunks: list[tuple[Sandbox, list[int]]]) -> list[tuple[int, ExecResult]]:
            out = []
            for sb, where in chunks:
                texts = [keys[k][2].sql if isinstance(keys[k][2], _Unshared) else keys[k][2] for k in where]
                out += zip(where, (r.without_rows() for r in sb.execute_tables(texts)), strict=True)
            return out

        if progress:  # every part through the one runner that draws a bar
            chunks = [[chunk] for chunk in here] + [[chunk] for job in jobs for chunk in job]
            for out in self.map(run, chunks, workers=min(n, len(chunks)), progress=progress, desc=desc):
                results.update(out)
        else:
            # The calling thread runs the first part of every database (its connections are open already, and a
            # small batch needs no other thread) while the pool runs the others, part j of every database in one
            # job: a database is opened by at most as many threads as its batch has parts.
            pool = self._executor(n) if jobs else None
            futures = [pool.submit(run, job) for job in jobs] if pool is not None else []
            try:
                results.update(run(here))
            finally:
                for future in futures:
                    results.update(future.result())
        self._observe(list(results.values()))
        return results

    def _run_all_one_by_one(
        self, keys: list[tuple[str, str | None, Any]], workers: int | None, progress: bool | None, desc: str
    ) -> list[ExecResult]:
        automatic = workers is None and self.workers is None
        if automatic and not self._typical_query and len(keys) > _PROBE_FIRST:
            # nothing measured yet: time the first few on this thread, then choose for the rest
            head = [self._run_one(key) for key in keys[:_PROBE_FIRST]]
            self._observe(head)
            return head + self._run_all_one_by_one(keys[_PROBE_FIRST:], workers, progress, desc)
        if automatic and (len(keys) < _SERIAL_BELOW or self._quick({key[1] for key in keys})):
            workers = 1
        results = self.map(self._run_one, keys, workers=workers, progress=progress, desc=desc)
        self._observe(results)
        return results

    def _observe(self, results: list[ExecResult]) -> None:
        """Fold the median time of ``results`` into the typical query time (what :meth:`_quick` reads)."""
        by_engine: dict[str, list[float]] = {}
        for r in results:
            if r.elapsed > 0:
                by_engine.setdefault(r.engine or "", []).append(r.elapsed)
        for engine, seconds in by_engine.items():
            seconds.sort()
            median = seconds[len(seconds) // 2]
            with self._lock:
                last = self._typical_query.get(engine)
                self._typical_query[engine] = median if last is None else 0.8 * last + 0.2 * median

    def _quick(self, engines: set[str | None]) -> bool:
        """Whether recent queries of ``engines`` (None: the sandbox's choice, so every engine seen) typically
        took so little time that one thread is fastest."""
        typical = self._typical_query
        names = typical.keys() if None in engines else engines
        seen = [typical[e] < _PARALLEL_ABOVE.get(e, _PARALLEL_ABOVE_DEFAULT) for e in names if e in typical]
        return bool(seen) and all(seen)

    def _executor(self, workers: int) -> ThreadPoolExecutor | None:
        if workers <= 1:
            return None
        with self._lock:
            if self._pool is None or self._pool_width < workers:
                old, self._pool = self._pool, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sqlrl-exec")
                self._pool_width = workers
                if old is not None:
                    old.shutdown(wait=False)
            return self._pool

    # -- lifetime ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        """The number of sandboxes open."""
        return sum(1 for sb in list(self._opened.values()) if isinstance(sb, Sandbox))

    def clear(self) -> None:
        """Forget every remembered result (e.g. after a database file changed)."""
        self._memo.clear()
        self._gold_memo.clear()

    def close(self) -> None:
        """Close every sandbox and the thread pool and forget failures; the service opens new ones
        when used again (remembered results are kept)."""
        with self._lock:
            opened, self._opened = list(self._opened.values()), {}
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        for sb in opened:
            if isinstance(sb, Sandbox):
                sb.close()

    def __enter__(self: _Service) -> _Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Prefetch:
    """What :meth:`ExecutionService.prefetch` started: :meth:`wait` gives the results by the service's keys."""

    def __init__(self) -> None:
        self.started: list[tuple[Sandbox, list[tuple[str, str | None, Any]], Tables]] = []
        self.keys: set[tuple[str, str | None, Any]] = set()  # (database, engine, sql) of each query started
        self.background: Any = None
        self.observe: Callable[[list[ExecResult]], None] | None = None
        self._results: dict[tuple[str, str | None, Any], ExecResult] | None = None
        self._outcomes: list[Any] | None = None

    def collect(self) -> None:
        """Wait until the started queries are over and read their results, but for the queries the core's reader
        handed back (see :meth:`wait`): while other handles of the call still run on the connections."""
        if self.background is not None and self._outcomes is None:
            self._outcomes = self.background.wait()
            outcomes = iter(self._outcomes)
            for sb, _, tables in self.started:
                if tables.job is not None:
                    sb.finish_tables(tables, next(outcomes), rest=False)

    def wait(self) -> dict[tuple[str, str | None, Any], ExecResult]:
        """The results of the started queries (once they are over), by ``(database, engine, sql)``. A query the
        core's reader handed back runs now on the calling thread's connection: :meth:`collect` every handle of
        a call first (as :meth:`ExecutionService.run` does), so that no other one is running on it."""
        if self._results is not None:
            return self._results
        self.collect()
        results: dict[tuple[str, str | None, Any], ExecResult] = {}
        for sb, keys, tables in self.started:
            results.update(zip(keys, (r.without_rows() for r in sb.finish_tables(tables)), strict=True))  # type: ignore[union-attr]
        self._results = results
        self.started = []
        self.background = None
        if results and self.observe is not None:
            self.observe(list(results.values()))
        return results


class _Unshared:
    """A query text that runs every time it occurs (its result may change between runs)."""

    __slots__ = ("sql",)

    def __init__(self, sql: Any) -> None:
        self.sql = sql
