"""Small demo databases, built deterministically from code (no binary files in git).

Three domains, a few hundred rows per table at most, with the things real benchmark data
has: NULLs, floats, non-ASCII text, dates stored as TEXT (SQLite) or DATE (DuckDB), a column
holding mixed storage classes (SQLite only), and Spider-style mixed-case names.

- ``concert_singer``: stadium, singer, concert, singer_in_concert (Spider's schema, more rows).
- ``employees``: departments, employees (self-referencing managers, NULL commissions).
- ``store``: customers, products, orders, order_items, reviews (``rating`` mixes integers,
  reals and text, as dirty SQLite columns do).

>>> import tempfile, os, sqlite3
>>> path = build_demo_sqlite(os.path.join(tempfile.mkdtemp(), "cs.sqlite"), "concert_singer")
>>> sqlite3.connect(path).execute("SELECT count(*) FROM singer").fetchone()
(40,)

:data:`DEMO_QUERIES` holds gold queries with predictions of known kinds (correct,
column-reordered, row-reordered, partially correct, wrong, erroring) for scoring demos, and
:func:`build_benchmark_table` makes a larger table for benchmarks.
"""

from __future__ import annotations

import datetime as _dt
import os
import random
import sqlite3
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

#: Names accepted by :func:`build_demo_sqlite` and :func:`build_demo_duckdb`.
DEMO_DATABASES = ["concert_singer", "employees", "store"]


@dataclass(frozen=True)
class Table:
    """A demo table: column (name, SQLite type) pairs and its rows."""

    name: str
    columns: tuple[tuple[str, str], ...]
    rows: tuple[tuple[Any, ...], ...]


_FIRST = [
    "Anna",
    "José",
    "Zoë",
    "Łukasz",
    "Søren",
    "Chloé",
    "Mia",
    "Noah",
    "Liam",
    "Emma",
    "Olivia",
    "Ava",
    "Björn",
    "Élodie",
    "Hiroshi",
    "Yuki",
    "Ömer",
    "Ines",
    "Mateo",
    "Sofia",
    "Jürgen",
    "Aiyana",
    "Wei",
    "Priya",
    "Kwame",
    "Fatima",
    "Nikolai",
    "Chen",
    "Lars",
    "Maëlle",
]
_LAST = [
    "Smith",
    "García",
    "Müller",
    "Kowalski",
    "Nielsen",
    "Dubois",
    "Rossi",
    "Tanaka",
    "Öztürk",
    "Silva",
    "Ivanov",
    "Kim",
    "O'Brien",
    "Nguyen",
    "Dvořák",
    "Jensen",
    "Brown",
    "Okafor",
    "Patel",
    "Wang",
]
_CITIES = [
    "Zürich",
    "São Paulo",
    "Kraków",
    "München",
    "New York",
    "Tokyo",
    "Paris",
    "Oslo",
    "Reykjavík",
    "Montréal",
    "Beijing 北京",
    "Cape Town",
    "Lima",
    "Dublin",
    "Köln",
]
_COUNTRIES = [
    "Switzerland",
    "Brazil",
    "Poland",
    "Germany",
    "United States",
    "Japan",
    "France",
    "Norway",
    "Iceland",
    "Canada",
    "China",
    "South Africa",
    "Peru",
    "Ireland",
    "Germany",
]


def _seed(name: str) -> random.Random:
    return random.Random(zlib.crc32(name.encode()))


def _date(rng: random.Random, start: int, end: int) -> str:
    day = _dt.date(start, 1, 1) + _dt.timedelta(
        days=rng.randrange((_dt.date(end, 12, 31) - _dt.date(start, 1, 1)).days)
    )
    return day.isoformat()


def _maybe(rng: random.Random, value: Any, p_null: float) -> Any:
    return None if rng.random() < p_null else value


