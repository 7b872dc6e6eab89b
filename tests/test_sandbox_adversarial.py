"""Hostile queries: each gets a clear error within timeout + 0.5 s and leaves the database files untouched."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from sqlrl.sandbox import ErrorKind, Sandbox

TIMEOUT = 1.0
SLACK = 0.5
ENGINES = ["sqlite", "duckdb"]

E = ErrorKind
RO, PERM, RT, SYN, TO, MEM, MULTI = (
    E.NOT_READ_ONLY,
    E.PERMISSION,
    E.RUNTIME,
    E.SYNTAX,
    E.TIMEOUT,
    E.MEMORY,
    E.MULTIPLE_STATEMENTS,
)


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """The database under attack (a copy of concert_singer) and a directory for files queries try to write."""
    from sqlrl.data.demo import build_demo_sqlite

    root = tmp_path_factory.mktemp("adversarial")
    db = build_demo_sqlite(root / "concert_singer.sqlite", "concert_singer")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret\n")
    return db, outside, root / "cache"


class _TableOnly:
    """A SQLite sandbox whose queries ask for the core's table only (``rows=False``: the core reads the cells
    itself, see sqlrl.sandbox.sqlite_reader); a result's rows are read back from that table."""

    rows = False

    def __init__(self, sb: Sandbox) -> None:
        self._sb = sb

    def __getattr__(self, name):
        return getattr(self._sb, name)

    def execute(self, sql):
        r = self._sb.execute(sql, rows=False)
        if r.ok:
            assert r.rows is None  # the reader ran, not the Python fetch
            r.rows = r.table.rows()
        return r


class _Batched(_TableOnly):
    """A SQLite sandbox whose queries run in batches (``execute_tables``: the core's reader runs a batch in one
    call, without the GIL), each between two harmless neighbours, which must give their own results."""

    def execute(self, sql):
        before, r, after = self._sb.execute_tables(["SELECT count(*) FROM singer", sql, "SELECT 1"])
        assert before.table.rows() == [(40,)] and after.table.rows() == [(1,)], (sql, before.error, after.error)
        if r.ok:
            assert r.rows is None
            r.rows = r.table.rows()
        return r

    def engine_run(self, sql):
        """``sql`` straight to the engine's batch (no keyword gate); None: the batch handed it back."""
        engine, state = self._sb._engine, self._sb._pool.get().conn
        todo, job = engine.start_many(state, [sql])
        outcome = None if job is None else engine.run_job(job)
        return None if outcome is None else engine.finish_many(state, [sql], todo, *outcome)[0]


@pytest.fixture(scope="module", params=[*ENGINES, "sqlite-table", "sqlite-batch", "duckdb-ties"])
def sandbox(request, target):
    """Each engine; SQLite with the core's reader (``-table``) and in batches (``-batch``); DuckDB with
    ``sqlite_ties`` (``-ties``: its rewrite, and SQLite's plan asked on the source file for queries with a GROUP BY)."""
    db, _, cache = target
    engine = request.param.split("-")[0]
    ties = request.param.endswith("-ties")
    sb = Sandbox(db, engine=engine, timeout=TIMEOUT, memory_limit="256MB", cache_dir=cache, sqlite_ties=ties)
    assert sb.execute("SELECT count(*) FROM singer").rows == [(40,)]  # warm up: pool, watchdog thread
    wrapper = {"table": _TableOnly, "batch": _Batched}.get(request.param.partition("-")[2])
    yield wrapper(sb) if wrapper is not None else sb
    sb.close()


def _files(sb: Sandbox) -> list[Path]:
    return sorted({Path(sb.source), Path(sb.database_path)})


def _run(sb: Sandbox, sql: object, file_hash):
    before = {p: file_hash(p) for p in _files(sb)}
    t0 = time.perf_counter()
    r = sb.execute(sql)  # type: ignore[arg-type]
    wall = time.perf_counter() - t0
    assert wall < TIMEOUT + SLACK, (sql, wall)
    assert {p: file_hash(p) for p in _files(sb)} == before, "database file changed"
    return r


