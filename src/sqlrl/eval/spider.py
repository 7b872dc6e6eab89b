"""Spider evaluation: test-suite execution accuracy, exact match and partial match by hardness.

The official script is taoyds/test-suite-sql-eval ``evaluation.py`` with ``exec_eval.py``. What it
does, and what this module reproduces:

- Gold is a text file of ``SQL\\tdb_id`` lines, predictions one SQL per line (only the first tab
  field is read); blank lines separate sessions (SParC/CoSQL turns) in both files. The official
  script asserts that the session counts are equal and silently truncates a session to the shorter
  side; here any difference in sessions or lines is a :class:`~sqlrl.data.errors.MalformedDatasetError`
  (a ``ValueError``) naming the first one.
- Every prediction has ``"value"`` replaced by ``"1"`` (a quirk of the script, applied to exact
  match and execution alike, so a column named ``value`` is mangled too).
- Execution (``etype`` ``exec`` or ``all``): both queries are post-processed (``> =`` → ``>=``,
  ``< =`` → ``<=``, ``! =`` → ``!=``), every ``DISTINCT`` token is cut out of both unless
  ``keep_distinct``, rows are compared in order when ``'order by'`` occurs in the processed gold
  (lower-cased), and ``YEAR(CURDATE())`` becomes ``2020`` before running. The prediction must match
  the gold (``sqlrl.compare(mode="spider")``, test-suite's ``result_eq``) on *every* file of
  ``<db_dir>/<db_id>/`` whose name contains ``.sqlite`` (the official listdir rule, so a
  test-suite folder of database variants is used as is). A failing prediction scores 0; a failing
  gold, which makes the official script stop with an assertion, scores 0 and is reported with
  ``error_kind="gold_error"``.
- Exact match and the ten partial-match components come from :mod:`sqlrl.sql.spider` with the
  foreign keys of ``tables.json``; values and DISTINCT are always ignored there (the script's
  ``DISABLE_VALUE``/``DISABLE_DISTINCT`` constants; ``--keep_distinct`` only affects execution).
  An unparseable prediction is scored as the empty query.
- Examples are grouped by the gold's hardness (easy, medium, hard, extra; ``unknown`` when the gold
  cannot be parsed, where the official script would stop). Per level, partial accuracy is averaged
  over the examples whose prediction has the component, recall over those whose gold has it, and
  ``f1 = 2·acc·rec / (acc + rec)``, 1 when both are 0, as ``evaluation.py`` computes it.

- ``plug_value``: when the prediction fails, every way of plugging the gold query's values into
  its value slots is executed in turn (:mod:`sqlrl.eval.plug_value`, ``parse.py``'s
  ``get_all_preds_for_execution``); the first that matches on every database makes the example
  correct (``extra["plugged"]`` holds it). The values come from the gold and the slots from the
  prediction after the DISTINCT removal and before ``YEAR(CURDATE())`` is replaced, as there.

Not implemented: the per-turn table of multi-turn sessions.

>>> report = evaluate_spider("dev_gold.sql", "pred.txt", "database", "tables.json")  # doctest: +SKIP
>>> print(format_spider_table(report))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlrl.data._files import read_json_list, read_text, require_dir
from sqlrl.data.errors import MalformedDatasetError
from sqlrl.eval._exec import evaluation_service, prediction_dialect, run_engine
from sqlrl.eval.on_suite import SuiteRun, check_suites, score_on_suites
from sqlrl.eval.options import SPIDER_ETYPES
from sqlrl.eval.plug_value import candidates as plug_candidates
from sqlrl.eval.report import RESULT_ROWS, EvalReport, ExampleResult, record_results
from sqlrl.sandbox.service import ExecutionService
from sqlrl.scoring import compare
from sqlrl.sql.spider import COMPONENTS, LEVELS, Schema, SpiderParseError
from sqlrl.sql.spider import evaluate as spider_match
from sqlrl.sql.spider import hardness as spider_hardness

__all__ = [
    "ETYPES",
    "LEVELS",
    "evaluate_spider",
    "exec_variants",
    "format_spider_table",
    "load_spider_gold",
    "load_spider_predictions",
    "partial_summary",
    "postprocess",
    "remove_distinct",
    "replace_cur_year",
]

PathLike = str | os.PathLike[str]
ETYPES = SPIDER_ETYPES
_CUR_YEAR = re.compile(r"YEAR\s*\(\s*CURDATE\s*\(\s*\)\s*\)\s*", re.IGNORECASE)


def _lines(path: Path, what: str) -> list[str]:
    """The lines of a text file as iterating over it gives them (only a newline ends a line)."""
    text = read_text(path, what)
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def _read_sessions(path: PathLike, what: str) -> list[list[list[str]]]:
    """Lines split on tabs, grouped into sessions at blank lines (the last session included)."""
    sessions: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in _lines(Path(path), what):
        if not line.strip():
            sessions.append(current)
            current = []
        else:
            current.append(line.strip().split("\t"))
    if current:
        sessions.append(current)
    return sessions


def load_spider_gold(path: PathLike) -> list[list[tuple[str, str]]]:
    """Sessions of ``(sql, db_id)`` from a ``SQL\\tdb_id`` file."""
    out = []
    for s, session in enumerate(_read_sessions(path, "Spider gold (SQL<TAB>db_id lines)")):
        turns = []
        for t, fields in enumerate(session):
            if len(fields) < 2:
                raise MalformedDatasetError(
                    f"{path}: session {s + 1}, line {t + 1}: expected 'SQL<TAB>db_id', got {fields!r}"
                )
            turns.append((fields[0], fields[1]))
        out.append(turns)
    return out


def load_spider_predictions(path: PathLike) -> list[list[str]]:
    """Sessions of predicted SQL (the first tab field of each line)."""
    return [
        [fields[0] for fields in session] for session in _read_sessions(path, "Spider predictions (one SQL per line)")
    ]


def postprocess(query: str) -> str:
    """``> =`` → ``>=``, ``< =`` → ``<=``, ``! =`` → ``!=`` (exec_eval's ``postprocess``)."""
    return query.replace("> =", ">=").replace("< =", "<=").replace("! =", "!=")


def remove_distinct(query: str) -> str:
    """Cut every token whose text is ``distinct`` (any case); everything else is kept verbatim.

    >>> remove_distinct("SELECT DISTINCT name FROM t WHERE x = 'distinct'")
    "SELECT  name FROM t WHERE x = 'distinct'"
    """
    if "distinct" not in query.lower():  # no such token, and tokenizing is the slow part
        return query
    from sqlrl.sql.tokens import token_spans

    spans = token_spans(query)
    if spans is None:  # an unterminated string or the like: fall back to whole words
        return re.sub(r"(?i)\bdistinct\b", "", query)
    out, pos = [], 0
    for start, end in spans:
        if query[start:end].lower() == "distinct":
            out.append(query[pos:start])
            pos = end
    out.append(query[pos:])
    return "".join(out)


def replace_cur_year(query: str) -> str:
    """``YEAR(CURDATE())`` → ``2020``, as exec_eval does before running a query."""
    return _CUR_YEAR.sub("2020", query)


def exec_variants(db_dir: PathLike, db_id: str) -> list[Path]:
    """The database files of ``db_id`` used for execution: names in ``<db_dir>/<db_id>`` containing ``.sqlite``."""
    folder = Path(db_dir) / db_id
    return [folder / name for name in sorted(os.listdir(folder)) if ".sqlite" in name]


def _exec_prepare(pred: str, gold: str, keep_distinct: bool) -> tuple[str, str, bool]:
    """Both queries as exec_eval runs them, before ``replace_cur_year``; whether row order matters."""
    pred, gold = postprocess(pred), postprocess(gold)
    if not keep_distinct:
        pred, gold = remove_distinct(pred), remove_distinct(gold)
    return pred, gold, "order by" in gold.lower()


def evaluate_spider(
    gold_path: PathLike,
    pred_path: PathLike,
    db_dir: PathLike,
    tables_path: PathLike,
    *,
    etype: str = "all",
    keep_distinct: bool = False,
    plug_value: bool = False,
    engine: str = "sqlite",
    timeout: float = 30.0,
    workers: int = 8,
    max_rows: int = 10_000_000,
    cache_dir: PathLike | None = None,
    dialect: str = "sqlite",
    suite: PathLike | None = None,
    progress: bool | None = None,
    result_rows: int = RESULT_ROWS,
    backend: str = "local",
    ray_actors: int = 2,
    ray_address: str | None = None,
) -> EvalReport:
    """Evaluate Spider predictions as test-suite-sql-eval's ``evaluation.py`` does (see the module).

    Args:
        gold_path: ``SQL\\tdb_id`` lines (``dev_gold.sql``).
        pred_path: one predicted SQL per line.
        db_dir: folder of ``<db_id>/*.sqlite`` (the Spider ``database`` folder or a test suite).
        tables_path: ``tables.json`` (schemas and foreign keys for exact match and hardness).
        etype: ``all``, ``exec`` (execution only) or ``match`` (exact match only).
        keep_distinct: keep DISTINCT when executing (exact match always ignores it).
        plug_value: a failing prediction also counts as correct when the gold's values plugged
            into its value slots make it match (see the module; for models that predict no values).
        engine, timeout, workers, max_rows, cache_dir: sandbox settings (timeout per query).
        backend: where the queries run: ``local`` (this process's threads) or ``ray`` (``ray_actors`` Ray
            actors joining ``ray_address``, see :mod:`sqlrl.sandbox.ray_service`; the same verdicts).
        dialect: the predictions' dialect; another than ``sqlite`` is transpiled by sqlglot to DuckDB
            and the evaluation runs on DuckDB (``engine`` ignored; a prediction sqlglot cannot
            transpile fails as ``transpile``). Exact match reads SQLite only.
        suite: a folder of test suites (``sqlrl suite build --out``) holding ``<db_id>/`` for every
            database: adds the metric ``suite execution`` (right on every database of the suite, the
            prediction run as for ``execution``) and ``meta["suite"]``, the examples whose verdict it
            flipped (:mod:`sqlrl.eval.on_suite`). Needs execution (``etype`` ``all`` or ``exec``).
        progress: progress bar (None: automatic).
        result_rows: rows of the gold and predicted results kept per example (``extra["results"]``,
            on the first database where the verdict failed, else the first one).

    Returns:
        An :class:`EvalReport` with metrics ``execution`` and/or ``exact match``; each example's
        ``extra`` holds ``components`` (``[gold_total, pred_total, matched]`` per component) and
        ``databases`` (per-file verdicts).
    """
    if etype not in ETYPES:
        raise ValueError(f"etype must be one of {ETYPES}, got {etype!r}")
    started = time.perf_counter()
    gold_sessions = load_spider_gold(gold_path)
    pred_sessions = load_spider_predictions(pred_path)
    _check_counts(gold_sessions, pred_sessions, gold_path, pred_path)
    schemas = _load_schemas(Path(tables_path))
    do_exec = etype in ("all", "exec")
    do_match = etype in ("all", "match")
    if do_exec:
        require_dir(Path(db_dir), "Spider database folder (with <db_id>/*.sqlite)")
    if suite is not None and not do_exec:
        raise ValueError("suite needs execution: etype 'all' or 'exec', not 'match'")

    pairs: list[tuple[int, int, str, str, str]] = []  # (session, turn, gold, pred, db_id)
    for s, (gs, ps) in enumerate(zip(gold_sessions, pred_sessions, strict=True)):
        for t, ((g_sql, db_id), p_sql) in enumerate(zip(gs, ps, strict=True)):
            pairs.append((s, t, g_sql, p_sql.replace("value", "1"), db_id))
    missing = sorted({db for *_, db in pairs if db not in schemas})
    if missing:
        raise MalformedDatasetError(f"{tables_path}: no schema for database(s) {', '.join(missing[:5])}")
    suite_dir = check_suites(suite, [db for *_, db in pairs]) if suite is not None else None

    if do_match:
        matches = [spider_match(g_sql, p_sql, schemas[db_id]) for _, _, g_sql, p_sql, db_id in pairs]
        groups = [m.hardness or "unknown" for m in matches]
    else:  # execution only: the gold's hardness groups the examples, the prediction is not parsed
        matches, groups = [], [_gold_hardness(g_sql, schemas[db_id]) for _, _, g_sql, _, db_id in pairs]

    engine = run_engine(engine, dialect)
    meta = {
        "gold": str(gold_path),
        "pred": str(pred_path),
        "db_dir": str(db_dir),
        "tables": str(tables_path),
        "etype": etype,
        "keep_distinct": keep_distinct,
        "plug_value": plug_value,
        "engine": engine,
        "dialect": dialect,
        "timeout": timeout,
        "sessions": len(gold_sessions),
    }
    exec_plan, tasks = _exec_plan(pairs, db_dir, keep_distinct, prediction_dialect(dialect)) if do_exec else ([], [])
    with evaluation_service(
        engine=engine, timeout=timeout, max_rows=max_rows, text_errors="ignore", cache_dir=cache_dir,
        backend=backend, ray_actors=ray_actors, ray_address=ray_address,
    ) as pool:  # fmt: skip
        results = pool.run(tasks, workers=workers, progress=progress, desc="spider")
        examples, gold_results = _examples(pairs, groups, matches, exec_plan, results, do_exec, result_rows)
        if do_exec and plug_value:
            _plug_values(examples, gold_results, exec_plan, pool, workers, progress, prediction_dialect(dialect))
        report = _report(examples, do_exec, do_match, meta)
        if suite_dir is not None:
            runs = [
                SuiteRun(gold_x, replace_cur_year(ex.extra["plugged"]) if "plugged" in ex.extra else pred_x,
                         order_matters, ex.gold)
                for ex, (_, pred_x, gold_x, order_matters, *_) in zip(examples, exec_plan, strict=True)
            ]  # fmt: skip
            score_on_suites(
                report, runs, suite_dir, pool, base="execution", metric="suite execution", mode="spider",
                dialect=prediction_dialect(dialect), progress=progress,
            )  # fmt: skip
    meta["seconds"] = round(time.perf_counter() - started, 3)
    return report


def _exec_plan(
    pairs: Sequence[tuple[int, int, str, str, str]], db_dir: PathLike, keep_distinct: bool, dialect: str | None = None
) -> tuple[list[tuple[list[Path] | str, str, str, bool, str, str]], list[tuple[Any, ...]]]:
    """Per pair: its database files (or why there are none), the texts to run and whether order matters;
    and the ``(database, sql)`` queries to run, gold then prediction on every database file."""
    variants: dict[str, list[Path] | str] = {}
    exec_plan: list[tuple[list[Path] | str, str, str, bool, str, str]] = []
    tasks: list[tuple[Any, ...]] = []
    for _, _, g_sql, p_sql, db_id in pairs:
        if db_id not in variants:
            try:
                variants[db_id] = exec_variants(db_dir, db_id) or f"no .sqlite file in {Path(db_dir) / db_id}"
            except OSError as e:
                variants[db_id] = f"cannot list {Path(db_dir) / db_id}: {e}"
        pred_p, gold_p, order_matters = _exec_prepare(p_sql, g_sql, keep_distinct)
        pred_x, gold_x = replace_cur_year(pred_p), replace_cur_year(gold_p)
        exec_plan.append((variants[db_id], pred_x, gold_x, order_matters, pred_p, gold_p))
        dbs = variants[db_id]
        if not isinstance(dbs, str):
            for db in dbs:
                tasks.append((db, gold_x))
                tasks.append((db, pred_x, None, dialect))
    return exec_plan, tasks


def _load_schemas(path: Path) -> dict[str, Schema]:
    """Every schema of ``tables.json`` by ``db_id``; a bad file or entry is named in the error."""
    what = "Spider schemas (tables.json)"
    out = {}
    for i, entry in enumerate(read_json_list(path, what)):
        try:
            out[entry["db_id"]] = Schema.from_tables_json(entry)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            detail = f"missing field {e}" if isinstance(e, KeyError) else str(e)
            raise MalformedDatasetError(f"{path}: entry {i} is not a {what} entry: {detail}") from None
    return out


def _gold_hardness(gold: str, schema: Schema) -> str:
    try:
        return spider_hardness(gold, schema)
    except SpiderParseError:
        return "unknown"


def _examples(
    pairs: Sequence[tuple[int, int, str, str, str]],
    groups: Sequence[str],
    matches: Sequence[Any],
    exec_plan: Sequence[tuple[Any, ...]],
    results: Sequence[Any],
    do_exec: bool,
    result_rows: int = 0,
) -> tuple[list[ExampleResult], list[list[Any]]]:
    """One :class:`ExampleResult` per pair from the exact-match verdicts (when ``matches``) and the
    execution results, and the gold's results on each database of each pair."""
    examples: list[ExampleResult] = []
    all_gold_results: list[list[Any]] = []
    k = 0
    for i, (s, t, g_sql, p_sql, db_id) in enumerate(pairs):
        ex = ExampleResult(index=i, db_id=db_id, group=groups[i], gold=g_sql, pred=p_sql)
        ex.extra["session"], ex.extra["turn"] = s, t
        if matches:
            m = matches[i]
            ex.metrics["exact match"] = float(m.exact)
            ex.extra["components"] = {name: [c.gold_total, c.pred_total, c.matched] for name, c in m.components.items()}
            if m.pred_error is not None:
                ex.extra["pred_parse_error"] = str(m.pred_error)
            if m.gold_error is not None:
                ex.extra["gold_parse_error"] = str(m.gold_error)
        all_gold_results.append([])
        if do_exec:
            dbs, pred_x, gold_x, order_matters = exec_plan[i][:4]
            ok, verdicts, gold_results = 1.0, {}, all_gold_results[-1]
            shown: tuple[Any, Any, str] | None = None  # the results kept: where it failed, else the first
            if isinstance(dbs, str):
                ok, ex.error_kind, ex.error = 0.0, "missing_database", dbs
            else:
                for db in dbs:
                    g_res, p_res = results[k], results[k + 1]
                    gold_results.append(g_res)
                    k += 2
                    ex.elapsed += g_res.elapsed + p_res.elapsed
                    if ok == 0.0:
                        continue  # the official loop stops at the first failing database
                    if not g_res.ok:
                        ok, ex.error_kind = 0.0, "gold_error"
                        ex.error = f"gold fails on {db.name}: {g_res.error_kind}: {g_res.error}"
                    elif not p_res.ok:
                        ok, ex.error_kind = 0.0, str(getattr(p_res.error_kind, "value", p_res.error_kind))
                        ex.error = f"{db.name}: {p_res.error}"
                    elif not compare(g_res.table, p_res.table, mode="spider", order_matters=order_matters):
                        ok = 0.0
                    verdicts[db.name] = ok
                    if shown is None or ok == 0.0:  # (the loop skips the databases after a failure)
                        shown = (g_res, p_res, db.name)
            if shown is not None:
                record_results(ex, shown[0], shown[1], result_rows, mode="spider", order_matters=order_matters,
                               database=shown[2])  # fmt: skip
            ex.metrics["execution"] = ok
            ex.extra["order_matters"] = order_matters
            ex.extra["databases"] = verdicts
        examples.append(ex)
    return examples, all_gold_results


def _plug_values(
    examples: list[ExampleResult],
    gold_results: Sequence[Sequence[Any]],
    exec_plan: Sequence[tuple[Any, ...]],
    pool: ExecutionService,
    workers: int,
    progress: bool | None,
    dialect: str | None = None,
) -> None:
    """``--plug_value``: try the gold's values in every failing prediction (exec_eval's loop over candidates)."""
    todo = [
        ex for ex in examples
        if ex.metrics.get("execution") == 0.0 and ex.error_kind not in ("gold_error", "missing_database")
        and all(g.ok for g in gold_results[ex.index])
    ]  # fmt: skip

    def attempt(ex: ExampleResult) -> tuple[str | None, int, int]:
        dbs, _, _, order_matters, pred_p, gold_p = exec_plan[ex.index]
        count, cands = plug_candidates(gold_p, pred_p)
        tried = 0
        for cand in cands:
            tried += 1
            sql = replace_cur_year(cand)
            for db, gold in zip(dbs, gold_results[ex.index], strict=True):
                res = pool.execute(db, sql, dialect=dialect)
                if not res.ok or not compare(gold.table, res.table, mode="spider", order_matters=order_matters):
                    break
            else:
                return cand, tried, count
        return None, tried, count

    for ex, (plugged, tried, count) in zip(
        todo, pool.map(attempt, todo, workers=workers, progress=progress, desc="plug_value"), strict=True
    ):
        ex.extra["plug_candidates"], ex.extra["plug_tried"] = count, tried
        if plugged is not None:
            ex.metrics["execution"] = 1.0
            ex.extra["plugged"] = plugged
            if ex.error_kind is not None:
                ex.extra["unplugged_error"] = f"{ex.error_kind}: {ex.error}"
                ex.error_kind, ex.error = None, ""


def _report(
    examples: list[ExampleResult],
    do_exec: bool,
    do_match: bool,
    meta: dict[str, Any],
) -> EvalReport:
    groups = list(LEVELS) + (["unknown"] if any(e.group == "unknown" for e in examples) else [])
    metrics = (["execution"] if do_exec else []) + (["exact match"] if do_match else [])
    report = EvalReport("spider", groups, metrics, examples, meta)
    gold_errors = sum(e.error_kind == "gold_error" for e in examples)
    if gold_errors:
        meta.setdefault("notes", {})["gold_errors"] = f"{gold_errors} gold queries failed to run (official: assert)"
    if do_match:
        meta["partial"] = partial_summary(report)
    return report


def _check_counts(
    gold: Sequence[Sequence[Any]], pred: Sequence[Sequence[Any]], gold_path: PathLike, pred_path: PathLike
) -> None:
    n_gold, n_pred = sum(map(len, gold)), sum(map(len, pred))
    if len(gold) != len(pred):
        raise MalformedDatasetError(
            f"{pred_path} has {len(pred)} sessions ({n_pred} predictions) but {gold_path} has {len(gold)} "
            f"({n_gold} gold queries); blank lines separate sessions"
        )
    for s, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise MalformedDatasetError(
                f"session {s + 1}: {pred_path} has {len(p)} predictions but {gold_path} has {len(g)} gold queries "
                f"(in all {n_pred} vs {n_gold})"
            )


def partial_summary(report: EvalReport) -> dict[str, dict[str, dict[str, float]]]:
    """``{group: {component: {"acc", "rec", "f1"}}}`` per level and ``all``, as evaluation.py aggregates."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for g in [*report.groups, "all"]:
        rows = [e for e in report.examples if (g == "all" or e.group == g) and "components" in e.extra]
        out[g] = {}
        for name in COMPONENTS:
            acc_sum = acc_n = rec_sum = rec_n = 0
            for e in rows:
                gold_total, pred_total, matched = e.extra["components"][name]
                score = int(gold_total == pred_total == matched)
                if pred_total > 0:
                    acc_sum, acc_n = acc_sum + score, acc_n + 1
                if gold_total > 0:
                    rec_sum, rec_n = rec_sum + score, rec_n + 1
            acc = acc_sum / acc_n if acc_n else 0.0
            rec = rec_sum / rec_n if rec_n else 0.0
            f1 = 1.0 if acc == 0 and rec == 0 else 2.0 * acc * rec / (acc + rec)
            out[g][name] = {"acc": acc, "rec": rec, "f1": f1}
    return out


def format_spider_table(report: EvalReport) -> str:
    """The table ``evaluation.py`` prints: count, execution, exact match, partial acc/rec/f1."""
    levels = [*report.groups, "all"]
    summary = report.summary()
    lines: list[str] = []

    def row(name: str, values: Sequence[Any], fmt: str) -> None:
        lines.append(("{:20} " + " ".join([fmt] * len(values))).format(name, *values).rstrip())

    row("", levels, "{:20}")
    row("count", [int(summary[g]["count"]) for g in levels], "{:<20d}")
    if "execution" in report.metrics:
        lines.append("=====================   EXECUTION ACCURACY     =====================")
        row("execution", [summary[g]["execution"] for g in levels], "{:<20.3f}")
        if "suite execution" in report.metrics:
            row("suite execution", [summary[g]["suite execution"] for g in levels], "{:<20.3f}")
    if "exact match" in report.metrics:
        partial = report.meta.get("partial") or partial_summary(report)
        lines.append("")
        lines.append("====================== EXACT MATCHING ACCURACY =====================")
        row("exact match", [summary[g]["exact match"] for g in levels], "{:<20.3f}")
        for title, key in (
            ("\n---------------------PARTIAL MATCHING ACCURACY----------------------", "acc"),
            ("---------------------- PARTIAL MATCHING RECALL ----------------------", "rec"),
            ("---------------------- PARTIAL MATCHING F1 --------------------------", "f1"),
        ):
            lines.append(title)
            for name in COMPONENTS:
                row(name, [partial[g][name][key] for g in levels], "{:<20.3f}")
    return "\n".join(lines)
