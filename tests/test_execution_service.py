"""ExecutionService: one sandbox per (database, engine), options passed through, failures as messages, closed together."""

from __future__ import annotations

import threading

import pytest

from sqlrl.eval._exec import evaluation_service
from sqlrl.rewards.executor import RewardExecutor
from sqlrl.sandbox import ErrorKind, Sandbox, SandboxClosedError
from sqlrl.sandbox.parallel import parallel_map
from sqlrl.sandbox.service import ExecutionService


def test_one_sandbox_per_database_and_engine(tiny_sqlite, cache_dir):
    with ExecutionService(engine="sqlite", cache_dir=cache_dir) as pool:
        default = pool.get(tiny_sqlite)
        assert isinstance(default, Sandbox) and default.engine == "sqlite"
        assert pool.get(str(tiny_sqlite)) is default and pool.get(tiny_sqlite, engine="sqlite") is default
        duck = pool.get(tiny_sqlite, engine="duckdb")
        assert isinstance(duck, Sandbox) and duck.engine == "duckdb" and duck is not default
        assert len(pool) == 2
        assert pool.execute(tiny_sqlite, "SELECT count(*) FROM t", engine="duckdb").rows == [(1000,)]


@pytest.mark.parametrize(
    ("pool_options", "expected"),
    [
        ({}, dict(engine="sqlite", timeout=5.0, max_rows=100_000, memory_limit="1GB", text_errors="surrogateescape")),
        (
            dict(timeout=2.0, text_errors="ignore", sqlglot_check=True),
            dict(engine="sqlite", timeout=2.0, text_errors="ignore"),
        ),
    ],
)
def test_options_reach_every_sandbox(tiny_sqlite, pool_options, expected):
    with ExecutionService(**pool_options) as pool:
        sb = pool.get(tiny_sqlite)  # no engine named anywhere: the Sandbox default ("auto")
        assert isinstance(sb, Sandbox)
        assert {k: getattr(sb, k) if k == "engine" else getattr(sb.config, k) for k in expected} == expected
        assert sb.config.sqlglot_check is pool_options.get("sqlglot_check", False)


def test_evaluator_and_reward_defaults(tiny_sqlite):
    with evaluation_service() as pool:
        cfg = pool.get(tiny_sqlite).config
        assert (cfg.engine, cfg.timeout, cfg.text_errors, cfg.memory_limit) == ("sqlite", 30.0, "strict", "2GB")
    ex = RewardExecutor(timeout=2.0, max_rows=50)
    try:
        cfg = ex.sandbox(str(tiny_sqlite), "duckdb").config
        assert (cfg.engine, cfg.timeout, cfg.max_rows, cfg.text_errors, cfg.memory_limit) == (
            "duckdb",
            2.0,
            50,
            "surrogateescape",
            "1GB",
        )
        assert ex.sandbox(str(tiny_sqlite), "oracle").startswith("unknown engine 'oracle'")
    finally:
        ex.close()


def test_unopenable_database_is_a_message_remembered_until_close(tmp_path):
    missing = tmp_path / "missing.sqlite"
    pool = ExecutionService(engine="sqlite")
    message = pool.get(missing)
    assert isinstance(message, str) and message.startswith(f"cannot open database {missing} with sqlite: ")
    assert pool.get(missing) is message and len(pool) == 0
    res = pool.execute(missing, "SELECT 1")
    assert not res.ok and res.error_kind is ErrorKind.MISSING_DATABASE and res.error == message
    pool.close()
    assert pool.get(missing) is not message


