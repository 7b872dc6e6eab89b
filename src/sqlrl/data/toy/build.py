"""Write sqlrl-toy in Spider's file layout.

``<out>/train.json``, ``dev.json``, ``iid.json`` (Spider example format plus ``hardness``,
``template`` and ``composition``), ``tables.json``, ``database/<db_id>/<db_id>.sqlite``,
``train_gold.sql``, ``dev_gold.sql`` and ``iid_gold.sql`` (``SQL<TAB>db_id`` per line, as the
official evaluator reads them), and ``stats.json``. ``dev`` is the compositional hold-out, ``iid``
the i.i.d. one (see :mod:`sqlrl.data.toy.generate`). A marker file written last makes a second build
into the same directory a no-op.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlrl.data.toy.domains import Domain, TableData, domains
from sqlrl.data.toy.generate import (
    DEV_FRACTION,
    IID_FRACTION,
    ToyExample,
    assign_splits,
    composition,
    generate_examples,
    iid_examples,
)

__all__ = ["HARDNESS_LEVELS", "SPLITS", "TOY_VERSION", "ToyPaths", "build_toy", "sql_tokens", "tables_json_entry"]

#: Bump whenever the generated files change; it names the cache directory (``toy-<version>``).
TOY_VERSION = "4"
HARDNESS_LEVELS = ("easy", "medium", "hard", "extra")
#: The splits of sqlrl-toy: training, the compositional hold-out and the i.i.d. hold-out.
SPLITS = ("train", "dev", "iid")
_MARKER = ".sqlrl-toy.json"


@dataclass(frozen=True)
class ToyPaths:
    """Where a built sqlrl-toy lives."""

    root: Path
    train: Path
    dev: Path
    tables: Path
    database_dir: Path
    train_gold: Path
    dev_gold: Path
    stats: Path
    iid: Path
    iid_gold: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> ToyPaths:
        r = Path(root)
        return cls(r, r / "train.json", r / "dev.json", r / "tables.json", r / "database", r / "train_gold.sql",
                   r / "dev_gold.sql", r / "stats.json", r / "iid.json", r / "iid_gold.sql")  # fmt: skip

    def split(self, name: str) -> Path:
        """The questions of a split (``train``, ``dev`` or ``iid``)."""
        return self.root / f"{name}.json"

    def gold(self, name: str) -> Path:
        """The ``SQL<TAB>db_id`` gold file of a split."""
        return self.root / f"{name}_gold.sql"

    def db_path(self, db_id: str) -> Path:
        """``database/<db_id>/<db_id>.sqlite``."""
        return self.database_dir / db_id / f"{db_id}.sqlite"

    def files(self) -> list[Path]:
        return [self.train, self.dev, self.iid, self.tables, self.train_gold, self.dev_gold, self.iid_gold, self.stats]


def _write(path: Path, data: str | bytes) -> None:
    """Write through a temporary file and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8", newline="\n")
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def _create_sql(t: TableData) -> str:
    defs = [f"{c.name} {c.sql_type}" + (" PRIMARY KEY" if c.name == t.primary_key else "") for c in t.columns]
    defs += [f"FOREIGN KEY ({c}) REFERENCES {rt}({rc})" for c, rt, rc in t.foreign_keys]
    return f"CREATE TABLE {t.name} (\n  " + ",\n  ".join(defs) + "\n)"


def write_database(domain: Domain, path: Path) -> None:
    """The domain's tables as a SQLite file (replaced atomically; byte-identical for the same SQLite)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        for t in domain.tables:
            con.execute(_create_sql(t))
            marks = ", ".join("?" * len(t.columns))
            con.executemany(f"INSERT INTO {t.name} VALUES ({marks})", t.rows)
        con.commit()
    finally:
        con.close()
    os.replace(tmp, path)


def tables_json_entry(domain: Domain) -> dict[str, Any]:
    """The domain's schema as a Spider ``tables.json`` entry."""
    names, originals, types = [[-1, "*"]], [[-1, "*"]], ["text"]
    index: dict[tuple[str, str], int] = {}
    for ti, t in enumerate(domain.tables):
        for c in t.columns:
            index[(t.name, c.name)] = len(originals)
            names.append([ti, c.nl])
            originals.append([ti, c.name])
            types.append(c.spider_type)
    return {
        "db_id": domain.db_id,
        "table_names": [t.nl for t in domain.tables],
        "table_names_original": [t.name for t in domain.tables],
        "column_names": names,
        "column_names_original": originals,
        "column_types": types,
        "primary_keys": [index[(t.name, t.primary_key)] for t in domain.tables],
        "foreign_keys": [[index[(t.name, c)], index[(rt, rc)]] for t in domain.tables for c, rt, rc in t.foreign_keys],
    }


_SQL_TOKEN = re.compile(r"'(?:[^']|'')*'|\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?|"
                        r">=|<=|!=|<>|\S")  # fmt: skip
