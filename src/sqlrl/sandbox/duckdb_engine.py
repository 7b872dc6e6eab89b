"""Running queries on DuckDB, read-only and locked down.

Each sandbox opens the database once (``read_only=True``) with a configuration that shuts
every door before any query runs, then locks it:

- ``enable_external_access=false``: no files, no network, no Python replacement scans
  (``read_csv``, ``read_text``, ``glob``, ``COPY``, ``ATTACH`` all fail);
- ``autoinstall_known_extensions=false``, ``autoload_known_extensions=false``,
  ``allow_community_extensions=false``: no extension code;
- ``python_enable_replacements=false``: a query cannot read a variable of the calling frame;
- ``allow_persistent_secrets=false``, ``temp_directory=''`` (nothing spills to disk: a query
  over the memory limit fails instead, as ``resource``);
- ``memory_limit`` and ``threads`` (per database instance, shared by the sandbox's connections;
  DuckDB counts sorts, hash tables and aggregates against it, not the values one scalar function
  builds, such as ``repeat('x', 10^9)``: only ``isolation="process"`` bounds those);
- ``max_execution_time`` (milliseconds in DuckDB 2.0) = the timeout;
- SQLite-compat settings when asked (:data:`SQLITE_COMPAT_SETTINGS`);
- ``lock_configuration=true``, set last, after all of the above.

Each thread then gets a cursor of that connection (its own client context). A query is
first split by DuckDB's own parser (``extract_statements``): exactly one statement of type
SELECT may run, and the parsed statement is executed as it is, so the text is parsed once.
A watchdog calls ``interrupt()`` shortly after the deadline in case ``max_execution_time``
does not fire, and the sandbox's query thread (:mod:`sqlrl.sandbox.runner`) walks away from a
single step that ignores both; a short query that calls only simple functions runs on the caller's
thread instead (:meth:`DuckDBEngine.run_inline`), saving the hand-off. Rows are fetched in chunks
within the deadline and the result budget
(:mod:`sqlrl.sandbox.fetch`) (``enable_external_access`` and ``lock_configuration`` are set with ``SET``
right after opening: DuckDB refuses ``temp_directory`` in the same startup configuration as
``enable_external_access=false``). One configuration per database file and process: a
second sandbox on the same file shares DuckDB's instance if its settings are equal, and
gets a clear :class:`SandboxError` if they differ.

Result paths (``fetch=``), measured on one thread, DuckDB 2.0, including building the
scoring core's table (``sqlrl.scoring.as_table``):

======================================  ============  =============
query                                   ``"rows"``    ``"arrow"``
======================================  ============  =============
``count(*)`` on a 40-row table          0.35 ms       0.47 ms
40 rows x 3 columns                     0.41 ms       0.49 ms
join + group by, 11 rows                1.04 ms       1.32 ms
1,000 rows x 6 columns of 100k          3.4 ms        1.6 ms
100,000 rows x 6 columns                137 ms        27 ms
======================================  ============  =============

``"rows"`` (the default): ``execute`` then ``fetchmany(max_rows + 1)``; the result streams,
so a huge result is never materialised, and the extra row sets ``truncated``. It wins on
Spider-size results, where the Python relation layer of ``"arrow"`` costs a second bind.
``"arrow"``: ``con.sql(statement)`` read through the Arrow C stream by
``as_table(relation, max_rows=..., max_bytes=...)``, which stops after ``max_rows`` rows and sets
the table's ``truncated``, and fails as ``resource`` once the cells read exceed the result budget
(``SandboxConfig.max_result_bytes``, as the rows path does); no Python row objects are made, so it
wins from ~1,000 rows on. DuckDB builds each Arrow batch (up to a million rows) outside its
``memory_limit`` before the reader sees it: a query selecting many huge cells can take more memory
than the budget for a moment; ``isolation="process"`` caps that too.
Wrapping the query as ``SELECT * FROM (<sql>) LIMIT n`` was not used: it breaks on trailing
comments and renames duplicate column names.
"""

from __future__ import annotations

