"""Reward functions on hand-made completions, shared execution, length gating, metrics, spec, score()."""

from __future__ import annotations

import math
import pickle
import sqlite3
import sys
from pathlib import Path

import pytest

from sqlrl.rewards import (
    PRESETS,
    RewardExecutor,
    RewardInputError,
    RewardSpec,
    RewardSpecError,
    build_rewards,
    components_reward,
    execution_reward,
    format_reward,
    length_reward,
    ngram_reward,
    partial_reward,
    schema_linking_reward,
    score,
    score_terms,
    syntax_reward,
)
from sqlrl.rewards.spec import reward_params

ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("rewards") / "music.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT, age INTEGER, country TEXT);
        CREATE TABLE concert (id INTEGER PRIMARY KEY, singer_id INTEGER REFERENCES singer(id), year INTEGER);
        INSERT INTO singer VALUES (1, 'Ann', 30, 'FR'), (2, 'Bob', 40, 'US'), (3, 'Cid', 50, 'US');
        INSERT INTO concert VALUES (1, 1, 2020), (2, 1, 2021), (3, 2, 2021);
        """
    )
    con.commit()
    con.close()
    return str(path)


def fence(sql: str) -> str:
    return f"<think>reasoning</think>\n```sql\n{sql}\n```"


def call(reward, completions, gold, db, **columns):
    n = len(completions)
    return reward(prompts=["q"] * n, completions=completions, gold_sql=[gold] * n, db_path=[db] * n, **columns)


# ------------------------------------------------------------------------------------------ execution

GOLD = "SELECT name, age FROM singer WHERE country = 'US'"
CASES = [  # completion, execution (spider), partial table_f1
    (fence("SELECT age, name FROM singer WHERE country = 'US'"), 1.0, 1.0),  # columns swapped: spider ignores
    (fence("SELECT name, age FROM singer WHERE age >= 40 ORDER BY age DESC"), 1.0, 1.0),  # same rows
    (fence("SELECT name, age FROM singer"), 0.0, 0.8),  # one extra row
    (fence("SELECT name FROM singer WHERE country = 'US'"), 0.0, 2 / 3),  # one column missing
    (fence("SELECT nme FROM singer"), 0.0, 0.0),  # unknown column
    (fence("SELEC name FROM singer"), 0.0, 0.0),  # syntax error
    ("I do not know.", 0.0, 0.0),  # no SQL
    (fence("DELETE FROM singer"), 0.0, 0.0),
    (fence("ATTACH DATABASE 'other.db' AS other"), 0.0, 0.0),
    (fence("SELECT 1; DROP TABLE singer"), 0.0, 0.0),  # two statements
]


def test_execution_and_partial_on_hand_made_completions(db):
    completions = [c for c, _, _ in CASES]
    assert call(execution_reward(timeout=2.0), completions, GOLD, db) == [e for _, e, _ in CASES]
    got = call(partial_reward("table_f1", timeout=2.0), completions, GOLD, db)
    assert got == pytest.approx([p for _, _, p in CASES])


def test_execution_modes_and_values(db):
    dup = fence("SELECT name FROM singer WHERE country = 'US' UNION ALL SELECT 'Bob'")
    gold = "SELECT name FROM singer WHERE country = 'US'"
    assert call(execution_reward("spider"), [dup], gold, db) == [0.0]  # bag: duplicates count
    assert call(execution_reward("bird"), [dup], gold, db) == [1.0]  # set
    reordered = fence("SELECT name FROM singer ORDER BY age DESC")
    assert call(execution_reward("spider"), [reordered], "SELECT name FROM singer ORDER BY age", db) == [0.0]
    assert call(execution_reward("spider"), [reordered], "SELECT name FROM singer", db) == [1.0]
    assert call(
        execution_reward("strict"), [fence("SELECT age, name FROM singer")], "SELECT name, age FROM singer", db
    ) == [0.0]
    custom = execution_reward(correct=2.0, wrong=-0.5, error=-1.0)
    assert call(custom, [fence(gold), fence("SELECT 'x'"), fence("SELECT nope")], gold, db) == [2.0, -0.5, -1.0]


def test_conversational_completions_and_trl_hooks(db):
    completions = [[{"role": "assistant", "content": fence("SELECT count(*) FROM singer")}]]
    out = execution_reward()(
        prompts=[[{"role": "user", "content": "how many?"}]],
        completions=completions,
        completion_ids=[[1, 2, 3]],
        gold_sql=["SELECT count(*) FROM singer"],
        db_path=[db],
        trainer_state=object(),
        log_extra=lambda column, values: None,
        log_metric=lambda name, value: None,
    )
    assert out == [1.0]


def test_timeout_stops_an_endless_query(db):
    metrics: dict[str, float] = {}
    reward = execution_reward(timeout=0.2)
    out = reward(
        completions=[fence(ENDLESS), fence("SELECT 1")],
        gold_sql=["SELECT 1"] * 2,
        db_path=[db] * 2,
        log_metric=metrics.__setitem__,
    )
    assert out == [0.0, 1.0]
    assert metrics["sql/timeout"] == 0.5
    # a query stopped by the timeout is valid SQL: the syntax reward checks it by binding it
    assert syntax_reward(executor=reward.executor)(completions=[fence(ENDLESS)], db_path=[db]) == [1.0]


def test_gold_missing_or_failing_is_not_applicable(db):
    out = execution_reward()(
        completions=[fence("SELECT 1")] * 3,
        gold_sql=["SELECT 1", None, "SELECT nope FROM singer"],
        db_path=[db, db, db],
    )
    assert out == [1.0, None, None]


@pytest.mark.parametrize(
    "factory",
    [execution_reward, partial_reward, length_reward, syntax_reward, schema_linking_reward, components_reward],
)
def test_a_database_that_cannot_open_is_a_setup_error(db, tmp_path, factory):
    # not the completion's fault: raise, naming the row and the database, instead of scoring the batch 0 / None
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    for bad in ("/nope.sqlite", str(text)):
        with pytest.raises(RewardInputError, match=f"row 1: cannot open database {bad}"):
            factory()(completions=[fence("SELECT 1")] * 2, gold_sql=["SELECT 1"] * 2, db_path=[db, bad])
    with pytest.raises(RewardInputError, match="unknown engine 'oracle'"):
        call(execution_reward(), [fence("SELECT 1")], "SELECT 1", db, engine=["oracle"])
    # rewards that do not read the database do not care
    assert call(format_reward(think="optional"), [fence("SELECT 1")], "SELECT 1", "/nope.sqlite") == [1.0]


def test_missing_column_is_a_setup_error(db):
    with pytest.raises(RewardInputError, match="gold_sql"):
        execution_reward()(completions=["SELECT 1"], db_path=[db])
    with pytest.raises(RewardInputError, match="2 values for 1 completions"):
        execution_reward()(completions=["SELECT 1"], gold_sql=["a", "b"], db_path=[db])


def test_internal_error_raises_instead_of_scoring_zero(db, monkeypatch):
    # a bug or a misconfiguration would otherwise give all-zero rewards at every step without stopping
    reward = execution_reward()

    def boom(batch):
        raise TypeError("boom")

    monkeypatch.setattr(reward.executor, "execute", boom)
    with pytest.raises(TypeError, match="boom") as info:
        call(reward, ["SELECT 1", "SELECT 2"], "SELECT 1", db)
    if sys.version_info >= (3, 11):
        assert "while the 'execution' reward scored a batch of 2" in "".join(info.value.__notes__)


NASTY = [
    "SELECT",
    "SELECT 'unclosed",
    "SELECT " + "(" * 3000 + "1" + ")" * 3000,  # deeper than sqlglot's recursion limit
    "SELECT * FROM (" * 300 + "SELECT 1" + ")" * 300,
    "SELECT \x00 FROM singer",
    "SELECT '\ud800'",
    "DROP TABLE singer",
    "ATTACH 'x.db' AS y",
    "SELECT " + ", ".join(f"{i} AS c{i}" for i in range(2000)),
    "SELECT 1; SELECT 2",
    "SELECT 1e999, x'ff', zeroblob(3), NULL",
    None,
    123,
    [{"role": "assistant", "content": None}],
]
FACTORIES = {
    "execution": execution_reward,
    "partial": partial_reward,
    "paverl_paper": lambda **k: partial_reward("paverl", paper_mapping=True, **k),
    "length": length_reward,
    "syntax": syntax_reward,
    "syntax_bind": lambda **k: syntax_reward("bind", **k),
    "schema_linking": schema_linking_reward,
    "ngram": ngram_reward,
    "components": components_reward,
    "format": format_reward,
}


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_bad_completions_score_zero_and_never_raise(db, tmp_path_factory, kind, engine):
    # a completion can never stop training, and one bad completion does not cost the others their score
    reward = FACTORIES[kind](timeout=0.5, cache_dir=str(tmp_path_factory.getbasetemp() / "nasty"))
    gold = "SELECT name FROM singer WHERE age > 35"
    completions = [fence(gold), *NASTY, ENDLESS, fence(gold)]
    n = len(completions)
    for dialect in (None, "postgres"):
        columns = {"engine": [engine] * n} | ({"dialect": [dialect] * n} if dialect else {})
        out = call(reward, completions, gold, db, **columns)
        assert len(out) == n
        assert all(v is None or (isinstance(v, float) and math.isfinite(v)) for v in out)
        if kind not in ("format", "length"):
            assert out[0] == out[-1] and out[0] >= 1.0, out
            assert all(v == 0.0 for v in out[1:4] + out[-3:-2]), out
            assert out[-2] == (1.0 if kind.startswith("syntax") else 0.0)  # a timeout is valid SQL for syntax


def test_dialects_are_translated_and_engines_selectable(db, tmp_path):
    gold = "SELECT name FROM singer WHERE name LIKE 'a%'"
    out = execution_reward()(
        completions=["SELECT name FROM singer WHERE name ILIKE 'a%'", "SELECT TOP 1 name FROM singer ORDER BY id"],
        gold_sql=[gold, "SELECT name FROM singer ORDER BY id LIMIT 1"],
        db_path=[db, db],
        dialect=["postgres", "tsql"],
    )
    assert out == [1.0, 1.0]
    bad = execution_reward()(completions=["SELECT 1"], gold_sql=["SELECT 1"], db_path=[db], gold_dialect=["sqlite"],
                             dialect=["nosuchsql"])  # fmt: skip
    assert bad == [0.0]
    # gold_sql is in the row's dialect too (mixed-dialect training data), on either engine
    pg_gold = "SELECT name FROM singer WHERE name ILIKE 'B%' AND CAST(age AS TEXT) = '40'"
    for engine in ("sqlite", "duckdb"):
        out = execution_reward(cache_dir=str(tmp_path))(
            completions=[
                fence("SELECT name FROM singer WHERE name ILIKE 'b%' AND age::TEXT = '40'"),
                fence("SELECT 'Bob'"),
            ],
            gold_sql=[pg_gold] * 2,
            db_path=[db] * 2,
            dialect=["postgres"] * 2,
            engine=[engine] * 2,
        )
        assert out == [1.0, 1.0], engine
    duck = execution_reward(cache_dir=str(tmp_path))
    assert duck(completions=[fence(gold)], gold_sql=[gold], db_path=[db], engine=["duckdb"]) == [1.0]
    with pytest.raises(RewardInputError, match="unknown engine 'oracle'"):  # the dataset's fault
        duck(completions=[fence(gold)], gold_sql=[gold], db_path=[db], engine=["oracle"])


# ------------------------------------------------------------------------------------------ empty gold

EMPTY_GOLD = "SELECT name FROM singer WHERE age > 100"
EMPTY_PREDS = [
    fence("SELECT name FROM singer WHERE age > 200"),  # same structure, other value: a fair near miss
    fence("SELECT name FROM singer WHERE 1 = 0"),  # the free-reward hack
    fence("SELECT name FROM singer WHERE age > 100 AND 1 = 0"),
    fence("SELECT name FROM singer WHERE age > 100 AND age < 0"),
    fence("SELECT name FROM singer"),  # not empty
]


@pytest.mark.parametrize(
    "policy, expected",
    [
        ("structure", [1.0, 0.0, 0.0, 0.0, 0.0]),
        ("allow", [1.0, 1.0, 1.0, 1.0, 0.0]),
        ("skip", [None] * 5),
    ],
)
def test_empty_gold_policies(db, policy, expected):
    assert call(execution_reward(empty_gold=policy), EMPTY_PREDS, EMPTY_GOLD, db) == expected
    partial = call(partial_reward("table_f1", empty_gold=policy), EMPTY_PREDS, EMPTY_GOLD, db)
    assert partial[:4] == expected[:4]


def test_empty_gold_structure_outside_the_spider_grammar(db):
    gold = "WITH x AS (SELECT name, age FROM singer) SELECT name FROM x WHERE age > 100"
    preds = [
        fence("WITH x AS (SELECT name, age FROM singer) SELECT name FROM x WHERE age > 300"),
        fence("WITH x AS (SELECT name FROM singer) SELECT name FROM x WHERE 1 = 0"),
    ]
    assert call(execution_reward(), preds, gold, db) == [1.0, 0.0]


def test_paverl_paper_mapping(db):
    reward = partial_reward("paverl", paper_mapping=True)
    completions = [
        fence("SELECT name, age FROM singer WHERE country = 'US'"),  # acc 1 -> 10
        fence("SELECT name, id FROM singer WHERE country = 'US'"),  # 1 of 2 columns -> 5
        fence("SELECT country FROM singer WHERE id < 3"),  # runs, acc 0 -> 0.5
        fence("SELECT nope FROM singer"),  # does not run -> 0
        fence("SELECT 1 FROM t"),  # shorter than 16 characters: PaVeRL reads no SQL -> 0
        "no sql here",
    ]
    assert call(reward, completions, GOLD, db) == [10.0, 5.0, 0.5, 0.0, 0.0, 0.0]
    assert reward.__name__ == "partial_paverl_paper"
    with pytest.raises(ValueError, match="paverl"):
        partial_reward("table_f1", paper_mapping=True)


def test_soft_f1(db):
    out = call(partial_reward("soft_f1"), [fence(GOLD), fence("SELECT nope")], GOLD, db)
    assert out == [1.0, 0.0]


# ------------------------------------------------------------------------------------------ text rewards

FORMAT_CASES = [  # completion, think=True, think="optional", think=False
    ("<think>plan</think>\n```sql\nSELECT 1\n```", 1.0, 1.0, 0.0),
    ("<think>plan</think>\n<answer>SELECT 1</answer>\n", 1.0, 1.0, 0.0),
    ("```sql\nSELECT 1\n```", 0.0, 1.0, 1.0),
    ("<answer>SELECT 1</answer>", 0.0, 1.0, 1.0),
    ("<think></think>```sql\nSELECT 1\n```", 0.0, 0.0, 0.0),  # empty reasoning
    ("<think>plan</think>\n```sql\nSELECT 1\n``` and more", 0.0, 0.0, 0.0),  # text after the answer
    ("<think>plan</think> Here it is:\n```sql\nSELECT 1\n```", 0.0, 0.0, 0.0),  # prose before the answer
    ("<think>a</think><think>b</think>```sql\nSELECT 1\n```", 0.0, 0.0, 0.0),
    ("<think>plan</think>\n```sql\n\n```", 0.0, 0.0, 0.0),  # empty block
    ("<think>plan never closed ```sql\nSELECT 1\n```", 0.0, 0.0, 0.0),
    ("SELECT 1", 0.0, 0.0, 0.0),
]


@pytest.mark.parametrize("text, required, optional, forbidden", FORMAT_CASES)
def test_format(text, required, optional, forbidden):
    assert format_reward()(completions=[text]) == [required]
    assert format_reward(think="optional")(completions=[text]) == [optional]
    assert format_reward(think=False)(completions=[text]) == [forbidden]


def test_format_options():
    prose = "<think>plan</think> Here it is:\n```sql\nSELECT 1\n```"
    assert format_reward(allow_text=True)(completions=[prose]) == [1.0]
    assert format_reward(answer="answer")(completions=["<think>p</think>```sql\nSELECT 1\n```"]) == [0.0]
    assert format_reward(answer="fence")(completions=["<think>p</think><answer>SELECT 1</answer>"]) == [0.0]
    with pytest.raises(ValueError, match="think"):
        format_reward(think="sometimes")


def test_syntax_modes(db):
    completions = [fence("SELECT name FROM singer"), fence("SELECT nope FROM singer"), fence("SELEC 1"), "none",
                   fence("DELETE FROM singer")]  # fmt: skip
    assert syntax_reward()(completions=completions, db_path=[db] * 5) == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert syntax_reward("bind")(completions=completions, db_path=[db] * 5) == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert syntax_reward("bind")(completions=["SELECT nope FROM singer", "SELEC 1"]) == [1.0, 0.0]  # parse only


def test_schema_linking_ngram_components(db):
    gold = "SELECT name FROM singer WHERE age > 30"
    completions = [fence(gold), fence("SELECT name FROM singer"), fence("SELECT year FROM concert"), "none"]
    linking = call(schema_linking_reward(), completions, gold, db)
    assert linking == pytest.approx([1.0, 2 / 3, 0.0, 0.0])
    recall = call(schema_linking_reward("column_recall"), completions, gold, db)
    assert recall == pytest.approx([1.0, 0.5, 0.0, 0.0])
    ngram = call(ngram_reward(), completions, gold, db)
    assert ngram[0] == 1.0 and 0 < ngram[1] < 1 and ngram[3] == 0.0
    comps = call(components_reward(), completions, gold, db)
    assert comps[0] == 1.0 and comps[1] < 1.0 and comps[3] == 0.0
    exact = call(components_reward(exact=True), [fence("SELECT name FROM singer WHERE age > 99")], gold, db)
    assert exact == [1.0]
    assert call(components_reward(), [fence(gold)], "WITH x AS (SELECT 1) SELECT * FROM x", db) == [None]
    assert call(schema_linking_reward(), [fence(gold)], "SELECT name FROM (", db) == [None]


# ------------------------------------------------------------------------------------------ length


def test_length_is_gated_by_the_groups_correctness_ratio(db):
    gold = "SELECT name FROM singer"
    right_short, right_long = fence(gold), fence("SELECT name FROM singer WHERE 1 = 1 AND name IS NOT NULL")
    wrong = fence("SELECT age FROM singer WHERE age > 0")
    prompts = ["a"] * 3 + ["b"] * 3
    completions = [right_short, right_long, wrong, right_short, wrong, wrong]
    metrics: dict[str, float] = {}
    out = length_reward(unit="chars")(
        prompts=prompts, completions=completions, gold_sql=[gold] * 6, db_path=[db] * 6, log_metric=metrics.__setitem__
    )
    lengths = [len(c) for c in completions[:3]]
    lo, hi = min(lengths), max(lengths)
    lam = [0.5 - (n - lo) / (hi - lo) for n in lengths]
    assert out[:3] == pytest.approx([lam[0], lam[1], min(0.0, lam[2])])  # group a: 2/3 correct, term on
    assert out[0] == 0.5 and out[1] == -0.5
    assert out[3:] == [0.0, 0.0, 0.0]  # group b: 1/3 correct, term off
    assert metrics["length/groups_on"] == 0.5
    # token lengths from completion_ids; a threshold of 1 turns group a off too
    ids = [[0] * k for k in (3, 9, 1, 3, 1, 1)]
    by_tokens = length_reward()(prompts=prompts, completions=completions, completion_ids=ids, gold_sql=[gold] * 6,
                                db_path=[db] * 6)  # fmt: skip
    assert by_tokens[:3] == pytest.approx([0.5 - 2 / 8, -0.5, 0.0])
    strict = length_reward(threshold=1.0)(
        prompts=prompts, completions=completions, gold_sql=[gold] * 6, db_path=[db] * 6
    )
    assert strict == [0.0] * 6


def test_length_equal_lengths_and_unknown_gold(db):
    out = length_reward()(prompts=["a", "a"], completions=[fence("SELECT 1"), fence("SELECT 2")], gold_sql=["SELECT 1"] * 2,
                          db_path=[db] * 2)  # fmt: skip
    assert out == [0.0, 0.0]  # equal lengths: no length signal
    assert length_reward()(completions=["SELECT 1"], gold_sql=[None], db_path=[db]) == [None]


# ------------------------------------------------------------------------------------------ sharing + metrics


def test_rewards_built_together_execute_each_query_once(db):
    funcs, weights = build_rewards(
        [{"name": "execution"}, {"name": "partial", "metric": "paverl"}, {"name": "length"}, {"name": "syntax"}]
    )
    executor = funcs[0].executor
    assert all(f.executor is executor for f in funcs)
    completions = [fence(GOLD), fence(GOLD), fence("SELECT name FROM singer"), fence("SELECT nope"), "none"]
    for f in funcs:
        call(f, completions, GOLD, db)
    # 1 gold + 2 distinct runnable predictions (a prediction equal to the gold reuses the gold's run)
    assert executor.stats["executed"] == 3
    assert executor.stats["batches"] == 1
    # a new batch with known queries runs nothing new
    call(funcs[0], [fence("SELECT name FROM singer"), fence(GOLD)], GOLD, db)
    assert executor.stats["executed"] == 3 and executor.stats["batches"] == 2
    # a gold written with a trailing `;` runs as the completions are extracted (without it): one run for both
    call(funcs[0], [fence(GOLD + ";"), fence(GOLD + " ;")], GOLD + " ;\n", db)
    assert executor.stats["executed"] == 3 and executor.stats["batches"] == 3


def test_spider2_reads_each_rows_columns_when_completions_share_a_pair(db):
    """Completions sharing a (gold, prediction) pair are scored once, except where a row's own columns
    (spider2's condition_cols, ignore_order) make the same pair score differently."""
    names = fence("SELECT name FROM singer WHERE country = 'US'")
    out = call(execution_reward("spider2"), [names, names, names], GOLD, db, condition_cols=[[0], [], [0]])
    assert out == [1.0, 0.0, 1.0]  # every gold column needed without condition_cols
    gold = "SELECT name FROM singer ORDER BY age"
    reverse = fence("SELECT name FROM singer ORDER BY age DESC")
    out = call(execution_reward("spider2"), [reverse, reverse], gold, db, ignore_order=[True, False])
    assert out == [1.0, 0.0]


def test_a_text_that_looks_nondeterministic_runs_for_every_completion(db):
    """Completions share the run of a query they repeat, but not of a text that looks non-deterministic."""
    reward = execution_reward()
    random = fence("SELECT name FROM singer ORDER BY random() LIMIT 1")
    call(reward, [random, random, fence(GOLD), fence(GOLD)], GOLD, db)
    executed = reward.executor.execute(reward.executor._last_read[1])
    assert executed.preds[0] is not executed.preds[1] and executed.preds[2] is executed.preds[3]
    assert reward.executor.stats["executed"] == 3  # the gold (which the two others reuse) and random() twice


def test_a_text_that_looks_nondeterministic_once_translated_runs_for_every_completion(db):
    """MySQL's RAND() reads as DuckDB's RANDOM(): the translated text decides, as the written one does."""
    reward = execution_reward(dialect="mysql")
    rand = fence("SELECT name FROM singer ORDER BY RAND() LIMIT 1")
    call(reward, [rand, rand], GOLD, db)
    executed = reward.executor.execute(reward.executor._last_read[1])
    assert executed.preds[0].ok and executed.preds[1].ok
    assert executed.preds[0] is not executed.preds[1]


def test_rewards_built_together_read_a_call_once(db, monkeypatch):
    import sqlrl.rewards.executor as executor_module

    reads: list[int] = []
    real = executor_module.read_batch
    monkeypatch.setattr(executor_module, "read_batch", lambda *a, **k: reads.append(1) or real(*a, **k))
    funcs, _ = build_rewards([{"name": "execution"}, {"name": "partial"}, {"name": "format"}])
    prompts = [[{"role": "user", "content": "q1"}]] * 2 + [[{"role": "user", "content": "q2"}]]
    completions = [fence(GOLD), fence("SELECT nope"), fence(GOLD)]
    columns = {"gold_sql": [GOLD] * 3, "db_path": [db] * 3}
    first = [f(prompts=prompts, completions=completions, **columns) for f in funcs]
    assert len(reads) == 1  # TRL passes the same lists to every function of a step
    assert funcs[0].executor.read(prompts, completions, None, columns).groups == [0, 0, 1]
    completions[1] = fence(GOLD)  # the same list, changed in place: read again
    assert funcs[0](prompts=prompts, completions=completions, **columns) == [1.0, 1.0, 1.0]
    assert len(reads) == 2
    assert first[0] == [1.0, 0.0, 1.0]
    funcs[0](prompts=list(prompts), completions=list(completions), **columns)  # new lists, equal items
    assert len(reads) == 3


def test_metrics_are_logged_once_per_batch(db):
    funcs, _ = build_rewards([{"name": "execution"}, {"name": "partial"}, {"name": "format"}], timeout=0.2)
    calls: list[tuple[str, float]] = []
    completions = [fence(GOLD), fence("SELECT name FROM singer WHERE age > 99"), fence("SELECT nope"),
                   fence(ENDLESS), "no sql"]  # fmt: skip
    for f in funcs:
        call(f, completions, GOLD, db, log_metric=lambda name, value: calls.append((name, value)))
    logged = dict(calls)
    assert len(calls) == len(logged)  # each metric once
    assert logged["sql/extracted"] == 0.8
    assert logged["sql/valid"] == 0.4
    assert logged["sql/empty_result"] == 0.2
    assert logged["sql/timeout"] == 0.2
    assert logged["sql/error"] == 0.2
    assert logged["gold/empty"] == 0.0 and logged["gold/failed"] == 0.0


def test_rewards_pickle_and_keep_sharing(db):
    funcs, _ = build_rewards("stage2")
    call(funcs[0], [fence(GOLD)], GOLD, db)
    copies = pickle.loads(pickle.dumps(funcs))
    assert [f.__name__ for f in copies] == ["execution", "format", "length"]
    assert copies[0].executor is copies[2].executor and copies[0].executor is not funcs[0].executor
    assert call(copies[0], [fence(GOLD)], GOLD, db) == [1.0]
    assert copies[0].executor.stats["executed"] == 1


def test_executor_options_are_checked():
    with pytest.raises(ValueError, match="engine"):
        RewardExecutor(engine="oracle")
    with pytest.raises(ValueError, match="timeout"):
        RewardExecutor(timeout=0)
    with pytest.raises(TypeError, match="executor"):
        execution_reward(executor=RewardExecutor(), timeout=2.0)
    # unknown names and bad values fail at construction, not as a logged error at every call
    with pytest.raises(TypeError, match=r"unknown option 'timout' of the reward executor \(did you mean 'timeout'"):
        RewardExecutor(timout=2.0)
    with pytest.raises(TypeError, match="valid options: timeout, max_rows, engine, workers"):
        RewardExecutor(gold_cache=None)
    with pytest.raises(ValueError, match="max_rows must be >= 0"):
        RewardExecutor(max_rows=-1)
    with pytest.raises(ValueError, match="not a size"):
        RewardExecutor(memory_limit="lots")
    with pytest.raises(ValueError, match="isolation"):
        RewardExecutor(isolation="vm")


def test_factory_options_are_checked():
    with pytest.raises(TypeError, match=r"execution reward has no option 'empty_gol' \(did you mean 'empty_gold'") as e:
        execution_reward(empty_gol="allow")
    assert "its options: mode, empty_gold, correct, wrong, error, suite; sandbox options: timeout" in str(e.value)
    with pytest.raises(TypeError, match=r"no option 'timout' \(did you mean 'timeout'"):
        partial_reward(timout=1.0)
    with pytest.raises(ValueError, match="text_errors"):
        format_reward(text_errors="loud")


def test_one_registry_of_reward_classes_and_factories_with_their_signatures():
    import inspect

    import sqlrl.rewards as rewards
    from sqlrl.rewards.base import REWARDS, SQLReward

    assert rewards.REWARDS is REWARDS
    assert list(REWARDS) == [
        "execution", "partial", "format", "syntax", "schema_linking", "ngram", "components", "length", "judge"
    ]  # fmt: skip
    for kind, cls in REWARDS.items():
        assert issubclass(cls, SQLReward) and cls.kind == kind
        factory = getattr(rewards, f"{kind}_reward")
        assert factory.__name__ == f"{kind}_reward" and factory.__module__ == cls.__module__
        assert inspect.signature(factory).parameters == inspect.signature(cls).parameters
        assert factory.__doc__ == cls.__doc__ and "Args:" in factory.__doc__
        assert reward_params(kind) == cls.option_names()
        assert pickle.loads(pickle.dumps(factory)) is factory
    assert type(execution_reward("bird")) is REWARDS["execution"]
    assert set(reward_params("judge")) >= {"model", "base_url", "when", "api_key", "prompt", "timeout", "temperature"}

    class Mine(SQLReward, register=False):
        kind = "execution"

    assert REWARDS["execution"] is not Mine
    with pytest.raises(TypeError, match="a reward named 'execution' exists already"):

        class Clash(SQLReward):
            kind = "execution"

    try:

        class Custom(SQLReward):
            kind = "custom_test_reward"

        assert REWARDS["custom_test_reward"] is Custom and reward_params("custom_test_reward") == []
    finally:
        REWARDS.pop("custom_test_reward", None)


@pytest.mark.parametrize(
    "options, message",
    [
        # the observed case: a reward's setting given as if it were a sandbox option
        (
            {"empty_gold": "allow"},
            "'empty_gold' is a parameter of the execution, partial, length rewards, not a sandbox",
        ),
        ({"metric": "soft_f1"}, "set it on the reward in the spec, e.g. {name: partial, metric: ...}"),
        ({"timout": 3.0}, "unknown sandbox option 'timout' (did you mean 'timeout'?); build_rewards takes: timeout"),
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"max_rows": -5}, "max_rows must be >= 0"),
    ],
)
def test_build_rewards_rejects_misplaced_options(db, options, message):
    with pytest.raises(RewardSpecError) as info:
        build_rewards("stage2", **options)
    assert message in str(info.value)