def _concert_singer() -> list[Table]:
    rng = _seed("concert_singer")
    stadiums = []
    for i in range(1, 13):
        cap = rng.randrange(2000, 80000, 100)
        lo, hi = sorted(rng.sample(range(100, cap), 2))
        avg = rng.randrange(lo, hi + 1)
        name = rng.choice(["Arena", "Park", "Stadium", "Field", "Dome"])
        stadiums.append((i, _CITIES[i % len(_CITIES)], f"{_LAST[i % len(_LAST)]} {name}", cap, hi, lo, avg))
    singers = []
    for i in range(1, 41):
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        song = _maybe(
            rng,
            rng.choice(["Love Song", "Héroes", "Gentleman", "Sun", "Dance", "Moonlight", "Hey Oh", "Sólo tú", "Rain"]),
            0.1,
        )
        singers.append(
            (
                i,
                name,
                rng.choice(_COUNTRIES),
                song,
                str(rng.randrange(1990, 2016)),
                rng.randrange(18, 66),
                rng.choice(["T", "F"]),
            )
        )
    concerts = []
    for i in range(1, 61):
        theme = _maybe(
            rng,
            rng.choice(["Free choice", "Bleeding Love", "Wide Awake", "Happy Tonight", "Party All Night", "Élan"]),
            0.1,
        )
        concerts.append((i, f"Concert {i:02d}", theme, rng.randrange(1, 13), str(rng.randrange(2012, 2020))))
    pairs = sorted({(rng.randrange(1, 61), rng.randrange(1, 41)) for _ in range(160)})
    return [
        Table(
            "stadium",
            (
                ("Stadium_ID", "INT"),
                ("Location", "TEXT"),
                ("Name", "TEXT"),
                ("Capacity", "INT"),
                ("Highest", "INT"),
                ("Lowest", "INT"),
                ("Average", "INT"),
            ),
            tuple(stadiums),
        ),
        Table(
            "singer",
            (
                ("Singer_ID", "INT"),
                ("Name", "TEXT"),
                ("Country", "TEXT"),
                ("Song_Name", "TEXT"),
                ("Song_release_year", "TEXT"),
                ("Age", "INT"),
                ("Is_male", "BOOL"),
            ),
            tuple(singers),
        ),
        Table(
            "concert",
            (
                ("concert_ID", "INT"),
                ("concert_Name", "TEXT"),
                ("Theme", "TEXT"),
                ("Stadium_ID", "TEXT"),
                ("Year", "TEXT"),
            ),
            tuple(concerts),
        ),
        Table("singer_in_concert", (("concert_ID", "INT"), ("Singer_ID", "TEXT")), tuple(pairs)),
    ]


def _employees() -> list[Table]:
    rng = _seed("employees")
    names = [
        "Engineering",
        "Sales",
        "Marketing",
        "Finance",
        "Human Resources",
        "Research & Development",
        "Customer Support",
        "Legal",
    ]
    departments = [
        (i, n, _CITIES[(i * 3) % len(_CITIES)], round(rng.uniform(1e5, 5e6), 2), None)
        for i, n in enumerate(names, start=1)
    ]
    employees = []
    for i in range(1, 201):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        dept = rng.randrange(1, len(names) + 1)
        manager = None if i <= 8 else rng.randrange(1, min(i, 60))
        salary = round(rng.uniform(32000, 180000), 2) if rng.random() > 0.03 else None
        commission = round(rng.uniform(0.0, 0.3), 3) if dept == 2 and rng.random() > 0.2 else None
        email = f"{first}.{last}{i}@example.com".lower().replace("'", "")
        employees.append((i, first, last, email, _date(rng, 1998, 2024), salary, dept, manager, commission))
    departments = [(d[0], d[1], d[2], d[3], 1 + (d[0] - 1) % 8) for d in departments]
    return [
        Table(
            "departments",
            (
                ("dept_id", "INTEGER"),
                ("name", "VARCHAR(40)"),
                ("location", "TEXT"),
                ("budget", "REAL"),
                ("manager_id", "INTEGER"),
            ),
            tuple(departments),
        ),
        Table(
            "employees",
            (
                ("emp_id", "INTEGER"),
                ("first_name", "TEXT"),
                ("last_name", "TEXT"),
                ("email", "TEXT"),
                ("hire_date", "DATE"),
                ("salary", "REAL"),
                ("dept_id", "INTEGER"),
                ("manager_id", "INTEGER"),
                ("commission_pct", "REAL"),
            ),
            tuple(employees),
        ),
    ]