# (name, sql or {engine: sql}, allowed error kinds or {engine: kinds})
CASES = [
    ("create", "CREATE TABLE x (a INT)", {RO}),
    ("create_as", "CREATE TABLE x AS SELECT * FROM singer", {RO}),
    ("drop", "DROP TABLE singer", {RO}),
    ("insert", "INSERT INTO singer (Singer_ID) VALUES (99)", {RO}),
    ("update", "UPDATE singer SET Age = 1", {RO}),
    ("delete", "DELETE FROM singer", {RO}),
    ("alter", "ALTER TABLE singer ADD COLUMN z INT", {RO}),
    ("comment_then_delete", "/* innocent */ -- really\n DELETE FROM singer", {RO}),
    ("cte_delete", "WITH x AS (SELECT 1) DELETE FROM singer", {RO}),
    ("attach", "ATTACH '{outside}/evil.db' AS evil", {RO}),
    ("detach", "DETACH main", {RO}),
    ("copy_to", "COPY singer TO '{outside}/dump.csv'", {RO}),
    ("copy_from", "COPY singer FROM '{outside}/secret.txt'", {RO}),
    ("export", "EXPORT DATABASE '{outside}/export'", {RO}),
    ("vacuum_into", "VACUUM INTO '{outside}/copy.db'", {RO}),
    ("install", "INSTALL httpfs", {RO}),
    ("force_install", "FORCE INSTALL httpfs", {RO}),
    ("load", "LOAD httpfs", {RO}),
    ("set", "SET threads = 64", {RO}),
    ("set_external", "SET enable_external_access = true", {RO}),
    ("reset", "RESET ALL", {RO}),
    ("pragma", "PRAGMA journal_mode = WAL", {RO}),
    ("call", "CALL pragma_version()", {RO}),
    ("explain", "EXPLAIN SELECT * FROM singer", {RO}),
    ("begin", "BEGIN TRANSACTION", {RO}),
    ("checkpoint", "CHECKPOINT", {RO}),
    ("use", "USE memory", {RO}),
    ("two_statements", "SELECT 1; DROP TABLE singer", {MULTI}),
    ("two_selects", "SELECT 1; SELECT 2", {MULTI}),
    ("drop_then_select", "DROP TABLE singer; SELECT 1", {RO}),
    ("select_comment_drop", "SELECT 1 /* ; */; -- \n DROP TABLE singer", {MULTI}),
    ("read_csv", "SELECT * FROM read_csv('/etc/passwd')", {"duckdb": {PERM}, "sqlite": {RT}}),
    ("read_csv_auto", "SELECT * FROM '{outside}/secret.txt'", {"duckdb": {PERM, RT}, "sqlite": {RT}}),
    ("read_text", "SELECT * FROM read_text('/etc/passwd')", {"duckdb": {PERM}, "sqlite": {RT}}),
    ("read_blob", "SELECT * FROM read_blob('/etc/hostname')", {"duckdb": {PERM}, "sqlite": {RT}}),
    ("glob", "SELECT * FROM glob('/etc/*')", {"duckdb": {PERM}, "sqlite": {RT}}),
    ("parquet", "SELECT * FROM read_parquet('{outside}/x.parquet')", {"duckdb": {PERM}, "sqlite": {RT}}),
    ("extensions", "SELECT * FROM duckdb_extensions()", {"duckdb": {PERM}, "sqlite": {RT}}),
    ("getenv", "SELECT getenv('HOME')", {RT}),
    ("readfile", "SELECT readfile('/etc/passwd')", {RT}),
    ("load_extension", "SELECT load_extension('{outside}/evil.so')", {"duckdb": {RT}, "sqlite": {PERM}}),
    ("query_fn", "SELECT * FROM query('DROP TABLE singer')", {"duckdb": {SYN, RT}, "sqlite": {RT}}),
    (
        "cross_join_bomb",
        "SELECT sum(a.Age + b.Age + c.Age + d.Age + e.Age + f.Age) "
        "FROM singer a, singer b, singer c, singer d, singer e, singer f",
        {TO},
    ),
    (
        "range_bomb",
        {
            "duckdb": "SELECT count(*) FROM range(100000) a, range(100000) b, range(100000) c",
            "sqlite": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 100000) "
            "SELECT count(*) FROM r a, r b",
        },
        {TO},
    ),
    (
        "endless_recursive_cte",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
        {TO},
    ),
    (
        "memory_bomb",
        {
            "duckdb": "SELECT length(string_agg(repeat('x', 1000), ',')) FROM range(10000000)",
            "sqlite": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
            "SELECT length(group_concat(printf('%.1000c', 'x'))) FROM r",
        },
        {TO, MEM},
    ),
    (
        "sort_bomb",
        # 40^6 rows: DuckDB's top-1 over 40^5 can finish inside the 1 s timeout on a quiet machine
        "SELECT * FROM singer a, singer b, singer c, singer d, singer e, singer f ORDER BY random() LIMIT 1",
        {TO},
    ),
    ("nul_byte", "SELECT 1\x00; DROP TABLE singer", {E.INVALID_INPUT}),
    ("lone_surrogate", "SELECT 'a\udcff'", {E.INVALID_INPUT}),
    ("bytes", b"SELECT 1", {E.INVALID_INPUT}),
    ("not_a_string", 42, {E.INVALID_INPUT}),
    ("too_long", "SELECT 1" + " " * 1_100_000, {E.INVALID_INPUT}),
    ("deep_expression", "SELECT " + "(" * 5000 + "1" + ")" * 5000, {SYN}),
    ("long_chain", "SELECT " + "1+" * 49_000 + "1", {SYN}),
    ("empty", "   ", {E.EMPTY}),
    ("only_semicolons", ";;;", {E.EMPTY}),
]


def _pick(value, engine):
    return value[engine] if isinstance(value, dict) else value