def test_spec_rejects_sandbox_options_on_one_reward():
    with pytest.raises(RewardSpecError, match=r"'timeout' is a sandbox option.*build_rewards\(spec, timeout=\.\.\.\)"):
        RewardSpec.from_list([{"name": "execution", "timeout": 3.0}])
    assert "timeout" in reward_params("judge")  # the judge's own HTTP timeout stays a reward parameter


# ------------------------------------------------------------------------------------------ spec


def test_spec_yaml_round_trip(tmp_path):
    spec = RewardSpec.from_list(
        [
            {"name": "execution", "weight": 1.0, "mode": "bird"},
            {"name": "partial", "weight": 0.5, "metric": "paverl", "paper_mapping": True},
            {"name": "format", "weight": 0.1, "think": "optional", "label": "fmt"},
            "ngram",
        ]
    )
    assert spec.names == ["execution_bird", "partial_paverl_paper", "fmt", "ngram"]
    assert spec.weights == [1.0, 0.5, 0.1, 1.0]
    assert RewardSpec.from_yaml(spec.to_yaml()) == spec
    path = tmp_path / "rewards.yaml"
    spec.to_yaml(path)
    assert RewardSpec.from_yaml(path) == spec == RewardSpec.load(str(path))
    plain = tmp_path / "plain.yml"
    plain.write_text("- name: execution\n- name: syntax\n  weight: 0.5\n")
    assert RewardSpec.load(plain).weights == [1.0, 0.5]