def _store() -> list[Table]:
    rng = _seed("store")
    customers = [
        (
            i,
            f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            rng.choice(_CITIES),
            _maybe(rng, rng.choice(_COUNTRIES), 0.05),
            _date(rng, 2019, 2023),
        )
        for i in range(1, 81)
    ]
    categories = ["Books", "Electronics", "Garden", "Toys", "Kitchen", "Café"]
    products = []
    for i in range(1, 41):
        cat = rng.choice(categories)
        products.append((i, f"{cat} item {i}", cat, round(rng.uniform(1.5, 499.99), 2), rng.randrange(0, 500)))
    orders, items = [], []
    for i in range(1, 201):
        orders.append(
            (
                i,
                rng.randrange(1, 81),
                _date(rng, 2021, 2024),
                rng.choice(["shipped", "shipped", "delivered", "cancelled", "pending"]),
            )
        )
        for pid in rng.sample(range(1, 41), rng.randrange(1, 4)):
            items.append((i, pid, rng.randrange(1, 6), products[pid - 1][3]))
    reviews = []
    for i in range(1, 121):
        r = rng.random()
        rating: Any = (
            rng.randrange(1, 6)
            if r < 0.8
            else (round(rng.uniform(1, 5), 1) if r < 0.9 else rng.choice(["n/a", "five", ""]))
        )
        reviews.append(
            (
                i,
                rng.randrange(1, 41),
                rng.randrange(1, 81),
                _maybe(rng, rating, 0.05),
                _maybe(rng, rng.choice(["Great!", "Très bien", "Not bad", "Schlecht", "最高", "ok"]), 0.2),
            )
        )
    return [
        Table(
            "customers",
            (
                ("customer_id", "INTEGER"),
                ("name", "TEXT"),
                ("city", "TEXT"),
                ("country", "TEXT"),
                ("signup_date", "TEXT"),
            ),
            tuple(customers),
        ),
        Table(
            "products",
            (
                ("product_id", "INTEGER"),
                ("name", "TEXT"),
                ("category", "TEXT"),
                ("price", "REAL"),
                ("stock", "INTEGER"),
            ),
            tuple(products),
        ),
        Table(
            "orders",
            (("order_id", "INTEGER"), ("customer_id", "INTEGER"), ("order_date", "TEXT"), ("status", "TEXT")),
            tuple(orders),
        ),
        Table(
            "order_items",
            (
                ("order_id", "INTEGER"),
                ("product_id", "INTEGER"),
                ("quantity", "INTEGER"),
                ("unit_price", "REAL"),
            ),
            tuple(items),
        ),
        Table(
            "reviews",
            (
                ("review_id", "INTEGER"),
                ("product_id", "INTEGER"),
                ("customer_id", "INTEGER"),
                ("rating", "NUMERIC"),
                ("comment", "TEXT"),
            ),
            tuple(reviews),
        ),
    ]


_BUILDERS: dict[str, Callable[[], list[Table]]] = {
    "concert_singer": _concert_singer,
    "employees": _employees,
    "store": _store,
}


