"""Running queries on SQLite (stdlib ``sqlite3``), read-only and bounded in time.

A read-only URI alone is not enough: SQLite still runs ``ATTACH 'new.db'`` (creating the
file) and ``VACUUM INTO 'copy.db'`` on a read-only connection. Each connection therefore has:

- ``file:...?mode=ro`` (``uri=True``) and ``PRAGMA query_only=ON``;
- ``SQLITE_LIMIT_ATTACHED = 0`` (no ATTACH at all) and ``SQLITE_LIMIT_LENGTH`` = a quarter of
  ``memory_limit`` (the longest string or blob a query may build; ``Connection.setlimit`` needs
  Python 3.11: on 3.10 the authorizer still refuses ATTACH and the heap limit bounds values);
- ``PRAGMA hard_heap_limit`` = ``memory_limit``: SQLite has no per-connection memory limit, so this
  bounds the heap of *all* SQLite connections of the process together (the pragma can only lower
  it: the smallest ``memory_limit`` of the process's SQLite sandboxes wins);
- an authorizer that allows only reading: SELECT, reads of columns, function calls,
  recursive CTEs and the side-effect-free ``pragma_*`` table functions; every other action
  (writes, ATTACH, transactions, ...) is denied while the statement is prepared, so it never runs;
- ``sqlite3``'s own rule that ``execute`` takes one statement;
- a progress handler (every 1000 VM instructions) that aborts the query past its deadline,
  backed by the shared watchdog calling ``interrupt()`` (with the core's reader, the authorizer and the
  progress handler are its C callbacks, the same rule: :data:`GUARD_RULE`, and the reader answers the
  watchdog's ``poll``; :meth:`SQLiteEngine.start_many` runs a batch in one call); neither fires inside one long function
  call, which the sandbox's query thread covers (:mod:`sqlrl.sandbox.runner`). A query runs on the
  caller's thread instead, saving the hand-off, only when it cannot build a large value: at most
  :data:`INLINE_MAX_SQL` characters, no recursive CTE, and only the functions of
  :data:`INLINE_FUNCTIONS` (the authorizer checks this while the statement is prepared; any other
  query is refused there and then run on the query thread);
- rows fetched in chunks within the deadline and the result budget (:mod:`sqlrl.sandbox.fetch`).

Text that is not valid UTF-8: rows are read with the fast default decoder, and only when
SQLite reports undecodable text is the query run again with a decoder that applies the
sandbox's ``text_errors`` handler (``surrogateescape`` by default, which keeps the original
bytes recoverable with ``s.encode("utf-8", "surrogateescape")``; ``bytes`` returns them raw).
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlrl.sandbox import sqlite_reader
from sqlrl.sandbox.config import SandboxConfig
from sqlrl.sandbox.errors import MissingDatabaseError, NotADatabaseError
from sqlrl.sandbox.fetch import FetchDeadline, ResultTooLarge, fetch_rows
from sqlrl.sandbox.result import ErrorKind, ExecResult
from sqlrl.sandbox.runner import INLINE_FUNCTIONS, INLINE_MAX_SQL
from sqlrl.sandbox.sqlite_reader import sqlite_error
from sqlrl.sandbox.watchdog import begin_query, end_query, wake_if_asleep, watchdog

_ACTIONS = {
    1: "CREATE INDEX",
    2: "CREATE TABLE",
    3: "CREATE TEMP INDEX",
    4: "CREATE TEMP TABLE",
    5: "CREATE TEMP TRIGGER",
    6: "CREATE TEMP VIEW",
    7: "CREATE TRIGGER",
    8: "CREATE VIEW",
    9: "DELETE",
    10: "DROP INDEX",
    11: "DROP TABLE",
    12: "DROP TEMP INDEX",
    13: "DROP TEMP TABLE",
    14: "DROP TEMP TRIGGER",
    15: "DROP TEMP VIEW",
    16: "DROP TRIGGER",
    17: "DROP VIEW",
    18: "INSERT",
    19: "PRAGMA",
    20: "READ",
    21: "SELECT",
    22: "TRANSACTION",
    23: "UPDATE",
    24: "ATTACH",
    25: "DETACH",
    26: "ALTER TABLE",
    27: "REINDEX",
    28: "ANALYZE",
    29: "CREATE VTABLE",
    30: "DROP VTABLE",
    31: "FUNCTION",
    32: "SAVEPOINT",
    33: "RECURSIVE",
}
_READ_ACTIONS = frozenset({20, 21, 31, 33})  # READ, SELECT, FUNCTION, RECURSIVE
_PRAGMA = 19
_UPDATE = 23
#: SQLite asks for UPDATE on these columns of the schema table when it sets up the eponymous virtual
#: table of a pragma function (``pragma_table_info``); nothing is written (the connection is read-only).
_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema"})
#: Pragmas whose table-valued functions (``SELECT * FROM pragma_table_info('t')``) only describe the schema.
SAFE_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "database_list",
        "collation_list",
        "function_list",
        "module_list",
        "pragma_list",
        "compile_options",
    }
)
_SYNTAX_MARKERS = (
    "syntax error",
    "incomplete input",
    "unrecognized token",
    "unterminated",
    "parser stack overflow",
    "expression tree is too large",
)
#: Longest single string or blob a query may build (SQLite's SQLITE_LIMIT_LENGTH).
MAX_VALUE_LENGTH = 1_000_000_000
WATCHDOG_GRACE = 0.15
PROGRESS_STEPS = 1000
_FUNCTION = 31
_RECURSIVE = 33
CACHED_STATEMENTS = 256  # prepared statements kept per connection (sqlite3's cache, and the core reader's)
#: Queries remembered per connection as needing the query thread. Their statements stay in ``sqlite3``'s
#: statement cache (256, prepared without the inline check); remembering more than that keeps a cached
#: statement from being reused on the caller's thread.
GUARDED_MEMO = 1024
_HEAP_LOCK = threading.Lock()


def lower_heap_limit(con: sqlite3.Connection, limit: int) -> int:
    """Lower SQLite's process-wide hard heap limit to ``limit`` bytes (never raise it); returns the limit now."""
    with _HEAP_LOCK:
        current = con.execute("PRAGMA hard_heap_limit").fetchone()[0]
        if current == 0 or current > limit:
            current = con.execute(f"PRAGMA hard_heap_limit = {int(limit)}").fetchone()[0]
        return int(current)