import bisect
import inspect
import operator
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlrl._core import CallNames
from sqlrl.sandbox.cache import LRUCache
from sqlrl.sandbox.config import SandboxConfig
from sqlrl.sandbox.errors import MissingDatabaseError, SandboxError
from sqlrl.sandbox.fetch import FetchDeadline, ResultTooLarge, fetch_rows
from sqlrl.sandbox.result import ErrorKind, ExecResult
from sqlrl.sandbox.runner import INLINE_FUNCTIONS, INLINE_MAX_SQL
from sqlrl.sandbox.watchdog import watchdog
from sqlrl.sql.bare_columns import may_have_bare_columns
from sqlrl.sql.sqlite_compat import (
    BARE_COLUMN_ERROR,
    AffinitySchema,
    has_token_rewrites,
    rewrite_affinity,
    rewrite_bare_columns,
    rewrite_compound_order,
    rewrite_double_quoted,
    rewrite_join_without_on,
    rewrite_rowid,
    rewrite_tie_break,
    rewrite_tokens,
    rowid_note,
    sqlite_column,
)

#: DuckDB settings that make results on SQLite-origin data match SQLite's
#: (measured in ``benchmarks/ENGINE_COMPAT.md``).
SQLITE_COMPAT_SETTINGS: dict[str, Any] = {
    "integer_division": True,  # 7 / 2 = 3 on integers, as in SQLite
    "default_null_order": "nulls_first_on_asc_last_on_desc",  # SQLite: NULL is the smallest value
    "error_on_division_by_zero": False,  # x / 0 and x % 0 -> NULL
    "ieee_floating_point_ops": False,  # 1.0 / 0 -> NULL rather than inf
    "order_by_non_integer_literal": True,  # ORDER BY 'x' sorts by a constant, as in SQLite (not an error)
}  # plus the query rewrites of sqlrl.sql.sqlite_compat (double-quoted strings, type affinity, LIKE, CAST types,
# bare columns)

_OPEN_LOCK = threading.Lock()

#: Distinct queries whose SQLite reading each engine remembers (:meth:`DuckDBEngine.sqlite_text`).
SQLITE_TEXT_CACHE_SIZE = 4096

#: DuckDB's messages for a type it will not convert implicitly (text against numbers): the query is then
#: read with SQLite's affinity rules (:func:`~sqlrl.sql.sqlite_compat.rewrite_affinity`) and run again.
TYPE_ERRORS = (
    "Cannot compare values of type",
    "No function matches the given name and argument types",
    "Could not choose a best candidate function",
    "Could not convert string",
    "an explicit cast is required",
)

#: How long after the timeout the watchdog interrupts a query that DuckDB did not stop itself.
WATCHDOG_GRACE = 0.15

#: Pattern matches run on the query thread (as SQLite's ``like``, which its authorizer reports): backtracking over
#: ``%`` and ``*`` costs up to a cell's length times the pattern's in one step.
_PATTERN_WORDS = frozenset({"like", "ilike", "glob", "similar"})

#: Names a query may put before ``(`` and still run on the caller's thread: the simple functions both engines
#: share (:data:`~sqlrl.sandbox.runner.INLINE_FUNCTIONS`), those the SQLite-compat rewrites write (linear, no
#: larger than their arguments), type names with a size (``DECIMAL(10, 2)``) and keywords that open a
#: parenthesis without calling anything (``IN (``, ``EXISTS (``, ``AS (``, ``OVER (``, ...).
DUCKDB_INLINE_NAMES = INLINE_FUNCTIONS | frozenset(
    {
        *("cast", "try_cast", "any_value", "arg_max", "arg_min", "translate", "starts_with", "epoch", "extract"),
        *("regexp_full_match", "regexp_extract", "regexp_matches", "date_part", "first", "last"),  # RE2: linear
        *("decimal", "numeric", "varchar"),
        *("in", "exists", "as", "over", "filter", "from", "join", "using", "on", "where", "and", "or", "not"),
        *("select", "all", "any", "some", "by", "then", "else", "when", "case", "between", "having", "is"),
        *("distinct", "union", "intersect", "except", "limit", "offset", "end", "within"),
    }
)
#: :func:`_calls_listed` of :func:`_code_only` in the compiled core, for ASCII texts (the Python reading, which it
#: matches, reads the others, and every text with ``compiled=False`` in :meth:`DuckDBEngine._runs_inline`).
_CALL_NAMES = CallNames(sorted(DUCKDB_INLINE_NAMES))


