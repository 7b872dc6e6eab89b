"""BIRD evaluation: EX by difficulty, Soft-F1 and R-VES, with the official scripts' semantics.

The official scripts are bird-bench/mini_dev ``evaluation/evaluation_ex.py``, ``evaluation_f1.py``
and ``evaluation_ves.py`` (with ``evaluation_utils.py``). What they do, and what this module
reproduces by default:

- Predictions are a JSON object ``{idx: "SQL\\t----- bird -----\\tdb_id"}`` read in file order;
  the keys are never looked at. A string without exactly one separator becomes the whole string
  stripped (its database defaults to ``financial``); a value that is not a string becomes the SQL
  ``" "``, which ``sqlite3`` runs as a statement returning no rows.
- Gold is a text file of ``SQL\\tdb_id`` lines; both lists are zipped, so the ``i``-th
  prediction is scored against the ``i``-th gold line and surplus entries of the longer list are
  dropped. Every pair runs on the gold's database ``<db_root>/<db_id>/<db_id>.sqlite``.
- EX is ``set(pred_rows) == set(gold_rows)`` (mode ``bird`` of the core); Soft-F1 is mini-dev's
  ``calculate_f1_score`` (metric ``soft_f1``); an error or a timeout scores 0.
- R-VES: for a pair whose results match, pred and gold are timed ``iterations`` times (100 in
  the official script), ratios ``gold_time / pred_time`` beyond 3 standard deviations are dropped
  and the mean ratio is bucketed into a reward (>= 2: 1.25, >= 1: 1, >= 0.5: 0.75, >= 0.25: 0.5,
  else 0.25); the score is ``mean(sqrt(reward)) * 100``. When the outlier filter keeps nothing
  (every ratio equal, e.g. a single iteration) the script divides by zero and the reward is 0.
- The difficulty of the ``i``-th result is the ``difficulty`` field of the ``i``-th entry of the
  difficulty file; ``total`` counts every evaluated pair.

Opt-in fixes (all off by default): ``pair_by="key"`` / ``"question_id"`` pairs predictions with
gold by their keys instead of their position; ``missing_as_wrong`` scores gold entries without a
prediction as wrong instead of dropping them; ``empty_as_error`` makes an empty prediction an
error instead of an empty result; ``ves_keep_all`` uses every timing when the outlier filter
would keep none. ``pred_db=True`` runs each prediction on the database named in its own string,
as the older DAMO-ConvAI ``evaluation.py`` did.

Known differences: the official timeout (30 s) covers the prediction and the gold together,
here ``timeout`` applies to each query; the sandbox refuses statements that are not queries
(``PRAGMA``, ``EXPLAIN``, DML), which ``sqlite3`` would run; timings come from the sandbox's
pooled connections, so R-VES buckets near a boundary can differ between any two runs.

>>> report = evaluate_bird("predict_dev.json", "dev_gold.sql", "dev_databases",
...                        difficulty="dev.json")  # doctest: +SKIP
>>> print(format_bird_table(report))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlrl.data._files import read_json, read_text, require_dir, require_file
from sqlrl.data.errors import MalformedDatasetError
from sqlrl.eval._exec import DEFAULT_MAX_ROWS, PathLike, evaluation_service, prediction_dialect, run_engine
from sqlrl.eval.on_suite import SuiteRun, check_suites, score_on_suites
from sqlrl.eval.options import PAIR_BY, VES_ITERATIONS
from sqlrl.eval.pred_files import BIRD_SEPARATOR
from sqlrl.eval.report import RESULT_ROWS, EvalReport, ExampleResult, record_results
from sqlrl.sandbox import ErrorKind
from sqlrl.sandbox.parallel import resolve_workers
from sqlrl.sandbox.service import ExecutionService
from sqlrl.scoring import as_table, score_batch

__all__ = [
    "BIRD_DIFFICULTIES",
    "BIRD_METRICS",
    "BIRD_SEPARATOR",
    "VES_ITERATIONS",
    "BirdGold",
    "BirdPrediction",
    "clean_ratios",
    "evaluate_bird",
    "format_bird_table",
    "load_bird_gold",
    "load_bird_predictions",
    "load_difficulties",
    "parse_bird_prediction",
    "ves_reward",
]

#: Database the official scripts assume for a prediction string without the separator.
DEFAULT_DB = "financial"
#: BIRD's difficulty levels, in the order of its tables.
BIRD_DIFFICULTIES = ("simple", "moderate", "challenging")
#: Metric names in reports; displayed as EX, Soft-F1 and R-VES.
BIRD_METRICS = ("ex", "soft_f1", "r_ves")
METRIC_LABELS = {"ex": "EX", "soft_f1": "Soft-F1", "r_ves": "R-VES", "suite_ex": "Suite EX"}
# -- inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BirdPrediction:
    """One entry of a prediction file.

    Attributes:
        key: the JSON key (``"0"``, ``"1"``, ...).
        sql: the SQL as the official script extracts it.
        db_id: the database named in the string, or ``financial`` when there is no separator.
        has_separator: whether the string held exactly one separator.
    """

    key: str
    sql: str
    db_id: str
    has_separator: bool = True


@dataclass(frozen=True)
class BirdGold:
    """One gold entry: SQL, database, and the fields a dev.json entry may add."""

    sql: str
    db_id: str
    difficulty: str | None = None
    question_id: Any = None


def parse_bird_prediction(value: Any) -> tuple[str, str, bool]:
    """``(sql, db_id, has_separator)`` of one prediction value, as ``package_sqls`` reads it.

    >>> parse_bird_prediction("SELECT 1\\t----- bird -----\\tcard_games")
    ('SELECT 1', 'card_games', True)
    >>> parse_bird_prediction("  SELECT 1 ")
    ('SELECT 1', 'financial', False)
    >>> parse_bird_prediction(None)
    (' ', 'financial', False)
    """
    if not isinstance(value, str):
        return " ", DEFAULT_DB, False
    parts = value.split(BIRD_SEPARATOR)
    if len(parts) != 2:
        return value.strip(), DEFAULT_DB, False
    return parts[0], parts[1], True


def load_bird_predictions(path: PathLike) -> list[BirdPrediction]:
    """Read a BIRD prediction file (a JSON object ``{idx: "SQL\\t----- bird -----\\tdb_id"}``) in file order.

    Raises:
        MissingDatasetFileError: the file does not exist.
        MalformedDatasetError: not JSON, or not a JSON object.
    """
    p = Path(path)
    data = _read_json(p, "BIRD predictions (a JSON object {idx: 'SQL\\t----- bird -----\\tdb_id'})")
    if not isinstance(data, dict):
        raise MalformedDatasetError(
            f"{p} must hold a JSON object {{idx: 'SQL\\t----- bird -----\\tdb_id'}}, found {type(data).__name__}"
        )
    out = []
    for key, value in data.items():
        sql, db_id, sep = parse_bird_prediction(value)
        out.append(BirdPrediction(str(key), sql, db_id, sep))
    return out


def load_bird_gold(path: PathLike) -> list[BirdGold]:
    """Read gold SQL: a ``SQL\\tdb_id`` text file (``dev_gold.sql``), or dev.json / JSON Lines entries.

    A text file is read as the official script reads it: each line stripped, then split on the tab
    into exactly two fields. Blank lines at the end are ignored; anywhere else they are an error,
    because they would shift the pairing.

    Raises:
        MissingDatasetFileError: the file does not exist.
        MalformedDatasetError: a line without exactly one tab, or an entry without SQL / db_id.
    """
    p = Path(path)
    what = "BIRD gold (SQL\\tdb_id lines or dev.json)"
    require_file(p, what)
    if p.suffix.lower() in (".json", ".jsonl"):
        gold = []
        for where, entry in _json_entries(p, "BIRD gold entries ({SQL, db_id, difficulty?})"):
            sql = entry.get("SQL", entry.get("query"))
            db_id = entry.get("db_id")
            if not isinstance(sql, str) or not isinstance(db_id, str):
                raise MalformedDatasetError(f"{where}: needs string fields 'SQL' (or 'query') and 'db_id'")
            diff = entry.get("difficulty")
            gold.append(BirdGold(sql, db_id, diff if isinstance(diff, str) else None, entry.get("question_id")))
        return gold
    lines = read_text(p, what).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    gold = []
    for lineno, line in enumerate(lines, start=1):
        parts = line.strip().split("\t")
        if len(parts) != 2:
            raise MalformedDatasetError(
                f"{p} line {lineno}: expected 'SQL<TAB>db_id', found {len(parts) - 1} tab(s): {line[:80]!r}"
            )
        gold.append(BirdGold(parts[0], parts[1]))
    return gold


def load_difficulties(path: PathLike) -> list[str | None]:
    """The ``difficulty`` of each entry of a dev.json-like file (JSON list or JSON Lines), by position."""
    return [
        e.get("difficulty") if isinstance(e.get("difficulty"), str) else None
        for _, e in _json_entries(Path(path), "BIRD difficulty file (entries with 'difficulty')")
    ]


def _read_json(p: Path, what: str) -> Any:
    return read_json(p, what)


def _json_entries(p: Path, what: str) -> list[tuple[str, Mapping[str, Any]]]:
    """Entries of a JSON list or a JSON Lines file, with a location for messages."""
    text = read_text(p, what)
    if text.lstrip().startswith("["):
        data = _read_json(p, what)
        rows = [(f"{p.name} entry {i}", e) for i, e in enumerate(data)]
    else:
        rows = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append((f"{p.name} line {lineno}", json.loads(line)))
            except json.JSONDecodeError as e:
                raise MalformedDatasetError(f"{p} line {lineno} is not valid JSON ({what}): {e}") from None
    for where, e in rows:
        if not isinstance(e, dict):
            raise MalformedDatasetError(f"{where} must be a JSON object, found {type(e).__name__}")
    return rows


# -- execution -----------------------------------------------------------------------------------


# -- R-VES ---------------------------------------------------------------------------------------


def clean_ratios(ratios: Sequence[float]) -> list[float]:
    """evaluation_ves.py's ``clean_abnormal``: keep ratios strictly within 3 population standard deviations.

    Every ratio equal (one iteration, or identical timings) keeps none, since ``x < mean + 0``
    fails.

    >>> clean_ratios([1.0, 1.1, 0.9, 50.0] + [1.0] * 20)[-1], len(clean_ratios([2.0]))
    (1.0, 0)
    """
    values = [float(x) for x in ratios]
    if not values:
        return []
    n = len(values)
    mean = _numpy_sum(values) / n  # numpy.mean, to the last bit
    std = math.sqrt(_numpy_sum([(x - mean) * (x - mean) for x in values]) / n)  # numpy.std (ddof=0)
    return [x for x in values if mean - 3 * std < x < mean + 3 * std]


def _numpy_sum(values: list[float]) -> float:
    """``numpy.sum`` of float64 values without numpy, in numpy's order: pairwise summation, eight running sums
    over blocks of up to 128 values, so that the result is numpy's to the last bit."""
    n = len(values)
    if n < 8:
        total = -0.0
        for x in values:
            total += x
        return total
    if n <= 128:
        r = values[:8]
        i = 8
        while i + 8 <= n:
            for k in range(8):
                r[k] += values[i + k]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for x in values[i:]:
            total += x
        return total
    half = n // 2
    half -= half % 8
    return _numpy_sum(values[:half]) + _numpy_sum(values[half:])


