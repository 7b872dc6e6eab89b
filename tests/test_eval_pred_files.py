"""sqlrl.eval.pred_files: the one writer of the official prediction files, as `sqlrl generate` and
`sqlrl verbal` use it; only tabs and line breaks leave a query, spaces inside string literals stay."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest

from sqlrl.data import load_toy
from sqlrl.data.example import ExampleSet
from sqlrl.eval import pred_files
from sqlrl.eval.bird import load_bird_gold, load_bird_predictions
from sqlrl.eval.pred_files import BIRD_SEPARATOR, NO_SQL, one_line
from sqlrl.eval.spider import load_spider_gold, load_spider_predictions
from sqlrl.generate import GenerateConfig, generate_predictions
from sqlrl.verbal.loop import NO_SQL as VERBAL_NO_SQL
from sqlrl.verbal.run import write_predictions

# two spaces inside a literal must survive; each line break (also one inside a literal) becomes one space
MULTILINE = "SELECT name\nFROM members\r\nWHERE city = 'New  York' OR city = 'Los\nAngeles'\t"
ONE_LINE = "SELECT name FROM members  WHERE city = 'New  York' OR city = 'Los Angeles'"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (MULTILINE, ONE_LINE),
        ("SELECT 'a  b'", "SELECT 'a  b'"),
        ("SELECT 'a\r\nb'", "SELECT 'a  b'"),
        ("  SELECT 1 ;\n", "SELECT 1 ;"),
        ("", NO_SQL),
        (" \n\t", NO_SQL),
        (None, NO_SQL),
    ],
)
def test_one_line(sql, expected):
    assert one_line(sql) == expected
    assert one_line(sql, no_sql="SELECT no_sql_found") == (expected if expected != NO_SQL else "SELECT no_sql_found")


def test_doctests():
    assert doctest.testmod(pred_files).failed == 0


def test_generate_is_the_same_function():
    import sqlrl.generate

    assert sqlrl.generate.one_line is one_line and sqlrl.generate.NO_SQL == NO_SQL == "SELECT"


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> ExampleSet:
    return load_toy("dev", cache_dir=tmp_path_factory.mktemp("cache"))[:3]


class Echo:
    """A chat model that answers every question of ``dev`` with a fixed completion."""

    def __init__(self, completions: list[str]) -> None:
        self.completions = completions

    def generate(self, messages_list, *, n, **kw):
        return [[self.completions.pop(0)] * n for _ in messages_list]


def test_both_writers_keep_literal_spaces_and_join_lines(dev, tmp_path):
    answers = [f"```sql\n{MULTILINE}\n```", "```sql\nSELECT 'x  y'\n```", "no SQL here"]
    result = generate_predictions(Echo(list(answers)), dev, GenerateConfig(n=1), progress=False)
    generated = result.write(tmp_path / "gen")
    assert generated["spider"].read_text().splitlines() == [ONE_LINE, "SELECT 'x  y'", NO_SQL]

    records = [{"id": ex.id, "prediction": p} for ex, p in zip(dev, [MULTILINE, "SELECT 'x  y'", None], strict=True)]
    verbal = write_predictions(dev, records, tmp_path / "verbal", "toy")
    assert verbal["pred"].read_text().splitlines() == [ONE_LINE, "SELECT 'x  y'", VERBAL_NO_SQL]
    assert verbal["gold"].read_text() == generated["gold"].read_text()
    assert load_spider_predictions(verbal["pred"]) == [[ONE_LINE, "SELECT 'x  y'", VERBAL_NO_SQL]]
    assert load_spider_gold(generated["gold"]) == [[(ex.gold_sql, ex.db_id) for ex in dev]]

    bird = write_predictions(dev, records, tmp_path / "bird", "bird")
    preds = load_bird_predictions(bird["pred"])
    assert [(p.sql, p.db_id) for p in preds] == [(s, ex.db_id) for s, ex in zip(
        [ONE_LINE, "SELECT 'x  y'", VERBAL_NO_SQL], dev, strict=True)]  # fmt: skip
    assert [p.sql for p in load_bird_predictions(generated["bird"])] == [ONE_LINE, "SELECT 'x  y'", NO_SQL]
    assert all(p.read_text().startswith('{\n    "0": ') for p in (bird["pred"], generated["bird"]))
    assert [g.sql for g in load_bird_gold(bird["gold"])] == [ex.gold_sql for ex in dev]
    diffs = [json.loads(line) for line in bird["difficulty"].read_text().splitlines()]
    assert diffs == [{"question_id": ex.id, "db_id": ex.db_id, "difficulty": ex.difficulty} for ex in dev]


def test_bird_and_spider2_writers(tmp_path):
    path = pred_files.write_bird_predictions(tmp_path / "p.json", [("SELECT\t1", "db"), (None, "db2")])
    assert json.loads(path.read_text()) == {"0": f"SELECT 1{BIRD_SEPARATOR}db", "1": f"{NO_SQL}{BIRD_SEPARATOR}db2"}
    folder = pred_files.write_spider2_folder(tmp_path / "s2", [("local001", MULTILINE), ("a/b", " "), ("c", None)])
    assert sorted(p.name for p in folder.iterdir()) == ["a_b.sql", "c.sql", "local001.sql"]
    assert (folder / "local001.sql").read_bytes().decode() == MULTILINE.strip() + "\n"  # one query a file: lines kept
    assert (folder / "a_b.sql").read_text() == (folder / "c.sql").read_text() == NO_SQL + "\n"
    gold = pred_files.write_gold_lines(Path(tmp_path / "deep" / "gold.sql"), [("SELECT 'a  b'\n", "db")])
    assert gold.read_text() == "SELECT 'a  b'\tdb\n"
