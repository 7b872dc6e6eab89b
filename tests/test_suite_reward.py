"""The ``suite`` reward preset and suites in training configs: on sqlrl-toy, a completion right by luck on the
database scores 1 under ``execution`` and 0 under ``suite``; the suite folder comes from ``data.suite`` through
the ``suite_dir`` column; missing suites are errors that say how to build them."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from sqlrl.rewards import PRESETS, RewardInputError, RewardSpec, RewardSpecError, build_rewards, score, score_terms
from sqlrl.scoring import as_table, compare, gold_has_order_by
from sqlrl.sql.mutate import mutations
from sqlrl.suite import build_suite
from sqlrl.train import TrainConfig
from sqlrl.train.config import ConfigError, PromptConfig
from sqlrl.train.data import load_train_data, to_rows
from sqlrl.train.runner import check_suites


def _lucky(db: str, gold: str) -> str | None:
    """A near-miss of ``gold`` without its WHERE that gives the gold's result on ``db``."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        want = con.execute(gold).fetchall()
        if not want:
            return None
        for _, text in mutations(gold, ("drop_where",)):
            got = con.execute(text).fetchall()
            if compare(as_table(want), as_table(got), order_matters=gold_has_order_by(gold)):
                return text
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return None


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory):
    """sqlrl-toy in a fresh cache, its training rows with ``suite_dir``, and suites for its three databases
    built from a few training golds each (among them one whose WHERE is redundant on the original)."""
    root = tmp_path_factory.mktemp("suite_reward")
    suites = root / "suites"
    suites.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SQLRL_CACHE_DIR", str(root / "cache"))
        cfg = TrainConfig.from_dict({
            "output_dir": str(root / "run"),
            "data": {"source": "toy", "augment": 0, "val_size": 8, "suite": str(suites)},
            "stages": [{"name": "rl", "rewards": "suite"}],
        })  # fmt: skip
        data = load_train_data(cfg.data, seed=0)
    rows = to_rows(data.train, PromptConfig(schema_format="none"), cfg.data, tables=data.tables)
    by_db: dict[str, list[str]] = {}
    for row in rows:
        golds = by_db.setdefault(row["db_path"], [])
        if row["gold_sql"] not in golds:
            golds.append(row["gold_sql"])
    flights = next(db for db in by_db if Path(db).stem == "flights")
    picked = next(
        (g, m) for g in by_db[flights] if "INTERSECT" not in g and "ORDER BY" not in g for m in [_lucky(flights, g)] if m
    )  # fmt: skip
    for db, golds in sorted(by_db.items()):
        chosen = ([picked[0]] if db == flights else []) + golds[:4]
        build_suite(db, chosen, k=5, seed=0, out_dir=suites, candidates=20, progress=False)
    return {"cfg": cfg, "rows": rows, "suites": suites, "db": flights, "gold": picked[0], "lucky": picked[1]}


def test_the_suite_preset_scores_a_lucky_completion_0_where_execution_scores_1(toy):
    gold, lucky, db = toy["gold"], toy["lucky"], toy["db"]
    completions = [gold, lucky, "SELECT nope FROM flights"]
    assert score(completions, gold, db, spec="execution", timeout=5.0) == [1.0, 1.0, 0.0]
    on_suite = score_terms(completions, gold, db, spec="suite", suite_dir=str(toy["suites"]), timeout=5.0)
    assert on_suite == {"execution_suite": [1.0, 0.0, 0.0]}
    # the same from a spec term with the folder, and from YAML with suite: true
    explicit = [{"name": "execution", "suite": str(toy["suites"])}]
    assert score(completions, gold, db, spec=explicit, timeout=5.0) == [1.0, 0.0, 0.0]
    yaml_spec = RewardSpec.from_yaml("rewards:\n  - {name: partial, suite: true}\n")
    partial = score(completions, gold, db, spec=yaml_spec, suite_dir=str(toy["suites"]), timeout=5.0)
    assert partial[0] == 1.0 and partial[1] < 1.0