@pytest.mark.parametrize(
    "entries, message",
    [
        ([{"name": "exec"}], "unknown reward 'exec' (did you mean 'execution'?); valid names: execution, partial"),
        ([{"name": "execution", "mdoe": "bird"}], "unknown parameter 'mdoe' (did you mean 'mode'?); execution takes"),
        ([{"name": "execution", "mode": "nope"}], "mode must be one of spider, bird, spider2, strict"),
        ([{"name": "execution", "weight": "high"}], "weight must be a finite number"),
        ([{"name": "execution", "weight": float("nan")}], "weight must be a finite number"),
        ([{"name": "execution", "weight": True}], "weight must be a finite number"),
        ([{"name": "execution", "weight": 0}], "every weight is 0"),
        ([{"name": "execution"}, {"name": "execution"}], "give one of them a distinct 'label'"),
        ([{"weight": 1.0}], "missing 'name'"),
        ([], "at least one reward"),
        ([{"name": "judge"}], "needs model="),
    ],
)
def test_spec_errors(entries, message):
    with pytest.raises(RewardSpecError) as info:
        RewardSpec.from_list(entries)
    assert message in str(info.value)


def test_spec_loading_errors(tmp_path):
    with pytest.raises(RewardSpecError, match="presets: stage1, stage2, execution"):
        RewardSpec.load("stage3")
    with pytest.raises(RewardSpecError, match="not found"):
        RewardSpec.load(str(tmp_path / "missing.yaml"))
    with pytest.raises(RewardSpecError, match="not valid YAML"):
        RewardSpec.from_yaml("- name: [execution\n")
    with pytest.raises(RewardSpecError, match="'rewards' list"):
        RewardSpec.from_yaml("stage: 1\nother: 2\n")
    with pytest.raises(RewardSpecError, match="list of rewards"):
        RewardSpec.from_list({"name": "execution"})


