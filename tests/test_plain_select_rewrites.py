"""The SQLite-compat rewrites made from tokens (``sqlrl.sql.plain_select`` and its readers) against the same
rewrites made from sqlglot's parse: on every text a reader answers and sqlglot parses, the answer is the
parse's, on random expressions over a schema of every kind of column and on the cases below. (Where sqlglot
cannot parse a text, the parse changes nothing; the bare-column and rowid readers, which do not read every
expression, may still make their edits: DuckDB then runs or refuses the text as it would the original.)"""

from __future__ import annotations

import random

import pytest

from sqlrl.sql.affinity_rewrite import affinity_edits
from sqlrl.sql.bare_rewrite import bare_column_edits
from sqlrl.sql.plain_select import UNREAD
from sqlrl.sql.rowid_rewrite import rowid_edits
from sqlrl.sql.sqlite_compat import (
    AffinitySchema,
    SqliteColumn,
    _parse,
    rewrite_affinity,
    rewrite_bare_columns,
    rewrite_rowid,
)

SCHEMA = AffinitySchema(
    {
        "t": {
            "id": SqliteColumn("INTEGER", "number"),
            "name": SqliteColumn("TEXT", "text"),
            "year": SqliteColumn("TEXT", "text"),
            "score": SqliteColumn("REAL", "number"),
            "code": SqliteColumn("INT", "mixed"),
            "v": SqliteColumn("VARCHAR(9)", "text"),
            "b": SqliteColumn("BLOB", "text"),
            "d": SqliteColumn("NUMERIC", "text"),
            "o": SqliteColumn("", "other"),
        },
        "u": {
            "id": SqliteColumn("INTEGER", "number"),
            "label": SqliteColumn("TEXT", "text"),
            "name": SqliteColumn("TEXT", "text"),
            "price": SqliteColumn("NUMERIC", "number"),
        },
    }
)
NOTES = {"t": "+1", "u": "id"}
COLUMNS = {"t": list(SCHEMA.columns["t"]), "u": list(SCHEMA.columns["u"])}

READERS = {
    "affinity": (lambda s: affinity_edits(s, SCHEMA), lambda s: rewrite_affinity(s, SCHEMA, tokens=False)),
    "bare": (bare_column_edits, lambda s: rewrite_bare_columns(s, tokens=False)),
    "rowid": (lambda s: rowid_edits(s, NOTES, COLUMNS), lambda s: rewrite_rowid(s, NOTES, COLUMNS, tokens=False)),
}

ONE_TABLE = ["id", "name", "year", "score", "code", "v", "b", "d", "o", "t.id", "t.name", "nosuch", "rowid", "oid"]
JOINED = ["T1.id", "T1.year", "T2.label", "T2.price", "T1.code", "label", "price", "year", "name", "T2.name", "id"]
JOINED += ["T1.rowid", "T2.rowid", "rowid", "T2._rowid_"]
LITERALS = ["1", "2014", "3.5", "0", "-2", "- 7", "1e3", "10.", "(5)", "'2014'", "'abc'", "' 12 '", "'3.0'", "'x''y'"]
LITERALS += ["''", "'-4'", "'1e2'", "NULL", "TRUE"]


def expression(rng: random.Random, depth: int, columns: list[str]) -> str:
    """A random expression: columns and literals under the operators, calls and CASE the readers know, and
    some they leave to the parse."""
    if depth <= 0 or rng.random() < 0.3:
        return rng.choice(columns) if rng.random() < 0.45 else rng.choice(LITERALS)
    a, b, c = (expression(rng, depth - 1, columns) for _ in range(3))
    low, high = expression(rng, 0, columns), expression(rng, 0, columns)  # sqlglot misreads BETWEEN a IS b AND c
    forms = [
        f"{a} {rng.choice(['=', '<>', '!=', '==', '<', '<=', '>', '>=', 'IS', 'IS NOT'])} {b}",
        f"{a} {rng.choice(['+', '-', '*', '/', '%'])} {b}",
        f"{a} {rng.choice(['AND', 'OR'])} {b}",
        f"({a})",
        f"{a} {rng.choice(['IN', 'NOT IN'])} ({b}, {c})",
        f"{a} {rng.choice(['BETWEEN', 'NOT BETWEEN'])} {low} AND {high}",
        f"-{a}" if not a.startswith("-") else a,
        f"NOT {a}",
        f"{rng.choice(['sum', 'avg', 'count', 'max', 'min', 'upper', 'length', 'abs', 'round', 'total'])}({a})",
        f"CASE WHEN {a} THEN {b} ELSE {c} END",
        f"CASE {a} WHEN {b} THEN 1 END",
        f"iif({a}, {b}, 0)",
        f"{a} LIKE {b}",
        f"coalesce({a}, {b})",
        f"CAST({a} AS INTEGER)",
    ]
    return rng.choice(forms)


