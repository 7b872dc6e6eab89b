"""The core's SQLite reader (``Sandbox.execute(sql, rows=False)``) gives the table the Python rows give.

Every comparison runs the query both ways on one sandbox: the same verdict, error kind and message,
column names, cells (by the core's own fingerprint and by the values read back), and row cap.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from sqlrl.sandbox import ErrorKind, Sandbox
from sqlrl.sandbox.sqlite_engine import core_reader as reader
from sqlrl.sandbox.sqlite_reader import sqlite_error, unavailable_reason

pytestmark = pytest.mark.skipif(
    reader() is None, reason=f"the core's SQLite reader is unavailable here: {unavailable_reason()}"
)


def _same(sb: Sandbox, sql: str) -> tuple:
    """Run ``sql`` with and without Python rows; assert the results agree; return the table-only one."""
    a, b = sb.execute(sql), sb.execute(sql, rows=False)
    assert (a.ok, a.error_kind, a.columns, a.truncated) == (b.ok, b.error_kind, b.columns, b.truncated), sql
    if a.error_kind is not ErrorKind.RESOURCE:
        assert a.error == b.error
    else:  # the same words; the row count may differ a little: Python's sys.getsizeof of a cached one-character
        # string ("é") grows once anything asked for its UTF-8 form, so the Python estimate depends on the past
        assert a.error.split(" after ")[0] == b.error.split(" after ")[0]
    if a.ok:
        assert b.rows is None, sql  # read by the core, not fetched as Python rows
        assert b.table.columns == a.table.columns
        assert b.table.rows() == a.table.rows(), sql
        for ordered in (True, False):
            assert b.table.fingerprint(ordered) == a.table.fingerprint(ordered), sql
    return a, b


@pytest.fixture(scope="module")
def values_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("reader") / "values.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE v (k INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB, x)")
    ints = [0, 1, -1, 2**30 - 1, 2**30, -(2**30), 2**60, 2**63 - 1, -(2**63)]
    floats = [0.0, -0.0, 0.1, 1.5, 1e308, -1e-308, float("inf"), float("-inf"), 2.0**53, 1e16]
    texts = ["", "a", "a\x00b", "éa", "Zürich", "日本語", "😀 emoji", "\U0010ffff", "x" * 3000, "  padded  ", "1.0"]
    blobs = [b"", b"\x00", b"\xff\xfe", b"abc" * 500]
    mixed = [1, 2.5, "three", b"4", None]
    n = max(len(ints), len(floats), len(texts), len(blobs), len(mixed))
    rows = [
        (
            k,
            ints[k % len(ints)] if k < len(ints) else None,
            floats[k % len(floats)] if k < len(floats) else None,
            texts[k % len(texts)] if k < len(texts) else None,
            blobs[k % len(blobs)] if k < len(blobs) else None,
            mixed[k % len(mixed)],
        )
        for k in range(n)
    ]
    con.executemany("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.execute("CREATE TABLE bad (id INTEGER, s TEXT)")
    con.execute("INSERT INTO bad VALUES (1, 'ok'), (2, CAST(x'80ff41' AS TEXT)), (3, CAST(x'eda080' AS TEXT))")
    con.execute("CREATE TABLE big (n INTEGER)")
    con.executemany("INSERT INTO big VALUES (?)", [(i,) for i in range(5000)])
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM v",
        "SELECT i, f, s, b, x FROM v ORDER BY k DESC",
        "SELECT typeof(x), x FROM v",
        "SELECT count(*), sum(i), avg(f), group_concat(s) FROM v",
        "SELECT s AS same, s AS same FROM v",  # duplicate column names
        "SELECT * FROM v WHERE 0",  # no rows: the columns still count
        "SELECT 1 AS one",
        "SELECT NULL",
        "SELECT -0.0, 1e999, 9223372036854775807 + 0",
        "SELECT CAST('12abc' AS INTEGER), CAST(2.9 AS INT), '7' + 1",
        "SELECT upper(s), length(s), hex(b) FROM v",
        "SELECT * FROM big WHERE n % 97 = 0",
        "SELECT 1;",
        "SELECT 1;  \n",
    ],
)
def test_the_table_equals_the_rows_table(values_db, sql):
    with Sandbox(values_db, timeout=5.0) as sb:
        _same(sb, sql)


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT nope FROM v", ErrorKind.RUNTIME),
        ("SELECT * FROM missing", ErrorKind.RUNTIME),
        ("SELEC 1", ErrorKind.SYNTAX),
        ("SELECT (1", ErrorKind.SYNTAX),
        ("SELECT 1; SELECT 2", ErrorKind.MULTIPLE_STATEMENTS),
        ("SELECT 1; DELETE FROM v", ErrorKind.MULTIPLE_STATEMENTS),
        ("SELECT load_extension('x')", ErrorKind.PERMISSION),
        ("SELECT abs(-9223372036854775808)", ErrorKind.RUNTIME),  # integer overflow, raised while stepping
        ("SELECT zeroblob(300000000)", ErrorKind.RESOURCE),  # over SQLITE_LIMIT_LENGTH of a 1 GB budget
        ("SELECT * FROM v, v AS w, v AS y, big", ErrorKind.RESOURCE),  # over the result budget
    ],
)
def test_errors_are_the_same_errors(values_db, sql, kind):
    with Sandbox(values_db, timeout=5.0, memory_limit="64MB") as sb:
        a, _ = _same(sb, sql)
        assert a.error_kind is kind, a.error


def test_the_row_cap_cuts_the_table_the_same_way(values_db):
    with Sandbox(values_db, timeout=5.0, max_rows=100) as sb:
        a, b = _same(sb, "SELECT n FROM big")
        assert a.truncated and b.table.num_rows == 100 and b.table.truncated
        a, b = _same(sb, "SELECT n FROM big LIMIT 100")
        assert not a.truncated and b.table.num_rows == 100


@pytest.mark.parametrize("budget", range(3000, 200_000, 9973))
def test_the_result_budget_is_estimated_as_for_python_rows(values_db, budget, monkeypatch):
    """At every budget the two paths agree on whether a result is too large (the estimate is the same)."""
    from sqlrl.sandbox.config import SandboxConfig

    monkeypatch.setattr(SandboxConfig, "max_result_bytes", budget)
    with Sandbox(values_db, timeout=5.0) as sb:
        for sql in ("SELECT * FROM v", "SELECT n, 'é' || n FROM big", "SELECT v.s, w.b FROM v, v AS w"):
            a, _ = _same(sb, sql)
            assert a.ok or a.error_kind is ErrorKind.RESOURCE


@pytest.mark.parametrize("text_errors", ["surrogateescape", "replace", "bytes", "strict"])
def test_text_that_is_not_utf8_goes_the_python_way(values_db, text_errors):
    with Sandbox(values_db, timeout=5.0, text_errors=text_errors) as sb:
        a, b = sb.execute("SELECT * FROM bad"), sb.execute("SELECT * FROM bad", rows=False)
        assert (a.ok, a.error_kind) == (b.ok, b.error_kind)
        if a.ok:
            assert b.table.rows() == a.table.rows() and b.table.fingerprint() == a.table.fingerprint()
        _same(sb, "SELECT * FROM bad WHERE id = 1")  # valid rows of the same table: the core reads them


def test_a_long_query_stops_at_its_timeout(values_db):
    with Sandbox(values_db, timeout=0.5) as sb:
        sb.execute("SELECT 1", rows=False)
        t0 = time.perf_counter()
        r = sb.execute("SELECT count(*) FROM big a, big b, big c", rows=False)
        assert r.error_kind is ErrorKind.TIMEOUT and time.perf_counter() - t0 < 1.0


def test_queries_of_sqlrl_toy_and_their_mutations(tmp_path):
    """Gold queries of a sqlrl-toy split and their mutations (many fail, some return many rows): same results."""
    from sqlrl.data.toy.load import load_toy
    from sqlrl.sql.mutate import mutations

    examples = list(load_toy("dev", cache_dir=tmp_path))[:60]
    boxes: dict[str, Sandbox] = {}
    checked = 0
    try:
        for ex in examples:
            sb = boxes.setdefault(str(ex.db_path), Sandbox(ex.db_path, timeout=5.0))
            for sql in [ex.gold_sql, *(m for _, m in mutations(ex.gold_sql)[:6])]:
                _same(sb, sql)
                checked += 1
    finally:
        for sb in boxes.values():
            sb.close()
    assert checked > 200


def test_the_reward_executor_reads_tables_through_the_core(tmp_path, monkeypatch):
    """The rewards keep no rows: their SQLite results come from the core's reader, and score as before."""
    from sqlrl.data.toy.load import load_toy
    from sqlrl.rewards import execution_reward, partial_reward
    from sqlrl.sandbox import sqlite_engine
    from sqlrl.sql.mutate import mutations

    completions, gold, db = [], [], []
    for ex in list(load_toy("dev", cache_dir=tmp_path))[:8]:
        for sql in [ex.gold_sql, *(m for _, m in mutations(ex.gold_sql)[:3])]:
            completions.append(f"```sql\n{sql}\n```")
            gold.append(ex.gold_sql)
            db.append(str(ex.db_path))
    calls: list[dict | str] = []
    original, batched = Sandbox.execute, Sandbox.execute_tables
    monkeypatch.setattr(Sandbox, "execute", lambda self, sql, **kw: calls.append(kw) or original(self, sql, **kw))
    monkeypatch.setattr(Sandbox, "execute_tables", lambda self, sqls: calls.append("tables") or batched(self, sqls))
    scores = {}
    for mode in ("core", "python"):
        if mode == "python":
            monkeypatch.setattr(sqlite_engine.SQLiteEngine, "_read_table", lambda *a: None)
            monkeypatch.setattr(sqlite_engine.SQLiteEngine, "start_many", lambda self, state, sqls, **_: ([], None))
        calls.clear()
        funcs = [execution_reward(), partial_reward("paverl")]
        scores[mode] = [f(completions=completions, gold_sql=gold, db_path=db) for f in funcs]
        for f in funcs:
            f.executor.close()
        assert "tables" in calls and all(kw in ("tables", {"rows": False}) for kw in calls)
        if mode == "python":
            assert {"rows": False} in calls  # every query fetched its rows one by one
    assert scores["core"] == scores["python"]
    assert len(set(scores["core"][0])) > 1  # right and wrong completions both present