def test_presets_build_for_trl():
    for name, spec in PRESETS.items():
        funcs, weights = build_rewards(name)
        assert [f.__name__ for f in funcs] == spec.names and weights == spec.weights
        assert len({id(f.executor) for f in funcs}) == 1
    assert PRESETS["stage1"].names == ["partial_table_f1", "syntax", "schema_linking", "format"]
    assert PRESETS["stage2"].names == ["execution", "format", "length"]


# ------------------------------------------------------------------------------------------ score()


def test_plain_score(db):
    completions = [fence(GOLD), fence("SELECT name FROM singer WHERE country = 'US'"), "DROP TABLE singer"]
    assert score(completions, GOLD, db) == [1.0, 0.0, 0.0]
    totals = score(completions, GOLD, db, spec="stage1", timeout=2.0)
    terms = score_terms(completions, GOLD, db, spec="stage1", timeout=2.0)
    expected = [
        sum(w * (t[i] or 0.0) for w, t in zip(PRESETS["stage1"].weights, terms.values(), strict=True)) for i in range(3)
    ]
    assert totals == pytest.approx(expected)
    assert totals[0] == pytest.approx(1.5) and totals[0] > totals[1] > totals[2]
    # per-completion gold and databases, None terms add nothing
    mixed = score([fence("SELECT 1"), fence("SELECT 1")], ["SELECT 1", None], [db, db])
    assert mixed == [1.0, 0.0] and not any(math.isnan(x) for x in mixed)