def demo_tables(name: str) -> list[Table]:
    """The tables of demo database ``name`` (always the same rows)."""
    try:
        return _BUILDERS[name]()
    except KeyError:
        raise ValueError(f"unknown demo database {name!r}; choose from {DEMO_DATABASES}") from None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_demo_sqlite(path: str | os.PathLike[str], name: str) -> Path:
    """Write demo database ``name`` as a SQLite file at ``path`` (replaced if it exists); returns the path."""
    tables = demo_tables(name)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        for t in tables:
            cols = ", ".join(f"{_quote(c)} {ty}" for c, ty in t.columns)
            con.execute(f"CREATE TABLE {_quote(t.name)} ({cols})")
            marks = ", ".join("?" * len(t.columns))
            con.executemany(f"INSERT INTO {_quote(t.name)} VALUES ({marks})", t.rows)
        con.commit()
    finally:
        con.close()
    return path


_DUCKDB_TYPES = {
    "INT": "INTEGER",
    "INTEGER": "BIGINT",
    "TEXT": "VARCHAR",
    "REAL": "DOUBLE",
    "BOOL": "VARCHAR",
    "DATE": "DATE",
    "NUMERIC": "VARCHAR",
}


def _duckdb_type(sqlite_type: str) -> str:
    return _DUCKDB_TYPES.get(sqlite_type, "VARCHAR")


def build_demo_duckdb(path: str | os.PathLike[str], name: str) -> Path:
    """Write demo database ``name`` as a DuckDB file with native types (dates as DATE); returns the path.

    Columns that hold mixed values in the SQLite version (``reviews.rating``) are VARCHAR here.
    """
    import duckdb

    tables = demo_tables(name)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        for t in tables:
            types = [_duckdb_type(ty) for _, ty in t.columns]
            cols = ", ".join(f"{_quote(c)} {ty}" for (c, _), ty in zip(t.columns, types, strict=False))
            con.execute(f"CREATE TABLE {_quote(t.name)} ({cols})")
            rows = [tuple(_to_duckdb(v, ty) for v, ty in zip(row, types, strict=False)) for row in t.rows]
            _append(con, t.name, rows, len(types))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


def _to_duckdb(value: Any, duck_type: str) -> Any:
    if value is None:
        return None
    if duck_type == "DATE":
        return _dt.date.fromisoformat(value)
    if duck_type == "VARCHAR":
        return str(value)
    if duck_type == "INTEGER":
        return int(value)
    return value


def _append(con: Any, table: str, rows: list[tuple], width: int) -> None:
    if hasattr(con, "appender"):
        with con.appender(_quote(table)) as ap:
            ap.append_rows(rows)
        return
    marks = ", ".join("?" * width)
    con.executemany(f"INSERT INTO {_quote(table)} VALUES ({marks})", rows)


def build_all_demos(directory: str | os.PathLike[str], engine: str = "sqlite") -> dict[str, Path]:
    """Build every demo database in ``directory`` (``<name>.sqlite`` or ``<name>.duckdb``)."""
    build = build_demo_sqlite if engine == "sqlite" else build_demo_duckdb
    suffix = ".sqlite" if engine == "sqlite" else ".duckdb"
    return {name: build(Path(directory) / f"{name}{suffix}", name) for name in DEMO_DATABASES}


# -- query sets for scoring demos -------------------------------------------------------------------


class DemoPrediction(NamedTuple):
    """A predicted query and what it is, relative to its gold."""

    kind: str  # correct | column_reordered | row_reordered | partial | wrong | error
    sql: str


class DemoQuerySet(NamedTuple):
    """A gold query with predictions of known kinds."""

    database: str
    question: str
    gold: str
    predictions: tuple[DemoPrediction, ...]


def _p(kind: str, sql: str) -> DemoPrediction:
    return DemoPrediction(kind, sql)


