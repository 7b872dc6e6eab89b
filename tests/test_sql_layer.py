"""SQL layer: extraction, dialects, syntax check, schema linking, n-grams."""

from __future__ import annotations

import re
import time

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from sqlrl import compare
from sqlrl.sql import (
    DbSchema,
    SqlParseError,
    TranspileError,
    UnknownDialectError,
    check_syntax,
    dialect_names,
    extract_sql,
    linking_scores,
    load_tables_json,
    ngram_similarity,
    ngram_similarity_many,
    parse_one,
    resolve_dialect,
    schema_items,
    sql_tokens,
    transpile,
)

# ------------------------------------------------------------------ extraction

EXTRACT_CASES = [
    # (completion, sql, source)
    ("```sql\nSELECT a FROM t;\n```", "SELECT a FROM t", "fence"),
    ("first ```sql\nSELECT 1\n``` then ```sql\nSELECT 2\n```", "SELECT 2", "fence"),
    (
        "<think>maybe ```sql\nSELECT wrong\n```</think>\n```sql\nSELECT right FROM t\n```",
        "SELECT right FROM t",
        "fence",
    ),
    ("<answer>SELECT a FROM t</answer>", "SELECT a FROM t", "answer"),
    ("<answer>\n```sql\nSELECT a FROM t\n```\n</answer>", "SELECT a FROM t", "answer"),
    ("<answer>SELECT a FROM t", "SELECT a FROM t", "answer"),  # unclosed answer tag
    ("Here you go:\n```sql\nSELECT a\nFROM t\nWHERE b > 1", "SELECT a\nFROM t\nWHERE b > 1", "fence"),  # unclosed
    ("```\nSELECT a FROM t\n```", "SELECT a FROM t", "fence"),  # untagged fence holding a query
    ("The query is:\nSELECT name FROM singer;\nIt returns names.", "SELECT name FROM singer", "bare"),
    ("SELECT a\nFROM t\n\nThis selects a.", "SELECT a\nFROM t", "bare"),
    ("with x as (select 1) select * from x", "with x as (select 1) select * from x", "bare"),
    ("</think>SELECT 1", "SELECT 1", "bare"),  # think opened in the prompt
]


@pytest.mark.parametrize(("text", "sql", "source"), EXTRACT_CASES)
def test_extract(text, sql, source):
    got = extract_sql(text)
    assert (got.sql, got.source) == (sql, source)
    assert got.ok and got.reason == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("no query here", "no SQL found"),
        ("<think>SELECT 1 is what I would write", "unclosed <think>"),
        ("```python\nprint(1)\n```", "no SQL found"),
        (None, "not text"),
    ],
)
def test_extract_nothing_says_why(text, reason):
    got = extract_sql(text)
    assert got.sql is None and not got.ok and reason in got.reason


#: The fence pattern extract_sql used to apply to the whole text: the oracle for the linear scanner.
_OLD_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_PIECES = ["`", "```", "````", "\n", " ", "\t", "sql", "SQL", "x", ";", "SELECT 1", "py", "-", "\u2003", "<answer>"]


def _old_clean(sql: str) -> str:
    sql = sql.strip()
    while sql.endswith(";"):
        sql = sql[:-1].rstrip()
    return sql


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=16).map("".join))
def test_fence_scanner_matches_the_old_pattern(text):
    from sqlrl.sql.extract import _fences, clean_sql

    assert _fences(text) == _OLD_FENCE.findall(text)
    assert clean_sql(text) == _old_clean(text)


@pytest.mark.parametrize(
    ("name", "text", "source"),
    [
        ("backticks_without_newline", "```" * 333_000, "none"),  # 7 s at 100k characters before
        ("one_line_fences", "```sql SELECT 1 " * 60_000, "none"),
        ("unclosed_fence_of_spaces", "```sql" + " " * 1_000_000, "none"),
        ("query_then_backticks", "```sql\nSELECT 1\n```\n" + "``` " * 250_000, "fence"),
        ("trailing_semicolons", "```sql\nSELECT 1" + ";" * 1_000_000 + "\n```", "fence"),
        ("unclosed_answers", "<answer>" * 120_000, "answer"),
        ("fence_per_line", "```sql\n" * 30_000, "none"),
    ],
)
def test_extract_is_linear_on_long_hostile_text(name, text, source):
    t0 = time.perf_counter()
    got = extract_sql(text)
    assert time.perf_counter() - t0 < 0.5, name
    assert got.source == source


