"""The DuckDB sandbox's bare-column wraps from tokens (``sqlrl.sql.bare_rewrite``): on every text it reads
whole they equal the wraps of sqlglot's reading (``rewrite_bare_columns(..., tokens=False)``), on sqlrl-toy's
gold queries, their mutations and the shapes below; the others are left to the parse."""

from __future__ import annotations

import pytest

from sqlrl.data import load_toy
from sqlrl.sql.bare_columns import may_have_bare_columns
from sqlrl.sql.bare_rewrite import bare_column_edits
from sqlrl.sql.mutate import mutations
from sqlrl.sql.plain_select import UNREAD
from sqlrl.sql.sqlite_compat import rewrite_bare_columns

READ = [
    "SELECT name AS Name, count(*) FROM t GROUP BY id",
    "SELECT name AS n, count(*) FROM t GROUP BY id ORDER BY n",
    "SELECT name AS n, count(*) FROM t GROUP BY id ORDER BY N",  # aliases compare case-sensitively in sqlglot
    "SELECT T1.name, max(T1.age) FROM t AS T1",
    "SELECT name, min(age), max(age) FROM t",
    "SELECT upper(name), count(*) FROM t GROUP BY id",
    "SELECT CASE WHEN age > 3 THEN name ELSE 'x' END AS v, count(*) FROM t GROUP BY id",
    "SELECT CAST(age AS INTEGER), count(*) FROM t GROUP BY id",
    "SELECT name, count(*) FROM t GROUP BY id HAVING avg(age) > 3 ORDER BY age DESC NULLS LAST",
    "SELECT t.name, count(*) FROM t GROUP BY name",
    "SELECT id, count(*) FROM t GROUP BY t.id",
    "SELECT name || ' ' || id, count(*) FROM t GROUP BY id",
    "SELECT name, count(*) FROM t GROUP BY id UNION SELECT name, count(*) FROM u GROUP BY id",
    "SELECT name, max(age) FROM t UNION SELECT name, min(age) FROM u",
    "SELECT DISTINCT name, count(*) FROM t GROUP BY id ORDER BY count(*) DESC LIMIT 1",
    "SELECT name, sum(age * 2) FROM t GROUP BY id",
    "SELECT round(avg(age), 2), name FROM t",
    "SELECT name, abs(max(age)) FROM t",
    "SELECT name, count(*) FROM t GROUP BY id, name",
    "SELECT T1 . name , count ( * ) FROM t AS T1 GROUP BY T1 . id",
    "/* c */ SELECT name, count(*) FROM t /* x */ GROUP BY id -- comment",
    "SELECT name, iif(age > 1, 'a', name), count(*) FROM t GROUP BY id",
    "SELECT name IS NULL, name NOT IN (1, 2), count(*) FROM t GROUP BY id HAVING name = 'x' AND count(*) > 1",
    "SELECT max(name), age FROM t",
    "SELECT age FROM t GROUP BY id",
    "SELECT name, count(*) FROM t",  # an aggregate without GROUP BY
    "SELECT name FROM t",  # neither: nothing to wrap
    "SELECT NAME, max(AGE) FROM t",
    "SELECT t.name, count(*) FROM t JOIN u ON t.id = u.id GROUP BY u.id HAVING count(*) > 1 ORDER BY t.name",
]

UNREAD_TEXTS = [
    "SELECT name, count(DISTINCT age) FROM t GROUP BY id",  # DISTINCT inside an aggregate
    "SELECT name, max(age + 1) FROM t",  # sqlglot writes the argument of ARG_MAX out again
    "SELECT name, count(*) FROM t GROUP BY id ORDER BY name COLLATE NOCASE",
    "SELECT name, count(*) FROM t GROUP BY id;",
    "SELECT name, total(age) FROM t",  # a function not listed
    "SELECT name, count(*) FROM t GROUP BY lower(id)",  # an expression key
    "SELECT name, count(*) FROM t GROUP BY 1",  # a position
    "SELECT name n, count(*) FROM t GROUP BY id",  # an alias without AS
    "SELECT first, count(*) FROM t GROUP BY id",  # a keyword of sqlglot's tokenizer
    "SELECT name, max(age) FROM t WHERE age IN (SELECT age FROM u)",  # a subquery
    "SELECT x.y.z, count(*) FROM t GROUP BY id",
    "SELECT t.*, count(*) FROM t GROUP BY id",
    'SELECT "name", count(*) FROM t GROUP BY id',  # a quoted name
    "SELECT name, count(*) FROM t GROUP BY id UNION SELECT name, 1 FROM u ORDER BY 1",  # the compound's ORDER BY
    "WITH c AS (SELECT 1 AS x) SELECT x, count(*) FROM c",
    "SELECT name, count(*) OVER () FROM t",
    "SELECT name, count(*) FROM t GROUP BY id HAVING count(*) FILTER (WHERE age > 1) > 2",
    "SELECT 'open, count(*) FROM t GROUP BY id",  # an unclosed string
]


@pytest.mark.parametrize("sql", READ)
def test_read_texts_get_sqlglots_wraps(sql):
    fast = bare_column_edits(sql)
    assert fast is not UNREAD
    assert fast == rewrite_bare_columns(sql, tokens=False)


@pytest.mark.parametrize("sql", UNREAD_TEXTS)
def test_other_shapes_are_left_to_the_parse(sql):
    assert bare_column_edits(sql) is UNREAD


def test_the_wraps_equal_sqlglots_on_the_toy_corpus_and_its_mutations(tmp_path):
    """Every gold query of sqlrl-toy and every mutation of it: where the token reader answers, it answers what
    the parse does; and it reads most of the texts the sandbox sends it (those the pre-check flags)."""
    golds = {ex.gold_sql for split in ("train", "dev") for ex in load_toy(split, cache_dir=tmp_path)}
    texts = set(golds)
    for gold in sorted(golds):
        texts.update(m for _, m in mutations(gold))
    flagged = read = 0
    differ = []
    for sql in sorted(texts):
        fast = bare_column_edits(sql)
        if may_have_bare_columns(sql):
            flagged += 1
            read += fast is not UNREAD
        if fast is not UNREAD and fast != rewrite_bare_columns(sql, tokens=False):
            differ.append(sql)
    assert differ == []
    assert flagged > 300 and read >= 0.8 * flagged, (flagged, read)
