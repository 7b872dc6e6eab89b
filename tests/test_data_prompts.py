"""Prompt building: schema DDL with samples and keys, evidence, dialect, instruction, length limits."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from sqlrl.data import (
    Example,
    PromptOptions,
    PromptTooLongError,
    build_messages,
    build_prompt,
    dialect_label,
    schema_ddl,
)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prompts") / "shop.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, name TEXT, city TEXT, note TEXT);
        CREATE TABLE orders (
            order_id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL, "order date" TEXT, "group" TEXT,
            FOREIGN KEY (customer_id) REFERENCES customers(customer_id)
        );
        CREATE TABLE order_lines (order_id INTEGER, line_no INTEGER, product TEXT, payload BLOB,
                                  PRIMARY KEY (order_id, line_no));
        """
    )
    con.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?)",
        [(1, "Ann", "Zürich", None), (2, "Bo", "Oslo", "line one\nline two"), (3, "Cy", "Zürich", "x" * 100),
         (4, "Di", "Lima", "it's")],
    )  # fmt: skip
    con.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
        [(i, 1 + i % 4, 10.5 * i, f"2024-01-0{i}", "g") for i in range(1, 6)],
    )
    con.executemany("INSERT INTO order_lines VALUES (?, ?, ?, ?)", [(1, 1, "pen", b"\x00\x01"), (1, 2, "ink", None)])
    con.commit()
    con.close()
    return path


def _ex(db: Path, **kw) -> Example:
    base = dict(id="t/0", db_id="shop", db_path=db, question="What is the total of each order?",
                gold_sql="SELECT total FROM orders")  # fmt: skip
    return Example(**{**base, **kw})


def test_schema_ddl(shop: Path):
    ddl = schema_ddl(shop, sample_values=2)
    assert ddl.count("CREATE TABLE") == 3
    assert "CREATE TABLE customers (\n  customer_id INTEGER PRIMARY KEY, -- e.g. 1, 2\n" in ddl
    assert "  city TEXT, -- e.g. 'Zürich', 'Oslo'\n" in ddl
    assert "  FOREIGN KEY (customer_id) REFERENCES customers(customer_id)\n);" in ddl
    assert "PRIMARY KEY (order_id, line_no)" in ddl  # composite key on its own line
    assert '"order date" TEXT, -- e.g.' in ddl and '"group" TEXT' in ddl  # odd names quoted
    assert "total REAL, -- e.g. 10.5, 21.0" in ddl


def test_sample_values_are_safe_comments(shop: Path):
    ddl = schema_ddl(shop, sample_values=4, max_value_chars=20)
    note = next(line for line in ddl.splitlines() if line.strip().startswith("note"))
    assert "'line one line two'" in note  # newlines folded: the comment stays on one line
    assert "'" + "x" * 17 + "...'" in note  # long values cut
    assert "'it''s'" in note
    assert "NULL" not in note and "None" not in note
    assert "payload BLOB, -- e.g. <blob>" in ddl
    for line in ddl.splitlines():
        assert line.count("--") <= 1


def test_no_sample_values(shop: Path):
    ddl = schema_ddl(shop, sample_values=0)
    assert "-- e.g." not in ddl and "CREATE TABLE orders" in ddl


def test_sample_value_count(shop: Path):
    ddl = schema_ddl(shop, sample_values=3)
    line = next(line for line in ddl.splitlines() if line.strip().startswith("customer_id INTEGER PRIMARY"))
    assert line.endswith("-- e.g. 1, 2, 3")
    city = next(line for line in ddl.splitlines() if line.strip().startswith("city"))
    assert city.endswith("-- e.g. 'Zürich', 'Oslo', 'Lima'")  # distinct values


def test_tables_json_foreign_keys_are_merged(shop: Path):
    entry = {
        "table_names_original": ["customers", "orders", "order_lines"],
        "column_names_original": [[-1, "*"], [0, "customer_id"], [1, "order_id"], [1, "customer_id"],
                                  [2, "order_id"]],
        "foreign_keys": [[3, 1], [4, 2]],
    }  # fmt: skip
    ddl = schema_ddl(shop, sample_values=0, tables_entry=entry)
    assert ddl.count("FOREIGN KEY (customer_id) REFERENCES customers(customer_id)") == 1  # not duplicated
    assert "FOREIGN KEY (order_id) REFERENCES orders(order_id)" in ddl
    assert "FOREIGN KEY" not in schema_ddl(shop, foreign_keys=False)


def test_messages(shop: Path):
    msgs = build_messages(_ex(shop, evidence="total is in dollars"))
    assert [m["role"] for m in msgs] == ["system", "user"]
    system, user = msgs[0]["content"], msgs[1]["content"]
    assert "SQLite" in system and "```sql" in system and "<think>" not in system
    assert user.startswith("Database schema (SQLite):\nCREATE TABLE customers (")
    assert "\n\nEvidence: total is in dollars\n\nQuestion: What is the total of each order?" in user
    assert user.endswith("Question: What is the total of each order?")