@pytest.mark.parametrize(("name", "sql", "kinds"), CASES, ids=[c[0] for c in CASES])
def test_hostile_query_is_refused(sandbox, target, file_hash, name, sql, kinds):
    _, outside, _ = target
    sql = _pick(sql, sandbox.engine)
    if isinstance(sql, str):
        sql = sql.replace("{outside}", str(outside))
    before = sorted(p.name for p in outside.iterdir())
    r = _run(sandbox, sql, file_hash)
    assert not r.ok, (name, r.rows)
    assert r.error_kind in _pick(kinds, sandbox.engine), (name, r.error_kind, r.error)
    assert r.error  # a message a person (or an LLM) can act on
    assert sorted(p.name for p in outside.iterdir()) == before, "a file appeared outside the database"
    # The sandbox is still healthy afterwards.
    assert sandbox.execute("SELECT count(*) FROM singer").rows == [(40,)]


# Statements the keyword gate refuses; here they go straight to the engine to test the layers below it.
ENGINE_LEVEL = [c for c in CASES if c[2] == {RO}]


@pytest.mark.parametrize(("name", "sql", "kinds"), ENGINE_LEVEL, ids=[c[0] for c in ENGINE_LEVEL])
def test_engine_refuses_writes_without_the_keyword_gate(sandbox, target, file_hash, name, sql, kinds):
    """Defence in depth: DuckDB's statement type check / SQLite's authorizer and read-only connection."""
    _, outside, _ = target
    sql = sql.replace("{outside}", str(outside))
    before = {p: file_hash(p) for p in _files(sandbox)}
    listing = sorted(p.name for p in outside.iterdir())
    conn = sandbox._pool.get().conn
    r = sandbox._engine.run(conn, sql, sql, time.perf_counter(), rows=getattr(sandbox, "rows", True))
    if hasattr(sandbox, "engine_run"):
        batched = sandbox.engine_run(sql)
        assert batched is None or (batched.ok, batched.error_kind) == (r.ok, r.error_kind), (name, batched, r)
    if name == "explain" and sandbox.engine == "sqlite":
        assert r.ok  # SQLite's EXPLAIN only lists the bytecode of a SELECT: a read
    else:
        assert not r.ok and r.error_kind in (RO, SYN, RT, MULTI), (name, r.error_kind, r.error)
    assert {p: file_hash(p) for p in _files(sandbox)} == before
    assert sorted(p.name for p in outside.iterdir()) == listing
    assert sandbox.execute("SELECT count(*) FROM singer").rows == [(40,)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')",
    ],
)
def test_duckdb_runs_locked_down(target, sql):
    db, _, cache = target
    with Sandbox(db, engine="duckdb", timeout=TIMEOUT, memory_limit="256MB", cache_dir=cache) as sb:
        assert sb.execute(sql).rows == [(False, True)]


def test_python_variables_are_not_visible_to_duckdb(target):
    pd = pytest.importorskip("pandas")
    db, _, cache = target
    secret_frame = pd.DataFrame({"password": ["hunter2"]})  # noqa: F841 - what a replacement scan would read
    with Sandbox(db, engine="duckdb", timeout=TIMEOUT, memory_limit="256MB", cache_dir=cache) as sb:
        r = sb.execute("SELECT * FROM secret_frame")
        assert r.error_kind is ErrorKind.RUNTIME and "secret_frame" in r.error


def test_safe_introspection_still_works(sandbox):
    sql = {
        "sqlite": "SELECT name FROM pragma_table_info('singer') WHERE name = 'Age'",
        "duckdb": "SELECT column_name FROM information_schema.columns WHERE table_name = 'singer' "
        "AND column_name = 'Age'",
    }[sandbox.engine]
    for _ in range(2):  # first use sets up SQLite's pragma virtual table; the second reuses it
        assert sandbox.execute(sql).rows == [("Age",)]
    assert sandbox.execute(
        "SELECT count(*) FROM sqlite_master" if sandbox.engine == "sqlite" else "SELECT count(*) FROM duckdb_tables()"
    ).rows == [(4,)]


def test_invalid_utf8_in_data(sandbox, tiny_sqlite, cache_dir):
    with Sandbox(tiny_sqlite, engine=sandbox.engine, timeout=TIMEOUT, cache_dir=cache_dir) as sb:
        r = sb.execute("SELECT id, s FROM bad ORDER BY id")
        assert r.ok, r.error
        assert r.rows[0] == (1, "ok") and r.rows[2] == (3, "Zürich")
        if sb.engine == "sqlite":  # the raw bytes survive: surrogateescape round-trips them
            assert r.rows[1][1].encode("utf-8", "surrogateescape") == b"\x80\xffA"
        else:  # the importer replaced them (DuckDB VARCHAR must be valid UTF-8)
            assert r.rows[1][1] == "\ufffd\ufffdA"
        assert sb.execute("SELECT count(*) FROM bad WHERE s LIKE '%A'").rows == [(1,)]