#: Gold queries with correct, column-reordered, row-reordered, partially correct, wrong and erroring
#: predictions, for demos of the scorers. Every query runs on both SQLite and DuckDB.
DEMO_QUERIES: list[DemoQuerySet] = [
    DemoQuerySet(
        "concert_singer",
        "How many singers are there?",
        "SELECT count(*) FROM singer",
        (
            _p("correct", "SELECT count(*) FROM singer"),
            _p("correct", "SELECT count(Singer_ID) FROM singer"),
            _p("wrong", "SELECT count(*) FROM concert"),
            _p("error", "SELECT count(*) FROM singers"),
        ),
    ),
    DemoQuerySet(
        "concert_singer",
        "Name and country of singers older than 50, youngest first.",
        "SELECT Name, Country FROM singer WHERE Age > 50 ORDER BY Age, Singer_ID",
        (
            _p("correct", "SELECT Name, Country FROM singer WHERE Age >= 51 ORDER BY Age, Singer_ID"),
            _p("column_reordered", "SELECT Country, Name FROM singer WHERE Age > 50 ORDER BY Age, Singer_ID"),
            _p(
                "row_reordered",
                "SELECT Name, Country FROM singer WHERE Age > 50 ORDER BY Age DESC, Singer_ID",
            ),
            _p("partial", "SELECT Name FROM singer WHERE Age > 50 ORDER BY Age, Singer_ID"),
            _p("partial", "SELECT Name, Country FROM singer WHERE Age > 55 ORDER BY Age, Singer_ID"),
            _p("wrong", "SELECT Name, Country FROM singer WHERE Age < 50 ORDER BY Age, Singer_ID"),
            _p("error", "SELECT Name, Country FROM singer WHERE Age > 50 ORDER BY"),
        ),
    ),
    DemoQuerySet(
        "concert_singer",
        "Number of concerts per stadium name.",
        "SELECT T2.Name, count(*) FROM concert AS T1 JOIN stadium AS T2 ON T1.Stadium_ID = T2.Stadium_ID "
        "GROUP BY T2.Name",
        (
            _p(
                "row_reordered",
                "SELECT T2.Name, count(*) FROM concert AS T1 JOIN stadium AS T2 "
                "ON T1.Stadium_ID = T2.Stadium_ID GROUP BY T2.Name ORDER BY count(*) DESC, T2.Name",
            ),
            _p(
                "column_reordered",
                "SELECT count(*), s.Name FROM stadium s JOIN concert c ON c.Stadium_ID = s.Stadium_ID GROUP BY s.Name",
            ),
            _p(
                "partial",
                "SELECT T2.Name FROM concert AS T1 JOIN stadium AS T2 ON T1.Stadium_ID = T2.Stadium_ID "
                "GROUP BY T2.Name",
            ),
            _p("wrong", "SELECT T2.Name, count(*) FROM concert AS T1, stadium AS T2 GROUP BY T2.Name"),
            _p(
                "error",
                "SELECT T2.Name, count(*) FROM concert AS T1 JOIN stadium AS T2 ON T1.Stadium_ID = "
                "T2.Stadium_IDX GROUP BY T2.Name",
            ),
        ),
    ),
    DemoQuerySet(
        "employees",
        "Average salary per department, highest first.",
        "SELECT d.name, round(avg(e.salary), 2) AS avg_salary FROM employees e JOIN departments d "
        "ON e.dept_id = d.dept_id GROUP BY d.name ORDER BY avg_salary DESC",
        (
            _p(
                "correct",
                "SELECT d.name, round(sum(e.salary) / count(e.salary), 2) FROM departments d "
                "JOIN employees e ON e.dept_id = d.dept_id GROUP BY d.name ORDER BY 2 DESC",
            ),
            _p(
                "column_reordered",
                "SELECT round(avg(e.salary), 2), d.name FROM employees e JOIN departments d "
                "ON e.dept_id = d.dept_id GROUP BY d.name ORDER BY 1 DESC",
            ),
            _p(
                "row_reordered",
                "SELECT d.name, round(avg(e.salary), 2) FROM employees e JOIN departments d "
                "ON e.dept_id = d.dept_id GROUP BY d.name ORDER BY 2 ASC",
            ),
            _p(
                "partial",
                "SELECT d.name, round(avg(e.salary), 2) FROM employees e JOIN departments d "
                "ON e.dept_id = d.dept_id WHERE d.dept_id <= 6 GROUP BY d.name ORDER BY 2 DESC",
            ),
            _p(
                "wrong",
                "SELECT d.name, max(e.salary) FROM employees e JOIN departments d "
                "ON e.dept_id = d.dept_id GROUP BY d.name ORDER BY 2 DESC",
            ),
            _p(
                "error",
                "SELECT d.name, avg(e.salary FROM employees e JOIN departments d ON e.dept_id = d.dept_id",
            ),
        ),
    ),
    DemoQuerySet(
        "employees",
        "Employees hired in 2020 without a commission.",
        "SELECT first_name, last_name FROM employees "
        "WHERE hire_date >= '2020-01-01' AND hire_date < '2021-01-01' "
        "AND commission_pct IS NULL",
        (
            _p(
                "correct",
                "SELECT first_name, last_name FROM employees WHERE commission_pct IS NULL AND hire_date "
                "BETWEEN '2020-01-01' AND '2020-12-31'",
            ),
            _p(
                "column_reordered",
                "SELECT last_name, first_name FROM employees WHERE hire_date >= '2020-01-01' AND "
                "hire_date < '2021-01-01' AND commission_pct IS NULL",
            ),
            _p(
                "row_reordered",
                "SELECT first_name, last_name FROM employees WHERE hire_date >= '2020-01-01' AND "
                "hire_date < '2021-01-01' AND commission_pct IS NULL ORDER BY first_name DESC",
            ),
            _p(
                "partial",
                "SELECT first_name, last_name FROM employees WHERE hire_date >= '2020-01-01' AND "
                "hire_date < '2020-07-01' AND commission_pct IS NULL",
            ),
            _p("wrong", "SELECT first_name, last_name FROM employees WHERE commission_pct IS NULL"),
            _p("error", "SELECT first_name, last_name FROM employee WHERE hire_date >= '2020-01-01'"),
        ),
    ),
    DemoQuerySet(
        "store",
        "Revenue per product category (delivered or shipped orders).",
        "SELECT p.category, round(sum(oi.quantity * oi.unit_price), 2) FROM order_items oi "
        "JOIN products p ON oi.product_id = p.product_id JOIN orders o ON o.order_id = oi.order_id "
        "WHERE o.status IN ('shipped', 'delivered') GROUP BY p.category",
        (
            _p(
                "correct",
                "SELECT p.category, round(sum(oi.unit_price * oi.quantity), 2) FROM orders o "
                "JOIN order_items oi ON o.order_id = oi.order_id JOIN products p ON p.product_id = "
                "oi.product_id WHERE o.status <> 'cancelled' AND o.status <> 'pending' GROUP BY 1",
            ),
            _p(
                "column_reordered",
                "SELECT round(sum(oi.quantity * oi.unit_price), 2), p.category FROM order_items oi "
                "JOIN products p ON oi.product_id = p.product_id JOIN orders o ON o.order_id = "
                "oi.order_id WHERE o.status IN ('shipped', 'delivered') GROUP BY p.category",
            ),
            _p(
                "row_reordered",
                "SELECT p.category, round(sum(oi.quantity * oi.unit_price), 2) FROM order_items oi "
                "JOIN products p ON oi.product_id = p.product_id JOIN orders o ON o.order_id = "
                "oi.order_id WHERE o.status IN ('shipped', 'delivered') GROUP BY p.category "
                "ORDER BY 2",
            ),
            _p(
                "partial",
                "SELECT p.category, round(sum(oi.quantity * oi.unit_price), 2) FROM order_items oi "
                "JOIN products p ON oi.product_id = p.product_id JOIN orders o ON o.order_id = oi.order_id "
                "WHERE o.status = 'shipped' GROUP BY p.category",
            ),
            _p(
                "wrong",
                "SELECT p.category, sum(oi.quantity) FROM order_items oi JOIN products p "
                "ON oi.product_id = p.product_id GROUP BY p.category",
            ),
            _p(
                "error",
                "SELECT p.category, round(sum(quantity * price), 2) FROM order_items oi "
                "JOIN products p ON oi.product_id = p.product_id GROUP BY p.category HAVING",
            ),
        ),
    ),
    DemoQuerySet(
        "store",
        "Customers from Zürich or Kraków with at least one order.",
        "SELECT DISTINCT c.name FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
        "WHERE c.city IN ('Zürich', 'Kraków')",
        (
            _p(
                "correct",
                "SELECT name FROM customers WHERE city IN ('Zürich', 'Kraków') AND customer_id IN "
                "(SELECT customer_id FROM orders)",
            ),
            _p(
                "row_reordered",
                "SELECT DISTINCT c.name FROM customers c JOIN orders o ON o.customer_id = "
                "c.customer_id WHERE c.city IN ('Zürich', 'Kraków') ORDER BY c.name DESC",
            ),
            _p(
                "partial",
                "SELECT DISTINCT c.name FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
                "WHERE c.city LIKE 'Z%'",
            ),
            _p("wrong", "SELECT DISTINCT c.name FROM customers c WHERE c.city IN ('Zurich', 'Krakow')"),
            _p(
                "error",
                "SELECT DISTINCT c.name FROM customers c JOIN orders o USING (customer_id) WHERE c.town IN ('Zürich')",
            ),
        ),
    ),
]


