"""The compiled scans of ``csrc/sql_scan.cpp`` against the Python readings they stand in for (``compiled=False``):
the bare-column pre-check, the affinity pre-check and the inline check give the same answer on every ASCII text,
on random queries over every kind of column, on random token soup (quotes, comments and parentheses left open,
odd whitespace, numbers glued to names) and on the cases below."""

from __future__ import annotations

import random

import pytest
from test_plain_select_rewrites import SCHEMA, random_query

from sqlrl.sandbox.duckdb_engine import DuckDBEngine
from sqlrl.sql.bare_columns import may_have_bare_columns
from sqlrl.sql.sqlite_compat import AffinitySchema, SqliteColumn

#: Names that are also keywords, a name with ``$``, one like a number's exponent, an empty one.
ODD_SCHEMA = AffinitySchema(
    {
        "t": {
            "name": SqliteColumn("TEXT", "text"),
            "a": SqliteColumn("INT", "number"),
            "x1$": SqliteColumn("TEXT", "text"),
            "_u": SqliteColumn("INT", "number"),
            "select": SqliteColumn("TEXT", "text"),
            "e5": SqliteColumn("TEXT", "text"),
            "": SqliteColumn("INT", "number"),
        }
    }
)

SOUP = [
    *("select", "SELECT", "from", "where", "group", "by", "order", "having", "limit", "union", "all", "distinct"),
    *("with", "over", "count", "(", ")", "*", ",", ".", "t", "T1", "a", "name", "year", "id", "score", "_u", "x1$"),
    *("'x'", "'a''b'", "'", '"', '"name"', '""', "`q`", "[w]", "[", "`", "/* c */", "/*", "-- c\n", "--", "--x\r"),
    *("1", "2", "1e5", "1.e3", ".5", "3.", "1E-3", "2e+", "e5", "12abc", "0x1f", "=", "==", "<>", ">=", "!=", "<"),
    *("<=>", "!", "+", "-", "/", "%", "as", "AS", "not", "in", "between", "and", "or", "is", "null", "sum", "avg"),
    *("cast", "CAST(", "max", "min", "group_concat", "case", "when", "then", "end", "except", "intersect"),
    *("window", "offset", "\x1c", "\t", "\n", "\v", "foo(", "count(", "Count  (", "abs (", "range(", "'(", '"q"('),
    *("1(", "x1(", "/*(*/", "'it''s'", '"a""b"', "$", "\\", "_f("),
]


class _Engine:
    """What :meth:`DuckDBEngine._runs_inline` reads of its engine: a database without views."""

    _runs_inline = DuckDBEngine._runs_inline

    @staticmethod
    def views() -> frozenset[str]:
        return frozenset()


def _answers(sql: str) -> tuple[list[object], list[object]]:
    """The four checks' answers on ``sql``: the Python readings, then the compiled ones."""
    engine = _Engine()
    return [
        may_have_bare_columns(sql, compiled=False),
        SCHEMA.candidate(sql, compiled=False),
        ODD_SCHEMA.candidate(sql, compiled=False),
        engine._runs_inline(sql, compiled=False),
    ], [
        may_have_bare_columns(sql),
        SCHEMA.candidate(sql),
        ODD_SCHEMA.candidate(sql),
        engine._runs_inline(sql),
    ]


@pytest.mark.parametrize("seed", range(4))
def test_compiled_scans_answer_as_python_on_random_texts(seed):
    rng = random.Random(seed)
    seen: set[tuple] = set()
    for k in range(3000):
        if k % 2:
            sql = random_query(rng)
        else:
            sql = rng.choice(["", " "]).join(rng.choice(SOUP) for _ in range(rng.randint(1, 24)))
        python, compiled = _answers(sql)
        assert compiled == python, sql
        seen.add(tuple(python))
    assert len(seen) >= 8  # the texts reach every answer of each check, not one path


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT T2.name, count(*) FROM s AS T2 JOIN c AS T1 USING (id) GROUP BY T1.id",
        "SELECT name FROM t WHERE age > (SELECT avg(age) FROM t GROUP BY id)",
        "SELECT a, max(b) FROM t GROUP BY 1",
        'SELECT "" , count(*) FROM t GROUP BY ""',
        "SELECT t.* , count(*) FROM t GROUP BY a",
        "SELECT count(*) FORM t GROUP BY a",
        "SELECT a FROM t WHERE name = 5 -- name = '5'",
        "SELECT a FROM t WHERE a BETWEEN -1 AND 2.5e3",
        "SELECT a FROM t WHERE a BETWEEN 1 AND 2 + b",
        "SELECT a FROM t WHERE 'x' = a /* a = 'x' */",
        "SELECT a FROM t WHERE name IN (SELECT name FROM u)",
        "SELECT sum(name), cast(t.name AS INT) FROM t",
        "SELECT abs(a), 'x(' FROM t WHERE b = 'it''s ('",
        "SELECT a FROM t WHERE b = 'open",
        "SELECT a /* open",
        "SELECT x1$ FROM t WHERE x1$ = 3",
    ],
)
def test_compiled_scans_answer_as_python(sql):
    python, compiled = _answers(sql)
    assert compiled == python