# ------------------------------------------------------------------ dialects


def test_dialect_names_and_suggestions():
    assert resolve_dialect("PostgreSQL") == "postgres"
    assert resolve_dialect("mssql") == "tsql"
    with pytest.raises(UnknownDialectError, match="did you mean 'duckdb'"):
        resolve_dialect("duckbd")


def test_parse_errors_are_typed_with_position():
    with pytest.raises(SqlParseError) as info:
        parse_one("SELECT a FROM t WHERE (b > 1", "sqlite")
    assert info.value.dialect == "sqlite"
    with pytest.raises(SqlParseError, match="expected one statement, found 2"):
        parse_one("SELECT 1; SELECT 2")
    with pytest.raises(SqlParseError, match="empty SQL"):
        parse_one("   ")
    deep = "SELECT " + "(" * 3000 + "1" + ")" * 3000  # beyond sqlglot's recursion: a parse error, not RecursionError
    with pytest.raises(SqlParseError, match="nested too deeply"):
        parse_one(deep)
    assert check_syntax(deep).stage == "parse"


def test_transpile_failure_is_typed():
    with pytest.raises(TranspileError, match="cannot write this snowflake query as duckdb"):
        transpile("SELECT TO_VARCHAR(d, 'YYYY') FROM t", read="snowflake")


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """A small DuckDB database the dialect table runs against."""
    path = tmp_path_factory.mktemp("dialects") / "shop.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders(id INTEGER, customer VARCHAR, amount DOUBLE, qty INTEGER, placed DATE)")
    con.execute(
        "INSERT INTO orders VALUES (1, 'ann', 10.5, 2, DATE '2024-01-03'), (2, 'bob', 20.0, 0, DATE '2024-02-10'),"
        " (3, 'ann', 5.25, 5, DATE '2024-02-11'), (4, 'cy', NULL, 1, DATE '2023-12-31')"
    )
    con.close()
    return path


# (dialect, query in that dialect, the same query written by hand for DuckDB)
DIALECT_CASES = [
    (
        "sqlite",
        "SELECT customer, SUM(amount) FROM orders GROUP BY customer",
        "SELECT customer, sum(amount) FROM orders GROUP BY 1",
    ),
    ("sqlite", "SELECT IFNULL(amount, 0) FROM orders", "SELECT coalesce(amount, 0) FROM orders"),
    ("sqlite", "SELECT customer FROM orders WHERE customer LIKE 'AN%'", "SELECT 'ann' UNION ALL SELECT 'ann'"),
    ("sqlite", "SELECT substr(customer, 1, 2) FROM orders WHERE id = 1", "SELECT 'an'"),
    (
        "sqlite",
        "SELECT group_concat(customer) FROM (SELECT customer FROM orders WHERE id < 3 ORDER BY id)",
        "SELECT 'ann,bob'",
    ),
    (
        "mysql",
        "SELECT `customer`, COUNT(*) FROM `orders` GROUP BY `customer` ORDER BY COUNT(*) DESC LIMIT 1",
        "SELECT 'ann', 2",
    ),
    ("mysql", "SELECT IFNULL(amount, -1) FROM orders WHERE id = 4", "SELECT -1.0"),
    ("mysql", "SELECT qty DIV 2 FROM orders WHERE id = 3", "SELECT 2"),
    ("postgres", "SELECT amount::int FROM orders WHERE id = 2", "SELECT 20"),
    ("postgres", "SELECT customer FROM orders WHERE customer ILIKE 'B%'", "SELECT 'bob'"),
    ("postgres", "SELECT COUNT(*) FILTER (WHERE amount > 6) FROM orders", "SELECT 2"),
    (
        "postgres",
        "SELECT EXTRACT(YEAR FROM placed) AS y, COUNT(*) FROM orders GROUP BY y",
        "SELECT year(placed), count(*) FROM orders GROUP BY 1",
    ),
    (
        "snowflake",
        "SELECT IFF(amount > 10, 'big', 'small') FROM orders WHERE id IN (1, 3)",
        "SELECT 'big' UNION ALL SELECT 'small'",
    ),
    ("snowflake", "SELECT DIV0(amount, qty) FROM orders WHERE id = 2", "SELECT 0.0"),
    (
        "snowflake",
        "SELECT customer FROM orders QUALIFY ROW_NUMBER() OVER (PARTITION BY customer ORDER BY id) = 1",
        "SELECT DISTINCT customer FROM orders",
    ),
    ("bigquery", "SELECT SAFE_DIVIDE(amount, qty) FROM orders WHERE id = 2", "SELECT NULL"),
    (
        "bigquery",
        "SELECT customer, ARRAY_AGG(id ORDER BY id) FROM orders GROUP BY customer ORDER BY customer",
        "SELECT customer, list(id ORDER BY id) FROM orders GROUP BY customer ORDER BY customer",
    ),
    ("bigquery", "SELECT COUNTIF(qty > 1) FROM orders", "SELECT 2"),
    ("tsql", "SELECT TOP 2 id FROM orders ORDER BY id", "SELECT id FROM orders ORDER BY id LIMIT 2"),
    ("duckdb", "SELECT list_sum([1, 2, 3])", "SELECT 6"),
]