def test_sqlite_error_classes_follow_pythons_sqlite3():
    assert isinstance(sqlite_error(1, "no such table: t"), sqlite3.OperationalError)
    assert isinstance(sqlite_error(18, "string or blob too big"), sqlite3.DataError)
    assert isinstance(sqlite_error(7, ""), MemoryError)
    assert isinstance(sqlite_error(9 | (1 << 8), "interrupted"), sqlite3.OperationalError)  # an extended code
    assert type(sqlite_error(999, "?")) is sqlite3.DatabaseError


def test_without_the_reader_the_rows_are_fetched(values_db, monkeypatch):
    """Where the reader cannot be bound (another SQLite build, an unchecked Python), rows=False still works."""
    from sqlrl.sandbox import sqlite_reader

    with Sandbox(values_db, timeout=5.0) as sb:
        expected = sb.execute("SELECT * FROM v", rows=False).table.rows()
    monkeypatch.setattr(sqlite_reader, "reader", lambda rule: None)
    with Sandbox(values_db, timeout=5.0) as sb:
        r = sb.execute("SELECT * FROM v", rows=False)
        assert r.ok and r.rows is not None and r.table.rows() == expected


def test_threads_read_their_own_connections(tmp_path):
    """Four threads, each with its connection and reader, give the tables one thread gives from Python rows."""
    from sqlrl.data.toy.load import load_toy
    from sqlrl.sandbox.service import ExecutionService
    from sqlrl.sql.mutate import mutations

    queries = []
    for ex in list(load_toy("dev", cache_dir=tmp_path))[:40]:
        for sql in [ex.gold_sql, *(m for _, m in mutations(ex.gold_sql)[:4])]:
            queries.append((str(ex.db_path), sql, "sqlite"))
    with ExecutionService(workers=4, keep_rows=False) as tables, ExecutionService(workers=1) as rows:
        got = tables.run(queries)
        want = rows.run(queries)
    assert len(got) == len(want) > 150
    for g, w in zip(got, want, strict=True):
        assert (g.ok, g.error_kind, g.error) == (w.ok, w.error_kind, w.error)
        if w.ok:
            assert g.rows is None and g.table.rows() == w.table.rows()


