"""Spider exact-set match, partial-match components and hardness (sqlrl.sql.spider)."""

from __future__ import annotations

import pytest
from test_spider_structure import SCHEMA

from sqlrl.sql.spider import (
    COMPONENTS,
    LEVELS,
    ComponentScore,
    component_match_fraction,
    component_scores,
    evaluate,
    exact_match,
    hardness,
)

J = "FROM singer_in_concert AS T1 JOIN singer AS T2 ON T1.Singer_ID = T2.Singer_ID"

# (gold, prediction, exact match with the default normalisation)
EXACT = [
    ("SELECT name, age FROM singer", "SELECT age, name FROM singer", True),
    ("SELECT name FROM singer", "select NAME from SINGER;", True),
    # values are ignored, their presence and operator are not
    ("SELECT name FROM singer WHERE age > 30", "SELECT name FROM singer WHERE age > 99", True),
    ("SELECT name FROM singer WHERE age > 30", "SELECT name FROM singer WHERE age < 30", False),
    ("SELECT name FROM singer WHERE country = 'x'", "SELECT name FROM singer WHERE country LIKE 'x'", False),
    # condition units compare as a multiset, the connectors as a set
    (
        "SELECT name FROM singer WHERE age > 3 AND country = 'x'",
        "SELECT name FROM singer WHERE country = 'y' AND age > 4",
        True,
    ),
    ("SELECT name FROM singer WHERE age > 3 AND age < 9", "SELECT name FROM singer WHERE age > 3 OR age < 9", False),
    ("SELECT name FROM singer WHERE age > 3 AND age < 9", "SELECT name FROM singer WHERE age > 3", False),
    # DISTINCT is ignored
    ("SELECT name FROM singer", "SELECT DISTINCT name FROM singer", True),
    ("SELECT count(name) FROM singer", "SELECT count(DISTINCT name) FROM singer", True),
    # LIMIT: presence counts, the value does not
    ("SELECT name FROM singer ORDER BY age LIMIT 1", "SELECT name FROM singer ORDER BY age LIMIT 5", True),
    ("SELECT name FROM singer ORDER BY age LIMIT 1", "SELECT name FROM singer ORDER BY age", False),
    ("SELECT name FROM singer ORDER BY age", "SELECT name FROM singer ORDER BY age DESC", False),
    ("SELECT name FROM singer ORDER BY age, name", "SELECT name FROM singer ORDER BY name, age", False),
    ("SELECT max(age) FROM singer", "SELECT min(age) FROM singer", False),
    # foreign-key unification: either side of the join key, either join order, aliases irrelevant
    (f"SELECT T1.Singer_ID {J}", f"SELECT T2.Singer_ID {J}", True),
    (
        f"SELECT T2.name {J}",
        "SELECT A.name FROM singer AS A JOIN singer_in_concert AS B ON A.Singer_ID = B.Singer_ID",
        True,
    ),
    (f"SELECT T2.name {J}", "SELECT name FROM singer", False),
    (f"SELECT T2.name {J}", f"SELECT T2.name {J} JOIN concert AS T3 ON T1.concert_ID = T3.concert_ID", False),
    # GROUP BY compares full columns in the `group` component
    (
        f"SELECT T2.name {J} GROUP BY T2.Singer_ID",
        f"SELECT T2.name {J} GROUP BY T1.Singer_ID",
        True,
    ),
    ("SELECT country FROM singer GROUP BY country", "SELECT country FROM singer GROUP BY name", False),
    # HAVING compares as a sequence
    (
        "SELECT country FROM singer GROUP BY country HAVING count(*) > 1 AND avg(age) > 2",
        "SELECT country FROM singer GROUP BY country HAVING avg(age) > 2 AND count(*) > 1",
        False,
    ),
    # set operations: the operand is compared by exact match
    (
        "SELECT name FROM singer INTERSECT SELECT name FROM stadium",
        "SELECT name FROM singer INTERSECT SELECT name FROM stadium WHERE capacity > 3",
        False,
    ),
    (
        "SELECT name FROM singer INTERSECT SELECT name FROM stadium",
        "SELECT name FROM singer UNION SELECT name FROM stadium",
        False,
    ),
    # subqueries in conditions lose their values but keep DISTINCT
    (
        "SELECT name FROM stadium WHERE stadium_id IN (SELECT stadium_id FROM concert WHERE year = 1)",
        "SELECT name FROM stadium WHERE stadium_id IN (SELECT stadium_id FROM concert WHERE year = 2)",
        True,
    ),
    (
        "SELECT name FROM stadium WHERE stadium_id IN (SELECT stadium_id FROM concert)",
        "SELECT name FROM stadium WHERE stadium_id IN (SELECT DISTINCT stadium_id FROM concert)",
        False,
    ),
    # subqueries in FROM are compared as written
    (
        "SELECT count(*) FROM (SELECT name FROM singer WHERE age > 1)",
        "SELECT count(*) FROM (SELECT name FROM singer WHERE age > 2)",
        False,
    ),
    # a text that ends inside a clause: read as far as it goes, as the official parser does
    ("SELECT name FROM singer", "SELECT name FROM singer WHERE", True),
    ("SELECT name FROM singer WHERE age > 3", "SELECT name FROM singer WHERE age > 3 AND", False),
    ("SELECT name FROM singer ORDER BY age", "SELECT name FROM singer ORDER BY", False),
    ("SELECT name FROM singer", "SELECT name FROM singer ORDER BY", False),
    # unparseable
    ("SELECT name FROM singer", "SELECT nam FROM singer", False),
    ("SELECT nam FROM singer", "SELECT nam FROM singer", False),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), EXACT)
