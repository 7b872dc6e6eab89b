"""Spider structure: how SQL text is read into the official data model (sqlrl.sql.spider)."""

from __future__ import annotations

import pytest

from sqlrl.sql.spider import Schema, SpiderParseError, spider_components

TABLES = {
    "stadium": ["Stadium_ID", "Location", "Name", "Capacity", "Highest", "Lowest", "Average"],
    "singer": ["Singer_ID", "Name", "Country", "Song_Name", "Song_release_year", "Age", "Is_male"],
    "concert": ["concert_ID", "concert_Name", "Theme", "Stadium_ID", "Year"],
    "singer_in_concert": ["concert_ID", "Singer_ID"],
    "checkin": ["cid", "business_id", "count", "day"],
    "tv_series": ["id", "Episode", "Share", "18_49_Rating_Share"],
}
FOREIGN_KEYS = [
    ("concert.Stadium_ID", "stadium.Stadium_ID"),
    ("singer_in_concert.Singer_ID", "singer.Singer_ID"),
    ("singer_in_concert.concert_ID", "concert.concert_ID"),
]


def concert_schema() -> Schema:
    """A Spider-like schema (concert_singer plus two tables with awkward column names)."""
    return Schema.from_dict(TABLES, foreign_keys=FOREIGN_KEYS, db_id="concert_singer")


def tables_json_entry() -> dict:
    """The same schema as a tables.json entry."""
    names = list(TABLES)
    cols = [[-1, "*"]] + [[i, c] for i, t in enumerate(names) for c in TABLES[t]]
    index = {f"{names[t].lower()}.{c.lower()}": i for i, (t, c) in enumerate(cols) if t >= 0}
    return {
        "db_id": "concert_singer",
        "table_names_original": names,
        "column_names_original": cols,
        "foreign_keys": [[index[a.lower()], index[b.lower()]] for a, b in FOREIGN_KEYS],
        "primary_keys": [],
    }


SCHEMA = concert_schema()


def read(sql: str, **kw) -> str:
    return str(spider_components(sql, SCHEMA, **kw))