@pytest.mark.parametrize("rows", [True, False])
def test_the_readers_c_guard_refuses_what_the_python_one_refuses(values_db, monkeypatch, rows):
    """With the reader, SQLite calls its C authorizer and progress handler, not the Python ones: with the
    Python callbacks made to allow everything and never stop, writes, ATTACH and PRAGMA writes are still
    refused (naming what was refused), a query still stops at its deadline, and the inline check still
    sends a heavy function to the query thread."""
    from sqlrl.sandbox import sqlite_engine as se

    monkeypatch.setattr(se._Conn, "authorize", lambda self, *a: sqlite3.SQLITE_OK)
    monkeypatch.setattr(se._Conn, "progress", lambda self: False)
    with Sandbox(values_db, timeout=0.3) as sb:
        conn = sb._pool.get().conn
        assert conn.reader is not None
        for sql, refused in [
            ("DELETE FROM v", "DELETE v"),
            ("ATTACH DATABASE ':memory:' AS m", "ATTACH"),
            ("PRAGMA journal_mode = WAL", "PRAGMA journal_mode"),
            ("CREATE TEMP TABLE t(x)", "INSERT sqlite_temp_master"),
        ]:
            r = sb._engine.run(conn, sql, sql, time.perf_counter(), rows=rows)
            assert not r.ok and r.error_kind is ErrorKind.NOT_READ_ONLY and refused in r.error, (sql, r.error)
        assert sb.execute("SELECT count(*) FROM v", rows=rows).table.rows() == [(11,)]
        t0 = time.perf_counter()
        bomb = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
        r = sb.execute(bomb, rows=rows)
        assert r.error_kind is ErrorKind.TIMEOUT and time.perf_counter() - t0 < 0.3 + 0.1
        # the inline check: randomblob is not an inline function, so the caller's thread refuses it
        assert sb._engine.run_inline(conn, "x", "SELECT length(randomblob(5))", time.perf_counter(), rows=rows) is None
        assert conn.needs_thread
        assert sb._engine.run_inline(conn, "x", "SELECT abs(-1)", time.perf_counter(), rows=rows).ok


