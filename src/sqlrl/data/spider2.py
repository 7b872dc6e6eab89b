"""Spider 2.0-lite, local SQLite tasks.

The release layout (``spider2-lite/`` of xlang-ai/Spider2)::

    spider2-lite.jsonl                              {"instance_id", "db", "question", "external_knowledge"}
    resource/databases/spider2-localdb/<db>.sqlite
    resource/documents/<external_knowledge>         text given as evidence
    evaluation_suite/gold/sql/<instance_id>.sql     gold SQL (only some instances have one)
    evaluation_suite/gold/exec_result/<instance_id>.csv, <instance_id>_a.csv, _b.csv, ...
    evaluation_suite/gold/spider2lite_eval.jsonl    {"instance_id", "condition_cols", "ignore_order"}

Only ``local*`` instances run on SQLite; the BigQuery and Snowflake ones are skipped unless
``local_only=False`` (they then have ``db_path=None``). Gold result files are matched as the
official ``evaluate.py`` matches them, ``^<instance_id>(_[a-z])?\\.csv$`` (so ``_1.csv`` files
are not used, as there); the prediction matches if it matches any of them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlrl.data._files import field, iter_jsonl, require_dir, require_file
from sqlrl.data.example import Example, ExampleSet

__all__ = ["gold_csv_files", "load_spider2_lite"]

PathLike = str | os.PathLike[str]
_KNOWN = {"instance_id", "db", "question", "external_knowledge", "instruction"}


def gold_csv_files(exec_result_dir: PathLike, instance_id: str) -> list[Path]:
    """The gold result CSVs of an instance, as the official evaluator finds them, sorted by name."""
    d = Path(exec_result_dir)
    if not d.is_dir():
        return []
    pattern = re.compile(rf"^{re.escape(instance_id)}(_[a-z])?\.csv$")
    return sorted(p for p in d.iterdir() if pattern.match(p.name))


def _eval_config(path: Path) -> dict[str, Mapping[str, Any]]:
    out = {}
    for lineno, obj in iter_jsonl(path, "Spider 2.0-lite evaluation settings ({instance_id, condition_cols, ...})"):
        out[field(obj, f"{path.name} line {lineno}", "instance_id")] = obj
    return out


def load_spider2_lite(
    root: PathLike | None = None,
    *,
    questions: PathLike | None = None,
    database_dir: PathLike | None = None,
    gold_dir: PathLike | None = None,
    eval_config: PathLike | None = None,
    documents_dir: PathLike | None = None,
    local_only: bool = True,
    check_databases: bool = True,
) -> ExampleSet:
    """Load the Spider 2.0-lite tasks (by default the local SQLite ones).

    Args:
        root: the ``spider2-lite`` folder; the paths below default to the release layout in it.
        questions: the tasks file (JSON Lines of ``{"instance_id", "db", "question",
            "external_knowledge"?}``).
        database_dir: folder of ``<db>.sqlite`` files.
        gold_dir: folder with ``sql/`` and ``exec_result/``.
        eval_config: the ``condition_cols`` / ``ignore_order`` settings (JSON Lines); instances
            without settings get ``condition_cols=[]`` and ``ignore_order=False``.
        documents_dir: folder of the external-knowledge documents.
        local_only: keep only ``local*`` (SQLite) instances.
        check_databases: fail early when a database file is missing.

    Each example has ``extra["gold_csvs"]`` (paths, possibly several variants),
    ``extra["condition_cols"]`` (as in the settings file: a list of column indices, or one list
    per variant) and ``extra["ignore_order"]``.

    Raises:
        MissingDatasetFileError: a file is missing (the message says which and what it holds).
        MalformedDatasetError: bad JSON or an entry lacking ``instance_id`` / ``db`` / ``question``.
    """
    base = Path(root) if root is not None else None
    if base is not None:
        require_dir(base, "Spider 2.0-lite folder (with spider2-lite.jsonl, resource/, evaluation_suite/)")

    def default(given: PathLike | None, rel: str) -> Path:
        if given is not None:
            return Path(given)
        if base is None:
            raise ValueError(f"load_spider2_lite needs root= or an explicit path for {rel}")
        return base / rel

    qpath = default(questions, "spider2-lite.jsonl")
    dbdir = default(database_dir, "resource/databases/spider2-localdb")
    gdir = default(gold_dir, "evaluation_suite/gold")
    docs = default(documents_dir, "resource/documents")
    if gold_dir is not None:
        require_dir(gdir, "Spider 2.0-lite gold folder (with sql/ and exec_result/)")
    cfg_path = Path(eval_config) if eval_config is not None else gdir / "spider2lite_eval.jsonl"
    if eval_config is not None:
        require_file(cfg_path, "Spider 2.0-lite evaluation settings (JSON Lines)")
    settings = _eval_config(cfg_path) if cfg_path.is_file() else {}

    examples = []
    checked: set[str] = set()
    for lineno, entry in iter_jsonl(qpath, "Spider 2.0-lite tasks (JSON Lines of {instance_id, db, question})"):
        where = f"{qpath.name} line {lineno}"
        iid = field(entry, where, "instance_id")
        local = iid.startswith("local")
        if local_only and not local:
            continue
        db = field(entry, where, ("db", "db_id"))
        question = field(entry, where, ("question", "instruction"))
        db_path = dbdir / f"{db}.sqlite" if local else None
        if check_databases and db_path is not None and db not in checked:
            require_file(db_path, f"Spider 2.0-lite database {db!r} used by {where}")
            checked.add(db)
        evidence = ""
        doc = field(entry, where, "external_knowledge", default=None)
        if doc:
            evidence = require_file(docs / doc, f"external knowledge of {iid} ({where})").read_text(encoding="utf-8")
        sql_file = gdir / "sql" / f"{iid}.sql"
        gold_sql = sql_file.read_text(encoding="utf-8").strip() if sql_file.is_file() else None
        cfg = settings.get(iid, {})
        extra = {
            "gold_csvs": [str(p) for p in gold_csv_files(gdir / "exec_result", iid)],
            "condition_cols": cfg.get("condition_cols") or [],
            "ignore_order": bool(cfg.get("ignore_order", False)),
            **({"external_knowledge": doc} if doc else {}),
            **{k: v for k, v in entry.items() if k not in _KNOWN},
        }
        if "temporal" in cfg:
            extra["temporal"] = bool(cfg["temporal"])
        examples.append(
            Example(
                id=iid,
                db_id=db,
                db_path=db_path,
                question=question,
                gold_sql=gold_sql,
                evidence=evidence,
                dialect="sqlite" if local else ("bigquery" if iid.startswith(("bq", "ga")) else "snowflake"),
                extra=extra,
            )
        )
    return ExampleSet("spider2-lite", "test", examples)