def test_exact_match(gold, pred, expected):
    assert exact_match(gold, pred, SCHEMA) is expected


@pytest.mark.parametrize(
    ("gold", "pred", "flags", "expected"),
    [
        (
            "SELECT name FROM singer WHERE age > 30",
            "SELECT name FROM singer WHERE age > 99",
            {"keep_values": True},
            False,
        ),
        (
            "SELECT name FROM singer WHERE age > 30",
            "SELECT name FROM singer WHERE age > 30.0",
            {"keep_values": True},
            True,
        ),
        (
            "SELECT name FROM singer WHERE name = '3'",
            "SELECT name FROM singer WHERE name = 3",
            {"keep_values": True},
            False,
        ),
        ("SELECT count(name) FROM singer", "SELECT count(DISTINCT name) FROM singer", {"keep_distinct": True}, False),
        # evaluation.py never compares the SELECT's own DISTINCT flag
        ("SELECT name FROM singer", "SELECT DISTINCT name FROM singer", {"keep_distinct": True}, True),
    ],
)
def test_exact_match_flags(gold, pred, flags, expected):
    assert exact_match(gold, pred, SCHEMA, **flags) is expected


def test_evaluate_reports_errors_and_hardness():
    m = evaluate("SELECT name FROM singer", "SELECT name FROM singer WHERE age >", SCHEMA)
    assert not m.exact and m.hardness == "easy" and m.gold_error is None
    assert "sqlglot cannot parse it" in m.pred_error.reason
    # an unparseable prediction is scored as the empty query, as evaluation.py does
    assert m.components["select"] == ComponentScore(1, 0, 0)
    assert m.components["order"] == ComponentScore(0, 0, 0) and m.components["order"].f1 == 1
    assert m.match_fraction == 0.0
    bad_gold = evaluate("SELECT nam FROM singer", "SELECT name FROM singer", SCHEMA)
    assert bad_gold.gold_error is not None and bad_gold.hardness is None and not bad_gold.exact