@pytest.mark.parametrize(("dialect", "sql", "duck_sql"), DIALECT_CASES)
def test_dialects_run_in_duckdb_like_hand_written_sql(shop, dialect, sql, duck_sql):
    out = transpile(sql, read=dialect, write="duckdb")
    con = duckdb.connect(str(shop), read_only=True)
    try:
        got = con.sql(out)
        want = con.sql(duck_sql)
        assert compare(want, got, mode="spider", order_matters="order by" in duck_sql.lower()), (out, duck_sql)
    finally:
        con.close()


def test_sqlite_compat_rewrites_apply_only_from_sqlite_to_duckdb():
    assert "ILIKE" in transpile("SELECT a FROM t WHERE a LIKE 'x%'", read="sqlite")
    assert "ILIKE" not in transpile("SELECT a FROM t WHERE a LIKE 'x%'", read="postgres")
    assert "ILIKE" not in transpile("SELECT a FROM t WHERE a LIKE 'x%'", read="sqlite", sqlite_compat=False)


# ------------------------------------------------------------------ syntax check

SCHEMA = DbSchema.from_mapping(
    {
        "singer": {"Singer_ID": "INTEGER", "Name": "TEXT", "Country": "TEXT", "Age": "INTEGER"},
        "concert": {"concert_ID": "INTEGER", "Singer_ID": "INTEGER", "Year": "TEXT", "Stadium": "TEXT"},
    },
    db_id="concerts",
)


@pytest.mark.parametrize(
    ("sql", "kw", "stage", "message"),
    [
        ("SELECT Name FROM singer", {}, None, ""),
        ('SELECT "Name" FROM "singer" AS s JOIN concert c ON s.Singer_ID = c.Singer_ID', {}, None, ""),
        ("SELECT Nme FROM singer", {}, "bind", "no such column"),
        ("SELECT Nme FROM singer", {"engine": "duckdb"}, "bind", "not found"),
        ("SELECT Name FROM singers", {}, "bind", "no such table"),
        ("SELECT Name FROM singer WHERE", {}, "parse", "cannot parse"),
        ("DELETE FROM singer", {}, "input", "read-only"),
        ("SELECT 1; DROP TABLE singer", {}, "parse", "one statement"),
        ("SELECT TOP 1 Name FROM singer", {"dialect": "tsql"}, None, ""),
        ("SELECT * FROM read_csv('/etc/passwd')", {"engine": "duckdb"}, "bind", "disabled"),
        ("", {}, "input", "empty"),
    ],
)
def test_check_syntax(sql, kw, stage, message):
    got = check_syntax(sql, schema=SCHEMA, **kw)
    assert got.ok is (stage is None)
    assert got.stage == stage
    assert message in got.error