# (sql, structure as str(SpiderSQL)): columns are table.column in lower case, values as parsed.
STRUCTURES = [
    ("SELECT count(*) FROM singer", "SELECT count(*) FROM singer"),
    (
        "SELECT DISTINCT Country FROM singer WHERE Age > 20",
        "SELECT DISTINCT singer.country FROM singer WHERE singer.age > 20.0",
    ),
    # joins: table units in order, ON conditions joined by AND, aliases resolved
    (
        "SELECT T2.Name FROM singer_in_concert AS T1 JOIN singer AS T2 ON T1.Singer_ID = T2.Singer_ID "
        "JOIN concert AS T3 ON T1.concert_ID = T3.concert_ID WHERE T3.Year = 2014",
        "SELECT singer.name FROM singer_in_concert, singer, concert ON singer_in_concert.singer_id = singer.singer_id "
        "AND singer_in_concert.concert_id = concert.concert_id WHERE concert.year = 2014.0",
    ),
    ("SELECT name FROM singer JOIN concert", "SELECT singer.name FROM singer, concert"),
    # unqualified columns: the first FROM table that has the column
    ("SELECT Name FROM concert JOIN stadium", "SELECT stadium.name FROM concert, stadium"),
    ("SELECT Stadium_ID FROM concert JOIN stadium", "SELECT concert.stadium_id FROM concert, stadium"),
    # case and quoting of values: "..." is a string
    (
        "select NAME from SINGER where COUNTRY = \"France\" and name like '%Hey%'",
        "SELECT singer.name FROM singer WHERE singer.country = 'France' AND singer.name LIKE '%Hey%'",
    ),
    # nested queries
    (
        "SELECT Name FROM stadium WHERE Stadium_ID NOT IN (SELECT Stadium_ID FROM concert)",
        "SELECT stadium.name FROM stadium WHERE stadium.stadium_id NOT IN (subquery)",
    ),
    ("SELECT count(*) FROM (SELECT * FROM singer)", "SELECT count(*) FROM (SELECT * FROM singer)"),
    # set operations chain to the right
    (
        "SELECT name FROM singer UNION SELECT name FROM stadium EXCEPT SELECT concert_name FROM concert",
        "SELECT singer.name FROM singer UNION SELECT stadium.name FROM stadium EXCEPT "
        "SELECT concert.concert_name FROM concert",
    ),
    (
        "SELECT name FROM singer INTERSECT SELECT name FROM stadium ORDER BY name LIMIT 3",
        "SELECT singer.name FROM singer INTERSECT SELECT stadium.name FROM stadium ORDER BY stadium.name ASC "
        "LIMIT value",
    ),
    # aggregates, DISTINCT inside aggregates, arithmetic
    (
        "SELECT max(Capacity), avg(Capacity - Highest), Highest - Lowest, count(DISTINCT Location) FROM stadium",
        "SELECT max(stadium.capacity), avg(stadium.capacity - stadium.highest), stadium.highest - stadium.lowest, "
        "count(DISTINCT stadium.location) FROM stadium",
    ),
    # GROUP BY / HAVING
    (
        "SELECT Country, count(*) FROM singer GROUP BY Country HAVING count(*) >= 2 AND avg(Age) < 40",
        "SELECT singer.country, count(*) FROM singer GROUP BY singer.country HAVING count(*) >= 2.0 "
        "AND avg(singer.age) < 40.0",
    ),
    # ORDER BY keeps one direction: the last one written
    (
        "SELECT name FROM singer ORDER BY age DESC, name",
        "SELECT singer.name FROM singer ORDER BY singer.age, singer.name DESC",
    ),
    (
        "SELECT name FROM singer ORDER BY age DESC, name ASC LIMIT 1",
        "SELECT singer.name FROM singer ORDER BY singer.age, singer.name ASC LIMIT value",
    ),
    # AND/OR without precedence, BETWEEN, negative numbers
    (
        "SELECT name FROM singer WHERE age BETWEEN 20 AND 30 OR age = -1 AND country != 'x'",
        "SELECT singer.name FROM singer WHERE singer.age BETWEEN 20.0 AND 30.0 OR singer.age = -1.0 "
        "AND singer.country != 'x'",
    ),
    # quirks of the official parser that the structure keeps
    ("SELECT T1.count FROM checkin AS T1", "SELECT checkin.count FROM checkin"),
    ("SELECT 18_49_Rating_Share FROM tv_series", "SELECT tv_series.18_49_rating_share FROM tv_series"),
    (
        "SELECT name FROM singer WHERE age ! = 3 AND age > = 4",
        "SELECT singer.name FROM singer WHERE singer.age != 3.0 AND singer.age >= 4.0",
    ),
    # the text after a misplaced clause, a `;` or a stray `)` is ignored
    (
        "SELECT name FROM singer GROUP BY country WHERE age > 30",
        "SELECT singer.name FROM singer GROUP BY singer.country",
    ),
    ("SELECT name FROM singer; DROP TABLE singer", "SELECT singer.name FROM singer"),
    ("SELECT name FROM singer WHERE age > 3 ) ORDER BY age", "SELECT singer.name FROM singer WHERE singer.age > 3.0"),
    (
        "SELECT name FROM singer ORDER BY age DESC nonsense LIMIT 1",
        "SELECT singer.name FROM singer ORDER BY singer.age DESC",
    ),
    (
        "SELECT name FROM singer ORDER BY age NULLS LAST LIMIT 1",
        "SELECT singer.name FROM singer ORDER BY singer.age ASC",
    ),
    # a text that ends inside a clause is read as far as it goes: an empty ON, WHERE, GROUP BY or
    # HAVING is no clause, an empty ORDER BY has no items, a final AND/OR stays after the last
    # condition (unless a column value swallows it) and is ignored after a GROUP BY/ORDER BY item
    ("SELECT name FROM singer WHERE", "SELECT singer.name FROM singer"),
    ("SELECT name FROM singer JOIN concert ON \n", "SELECT singer.name FROM singer, concert"),
    ("SELECT country FROM singer GROUP BY", "SELECT singer.country FROM singer"),
    (
        "SELECT country FROM singer GROUP BY country HAVING",
        "SELECT singer.country FROM singer GROUP BY singer.country",
    ),
    ("SELECT name FROM singer ORDER BY", "SELECT singer.name FROM singer ORDER BY ASC"),
    (
        "SELECT name FROM singer UNION SELECT name FROM stadium where",
        "SELECT singer.name FROM singer UNION SELECT stadium.name FROM stadium",
    ),
    (
        "SELECT name FROM singer; UNION SELECT name FROM stadium ORDER BY",
        "SELECT singer.name FROM singer UNION SELECT stadium.name FROM stadium ORDER BY ASC",
    ),
    ("SELECT name FROM singer WHERE age > 3 AND", "SELECT singer.name FROM singer WHERE singer.age > 3.0 AND"),
    (
        "SELECT name FROM singer WHERE age BETWEEN 1 AND 2 OR",
        "SELECT singer.name FROM singer WHERE singer.age BETWEEN 1.0 AND 2.0 OR",
    ),
    (
        "SELECT country FROM singer GROUP BY country HAVING count(*) > 2 or",
        "SELECT singer.country FROM singer GROUP BY singer.country HAVING count(*) > 2.0 OR",
    ),
    (
        "SELECT T1.name FROM singer AS T1 JOIN singer_in_concert AS T2 ON T1.Singer_ID = T2.Singer_ID AND",
        "SELECT singer.name FROM singer, singer_in_concert ON singer.singer_id = singer_in_concert.singer_id AND",
    ),
    (
        "SELECT T1.name FROM singer AS T1 JOIN singer_in_concert AS T2 WHERE T1.Singer_ID = T2.Singer_ID OR",
        "SELECT singer.name FROM singer, singer_in_concert WHERE singer.singer_id = singer_in_concert.singer_id",
    ),
    ("SELECT country FROM singer GROUP BY country AND", "SELECT singer.country FROM singer GROUP BY singer.country"),
    ("SELECT name FROM singer ORDER BY age OR", "SELECT singer.name FROM singer ORDER BY singer.age ASC"),
    # ORDER BY a condition: the official parser reads its first operand and stops
    ("SELECT name FROM singer ORDER BY count(*) >= 5 LIMIT 1", "SELECT singer.name FROM singer ORDER BY count(*) ASC"),
    # a column value swallows the OR-joined conditions after it, up to the next AND
    (
        "SELECT T1.name FROM singer AS T1 JOIN singer_in_concert AS T2 ON T1.Singer_ID = T2.Singer_ID "
        "OR T1.age = T2.concert_id AND T1.age > 3",
        "SELECT singer.name FROM singer, singer_in_concert ON singer.singer_id = singer_in_concert.singer_id "
        "AND singer.age > 3.0",
    ),
    # aliases are global: the definition written last wins, also for the outer query
    (
        "SELECT T1.name FROM singer AS T1 WHERE T1.name IN (SELECT T1.name FROM stadium AS T1)",
        "SELECT stadium.name FROM singer WHERE stadium.name IN (subquery)",
    ),
]