def ves_reward(time_ratio: float) -> float:
    """The reward bucket of a mean time ratio ``gold_time / pred_time`` (0 means no match).

    >>> [ves_reward(r) for r in (0, 0.1, 0.3, 0.7, 1.0, 2.5)]
    [0, 0.25, 0.5, 0.75, 1, 1.25]
    """
    if time_ratio == 0:
        return 0
    if time_ratio >= 2:
        return 1.25
    if time_ratio >= 1:
        return 1
    if time_ratio >= 0.5:
        return 0.75
    if time_ratio >= 0.25:
        return 0.5
    return 0.25


@dataclass
class _VesOutcome:
    reward: float = 0.0
    time_ratio: float = 0.0
    kept: int = 0
    runs: int = 0
    note: str = ""
    seconds: float = 0.0
    ratios: list[float] = field(default_factory=list)


def _time_pair(
    pool: ExecutionService,
    db_pred: PathLike,
    db_gold: PathLike,
    pred_sql: str,
    gold_sql: str,
    iterations: int,
    budget: float,
    keep_all: bool,
    empty_ok: bool = False,
    dialect: str | None = None,
) -> _VesOutcome:
    out = _VesOutcome()
    t0 = time.perf_counter()
    for _ in range(iterations):
        p = pool.execute(db_pred, pred_sql, dialect=dialect)
        g = pool.execute(db_gold, gold_sql)
        out.runs += 1
        # an empty prediction that counts as an empty result (see evaluate_bird) runs in no time
        p_ok = p.ok or (empty_ok and p.error_kind == "empty")
        if not (p_ok and g.ok):
            bad = g if p_ok else p
            out.note = f"timing run failed ({bad.error_kind}): {bad.error}"
            out.seconds = time.perf_counter() - t0
            return out
        if time.perf_counter() - t0 > budget:
            out.note = f"timing exceeded {budget:g} s (timeout x iterations)"
            out.seconds = time.perf_counter() - t0
            return out
        if p.elapsed <= 0:
            out.note = "prediction timed at 0 s (division by zero)"
            out.seconds = time.perf_counter() - t0
            return out
        out.ratios.append(g.elapsed / p.elapsed)
    out.seconds = time.perf_counter() - t0
    kept = clean_ratios(out.ratios)
    if not kept:
        if not keep_all:
            out.note = "outlier filter kept no ratio (official: division by zero, reward 0)"
            return out
        kept = list(out.ratios)
    out.kept = len(kept)
    out.time_ratio = sum(kept) / len(kept)
    out.reward = ves_reward(out.time_ratio)
    return out