class _Conn:
    """A pooled SQLite connection and its per-query state (deadline, denied actions, inline check)."""

    __slots__ = ("con", "deadline", "guard", "denied", "inline", "needs_thread", "guarded", "reader")

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self.reader: Any = None  # the core's reader of this connection (sqlrl.sandbox.sqlite_reader), if any
        self.deadline = math.inf  # of the running query (the progress handler's and the watchdog's)
        self.guard = threading.Lock()  # held by the watchdog while it interrupts (see sqlrl.sandbox.watchdog)
        self.denied: list[str] = []
        self.inline = False  # preparing on the caller's thread: refuse what must run on the query thread
        self.needs_thread = False
        self.guarded: OrderedDict[str, None] = OrderedDict()

    def progress(self) -> bool:
        return time.monotonic() > self.deadline

    def interrupt(self) -> None:
        self.con.interrupt()

    def poll(self, grace: float) -> int | None:
        """The watchdog's look at a connection whose reader keeps its deadlines (None: read ``deadline``)."""
        return None if self.reader is None else self.reader.poll(grace)

    def authorize(self, action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
        if self.inline and (
            action == _RECURSIVE or (action == _FUNCTION and (arg2 or "").lower() not in INLINE_FUNCTIONS)
        ):
            self.needs_thread = True
            return sqlite3.SQLITE_DENY
        if read_only_authorizer(action, arg1, arg2, db, trigger) == sqlite3.SQLITE_OK:
            return sqlite3.SQLITE_OK
        what = _ACTIONS.get(action, f"action {action}")
        self.denied.append(f"{what} {arg1}" if arg1 else what)
        return sqlite3.SQLITE_DENY


def read_only_authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
    """The sandbox's rule of what a statement may do: read (SELECT, columns, functions, recursive CTEs), the
    schema-describing ``pragma_*`` functions, and nothing else. :meth:`_Conn.authorize` adds its per-query
    state to it; a connection that only prepares statements uses it as it is."""
    if (
        action in _READ_ACTIONS
        or (action == _PRAGMA and arg1 in SAFE_PRAGMAS)
        or (action == _UPDATE and arg1 in _SCHEMA_TABLES and trigger is None)
    ):
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


#: The same rule for the core's reader, which installs it on its connection as C callbacks
#: (:mod:`sqlrl.sandbox.sqlite_reader`): the arguments of ``_core.sqlite_guard_rule``.
GUARD_RULE: dict[str, Any] = {
    "actions": _ACTIONS,
    "read_actions": sorted(_READ_ACTIONS),
    "pragma": _PRAGMA,
    "safe_pragmas": sorted(SAFE_PRAGMAS),
    "update": _UPDATE,
    "schema_tables": sorted(_SCHEMA_TABLES),
    "function": _FUNCTION,
    "recursive": _RECURSIVE,
    "inline_functions": sorted(INLINE_FUNCTIONS),
    "ok": sqlite3.SQLITE_OK,
    "deny": sqlite3.SQLITE_DENY,
    "progress_steps": PROGRESS_STEPS,
}


def core_reader() -> Callable[..., Any] | None:
    """The core's SQLite reader class, guarding its connections with :data:`GUARD_RULE` (None where
    unavailable: :func:`sqlrl.sandbox.sqlite_reader.unavailable_reason` says why)."""
    return sqlite_reader.reader(GUARD_RULE)


def _text_decoder(errors: str) -> Callable[[bytes], Any]:
    if errors == "bytes":

        def decode(b: bytes) -> Any:
            try:
                return b.decode("utf-8")
            except UnicodeDecodeError:
                return b

        return decode
    return lambda b: b.decode("utf-8", errors)


#: Error kinds that :meth:`SQLiteEngine.classify` gives from the exception's class and message alone (when the
#: guard refused nothing): those of other kinds name the sandbox's settings (timeout, memory) or its file.
_SETTLED_BY_MESSAGE = frozenset(
    {ErrorKind.SYNTAX, ErrorKind.RUNTIME, ErrorKind.PERMISSION, ErrorKind.MULTIPLE_STATEMENTS, ErrorKind.NOT_READ_ONLY}
)
_ERRORS_KEPT = 4096  # distinct error messages an engine remembers the classification of


class SQLiteEngine:
    """One SQLite database file, opened read-only; a connection per thread."""

    name = "sqlite"

    def __init__(self, path: Path, config: SandboxConfig) -> None:
        self.path = Path(path).resolve()
        self.config = config
        self.uri = f"file:{quote(str(self.path))}?mode=ro"
        self._decoder = _text_decoder(config.text_errors)
        self._reader = core_reader()
        self.batches = self._reader is not None  # start_many runs batches in the core (else it hands all back)
        # (kind, message) of the reader's errors by (code, SQLite's message), for those no setting decides
        self._errors: dict[tuple[int, str], tuple[ErrorKind, str]] = {}
        try:  # fail now, at open time, on a file that is not a database
            probe = self.connect()
        except sqlite3.Error as e:
            raise MissingDatabaseError(f"cannot open SQLite database {self.path}: {e}") from e
        try:
            probe.con.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlite3.OperationalError as e:  # e.g. locked
            raise MissingDatabaseError(f"cannot open SQLite database {self.path}: {e}") from e
        except sqlite3.DatabaseError as e:  # not a database, or a corrupt one
            raise NotADatabaseError(f"cannot open SQLite database {self.path}: {e}") from e
        finally:
            self.close_conn(probe)

    def connect(self) -> _Conn:
        cfg = self.config
        con = sqlite3.connect(
            self.uri,
            uri=True,
            check_same_thread=False,
            isolation_level=None,
            timeout=min(cfg.timeout, 5.0),
            cached_statements=CACHED_STATEMENTS,
        )
        con.execute("PRAGMA query_only = ON")
        con.execute("PRAGMA trusted_schema = OFF")
        lower_heap_limit(con, cfg.memory_bytes)
        if hasattr(con, "setlimit"):  # Python >= 3.11
            con.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(1_000_000, min(MAX_VALUE_LENGTH, cfg.memory_bytes // 4)))
        state = _Conn(con)
        con.set_authorizer(state.authorize)
        con.set_progress_handler(state.progress, PROGRESS_STEPS)
        if self._reader is not None:
            try:  # the reader replaces the two Python callbacks with the same rule in C
                state.reader = self._reader(con, str(self.path), CACHED_STATEMENTS)
            except ValueError:  # not the handle expected (another SQLite build): Python rows for this connection
                state.reader = None
        watchdog().watch(state, WATCHDOG_GRACE)
        return state

    @staticmethod
    def close_conn(state: _Conn) -> None:
        watchdog().unwatch(state)
        if state.reader is not None:
            state.reader.close()  # its prepared statements first
        state.con.close()

    def close(self) -> None:
        pass

    def run_inline(self, state: _Conn, sql: str, run_sql: str, t0: float, *, rows: bool = True) -> ExecResult | None:
        """Run ``run_sql`` on the calling thread if it cannot build a large value, else return None."""
        guarded = state.guarded
        if len(run_sql) > INLINE_MAX_SQL or run_sql in guarded:
            if run_sql in guarded:
                guarded.move_to_end(run_sql)
            return None
        state.inline, state.needs_thread = True, False
        try:
            result = self.run(state, sql, run_sql, t0, rows=rows)
        finally:
            state.inline = False
        if not state.needs_thread:
            return result
        self._remember_guarded(state, run_sql)
        return None

    @staticmethod
    def _remember_guarded(state: _Conn, run_sql: str) -> None:
        """``run_sql`` needs the query thread on this connection (its statement is cached without the inline check)."""
        state.guarded[run_sql] = None
        if len(state.guarded) > GUARDED_MEMO:
            state.guarded.popitem(last=False)

    def run(self, state: _Conn, sql: str, run_sql: str, t0: float, *, rows: bool = True) -> ExecResult:
        """Run ``run_sql`` on this thread's connection ``state``; with ``rows=False`` the result may hold only
        the core's table, read by the core itself (:mod:`sqlrl.sandbox.sqlite_reader`)."""
        cfg = self.config
        con = state.con
        reader = state.reader
        deadline = time.monotonic() + cfg.timeout
        state.denied.clear()
        if reader is None:
            begin_query(state, deadline)  # the watchdog interrupts it WATCHDOG_GRACE after the deadline
        try:
            if reader is not None:  # its C guard keeps the deadline, for the core's read and for sqlite3's
                reader.arm(cfg.timeout, state.inline)
                wake_if_asleep()
                if not rows:
                    done = self._read_table(state, sql, run_sql, t0, deadline)
                    if done is not None:
                        return done
                    reader.arm(deadline - time.monotonic(), state.inline)
            try:
                columns, rows = self._fetch(con, run_sql, deadline)
            except sqlite3.OperationalError as e:
                if "decode" not in str(e) or cfg.text_errors == "strict":
                    raise
                con.text_factory = self._decoder  # rare: undecodable text; read again, decoding it leniently
                try:
                    columns, rows = self._fetch(con, run_sql, deadline)
                finally:
                    con.text_factory = str
        except Exception as e:  # noqa: BLE001 - every engine error becomes a result
            if reader is not None:  # what its C guard refused (the Python callbacks keep it in state themselves)
                state.needs_thread, state.denied[:] = reader.refused()
            return self._failure(sql, state, e, t0)
        finally:
            if reader is None:
                end_query(state)
            else:
                reader.disarm()
        truncated = len(rows) > cfg.max_rows
        if truncated:
            del rows[cfg.max_rows :]
        return ExecResult(
            sql=sql,
            ok=True,
            columns=columns,
            rows=rows,
            elapsed=time.perf_counter() - t0,
            truncated=truncated,
            engine=self.name,
        )

    def _read_table(self, state: _Conn, sql: str, run_sql: str, t0: float, deadline: float) -> ExecResult | None:
        """The result read into the core's table by the compiled reader; None: fetch Python rows instead."""
        cfg = self.config
        try:
            status, *rest = state.reader.query(run_sql, cfg.max_rows, cfg.max_result_bytes,
                                               max(deadline - time.monotonic(), 0.0), state.inline)  # fmt: skip
        except ValueError:  # the reader was closed or its connection is not open: the Python way says why
            return None
        return self._outcome(state, sql, status, rest, time.perf_counter() - t0)

    def _outcome(self, state: _Conn, sql: str, status: str, rest: list[Any], elapsed: float) -> ExecResult | None:
        """The result of one of the reader's outcomes (:meth:`_read_table`, :meth:`finish_many`); None: ``fallback``."""
        if status == "ok":
            table, columns = rest
            return ExecResult(sql=sql, ok=True, columns=columns, rows=None, elapsed=elapsed,
                              truncated=table.truncated, engine=self.name, _table=table)  # fmt: skip
        if status == "error":
            code, _, message, state.needs_thread, state.denied[:] = rest  # with what the guard refused
            if state.denied:
                return self._failure(sql, state, sqlite_error(code, message), elapsed=elapsed)
            known = self._errors.get((code, message))  # the same mistake, made again
            if known is None:
                known = self.classify(sqlite_error(code, message), state)
                if known[0] in _SETTLED_BY_MESSAGE and len(self._errors) < _ERRORS_KEPT:
                    self._errors[(code, message)] = known
            return ExecResult.failure(sql, known[0], known[1], elapsed=elapsed, engine=self.name)
        if status == "too_large":
            error: BaseException = ResultTooLarge.after(self.config.max_result_bytes, *rest)
        elif status == "deadline":
            error = FetchDeadline("the deadline passed while fetching the result")
        else:
            return None
        return self._failure(sql, state, error, elapsed=elapsed)

    @staticmethod
    def run_job(job: tuple[Any, ...]) -> tuple[list[Any], list[float]] | None:
        """Run a job of :meth:`start_many` (armed) on the calling thread: ``reader.query_many(*job[1:])``, the GIL
        released for all its queries, then disarmed; None: the reader was closed (each query goes its own way)."""
        try:
            return job[0].query_many(*job[1:])
        except ValueError:
            return None
        finally:
            job[0].disarm()

    def start_many(
        self, state: _Conn, sqls: list[str], *, arm: bool = True
    ) -> tuple[list[int], tuple[Any, ...] | None]:
        """The core's tables of ``sqls`` (each run as :meth:`run_inline` would, ``rows=False``) in one call of the
        reader, without the GIL, in three steps: this gives the positions of ``sqls`` the reader runs and its job,
        ``(reader, texts, max_rows, max_bytes, seconds, inline)``, for :meth:`run_job` (armed and the watchdog
        woken) or, with ``arm=False``, for ``sqlrl._core.SqliteBackground`` (which arms each query itself:
        another one may be running on the reader now); ``(todo, None)``: nothing to run. :meth:`finish_many`
        makes the job's results: None for a query the reader did not run (longer than :data:`INLINE_MAX_SQL`,
        needing the query thread, or handed back to ``sqlite3``)."""
        reader = state.reader
        todo = [k for k, sql in enumerate(sqls) if len(sql) <= INLINE_MAX_SQL and sql not in state.guarded]
        if reader is None or not todo:
            return todo, None
        cfg = self.config
        if arm:
            state.needs_thread = False
            try:
                reader.arm(cfg.timeout, True)  # armed before the watchdog is woken (see wake_if_asleep)
            except ValueError:  # the reader was closed: each query goes its own way
                return todo, None
            wake_if_asleep()
        return todo, (reader, [sqls[k] for k in todo], cfg.max_rows, cfg.max_result_bytes, cfg.timeout, True)

    def finish_many(
        self, state: _Conn, sqls: list[str], todo: list[int], outcomes: list[Any], seconds: list[float]
    ) -> list[ExecResult | None]:
        """The last step of :meth:`start_many`: the results of the reader's ``outcomes`` for ``sqls[todo]``."""
        out: list[ExecResult | None] = [None] * len(sqls)
        for k, (status, *rest), elapsed in zip(todo, outcomes, seconds, strict=True):
            result = self._outcome(state, sqls[k], status, rest, elapsed)
            if state.needs_thread:  # the inline check refused it: the query thread runs it
                state.needs_thread = False
                self._remember_guarded(state, sqls[k])
                continue
            out[k] = result
        return out

    def _fetch(self, con: sqlite3.Connection, sql: str, deadline: float) -> tuple[list[str], list[tuple]]:
        cfg = self.config
        cur = con.execute(sql)
        try:
            desc = cur.description
            if desc is None:
                return [], []
            return [d[0] for d in desc], fetch_rows(cur, len(desc), cfg.max_rows, deadline, cfg.max_result_bytes)
        finally:
            cur.close()

    def _failure(
        self, sql: str, state: _Conn, e: BaseException, t0: float = 0.0, *, elapsed: float | None = None
    ) -> ExecResult:
        """The failed result of ``e`` (``elapsed``, else the time since ``t0``)."""
        kind, message = self.classify(e, state)
        elapsed = time.perf_counter() - t0 if elapsed is None else elapsed
        return ExecResult.failure(sql, kind, message, elapsed=elapsed, engine=self.name)

    def classify(self, e: BaseException, state: _Conn) -> tuple[ErrorKind, str]:
        """The error kind and message of a ``sqlite3`` exception."""
        msg = str(e)
        low = msg.lower()
        if isinstance(e, sqlite3.ProgrammingError) and "one statement" in low:
            return ErrorKind.MULTIPLE_STATEMENTS, "more than one statement; exactly one query may run"
        if "interrupted" in low or isinstance(e, FetchDeadline):
            return ErrorKind.TIMEOUT, f"query stopped after the {self.config.timeout:g} s timeout"
        if isinstance(e, ResultTooLarge):
            return ErrorKind.RESOURCE, str(e)
        if state.denied:
            denied = ", ".join(dict.fromkeys(state.denied))
            return ErrorKind.NOT_READ_ONLY, f"only read-only queries may run; refused: {denied} ({msg})"
        if "not authorized" in low:  # e.g. load_extension(), disabled in sqlite3 connections
            return ErrorKind.PERMISSION, msg
        if "readonly database" in low or "read-only" in low:
            return ErrorKind.NOT_READ_ONLY, f"only read-only queries may run ({msg})"
        if any(m in low for m in _SYNTAX_MARKERS):
            return ErrorKind.SYNTAX, msg
        if isinstance(e, MemoryError) or "too big" in low or "out of memory" in low:
            return ErrorKind.RESOURCE, (
                f"query over its memory budget ({self.config.memory_limit}: heap limit, or "
                f"{self.config.memory_bytes // 4:,} bytes per string or blob): {msg or type(e).__name__}"
            )
        if "unable to open database" in low:
            return ErrorKind.MISSING_DATABASE, f"{msg}: {self.path}"
        return ErrorKind.RUNTIME, msg