def test_a_closed_reader_leaves_its_connection_refusing_everything(values_db):
    """The reader's guard belongs to the reader: once closed, its connection runs nothing (it is about to close)."""
    from sqlrl.sandbox import sqlite_engine as se

    con = sqlite3.connect(f"file:{values_db}?mode=ro", uri=True)
    r = se.core_reader()(con, str(Path(values_db).resolve()), 4)
    assert r.query("SELECT count(*) FROM v", 10, 1 << 20, 5.0)[0] == "ok"
    r.close()
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
        con.execute("SELECT 1").fetchall()
    with pytest.raises(ValueError, match="closed"):
        r.query("SELECT 1", 10, 1 << 20, 5.0)
    con.close()


def test_a_batch_gives_what_each_query_gives(values_db, tmp_path):
    """``execute_tables`` (one call of the reader for the queries it can batch) gives every query the result
    ``execute(rows=False)`` gives: rows, errors and their kinds, refusals, and the queries it hands back (too
    long, a function that must run on the query thread, more than one statement, not text)."""
    from sqlrl.data.toy.load import load_toy
    from sqlrl.sql.mutate import mutations

    queries: list = [
        "SELECT * FROM v",
        "SELECT k, s FROM v ORDER BY k DESC",
        "SELECT FROM",
        "SELECT nope FROM v",
        "DELETE FROM v",
        "SELECT 1; SELECT 2",
        "SELECT length(randomblob(10))",
        "SELECT printf('%d', 5)",
        "SELECT " + " + ".join(["1"] * 300),
        "",
        "  ",
        None,
        "SELECT i FROM v WHERE k = 3",
        "PRAGMA x",
        "COMMIT",  # a query may not end (nor begin) the batch's read transaction
        "BEGIN",
        "SELECT count(*) FROM v",
    ]
    ex = list(load_toy("dev", cache_dir=tmp_path))[0]
    toy = [ex.gold_sql, *(m for _, m in mutations(ex.gold_sql)[:10])]
    for db, batch in ((values_db, queries), (ex.db_path, toy)):
        with Sandbox(db, timeout=5.0) as one, Sandbox(db, timeout=5.0) as many:
            want = [one.execute(q, rows=False) for q in batch]
            got = many.execute_tables(batch)
            for q, w, g in zip(batch, want, got, strict=True):
                assert (g.ok, g.error_kind, g.error, g.columns, g.truncated) == (w.ok, w.error_kind, w.error,
                                                                                 w.columns, w.truncated), q  # fmt: skip
                if w.ok:
                    assert g.table.rows() == w.table.rows() and g.elapsed > 0, q
            again = many.execute_tables(batch)  # statements cached, and the queries the batch handed back known
            assert [(r.ok, r.error) for r in again] == [(r.ok, r.error) for r in want]


def test_a_batch_reads_in_one_transaction_and_ends_it(tmp_path):
    """A batch's queries run in one read transaction (one shared lock of the file, not one per query), which
    ends with the batch whatever its queries did: errors, refusals, a query stopped at its deadline. A writer
    then finds the file free, and the next batch reads what it wrote."""
    path = tmp_path / "w.sqlite"
    writer = sqlite3.connect(path, timeout=0)
    writer.execute("CREATE TABLE v (k INTEGER)")
    writer.executemany("INSERT INTO v VALUES (?)", [(k,) for k in range(11)])
    writer.commit()
    slow = "SELECT count(*) FROM v a, v b, v c, v d, v e, v f, v g, v h"
    batch = ["SELECT count(*) FROM v", "SELECT nope FROM v", "DELETE FROM v", slow, "COMMIT", "SELECT max(k) FROM v"]
    with Sandbox(path, timeout=0.3) as sb:
        got = sb.execute_tables(batch)
        assert [r.ok for r in got] == [True, False, False, False, False, True]
        assert [r.error_kind for r in got[2:5]] == [ErrorKind.NOT_READ_ONLY, ErrorKind.TIMEOUT, ErrorKind.NOT_READ_ONLY]
        assert got[0].table.rows() == [(11,)] and got[-1].table.rows() == [(10,)]
        state = sb._pool.get().conn
        assert not state.con.in_transaction
        writer.execute("INSERT INTO v VALUES (11)")  # timeout=0: fails if the sandbox still held its lock
        writer.commit()
        assert [r.table.rows() for r in sb.execute_tables(["SELECT count(*) FROM v", "SELECT max(k) FROM v"])] == [
            [(12,)], [(11,)]]  # fmt: skip
    writer.close()