def lockdown_settings(config: SandboxConfig, compat: bool) -> dict[str, Any]:
    """The configuration a sandboxed DuckDB database is opened with.

    ``enable_external_access=false`` and ``lock_configuration=true`` are not in it: they are
    set right after opening, in that order (DuckDB refuses ``temp_directory`` in the same
    startup configuration as ``enable_external_access=false``).
    """
    settings: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "allow_persistent_secrets": False,
        "python_enable_replacements": False,
        "temp_directory": "",
        "memory_limit": config.memory_limit,
        "threads": config.threads,
        "max_execution_time": config.timeout_ms,
        "allowed_configs": ["enable_progress_bar"],
    }
    if compat:
        settings.update(SQLITE_COMPAT_SETTINGS)
    return settings


def classify(e: BaseException) -> ErrorKind:
    """The error kind of a DuckDB exception."""
    import duckdb

    if isinstance(e, (duckdb.ParserException, duckdb.SyntaxException)):
        return ErrorKind.SYNTAX
    if isinstance(e, (duckdb.InterruptException, FetchDeadline)) or "INTERRUPT Error" in str(e):
        return ErrorKind.TIMEOUT  # (the Arrow path reports an interrupt through the stream's error text)
    if isinstance(e, (duckdb.OutOfMemoryException, MemoryError, ResultTooLarge)):
        return ErrorKind.RESOURCE
    if isinstance(e, duckdb.PermissionException):
        return ErrorKind.PERMISSION
    msg = str(e)
    if "read-only mode" in msg or "read only mode" in msg:
        return ErrorKind.NOT_READ_ONLY
    if "Arrow Appender" in msg and "exceeds" in msg:
        return ErrorKind.RESOURCE  # an Arrow batch over DuckDB's 2 GB string buffer: a result too large
    if isinstance(e, (duckdb.FatalException, duckdb.InternalException)) or "invalidated" in msg:
        return ErrorKind.INTERNAL
    return ErrorKind.RUNTIME


def _arrow_table_builder() -> Any:
    """``sqlrl.scoring.as_table`` when it can cap rows and bytes while reading an Arrow stream, else None."""
    try:
        from sqlrl.scoring import as_table
    except ImportError:
        return None
    try:
        params = inspect.signature(as_table).parameters
    except (TypeError, ValueError):
        return None
    return as_table if {"max_rows", "max_bytes"} <= set(params) else None