def test_no_evidence_line_without_evidence(shop: Path):
    assert "Evidence:" not in build_messages(_ex(shop))[1]["content"]


def test_dialect_and_think(shop: Path):
    msgs = build_messages(_ex(shop), options=PromptOptions(dialect="duckdb", think=True))
    system = msgs[0]["content"]
    assert "DuckDB" in system and "shown as SQLite DDL" in system
    assert "<think> and </think>" in system and system.endswith("in a ```sql fenced code block.")
    assert dialect_label("postgres") == "PostgreSQL" and dialect_label("mydb") == "mydb"
    assert "BigQuery" in build_messages(_ex(shop, dialect="bigquery"))[0]["content"]


def test_plain_text_variant(shop: Path):
    text = build_prompt(_ex(shop, evidence="ev"))
    msgs = build_messages(_ex(shop, evidence="ev"))
    assert text == msgs[0]["content"] + "\n\n" + msgs[1]["content"] + "\n"


def test_without_system_message(shop: Path):
    msgs = build_messages(_ex(shop), options=PromptOptions(system_message=False))
    assert [m["role"] for m in msgs] == ["user"]
    assert msgs[0]["content"].startswith("You are an expert in SQLite.")


def test_custom_instruction(shop: Path):
    msgs = build_messages(_ex(shop), options=PromptOptions(instruction="Write SQL."))
    assert msgs[0]["content"] == "Write SQL."


def test_deterministic(shop: Path):
    opts = PromptOptions(sample_values=5)
    assert build_prompt(_ex(shop), options=opts) == build_prompt(_ex(shop), options=opts)
    assert schema_ddl(shop) == schema_ddl(Path(str(shop)))


def test_max_length_drops_samples_then_tables(shop: Path):
    ex = _ex(shop)
    full = build_prompt(ex)
    no_samples = build_prompt(ex, options=PromptOptions(sample_values=0))
    assert len(no_samples) < len(full)
    fitted = build_prompt(ex, options=PromptOptions(max_length=len(full) - 1))
    assert len(fitted) <= len(full) - 1 and fitted.count("CREATE TABLE") == 3
    tight = build_prompt(ex, options=PromptOptions(max_length=len(no_samples) - 1))
    assert "-- e.g." not in tight and re.search(r"-- \(\d more tables? not shown\)", tight)
    assert "CREATE TABLE orders" in tight  # the table the question names is kept first
    assert "Question: What is the total of each order?" in tight
    with pytest.raises(PromptTooLongError, match="max_length=50"):
        build_prompt(ex, options=PromptOptions(max_length=50))


def test_max_length_counts_with_length_fn(shop: Path):
    words = PromptOptions(max_length=120, length_fn=lambda s: len(s.split()))
    text = build_prompt(_ex(shop), options=words)
    assert len(text.split()) <= 120


def test_option_validation():
    with pytest.raises(ValueError, match="sample_values"):
        PromptOptions(sample_values=-1)
    with pytest.raises(ValueError, match="max_length"):
        PromptOptions(max_length=0)


def test_example_without_database(shop: Path):
    with pytest.raises(ValueError, match="no db_path"):
        build_messages(_ex(shop, db_path=None))


def test_database_is_opened_read_only(shop: Path):
    before = shop.read_bytes()
    build_prompt(_ex(shop), options=PromptOptions(sample_values=7))
    assert shop.read_bytes() == before


def test_toy_prompt_end_to_end(tmp_path: Path):
    from sqlrl.data import load_toy

    ds = load_toy("dev", cache_dir=tmp_path)
    ex = next(e for e in ds if e.db_id == "flights")
    user = build_messages(ex, tables_entry=ds.tables[ex.db_id])[1]["content"]
    assert "FOREIGN KEY (origin) REFERENCES airports(airport_code)" in user
    assert "FOREIGN KEY (destination) REFERENCES airports(airport_code)" in user
    assert user.endswith(ex.question)


def test_compact_and_no_schema_formats(shop: Path):
    ex = _ex(shop)
    compact = build_messages(ex, options=PromptOptions(schema_format="compact"))[1]["content"]
    assert "CREATE TABLE" not in compact and "-- e.g." not in compact
    assert re.search(r"^\w+\(\w+(, \w+)*\)$", compact.split("\n")[1])  # name(col, col, ...)
    none = build_messages(ex, options=PromptOptions(schema_format="none"))[1]["content"]
    assert none.startswith(f"Database: {ex.db_id}") and ex.question in none and "(" not in none.split("\n")[0]
    with pytest.raises(ValueError, match="schema_format"):
        PromptOptions(schema_format="yaml")