def test_a_training_stage_with_the_suite_preset_reads_data_suite(toy):
    """What `sqlrl train` does with `rewards: suite` and `data.suite`: rows carry suite_dir, the stage's rewards
    (built as the runner builds them) read it, and the suites of every training database are checked first."""
    cfg, rows = toy["cfg"], toy["rows"]
    assert all(r["suite_dir"] == str(toy["suites"].resolve()) for r in rows)
    counts = check_suites(cfg, rows)
    assert sorted(Path(db).stem for db in counts) == ["flights", "library", "university"]
    assert counts[toy["db"]] >= 1
    funcs, weights = build_rewards(cfg.stages[0].rewards, timeout=cfg.timeout, workers=1)
    assert [f.__name__ for f in funcs] == ["execution_suite"] and weights == [1.0]
    row = next(r for r in rows if r["db_path"] == toy["db"])
    batch = {k: [v] * 2 for k, v in row.items() if k != "prompt"}
    batch["gold_sql"] = [toy["gold"]] * 2
    assert funcs[0](prompts=[row["prompt"]] * 2, completions=[toy["gold"], toy["lucky"]], **batch) == [1.0, 0.0]
    plain, _ = build_rewards("execution", timeout=cfg.timeout, workers=1)
    assert plain[0](prompts=[row["prompt"]] * 2, completions=[toy["gold"], toy["lucky"]], **batch) == [1.0, 1.0]


def test_suite_settings_that_cannot_work_are_clear_errors(toy, tmp_path):
    gold, db = toy["gold"], toy["db"]
    with pytest.raises(RewardInputError, match="needs the dataset column suite_dir.*data.suite"):
        score([gold], gold, db, spec="suite", timeout=5.0)
    with pytest.raises(RewardInputError, match="does not exist: build one with `sqlrl suite build"):
        score([gold], gold, db, spec="suite", suite_dir=str(tmp_path / "nowhere"), timeout=5.0)
    (tmp_path / "other").mkdir()
    with pytest.raises(RewardInputError, match=r"no test suite for .*flights.*sqlrl suite build --db"):
        score([gold], gold, db, spec="suite", suite_dir=str(tmp_path / "other"), timeout=5.0)
    (tmp_path / "other" / "flights").mkdir()
    with pytest.raises(RewardInputError, match="holds no .sqlite or .duckdb file"):
        score([gold], gold, db, spec="suite", suite_dir=str(tmp_path / "other"), timeout=5.0)
    with pytest.raises(RewardSpecError, match="folder of test suites"):
        RewardSpec.from_list([{"name": "execution", "suite": str(tmp_path / "nowhere")}])
    # a stage rewarding on suites without data.suite, data.suite missing, a training database without a suite
    bare = TrainConfig.from_dict({"data": {"source": "toy"}, "stages": [{"name": "rl", "rewards": "suite"}]})
    with pytest.raises(ConfigError, match=r"stage\(s\) rl reward on test suites .* data.suite is not set"):
        check_suites(bare, toy["rows"])
    with pytest.raises(ConfigError, match="data.suite .* does not exist: build the suites first"):
        TrainConfig.from_dict({"data": {"source": "toy", "suite": str(tmp_path / "nowhere")}})
    partial = tmp_path / "partial"
    shutil.copytree(toy["suites"] / "flights", partial / "flights")
    cfg = TrainConfig.from_dict({"data": {"source": "toy", "suite": str(partial)}, "stages": [{"rewards": "suite"}]})
    with pytest.raises(ConfigError, match=r"lacks the test suite of 2 training database\(s\).*library.*university"):
        check_suites(cfg, toy["rows"])


def test_a_suite_that_kept_no_variant_scores_as_its_database(toy, tmp_path):
    """Documented: when the build kept no variant (none separated a near-miss), the suite is the database alone."""
    gold, lucky, db = toy["gold"], toy["lucky"], toy["db"]
    folder = tmp_path / "s" / "flights"
    folder.mkdir(parents=True)
    shutil.copyfile(db, folder / "flights.sqlite")
    (folder / "suite.json").write_text(json.dumps({"variants": [], "tied": {}}))
    assert score([gold, lucky], gold, db, spec="suite", suite_dir=str(tmp_path / "s"), timeout=5.0) == [1.0, 1.0]


def test_the_presets_list_suite():
    assert "suite" in PRESETS
    assert PRESETS["suite"].to_list() == [
        {"name": "execution", "weight": 1.0, "label": "execution_suite", "mode": "spider", "suite": True}
    ]
