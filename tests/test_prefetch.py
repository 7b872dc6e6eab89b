"""Gold queries started ahead: the core's ``SqliteBackground``, ``ExecutionService.prefetch`` and the rewards.

The rewards start a batch's gold queries on a thread of the core's own, then read the completions while
those run. Whatever runs ahead must give exactly what running it in the batch gives, stop at its deadline,
and leave nothing behind for the queries after it.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from sqlrl.sandbox import ErrorKind, ExecutionService, Sandbox
from sqlrl.sandbox.service import Prefetch
from sqlrl.sandbox.sqlite_engine import core_reader
from sqlrl.sandbox.sqlite_reader import background, unavailable_reason

pytestmark = pytest.mark.skipif(
    core_reader() is None, reason=f"the core's SQLite reader is unavailable here: {unavailable_reason()}"
)

SLOW = "SELECT count(*) FROM v a, v b, v c, v d, v e, v f, v g, v h"  # 11^8 rows: seconds


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "v.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE v (k INTEGER PRIMARY KEY, s TEXT)")
    con.executemany("INSERT INTO v VALUES (?, ?)", [(k, f"s{k % 3}") for k in range(11)])
    con.commit()
    con.close()
    return path


QUERIES = [
    "SELECT * FROM v",
    "SELECT s, count(*) FROM v GROUP BY s ORDER BY s",
    "SELECT nope FROM v",
    "SELECT FROM",
    "DELETE FROM v",
    "SELECT 1; SELECT 2",
    "SELECT printf('%d', 5)",  # a function the query thread runs: handed back to execute()
    "",
    None,
    "COMMIT",
    "SELECT max(k) FROM v",
]


def _same(got, want, queries):
    for q, g, w in zip(queries, got, want, strict=True):
        assert (g.ok, g.error_kind, g.error, g.columns) == (w.ok, w.error_kind, w.error, w.columns), q
        if w.ok:
            assert g.table.rows() == w.table.rows(), q


def test_the_background_gives_what_a_batch_gives(db, tmp_path):
    """Two sandboxes' batches on the core's own thread give what ``execute_tables`` gives each of them."""
    from sqlrl.data.toy.load import load_toy
    from sqlrl.sql.mutate import mutations

    ex = list(load_toy("dev", cache_dir=tmp_path))[0]
    toy = [ex.gold_sql, *(m for _, m in mutations(ex.gold_sql)[:10])]
    start = background()
    assert start is not None
    with Sandbox(db, timeout=5.0) as a, Sandbox(ex.db_path, timeout=5.0) as b:
        want = [Sandbox(db, timeout=5.0).execute_tables(QUERIES), Sandbox(ex.db_path, timeout=5.0).execute_tables(toy)]
        started = [a.start_tables(QUERIES, background=True), b.start_tables(toy, background=True)]
        running = start([t.job for t in started])
        outcomes = running.wait()
        assert running.wait() == outcomes  # waiting again gives the same
        for (box, queries, tables), w, out in zip(
            ((a, QUERIES, started[0]), (b, toy, started[1])), want, outcomes, strict=True
        ):
            _same(box.finish_tables(tables, out), w, queries)
        _same(a.execute_tables(QUERIES), want[0], QUERIES)  # the connection is free for the next batch


def test_the_background_returns_at_once_and_stops_a_query_at_its_deadline(db):
    with Sandbox(db, timeout=0.3) as sb:
        tables = sb.start_tables(["SELECT count(*) FROM v", SLOW, "SELECT max(k) FROM v"], background=True)
        t0 = time.perf_counter()
        running = background()([tables.job])
        assert time.perf_counter() - t0 < 0.1  # started, not run
        (outcome,) = running.wait()
        assert time.perf_counter() - t0 < 0.3 + 0.5
        first, stopped, last = sb.finish_tables(tables, outcome)
        assert stopped.error_kind is ErrorKind.TIMEOUT
        assert first.table.rows() == [(11,)] and last.table.rows() == [(10,)]


def test_the_watchdog_stops_a_background_query_and_two_backgrounds_take_turns(db):
    """Nothing arms a reader for its background batch from outside: the watchdog, woken when the batch is
    handed over, watches it from its first query (here the only thing that stops it: the reader has no
    progress handler). A second batch on the same reader waits for the first."""
    from sqlrl.sandbox import sqlite_engine as se
    from sqlrl.sandbox.watchdog import wake_if_asleep, watchdog

    fired = watchdog().fired
    with Sandbox(db, timeout=0.3) as sb:
        state = sb._pool.get().conn
        state.reader.close()
        state.reader = se.core_reader()(state.con, str(db.resolve()), 4, stop_at_deadline=False)
        first = sb.start_tables([SLOW, "SELECT max(k) FROM v"], background=True)
        second = sb.start_tables(["SELECT count(*) FROM v", SLOW], background=True)
        t0 = time.perf_counter()
        running = [background()([first.job]), background()([second.job])]
        wake_if_asleep()
        (one,), (two,) = (r.wait() for r in running)
        assert time.perf_counter() - t0 < 2 * (0.3 + se.WATCHDOG_GRACE) + 1.0
        slow, last = sb.finish_tables(first, one)
        counted, slow_too = sb.finish_tables(second, two)
    assert slow.error_kind is ErrorKind.TIMEOUT and slow_too.error_kind is ErrorKind.TIMEOUT
    assert last.table.rows() == [(10,)] and counted.table.rows() == [(11,)]
    assert watchdog().fired >= fired + 2


def test_a_closed_reader_is_refused_and_closing_waits_for_a_running_one(db):
    from sqlrl.sandbox.errors import SandboxClosedError

    start = background()
    sb = Sandbox(db, timeout=30.0)
    tables = sb.start_tables([SLOW, "SELECT 1"], background=True)
    running = start([tables.job])
    time.sleep(0.2)
    t0 = time.perf_counter()
    sb.close()  # interrupts the running query and waits for the thread to leave the connection
    assert time.perf_counter() - t0 < 5
    (outcome,) = running.wait()
    assert outcome[0][0][0] == "error"  # interrupted
    with pytest.raises(ValueError, match="closed"):
        start([tables.job])
    with pytest.raises(SandboxClosedError):
        sb.start_tables(["SELECT 1"])


def _runs(results):
    return [(r.ok, r.error_kind, r.error, r.columns, r.table.rows() if r.ok else None) for r in results]


def test_prefetched_queries_give_what_the_call_gives(db, tmp_path, monkeypatch):
    """``run(..., ahead=prefetch(golds))`` gives what ``run`` gives, counts the same runs, and a prediction
    equal to a gold query reuses the gold's run even with no memo (as within one call)."""
    missing = str(tmp_path / "missing.sqlite")
    golds = [(str(db), q, "sqlite") for q in QUERIES] + [
        (str(db), "SELECT abs(random()) >= 0 AS r", "sqlite"),  # never shared: runs in the call
        (missing, "SELECT 1", "sqlite"),
        (str(db), "SELECT count(*) FROM v", "duckdb"),  # another engine: left to the call
        (str(db), "SELECT max(k) FROM v", "sqlite", "postgres"),  # a dialect: translated by the call
    ]
    preds = [(str(db), "SELECT * FROM v", "sqlite"), (str(db), "SELECT k FROM v", "sqlite")]
    queries = [*golds, *preds]
    flags = [True] * len(golds) + [False] * len(preds)
    with (
        ExecutionService(keep_rows=False, timeout=5.0) as plain,
        ExecutionService(keep_rows=False, timeout=5.0) as fast,
    ):
        want = plain.run(queries, gold=flags)
        ahead = fast.prefetch(golds)
        assert ahead.started  # the SQLite queries started
        early = [q for _, keys, _ in ahead.started for _, _, q in keys]
        then = fast.prefetch(preds[:1], gold=False, after=[ahead])  # the gold's text: started already
        assert not then.started and not then.keys
        batched: list[str] = []
        start_tables = Sandbox.start_tables
        monkeypatch.setattr(
            Sandbox, "start_tables", lambda self, sqls: batched.extend(sqls) or start_tables(self, sqls)
        )
        got = fast.run(queries, gold=flags, ahead=[ahead, then])
        assert "SELECT * FROM v" in early and not set(early) & set(batched)  # not run again
        assert "SELECT k FROM v" in batched
        assert _runs(got) == _runs(want)
        assert fast.stats == plain.stats
        assert got[len(golds)] is got[0]  # the prediction equal to a gold query took the gold's run