def random_query(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.5:
        e = lambda d: expression(rng, d, ONE_TABLE)  # noqa: E731
        return f"SELECT {e(2)} FROM t WHERE {e(3)}"
    if shape < 0.8:
        e = lambda d: expression(rng, d, JOINED)  # noqa: E731
        return (
            f"SELECT {e(2)} AS x, count(*) FROM t AS T1 JOIN u AS T2 ON {e(1)} WHERE {e(2)} "
            f"GROUP BY {rng.choice(JOINED)} HAVING {e(2)} ORDER BY {e(1)} DESC LIMIT 3"
        )
    e = lambda d: expression(rng, d, ONE_TABLE[:7] + ["label", "price"])  # noqa: E731
    return f"SELECT {e(1)} FROM t WHERE {e(2)} UNION SELECT {e(1)} FROM u WHERE {e(2)}"


@pytest.mark.parametrize("seed", range(8))
def test_each_reader_answers_what_the_parse_answers(seed):
    rng = random.Random(seed)
    answered = dict.fromkeys(READERS, 0)
    differ = []
    for _ in range(400):
        sql = random_query(rng)
        if _parse(sql, "sqlite") is None:
            continue
        for name, (fast, slow) in READERS.items():
            got = fast(sql)
            if got is UNREAD:
                continue
            answered[name] += 1
            if got != slow(sql):
                differ.append((name, sql, got))
    assert differ == []
    assert all(n > 100 for n in answered.values()), answered  # the readers read most of these texts


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1.0 * name FROM t", "SELECT 1.0 * CAST(coalesce(nullif(regexp_extract(name"),
        ("SELECT id FROM t WHERE year >= 2014 AND id = '3'", "SELECT id FROM t WHERE year >= '2014' AND id = 3"),
        ("SELECT T2.label FROM t AS T1 JOIN u AS T2 ON T1.id = T2.id WHERE T2.label IN (1, 2)", "IN ('1', '2')"),
        ("SELECT id FROM t WHERE year BETWEEN 2000 AND 2010", "BETWEEN '2000' AND '2010'"),
        ("SELECT id FROM t WHERE year = - 5", "year = '-5'"),
    ],
)
def test_affinity_from_tokens(sql, expected):
    got = affinity_edits(sql, SCHEMA)
    assert got is not UNREAD and expected in got and got == rewrite_affinity(sql, SCHEMA, tokens=False)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM t WHERE year > (SELECT avg(id) FROM t)",  # a subquery
        "SELECT id FROM t WHERE CAST(year AS INT) > 3",  # sqlglot writes CAST's type in its own words
        "SELECT max(year) = 2015 FROM t",  # max() next to an operator: the parse reads a column without affinity
        "SELECT id FROM t WHERE year IN (1, 2) + 1",  # SQLite reads it; sqlglot does not
        "SELECT id FROM t WHERE year <> NOT 1",
        "SELECT id FROM t WHERE year = 1 = 2",  # a comparison of a comparison
        "SELECT id FROM t WHERE year || 'a' = 1",
        "SELECT id FROM t, (SELECT 1) AS s WHERE year = 1",
        "SELECT id FROM main.t WHERE year = 1",
        "SELECT id FROM t WHERE year = 1e+5",
        "SELECT id FROM t WHERE year = 0x10",
        "SELECT date FROM t WHERE year = 1",  # a keyword of sqlglot's tokenizer as a name
        "SELECT id FROM t WHERE year = ?",
    ],
)
def test_affinity_leaves_other_shapes_to_the_parse(sql):
    assert affinity_edits(sql, SCHEMA) is UNREAD


def test_rowid_from_tokens():
    sql = "SELECT max(rowid), T1.oid FROM t AS T1 JOIN u ON T1.id = u.rowid GROUP BY u.rowid"
    got = rowid_edits(sql, NOTES, COLUMNS)
    assert got == rewrite_rowid(sql, NOTES, COLUMNS, tokens=False) == rewrite_rowid(sql, NOTES, COLUMNS)
    assert got == 'SELECT max(rowid), (T1.oid + 1) FROM t AS T1 JOIN u ON T1.id = u."id" GROUP BY u."id"'
    assert rowid_edits("SELECT rowid FROM t WHERE id IN (SELECT rowid FROM u)", NOTES, COLUMNS) is UNREAD
