"""sqlrl eval spider --plug_value: values and slots as test-suite-sql-eval's parse.py finds them, and the
execution loop over plugged candidates. Expected values below were produced by the official parse.py."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from test_eval_spider import _make_db  # the same singer table

from sqlrl.eval import plug_value
from sqlrl.eval.commands import main
from sqlrl.eval.plug_value import SLOT, candidates, extract_values, lex
from sqlrl.eval.spider import evaluate_spider

S = SLOT

# (query, words with slots, set of values): parse.extract_query_values on sqlparse 0.6.1
EXTRACT_CASES = [
    ("SELECT name FROM singer WHERE age > 30 LIMIT 1",
     ["select", "name", "from", "singer", "where", "age", ">", S, "limit", S], {"1", "30"}),
    ('SELECT T1.name FROM singer AS T1 WHERE T1.country = "France" AND T1.age >= 20.5',
     ["select", "t1", ".", "name", "from", "singer", "as", "t1", "where", "t1", ".", "country", "=", S, "and", "t1",
      ".", "age", ">=", S], {'"France"', "20.5"}),
    ("select count(*) from t where a = -5 and b in (1, 2) and c like '%x y%'",
     ["select", "count", "(", "*", ")", "from", "t", "where", "a", "=", S, "and", "b", "in", "(", S, ",", S, ")",
      "and", "c", "like", S], {"'%x y%'", "-5", "1", "2"}),
    ("SELECT 18_49_Rating_Share FROM TV_series WHERE x = 1",  # the lexer splits '1' off the column name
     ["select", S, "8_49_rating_share", "from", "tv_series", "where", "x", "=", S], {"1"}),
    ("SELECT * FROM t WHERE a = '1' OR b = 1 -- 7\n AND c = 2",  # the comment swallows the rest once joined
     ["select", "*", "from", "t", "where", "a", "=", S, "or", "b", "=", S, "--", S, "and", "c", "=", S],
     {"'1'", "1", "2", "7"}),
    ("SELECT a FROM t WHERE b = 'it''s'; ", ["select", "a", "from", "t", "where", "b", "=", S], {"'it''s'"}),
    ("SELECT T1.* FROM t AS T1 WHERE T1.x BETWEEN 3 AND 7",
     ["select", "t1", ".", "*", "from", "t", "as", "t1", "where", "t1", ".", "x", "between", S, "and", S], {"3", "7"}),
]  # fmt: skip


@pytest.mark.parametrize(("query", "words", "values"), EXTRACT_CASES)
def test_extract_values_as_official(query, words, values):
    got_words, got_values = extract_values(query)
    assert got_words == words
    assert set(got_values) == values


def test_candidates():
    count, cands = candidates('SELECT a FROM t WHERE b = 3 AND c = "x"', "select a from t where b = 1 and c = 2")
    assert count == 4
    assert sorted(cands) == sorted(
        f"select a from t where b = {x} and c = {y}" for x, y in itertools.product(["3", '"x"'], repeat=2)
    )
    assert candidates("SELECT a FROM t", "SELECT a FROM t WHERE b = 1") == (0, [])  # no gold value, one slot
    assert candidates("SELECT a FROM t WHERE b = 1", "SELECT A FROM T") == (1, ["select a from t"])  # no slot
    assert candidates("SELECT a FROM t", "  ;  ") == (0, [])  # the official script raises IndexError here
    count, many = candidates("SELECT a FROM t WHERE b IN (1, 2, 3, 4, 5)", "SELECT a FROM t WHERE b IN (1, 2, 3)")
    assert count == 125 and not isinstance(many, list) and len(list(many)) == 125


def test_lexer_matches_sqlparse():
    sqlparse = pytest.importorskip("sqlparse", reason="the official parse.py's lexer, for the differential check")
    from sqlparse import tokens as T

    pieces = ["SELECT", " ", "\n", "a", "T1", ".", "*", "'x y'", '"q"', "1", "-2", "3.5", ".5", "1e3", "0x1f", ">=",
              "!=", "<>", "(", ")", ",", "--", "/*", "*/", "$t$", "`c`", "[d]", "_", "é", "12ab", "-", "||", "'",
              "GROUP  BY", "#", "$", ":n", "NOT  LIKE", "\\"]  # fmt: skip
    rng = __import__("random").Random(3)
    for _ in range(1500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        expected = []
        for ttype, value in sqlparse.lexer.tokenize(text):
            kind = "string" if ttype in (T.String.Single, T.String.Symbol) else "space" if ttype == T.Whitespace else ""
            expected.append((kind or "other", value))
        assert lex(text) == expected, text


# -- execution ------------------------------------------------------------------------------------


@pytest.fixture()
def music(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "database" / "music").mkdir(parents=True)
    _make_db(tmp_path / "database" / "music" / "music.sqlite", [(1, "Ann", 30), (2, "Bob", 40), (3, "Cy", 50)])
    tables = [{
        "db_id": "music", "table_names_original": ["singer"], "table_names": ["singer"],
        "column_names_original": [[-1, "*"], [0, "singer_id"], [0, "name"], [0, "age"]],
        "column_names": [[-1, "*"], [0, "singer id"], [0, "name"], [0, "age"]],
        "column_types": ["text", "number", "text", "number"], "primary_keys": [1], "foreign_keys": [],
    }]  # fmt: skip
    (tmp_path / "tables.json").write_text(json.dumps(tables))
    return {"root": tmp_path, "db_dir": tmp_path / "database", "tables": tmp_path / "tables.json"}


def _files(music, pairs):
    gold, pred = music["root"] / "gold.sql", music["root"] / "pred.txt"
    gold.write_text("".join(f"{g}\tmusic\n" for g, _ in pairs))
    pred.write_text("".join(f"{p}\n" for _, p in pairs))
    return gold, pred


PAIRS = [
    # (gold, prediction, EX without plug_value, EX with it); verdicts agree with exec_eval.eval_exec_match
    ("SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer WHERE age > 1", 0.0, 1.0),
    ("SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer WHERE age > value", 0.0, 1.0),  # value -> 1
    ("SELECT name FROM singer WHERE age > 35 AND name != 'Bob'",
     "SELECT name FROM singer WHERE name != 'x' AND age > 2", 0.0, 1.0),  # 4 candidates, one matches
    ("SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer WHERE age < 1", 0.0, 0.0),  # wrong operator
    ("SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer WHERE age > 35", 1.0, 1.0),
    ("SELECT name FROM singer WHERE age > 35", "SELECT nope FROM singer WHERE age > 1", 0.0, 0.0),  # fails to run
    ("SELECT name FROM singer", "SELECT name FROM singer WHERE age > 45", 0.0, 0.0),  # no gold value: no candidate
]  # fmt: skip


def test_plug_value_execution(music):
    gold, pred = _files(music, [(g, p) for g, p, _, _ in PAIRS])
    plain = evaluate_spider(gold, pred, music["db_dir"], music["tables"], etype="exec", workers=2)
    plugged = evaluate_spider(gold, pred, music["db_dir"], music["tables"], etype="exec", workers=2, plug_value=True)
    assert [e.metrics["execution"] for e in plain.examples] == [p[2] for p in PAIRS]
    assert [e.metrics["execution"] for e in plugged.examples] == [p[3] for p in PAIRS]
    first, _, third, wrong, same, fails, no_value = plugged.examples
    assert first.extra["plugged"] == "select name from singer where age > 35"
    assert third.extra["plug_candidates"] == 4 and 1 <= third.extra["plug_tried"] <= 4
    assert wrong.extra["plug_tried"] == wrong.extra["plug_candidates"] == 1 and "plugged" not in wrong.extra
    assert "plug_candidates" not in same.extra  # correct as written: no candidate is tried
    assert fails.error_kind is not None and fails.extra["plug_tried"] == 1
    assert no_value.extra["plug_candidates"] == 0
    assert plugged.meta["plug_value"] is True


def test_plug_value_needs_every_database(music):
    pairs = [("SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer WHERE age >= 1")]
    gold, pred = _files(music, pairs)
    report = evaluate_spider(gold, pred, music["db_dir"], music["tables"], etype="exec", plug_value=True)
    assert report.examples[0].extra["plugged"] == "select name from singer where age >= 35"
    # a test-suite variant where '>= 35' and '> 35' differ: no candidate passes on every database
    _make_db(music["db_dir"] / "music" / "music_b.sqlite", [(1, "Ann", 36), (2, "Dee", 35)])
    report = evaluate_spider(gold, pred, music["db_dir"], music["tables"], etype="exec", plug_value=True)
    (ex,) = report.examples
    assert ex.metrics["execution"] == 0.0 and ex.extra["plug_tried"] == 1


def test_cli_plug_value(music, capsys):
    gold, pred = _files(music, [(g, p) for g, p, _, _ in PAIRS])
    args = ["spider", "--gold", str(gold), "--pred", str(pred), "--db", str(music["db_dir"])]
    args += ["--table", str(music["tables"]), "--etype", "exec", "--no-progress", "--json"]
    assert main([*args, "--plug_value"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["all"]["execution"] == pytest.approx(4 / 7)


def test_doctests():
    import doctest

    assert doctest.testmod(plug_value).failed == 0
