"""Distilled test suites (Zhong, Yu and Klein, EMNLP 2020): variants of a database that catch queries
right by luck.

:func:`build_suite` writes candidate variants of a SQLite database (:mod:`sqlrl.suite.variants`),
mutates each gold query (:func:`sqlrl.sql.mutate.mutations`), keeps the mutations whose result on
the original database equals the gold's (the wrong queries plain execution accuracy accepts), and
greedily keeps the fewest candidates, at most ``k``, that tell each gold apart from its surviving
mutations: each step takes the candidate that separates the most (gold, mutation) pairs not yet
separated, ties to the earliest candidate. A candidate on which some gold query fails is never kept.
Where ties decide a gold's result on a candidate (:func:`sqlrl.sql.mutate.tie_probes`: under its ORDER BY,
or in a scalar subquery that returns several rows, of which SQLite takes the first), an equivalent query
could break them otherwise: the candidate separates nothing for that gold, and ``suite.json`` lists the
gold under the variant's ``tied`` so that the verdict skips the variant for it.

The suite is written in the layout of test-suite-sql-eval's database folder, which ``sqlrl eval spider
--db`` reads as well: ``<out_dir>/<db_id>/<db_id>.sqlite`` (a copy of the original) and
``<db_id>_1.sqlite`` ... ``<db_id>_<n>.sqlite``, plus ``suite.json`` (the settings, the key, what each
variant separates). A second call with the same database content, gold queries and settings finds
``suite.json`` and returns the suite without building it again.

A DuckDB file or a folder of CSV files gets DuckDB variants (:func:`sqlrl.suite.variants.write_duckdb_variant`),
``<db_id>.duckdb`` and ``<db_id>_<n>.duckdb``, so that the verdicts come from the engine the sandbox runs
such a database on; a CSV folder's original is its tables as the sandbox loads them into DuckDB. Its gold
queries are DuckDB SQL, mutated and probed in that dialect.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlrl.suite.errors import SuiteError
from sqlrl.suite.verdict import NUMBERED

__all__ = ["SUITE_VERSION", "Suite", "build_suite", "check_database", "read_gold_file"]

#: Bumped when the same inputs would give a different suite (the cache key holds it).
SUITE_VERSION = 3
MANIFEST = "suite.json"


@dataclass
class Suite:
    """A built suite: the original's copy first, then the variants (``paths``)."""

    db_id: str
    directory: Path
    original: Path
    variants: list[Path]
    stats: dict[str, Any] = field(default_factory=dict)
    cached: bool = False
    #: variant file name -> gold queries whose ORDER BY ties decide their result there (the verdict skips it)
    tied: dict[str, list[str]] = field(default_factory=dict)

    @property
    def paths(self) -> list[Path]:
        return [self.original, *self.variants]


def _db_hash(path: Path) -> str:
    """The content hash of a database file, or of a CSV folder's files (names and bytes)."""
    from sqlrl.sandbox.source import csv_files

    h = hashlib.sha256()
    for file in csv_files(path) if path.is_dir() else [path]:
        if path.is_dir():
            h.update(f"\0{file.name}\0".encode())
        with file.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def check_database(path: Path) -> str:
    """The kind of database at ``path`` (``sqlite``, ``duckdb`` or ``csv_dir``, as the sandbox reads it), after
    checking that it has tables.

    Raises:
        SuiteError: ``path`` is missing, no SQLite or DuckDB file nor a folder of CSV files, or has no tables.
    """
    from sqlrl.sandbox.errors import SandboxError
    from sqlrl.sandbox.source import CSV_DIR, DUCKDB, database_kind

    path = Path(path)
    if not path.exists():
        raise SuiteError(f"database {path} does not exist")
    try:
        kind = database_kind(path)
    except SandboxError as e:
        raise SuiteError(f"{path} is not a SQLite database, a DuckDB database or a folder of CSV files ({e})") from None
    if kind == CSV_DIR:
        return kind
    try:
        if kind == DUCKDB:
            from sqlrl.suite.variants import duckdb_connect

            con = duckdb_connect(path, read_only=True)
            sql = "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal"
        else:
            con = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
            sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        try:
            n = con.execute(sql).fetchone()[0]
        finally:
            con.close()
    except Exception as e:  # noqa: BLE001 - sqlite3.Error or duckdb.Error: not a readable database
        raise SuiteError(f"{path} is not a {'DuckDB' if kind == DUCKDB else 'SQLite'} database ({e})") from None
    if n == 0:
        raise SuiteError(f"{path} has no tables")
    return kind