# -- evaluation ----------------------------------------------------------------------------------


@dataclass
class _Pair:
    index: int
    pred: BirdPrediction | None
    gold: BirdGold
    group: str


def _pairs(
    preds: Sequence[BirdPrediction],
    gold: Sequence[BirdGold],
    difficulties: Sequence[str | None],
    pair_by: str,
    missing_as_wrong: bool,
) -> tuple[list[_Pair], dict[str, Any]]:
    """Pair predictions with gold entries; a gold entry without a prediction is dropped unless
    ``missing_as_wrong`` (the official ``zip`` drops the tail of the longer list)."""
    notes: dict[str, Any] = {}
    matched: list[BirdPrediction | None]
    if pair_by == "position":
        matched = [preds[i] if i < len(preds) else None for i in range(len(gold))]
        if len(preds) > len(gold):
            notes["predictions_without_gold"] = len(preds) - len(gold)
    else:
        by_key: dict[str, BirdPrediction] = {}
        for p in preds:
            by_key.setdefault(p.key.strip(), p)
        if pair_by == "key":
            keys = [str(i) for i in range(len(gold))]
        else:
            if any(g.question_id is None for g in gold):
                raise ValueError("pair_by='question_id' needs gold entries with a question_id (a dev.json)")
            keys = [str(g.question_id) for g in gold]
        matched = [by_key.get(k) for k in keys]
        unused = sorted(set(by_key) - set(keys))
        if unused:
            notes["predictions_without_gold"] = len(unused)
            notes["unused_prediction_keys"] = unused[:20]
    missing = sum(1 for p in matched if p is None)
    if missing:
        notes["gold_without_prediction"] = missing
    if difficulties and len(difficulties) != len(gold):
        notes["difficulty_entries"] = len(difficulties)
    pairs = []
    for i, p in enumerate(matched):
        if p is None and not missing_as_wrong:
            continue
        group = difficulties[i] if i < len(difficulties) and difficulties[i] else ""
        pairs.append(_Pair(i, p, gold[i], group))
    return pairs, notes