class DuckDBEngine:
    """One read-only, locked-down DuckDB database; hands out a cursor per thread."""

    name = "duckdb"

    def __init__(self, path: Path, config: SandboxConfig, *, compat: bool, sqlite_source: Path | None = None) -> None:
        self.path = Path(path)
        self.sqlite_source = sqlite_source  # the SQLite file this copy was imported from (sqlite_ties asks its plans)
        self._plans: Any = None  # a read-only SQLite connection to that file, for EXPLAIN QUERY PLAN
        self.config = config
        self.compat = compat
        self._lock = threading.Lock()
        self._closing = False  # close() was called while a cursor was still busy (an abandoned query)
        self._root = self._open_root()
        self._as_table = _arrow_table_builder() if config.fetch == "arrow" else None
        self._schema: dict[str, list[str]] | None = None  # table -> columns, read on the first compat query
        self._affinity: AffinitySchema | None = None  # the columns' SQLite types, read with the schema
        self._rowids: dict[str, str] | None = None  # table -> how SQLite's rowid reads (importer comments)
        self._tables: frozenset[str] | None = None  # base tables (sqlite_ties)
        self._sqlite_texts: LRUCache[str] = LRUCache(SQLITE_TEXT_CACHE_SIZE)
        self._prepared: LRUCache[str] = LRUCache(SQLITE_TEXT_CACHE_SIZE)  # the texts DuckDB runs (prepare)
        self._type_retries: LRUCache[bool] = LRUCache(SQLITE_TEXT_CACHE_SIZE)  # texts re-read after a type error
        self._bare_retries: LRUCache[bool] = LRUCache(SQLITE_TEXT_CACHE_SIZE)  # texts rewritten for bare columns
        self._inline: LRUCache[bool] = LRUCache(SQLITE_TEXT_CACHE_SIZE)  # texts that may run on the caller's thread
        self._views: frozenset[str] | None = None  # lower-case view names (a view may call any function)

    def _open_root(self) -> Any:
        import duckdb

        with _OPEN_LOCK:  # two sandboxes opening one file share DuckDB's instance: lock it once
            root = self._connect(duckdb)
            try:
                locked, external = root.execute(
                    "SELECT current_setting('lock_configuration'), current_setting('enable_external_access')"
                ).fetchone()
                if not locked:
                    root.execute("SET enable_external_access = false")
                    root.execute("SET lock_configuration = true")  # last: nothing can change after this
                elif external:
                    raise SandboxError(
                        f"{self.path} is open in this process with a locked configuration that allows "
                        f"external access; refusing to run sandboxed queries on it"
                    )
            except BaseException:
                root.close()
                raise
        return root

    def _connect(self, duckdb: Any) -> Any:
        try:
            return duckdb.connect(str(self.path), read_only=True, config=lockdown_settings(self.config, self.compat))
        except duckdb.ConnectionException as e:
            if "different configuration" in str(e):
                raise SandboxError(
                    f"{self.path} is already open in this process with other DuckDB settings (another "
                    f"Sandbox with a different timeout, memory_limit, threads or sqlite_compat, or your own "
                    f"duckdb.connect). DuckDB allows one configuration per database file and process: "
                    f"close the other connection or use the same settings. ({e})"
                ) from e
            raise
        except duckdb.IOException as e:
            raise MissingDatabaseError(f"cannot open DuckDB database {self.path}: {e}") from e

    def connect(self) -> Any:
        with self._lock:
            con = self._root.cursor()
        con.execute("SET enable_progress_bar = false")  # the one setting left changeable (allowed_configs)
        return con

    def close_conn(self, con: Any) -> None:
        con.close()
        if self._closing:  # the last abandoned query has returned: the database can be closed now
            self.close()

    def close(self) -> None:
        with self._lock:
            if self._plans is not None:
                self._plans.close()
                self._plans = None
            try:
                self._root.close()
            except Exception:  # noqa: BLE001 - DuckDB refuses while an abandoned query still runs on a cursor
                self._closing = True
            else:
                self._closing = False

    def schema(self) -> dict[str, list[str]]:
        """Table (and view) name -> column names of this database, read once."""
        if self._schema is None:
            with self._lock:
                if self._schema is None:
                    schema: dict[str, list[str]] = {}
                    types: dict[str, dict] = {}
                    cur = self._root.cursor()
                    try:
                        rows = cur.execute(
                            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
                            "WHERE NOT internal"
                        ).fetchall()
                    finally:
                        cur.close()
                    for table, column, data_type, comment in rows:
                        schema.setdefault(table, []).append(column)
                        types.setdefault(table, {})[column] = sqlite_column(data_type, comment)
                    cur = self._root.cursor()
                    try:
                        notes = cur.execute("SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal")
                        rowids = {t: n for t, c in notes.fetchall() if (n := rowid_note(c)) is not None}
                    finally:
                        cur.close()
                    self._rowids = rowids
                    self._affinity = AffinitySchema(types)
                    self._schema = schema
        return self._schema

    def affinity(self) -> AffinitySchema:
        """The SQLite types of this database's columns (the importer's column comments), read once."""
        if self._affinity is None:
            self.schema()
        return self._affinity

    def sqlite_text(self, sql: str) -> str:
        """``sql`` as SQLite reads it, made explicit for DuckDB (``sqlite_compat`` only).

        A double-quoted name that is no column in its scope becomes a string literal
        (:func:`~sqlrl.sql.sqlite_compat.rewrite_double_quoted`, against this database's schema); compound
        operators get SQLite's left-to-right order and joins without ON or USING get ``ON TRUE``
        (:func:`~sqlrl.sql.sqlite_compat.rewrite_compound_order`,
        :func:`~sqlrl.sql.sqlite_compat.rewrite_join_without_on`); then
        text and numbers that meet in comparisons and arithmetic follow SQLite's type affinity
        (:func:`~sqlrl.sql.sqlite_compat.rewrite_affinity`, against the columns' SQLite types). A text
        without a double quote that the affinity pre-check (:meth:`AffinitySchema.candidate`, one tokenization
        and pass, in the compiled core for ASCII texts) lets pass is not read further; the others are read once
        (from tokens where the text is a plain SELECT, else by a sqlglot parse). Either answer is kept (LRU, per
        database) so that a query repeated in a batch is neither checked nor read again.
        """
        if not self.compat:
            return sql
        cached = self._sqlite_texts.get(sql)
        if cached is not None:
            return cached
        quoted = '"' in sql
        affinity = self.affinity()
        text = (rewrite_double_quoted(sql, self.schema()) or sql) if quoted else sql
        text = rewrite_compound_order(text) or text  # each: a substring test first, tokens only if it passes
        text = rewrite_join_without_on(text) or text
        if self._rowids is None:
            self.schema()
        text = rewrite_rowid(text, self._rowids, self.schema()) or text  # a regex test first
        if affinity.candidate(text):
            text = rewrite_affinity(text, affinity) or text
        self._sqlite_texts.put(sql, text)  # also a text left as it is: the next run skips the pre-check
        return text

    def prepare(self, sql: str) -> str:
        """The text DuckDB runs for ``sql``: with ``sqlite_compat``, the SQLite reading of double-quoted
        names and of type affinity (:meth:`sqlite_text`), with ``sqlite_ties`` SQLite's order of tied rows
        (:func:`~sqlrl.sql.sqlite_compat.rewrite_tie_break`), bare columns
        (:func:`~sqlrl.sql.sqlite_compat.rewrite_bare_columns`, where they may be), then
        :func:`~sqlrl.sql.sqlite_compat.rewrite_tokens`. Found once per text, before its first run."""
        if not self.compat:
            return sql
        prepared = self._prepared.get(sql)
        if prepared is None:
            prepared = self._final(sql, self.sqlite_text(sql))
            self._prepared.put(sql, prepared)
        return prepared

    def _final(self, sql: str, text: str) -> str:
        """The text DuckDB runs for ``sql`` whose SQLite reading is ``text``: SQLite's order of tied rows
        (:meth:`_tied`), bare columns as SQLite reads them where the pre-check
        (:func:`~sqlrl.sql.bare_columns.may_have_bare_columns`, no parse) finds that there may be one, then the
        token rewrites (:meth:`_tokens`). A bare column that the pre-check misses is rewritten after DuckDB's
        binder error (:meth:`run`)."""
        text = self._tied(text)
        if may_have_bare_columns(text):
            self._bare_retries.put(sql, True)  # read here: a binder error later would give the same rewrite
            text = rewrite_bare_columns(text) or text  # the ORDER BY's tie-breakers are grouped keys
        return self._tokens(sql, text)

    @staticmethod
    def _tokens(sql: str, text: str) -> str:
        """``text`` (``sql`` after the other compat rewrites) through
        :func:`~sqlrl.sql.sqlite_compat.rewrite_tokens` where ``sql`` itself may need it: those rewrites add
        nothing it changes but casts of numbers to DOUBLE or BIGINT (see
        :func:`~sqlrl.sql.sqlite_compat.has_token_rewrites`), so the tokens of most texts are never read."""
        return rewrite_tokens(text) if has_token_rewrites(sql) else text

    def _tied(self, text: str) -> str:
        """``text`` with SQLite's order of tied rows made explicit (``sqlite_ties``), else as it is."""
        if not self.config.sqlite_ties:
            return text
        return rewrite_tie_break(text, self.base_tables(), groups_sorted=self._groups_sorted(text)) or text

    def _groups_sorted(self, text: str) -> bool | None:
        """Whether SQLite sorts the groups of ``text`` (a temp B-tree for its GROUP BY) or reads them in the
        order of an index or of the table (False), from ``EXPLAIN QUERY PLAN`` on the SQLite file this copy came
        from; None when unknown (no such file, no GROUP BY, more than one, or SQLite cannot prepare it).
        Preparing runs nothing: the connection is read-only, ``query_only`` and its authorizer allows reads only."""
        if self.sqlite_source is None or len(re.findall(r"(?i)\bgroup\s+by\b", text)) != 1:
            return None
        import sqlite3

        with self._lock:
            try:
                if self._plans is None:
                    from sqlrl.sandbox.sqlite_engine import read_only_authorizer

                    uri = f"file:{quote(str(self.sqlite_source))}?mode=ro"
                    con = sqlite3.connect(uri, uri=True, check_same_thread=False)
                    con.execute("PRAGMA query_only = ON")
                    con.set_authorizer(read_only_authorizer)
                    self._plans = con
                rows = self._plans.execute("EXPLAIN QUERY PLAN " + text).fetchall()
            except Exception:  # noqa: BLE001 - not SQLite's SQL, or the file is gone: unknown
                return None
        return any("TEMP B-TREE FOR GROUP BY" in str(r[-1]) for r in rows)

    def base_tables(self) -> frozenset[str]:
        """The names of this database's tables (not views): those that have DuckDB's ``rowid``, read once."""
        if self._tables is None:
            with self._lock:
                cur = self._root.cursor()
                try:
                    query = "SELECT table_name FROM duckdb_tables() WHERE NOT internal"
                    names = [r[0] for r in cur.execute(query).fetchall()]
                finally:
                    cur.close()
                self._tables = frozenset(names)
        return self._tables

    def run(self, con: Any, sql: str, run_sql: str, t0: float, *, rows: bool = True) -> ExecResult:
        """Run ``run_sql`` (``sql`` after any compat rewrite, see :meth:`prepare`) on this thread's cursor ``con``.
        ``rows`` is not read: the ``fetch`` setting decides between Python rows and the Arrow table.

        With ``sqlite_compat``, a query DuckDB refuses for a column that is neither grouped nor
        aggregated (SQLite allows it) is rewritten once by :func:`~sqlrl.sql.sqlite_compat.rewrite_bare_columns`
        and run again; if that fails too, the original error is returned. A rewrite that ran is kept as the
        text's prepared form, so later runs of the same text (from :meth:`prepare`) skip the failing one.
        """
        result = self._run(con, sql, run_sql, t0)
        if not self.compat or result.error_kind is not ErrorKind.RUNTIME:
            return result
        text = self.sqlite_text(sql)
        if any(marker in result.error for marker in TYPE_ERRORS) and self._type_retries.get(sql) is None:
            # the pre-check let it pass (two columns of different types meeting, not a literal): parse it now
            forced = rewrite_affinity(text, self.affinity())
            self._type_retries.put(sql, True)  # tried once: a text that still fails is not parsed again
            if forced is not None:
                final = self._final(sql, forced)
                retry = self._run(con, sql, final, t0)
                if retry.ok:
                    self._sqlite_texts.put(sql, forced)  # the next run goes straight to it
                    self._prepared.put(sql, final)
                    return retry
                text = forced
        if BARE_COLUMN_ERROR in result.error and self._bare_retries.get(sql) is None:
            self._bare_retries.put(sql, True)  # tried once: a text whose rewrite fails too is not parsed again
            rewritten = rewrite_bare_columns(self._tied(text))  # the ORDER BY's tie-breakers are grouped keys
            if rewritten is not None:
                final = self._tokens(sql, rewritten)
                retry = self._run(con, sql, final, t0)
                if retry.ok:
                    self._prepared.put(sql, final)  # the next run of this text goes straight to it
                    return retry
        return result

    def run_inline(self, con: Any, sql: str, run_sql: str, t0: float, *, rows: bool = True) -> ExecResult | None:
        """Run ``run_sql`` on the calling thread if it cannot spend long in one engine step, else return None.

        Such a query is at most :data:`~sqlrl.sandbox.runner.INLINE_MAX_SQL` characters as written (the compat
        rewrites lengthen it with calls of the list only), and everything the text that runs calls
        is in :data:`DUCKDB_INLINE_NAMES`: after DuckDB's own tokenizer (comments dropped), every word or
        quoted name followed by ``(`` is a name of that list (table functions such as ``range(...)``, aliases
        with column lists, quoted names and ``WITH RECURSIVE`` all fail this), it has no pattern match
        (``LIKE``, ``GLOB``, ``SIMILAR TO``, ``~~``), and it names no view (whose body may call anything).
        DuckDB checks its interrupt between vectors, so such a query stops at its deadline on this thread too;
        the rest runs on the connection's query thread, which can walk away.
        """
        if len(sql) > INLINE_MAX_SQL:
            return None
        return self.run(con, sql, run_sql, t0, rows=rows) if self._inline_verdict(run_sql) else None

    def prepare_many(self, sqls: list[str]) -> None:
        """Read each text as :meth:`execute` will (:meth:`prepare`, and whether it may run on the caller's
        thread) before any of them runs: the Python work of a batch done together, not between DuckDB's
        queries (measured in ``benchmarks/ENGINE_COMPAT.md``). Nothing runs; the answers are cached. A text
        whose reading fails is left to :meth:`Sandbox.execute`, which reports it as that query's result."""
        for sql in sqls:
            try:
                run_sql = self.prepare(sql)
                if len(sql) <= INLINE_MAX_SQL:
                    self._inline_verdict(run_sql)
            except Exception:  # noqa: BLE001 - never raise for a query: execute() says what went wrong
                continue

    def _inline_verdict(self, run_sql: str) -> bool:
        verdict = self._inline.get(run_sql)
        if verdict is None:
            verdict = self._runs_inline(run_sql)
            self._inline.put(run_sql, verdict)
        return verdict

    def _runs_inline(self, text: str, *, compiled: bool = True) -> bool:
        low = text.lower()
        if "~" in text:  # the ~~ operators of LIKE and GLOB, and regular expressions (or a ~ in a string)
            return False
        views = self.views()
        # most texts: only the tokens before `(` are read
        check_words = bool(views) or "recursive" in low or any(w in low for w in _PATTERN_WORDS)
        if not check_words and text.isascii():
            listed = _CALL_NAMES.listed(text) if compiled else None  # the two steps below, compiled
            if listed is None:
                code = _code_only(text)
                listed = None if code is None else _calls_listed(code)
            if listed is not None:
                return listed
        import duckdb

        try:
            tokens = duckdb.tokenize(text)
        except Exception:  # noqa: BLE001 - text DuckDB cannot tokenize fails on the query thread
            return False
        kinds = duckdb.token_type
        words = (kinds.identifier, kinds.keyword)
        previous = None  # (kind, start) of the last token that is no comment
        for pos, kind in tokens:
            if kind == kinds.comment:
                continue
            if kind == kinds.operator and text.startswith("(", pos) and previous is not None:
                before_kind, before = previous
                if before_kind in words:
                    name = _token_text(text, tokens, before)
                    if name.lower() not in DUCKDB_INLINE_NAMES:
                        return False  # a call of a function not on the list, of a quoted name, or an alias's columns
                elif before_kind != kinds.operator:
                    return False  # a string or a number before `(`
            elif check_words and kind in words:
                name = _token_text(text, tokens, pos).lower()
                if name == "recursive" or name in _PATTERN_WORDS or name.strip('"') in views:
                    return False
            previous = (kind, pos)
        return True

    def views(self) -> frozenset[str]:
        """The lower-case names of this database's views, read once."""
        if self._views is None:
            with self._lock:
                cur = self._root.cursor()
                try:
                    rows = cur.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
                finally:
                    cur.close()
                self._views = frozenset(r[0].lower() for r in rows)
        return self._views

    def _run(self, con: Any, sql: str, run_sql: str, t0: float) -> ExecResult:
        import duckdb

        cfg = self.config
        try:
            statements = con.extract_statements(run_sql)
        except Exception as e:  # noqa: BLE001 - a parse error is a result, not an exception
            return self._failure(sql, classify(e), e, t0)
        if not statements:
            return self._failure(sql, ErrorKind.EMPTY, "no SQL statement in the text", t0)
        if len(statements) > 1:
            return self._failure(
                sql,
                ErrorKind.MULTIPLE_STATEMENTS,
                f"{len(statements)} statements; exactly one query may run",
                t0,
            )
        statement = statements[0]
        if statement.type != duckdb.StatementType.SELECT:
            kind = statement.type.name
            return self._failure(
                sql,
                ErrorKind.NOT_READ_ONLY,
                f"only read-only queries may run; got a statement of type {kind}",
                t0,
            )
        dog = watchdog()
        deadline = time.monotonic() + cfg.timeout
        token = dog.arm(deadline + WATCHDOG_GRACE, con.interrupt)
        try:
            if self._as_table is not None:
                return self._run_arrow(con, sql, statement, t0)
            con.execute(statement)
            columns = [d[0] for d in con.description]
            rows = fetch_rows(con, len(columns), cfg.max_rows, deadline, cfg.max_result_bytes)
        except Exception as e:  # noqa: BLE001
            if isinstance(e, (FetchDeadline, ResultTooLarge)):
                _drop_result(con)
            return self._failure(sql, classify(e), e, t0)
        finally:
            dog.disarm(token)
        truncated = len(rows) > cfg.max_rows
        if truncated:
            del rows[cfg.max_rows :]
            _drop_result(con)
        return ExecResult(
            sql=sql,
            ok=True,
            columns=columns,
            rows=rows,
            elapsed=time.perf_counter() - t0,
            truncated=truncated,
            engine=self.name,
        )

    def _run_arrow(self, con: Any, sql: str, statement: Any, t0: float) -> ExecResult:
        relation = con.sql(statement)
        try:
            table = self._as_table(relation, max_rows=self.config.max_rows, max_bytes=self.config.max_result_bytes)
        except Exception as e:
            _drop_result(con)  # a half-read stream would block the connection's next query
            if isinstance(e, MemoryError):  # the core's ResultTooLarge: over the result budget, as on the rows path
                raise ResultTooLarge(str(e)) from None
            raise
        return ExecResult(
            sql=sql,
            ok=True,
            columns=list(relation.columns),
            rows=None,
            elapsed=time.perf_counter() - t0,
            truncated=bool(getattr(table, "truncated", False)),
            engine=self.name,
            _table=table,
        )

    def _failure(self, sql: str, kind: ErrorKind, error: object, t0: float) -> ExecResult:
        message = str(error)
        if kind is ErrorKind.RESOURCE and not isinstance(error, ResultTooLarge):
            message = f"query over its memory budget ({self.config.memory_limit}): {message}"
        if kind is ErrorKind.TIMEOUT:
            message = f"query stopped after the {self.config.timeout:g} s timeout ({message})"
        return ExecResult.failure(sql, kind, message, elapsed=time.perf_counter() - t0, engine=self.name)


