"""The ray backend of the execution service, against a fake ``ray`` module (Ray is not installed for the tests).

The fake runs every actor in this process but sends arguments and results through pickle, as Ray's
process boundary does, and records each remote call, so the tests check sqlrl's routing, batching,
memo and lifetime logic; benchmarks/bench_ray.py runs the same code on a real Ray cluster.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
import subprocess
import sys
import types
from pathlib import Path

import pytest

from sqlrl.eval.pred_files import BIRD_SEPARATOR
from sqlrl.rewards import build_rewards
from sqlrl.rewards.executor import RewardExecutor
from sqlrl.sandbox.ray_service import RayExecutionService, RayNotInstalledError, make_service, route
from sqlrl.sandbox.service import ExecutionService


def _fake_ray() -> types.ModuleType:
    ray = types.ModuleType("ray")
    ray.calls = []  # (actor number, method name, number of queries or None)
    ray.state = {"initialized": False, "init_kwargs": None, "actors": 0}

    class Ref:
        def __init__(self, value):
            self.value = value

    class Handle:
        def __init__(self, obj, number):
            self._obj, self._number, self.killed = obj, number, False

        def __getattr__(self, name):
            method = getattr(self._obj, name)
            handle = self

            class Method:
                @staticmethod
                def remote(*args):
                    assert not handle.killed, "call on a killed actor"
                    args = pickle.loads(pickle.dumps(args))  # what crosses a process boundary
                    size = len(args[0]) if name == "run" else None
                    ray.calls.append((handle._number, name, size))
                    return Ref(pickle.dumps(method(*args)))

            return Method

    def remote(*args, **options):
        def wrap(cls):
            class ActorClass:
                @staticmethod
                def remote(*a):
                    assert ray.state["initialized"], "ray.init first"
                    ray.state["actors"] += 1
                    return Handle(cls(*pickle.loads(pickle.dumps(a))), ray.state["actors"] - 1)

            return ActorClass

        return wrap(args[0]) if args and not options else wrap

    def get(refs):
        if isinstance(refs, list):
            return [pickle.loads(r.value) for r in refs]
        return pickle.loads(refs.value)

    def init(address=None, **kwargs):
        ray.state.update(initialized=True, init_kwargs={"address": address, **kwargs})

    def kill(handle):
        handle.killed = True

    ray.remote, ray.get, ray.init, ray.kill = remote, get, init, kill
    ray.is_initialized = lambda: ray.state["initialized"]
    return ray


@pytest.fixture
def ray(monkeypatch):
    fake = _fake_ray()
    monkeypatch.setitem(sys.modules, "ray", fake)
    return fake


@pytest.fixture(scope="module")
def dbs(tmp_path_factory) -> list[Path]:
    """Four small SQLite databases with the same schema and other values."""
    root = tmp_path_factory.mktemp("ray-dbs")
    paths = []
    for k in range(4):
        path = root / f"db{k}.sqlite"
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t (id INTEGER, name TEXT, price REAL)")
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, f"n{(i + k) % 5}", i * 1.5 + k) for i in range(20)])
        con.commit()
        con.close()
        paths.append(path)
    return paths


GOLDS = ["SELECT name FROM t WHERE id < 5", "SELECT count(*) FROM t", "SELECT id, price FROM t ORDER BY price DESC"]
PREDS = [
    "SELECT name FROM t WHERE id < 5",
    "SELECT name FROM t WHERE id <= 5",
    "SELECT count(*) FROM t",
    "SELECT count(id) + 0.0 FROM t",
    "SELECT id, price FROM t ORDER BY price DESC",
    "SELECT price, id FROM t",
    "SELEC oops",
    "DROP TABLE t",
    "SELECT random() FROM t LIMIT 1",
    "no sql here",
]


def _batch(dbs: list[Path], prompts: int = 12, group: int = 4) -> dict[str, list]:
    rows: dict[str, list] = {"prompts": [], "completions": [], "gold_sql": [], "db_path": []}
    for p in range(prompts):
        for g in range(group):
            pred = PREDS[(p * 3 + g) % len(PREDS)]
            rows["prompts"].append(f"question {p}")
            rows["completions"].append(f"```sql\n{pred}\n```" if pred != "no sql here" else pred)
            rows["gold_sql"].append(GOLDS[p % len(GOLDS)])
            rows["db_path"].append(str(dbs[p % len(dbs)]))
    return rows


def _scores(funcs, rows):
    return {f.__name__: f(**rows) for f in funcs}


def test_ray_is_imported_only_when_asked_and_its_absence_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails
    RewardExecutor()  # the local backend needs no Ray
    with pytest.raises(RayNotInstalledError, match=r"pip install 'sqlrl\[ray\]'"):
        RewardExecutor(backend="ray")
    with pytest.raises(ImportError, match="sqlrl\\[ray\\]"):
        build_rewards("execution", backend="ray", ray_actors=2)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"backend": "spark"}, "backend must be one of local, ray"),
        ({"backend": "ray", "ray_actors": 0}, "actors must be a whole number >= 1"),
        ({"backend": "ray", "ray_actors": True}, "actors must be a whole number >= 1"),
        ({"ray_actors": 2}, "need backend='ray'"),
        ({"ray_address": "auto"}, "need backend='ray'"),
    ],
)
def test_bad_backend_options_fail_at_construction(ray, options, error):
    with pytest.raises(ValueError, match=error):
        RewardExecutor(**options)
    assert ray.calls == [] and ray.state["actors"] == 0


def test_placement_is_checked(ray):
    with pytest.raises(ValueError, match="must be an actor index in 0..1"):
        RayExecutionService(actors=2, placement={"a.sqlite": 2})


def test_owners_follow_placement_then_hash_then_balance(ray):
    service = RayExecutionService(actors=2, placement={"/d/pinned.sqlite": 1})
    assert service.owner("/d/pinned.sqlite") == 1
    names = [f"/d/db{i}.sqlite" for i in range(5)]
    owners = [service.owner(n) for n in names]
    assert owners == [service.owner(n) for n in names]  # fixed once chosen
    assert sorted([*owners, 1].count(a) for a in (0, 1)) == [3, 3]
    assert service.owner(names[0]) == route(names[0], 2) or route(names[0], 2) == 1  # the hash first


def test_route_is_stable_and_spreads_databases():
    names = [f"/data/db{i}.sqlite" for i in range(200)]
    first = [route(n, 4) for n in names]
    assert first == [route(n, 4) for n in names]
    assert set(first) == {0, 1, 2, 3} and max(first.count(k) for k in range(4)) < 80
    # the same in another interpreter (Python's own str hash is salted per process)
    code = "import json, sys; from sqlrl.sandbox.ray_service import route; print(json.dumps([route(f'/data/db{i}.sqlite', 4) for i in range(200)]))"  # noqa: E501
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout) == first


def test_rewards_on_ray_score_as_in_process_with_one_call_per_actor_per_batch(ray, dbs):
    spec = [{"name": "execution", "mode": "spider"}, {"name": "execution", "mode": "bird"},
            {"name": "partial", "metric": "table_f1"}, {"name": "partial", "metric": "paverl"}]  # fmt: skip
    rows = _batch(dbs)
    local, _ = build_rewards(spec, timeout=2.0)
    remote, _ = build_rewards(spec, timeout=2.0, backend="ray", ray_actors=3)
    want = _scores(local, rows)
    ray.calls.clear()
    got = _scores(remote, rows)
    assert got == want
    assert ray.state["init_kwargs"]["address"] is None
    runs = [c for c in ray.calls if c[1] == "run"]
    service = remote[0].executor.service
    owners = {service.owner(db) for db in dbs}
    assert owners == {0, 1, 2}  # four databases spread over the three actors
    # one call per actor that owns a database, for the golds and the predictions together; never one per query
    assert len(runs) == len(owners) and {c[0] for c in runs} == owners
    assert sum(c[2] for c in runs) < len(rows["completions"]) + len(GOLDS) * len(dbs)
    # the databases were opened in one call per actor, before the batch ran
    opens = [c for c in ray.calls if c[1] in ("describe", "describe_many")]
    assert sorted(c[0] for c in opens) == sorted(owners) and {c[1] for c in opens} == {"describe_many"}
    assert isinstance(service, RayExecutionService)
    # every database was opened on its own actor only
    opened = {db: sb.actor for (db, _), sb in service._opened.items()}
    assert opened == {str(db): service.owner(db) for db in dbs}
    stats = service.actor_stats()
    assert sum(s["sandboxes"] for s in stats) == len(dbs)


def test_the_memo_stays_on_the_driver(ray, dbs):
    rows = _batch(dbs)
    funcs, _ = build_rewards("execution", timeout=2.0, backend="ray", ray_actors=2)
    first = funcs[0](**rows)
    ray.calls.clear()
    again = dict(rows, completions=[f"Answer:\n{c}" for c in rows["completions"]])  # other texts, same SQL
    assert funcs[0](**again) == first
    runs = [c for c in ray.calls if c[1] == "run"]
    # only the non-deterministic text (random()) runs again, on its database's actor
    assert runs and all(c[2] >= 1 for c in runs)
    service = funcs[0].executor.service
    assert service.stats["memo_hits"] > 0
    assert sum(c[2] for c in runs) == sum("random()" in c for c in again["completions"])


def test_results_come_back_as_exec_results_with_rows_or_tables(ray, dbs):
    with RayExecutionService(actors=2, timeout=2.0) as service:
        queries = [(dbs[0], "SELECT id, name FROM t WHERE id < 3"), (dbs[1], "SELECT nope FROM t"),
                   (dbs[0], "SELECT id, name FROM t WHERE id < 3"), ("missing.sqlite", "SELECT 1")]  # fmt: skip
        with ExecutionService(timeout=2.0) as local:
            want = local.run(queries)
        got = service.run(queries)
        assert [(r.ok, r.rows, r.error_kind) for r in got] == [(r.ok, r.rows, r.error_kind) for r in want]
        assert got[0] is got[2]  # each distinct query once
        assert "cannot open database missing.sqlite" in got[3].error
        one = service.execute(dbs[1], "SELECT count(*) FROM t")
        assert one.rows == [(20,)]
    tables = RayExecutionService(actors=2, keep_rows=False, timeout=2.0)
    result = tables.run([(dbs[2], "SELECT name, price FROM t")])[0]
    assert result.rows is None and result.table.num_rows == 20
    copy = pickle.loads(pickle.dumps(result))  # a table-only result pickles through its rows
    assert copy.table.fingerprint() == result.table.fingerprint()
    tables.close()


def test_close_ends_the_actors_and_the_service_starts_new_ones(ray, dbs):
    service = RayExecutionService(actors=2, timeout=2.0)
    assert ray.state["actors"] == 0  # nothing starts before the first query
    service.run([(dbs[0], "SELECT 1"), (dbs[1], "SELECT 2")])
    handles = service.handles()
    assert ray.state["actors"] == 2
    service.close()
    assert all(h.killed for h in handles) and len(service) == 0
    assert service.run([(dbs[0], "SELECT 3")])[0].rows == [(3,)]
    assert ray.state["actors"] == 4
    service.close()


def test_a_pickled_executor_keeps_its_backend(ray):
    ex = RewardExecutor(backend="ray", ray_actors=3, ray_address="ray://head:10001", timeout=2.0)
    copy = pickle.loads(pickle.dumps(ex))
    assert isinstance(copy.service, RayExecutionService)
    assert (copy.service.actors, copy.service.address) == (3, "ray://head:10001")
    assert "backend" not in RewardExecutor().options()


def test_make_service_local_and_ray(ray):
    assert type(make_service("local")) is ExecutionService
    assert isinstance(make_service("ray", ray_actors=1), RayExecutionService)


def _bird_files(root: Path, dbs: list[Path]) -> tuple[Path, Path, Path]:
    db_root = root / "dev_databases"
    preds, gold = {}, []
    for i, pred in enumerate(PREDS):
        db = dbs[i % len(dbs)]
        target = db_root / db.stem / f"{db.stem}.sqlite"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(db.read_bytes())
        preds[str(i)] = f"{pred}{BIRD_SEPARATOR}{db.stem}"
        gold.append(f"{GOLDS[i % len(GOLDS)]}\t{db.stem}")
    (root / "preds.json").write_text(json.dumps(preds))
    (root / "gold.sql").write_text("\n".join(gold) + "\n")
    return root / "preds.json", root / "gold.sql", db_root


def test_an_evaluation_on_ray_gives_the_same_verdicts(ray, dbs, tmp_path):
    from sqlrl.eval.bird import evaluate_bird

    files = _bird_files(tmp_path, dbs)
    local = evaluate_bird(*files, timeout=2.0, workers=2)
    remote = evaluate_bird(*files, timeout=2.0, workers=2, backend="ray", ray_actors=2)
    metrics = [ex.metrics for ex in local.examples]
    assert metrics == [ex.metrics for ex in remote.examples]
    assert any(m["ex"] == 1.0 for m in metrics) and any(m["ex"] == 0.0 for m in metrics)
    assert [c[1] for c in ray.calls].count("run") <= 2


def test_eval_command_backend_flags(monkeypatch, dbs, tmp_path, capsys):
    from sqlrl.cli import main

    files = _bird_files(tmp_path, dbs)
    argv = ["eval", "bird", "--pred", str(files[0]), "--gold", str(files[1]), "--db-root", str(files[2])]
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main([*argv, "--backend", "ray", "--ray-actors", "2"]) == 1
    assert "pip install 'sqlrl[ray]'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*argv, "--backend", "spark"])


def test_verl_reward_kwargs_choose_the_ray_backend(ray, dbs):
    from sqlrl.integrations import verl

    rows = _batch(dbs, prompts=3, group=2)
    args = (
        ["toy"] * len(rows["completions"]),
        rows["completions"],
        rows["gold_sql"],
        [{"db_path": db} for db in rows["db_path"]],
    )
    local = verl.compute_score_batch(*args, spec="stage1", timeout=2.0)
    remote = verl.compute_score_batch(*args, spec="stage1", timeout=2.0, backend="ray", ray_actors=2)
    assert remote == local
    assert any(c[1] == "run" for c in ray.calls)


def test_the_eval_flags_offer_the_service_backends():
    from sqlrl.eval.options import EXEC_BACKENDS
    from sqlrl.sandbox.ray_service import BACKENDS

    assert EXEC_BACKENDS == BACKENDS