COMPONENT_CASES = [
    (
        "SELECT name, max(age) FROM singer",
        "SELECT name, min(age), country FROM singer",
        {"select": (2, 3, 1), "select(no AGG)": (2, 3, 2)},
    ),
    (
        "SELECT name FROM singer WHERE age > 3 AND country = 'x'",
        "SELECT name FROM singer WHERE age < 3 AND country = 'y' OR name = 'z'",
        {"where": (2, 3, 1), "where(no OP)": (2, 3, 2), "keywords": (1, 2, 1)},
    ),
    # and/or: evaluation.py reports (len(pred set), len(gold set)) when the sets differ
    (
        "SELECT name FROM singer WHERE age > 3",
        "SELECT name FROM singer WHERE age > 3 AND age < 5 OR age = 1",
        {"and/or": (2, 0, 0)},
    ),
    ("SELECT name FROM singer", "SELECT name FROM singer", {"and/or": (1, 1, 1)}),
    # a connector the text ends in counts; an ORDER BY it ends in has no items
    (
        "SELECT name FROM singer WHERE age > 3",
        "SELECT name FROM singer WHERE age > 3 OR",
        {"where": (1, 1, 1), "and/or": (1, 0, 0), "keywords": (1, 2, 1)},
    ),
    (
        "SELECT name FROM singer ORDER BY age",
        "SELECT name FROM singer ORDER BY",
        {"order": (1, 1, 0), "keywords": (2, 2, 2)},
    ),
    # group(no Having) compares column names only; group compares GROUP BY + HAVING
    (
        "SELECT count(*) FROM singer GROUP BY name",
        "SELECT count(*) FROM stadium GROUP BY name HAVING count(*) > 1",
        {"group(no Having)": (1, 1, 1), "group": (1, 1, 0)},
    ),
    (
        "SELECT name FROM singer ORDER BY age DESC LIMIT 1",
        "SELECT name FROM singer ORDER BY age DESC",
        {"order": (1, 1, 0), "keywords": (3, 2, 2)},
    ),
    (
        "SELECT name FROM singer EXCEPT SELECT name FROM stadium",
        "SELECT name FROM singer EXCEPT SELECT name FROM stadium UNION SELECT concert_name FROM concert",
        {"IUEN": (1, 1, 0)},
    ),
    (
        "SELECT name FROM singer EXCEPT SELECT name FROM stadium",
        "SELECT name FROM singer EXCEPT SELECT name FROM stadium",
        {"IUEN": (1, 1, 1), "keywords": (1, 1, 1)},
    ),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), COMPONENT_CASES)
def test_component_scores(gold, pred, expected):
    scores = component_scores(gold, pred, SCHEMA)
    assert list(scores) == list(COMPONENTS)
    for name, counts in expected.items():
        s = scores[name]
        assert (s.gold_total, s.pred_total, s.matched) == counts, name
        assert s.f1 == s.acc == s.rec == int(counts[0] == counts[1] == counts[2])


def test_component_match_fraction():
    assert component_match_fraction("SELECT name FROM singer", "SELECT name FROM singer", SCHEMA) == 1.0
    # order and keywords differ
    assert component_match_fraction("SELECT name FROM singer ORDER BY age", "SELECT name FROM singer", SCHEMA) == 0.8
    assert component_match_fraction("SELECT name FROM singer", "SELECT nam FROM singer", SCHEMA) == 0.0


HARDNESS = [
    ("SELECT count(*) FROM singer", "easy"),
    ("SELECT name FROM singer WHERE age > 3", "easy"),
    (f"SELECT T2.name {J}", "easy"),
    ("SELECT name, age FROM singer WHERE age > 3", "medium"),
    ("SELECT name FROM singer WHERE age > 3 ORDER BY age", "medium"),
    ("SELECT name FROM singer WHERE age > 3 ORDER BY age LIMIT 1", "hard"),
    ("SELECT name FROM singer INTERSECT SELECT name FROM stadium", "hard"),
    ("SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)", "hard"),
    ("SELECT name, age FROM singer INTERSECT SELECT name, capacity FROM stadium", "extra"),
    (f"SELECT T2.name, count(*) {J} WHERE T2.age > 3 OR T2.name LIKE 'a%' GROUP BY T2.name ORDER BY count(*)", "extra"),
    # evaluation.py counts every AND/OR of HAVING as an aggregate ...
    ("SELECT count(*) FROM singer GROUP BY country HAVING count(*) > 1 AND avg(age) > 2", "medium"),
    ("SELECT count(*) FROM singer GROUP BY country HAVING count(*) > 1", "easy"),
    # ... and every NOT condition of WHERE
    ("SELECT count(*) FROM singer WHERE singer_id NOT IN (SELECT singer_id FROM singer_in_concert)", "extra"),
    ("SELECT count(*) FROM singer WHERE singer_id IN (SELECT singer_id FROM singer_in_concert)", "hard"),
    # a text ending in AND has two WHERE items ("more than one condition"); ORDER BY counts when empty
    ("SELECT name FROM singer WHERE age > 3 AND", "medium"),
    ("SELECT name FROM singer ORDER BY", "easy"),
    ("SELECT name FROM singer WHERE age > 3 ORDER BY", "medium"),
]


@pytest.mark.parametrize(("sql", "level"), HARDNESS)
def test_hardness(sql, level):
    assert level in LEVELS
    assert hardness(sql, SCHEMA) == level