@pytest.mark.parametrize(
    ("text_errors", "expected"),
    [
        ("bytes", b"\x80\xffA"),
        ("replace", "\ufffd\ufffdA"),
        ("ignore", "A"),
    ],
)
def test_sqlite_text_errors_modes(tiny_sqlite, text_errors, expected):
    with Sandbox(tiny_sqlite, engine="sqlite", text_errors=text_errors) as sb:
        assert sb.execute("SELECT s FROM bad WHERE id = 2").rows == [(expected,)]
        assert sb.execute("SELECT s FROM bad WHERE id = 3").rows == [("Zürich",)]  # fast path restored
    with Sandbox(tiny_sqlite, engine="sqlite", text_errors="strict") as sb:
        r = sb.execute("SELECT s FROM bad WHERE id = 2")
        assert r.error_kind is ErrorKind.RUNTIME and "decode" in r.error


@pytest.mark.parametrize("engine", ENGINES)
def test_no_thread_left_after_timeouts(target, tmp_path, engine):
    db, _, _ = target
    with Sandbox(db, engine=engine, timeout=0.3, cache_dir=tmp_path) as sb:
        sb.execute("SELECT 1")  # starts the pool's connection and the shared watchdog thread
        before = threading.active_count()
        bomb = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
        for _ in range(3):
            assert sb.execute(bomb).error_kind is ErrorKind.TIMEOUT
        assert threading.active_count() == before
        # A parallel batch of timeouts: every one stops, and only the batch's worker threads remain.
        t0 = time.perf_counter()
        results = sb.execute_many([bomb] * 4, workers=4)
        assert [r.error_kind for r in results] == [ErrorKind.TIMEOUT] * 4
        assert time.perf_counter() - t0 < 2 * (0.3 + SLACK)
        assert sb.execute("SELECT count(*) FROM singer").rows == [(40,)]
    assert threading.active_count() <= before  # close() ends the batch threads


def test_watchdog_interrupts_what_the_engine_does_not_stop(target, monkeypatch):
    """If max_execution_time / the progress handler did not fire, the watchdog's interrupt() still does."""
    import sqlrl.sandbox.sqlite_engine as se
    from sqlrl.sandbox.watchdog import watchdog

    db, _, _ = target
    monkeypatch.setattr(se._Conn, "progress", lambda self: False)  # disable the progress-handler deadline
    reader = se.core_reader()
    if reader is not None:  # the core's reader keeps the deadline in C: one whose progress handler never stops
        monkeypatch.setattr(se, "core_reader", lambda: lambda *a: reader(*a, stop_at_deadline=False))
    fired = watchdog().fired
    with Sandbox(db, engine="sqlite", timeout=0.3) as sb:
        t0 = time.perf_counter()
        r = sb.execute("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r")
        assert r.error_kind is ErrorKind.TIMEOUT
        assert time.perf_counter() - t0 < 0.3 + SLACK
        assert watchdog().fired > fired
        assert sb.execute("SELECT 1").rows == [(1,)]  # the interrupt did not leak into the next query


def test_database_files_unchanged_after_whole_suite(target, file_hash):
    """Also checked per query; here the original bytes are compared with a fresh build."""
    from sqlrl.data.demo import build_demo_sqlite

    db, outside, _ = target
    fresh = build_demo_sqlite(outside.parent / "fresh.sqlite", "concert_singer")
    assert file_hash(db) == file_hash(fresh)
    assert not any(
        p.suffix in (".wal", ".shm", ".db")
        for p in db.parent.iterdir()
        if p.is_file() and p.name != db.name and p.name != "fresh.sqlite"
    ), os.listdir(db.parent)


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE x (a INT)",
        "INSERT INTO singer (Singer_ID) VALUES (99)",
        "SET enable_external_access = true",
        "SET threads = 8",
        "RESET lock_configuration",
        "INSTALL httpfs",
        "LOAD httpfs",
        "ATTACH ':memory:' AS m2",
        "COPY singer TO '/tmp/sqlrl-should-not-exist.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_duckdb_connection_itself_is_locked_down(target, tmp_path, sql):
    """The last layer: a statement sent straight to a pooled DuckDB cursor cannot write or reconfigure."""
    import duckdb

    db, _, _ = target
    with Sandbox(db, engine="duckdb", timeout=TIMEOUT, cache_dir=tmp_path) as sb:
        cursor = sb._pool.get().conn
        with pytest.raises(duckdb.Error):
            cursor.execute(sql)
        assert sb.execute("SELECT current_setting('threads'), current_setting('enable_external_access')").rows == [
            (1, False)
        ]
    assert not Path("/tmp/sqlrl-should-not-exist.csv").exists()


# -- time and memory limits, measured in a fresh process -------------------------------------------------