def test_check_syntax_without_schema_only_parses():
    assert check_syntax("SELECT nothing FROM nowhere").ok
    assert check_syntax("SELECT FROM WHERE").stage == "parse"


def test_schema_from_files(tmp_path):
    import json
    import sqlite3

    db = tmp_path / "a.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("CREATE TABLE q(id INTEGER, p_id INTEGER REFERENCES p(id))")
    con.close()
    s = DbSchema.from_database(db)
    assert s.tables == {"p": {"id": "INTEGER", "name": "TEXT"}, "q": {"id": "INTEGER", "p_id": "INTEGER"}}
    assert s.foreign_keys == [(("q", "p_id"), ("p", "id"))] and ("p", "id") in s.primary_keys
    entry = {
        "db_id": "x",
        "table_names_original": ["p", "q"],
        "column_names_original": [[-1, "*"], [0, "id"], [0, "name"], [1, "id"], [1, "p_id"]],
        "column_types": ["text", "number", "text", "number", "number"],
        "primary_keys": [1],
        "foreign_keys": [[4, 1]],
    }
    path = tmp_path / "tables.json"
    path.write_text(json.dumps([entry]))
    loaded = load_tables_json(path)["x"]
    assert loaded.foreign_keys == [(("q", "p_id"), ("p", "id"))]
    assert loaded.tables["p"] == {"id": "DOUBLE", "name": "TEXT"}
    path.write_text("[{]")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_tables_json(path)
    path.write_text(json.dumps([{"db_id": "y"}]))
    with pytest.raises(ValueError, match="entry 0 is malformed"):
        load_tables_json(path)


# ------------------------------------------------------------------ schema linking


@pytest.mark.parametrize(
    ("sql", "tables", "columns"),
    [
        ("SELECT Name FROM singer", {"singer"}, {"singer.name"}),
        (
            "SELECT T1.Name FROM singer AS T1 JOIN concert AS T2 ON T1.Singer_ID = T2.Singer_ID",
            {"singer", "concert"},
            {"singer.name", "singer.singer_id", "concert.singer_id"},
        ),
        ("SELECT count(*) FROM concert WHERE Year = '2014'", {"concert"}, {"concert.year"}),
        (
            "SELECT Name FROM singer WHERE Age > (SELECT avg(Age) FROM singer)",
            {"singer"},
            {"singer.name", "singer.age"},
        ),
        (
            "SELECT Name FROM singer UNION SELECT Stadium FROM concert",
            {"singer", "concert"},
            {"singer.name", "concert.stadium"},
        ),
        (
            "WITH old AS (SELECT * FROM singer WHERE Age > 60) SELECT Name FROM old",
            {"singer"},
            {"singer.name", "singer.age", "singer.country", "singer.singer_id"},
        ),
        ("SELECT Country, count(*) AS n FROM singer GROUP BY Country ORDER BY n DESC", {"singer"}, {"singer.country"}),
        ("SELECT Nmae FROM singer", {"singer"}, {"?.nmae"}),
    ],
)
def test_schema_items(sql, tables, columns):
    items = schema_items(sql, SCHEMA)
    assert set(items.tables) == tables
    assert set(items.columns) == columns


def test_linking_scores():
    gold = "SELECT T1.Name FROM singer AS T1 JOIN concert AS T2 ON T1.Singer_ID = T2.Singer_ID"
    same = "SELECT s.name FROM concert c JOIN singer s ON c.singer_id = s.singer_id"
    assert linking_scores(gold, same, SCHEMA)["jaccard"] == 1.0
    partial = linking_scores(gold, "SELECT Name FROM singer", SCHEMA)
    assert partial["table_recall"] == 0.5 and partial["column_recall"] == pytest.approx(1 / 3)
    assert 0 < partial["jaccard"] < 1
    assert linking_scores(gold, "SELECT FROM", SCHEMA)["jaccard"] == 0.0
    with pytest.raises(SqlParseError):
        linking_scores("SELECT FROM", gold, SCHEMA)