#: A string, a quoted name or a comment (an unclosed one is left in place).
_STRING_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|/\*.*?\*/|--[^\n\r]*", re.S)


def _code_only(text: str) -> str | None:
    """``text`` with each string read as ``''``, each quoted name as ``""`` and each comment as a space; None
    where such a reading may differ from DuckDB's (a backslash or ``$``, which open other strings; a quote
    or comment left open), which leaves the text to DuckDB's tokenizer."""
    if "\\" in text or "$" in text:
        return None
    code = _STRING_OR_COMMENT.sub(_blank, text) if any(m in text for m in ("'", '"', "--", "/*")) else text
    if "/*" in code or code.count("'") % 2 or code.count('"') % 2:
        return None
    return code


def _blank(m: re.Match) -> str:
    first = m.group()[0]
    return "''" if first == "'" else '""' if first == '"' else " "


def _calls_listed(code: str) -> bool:
    """:meth:`DuckDBEngine._runs_inline`'s reading of an ASCII text without DuckDB's tokenizer, once
    :func:`_code_only` has emptied its strings and quoted names and dropped its comments: the word before each
    ``(`` (whitespace between them skipped) is in :data:`DUCKDB_INLINE_NAMES`. A number, a string or a
    quoted name there fails; punctuation (``,``, ``(``, an operator) passes."""
    i = code.find("(")
    while i != -1:
        j = i
        while j and code[j - 1] in " \t\n\r\f\v":
            j -= 1
        k = j
        while k and (code[k - 1].isalnum() or code[k - 1] == "_"):
            k -= 1
        if k < j and (code[k].isdigit() or code[k:j].lower() not in DUCKDB_INLINE_NAMES):
            return False
        if k == j and j and code[j - 1] in "'\"":
            return False
        i = code.find("(", i + 1)
    return True


def _token_text(text: str, tokens: list[tuple[int, Any]], start: int) -> str:
    """The text of the token of ``tokens`` (DuckDB's ``(start, kind)`` pairs) that starts at ``start``."""
    i = bisect.bisect_right(tokens, start, key=operator.itemgetter(0))
    end = tokens[i][0] if i < len(tokens) else len(text)
    return text[start:end].strip()


def _drop_result(con: Any) -> None:
    """Drop the rest of a streaming result now, not at the next query."""
    try:
        abort = getattr(con, "abort", None)  # DuckDB 2: a half-read Arrow stream blocks the connection until then
        if abort is not None:
            abort()
        else:
            con.execute("SELECT 1")
    except Exception:  # noqa: BLE001
        pass