_PROBE = r"""
import json, os, resource, sys, time
from sqlrl.sandbox import Sandbox

db, options, sql = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
rows = options.pop("_rows", True)  # False: the cells go straight into the core (sqlrl.sandbox.sqlite_reader)
sb = Sandbox(db, **options)
assert sb.execute("SELECT 1").table.rows() == [(1,)]  # rows or, with fetch="arrow", the core's table
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t0 = time.perf_counter()
r = sb.execute(sql, rows=rows)
wall = time.perf_counter() - t0
after = sb.execute("SELECT 2").table.rows()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
sb.close()
worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
out = dict(wall=wall, kind=str(r.error_kind), error=r.error, after=after, growth=peak - base, worker_peak=worker)
print(json.dumps(out), flush=True)
os._exit(0)  # an abandoned query may still be inside the engine: do not wait for it
"""
LIMIT_TIMEOUT = 1.0


def _wide(n_cols: int, source: str) -> str:
    return "SELECT " + ", ".join(f"n + {k} AS c{k}" for k in range(n_cols)) + f" FROM {source}"


_ROWS_SQLITE = "(WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 300000) SELECT n FROM r)"

# (name, database kind, sandbox options, sql, allowed error kinds); every query runs with a 1 s timeout.
LIMIT_CASES = [
    # SQLite: one long function call, which neither the progress handler nor interrupt() stops.
    ("sqlite_format_precision", "sqlite", {}, "SELECT typeof(format('%.*c', 1700000000, '#'))", {TO, MEM}),
    (
        "sqlite_instr_quadratic",
        "sqlite",
        {},
        "WITH s(h, n) AS (SELECT printf('%.*c', 20000000, 'z'), printf('%.*c', 300000, 'z') || 'y') "
        "SELECT instr(h, n) FROM s",
        {TO, MEM},
    ),
    (
        "sqlite_replace_quadratic",
        "sqlite",
        {},
        "SELECT length(replace(printf('%.*c', 25000000, 'k'), printf('%.*c', 250000, 'k') || 'j', ''))",
        {TO, MEM},
    ),
    (
        "sqlite_trim_charset",
        "sqlite",
        {},
        "SELECT length(trim(printf('%.*c', 20000000, 'q'), printf('%.*c', 200000, 'r') || 'q'))",
        {TO, MEM},
    ),
    (
        "sqlite_like_long_pattern",
        "sqlite",
        {},
        "SELECT printf('%.*c', 5000000, 'a') LIKE '%' || printf('%.*c', 30000, 'a') || 'b'",
        {TO, MEM},
    ),
    # SQLite memory: huge cells, 2,000-column rows.
    (
        "sqlite_huge_cells",
        "sqlite",
        {},
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 60) SELECT n, zeroblob(60000000) FROM r",
        {TO, MEM},
    ),
    (
        "sqlite_wide_rows",
        "sqlite",
        {},
        "SELECT "
        + ", ".join(f"s AS c{k}" for k in range(2000))
        + " FROM (SELECT n, printf('%.2000c', 'w') AS s FROM "
        + _ROWS_SQLITE
        + ")",
        {TO, MEM},
    ),
    # DuckDB: one long function call, and results whose conversion into Python outlives the engine's deadline.
    ("duckdb_hash_of_repeat", "duckdb", {}, "SELECT sha256(repeat('ab', 150000000))", {TO, MEM}),
    # 16M elements: about 7 s in one step (4M could finish inside the 1 s timeout on a quick machine)
    ("duckdb_list_sort", "duckdb", {}, "SELECT list_reverse_sort(range(16000000))[1 + 2]", {TO, MEM}),
    ("duckdb_wide_fetch", "duckdb", {}, _wide(2000, "range(100000) t(n)"), {TO, MEM}),
    ("duckdb_big_cells", "duckdb", {}, "SELECT i, repeat('y', 20000) FROM range(200000) t(i)", {TO, MEM}),
    # The same results read through the Arrow path (fetch="arrow"): the core reader keeps the result budget.
    ("duckdb_arrow_wide_fetch", "duckdb", {"fetch": "arrow"}, _wide(2000, "range(100000) t(n)"), {TO, MEM}),
    (
        "duckdb_arrow_big_cells",
        "duckdb",
        {"fetch": "arrow"},
        "SELECT i, repeat('y', 20000) FROM range(200000) t(i)",
        {TO, MEM},
    ),
    (
        "duckdb_big_sort",
        "duckdb",
        {},
        "SELECT * FROM range(30000000) t(i) ORDER BY md5(i::VARCHAR) || md5((i + 1)::VARCHAR) LIMIT 3",
        {TO, MEM},
    ),
    ("csv_dir_wide_fetch", "csv", {}, _wide(2000, "singer a, singer b, singer c, (SELECT 1 AS n) z"), {TO, MEM}),
    (
        "sqlite_on_duckdb_cross_sort",
        "sqlite_on_duckdb",
        {},
        "SELECT a.Name || b.Name || c.Name || d.Name AS x FROM singer a, singer b, singer c, singer d, singer e "
        "ORDER BY x DESC",
        {TO, MEM},
    ),
    # Process isolation also caps the memory of values DuckDB does not count against its limit.
    (
        "process_duckdb_huge_value",
        "duckdb",
        {"isolation": "process"},
        "SELECT md5(repeat('x', 2000000000))",
        {MEM},
    ),
    ("process_duckdb_huge_list", "duckdb", {"isolation": "process"}, "SELECT list_sort(range(200000000))[1]", {MEM}),
]

