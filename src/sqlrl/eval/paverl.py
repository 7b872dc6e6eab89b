"""PaVeRL-SQL's EX_b and EX_f on any dataset sqlrl loads.

PaVeRL-SQL reports two numbers (``infer_eval/evaluate_paverl.py``): for each question its
evaluator returns ``(pred_shape, gold_shape, (rows, matched_columns))`` and

- **EX_b** counts the question correct when ``(rows, matched_columns) == gold_shape``, i.e. when
  the partial accuracy is exactly 1 (same number of rows after PaVeRL's key-column filtering,
  every gold column matched);
- **EX_f** is the mean partial accuracy ``(rows · matched) / (gold_rows · gold_cols)``
  (``matched / gold_cols`` for an empty gold), 0 for a query that fails.

Here the partial accuracy is the core's ``paverl`` metric (:func:`sqlrl.scoring.partial_match`),
which follows the training reward ``accuracy_reward.py``. Where ``evaluate_paverl.py`` differs
from that reward, this module follows the reward, and says so: rows may differ by up to 5 (the
evaluator allows 30), a text key column is taken whatever its duplicates (the evaluator skips
text columns with 5 or more duplicates), and the evaluator's extra conversions ('true'/'false'
text to booleans) are not made. With several gold tables (Spider 2.0 variants) the best one
counts, as ``select_prediction`` picks it. Queries run on SQLite with undecodable text decoded
leniently, as PaVeRL's ``text_factory`` does.

Next to EX_b and EX_f the report holds ``ex``, the benchmark's own execution match (``bird``
for BIRD, ``spider`` for Spider, sqlrl-toy and JSON Lines, ``spider2`` for Spider 2.0), on the
example's main database.

Predictions: a BIRD prediction JSON (``{idx: "SQL\\t----- bird -----\\tdb"}``), any JSON object
``{id: sql}``, a JSON list of SQL strings or of records, JSON Lines records (``id`` /
``question_id`` / ``instance_id`` / ``testid`` and ``pred`` / ``prediction`` / ``predicted_sql``
/ ``sql`` / ``pred_sqls`` (first = greedy) ...), or a text file with one SQL per line. A key
matches an example by its id, else as a 0-based position.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlrl.data._files import read_text
from sqlrl.data.errors import MalformedDatasetError
from sqlrl.eval._exec import evaluation_service, prediction_dialect, run_engine
from sqlrl.eval.bird import BIRD_DIFFICULTIES, BIRD_SEPARATOR, parse_bird_prediction
from sqlrl.eval.options import DATASET_KINDS, EX_MODES
from sqlrl.eval.report import RESULT_ROWS, EvalReport, ExampleResult, record_results, result_sample
from sqlrl.sandbox.parallel import resolve_workers

__all__ = [
    "DATASET_KINDS",
    "evaluate_paverl",
    "format_paverl_summary",
    "load_dataset",
    "load_examples",
    "load_predictions",
]

PathLike = str | os.PathLike[str]
_ID_FIELDS = ("id", "question_id", "instance_id", "testid", "qid", "index", "idx")
_SQL_FIELDS = ("pred", "prediction", "predicted_sql", "pred_sql", "pred_sqls", "sql", "SQL", "query", "completion",
               "output")  # fmt: skip
_HARDNESS = ("easy", "medium", "hard", "extra")


def load_examples(kind: str, path: PathLike | None = None, *, split: str = "dev", cache_dir: PathLike | None = None):
    """A :class:`~sqlrl.data.ExampleSet` of kind ``toy``, ``spider``, ``bird``, ``jsonl`` or ``spider2``.

    ``path`` is the benchmark folder (``spider``, ``bird``, ``spider2``: the ``spider2-lite`` folder)
    or the file (``jsonl``); sqlrl-toy needs none (``cache_dir`` says where it is built).
    """
    from sqlrl import data

    if kind == "toy":
        if path is not None:
            raise ValueError(f"the toy benchmark is built in (see cache_dir); a path is for the other kinds: {path}")
        return data.load_toy(split, cache_dir=cache_dir)
    if kind not in DATASET_KINDS:
        raise ValueError(f"dataset kind must be one of {', '.join(DATASET_KINDS)}, got {kind!r}")
    if path is None:
        raise ValueError(f"dataset kind {kind!r} needs a path")
    if kind == "spider":
        return data.load_spider(path, split)
    if kind == "bird":
        return data.load_bird(path, split)
    if kind == "jsonl":
        return data.load_jsonl(path)
    return data.load_spider2_lite(path)


#: Former name of :func:`load_examples` (not Hugging Face's ``datasets.load_dataset``).
load_dataset = load_examples


def _sql_of(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    if not isinstance(value, str):
        return str(value)
    if BIRD_SEPARATOR in value:
        return parse_bird_prediction(value)[0]
    return value


def _record(obj: Any, where: str) -> tuple[Any, str | None]:
    if isinstance(obj, str):
        return None, obj
    if not isinstance(obj, dict):
        raise MalformedDatasetError(f"{where}: expected a SQL string or an object, found {type(obj).__name__}")
    key = next((obj[k] for k in _ID_FIELDS if k in obj), None)
    for k in _SQL_FIELDS:
        if k in obj:
            return key, _sql_of(obj[k])
    raise MalformedDatasetError(f"{where}: no prediction field (one of {', '.join(_SQL_FIELDS)})")


def load_predictions(path: PathLike, ids: Sequence[str]) -> tuple[list[str | None], dict[str, Any]]:
    """Predictions aligned with the examples ``ids``: ``(sql or None per example, notes)``.

    See the module docs for the formats. A key matches the example with that id, else the
    example at that 0-based position; entries without a key are taken in order.

    Raises:
        MissingDatasetFileError: the file does not exist.
        MalformedDatasetError: the file cannot be read as any of the formats.
    """
    p = Path(path)
    text = read_text(p, "predictions file")
    keyed: list[tuple[Any, str | None]] = []
    stripped = text.lstrip()
    if p.suffix.lower() == ".jsonl" or (p.suffix.lower() != ".json" and stripped.startswith("{") and "\n{" in text):
        for lineno, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise MalformedDatasetError(f"{p} line {lineno} is not valid JSON: {e}") from None
                keyed.append(_record(obj, f"{p.name} line {lineno}"))
    elif p.suffix.lower() == ".json" or stripped[:1] in ("{", "["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise MalformedDatasetError(f"{p} is not valid JSON: {e}") from None
        if isinstance(data, dict):
            keyed = [(k, _sql_of(v) if not isinstance(v, dict) else _record(v, f"{p.name}[{k!r}]")[1])
                     for k, v in data.items()]  # fmt: skip
        elif isinstance(data, list):
            keyed = [_record(obj, f"{p.name} entry {i}") for i, obj in enumerate(data)]
        else:
            raise MalformedDatasetError(f"{p} must hold a JSON object or list, found {type(data).__name__}")
    else:
        lines = text.splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        keyed = [(None, line.split("\t")[0]) for line in lines]

    index = {str(i): k for k, i in enumerate(ids)}
    out: list[str | None] = [None] * len(ids)
    notes: dict[str, Any] = {}
    unmatched = []
    pos = 0
    for key, sql in keyed:
        if key is None:
            k = pos
            pos += 1
        else:
            skey = str(key).strip()
            k = index.get(skey, -1)
            if k < 0 and skey.lstrip("-").isdigit():
                k = int(skey)
            if not 0 <= k < len(ids):
                unmatched.append(skey)
                continue
        if k >= len(ids):
            unmatched.append(f"#{k}")
            continue
        out[k] = sql
    if unmatched:
        notes["unmatched_predictions"] = len(unmatched)
        notes["unmatched_keys"] = unmatched[:20]
    missing = sum(1 for s in out if s is None)
    if missing:
        notes["examples_without_prediction"] = missing
    return out, notes


def _groups(examples: Sequence[Any]) -> tuple[list[str], str]:
    if any(ex.difficulty for ex in examples):
        return list(BIRD_DIFFICULTIES), "difficulty"
    if any(ex.hardness for ex in examples):
        return list(_HARDNESS), "hardness"
    return [], ""


def evaluate_paverl(
    dataset: Any,
    predictions: PathLike | Sequence[str | None],
    *,
    ex_mode: str = "auto",
    engine: str = "sqlite",
    timeout: float = 30.0,
    workers: int = 8,
    extract: bool = False,
    gold_via_csv: bool = False,
    csv_reader: str = "auto",
    cache_dir: PathLike | None = None,
    max_rows: int = 10_000_000,
    dialect: str = "sqlite",
    progress: bool | None = None,
    result_rows: int = RESULT_ROWS,
    backend: str = "local",
    ray_actors: int = 2,
    ray_address: str | None = None,
) -> EvalReport:
    """EX_b, EX_f (and the benchmark's EX) of predictions on a dataset.

    Args:
        dataset: a :class:`~sqlrl.data.ExampleSet` (see :func:`load_examples`).
        predictions: a predictions file (see the module docs) or one SQL (or None) per example.
        ex_mode: mode of the ``ex`` column: ``auto`` (by benchmark), ``spider``, ``bird``,
            ``spider2`` or ``none``.
        engine: ``sqlite`` or ``duckdb``.
        timeout: seconds per query.
        workers: threads; ``-1`` = all cores.
        extract: predictions are model completions: take the SQL with :func:`sqlrl.sql.extract_sql`.
        gold_via_csv: pass gold results through the CSV round trip pandas gives PaVeRL's gold files
            (``'007'`` becomes ``7``, a NULL in an integer column makes it float).
        csv_reader: how CSV files are read (``auto``, ``pandas``, ``builtin``; see :mod:`sqlrl.eval.spider2`).
        cache_dir: where DuckDB copies of the databases are cached.
        max_rows: rows kept per result.
        backend: where the queries run: ``local`` (this process's threads) or ``ray`` (``ray_actors`` Ray
            actors joining ``ray_address``, see :mod:`sqlrl.sandbox.ray_service`; the same verdicts).
        dialect: the predictions' dialect; another than ``sqlite`` is transpiled by sqlglot to DuckDB
            and the evaluation runs on DuckDB (``engine`` ignored; a prediction sqlglot cannot
            transpile fails as ``transpile``).
        progress: progress bar (None: for 200+ queries on a terminal).
        result_rows: rows of the gold (query) and predicted results kept per example (``extra["results"]``).
    """
    from sqlrl.sandbox import ErrorKind
    from sqlrl.scoring import gold_has_order_by

    t_start = time.perf_counter()
    if ex_mode not in EX_MODES:
        raise ValueError(f"ex_mode must be one of {', '.join(EX_MODES)}, got {ex_mode!r}")
    workers = resolve_workers(workers)
    examples = list(dataset)
    notes: dict[str, Any] = {}
    if isinstance(predictions, (str, os.PathLike)):
        preds, notes = load_predictions(predictions, [ex.id for ex in examples])
    else:
        preds = list(predictions)
        if len(preds) != len(examples):
            raise MalformedDatasetError(f"got {len(preds)} predictions for {len(examples)} examples")
    if extract:
        from sqlrl.sql import extract_sql

        preds = [None if s is None else extract_sql(s).sql for s in preds]
    name = getattr(dataset, "name", "")
    csv_gold = [ex.gold_sql is None and bool(ex.extra.get("gold_csvs")) for ex in examples]
    mode = ex_mode
    if mode == "auto":
        mode = "bird" if name == "bird" else "spider2" if any(csv_gold) else "spider"
    groups, group_field = _groups(examples)

    engine, pred_dialect = run_engine(engine, dialect), prediction_dialect(dialect)
    tasks: list[tuple[Any, ...]] = []
    slots: list[tuple[int, int]] = []
    for ex, sql, from_csv in zip(examples, preds, csv_gold, strict=True):
        gi = -1
        if not from_csv and ex.gold_sql is not None and ex.db_path is not None:
            gi = len(tasks)
            tasks.append((ex.db_path, ex.gold_sql))
        pi = -1
        if sql is not None and ex.db_path is not None:
            pi = len(tasks)
            tasks.append((ex.db_path, sql, None, pred_dialect))
        slots.append((pi, gi))
    with evaluation_service(
        engine=engine, timeout=timeout, max_rows=max_rows, text_errors="ignore", cache_dir=cache_dir,
        backend=backend, ray_actors=ray_actors, ray_address=ray_address,
    ) as pool:  # fmt: skip
        results = pool.run(tasks, workers=workers, progress=progress, desc="paverl")

    metric_names = ["ex_b", "ex_f"] + ([] if mode == "none" else ["ex"])
    report = EvalReport("paverl", groups, metric_names)
    for k, (ex, sql, (pi, gi)) in enumerate(zip(examples, preds, slots, strict=True)):
        res = ExampleResult(
            index=k,
            db_id=ex.db_id,
            group=(getattr(ex, group_field) or "") if group_field else "",
            gold=ex.gold_sql or "",
            pred=sql or "",
            metrics={m: 0.0 for m in metric_names},
            extra={"id": ex.id},
        )
        report.examples.append(res)
        p = results[pi] if pi >= 0 else None
        g = results[gi] if gi >= 0 else None
        res.elapsed = (p.elapsed if p is not None else 0.0) + (g.elapsed if g is not None else 0.0)
        order = mode == "spider" and gold_has_order_by(ex.gold_sql or "")
        record_results(res, g, p, result_rows, mode="paverl", order_matters=order if mode == "spider" else None)
        if sql is None:
            res.error_kind, res.error = "missing_prediction", "no prediction for this example"
        elif p is None:
            res.error_kind, res.error = "missing_database", f"no database for {ex.id}"
        elif not p.ok:
            res.error_kind, res.error = "empty" if p.error_kind == ErrorKind.EMPTY else str(p.error_kind), p.error
        else:
            _score_example(res, ex, p, g, csv_gold[k], mode, gold_via_csv, csv_reader, result_rows)

    report.meta = {
        "dataset": name,
        "split": getattr(dataset, "split", ""),
        "predictions": str(predictions) if isinstance(predictions, (str, os.PathLike)) else "<list>",
        "ex_mode": mode,
        "engine": engine,
        "dialect": dialect,
        "timeout": timeout,
        "workers": workers,
        "extract": extract,
        "gold_via_csv": gold_via_csv,
        "num_examples": len(examples),
        "notes": notes,
        "seconds": round(time.perf_counter() - t_start, 3),
    }
    return report


def _score_example(
    res: ExampleResult,
    ex: Any,
    p: Any,
    g: Any,
    from_csv: bool,
    mode: str,
    gold_via_csv: bool,
    csv_reader: str,
    result_rows: int = 0,
) -> None:
    """EX_f, EX_b and EX of a prediction that ran, against the gold query's result or the gold CSV files (the
    first of which is kept next to the prediction's rows, ``result_rows`` of it)."""
    from sqlrl.eval import spider2 as sp2
    from sqlrl.scoring import compare, gold_has_order_by, partial_match

    res.extra["pred_rows"] = p.num_rows
    try:
        if from_csv:
            gold_frames = [sp2.read_csv(path, reader=csv_reader) for path in ex.extra["gold_csvs"]]
            gold_tables = [_columns_table(f.columns_values()) for f in gold_frames]
            if gold_frames and "results" in res.extra:
                values = gold_frames[0].columns_values()
                rows = list(zip(*values, strict=True)) if values else []
                res.extra["results"]["gold"] = result_sample(gold_frames[0].columns, rows, result_rows)
        elif g is not None and g.ok:
            gold_frames = []
            if gold_via_csv:
                frame = sp2.result_to_frame(g.columns, g.rows, reader=csv_reader)
                gold_tables = [_columns_table(frame.columns_values())]
            else:
                gold_tables = [g.table]
        else:
            why = "no gold" if g is None else f"{g.error_kind}: {g.error}"
            res.error_kind, res.error = "gold_error", f"gold query failed ({why})"
            return
    except Exception as e:  # noqa: BLE001 - unreadable gold CSV: the question scores 0
        res.error_kind, res.error = "gold_error", f"cannot read gold: {e}"
        return
    best = max(partial_match(t, p.table, metric="paverl") for t in gold_tables)
    res.metrics["ex_f"] = best
    res.metrics["ex_b"] = 1.0 if best >= 1.0 else 0.0
    if mode == "none":
        return
    if mode == "spider2":
        if not gold_frames:
            gold_frames = [sp2.result_to_frame(g.columns, g.rows, reader=csv_reader)]
        try:
            pred_frame = sp2.result_to_frame(p.columns, p.rows, reader=csv_reader)
            ok = sp2.compare_spider2(
                pred_frame, gold_frames, ex.extra.get("condition_cols"), ex.extra.get("ignore_order", False)
            )
        except Exception as e:  # noqa: BLE001 - official: "Python Script Error", score 0
            ok = False
            res.extra["ex_error"] = str(e)
    else:
        order = mode == "spider" and gold_has_order_by(ex.gold_sql or "")
        ok = any(compare(t, p.table, mode=mode, order_matters=order) for t in gold_tables)
    res.metrics["ex"] = 1.0 if ok else 0.0


def _columns_table(columns: Iterable[Sequence[Any]]) -> Any:
    """A core table from CSV column values; NaN becomes NULL (a CSV file cannot tell them apart)."""
    from sqlrl.scoring import as_table

    cols = [[None if isinstance(v, float) and v != v else v for v in c] for c in columns]
    rows = list(zip(*cols, strict=True)) if cols else []
    return as_table(rows, columns=[f"c{j}" for j in range(len(cols))])


def format_paverl_summary(report: EvalReport) -> str:
    """PaVeRL's closing lines: counts of correct / partially correct / wrong, EX_b and EX_f."""
    n = len(report.examples) or 1
    correct = sum(1 for e in report.examples if e.metrics.get("ex_b") == 1.0)
    partial = sum(1 for e in report.examples if 0.0 < e.metrics.get("ex_f", 0.0) < 1.0)
    wrong = len(report.examples) - correct - partial
    ex_b = correct / n
    ex_f = sum(e.metrics.get("ex_f", 0.0) for e in report.examples) / n
    return (
        f"correct SQL: {correct}, wrong SQL: {wrong}, partial correct SQL: {partial}\n"
        f"accuracy (EX_b): {ex_b}, partial accuracy (EX_f): {ex_f}"
    )