def evaluate_bird(
    predictions: PathLike | Sequence[BirdPrediction] | Mapping[str, Any],
    gold: PathLike | Sequence[BirdGold],
    db_root: PathLike,
    *,
    difficulty: PathLike | Sequence[str | None] | None = None,
    metrics: Iterable[str] = ("ex", "soft_f1"),
    engine: str = "sqlite",
    timeout: float = 30.0,
    workers: int = 8,
    ves_iterations: int = VES_ITERATIONS,
    pair_by: str = "position",
    missing_as_wrong: bool = False,
    empty_as_error: bool = False,
    ves_keep_all: bool = False,
    pred_db: bool = False,
    max_rows: int = DEFAULT_MAX_ROWS,
    cache_dir: PathLike | None = None,
    dialect: str = "sqlite",
    suite: PathLike | None = None,
    progress: bool | None = None,
    result_rows: int = RESULT_ROWS,
    backend: str = "local",
    ray_actors: int = 2,
    ray_address: str | None = None,
) -> EvalReport:
    """Evaluate BIRD predictions as the official mini-dev scripts do (see the module docs).

    Args:
        predictions: the prediction file (JSON object), its parsed dict, or :class:`BirdPrediction` s.
        gold: ``dev_gold.sql`` (``SQL\\tdb_id`` lines), a dev.json, or :class:`BirdGold` s.
        db_root: folder of ``<db_id>/<db_id>.sqlite``.
        difficulty: dev.json / JSON Lines with ``difficulty`` per entry, or the list of values;
            default: the gold entries' own ``difficulty`` (when gold is a dev.json).
        metrics: any of ``ex``, ``soft_f1``, ``r_ves`` (R-VES times every matching pair
            ``ves_iterations`` times, so it is opt-in).
        engine: ``sqlite`` (the official engine) or ``duckdb`` (the SQLite file imported once).
        timeout: seconds per query (the official 30 s cover prediction and gold together).
        workers: threads running queries and scoring; ``-1`` = all cores.
        ves_iterations: timing runs per matching pair for R-VES (official: 100).
        pair_by: ``position`` (official: the i-th prediction in file order with the i-th gold),
            ``key`` (the prediction key is the gold's 0-based position) or ``question_id``.
        missing_as_wrong: gold entries without a prediction count as wrong (official: dropped).
        empty_as_error: an empty prediction is an error (official: an empty result).
        ves_keep_all: when the outlier filter keeps no timing, use them all (official: reward 0).
        pred_db: run predictions on the database their string names (older evaluation.py).
        max_rows: rows kept per result; more are dropped and the example is flagged ``truncated``.
        cache_dir: where DuckDB copies of the databases are cached (``engine="duckdb"``).
        backend: where the queries run: ``local`` (this process's threads) or ``ray`` (``ray_actors`` Ray
            actors joining ``ray_address``, see :mod:`sqlrl.sandbox.ray_service`; the same verdicts).
        dialect: the predictions' dialect; another than ``sqlite`` is transpiled by sqlglot to DuckDB
            and the evaluation runs on DuckDB (``engine`` ignored; a prediction sqlglot cannot
            transpile fails as ``transpile``).
        suite: a folder of test suites (``sqlrl suite build --out``) holding ``<db_id>/`` for every
            gold database: adds the metric ``suite_ex`` (the prediction matches the gold as sets of rows,
            as ``ex`` compares, on every database of the suite; an empty prediction is wrong there) and
            ``meta["suite"]``, the examples whose verdict it flipped (:mod:`sqlrl.eval.on_suite`).
        progress: progress bar (None: for 200+ queries when stderr is a terminal).
        result_rows: rows of the gold and predicted results kept per example (``extra["results"]``).

    Returns:
        An :class:`EvalReport` with groups simple / moderate / challenging; each example's
        ``extra`` holds the prediction key and database, row counts and R-VES timings.
    """
    t_start = time.perf_counter()
    metrics = list(dict.fromkeys(metrics))
    for m in metrics:
        if m not in BIRD_METRICS:
            raise ValueError(f"unknown BIRD metric {m!r}; expected some of {', '.join(BIRD_METRICS)}")
    if pair_by not in PAIR_BY:
        raise ValueError(f"pair_by must be one of {', '.join(PAIR_BY)}, got {pair_by!r}")
    if ves_iterations < 1:
        raise ValueError(f"ves_iterations must be >= 1, got {ves_iterations}")
    if engine not in ("sqlite", "duckdb"):
        raise ValueError(f"engine must be 'sqlite' or 'duckdb', got {engine!r}")
    workers = resolve_workers(workers)

    preds = _as_predictions(predictions)
    golds = load_bird_gold(gold) if isinstance(gold, (str, os.PathLike)) else list(gold)
    if difficulty is None:
        diffs: list[str | None] = [g.difficulty for g in golds] if any(g.difficulty for g in golds) else []
    elif isinstance(difficulty, (str, os.PathLike)):
        diffs = load_difficulties(difficulty)
    else:
        diffs = list(difficulty)
    root = require_dir(Path(db_root), "BIRD database root (with <db_id>/<db_id>.sqlite)")
    pairs, notes = _pairs(preds, golds, diffs, pair_by, missing_as_wrong)
    suite_dir = check_suites(suite, [pair.gold.db_id for pair in pairs]) if suite is not None else None

    paths: dict[str, str] = {}

    def db_path(db_id: str) -> str:
        path = paths.get(db_id)
        if path is None:
            path = paths[db_id] = os.path.join(root, db_id, f"{db_id}.sqlite")
        return path

    report = EvalReport("bird", list(BIRD_DIFFICULTIES), metrics)
    engine, pred_dialect = run_engine(engine, dialect), prediction_dialect(dialect)
    with evaluation_service(
        engine=engine, timeout=timeout, max_rows=max_rows, cache_dir=cache_dir,
        backend=backend, ray_actors=ray_actors, ray_address=ray_address,
    ) as pool:  # fmt: skip
        tasks: list[tuple[Any, ...]] = []
        slots: list[tuple[int, int]] = []  # (pred task, gold task) per pair, -1 when absent
        for pair in pairs:
            gi = len(tasks)
            tasks.append((db_path(pair.gold.db_id), pair.gold.sql))
            pi = -1
            if pair.pred is not None:
                pi = len(tasks)
                tasks.append(
                    (db_path(pair.pred.db_id if pred_db else pair.gold.db_id), pair.pred.sql, None, pred_dialect)
                )
            slots.append((pi, gi))
        results = pool.run(tasks, workers=workers, progress=progress, desc="bird")
        empty = as_table([], columns=[])
        rows = [
            _example(pair, results[pi] if pi >= 0 else None, results[gi], pred_db, empty_as_error, empty)
            for pair, (pi, gi) in zip(pairs, slots, strict=True)
        ]
        examples = [ex for ex, _, _ in rows]
        for ex, (pi, gi) in zip(examples, slots, strict=True):
            record_results(ex, results[gi], results[pi] if pi >= 0 else None, result_rows, mode="bird")
        if examples:
            want_f1 = "soft_f1" in metrics
            scores = score_batch(
                [g for _, g, _ in rows], [p for _, _, p in rows], modes=["bird"],
                metrics=["soft_f1"] if want_f1 else [], workers=workers,
            )  # fmt: skip
            for k, ex in enumerate(examples):
                ex.metrics["ex"] = scores["bird"][k]
                if want_f1:
                    ex.metrics["soft_f1"] = scores["soft_f1"][k]
        if "r_ves" in metrics:

            def time_one(k: int) -> _VesOutcome:
                pair = pairs[k]
                assert pair.pred is not None
                db_pred = db_path(pair.pred.db_id if pred_db else pair.gold.db_id)
                return _time_pair(
                    pool, db_pred, db_path(pair.gold.db_id), pair.pred.sql, pair.gold.sql,
                    ves_iterations, timeout * ves_iterations, ves_keep_all, not empty_as_error, pred_dialect,
                )  # fmt: skip

            todo = [k for k, ex in enumerate(examples) if ex.metrics["ex"] == 1.0]
            _record_ves(examples, todo, pool.map(time_one, todo, workers=workers, progress=progress, desc="r-ves"))
        report.examples = examples
        if suite_dir is not None:
            runs = [
                SuiteRun(pair.gold.sql, None if pair.pred is None else pair.pred.sql, False, pair.gold.sql)
                for pair in pairs
            ]
            score_on_suites(
                report, runs, suite_dir, pool, base="ex", metric="suite_ex", mode="bird", dialect=pred_dialect,
                progress=progress,
            )  # fmt: skip
        if "ex" not in metrics:
            for ex in examples:
                ex.metrics.pop("ex", None)

    suite_info = report.meta.get("suite")
    notes.update(report.meta.get("notes", {}))
    report.meta = {
        "predictions": _describe(predictions),
        "gold": _describe(gold),
        "db_root": str(root),
        "difficulty": _describe(difficulty) if difficulty is not None else None,
        "engine": engine,
        "dialect": dialect,
        "timeout": timeout,
        "workers": workers,
        "ves_iterations": ves_iterations if "r_ves" in metrics else None,
        "pair_by": pair_by,
        "missing_as_wrong": missing_as_wrong,
        "empty_as_error": empty_as_error,
        "ves_keep_all": ves_keep_all,
        "pred_db": pred_db,
        "num_predictions": len(preds),
        "num_gold": len(golds),
        "num_evaluated": len(examples),
        "truncated": sum(1 for e in examples if e.extra.get("truncated")),
        "notes": notes,
        "seconds": round(time.perf_counter() - t_start, 3),
    }
    if suite_info is not None:
        report.meta["suite"] = suite_info
    return report