def test_nothing_starts_where_the_reader_cannot_run_it(db):
    with ExecutionService(keep_rows=True, timeout=5.0) as rows:  # keeps rows: the reader does not run them
        assert not rows.prefetch([(str(db), "SELECT 1", "sqlite")]).started
    with ExecutionService(keep_rows=False, timeout=5.0, gold_memo_size=8) as service:
        service.run([(str(db), "SELECT 1", "sqlite")], gold=True)
        assert not service.prefetch([(str(db), "SELECT 1", "sqlite")]).started  # a memo hit
        assert Prefetch().wait() == {}
    with ExecutionService(keep_rows=False, timeout=5.0, workers=1) as serial:  # one thread: nothing beside it
        assert not serial.prefetch([(str(db), "SELECT 1", "sqlite")]).started
    with ExecutionService(keep_rows=False, timeout=5.0, memo_size=8) as service:  # a prediction's memo
        service.run([(str(db), "SELECT 2", "sqlite")])
        assert not service.prefetch([(str(db), "SELECT 2", "sqlite")], gold=False).started
        assert service.prefetch([(str(db), "SELECT 2", "sqlite")]).started  # a gold query: the gold memo only


@pytest.mark.parametrize("per_question", [4, 16])
def test_the_rewards_start_queries_before_reading_the_completions(tmp_path, monkeypatch, per_question):
    """A reward call starts its gold queries first and reads the completions meanwhile; a GRPO batch (64
    completions or more) also starts its predictions part by part as it reads them. The scores and the runs
    counted are those of a call that starts nothing ahead."""
    from sqlrl.data.toy.load import load_toy
    from sqlrl.rewards import batch as batch_module
    from sqlrl.rewards import execution_reward, partial_reward
    from sqlrl.sql.mutate import mutations

    completions, gold, dbs = [], [], []
    for ex in list(load_toy("dev", cache_dir=tmp_path))[:8]:
        variants = [ex.gold_sql, *(m for _, m in mutations(ex.gold_sql)[:3])]
        for k in range(per_question):
            sql = variants[k % len(variants)]
            completions.append(f"```sql\n{sql}\n```" if k < 8 else f"```sql\n/* {k} */ {sql}\n```")
            gold.append(ex.gold_sql + ";")
            dbs.append(str(ex.db_path))
    events: list[str] = []
    prefetch, extract = ExecutionService.prefetch, batch_module._extract

    def spy_prefetch(self, queries, **options):
        ahead = prefetch(self, queries, **options)
        events.append(f"{'gold' if options.get('gold', True) else 'pred'} {len(ahead.keys)}")
        return ahead

    monkeypatch.setattr(ExecutionService, "prefetch", spy_prefetch)
    monkeypatch.setattr(batch_module, "_extract", lambda text: events.append("extract") or extract(text))
    scores = {}
    for mode in ("ahead", "not ahead"):
        if mode == "not ahead":
            monkeypatch.setattr(ExecutionService, "prefetch", lambda self, queries, **options: Prefetch())
        events.clear()
        funcs = [execution_reward(), partial_reward("paverl")]
        scores[mode] = [f(completions=completions, gold_sql=gold, db_path=dbs) for f in funcs]
        executed = funcs[0].executor.stats["executed"]
        for f in funcs:
            f.executor.close()
        if mode == "ahead":
            assert events[0].startswith("gold") and events[0] != "gold 0" and "extract" in events
            preds = [k for k, e in enumerate(events) if e.startswith("pred")]
            if len(completions) >= 64:  # parts of the predictions start between the completions read
                assert len(preds) > 1 and "extract" in events[preds[0] :] and "extract" in events[: preds[0]]
                assert sum(int(events[k].split()[1]) for k in preds) > 0
            else:
                assert not preds
            ran = executed
    assert scores["ahead"] == scores["not ahead"] and executed == ran
    assert len(set(scores["ahead"][0])) > 1