@pytest.mark.parametrize(("sql", "expected"), STRUCTURES)
def test_structure(sql, expected):
    assert read(sql) == expected


NORMALIZED = [
    # values and DISTINCT dropped, foreign-key columns unified (the ON value column is a value)
    (
        "SELECT DISTINCT T2.Name, count(DISTINCT T1.Singer_ID) FROM singer_in_concert AS T1 JOIN singer AS T2 "
        "ON T1.Singer_ID = T2.Singer_ID WHERE T2.Age > 30 GROUP BY T1.Singer_ID",
        "SELECT singer.name, count(singer.singer_id) FROM singer_in_concert, singer ON singer.singer_id = value "
        "WHERE singer.age > value GROUP BY singer.singer_id",
    ),
    # a column is unified only when its table is in the outer FROM; set-operation operands share
    # the outer FROM, subqueries in conditions keep their columns
    (
        "SELECT Stadium_ID FROM concert INTERSECT SELECT Stadium_ID FROM stadium",
        "SELECT stadium.stadium_id FROM concert INTERSECT SELECT stadium.stadium_id FROM stadium",
    ),
    (
        "SELECT Stadium_ID FROM stadium INTERSECT SELECT Stadium_ID FROM concert",
        "SELECT stadium.stadium_id FROM stadium INTERSECT SELECT concert.stadium_id FROM concert",
    ),
]