def test_sqlrl_toy_gold_queries_score_full_marks(tmp_path):
    from sqlrl.data import load_toy

    examples = list(load_toy("dev", cache_dir=tmp_path))[:24]
    funcs, weights = build_rewards("stage2", timeout=5.0)
    columns = {
        "gold_sql": [ex.gold_sql for ex in examples],
        "db_path": [str(ex.db_path) for ex in examples],
        "db_id": [ex.db_id for ex in examples],
        "question": [ex.question for ex in examples],
    }
    completions = [fence(ex.gold_sql) for ex in examples]
    prompts = [ex.question for ex in examples]
    assert funcs[0](prompts=prompts, completions=completions, **columns) == [1.0] * len(examples)
    partial = partial_reward(executor=funcs[0].executor)(prompts=prompts, completions=completions, **columns)
    assert partial == [1.0] * len(examples)
    assert Path(columns["db_path"][0]).exists()


def test_columns_in_any_sequence_form_and_scalars(db):
    class Column:  # e.g. a numpy array or a pandas Series: has a length, is not a list
        def __init__(self, values):
            self.values = values

        def __len__(self):
            return len(self.values)

        def __iter__(self):
            return iter(self.values)

    out = execution_reward()(completions=(fence(GOLD), "x"), gold_sql=Column([GOLD, GOLD]), db_path=Path(db))
    assert out == [1.0, 0.0]


@pytest.mark.parametrize("workers", [1, 2, -1])
def test_serial_and_parallel_execution_agree(db, workers):
    completions = [fence(f"SELECT name FROM singer WHERE age > {k}") for k in range(0, 60, 5)]
    expected = [1.0 if k < 30 else 0.0 for k in range(0, 60, 5)]
    reward = execution_reward(workers=workers)
    assert call(reward, completions, "SELECT name FROM singer", db) == expected
    assert reward.executor.stats["executed"] == len(completions) + 1