def _example(
    pair: Any, p: Any, g: Any, pred_db: bool, empty_as_error: bool, empty: Any
) -> tuple[ExampleResult, Any, Any]:
    """One pair's :class:`ExampleResult` from its executions, with the gold and predicted tables to score
    (the empty table for a failed gold, None for a prediction that scores 0)."""
    ex = ExampleResult(
        index=pair.index,
        db_id=pair.gold.db_id,
        group=pair.group,
        gold=pair.gold.sql,
        pred="" if pair.pred is None else pair.pred.sql,
        elapsed=g.elapsed + (p.elapsed if p is not None else 0.0),
        extra={"key": None if pair.pred is None else pair.pred.key},
    )
    if pair.pred is not None and (pred_db or not pair.pred.has_separator):
        ex.extra["pred_db"] = pair.pred.db_id
    pred_table = None
    if p is None:
        ex.error_kind, ex.error = "missing_prediction", "no prediction for this gold entry"
    elif p.ok:
        pred_table = p.table
        ex.extra["pred_rows"] = p.num_rows
    elif p.error_kind == ErrorKind.EMPTY and not empty_as_error:
        pred_table = empty  # sqlite3 runs an empty statement and returns no rows
        ex.extra["pred_rows"] = 0
        ex.extra["empty_prediction"] = True
    else:
        ex.error_kind, ex.error = str(p.error_kind), p.error
    if not g.ok:
        ex.error_kind = ex.error_kind or f"gold_{g.error_kind}"
        ex.error = ex.error or f"gold query failed: {g.error}"
        ex.extra["gold_error"] = f"{g.error_kind}: {g.error}"
        pred_table = None
    else:
        ex.extra["gold_rows"] = g.num_rows
    if g.truncated or (p is not None and p.truncated):
        ex.extra["truncated"] = True
    return ex, g.table if g.ok else empty, pred_table