# The same SQLite attacks with the cells read by the core's own SQLite reader (what the rewards ask for).
LIMIT_CASES += [(f"{n}_table", k, {**x, "_rows": False}, q, ks) for n, k, x, q, ks in LIMIT_CASES if k == "sqlite"]


@pytest.fixture(scope="module")
def limit_databases(target, tmp_path_factory):
    """Paths of the four kinds of database: SQLite, DuckDB file, CSV folder, and SQLite read through DuckDB."""
    import duckdb

    from sqlrl.data.demo import build_demo_duckdb

    db, _, _ = target
    root = tmp_path_factory.mktemp("limits")
    duck = build_demo_duckdb(root / "concert_singer.duckdb", "concert_singer")
    csv = root / "csv"
    csv.mkdir()
    with duckdb.connect(str(duck), read_only=True) as con:
        for table in ("singer", "stadium", "concert", "singer_in_concert"):
            con.execute(f"COPY {table} TO '{csv / table}.csv' (HEADER)")
    return {"sqlite": db, "duckdb": duck, "csv": csv, "sqlite_on_duckdb": db}, root / "cache"


def _probe(database, options: dict, sql: str) -> dict:
    import json
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(database), json.dumps(options), sql],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("name", "kind", "extra", "sql", "kinds"), LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_query_stays_within_time_and_memory(limit_databases, name, kind, extra, sql, kinds):
    from sqlrl.sandbox.config import parse_size
    from sqlrl.sandbox.isolation import RLIMIT_SLACK

    paths, cache = limit_databases
    engine = "duckdb" if kind == "sqlite_on_duckdb" else "auto"
    budget = "256MB"
    options = dict(engine=engine, timeout=LIMIT_TIMEOUT, memory_limit=budget, cache_dir=str(cache), **extra)
    out = _probe(paths[kind], options, sql)
    assert out["wall"] <= LIMIT_TIMEOUT + SLACK, out
    assert out["kind"] in {k.value for k in kinds}, out
    assert out["error"], out
    assert out["after"] == [[2]], out  # the sandbox answers the next query
    if extra.get("isolation") == "process":  # the worker's own peak: its startup memory plus the budget
        reference = _probe(paths[kind], options, "SELECT 1")["worker_peak"]
        assert out["worker_peak"] <= reference + parse_size(budget) + RLIMIT_SLACK, out
    # DuckDB does not count what one function builds, nor the Arrow batch it hands the core's reader
    elif not name.startswith(("duckdb_hash", "duckdb_list", "duckdb_arrow")):
        assert out["growth"] <= parse_size(budget), out


@pytest.mark.parametrize("engine", ENGINES)
def test_abandoned_query_leaves_no_thread_and_a_usable_sandbox(target, tmp_path, engine):
    """A query stuck in one engine step is abandoned at timeout + 0.3 s; its thread ends when the engine returns."""
    db, _, _ = target
    slow = {
        "sqlite": "SELECT typeof(format('%.*c', 150000000, '#'))",  # about 1.5 s in one call
        # about 1.4 s in one call; read from a table, so that DuckDB's optimizer cannot fold it at plan time,
        # where it may notice the interrupt between two passes
        "duckdb": "SELECT sha256(repeat(Name, 30000000)) FROM (SELECT Name FROM singer LIMIT 1)",
    }[engine]
    with Sandbox(db, engine=engine, timeout=0.2, cache_dir=tmp_path) as sb:
        assert sb.execute("SELECT 1").rows == [(1,)]  # the pooled connection, its thread and the watchdog
        before = threading.active_count()
        t0 = time.perf_counter()
        r = sb.execute(slow)
        assert r.error_kind is ErrorKind.TIMEOUT and "abandoned" in r.error, r.error
        assert time.perf_counter() - t0 < 0.2 + SLACK
        assert sb.execute("SELECT count(*) FROM singer").rows == [(40,)]  # on a fresh connection
        assert sb.connections == 1
        waited = time.monotonic() + 60
        while threading.active_count() > before and time.monotonic() < waited:
            time.sleep(0.05)
        assert threading.active_count() == before  # the abandoned thread closed its connection and ended
    assert threading.active_count() == before - 1  # close() ended the connection's thread; the watchdog stays