_VALUE = re.compile(r"'.*'|\d+(?:\.\d+)?", re.S)
_WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def sql_tokens(query: str) -> list[str]:
    """Spider-style ``query_toks``: quoted values, numbers, (qualified) names and symbols.

    >>> sql_tokens("SELECT T1.name FROM a AS T1 WHERE x >= 2.5 AND y = 'O''Hara'")
    ['SELECT', 'T1.name', 'FROM', 'a', 'AS', 'T1', 'WHERE', 'x', '>=', '2.5', 'AND', 'y', '=', "'O''Hara'"]
    """
    return _SQL_TOKEN.findall(query)


def _no_value_tokens(tokens: list[str]) -> list[str]:
    return ["value" if _VALUE.fullmatch(t) else t.lower() for t in tokens]


def _spider_record(ex: ToyExample) -> dict[str, Any]:
    toks = sql_tokens(ex.query)
    return {
        "db_id": ex.db_id,
        "query": ex.query,
        "query_toks": toks,
        "query_toks_no_value": _no_value_tokens(toks),
        "question": ex.question,
        "question_toks": _WORD.findall(ex.question),
        "hardness": ex.hardness,
        "template": ex.template,
        "composition": composition(ex.template, ex.signature),
    }


def _split_stats(examples: Sequence[ToyExample]) -> dict[str, Any]:
    hard = Counter(ex.hardness for ex in examples)
    n = len(examples)
    return {
        "pairs": n,
        "hardness": {h: hard[h] for h in HARDNESS_LEVELS},
        "hardness_share": {h: round(hard[h] / n, 3) if n else 0.0 for h in HARDNESS_LEVELS},
        "databases": dict(sorted(Counter(ex.db_id for ex in examples).items())),
        "empty_results": sum(ex.rows == 0 for ex in examples),
        "degenerate_results": sum(ex.degenerate for ex in examples),
    }


def _stats(doms: Sequence[Domain], examples: Sequence[ToyExample]) -> dict[str, Any]:
    n = len(examples)
    return {
        "version": TOY_VERSION,
        "databases": {d.db_id: {t.name: len(t.rows) for t in d.tables} for d in doms},
        "templates": len({ex.template for ex in examples}),
        "splits": {s: _split_stats([ex for ex in examples if ex.split == s]) for s in SPLITS},
        "empty_result_rate": round(sum(ex.rows == 0 for ex in examples) / n, 4),
        "degenerate_result_rate": round(sum(ex.degenerate for ex in examples) / n, 4),
        "holdout": {
            "dev_fraction_per_template": DEV_FRACTION,
            "rule": "dev (template, composition) pairs never occur in train; every atom of a dev composition "
            "(template id, table, column, aggregate, operator, relation) occurs in train",
            "iid_fraction_of_train_compositions": IID_FRACTION,
            "iid_rule": "iid questions have train compositions and questions never seen in train or dev; their "
            "queries are new unless the composition has no literal value (then only the phrasing is new)",
        },
    }


def _is_built(paths: ToyPaths) -> bool:
    marker = paths.root / _MARKER
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(info, dict) or info.get("version") != TOY_VERSION:
        return False
    return all((paths.root / f).is_file() for f in info.get("files", []))


def build_toy(out_dir: str | os.PathLike[str], *, force: bool = False) -> ToyPaths:
    """Generate sqlrl-toy into ``out_dir`` in Spider's layout; a no-op when already built there.

    Args:
        out_dir: target directory (created if needed; files of other names are left alone).
        force: rebuild even when the directory holds a complete build of this version.

    Returns:
        The paths of the files written.

    >>> import tempfile, json
    >>> paths = build_toy(tempfile.mkdtemp())
    >>> sorted(json.loads(paths.stats.read_text())["splits"])
    ['dev', 'train']
    """
    paths = ToyPaths.at(out_dir)
    if not force and _is_built(paths):
        return paths
    (paths.root / _MARKER).unlink(missing_ok=True)
    doms = domains()
    db_paths = {d.db_id: paths.db_path(d.db_id) for d in doms}
    for d in doms:
        write_database(d, db_paths[d.db_id])
    examples = assign_splits(generate_examples(doms, db_paths))
    examples += iid_examples(examples, doms, db_paths)
    order = {d.db_id: i for i, d in enumerate(doms)}
    examples.sort(key=lambda ex: order[ex.db_id])  # stable: template order inside each database
    for split in SPLITS:
        rows = [ex for ex in examples if ex.split == split]
        _write(paths.split(split), _json([_spider_record(ex) for ex in rows]))
        _write(paths.gold(split), "".join(f"{ex.query}\t{ex.db_id}\n" for ex in rows))
    _write(paths.tables, _json([tables_json_entry(d) for d in doms]))
    _write(paths.stats, _json(_stats(doms, examples)))
    files = [p.relative_to(paths.root).as_posix() for p in [*paths.files(), *db_paths.values()]]
    _write(paths.root / _MARKER, _json({"version": TOY_VERSION, "files": files}))
    return paths
