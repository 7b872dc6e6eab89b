"""How often does DuckDB (on data imported from SQLite) give a different verdict than SQLite itself?

Runs ~100 Spider-style queries on the generated demo databases, once on SQLite (the reference:
the official Spider/BIRD scripts use sqlite3) and on DuckDB in three set-ups:

- ``duckdb``: the imported database, DuckDB's own semantics;
- ``duckdb+compat``: with the sandbox's SQLite-compat settings and rewrites (integer division, NULLs
  first ascending, division by zero -> NULL, LIKE -> ILIKE, double-quoted strings, type affinity,
  CAST truncation, SQLite-only functions: ``sqlrl.sql.sqlite_compat``);
- ``duckdb+compat+transpile``: additionally the SQL is transpiled from SQLite to DuckDB by sqlglot.

A query "differs" when its DuckDB result does not match the SQLite result under Spider's EX
(test-suite semantics: bags of rows, row order compared when the query has ORDER BY, with
sqlrl's scoring core when it is built, else a plain sorted-rows comparison) or when exactly one
engine fails. Run:

    python benchmarks/engine_compat.py [--show all|compat|none]

It prints the counts and the differing queries (see ENGINE_COMPAT.md for the recorded numbers).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sqlrl.data.demo import DEMO_QUERIES, build_all_demos
from sqlrl.sandbox import ExecResult, Sandbox

CS, EMP, ST = "concert_singer", "employees", "store"

#: (database, SQLite query): what Spider/BIRD gold and model outputs look like, plus known trouble spots.
QUERIES: list[tuple[str, str]] = [
    # counting, filtering
    (CS, "SELECT count(*) FROM singer"),
    (CS, "SELECT count(*) FROM singer WHERE Age > 40"),
    (CS, "SELECT Name, Country, Age FROM singer ORDER BY Age DESC"),
    (CS, "SELECT avg(Age), min(Age), max(Age) FROM singer WHERE Country = 'France'"),
    (CS, "SELECT Name FROM singer WHERE Is_male = 'T' AND Age BETWEEN 20 AND 30"),
    (CS, "SELECT DISTINCT Country FROM singer ORDER BY Country"),
    (CS, "SELECT count(DISTINCT Country) FROM singer"),
    (CS, "SELECT Song_Name FROM singer WHERE Age > (SELECT avg(Age) FROM singer)"),
    (CS, "SELECT Name, Song_release_year FROM singer ORDER BY Age LIMIT 1"),
    (CS, "SELECT Name FROM singer WHERE Song_Name LIKE '%Love%'"),
    (CS, "SELECT Name FROM singer WHERE Song_Name LIKE '%love%'"),
    (CS, "SELECT Name FROM singer WHERE Name LIKE 'a%'"),
    (CS, "SELECT Name FROM singer WHERE Name LIKE '%ö%'"),
    (CS, "SELECT Name FROM singer WHERE Name LIKE '%Ö%'"),
    (CS, "SELECT Name FROM singer WHERE Name GLOB 'A*'"),
    (CS, "SELECT Country, count(*) FROM singer GROUP BY Country ORDER BY count(*) DESC"),
    (CS, "SELECT Country, count(*) FROM singer GROUP BY Country ORDER BY count(*) DESC LIMIT 3"),
    (CS, "SELECT Country FROM singer GROUP BY Country HAVING count(*) >= 3"),
    (CS, "SELECT Name, max(Age) FROM singer"),
    (CS, "SELECT Country, Name, max(Age) FROM singer GROUP BY Country"),
    (CS, "SELECT Song_Name FROM singer ORDER BY Song_Name"),
    (CS, "SELECT Song_Name FROM singer ORDER BY Song_Name DESC"),
    (CS, "SELECT Song_release_year FROM singer WHERE Song_release_year > 2010 ORDER BY Song_release_year"),
    (CS, "SELECT count(*) FROM singer WHERE Song_release_year = 2014"),
    (CS, "SELECT Song_release_year + 1 FROM singer WHERE Singer_ID = 1"),
    # joins on TEXT ids vs INT ids (Spider's concert_singer has both)
    (
        CS,
        "SELECT T2.Name, count(*) FROM concert AS T1 JOIN stadium AS T2 ON T1.Stadium_ID = T2.Stadium_ID "
        "GROUP BY T1.Stadium_ID",
    ),
    (
        CS,
        "SELECT T2.Name, T2.Capacity FROM concert AS T1 JOIN stadium AS T2 ON T1.Stadium_ID = T2.Stadium_ID "
        "WHERE T1.Year >= 2014 GROUP BY T2.Stadium_ID ORDER BY count(*) DESC LIMIT 1",
    ),
    (CS, "SELECT Name FROM stadium WHERE Stadium_ID NOT IN (SELECT Stadium_ID FROM concert)"),
    (
        CS,
        "SELECT T2.Name FROM singer_in_concert AS T1 JOIN singer AS T2 ON T1.Singer_ID = T2.Singer_ID "
        "JOIN concert AS T3 ON T1.concert_ID = T3.concert_ID WHERE T3.Year = 2014",
    ),
    (
        CS,
        "SELECT concert_Name, Theme, count(*) FROM singer_in_concert AS T1 JOIN concert AS T2 "
        "ON T1.concert_ID = T2.concert_ID GROUP BY T2.concert_ID",
    ),
    (CS, "SELECT Location, Name FROM stadium WHERE Capacity BETWEEN 5000 AND 10000"),
    (CS, "SELECT max(Capacity), avg(Capacity) FROM stadium"),
    (CS, "SELECT avg(Capacity) / count(*) FROM stadium"),
    (CS, "SELECT Name FROM stadium WHERE Capacity > (SELECT avg(Capacity) FROM stadium)"),
    (CS, "SELECT Highest / Lowest FROM stadium ORDER BY Stadium_ID"),
    (CS, "SELECT Highest * 1.0 / Lowest FROM stadium ORDER BY Stadium_ID"),
    (CS, "SELECT CAST(Highest AS REAL) / Lowest FROM stadium ORDER BY Stadium_ID"),
    (CS, "SELECT Capacity / 1000 FROM stadium ORDER BY Stadium_ID"),
    (CS, "SELECT Capacity % 7, Capacity / 0 FROM stadium ORDER BY Stadium_ID"),
    (CS, "SELECT Name FROM stadium ORDER BY Average / Capacity DESC"),
    (CS, "SELECT year, count(*) FROM concert GROUP BY year"),
    (CS, "SELECT Theme FROM concert ORDER BY Theme"),
    (CS, "SELECT Theme, count(*) FROM concert GROUP BY Theme ORDER BY Theme DESC"),
    (CS, "SELECT concert_Name FROM concert WHERE Theme IS NULL"),
    (CS, "SELECT coalesce(Theme, 'none') FROM concert ORDER BY concert_ID"),
    (CS, "SELECT ifnull(Theme, '-') || ' @ ' || Year FROM concert ORDER BY concert_ID LIMIT 5"),
    (
        CS,
        "SELECT Name FROM singer EXCEPT SELECT T2.Name FROM singer_in_concert AS T1 JOIN singer AS T2 "
        "ON T1.Singer_ID = T2.Singer_ID",
    ),
    (CS, "SELECT Country FROM singer WHERE Age > 40 INTERSECT SELECT Country FROM singer WHERE Age < 30"),
    (CS, "SELECT Name FROM singer WHERE Age < 25 UNION SELECT Name FROM singer WHERE Age > 60"),
    (CS, "SELECT Name FROM singer WHERE Age < 25 UNION ALL SELECT Name FROM singer WHERE Age < 30"),
    # employees: NULLs, dates as text, floats
    (EMP, "SELECT count(*) FROM employees WHERE commission_pct IS NULL"),
    (EMP, "SELECT first_name, last_name FROM employees ORDER BY salary DESC LIMIT 5"),
    (EMP, "SELECT first_name, salary FROM employees ORDER BY salary LIMIT 5"),
    (EMP, "SELECT first_name FROM employees ORDER BY commission_pct DESC, emp_id LIMIT 5"),
    (EMP, "SELECT first_name FROM employees ORDER BY commission_pct, emp_id LIMIT 5"),
    (EMP, "SELECT dept_id, avg(salary) FROM employees GROUP BY dept_id"),
    (EMP, "SELECT dept_id, round(avg(salary), 2) FROM employees GROUP BY dept_id"),
    (EMP, "SELECT dept_id, sum(salary) FROM employees GROUP BY dept_id ORDER BY sum(salary) DESC"),
    (
        EMP,
        "SELECT d.name, count(e.emp_id) FROM departments d LEFT JOIN employees e ON d.dept_id = e.dept_id "
        "GROUP BY d.name",
    ),
    (
        EMP,
        "SELECT e.first_name, m.first_name FROM employees e JOIN employees m ON e.manager_id = m.emp_id "
        "WHERE e.emp_id < 20",
    ),
    (EMP, "SELECT first_name FROM employees WHERE manager_id IS NULL"),
    (EMP, "SELECT count(*) FROM employees WHERE hire_date LIKE '2015%'"),
    (EMP, "SELECT count(*) FROM employees WHERE hire_date > '2020-06-30'"),
    (EMP, "SELECT substr(hire_date, 1, 4) AS y, count(*) FROM employees GROUP BY y ORDER BY y"),
    (EMP, "SELECT strftime('%Y', hire_date), count(*) FROM employees GROUP BY 1 ORDER BY 1"),
    (EMP, "SELECT min(hire_date), max(hire_date) FROM employees"),
    (EMP, "SELECT julianday('2024-01-01') - julianday(hire_date) FROM employees WHERE emp_id = 1"),
    (EMP, "SELECT upper(first_name), lower(last_name), length(email) FROM employees WHERE emp_id <= 5"),
    (EMP, "SELECT first_name || ' ' || last_name FROM employees WHERE dept_id = 3 ORDER BY emp_id"),
    (EMP, "SELECT replace(email, '@example.com', ''), instr(email, '@') FROM employees WHERE emp_id <= 3"),
    (EMP, "SELECT trim('  ' || first_name || '  ') FROM employees WHERE emp_id = 7"),
    (EMP, "SELECT salary * commission_pct FROM employees WHERE commission_pct IS NOT NULL ORDER BY emp_id"),
    (EMP, "SELECT round(salary / 12, 2) FROM employees WHERE emp_id <= 5"),
    (EMP, "SELECT CAST(salary AS INTEGER) FROM employees WHERE emp_id <= 5"),
    (EMP, "SELECT CAST(salary / 1000 AS INT) * 1000 FROM employees WHERE emp_id <= 5"),
    (EMP, "SELECT sum(CASE WHEN salary > 100000 THEN 1 ELSE 0 END) FROM employees"),
    (EMP, "SELECT iif(salary > 100000, 'high', 'low'), count(*) FROM employees GROUP BY 1"),
    (EMP, "SELECT count(*) * 100 / (SELECT count(*) FROM employees) FROM employees WHERE dept_id = 1"),
    (EMP, "SELECT count(*) * 100.0 / (SELECT count(*) FROM employees) FROM employees WHERE dept_id = 1"),
    (EMP, "SELECT name, budget FROM departments WHERE budget > 1000000 ORDER BY budget"),
    (EMP, "SELECT group_concat(name) FROM departments"),
    (EMP, "SELECT typeof(salary), count(*) FROM employees GROUP BY 1"),
    (
        EMP,
        "SELECT dept_id FROM employees GROUP BY dept_id HAVING avg(salary) > (SELECT avg(salary) FROM employees)",
    ),
    (EMP, "SELECT first_name FROM employees WHERE emp_id IN (SELECT manager_id FROM departments)"),
    (EMP, "SELECT first_name FROM employees WHERE dept_id NOT IN (SELECT manager_id FROM employees)"),
    (
        EMP,
        "SELECT first_name FROM employees e WHERE EXISTS (SELECT 1 FROM employees s WHERE s.manager_id = e.emp_id)",
    ),
    # store: mixed-type column, money, non-ASCII
    (ST, "SELECT count(*) FROM reviews WHERE rating > 3"),
    (ST, "SELECT count(*) FROM reviews WHERE rating = 5"),
    (ST, "SELECT avg(rating) FROM reviews"),
    (ST, "SELECT rating, count(*) FROM reviews GROUP BY rating ORDER BY rating"),
    (ST, "SELECT max(rating) FROM reviews"),
    (ST, "SELECT category, count(*), avg(price) FROM products GROUP BY category ORDER BY category"),
    (ST, "SELECT name, price FROM products WHERE price BETWEEN 10 AND 50 ORDER BY price"),
    (ST, "SELECT category, sum(stock) FROM products GROUP BY category HAVING sum(stock) > 1000"),
    (
        ST,
        "SELECT c.name, count(o.order_id) FROM customers c JOIN orders o ON c.customer_id = o.customer_id "
        "GROUP BY c.customer_id ORDER BY count(o.order_id) DESC LIMIT 5",
    ),
    (ST, "SELECT status, count(*) FROM orders GROUP BY status"),
    (
        ST,
        "SELECT o.order_id, sum(oi.quantity * oi.unit_price) FROM orders o JOIN order_items oi "
        "ON o.order_id = oi.order_id GROUP BY o.order_id ORDER BY 2 DESC LIMIT 3",
    ),
    (ST, "SELECT round(sum(quantity * unit_price), 2) FROM order_items"),
    (ST, "SELECT city, count(*) FROM customers GROUP BY city ORDER BY city"),
    (ST, "SELECT name FROM customers WHERE city = 'Zürich'"),
    (ST, "SELECT name FROM customers WHERE city LIKE 'z%'"),
    (ST, "SELECT name FROM customers WHERE country IS NULL"),
    (ST, "SELECT country, count(*) FROM customers GROUP BY country ORDER BY country"),
    (ST, "SELECT strftime('%m', order_date) AS m, count(*) FROM orders GROUP BY m ORDER BY m"),
    (ST, "SELECT count(*) FROM orders WHERE order_date BETWEEN '2022-01-01' AND '2022-12-31'"),
    (
        ST,
        "SELECT p.name FROM products p WHERE NOT EXISTS (SELECT 1 FROM order_items oi "
        "WHERE oi.product_id = p.product_id)",
    ),
    (ST, "SELECT comment, count(*) FROM reviews GROUP BY comment ORDER BY count(*) DESC, comment"),
    (ST, "SELECT length(comment) FROM reviews WHERE comment IS NOT NULL ORDER BY review_id LIMIT 10"),
    (ST, "SELECT product_id, avg(quantity) FROM order_items GROUP BY product_id ORDER BY product_id LIMIT 5"),
    (ST, "SELECT sum(quantity) / count(DISTINCT order_id) FROM order_items"),
    (ST, "SELECT abs(-price), price - 1 FROM products ORDER BY product_id LIMIT 3"),
]


def _same(a: ExecResult, b: ExecResult, ordered: bool) -> bool:
    try:
        from sqlrl.scoring import compare

        return bool(compare(a.table, b.table, mode="spider", order_matters=ordered))
    except ImportError:  # scoring core not built: plain bag (or list) of rows, 1 == 1.0

        def norm(rows):
            return [tuple(float(v) if isinstance(v, int) else v for v in r) for r in rows]

        ra, rb = norm(a.rows), norm(b.rows)
        return ra == rb if ordered else sorted(map(repr, ra)) == sorted(map(repr, rb))


def _mean_ms(sandboxes: dict[str, Sandbox], runs: list[tuple[str, str]]) -> float:
    import time

    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for db, sql in runs:
            sandboxes[db].execute(sql)
        best = min(best, time.perf_counter() - t0)
    return best / len(runs) * 1000


def _identical(a: ExecResult, b: ExecResult, ordered: bool) -> bool:
    """The same Python values (type included), as a list when ordered, else as a sorted bag."""
    ra, rb = list(map(repr, a.rows)), list(map(repr, b.rows))
    return ra == rb if ordered else sorted(ra) == sorted(rb)


def verdict(ref: ExecResult, got: ExecResult, sql: str) -> str | None:
    """None when the DuckDB result counts as the SQLite result; else a short reason."""
    if not ref.ok and not got.ok:
        return None
    if ref.ok != got.ok:
        return f"only {'DuckDB' if ref.ok else 'SQLite'} fails: {(got if ref.ok else ref).error.splitlines()[0]}"
    if not _same(ref, got, "order by" in sql.lower()):
        return f"results differ: sqlite {ref.rows[:3]} vs duckdb {got.rows[:3]}"
    return None


def _demo_pair_verdicts(paths: dict[str, Path], duck_options: dict) -> list[str]:
    """Gold-vs-prediction verdicts of the demo query sets, on SQLite and on DuckDB with compat."""
    out = []
    engines = {
        "sqlite": {n: Sandbox(p, engine="sqlite") for n, p in paths.items()},
        "duckdb": {n: Sandbox(p, **duck_options) for n, p in paths.items()},
    }
    try:
        for qs in DEMO_QUERIES:
            ordered = "order by" in qs.gold.lower()
            for pred in qs.predictions:
                verdicts = []
                for sbs in engines.values():
                    gold, got = sbs[qs.database].execute(qs.gold), sbs[qs.database].execute(pred.sql)
                    verdicts.append(gold.ok and got.ok and _same(gold, got, ordered))
                if verdicts[0] != verdicts[1]:
                    out.append(f"{qs.database} [{pred.kind}] sqlite={verdicts[0]} duckdb={verdicts[1]}: {pred.sql}")
    finally:
        for sbs in engines.values():
            for sb in sbs.values():
                sb.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--show",
        choices=("all", "compat", "none"),
        default="compat",
        help="which set-ups' differing queries to list",
    )
    args = parser.parse_args()
    import sqlglot

    with tempfile.TemporaryDirectory() as tmp:
        paths = build_all_demos(Path(tmp) / "db", engine="sqlite")
        setups = {
            "duckdb": dict(engine="duckdb", sqlite_compat=False, cache_dir=Path(tmp) / "plain"),
            "duckdb+compat": dict(engine="duckdb", sqlite_compat=True, cache_dir=Path(tmp) / "compat"),
            "duckdb+compat+ties": dict(
                engine="duckdb", sqlite_compat=True, sqlite_ties=True, cache_dir=Path(tmp) / "ties"
            ),
        }
        ref = {}
        with_sqlite = {n: Sandbox(p, engine="sqlite") for n, p in paths.items()}
        timing = {}
        for i, (db, sql) in enumerate(QUERIES):
            ref[i] = with_sqlite[db].execute(sql)
        timing["sqlite"] = _mean_ms(with_sqlite, [(db, sql) for db, sql in QUERIES])
        for sb in with_sqlite.values():
            sb.close()
        print(f"{len(QUERIES)} queries; SQLite fails on {sum(not r.ok for r in ref.values())} of them.\n")
        rows = []
        typed: dict[str, int] = {}  # EX match, but not the same Python values (1 vs 1.0, Decimal vs float)
        for name, options in [*setups.items(), ("duckdb+compat+transpile", setups["duckdb+compat"])]:
            sandboxes = {n: Sandbox(p, **options) for n, p in paths.items()}
            diffs = []
            runs = []
            for i, (db, sql) in enumerate(QUERIES):
                run = sql
                if name.endswith("transpile"):
                    try:
                        run = sqlglot.transpile(sql, read="sqlite", write="duckdb")[0]
                    except sqlglot.errors.SqlglotError:
                        pass
                runs.append((db, run))
                got = sandboxes[db].execute(run)
                why = verdict(ref[i], got, sql)
                if why:
                    diffs.append((i, db, sql, why))
                elif ref[i].ok and got.ok and not _identical(ref[i], got, "order by" in sql.lower()):
                    typed[name] = typed.get(name, 0) + 1
            timing[name] = _mean_ms(sandboxes, runs)
            for sb in sandboxes.values():
                sb.close()
            rows.append((name, diffs))
        pair_diffs = _demo_pair_verdicts(paths, setups["duckdb+compat"])
        width = max(len(n) for n, _ in rows)
        for name, diffs in rows:
            fail = sum("fails" in d[3] for d in diffs)
            print(
                f"{name:<{width}}  differs on {len(diffs):3d} / {len(QUERIES)}  "
                f"({fail} errors on one side, {len(diffs) - fail} different results); "
                f"{typed.get(name, 0)} more match under EX but not value for value"
            )
        print(
            "\nmean time per query (ms, best of 5 passes, one thread): "
            + ", ".join(f"{k} {v:.3f}" for k, v in timing.items())
        )
        n_pairs = sum(len(qs.predictions) for qs in DEMO_QUERIES)
        print(
            f"\nDEMO_QUERIES: the spider-mode verdict of {n_pairs} (gold, prediction) pairs differs between "
            f"SQLite and duckdb+compat on {len(pair_diffs)} pairs."
        )
        for line in pair_diffs:
            print(f"  {line}")
        for name, diffs in rows:
            if args.show == "none" or (args.show == "compat" and name != "duckdb+compat"):
                continue
            print(f"\n## {name}")
            for i, db, sql, why in diffs:
                print(f"[{i:3d}] {db}: {sql}\n      {why[:220]}")


if __name__ == "__main__":
    main()