_EXIT_PROBE = r"""
import sys
from sqlrl.sandbox import Sandbox
db, engine, cache, sql = sys.argv[1:5]
sb = Sandbox(db, engine=engine, timeout=0.2, cache_dir=cache)
r = sb.execute(sql)
print("result:", r.error_kind, "abandoned" in r.error, flush=True)
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_process_with_an_abandoned_query_exits_cleanly(target, tmp_path, engine):
    """A process that ends while an abandoned query is still inside the engine waits for it and exits 0 (without
    the wait, DuckDB's C++ aborts the process when the interpreter finalises its thread: status 134)."""
    import subprocess
    import sys

    db, _, _ = target
    slow = {
        "sqlite": "SELECT typeof(format('%.*c', 150000000, '#'))",
        "duckdb": "SELECT sha256(repeat(Name, 30000000)) FROM (SELECT Name FROM singer LIMIT 1)",
    }[engine]
    proc = subprocess.run(
        [sys.executable, "-c", _EXIT_PROBE, str(db), engine, str(tmp_path), slow],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "result: timeout True" in proc.stdout, proc.stdout


def test_sqlite_statement_cache_cannot_bypass_the_query_thread(target, monkeypatch):
    """A short query that calls e.g. instr() runs on the query thread every time, not only when first prepared."""
    from sqlrl.sandbox import runner

    db, _, _ = target
    calls = []
    original = runner.QueryThread.call
    monkeypatch.setattr(runner.QueryThread, "call", lambda self, fn, wait: calls.append(1) or original(self, fn, wait))
    with Sandbox(db, engine="sqlite", timeout=TIMEOUT) as sb:
        for _ in range(3):
            assert sb.execute("SELECT count(*) FROM singer WHERE Age > 30").ok
        assert calls == []  # simple queries stay on the caller's thread
        for _ in range(3):
            assert sb.execute("SELECT instr(Name, 'a') FROM singer").ok
            assert sb.execute("SELECT count(*) FROM singer WHERE Name LIKE '%a%'").ok
        assert len(calls) == 6


def _thread_calls(monkeypatch) -> list:
    from sqlrl.sandbox import runner

    calls: list = []
    original = runner.QueryThread.call
    monkeypatch.setattr(runner.QueryThread, "call", lambda self, fn, wait: calls.append(1) or original(self, fn, wait))
    return calls


def test_duckdb_runs_only_simple_calls_on_the_callers_thread(target, tmp_path, monkeypatch):
    """DuckDB queries that call only simple functions skip the query thread; any other name before `(` (hidden
    behind a comment, quoted, a table function, method syntax), WITH RECURSIVE, a view or a pattern match does not."""
    import duckdb

    db = tmp_path / "v.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i, 'n' || range AS s FROM range(40)")
        con.execute("CREATE VIEW big AS SELECT repeat(s, 3) AS r FROM t")
    calls = _thread_calls(monkeypatch)
    inline = [
        "SELECT count(*) FROM t WHERE i > 30",
        "SELECT count /* c */ (*), max(i) FROM t",
        "SELECT s FROM t WHERE i IN (SELECT i FROM t WHERE i < 3) AND EXISTS (SELECT 1)",
        "SELECT CAST(i AS DECIMAL(10, 2)), rank() OVER (ORDER BY i) FROM t",
        "SELECT /* repeat( */ count(*) FROM t WHERE s <> 'repeat(s, 2)' -- repeat(",
    ]
    threaded = [
        "SELECT repeat/**/(s, 2) FROM t",
        'SELECT "repeat"(s, 2) FROM t',
        "SELECT s.repeat(2) FROM t",
        "SELECT * FROM range(3)",
        "SELECT n FROM t AS x(n, m)",
        "WITH RECURSIVE r AS (SELECT 1 AS n) SELECT * FROM r",
        "SELECT * FROM big",
        'SELECT * FROM "BIG"',
        "SELECT max(i) FROM t WHERE s <> '" + "x" * 600 + "'",
        "SELECT count(*) FROM t WHERE s LIKE '%1%'",
        "SELECT count(*) FROM t WHERE s ~~ '%1%'",
        "SELECT count(*) FROM t WHERE s GLOB '*1*'",
        "SELECT 1 --c\r, repeat(s, 2) FROM t",  # DuckDB ends a line comment at \r too
        "SELECT 'a' || repeat(s, 2) FROM t",
        "SELECT E'\\'' || repeat(s, 2) FROM t",  # a backslash escape: DuckDB's tokenizer reads it
        "SELECT $$x'$$ || repeat(s, 2) FROM t",
    ]
    with Sandbox(db, timeout=TIMEOUT) as sb:
        for sql in inline:
            assert sb.execute(sql).ok, sql
        assert calls == []
        for k, sql in enumerate(threaded, 1):
            assert sb.execute(sql).ok, sql
            assert len(calls) == k, sql


def test_duckdb_inline_check_without_the_tokenizer_reads_as_the_tokenizer(tmp_path, monkeypatch):
    """The inline check's reading of plain ASCII texts (strings and comments emptied, no DuckDB tokenizer) gives
    the tokenizer's verdict on sqlrl-toy's gold queries, with comments and strings added, and on odd shapes."""
    from sqlrl.data import load_toy
    from sqlrl.sandbox import duckdb_engine

    golds = sorted({ex.gold_sql for ex in load_toy("dev", cache_dir=tmp_path / "toy")})
    texts = [*golds, *(f"/* {k} ( */ {sql} -- x(" for k, sql in enumerate(golds))]
    texts += [sql.replace("count(*)", "count('(')") + " AND 'repeat(' <> \"max\"" for sql in golds]
    texts += ["SELECT abs (x), 3 (", "SELECT 'a'(1)", 'SELECT "f"(1)', "SELECT t.range(2)", "SELECT x::DECIMAL(9, 2)"]
    db = tmp_path / "v.duckdb"
    import duckdb

    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with Sandbox(db, timeout=TIMEOUT) as sb:
        engine = sb._engine
        plain = [t for t in texts if duckdb_engine._code_only(t) is not None]
        assert len(plain) > len(golds)
        fast = [engine._runs_inline(t) for t in plain]
        monkeypatch.setattr(duckdb_engine, "_code_only", lambda text: None)
        assert fast == [engine._runs_inline(t) for t in plain]
        assert True in fast and False in fast


def test_duckdb_query_on_the_callers_thread_stops_at_its_deadline(target, tmp_path, monkeypatch):
    db, _, _ = target
    calls = _thread_calls(monkeypatch)
    with Sandbox(db, engine="duckdb", timeout=0.3, cache_dir=tmp_path) as sb:
        t0 = time.perf_counter()
        r = sb.execute("SELECT count(*) FROM singer a, singer b, singer c, singer d, singer e, singer f")
        assert r.error_kind is ErrorKind.TIMEOUT, r
        assert time.perf_counter() - t0 < 0.3 + SLACK
        assert calls == []  # it ran inline and DuckDB stopped it itself
        assert sb.execute("SELECT count(*) FROM singer").rows == [(40,)]


def test_duckdb_rewrites_a_text_for_sqlite_compat_once(target, tmp_path, monkeypatch):
    """A query whose bare-column rewrite does not help is not parsed again on its next runs."""
    from sqlrl.sandbox import duckdb_engine

    db, _, _ = target
    rewrites = []
    original = duckdb_engine.rewrite_bare_columns
    monkeypatch.setattr(duckdb_engine, "rewrite_bare_columns", lambda sql: rewrites.append(sql) or original(sql))
    with Sandbox(db, engine="duckdb", timeout=TIMEOUT, cache_dir=tmp_path) as sb:
        bad = "SELECT Name, count(*) FROM singer GROUP BY Country HAVING nosuchcolumn > 1"
        good = "SELECT Name, count(*) FROM singer GROUP BY Country ORDER BY Country"
        first = [sb.execute(bad) for _ in range(3)]
        assert {r.error for r in first} == {first[0].error} and not first[0].ok
        ran = [sb.execute(good) for _ in range(3)]
        assert all(r.ok and r.rows == ran[0].rows for r in ran)
        assert len(rewrites) <= 2 and len(set(rewrites)) == len(rewrites)


def test_the_arrow_path_keeps_the_result_budget(tmp_path):
    """fetch="arrow" reads DuckDB's Arrow stream into the core's table, which stops at the result budget."""
    import duckdb

    db = tmp_path / "t.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(10)")
    for fetch in ("rows", "arrow"):
        with Sandbox(db, fetch=fetch, memory_limit="64MB", timeout=TIMEOUT) as sb:  # a 16 MB result budget
            r = sb.execute("SELECT i, repeat('x', 100000) AS s FROM range(500) t(i)")  # 50 MB of text
            assert r.error_kind is ErrorKind.RESOURCE and "16000000-byte budget" in r.error.replace(",", ""), r.error
            assert sb.execute("SELECT i FROM t ORDER BY i DESC LIMIT 2").table.rows() == [(9,), (8,)]


