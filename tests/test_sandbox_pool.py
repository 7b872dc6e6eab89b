"""SandboxPool: one sandbox per (database, engine), options passed through, failures as messages, closed together."""

from __future__ import annotations

import threading

import pytest

from sqlrl.eval._exec import SandboxPool as EvalSandboxPool
from sqlrl.rewards.executor import RewardExecutor
from sqlrl.sandbox import ErrorKind, Sandbox, SandboxClosedError
from sqlrl.sandbox.sandbox_pool import SandboxPool


def test_one_sandbox_per_database_and_engine(tiny_sqlite, cache_dir):
    with SandboxPool(engine="sqlite", cache_dir=cache_dir) as pool:
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
    with SandboxPool(**pool_options) as pool:
        sb = pool.get(tiny_sqlite)  # no engine named anywhere: the Sandbox default ("auto")
        assert isinstance(sb, Sandbox)
        assert {k: getattr(sb, k) if k == "engine" else getattr(sb.config, k) for k in expected} == expected
        assert sb.config.sqlglot_check is pool_options.get("sqlglot_check", False)


def test_evaluator_and_reward_defaults(tiny_sqlite):
    with EvalSandboxPool() as pool:
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
    pool = SandboxPool(engine="sqlite")
    message = pool.get(missing)
    assert isinstance(message, str) and message.startswith(f"cannot open database {missing} with sqlite: ")
    assert pool.get(missing) is message and len(pool) == 0
    res = pool.execute(missing, "SELECT 1")
    assert not res.ok and res.error_kind is ErrorKind.MISSING_DATABASE and res.error == message
    pool.close()
    assert pool.get(missing) is not message


def test_concurrent_first_use_opens_once_and_close_closes_all(tiny_sqlite, cache_dir):
    pool = SandboxPool(cache_dir=cache_dir)
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