# ------------------------------------------------------------------ n-grams


def test_ngram_similarity():
    assert ngram_similarity("SELECT a FROM t", "select  A from T") == 1.0
    assert (
        ngram_similarity("SELECT a FROM t WHERE b = 'X'", "SELECT a FROM t WHERE b = 'x'") < 1.0
    )  # literals keep case
    assert ngram_similarity("SELECT a FROM t", "SELECT b FROM t") == pytest.approx(0.2)
    assert ngram_similarity("SELECT a FROM t", "DROP TABLE t") == 0.0
    assert ngram_similarity("", "") == 1.0 and ngram_similarity("SELECT 1", "") == 0.0
    many = ngram_similarity_many("SELECT a FROM t", ["SELECT a FROM t", "SELECT b FROM t", ""], workers=2)
    assert many == [1.0, pytest.approx(0.2), 0.0]
    # n=1 is the bag-of-tokens Jaccard
    assert ngram_similarity("SELECT a, a FROM t", "SELECT a FROM t", n=1) == pytest.approx(4 / 6)


# ------------------------------------------------------------------ names that start with a digit

TV = DbSchema.from_mapping({"tv_series": {"id": "INTEGER", "Share": "REAL", "18_49_Rating_Share": "REAL"}})


@pytest.fixture(scope="module")
def tv_duckdb(tmp_path_factory):
    """A DuckDB database with Spider's ``tv_series."18_49_Rating_Share"`` column."""
    path = tmp_path_factory.mktemp("tv") / "tv.duckdb"
    con = duckdb.connect(str(path))
    con.execute('CREATE TABLE tv_series(id INTEGER, Share DOUBLE, "18_49_Rating_Share" DOUBLE)')
    con.execute("INSERT INTO tv_series VALUES (1, 5.0, 3.5), (2, 6.0, 4.25)")
    con.close()
    return path


def test_a_name_that_starts_with_a_digit_is_one_identifier_in_sqlite_text(tv_duckdb):
    # Spider's tokenizer reads 18_49_Rating_Share as one name; sqlglot's SQLite reads it as
    # `18 AS _49_Rating_Share` (before 30.2x) or `1849 AS _Rating_Share` (since), whatever is installed.
    sql = "SELECT T1.18_49_Rating_Share FROM tv_series AS T1 WHERE T1.18_49_Rating_Share > 4 AND T1.id < 1_000"
    tree = parse_one(sql)
    assert [c.name for c in tree.find_all(exp.Column)] == ["18_49_Rating_Share", "18_49_Rating_Share", "id"]
    assert [lit.this for lit in tree.find_all(exp.Literal)] == ["4", "1000"]  # 1_000 is a number, as SQLite 3.46+
    assert not list(tree.find_all(exp.Alias))
    out = transpile(sql, read="sqlite", write="duckdb")
    assert '"18_49_Rating_Share"' in out and "1849" not in out
    con = duckdb.connect(str(tv_duckdb), read_only=True)
    try:
        assert con.sql(out).fetchall() == [(4.25,)]
    finally:
        con.close()
    assert '"18_49_Rating_Share"' in transpile(sql, read="sqlite", write="sqlite")  # written quoted, runs on SQLite
    assert sql_tokens("SELECT 18_49_Rating_Share FROM tv_series") == [
        "select",
        "18_49_rating_share",
        "from",
        "tv_series",
    ]
    items = schema_items("SELECT 18_49_Rating_Share, Share FROM tv_series", TV)
    assert set(items.columns) == {"tv_series.18_49_rating_share", "tv_series.share"}
    assert check_syntax("SELECT 18_49_Rating_Share FROM tv_series", schema=TV, engine="duckdb").ok
    # SQLite itself refuses the unquoted name; binding on SQLite says so, as the evaluators' sqlite3 would.
    on_sqlite = check_syntax("SELECT 18_49_Rating_Share FROM tv_series", schema=TV)
    assert on_sqlite.stage == "bind" and "unrecognized token" in on_sqlite.error
    assert "sqlrlsqlite" not in dialect_names() and "sqlite" in dialect_names()