def read_gold_file(path: str | os.PathLike[str], db_id: str | None = None) -> list[str]:
    """Gold queries from a file: one SQL per line (``SQL<TAB>db_id`` lines, as Spider's gold files, keep
    those of ``db_id``), or a Spider/BIRD JSON list of objects with ``query`` or ``SQL`` (and
    ``db_id``, kept when it is ``db_id``).

    Raises:
        SuiteError: the file is missing, not UTF-8, or holds no query (for ``db_id``).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError(f"gold file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SuiteError(f"cannot read gold file {path}: {e}") from None
    out: list[str] = []
    if text.lstrip().startswith("["):
        try:
            entries = json.loads(text)
        except json.JSONDecodeError as e:
            raise SuiteError(f"gold file {path} is not valid JSON: {e}") from None
        for i, entry in enumerate(entries):
            sql = entry.get("query", entry.get("SQL")) if isinstance(entry, dict) else None
            if not isinstance(sql, str):
                raise SuiteError(f"gold file {path}: entry {i} has no 'query' or 'SQL' text")
            if db_id is None or entry.get("db_id", db_id) == db_id:
                out.append(sql.strip())
    else:
        for line in text.splitlines():
            sql, _, line_db = line.partition("\t")
            if sql.strip() and (db_id is None or not line_db.strip() or line_db.strip() == db_id):
                out.append(sql.strip())
    if not out:
        raise SuiteError(f"gold file {path} holds no query" + (f" for database {db_id!r}" if db_id else ""))
    return out


def _key(db_hash: str, golds: Sequence[str], settings: dict[str, Any]) -> str:
    payload = json.dumps({"db": db_hash, "golds": list(golds), "settings": settings, "v": SUITE_VERSION})
    return hashlib.sha256(payload.encode()).hexdigest()


def _load_cached(directory: Path, db_id: str, key: str, suffix: str) -> Suite | None:
    manifest = directory / MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("key") != key:
        return None
    original = directory / f"{db_id}{suffix}"
    variants = [directory / name for name in data.get("variants", [])]
    if not original.is_file() or not all(v.is_file() for v in variants):
        return None
    return Suite(db_id, directory, original, variants, data.get("stats", {}), cached=True, tied=data.get("tied", {}))


def build_suite(
    database: str | os.PathLike[str],
    gold_queries: Sequence[str],
    *,
    k: int = 10,
    seed: int = 0,
    out_dir: str | os.PathLike[str],
    db_id: str | None = None,
    candidates: int = 50,
    max_rows: int = 6,
    timeout: float = 5.0,
    workers: int | None = None,
    progress: bool | None = None,
    force: bool = False,
    mode: str = "spider",
) -> Suite:
    """Build (or find in ``out_dir``) the distilled test suite of a database for its gold queries.

    Args:
        database: a SQLite file (SQLite variants), or a DuckDB file or a folder of CSV files (DuckDB variants:
            the engine the sandbox runs them on; a CSV folder's original is its tables loaded into DuckDB, with
            the types DuckDB's CSV reader infers, as the sandbox loads it).
        gold_queries: queries on it (empty lines are skipped), in SQLite's dialect for a SQLite file, else
            DuckDB's.
        k: at most this many variants are kept (fewer when fewer separate every surviving mutation).
        seed: the candidates are a pure function of the database, the gold queries and the seed.
        out_dir: the suite goes to ``<out_dir>/<db_id>/``.
        db_id: the suite's name (default: the file's stem).
        candidates: candidate variants generated before distilling.
        max_rows: most rows per table in a variant.
        timeout: seconds per query on a variant.
        workers, progress: threads running the queries; the progress bar (None: on a terminal).
        force: build again even when ``suite.json`` matches.
        mode: the comparison the suite is distilled for, as the verdict will compare: ``spider``
            (multisets of rows, in order when the gold has ORDER BY; Spider's evaluator and the rewards)
            or ``bird`` (sets of rows; BIRD's). A variant that separates a mutation only by repeated
            rows or their order separates nothing under ``bird``.

    Raises:
        SuiteError: the database is missing or no database with tables, a gold query cannot be
            parsed (its index and text are named), no gold query runs on the original, or bad settings.
    """
    from sqlrl.sandbox.source import SQLITE
    from sqlrl.sql.errors import SqlError
    from sqlrl.sql.mutate import literals, mutations

    database = Path(database)
    kind = check_database(database)
    engine = "sqlite" if kind == SQLITE else "duckdb"
    suffix = f".{engine}"
    if mode not in ("spider", "bird"):
        raise SuiteError(f"mode must be 'spider' or 'bird', got {mode!r}")
    if k < 1 or candidates < 1 or max_rows < 1:
        raise SuiteError(f"k, candidates and max_rows must be >= 1, got {k}, {candidates}, {max_rows}")
    golds = [g.strip() for g in gold_queries if isinstance(g, str) and g.strip()]
    if not golds:
        raise SuiteError(f"no gold query for {database}")
    db_id = db_id or database.stem
    directory = Path(out_dir) / db_id
    settings = {"k": k, "seed": seed, "candidates": candidates, "max_rows": max_rows, "mode": mode}
    key = _key(_db_hash(database), golds, settings)
    if not force:
        cached = _load_cached(directory, db_id, key, suffix)
        if cached is not None:
            return cached

    mutants: list[list[str]] = []
    extra: list[Any] = []
    for i, gold in enumerate(golds):
        try:
            mutants.append([text for _, text in mutations(gold, dialect=engine)])
            extra += [v for v in literals(gold, engine) if v not in extra]
        except SqlError as e:
            raise SuiteError(f"gold query {i} cannot be parsed as {engine} ({e}): {gold}") from None
    directory.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".candidates-", dir=directory))
    try:
        source = database
        if kind != SQLITE and database.is_dir():  # a CSV folder: its tables as the sandbox loads them
            from sqlrl.sandbox.csv_dir import load_csv_dir_to_duckdb

            source = work / f"original{suffix}"
            load_csv_dir_to_duckdb(database, source)
        stats, chosen, kills, tied = _distil(
            source, golds, mutants, extra, work, k=k, seed=seed, candidates=candidates, max_rows=max_rows,
            timeout=timeout, workers=workers, progress=progress, mode=mode, engine=engine,
        )  # fmt: skip
        for old in directory.iterdir():  # an earlier suite of this db_id
            if old.name == MANIFEST or (old.name.startswith(f"{db_id}_") and NUMBERED.search(old.name)):
                old.unlink()
        original = directory / f"{db_id}{suffix}"
        if not (original.exists() and original.samefile(source)):
            shutil.copyfile(source, original)
            if Path(f"{source}.wal").is_file():  # DuckDB changes not yet checkpointed into the file
                shutil.copyfile(f"{source}.wal", f"{original}.wal")
        variants = []
        for n, c in enumerate(chosen, 1):
            target = directory / f"{db_id}_{n}{suffix}"
            shutil.copyfile(work / f"c{c}{suffix}", target)
            variants.append(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    stats["separated_by_variant"] = kills
    manifest = {
        "key": key, "db_id": db_id, "database": str(database), "engine": engine, "settings": settings,
        "version": SUITE_VERSION,
        "variants": [v.name for v in variants], "stats": stats,
        "tied": {v.name: t for v, t in zip(variants, tied, strict=True) if t},
    }  # fmt: skip
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return Suite(db_id, directory, original, variants, stats, tied=manifest["tied"])


def _distil(
    database: Path, golds: list[str], mutants: list[list[str]], extra: list[Any], work: Path, *, k: int, seed: int,
    candidates: int, max_rows: int, timeout: float, workers: int | None, progress: bool | None, mode: str,
    engine: str = "sqlite",
) -> tuple[dict[str, Any], list[int], list[int], list[list[str]]]:  # fmt: skip
    from sqlrl.sandbox.parallel import progress_bar
    from sqlrl.sandbox.service import ExecutionService
    from sqlrl.scoring import compare, gold_has_order_by
    from sqlrl.suite.variants import read_duckdb_schema, read_schema, write_duckdb_variant, write_variant

    order = [mode == "spider" and gold_has_order_by(g) for g in golds]
    probed = [(i, p) for i, g in enumerate(golds) for p in _probes(g, engine)]
    if engine == "duckdb":  # read before the sandbox opens the file (one configuration per file and process)
        duck_schema = read_duckdb_schema(database)

        def write(path: Path, seed: str) -> Path:
            return write_duckdb_variant(duck_schema, path, seed=seed, max_rows=max_rows, extra_values=extra)
    else:
        con = sqlite3.connect(f"file:{database.as_posix()}?mode=ro", uri=True)
        try:
            schema = read_schema(con)
        finally:
            con.close()

        def write(path: Path, seed: str) -> Path:
            return write_variant(database, path, seed=seed, max_rows=max_rows, extra_values=extra, schema=schema)

    with ExecutionService(engine=engine, workers=workers, keep_rows=False, timeout=timeout) as service:
        gold_res = service.run([(database, g) for g in golds])
        usable = [i for i, r in enumerate(gold_res) if r.ok]
        if not usable:
            raise SuiteError(f"no gold query runs on {database}: {gold_res[0].error}")
        flat = [(i, m) for i in usable for m in mutants[i]]
        mut_res = service.run([(database, m) for _, m in flat])
        # the (gold, mutation) pairs plain EX cannot tell apart on the original
        pairs = [
            (i, m) for (i, m), r in zip(flat, mut_res, strict=True)
            if r.ok and compare(gold_res[i].table, r.table, mode=mode, order_matters=order[i])
        ]  # fmt: skip
        kills: list[set[int]] = []
        tied: list[set[int]] = []  # per candidate, the golds whose ORDER BY ties decide their result there
        bar = progress_bar(candidates, progress, desc="suite candidates", unit="db", least=1)
        try:
            for c in range(candidates):
                path = write(work / f"c{c}.{engine}", f"{seed}:{c}")
                g_res = service.run([(path, golds[i]) for i in usable])
                by_gold = dict(zip(usable, g_res, strict=True))
                probe_res = service.run([(path, probe) for _, (probe, _) in probed])
                tied.append({i for (i, (_, n)), r in zip(probed, probe_res, strict=True) if _tied(r, n)})
                if not all(r.ok for r in g_res):
                    kills.append(set())
                    kills[-1].add(-1)  # marks an ineligible candidate
                else:
                    m_res = service.run([(path, m) for _, m in pairs])
                    kills.append({
                        n for n, ((i, _), r) in enumerate(zip(pairs, m_res, strict=True))
                        if i not in tied[-1]
                        and (not r.ok or not compare(by_gold[i].table, r.table, mode=mode, order_matters=order[i]))
                    })  # fmt: skip
                service.close()  # the candidate's sandbox: its file may go
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
    eligible = [c for c in range(candidates) if -1 not in kills[c]]
    uncovered = set().union(*(kills[c] for c in eligible)) if eligible else set()
    separable = len(uncovered)
    chosen: list[int] = []
    gains: list[int] = []
    while uncovered and len(chosen) < k:
        best = max(eligible, key=lambda c: (len(kills[c] & uncovered), -c))
        gain = len(kills[best] & uncovered)
        if gain == 0:
            break
        chosen.append(best)
        gains.append(gain)
        uncovered -= kills[best]
    stats = {
        "golds": len(golds), "golds_failing_on_original": len(golds) - len(usable),
        "mutations": len(flat), "mutations_equal_on_original": len(pairs), "separable": separable,
        "candidates": candidates, "candidates_where_a_gold_fails": candidates - len(eligible),
        "candidates_with_ties": sum(1 for t in tied if t),
        "variants": len(chosen), "separated": separable - len(uncovered),
    }  # fmt: skip
    return stats, chosen, gains, [sorted(golds[i] for i in tied[c]) for c in chosen]


def _probes(gold: str, dialect: str = "sqlite") -> list[tuple[str, int | None]]:
    from sqlrl.sql.errors import SqlError
    from sqlrl.sql.mutate import tie_probes

    try:
        return tie_probes(gold, dialect)
    except SqlError:
        return []


def _tied(result: Any, n: int | None) -> bool:
    """Whether a tie probe's result (:func:`sqlrl.sql.mutate.tie_probes`) shows a tie that the engine breaks:
    for ORDER BY (``n`` columns, then the sort keys), two adjacent rows with equal sort keys and different
    columns; for a scalar subquery (``n`` None), two rows. A probe that fails shows none."""
    if not result.ok:
        return False
    rows = result.table.rows()
    if n is None:
        return len(rows) > 1
    return any(a[n:] == b[n:] and a[:n] != b[:n] for a, b in zip(rows, rows[1:], strict=False))