def test_a_batch_stops_a_query_at_its_deadline_and_goes_on(values_db):
    """Each query of a batch has its own deadline: one that overruns stops there (the reader's progress
    handler, or the watchdog where that does not fire), and the next runs as usual."""
    from sqlrl.sandbox import sqlite_engine as se
    from sqlrl.sandbox.watchdog import watchdog

    slow = "SELECT count(*) FROM v a, v b, v c, v d, v e, v f, v g, v h"  # 11^8 rows (seconds), batched
    batch = ["SELECT count(*) FROM v", slow, "SELECT max(k) FROM v"]
    with Sandbox(values_db, timeout=0.3) as sb:
        t0 = time.perf_counter()
        first, stopped, last = sb.execute_tables(batch)
        assert time.perf_counter() - t0 < 0.3 + 0.3
    assert stopped.error_kind is ErrorKind.TIMEOUT
    assert first.table.rows() == [(11,)] and last.table.rows() == [(10,)]
    reader = se.core_reader()
    fired = watchdog().fired
    with Sandbox(values_db, timeout=0.3) as sb:
        state = sb._pool.get().conn
        state.reader.close()  # a reader whose progress handler never stops a query: only the watchdog does
        state.reader = reader(state.con, str(Path(values_db).resolve()), 4, stop_at_deadline=False)
        t0 = time.perf_counter()
        first, stopped, last = sb.execute_tables(batch)
        assert time.perf_counter() - t0 < 0.3 + se.WATCHDOG_GRACE + 0.3
    assert stopped.error_kind is ErrorKind.TIMEOUT and watchdog().fired > fired
    assert first.table.rows() == [(11,)] and last.table.rows() == [(10,)]  # the interrupt reached no other query


def test_closing_a_sandbox_while_a_batch_runs_on_another_thread(values_db):
    """close() interrupts a batch that another thread runs on the sandbox's connection and waits for it, instead
    of freeing its statements under it: that thread gets results or SandboxClosedError, never a crash."""
    import threading

    from sqlrl.sandbox.errors import SandboxClosedError

    slow = "SELECT count(*) FROM v a, v b, v c, v d, v e, v f, v g, v h"
    sb = Sandbox(values_db, timeout=30.0)
    got: list = []

    def run():
        try:
            got.append(sb.execute_tables([slow, "SELECT 1"]))
        except SandboxClosedError as e:
            got.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    sb.close()
    worker.join(10)
    assert not worker.is_alive() and time.perf_counter() - t0 < 5
    assert isinstance(got[0], SandboxClosedError) or got[0][0].error_kind is ErrorKind.TIMEOUT


def test_an_error_remembered_by_its_message_never_answers_for_a_refusal(values_db):
    """The engine remembers how it classified the reader's errors by SQLite's message, but only those no
    setting decides: a refusal of the read-only rule with the same message ("not authorized") stays a
    refusal naming what was refused, and a query stopped at its deadline stays a timeout."""
    slow = "SELECT count(*) FROM v a, v b, v c, v d, v e, v f, v g, v h"
    with Sandbox(values_db, timeout=0.3) as sb:
        for _ in range(2):
            loaded, refused, late, loaded_again = sb.execute_tables(
                ["SELECT load_extension('x')", "SELECT * FROM pragma_data_version", slow, "SELECT load_extension('y')"]
            )
            assert (loaded.error_kind, loaded.error) == (ErrorKind.PERMISSION, "not authorized")
            assert (loaded_again.error_kind, loaded_again.error) == (ErrorKind.PERMISSION, "not authorized")
            assert refused.error_kind is ErrorKind.NOT_READ_ONLY and "PRAGMA data_version" in refused.error
            assert late.error_kind is ErrorKind.TIMEOUT and "0.3 s" in late.error