# -- benchmark data ---------------------------------------------------------------------------------


def benchmark_rows(rows: int = 100_000, seed: int = 0) -> Iterator[tuple[Any, ...]]:
    """Rows of the ``events`` benchmark table: (id, user_id, category, amount, ts, note)."""
    rng = random.Random(seed)
    cats = ["click", "view", "purchase", "signup", "logout", "résumé"]
    base = _dt.datetime(2023, 1, 1)
    for i in range(rows):
        ts = (base + _dt.timedelta(seconds=rng.randrange(365 * 86400))).isoformat(sep=" ")
        amount = round(rng.expovariate(1 / 40), 2) if rng.random() > 0.05 else None
        note = None if rng.random() < 0.7 else rng.choice(_FIRST) + " " + rng.choice(_CITIES)
        yield (i, rng.randrange(1, 5000), rng.choice(cats), amount, ts, note)


_BENCH_COLUMNS = (
    ("id", "INTEGER", "BIGINT"),
    ("user_id", "INTEGER", "BIGINT"),
    ("category", "TEXT", "VARCHAR"),
    ("amount", "REAL", "DOUBLE"),
    ("ts", "TEXT", "VARCHAR"),
    ("note", "TEXT", "VARCHAR"),
)


def build_benchmark_table(
    path: str | os.PathLike[str], rows: int = 100_000, *, engine: str = "sqlite", seed: int = 0
) -> Path:
    """Write a database with one table ``events`` of ``rows`` rows (deterministic for a seed).

    Args:
        path: file to create (replaced if it exists).
        rows: number of rows.
        engine: ``"sqlite"`` or ``"duckdb"``.
        seed: random seed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    data = list(benchmark_rows(rows, seed))
    if engine == "sqlite":
        con = sqlite3.connect(path)
        cols = ", ".join(f"{c} {s}" for c, s, _ in _BENCH_COLUMNS)
        con.execute(f"CREATE TABLE events ({cols})")
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", data)
        con.commit()
        con.close()
        return path
    if engine != "duckdb":
        raise ValueError(f"engine must be 'sqlite' or 'duckdb', got {engine!r}")
    import duckdb

    con = duckdb.connect(str(path))
    cols = ", ".join(f"{c} {d}" for c, _, d in _BENCH_COLUMNS)
    con.execute(f"CREATE TABLE events ({cols})")
    _append(con, "events", data, len(_BENCH_COLUMNS))
    con.execute("CHECKPOINT")
    con.close()
    return path