@pytest.mark.parametrize(("sql", "expected"), NORMALIZED)
def test_normalized_structure(sql, expected):
    assert read(sql, normalized=True) == expected


def test_subquery_in_condition_keeps_values_columns_and_distinct():
    q = spider_components(
        "SELECT name FROM stadium WHERE stadium_id IN (SELECT DISTINCT stadium_id FROM concert WHERE year = 2014)",
        SCHEMA,
        normalized=True,
    )
    sub = q.where.conds[0].value
    assert str(sub) == "SELECT DISTINCT concert.stadium_id FROM concert WHERE concert.year = value"
    assert sub.distinct is True


def test_from_subquery_is_kept_raw():
    q = spider_components(
        "SELECT count(*) FROM (SELECT DISTINCT name FROM singer WHERE age > 3)", SCHEMA, normalized=True
    )
    assert str(q.tables[0]) == "SELECT DISTINCT singer.name FROM singer WHERE singer.age > 3.0"


def test_values_kept_on_request():
    q = spider_components(
        "SELECT name FROM singer WHERE age > 3 AND name = 'x'", SCHEMA, normalized=True, keep_values=True
    )
    assert [c.value for c in q.where.conds] == [3.0, "x"]


def test_limit_value_not_kept():
    assert spider_components("SELECT name FROM singer LIMIT 3", SCHEMA) == spider_components(
        "SELECT name FROM singer LIMIT 10", SCHEMA
    )