def _record_ves(examples: list[ExampleResult], timed: list[int], outcomes: list[_VesOutcome]) -> None:
    """R-VES per example: sqrt of the reward for the timed (matching) ones, 0 elsewhere."""
    for ex in examples:
        ex.metrics["r_ves"] = 0.0
    for k, o in zip(timed, outcomes, strict=True):
        ex = examples[k]
        ex.metrics["r_ves"] = math.sqrt(o.reward)
        ex.elapsed += o.seconds
        ex.extra["ves"] = {
            "reward": o.reward,
            "time_ratio": o.time_ratio,
            "runs": o.runs,
            "kept": o.kept,
            **({"note": o.note} if o.note else {}),
        }


def _as_predictions(predictions: Any) -> list[BirdPrediction]:
    if isinstance(predictions, (str, os.PathLike)):
        return load_bird_predictions(predictions)
    if isinstance(predictions, Mapping):
        out = []
        for key, value in predictions.items():
            sql, db_id, sep = parse_bird_prediction(value)
            out.append(BirdPrediction(str(key), sql, db_id, sep))
        return out
    return list(predictions)


def _describe(obj: Any) -> Any:
    if isinstance(obj, (str, os.PathLike)):
        return str(obj)
    if obj is None:
        return None
    return f"<{type(obj).__name__} of {len(obj)}>" if hasattr(obj, "__len__") else type(obj).__name__


def format_bird_table(report: EvalReport) -> str:
    """The report in the layout of the official ``print_data``: one block per metric.

    Columns are simple / moderate / challenging / total, scores in percent with 2 decimals.
    """
    levels = [*BIRD_DIFFICULTIES, "total"]
    summary = report.summary()
    cols = [*BIRD_DIFFICULTIES, "all"]
    counts = [int(summary[g]["count"]) for g in cols]
    lines = ["{:20} {:20} {:20} {:20} {:20}".format("", *levels)]
    lines.append("{:20} {:<20} {:<20} {:<20} {:<20}".format("count", *counts))
    for m in report.metrics:
        label = METRIC_LABELS.get(m, m)
        scores = [summary[g][m] * 100 for g in cols]
        lines.append(f"======================================    {label}    =====================================")
        lines.append("{:20} {:<20.2f} {:<20.2f} {:<20.2f} {:<20.2f}".format(label, *scores))
    lines.append("=" * 91)
    return "\n".join(lines)