def test_concurrent_first_use_opens_once_and_close_closes_all(tiny_sqlite, cache_dir):
    pool = ExecutionService(cache_dir=cache_dir)
    got: list[object] = []
    threads = [
        threading.Thread(target=lambda e=e: got.append(pool.get(tiny_sqlite, engine=e)))
        for e in ["sqlite", "duckdb"] * 4
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    opened = {id(sb): sb for sb in got}
    assert len(opened) == 2 == len(pool)
    pool.close()
    assert len(pool) == 0
    for sb in opened.values():
        with pytest.raises(SandboxClosedError):
            sb.execute("SELECT 1")
    assert pool.get(tiny_sqlite, engine="sqlite") not in opened.values()
    pool.close()


def test_parallel_map_keeps_order_and_raises():
    assert parallel_map(lambda x: x * x, range(100), workers=4) == [x * x for x in range(100)]

    def boom(x: int) -> int:
        if x == 37:
            raise KeyError(x)
        return x

    with pytest.raises(KeyError):
        parallel_map(boom, range(100), workers=3)


def test_identical_queries_run_once_unless_nondeterministic(tiny_sqlite, tmp_path):
    with evaluation_service(timeout=2) as service:
        a, b, c, d = service.run(
            [(tiny_sqlite, "SELECT 1"), (tiny_sqlite, "SELECT 1"), (tiny_sqlite, "SELECT random()"),
             (tiny_sqlite, "SELECT random()")]
        )  # fmt: skip
        assert a is b and a.rows == [(1,)] and c is not a and d is not c
        assert service.stats["executed"] == 3
        missing = service.execute(tmp_path / "nope.sqlite", "SELECT 1")
        assert missing.error_kind == "missing_database"
        with pytest.raises(TypeError, match=r"\(database, sql\) or \(database, sql, engine\)"):
            service.run([(tiny_sqlite, "SELECT 1", True)])


def test_memos_across_calls_and_gold_reuse(tiny_sqlite):
    with ExecutionService(engine="sqlite", memo_size=8, gold_memo_size=8, keep_rows=False) as service:
        [gold] = service.run([(tiny_sqlite, "SELECT count(*) FROM t")], gold=True)
        assert gold.ok and gold.rows is None and gold.num_rows == 1 and gold.table.num_rows == 1
        pred, other = service.run([(tiny_sqlite, "SELECT count(*) FROM t"), (tiny_sqlite, "SELECT 2")])
        assert pred is gold  # a prediction that is its gold's text reuses the gold's run
        assert service.run([(tiny_sqlite, "SELECT 2")])[0] is other
        assert service.stats == {"executed": 2, "memo_hits": 2}
        service.clear()
        assert service.run([(tiny_sqlite, "SELECT 2")])[0] is not other


def test_gold_queries_and_predictions_in_one_call_go_to_their_memos(tiny_sqlite):
    """``gold`` as a flag per query: one call runs a batch's gold queries and predictions side by side, each
    result filed in its memo (a text that is both a gold and a prediction runs once, as a gold)."""
    with ExecutionService(engine="sqlite", memo_size=8, gold_memo_size=8, keep_rows=False) as service:
        queries = [(tiny_sqlite, "SELECT count(*) FROM t"), (tiny_sqlite, "SELECT 2"),
                   (tiny_sqlite, "SELECT count(*) FROM t"), (tiny_sqlite, "SELECT 3")]  # fmt: skip
        gold, two, pred, three = service.run(queries, gold=[True, False, False, True])
        assert pred is gold and service.stats["executed"] == 3
        assert service._gold_memo.get((str(tiny_sqlite), "sqlite", "SELECT count(*) FROM t")) is gold
        assert service._gold_memo.get((str(tiny_sqlite), "sqlite", "SELECT 3")) is three
        assert service._memo.get((str(tiny_sqlite), "sqlite", "SELECT 2")) is two
        assert len(service._memo) == 1 and len(service._gold_memo) == 2
        assert service.run([(tiny_sqlite, "SELECT 3")])[0] is three  # a prediction finds a gold's result
        with pytest.raises(ValueError, match="3 flags for 4 queries"):
            service.run(queries, gold=[True, False, False])


@pytest.mark.parametrize("workers", [1, 4, None])
def test_run_in_order_on_any_number_of_threads(tiny_sqlite, workers):
    with ExecutionService(engine="sqlite", workers=workers) as service:
        results = service.run([(tiny_sqlite, f"SELECT {i}") for i in range(50)], workers=workers)
        assert [r.rows for r in results] == [[(i,)] for i in range(50)]


def test_parallel_and_service_doctests():
    import doctest

    from sqlrl import _cliutil
    from sqlrl.sandbox import parallel, service

    for module in (parallel, service, _cliutil):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0, module.__name__


def test_service_map_runs_on_its_kept_threads(tiny_sqlite):
    import threading

    with ExecutionService(engine="sqlite", workers=3) as service:
        names = service.map(lambda _: threading.current_thread().name, range(30))
        again = service.map(lambda _: threading.current_thread().name, range(30))
        assert all(n.startswith("sqlrl-exec") for n in names + again)
        assert len(set(names + again)) <= 3  # one pool of three threads, kept between calls
        with pytest.raises(ZeroDivisionError):
            service.map(lambda x: 1 // (x - 7), range(20))


def test_keywords_for_reads_parameters_and_dataclass_fields():
    import argparse
    import dataclasses

    from sqlrl._cliutil import keywords_for

    @dataclasses.dataclass
    class Settings:
        n: int = 1
        temperature: float = 0.0

    args = argparse.Namespace(n=4, temperature=0.5, out="x")
    assert keywords_for(Settings, args, n=2) == {"n": 2, "temperature": 0.5}