# Outside the official grammar: the official parser fails on all of these.
REJECTED = [
    ("SELECT name FROM singr", "unknown table 'singr' (did you mean 'singer'?)"),
    ("SELECT nme FROM singer", "unknown column 'nme' in singer (did you mean 'name'?)"),
    ("SELECT T3.name FROM singer AS T1", "unknown table or alias 'T3'"),
    ("SELECT T1.capacity FROM singer AS T1", "unknown column 'capacity' in table 'singer'"),
    (
        "SELECT T1.name FROM singer AS T1 WHERE T1.age > (SELECT avg(T1.capacity) FROM stadium AS T1)",
        "unknown column 'age' in table 'stadium'",
    ),
    ("SELECT name AS n FROM singer", "column alias 'n'"),
    ("SELECT name FROM singer s", "table alias 's' without AS"),
    ("SELECT singer.name FROM singer AS stadium", "alias 'stadium' is also a table name"),
    ("SELECT `name` FROM singer", "quoted identifier 'name'"),
    ("SELECT [name] FROM singer", "quoted identifier"),
    ('SELECT "name" FROM singer', "Literal"),
    ("SELECT name FROM singer WHERE age <> 3", "'<>'"),
    ("SELECT name FROM singer WHERE age == 3", "'=='"),
    ("SELECT name FROM singer WHERE age IN (1, 2)", "IN with a value list"),
    ("SELECT name FROM singer WHERE age IS NULL", "as a condition"),
    ("SELECT name FROM singer WHERE NOT age = 3", "NOT before a condition"),
    ("SELECT name FROM singer WHERE (age = 3 OR age = 4)", "parenthesised condition"),
    ("SELECT name FROM singer WHERE EXISTS (SELECT * FROM concert)", "as a condition"),
    ("SELECT name FROM singer WHERE name = 'O''Brien'", "quote character"),
    ("SELECT lower(name) FROM singer", "in SELECT"),
    ("SELECT max(age) - min(age) FROM singer", "aggregate left of an operator"),
    ("SELECT age + 1 FROM singer", "where a column is expected"),
    ("SELECT 1 FROM singer", "in SELECT"),
    ("SELECT name FROM singer LEFT JOIN concert ON 1 = 1", "LEFT JOIN"),
    ("SELECT name FROM singer INNER JOIN concert", "INNER JOIN"),
    ("SELECT name FROM singer, concert", "comma join"),
    ("SELECT name FROM singer JOIN concert USING (x)", "USING"),
    ("SELECT t.name FROM (SELECT name FROM singer) AS t", "subquery with an alias"),
    ("SELECT name FROM singer UNION ALL SELECT name FROM stadium", "UNION ALL"),
    ("WITH x AS (SELECT 1) SELECT name FROM singer", "WITH"),
    ("SELECT T1.* FROM singer AS T1", "only a bare *"),
    ("SELECT name FROM singer ORDER BY 1", "ordinals"),
    ("SELECT name FROM singer WHERE age IN (SELECT age FROM singer ORDER BY age NULLS LAST)", "NULLS FIRST/LAST"),
    ("SELECT 1", "without FROM"),
    ("SELECT count FROM checkin", "column named 'count' must be qualified"),
    ("SELECT name FROM", "sqlglot cannot parse it"),
    # an open clause counts only at the very end of the text
    ("SELECT name FROM singer WHERE;", "sqlglot cannot parse it"),
    ("SELECT name FROM singer WHERE -- no condition", "sqlglot cannot parse it"),
    ("SELECT name FROM singer WHERE ORDER BY age", "sqlglot cannot parse it"),
    ("SELECT name FROM singer WHERE age > 3 AND ORDER BY", "sqlglot cannot parse it"),
    ("SELECT name FROM singer WHERE age IN (SELECT age FROM singer WHERE)", "sqlglot cannot parse it"),
    ("SELECT name FROM singer WHERE age BETWEEN 1 AND", "sqlglot cannot parse it"),
    ("SELECT name FROM singer JOIN concert ON WHERE", "as a condition"),
    ("SELECT name FROM singer JOIN concert AND", "AND after a table"),
    ("SELECT name FROM singer ORDER BY age LIMIT", "sqlglot cannot parse it"),
    ("", "no SQL statement"),
]


@pytest.mark.parametrize(("sql", "reason"), REJECTED)
def test_rejected(sql, reason):
    with pytest.raises(SpiderParseError) as err:
        spider_components(sql, SCHEMA)
    assert reason in err.value.reason
    assert err.value.sql == sql


def test_schema_from_tables_json_matches_from_dict():
    a, b = Schema.from_tables_json(tables_json_entry()), concert_schema()
    assert a.tables == b.tables and a.columns == b.columns and a.fk_map == b.fk_map


def test_schema_load(tmp_path):
    import json

    path = tmp_path / "tables.json"
    path.write_text(json.dumps([tables_json_entry()]))
    schemas = Schema.load(path)
    assert list(schemas) == ["concert_singer"]
    assert schemas["concert_singer"].fk_map == SCHEMA.fk_map


def test_foreign_key_groups_follow_the_official_construction():
    # a pair joins the first group holding either column; groups are never merged
    s = Schema.from_dict(
        {"a": ["x"], "b": ["x"], "c": ["x"], "d": ["x"]},
        foreign_keys=[("a.x", "b.x"), ("c.x", "d.x"), ("b.x", "c.x")],
    )
    assert s.fk_map == {"a.x": "a.x", "b.x": "a.x", "c.x": "c.x", "d.x": "c.x"}