def test_core_arrow_reader_stops_at_max_bytes():
    import pyarrow as pa  # a dev dependency

    from sqlrl import _core
    from sqlrl.scoring import as_table

    batch = pa.table({"s": ["y" * 1000] * 100})  # about 100 kB of text
    assert as_table(batch, max_bytes=1_000_000).num_rows == 100
    with pytest.raises(_core.ResultTooLarge, match="50000-byte budget"):
        as_table(batch, max_bytes=50_000)
    assert issubclass(_core.ResultTooLarge, MemoryError)


def test_resource_is_the_error_kind_of_an_exhausted_budget(target):
    assert ErrorKind.RESOURCE.value == "resource" and ErrorKind.MEMORY is ErrorKind.RESOURCE
    db, _, _ = target
    # (256MB as in the other sandboxes here: SQLite's heap limit is process-wide and only ever lowered)
    with Sandbox(db, engine="sqlite", timeout=TIMEOUT, memory_limit="256MB") as sb:
        r = sb.execute("SELECT zeroblob(70000000)")  # longer than a quarter of the budget
        assert r.error_kind is ErrorKind.RESOURCE and "256MB" in r.error, r.error
        r = sb.execute("SELECT Name, zeroblob(2000000) FROM singer")  # 40 rows of 2 MB: over the result budget
        assert r.error_kind is ErrorKind.RESOURCE and "budget" in r.error, r.error
        assert sb.execute("SELECT count(*) FROM singer").rows == [(40,)]
