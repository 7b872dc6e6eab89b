"""Spider 2.0-lite evaluation: result CSVs or local SQLite SQL, with the official ``evaluate.py`` semantics.

The official script is xlang-ai/Spider2 ``spider2-lite/evaluation_suite/evaluate.py``. What it
does, and what this module reproduces:

- The instances evaluated are the ids of the settings file (``spider2lite_eval.jsonl``) that
  have a prediction file (``<id>.csv`` in ``exec_result`` mode, ``<id>.sql`` in ``sql`` mode),
  sorted; the score is the fraction of them that match. (It also prints a "real score" over all
  instances of the settings file, 547 in the release.)
- Gold tables: ``<id>.csv`` if it exists, else every ``<id>_<letter>.csv``; a prediction matches
  when it matches any of them.
- Tables are read with ``pandas.read_csv`` and compared by ``compare_pandas_table``: each gold
  column (only the ``condition_cols`` if given) must equal some predicted column vector, NaN
  counted as 0, numbers within ``abs_tol=0.01``, each vector sorted by ``str`` first when
  ``ignore_order``. The vectors are rows of ``DataFrame.transpose()``, so an int column next to a
  float column is compared as floats. That comparison runs in the compiled core (mode
  ``spider2``) on the values the official code would see.
- ``condition_cols`` with several gold variants goes through ``compare_multi_pandas_table``,
  quirks included: a flat list with a single ``_a`` variant uses only its first entry (an entry
  0 then means "all columns").
- ``sql`` mode runs ``<id>.sql`` (the first fenced sql block if there is one) on
  ``<db>.sqlite`` and, as the official script, writes the result to CSV in chunks of 500 rows and
  reads it back before comparing, so text such as ``'007'`` or ``'NA'`` in a text-only column
  becomes ``7`` or NaN. Only ``local*`` instances run; BigQuery (``bq*``, ``ga*``) and other
  instances score 0 with a note, as the script does without credentials.

CSV reading: with pandas installed, pandas itself reads the files (faithful by construction).
Without pandas a built-in reader emulates ``read_csv``'s defaults: the C tokenizer (quotes,
doubled quotes, blank and whitespace-only lines skipped, short rows padded, extra leading fields
of the first row taken as an index), the default NA strings, and the dtype inference (int64 when
every value is an integer, float64 when numeric or when an integer column has NA, bool for
True/TRUE/true/False/FALSE/false, else text). It follows pandas 2.2 on two rare cases where
pandas 3 differs: integers beyond the 64-bit range and exponents that overflow stay text.
``csv_reader="pandas"`` requires pandas, ``"builtin"`` never uses it.

Known difference: the sandbox refuses statements other than queries (``PRAGMA`` ...), which
``pandas.read_sql_query`` would run; ``timeout`` really stops a query (the official script
ignores its ``--timeout`` for local databases).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlrl.data._files import read_text, require_dir
from sqlrl.data.errors import MalformedDatasetError
from sqlrl.errors import SqlrlError
from sqlrl.eval._exec import evaluation_service, prediction_dialect, run_engine
from sqlrl.eval.options import SPIDER2_EVAL_MODES
from sqlrl.eval.report import RESULT_ROWS, EvalReport, ExampleResult, record_results
from sqlrl.sandbox.cache import LRUCache
from sqlrl.sandbox.parallel import parallel_map, resolve_workers

__all__ = [
    "CsvFrame",
    "compare_spider2",
    "evaluate_spider2",
    "extract_sql_query",
    "format_spider2_summary",
    "read_csv",
    "read_csv_text",
    "resolve_gold_paths",
    "result_to_frame",
]

PathLike = str | os.PathLike[str]
CSV_READERS = ("auto", "pandas", "builtin")
#: Rows per chunk when the official script writes a SQL result to CSV.
CHUNK_ROWS = 500

# -- reading CSV as pandas.read_csv does --------------------------------------------------------

#: pandas' default NA strings (``pandas._libs.parsers.STR_NA_VALUES``).
NA_STRINGS = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)  # fmt: skip
_TRUE = frozenset({"True", "TRUE", "true"})
_FALSE = frozenset({"False", "FALSE", "false"})
_INT = re.compile(r"[ \t]*[+-]?[0-9]+[ \t]*")
_FLOAT = re.compile(r"[ \t]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*")
_INF = re.compile(r"[ \t]*[+-]?(?:inf|infinity)[ \t]*", re.IGNORECASE)
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1


class CsvError(SqlrlError, ValueError):
    """A CSV file pandas would refuse (empty, ragged, unterminated quote); the official script scores 0."""


class CsvFrame:
    """A table read from CSV: column names plus a way to get the vectors the official code compares.

    ``columns_values()`` gives each column's values as pandas holds them (``int``, ``float`` with
    NaN, ``bool``, ``str``); ``vectors(cols)`` gives ``df.iloc[:, cols].transpose().values.tolist()``,
    i.e. with the dtype the selected columns share (ints become floats next to a float column).
    """

    def __init__(self, columns: list[str], data: list[list[Any]], kinds: list[str], df: Any = None) -> None:
        self.columns = columns
        self._data = data
        self._kinds = kinds
        self._df = df

    @property
    def num_columns(self) -> int:
        return len(self.columns)

    @property
    def num_rows(self) -> int:
        if self._df is not None:
            return int(self._df.shape[0])
        return len(self._data[0]) if self._data else 0

    def columns_values(self) -> list[list[Any]]:
        if self._df is not None:
            return [self._df.iloc[:, j].tolist() for j in range(self._df.shape[1])]
        return [list(c) for c in self._data]

    def vectors(self, cols: Sequence[int] | None = None) -> list[list[Any]]:
        """The column vectors of ``cols`` (all columns when None), as the official transpose gives them.

        Raises:
            IndexError: a column index out of range (negative indices count from the end).
            TypeError: an index that is not an integer.
        """
        if self._df is not None:
            sub = self._df if cols is None else self._df.iloc[:, list(cols)]
            # == sub.transpose().values.tolist(): both interleave the columns into one common dtype
            return sub.values.T.tolist()
        idx = list(range(len(self.columns))) if cols is None else [_position(c, len(self.columns)) for c in cols]
        kinds = [self._kinds[j] for j in idx]
        vecs = [list(self._data[j]) for j in idx]
        if not vecs or not vecs[0]:
            return vecs
        kset = set(kinds)
        if "object" in kset or ("bool" in kset and len(kset) > 1) or kset == {"bool"}:
            return vecs
        if kset <= {"int"} or kset <= {"uint"}:
            return vecs
        return [[float(v) for v in vec] for vec in vecs]  # int64 with float64 (or with uint64) -> float64

    def table(self, cols: Sequence[int] | None = None) -> Any:
        """The vectors as a core table (rows), ready for :func:`sqlrl.scoring.compare`."""
        from sqlrl.scoring import as_table

        vecs = self.vectors(cols)
        names = [f"c{j}" for j in range(len(vecs))]
        return as_table(list(zip(*vecs, strict=True)) if vecs else [], columns=names)


def _position(c: Any, n: int) -> int:
    if isinstance(c, bool) or not isinstance(c, int):
        raise TypeError(f"column index must be an integer, got {c!r}")
    j = c + n if c < 0 else c
    if not 0 <= j < n:
        raise IndexError("positional indexers are out-of-bounds")
    return j


def _have_pandas() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def _use_pandas(reader: str) -> bool:
    if reader not in CSV_READERS:
        raise ValueError(f"csv_reader must be one of {', '.join(CSV_READERS)}, got {reader!r}")
    if reader == "builtin":
        return False
    if reader == "pandas":
        if not _have_pandas():
            raise ImportError("csv_reader='pandas' needs pandas: pip install pandas (or use csv_reader='builtin')")
        return True
    return _have_pandas()


def read_csv(path: PathLike, *, reader: str = "auto") -> CsvFrame:
    """Read a CSV file as ``pandas.read_csv(path)`` would (see the module docs).

    Raises:
        CsvError: pandas would raise (no columns, too many fields, unterminated quote).
        UnicodeDecodeError: the file is not UTF-8.
        OSError: the file cannot be read.
    """
    if _use_pandas(reader):
        import pandas as pd

        try:
            return _frame_from_pandas(pd.read_csv(path))
        except (pd.errors.EmptyDataError, pd.errors.ParserError) as e:
            raise CsvError(str(e)) from None
    data = Path(path).read_bytes()
    return _parse(data.decode("utf-8"))


def read_csv_text(text: str, *, reader: str = "auto") -> CsvFrame:
    """:func:`read_csv` on a string."""
    if _use_pandas(reader):
        import pandas as pd

        try:
            return _frame_from_pandas(pd.read_csv(io.StringIO(text)))
        except (pd.errors.EmptyDataError, pd.errors.ParserError) as e:
            raise CsvError(str(e)) from None
    return _parse(text)


def _frame_from_pandas(df: Any) -> CsvFrame:
    return CsvFrame([str(c) for c in df.columns], [], [], df=df)


def _tokenize(text: str) -> list[list[str]]:
    """Records of ``text`` as pandas' C tokenizer splits them with the default dialect."""
    records: list[list[str]] = []
    n = len(text)
    i = 0
    if text.startswith("\ufeff"):
        i = 1
    while i < n:
        # start of a record: skip blank and whitespace-only lines
        j = i
        while j < n and text[j] in " \t":
            j += 1
        if j >= n:
            break
        if text[j] in "\r\n":
            i = j + (2 if text.startswith("\r\n", j) else 1)
            continue
        record: list[str] = []
        field: list[str] = []
        state = "start"
        while True:
            c = text[i] if i < n else None
            if state == "quoted":
                if c is None:
                    raise CsvError("Error tokenizing data. C error: EOF inside string")
                i += 1
                if c == '"':
                    if i < n and text[i] == '"':
                        field.append('"')
                        i += 1
                    else:
                        state = "after_quote"
                else:
                    field.append(c)
                continue
            if c is None or c in "\r\n":
                record.append("".join(field))
                if c is not None:
                    i += 2 if text.startswith("\r\n", i) else 1
                break
            i += 1
            if c == ",":
                record.append("".join(field))
                field = []
                state = "start"
            elif c == '"' and state == "start":
                state = "quoted"
            else:
                field.append(c)
                state = "field"
        records.append(record)
    return records


def _infer(values: list[str]) -> tuple[str, list[Any]]:
    """The dtype pandas infers for a column of raw strings, and the values it holds."""
    na = [v in NA_STRINGS for v in values]
    present = [v for v, m in zip(values, na, strict=True) if not m]
    nan = float("nan")
    if not present:
        return "float", [nan] * len(values)
    if any(_INT.fullmatch(v) and int(v) > _INT64[1] for v in present):
        # pandas tries uint64 after an int64 overflow; when that fails too, it keeps the raw strings
        if not any(na) and all(_INT.fullmatch(v) and 0 <= int(v) <= _UINT64_MAX for v in present):
            return "uint", [int(v) for v in present]
        return "object", list(values)
    if all(_INT.fullmatch(v) for v in present):
        ints = [int(v) for v in present]
        if any(na):
            return "float", [nan if m else float(int(v)) for v, m in zip(values, na, strict=True)]
        if all(_INT64[0] <= x for x in ints):
            return "int", ints
        return "object", [nan if m else v for v, m in zip(values, na, strict=True)]
    if all(_FLOAT.fullmatch(v) or _INF.fullmatch(v) for v in present):
        floats = [float(v) for v in present]
        overflow = any(math.isinf(f) and not _INF.fullmatch(v) for f, v in zip(floats, present, strict=True))
        if not overflow:
            it = iter(floats)
            return "float", [nan if m else next(it) for m in na]
        return "object", [nan if m else v for v, m in zip(values, na, strict=True)]
    if all(v in _TRUE or v in _FALSE for v in present):
        if any(na):
            return "object", [nan if m else (v in _TRUE) for v, m in zip(values, na, strict=True)]
        return "bool", [v in _TRUE for v in values]
    return "object", [nan if m else v for v, m in zip(values, na, strict=True)]


def _parse(text: str) -> CsvFrame:
    records = _tokenize(text)
    if not records:
        raise CsvError("No columns to parse from file")
    header, rows = records[0], records[1:]
    width = len(header)
    lead = max(0, len(rows[0]) - width) if rows else 0
    full = width + lead
    for k, r in enumerate(rows):
        if len(r) > full:
            raise CsvError(f"Error tokenizing data. C error: Expected {full} fields in line {k + 2}, saw {len(r)}")
    if not rows:
        return CsvFrame(header, [[] for _ in header], ["object"] * width)
    data, kinds = [], []
    for j in range(lead, full):
        kind, vals = _infer([r[j] if j < len(r) else "" for r in rows])
        data.append(vals)
        kinds.append(kind)
    return CsvFrame(header, data, kinds)


# -- SQL results through the official CSV round trip ----------------------------------------------


def result_to_frame(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, reader: str = "auto") -> CsvFrame:
    """A SQL result as the official ``sql`` mode sees it: written to CSV in chunks of 500 rows, read back.

    With pandas: ``DataFrame.from_records(chunk, coerce_float=True).to_csv(...)`` then
    ``read_csv``. Without: each value written as ``str(value)`` (NULL as an empty field) by the
    ``csv`` module, then the built-in reader; the values read back are the same.
    """
    return read_csv_text(result_to_csv_text(columns, rows, reader=reader), reader=reader)


def result_to_csv_text(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, reader: str = "auto") -> str:
    """The CSV text the official script writes for a SQL result (see :func:`result_to_frame`)."""
    buf = io.StringIO()
    if _use_pandas(reader):
        import pandas as pd

        chunks = [rows[i : i + CHUNK_ROWS] for i in range(0, len(rows), CHUNK_ROWS)] or [[]]
        for k, chunk in enumerate(chunks):
            df = pd.DataFrame.from_records(list(chunk), columns=list(columns), coerce_float=True)
            if not len(chunk):
                df = pd.DataFrame(columns=list(columns))
            df.to_csv(buf, header=k == 0, index=False)
        return buf.getvalue()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if v is None else str(v) for v in r])
    return buf.getvalue()


# -- comparison ----------------------------------------------------------------------------------


def resolve_gold_paths(instance_id: str, gold_dir: PathLike) -> tuple[list[Path], bool]:
    """``(paths, is_single)``: ``<id>.csv`` alone if it exists, else the sorted ``<id>_<letter>.csv``."""
    d = Path(gold_dir)
    base = d / f"{instance_id}.csv"
    if base.exists():
        return [base], True
    if not d.is_dir():
        return [], False
    pattern = re.compile(rf"^{re.escape(instance_id)}(_[a-z])?\.csv$")
    return [d / f for f in sorted(os.listdir(d)) if pattern.match(f)], False


def _variant_condition_cols(condition_cols: Any, n: int, is_single: bool) -> list[Any]:
    """The condition_cols handed to ``compare_pandas_table`` for each gold variant, as the official code picks them."""
    if is_single:
        return [condition_cols]
    multi = condition_cols
    if multi in (None, [], [[]], [None]):
        multi = [[] for _ in range(n)]
    elif n > 1 and not all(isinstance(s, list) for s in multi):
        multi = [multi for _ in range(n)]
    return [multi[i] for i in range(n)]  # IndexError when there are fewer entries than variants


def _selection(cond: Any) -> list[int] | None:
    if not cond:
        return None
    if not isinstance(cond, (list, tuple)):
        cond = [cond]
    return list(cond)


def compare_spider2(
    pred: CsvFrame,
    golds: Sequence[CsvFrame],
    condition_cols: Any = None,
    ignore_order: Any = False,
    *,
    is_single: bool | None = None,
) -> bool:
    """Whether ``pred`` matches any gold variant (``compare_pandas_table`` / ``compare_multi_pandas_table``).

    Raises:
        IndexError, TypeError: bad ``condition_cols`` (the official script then scores 0).
    """
    from sqlrl.scoring import compare

    if not golds:
        return False
    single = len(golds) == 1 if is_single is None else is_single
    conds = _variant_condition_cols(condition_cols, len(golds), single)
    pred_table = pred.table()
    for gold, cond in zip(golds, conds, strict=True):
        gold_table = gold.table(_selection(cond))
        if compare(gold_table, pred_table, mode="spider2", ignore_order=bool(ignore_order)):
            return True
    return False


_SQL_BLOCK = re.compile(r"```sql\n(.*?)\n```", re.DOTALL)


def extract_sql_query(text: str) -> str:
    """The official ``extract_sql_query``: the first ```` ```sql ```` block, stripped, else the text.

    >>> extract_sql_query("Here:\\n```sql\\nSELECT 1\\n```")
    'SELECT 1'
    """
    m = _SQL_BLOCK.search(text)
    return m.group(1).strip() if m else text


# -- evaluation ----------------------------------------------------------------------------------


def _read_jsonl_dict(path: Path, what: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for lineno, line in enumerate(read_text(path, what).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise MalformedDatasetError(f"{path} line {lineno} is not valid JSON ({what}): {e}") from None
        if not isinstance(item, dict) or "instance_id" not in item:
            raise MalformedDatasetError(f"{path} line {lineno}: expected an object with 'instance_id' ({what})")
        out[str(item["instance_id"])] = item
    return out


def _family(instance_id: str) -> str:
    for prefix in ("local", "bq", "ga", "sf"):
        if instance_id.startswith(prefix):
            return prefix
    return "other"


@dataclass
class _Instance:
    iid: str
    cond: Any
    ignore_order: Any
    db: str | None = None
    sql: str = ""


def evaluate_spider2(
    pred_dir: PathLike,
    gold_dir: PathLike,
    *,
    mode: str = "sql",
    eval_config: PathLike | None = None,
    tasks: PathLike | None = None,
    db_dir: PathLike | None = None,
    engine: str = "sqlite",
    timeout: float = 60.0,
    workers: int = 8,
    csv_reader: str = "auto",
    save_csv_dir: PathLike | None = None,
    local_only: bool = False,
    cache_dir: PathLike | None = None,
    max_rows: int = 10_000_000,
    dialect: str = "sqlite",
    progress: bool | None = None,
    result_rows: int = RESULT_ROWS,
    backend: str = "local",
    ray_actors: int = 2,
    ray_address: str | None = None,
) -> EvalReport:
    """Evaluate a Spider 2.0-lite submission folder as ``evaluate.py --mode exec_result|sql`` does.

    Args:
        pred_dir: the submission folder (``<id>.csv`` or ``<id>.sql`` files).
        gold_dir: the gold folder with ``exec_result/`` and ``spider2lite_eval.jsonl``.
        mode: ``sql`` (run local SQLite SQL first; the official default) or ``exec_result`` (compare CSVs).
        eval_config: the settings file (default ``<gold_dir>/spider2lite_eval.jsonl``).
        tasks: ``spider2-lite.jsonl`` mapping instances to databases (``sql`` mode; default
            ``<gold_dir>/../../spider2-lite.jsonl`` as the official script finds it).
        db_dir: folder of ``<db>.sqlite`` (default ``<tasks folder>/resource/databases``; a
            ``spider2-localdb/`` subfolder is searched too).
        engine: ``sqlite`` or ``duckdb`` for ``sql`` mode.
        timeout: seconds per query (``sql`` mode).
        workers: threads; ``-1`` = all cores.
        csv_reader: ``auto`` (pandas when installed), ``pandas`` or ``builtin``.
        save_csv_dir: ``sql`` mode: write each prediction's result CSV here (the official script
            writes ``<pred_dir>_csv``).
        local_only: evaluate only ``local*`` instances (official: every instance with a file).
        cache_dir: where DuckDB copies of the databases are cached.
        backend: where the queries run: ``local`` (this process's threads) or ``ray`` (``ray_actors`` Ray
            actors joining ``ray_address``, see :mod:`sqlrl.sandbox.ray_service`; the same verdicts).
        dialect: the predictions' dialect; another than ``sqlite`` is transpiled by sqlglot to DuckDB
            and the evaluation runs on DuckDB (``sql`` mode) (``engine`` ignored; a prediction sqlglot cannot
            transpile fails as ``transpile``).
        max_rows: rows kept per result (flagged ``truncated`` when more).
        progress: progress bar (None: for 200+ instances on a terminal).
    """
    t_start = time.perf_counter()
    if mode not in SPIDER2_EVAL_MODES:
        raise ValueError(f"mode must be one of {', '.join(SPIDER2_EVAL_MODES)}, got {mode!r}")
    _use_pandas(csv_reader)  # fail early on a bad reader or pandas missing
    workers = resolve_workers(workers)
    pdir, gdir = Path(pred_dir), Path(gold_dir)
    require_dir(pdir, "Spider 2.0 prediction folder")
    require_dir(gdir, "Spider 2.0 gold folder (with exec_result/)")
    cfg_path = Path(eval_config) if eval_config is not None else gdir / "spider2lite_eval.jsonl"
    standard = _read_jsonl_dict(cfg_path, "Spider 2.0 evaluation settings ({instance_id, condition_cols, ...})")
    suffix = ".csv" if mode == "exec_result" else ".sql"
    pred_ids = {Path(f).stem for f in os.listdir(pdir) if f.endswith(suffix)}
    eval_ids = sorted(set(standard) & pred_ids)
    if local_only:
        eval_ids = [i for i in eval_ids if i.startswith("local")]
    exec_dir = gdir / "exec_result"

    metadata: dict[str, dict[str, Any]] = {}
    db_base: Path | None = None
    if mode == "sql":
        tasks_path = Path(tasks) if tasks is not None else gdir.resolve().parent.parent / "spider2-lite.jsonl"
        metadata = _read_jsonl_dict(tasks_path, "Spider 2.0-lite tasks (spider2-lite.jsonl)")
        db_base = Path(db_dir) if db_dir is not None else tasks_path.parent / "resource" / "databases"
        if any(i.startswith("local") for i in eval_ids):
            require_dir(db_base, "Spider 2.0 database folder (with <db>.sqlite; --db-dir)")

    instances = [
        _Instance(iid, standard[iid].get("condition_cols"), standard[iid].get("ignore_order", False))
        for iid in eval_ids
    ]
    examples = [
        ExampleResult(index=k, db_id="", group=_family(inst.iid), gold="", pred="", extra={"instance_id": inst.iid})
        for k, inst in enumerate(instances)
    ]
    pred_frames: list[CsvFrame | None] = [None] * len(instances)

    if mode == "sql":
        assert db_base is not None
        paths = [_sql_task(inst, ex, pdir, metadata, db_base) for inst, ex in zip(instances, examples, strict=True)]
        todo = [k for k, path in enumerate(paths) if path is not None]
        engine, pred_dialect = run_engine(engine, dialect), prediction_dialect(dialect)
        with evaluation_service(
            engine=engine, timeout=timeout, max_rows=max_rows, cache_dir=cache_dir,
            backend=backend, ray_actors=ray_actors, ray_address=ray_address,
        ) as pool:  # fmt: skip
            results = pool.run(
                [(paths[k], instances[k].sql, None, pred_dialect) for k in todo],
                workers=workers, progress=progress, desc="spider2 sql",
            )  # fmt: skip
        save = Path(save_csv_dir) if save_csv_dir is not None else None
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
        for k, r in zip(todo, results, strict=True):
            csv_path = None if save is None else save / f"{instances[k].iid}.csv"
            pred_frames[k] = _result_frame(r, examples[k], csv_reader, csv_path)

    load_gold = _gold_loader(csv_reader)

    def score_one(k: int) -> None:
        inst, ex = instances[k], examples[k]
        t0 = time.perf_counter()
        ex.metrics["ex"] = 0.0
        if mode == "exec_result":
            try:
                pred_frames[k] = read_csv(pdir / f"{inst.iid}.csv", reader=csv_reader)
                ex.extra["pred_rows"] = pred_frames[k].num_rows
            except Exception as e:  # noqa: BLE001 - the official script scores 0 on any failure
                ex.error_kind, ex.error = "evaluation_error", f"Evaluation Error: {e}"
        pred = pred_frames[k]
        if pred is not None:
            _score_instance(inst, ex, pred, exec_dir, load_gold, result_rows)
        ex.elapsed += time.perf_counter() - t0

    parallel_map(score_one, range(len(instances)), workers=workers, progress=progress, desc="spider2")

    groups = [g for g in ("local", "bq", "ga", "sf", "other") if any(e.group == g for e in examples)]
    report = EvalReport("spider2", groups, ["ex"], examples)
    report.meta = {
        "mode": mode,
        "pred_dir": str(pdir),
        "gold_dir": str(gdir),
        "eval_config": str(cfg_path),
        "engine": engine if mode == "sql" else None,
        "dialect": dialect if mode == "sql" else None,
        "timeout": timeout if mode == "sql" else None,
        "csv_reader": "pandas" if _use_pandas(csv_reader) else "builtin",
        "workers": workers,
        "local_only": local_only,
        "num_instances": len(standard),
        "num_predictions": len(pred_ids),
        "num_evaluated": len(examples),
        "correct": int(sum(e.metrics.get("ex", 0.0) for e in examples)),
        "seconds": round(time.perf_counter() - t_start, 3),
    }
    return report


def _sql_task(inst: _Instance, ex: ExampleResult, pdir: Path, metadata: dict[str, Any], db_base: Path) -> Path | None:
    """SQL mode: read the instance's query and find its database; None (with the reason on ``ex``) when it
    cannot run locally."""
    try:
        inst.sql = extract_sql_query((pdir / f"{inst.iid}.sql").read_text())
    except (OSError, UnicodeDecodeError) as e:
        ex.error_kind, ex.error = "evaluation_error", f"Evaluation Error: {e}"
        return None
    ex.pred = inst.sql
    if inst.iid.startswith(("bq", "ga")):
        ex.error_kind, ex.error = "unsupported", "BigQuery instance: not run locally"
        return None
    if not inst.iid.startswith("local"):
        ex.error_kind, ex.error = "unsupported", f"Unsupported instance id prefix: {inst.iid}"
        return None
    inst.db = metadata.get(inst.iid, {}).get("db")
    if not inst.db:
        ex.error_kind, ex.error = "missing_database", f"Missing database mapping for {inst.iid}"
        return None
    ex.db_id = inst.db
    path = db_base / f"{inst.db}.sqlite"
    if not path.exists() and (db_base / "spider2-localdb" / f"{inst.db}.sqlite").exists():
        path = db_base / "spider2-localdb" / f"{inst.db}.sqlite"
    return path


def _result_frame(r: Any, ex: ExampleResult, csv_reader: str, save: Path | None) -> CsvFrame | None:
    """SQL mode: the prediction's result as the frame the official script reads back from its CSV file."""
    ex.elapsed = r.elapsed
    if not r.ok:
        ex.error_kind, ex.error = str(r.error_kind), r.error
        return None
    ex.extra["pred_rows"] = r.num_rows
    if r.truncated:
        ex.extra["truncated"] = True
    text = result_to_csv_text(r.columns, r.rows, reader=csv_reader)
    if save is not None:
        save.write_text(text, encoding="utf-8")
    try:
        return read_csv_text(text, reader=csv_reader)
    except (CsvError, ValueError) as e:
        ex.error_kind, ex.error = "evaluation_error", f"Evaluation Error: {e}"
        return None


def _gold_loader(csv_reader: str) -> Callable[[Path], CsvFrame]:
    """Reads each gold CSV once, whatever the number of threads asking; a file that fails raises at every use."""
    cache: LRUCache[Any] = LRUCache(maxsize=1 << 16)

    def read(path: Path) -> Any:
        try:
            return read_csv(path, reader=csv_reader)
        except Exception as e:  # noqa: BLE001 - cached like the frame, re-raised per use
            return e

    def load(path: Path) -> CsvFrame:
        got = cache.get_or_compute(str(path), lambda: read(path))
        if isinstance(got, Exception):
            raise got
        return got

    return load


def _score_instance(
    inst: _Instance,
    ex: ExampleResult,
    pred: CsvFrame,
    exec_dir: Path,
    load_gold: Callable[[Path], CsvFrame],
    result_rows: int = 0,
) -> None:
    """The official comparison of one prediction with its gold variants (the first variant's rows are kept
    with the prediction's, ``result_rows`` of each)."""
    paths, single = resolve_gold_paths(inst.iid, exec_dir)
    ex.extra["gold_files"] = [p.name for p in paths]
    if not paths:
        ex.error_kind, ex.error = "missing_gold", "No matching gold file found"
        return
    try:
        golds = [load_gold(p) for p in paths]
        cond = _variant_condition_cols(inst.cond, len(golds), single)[0]
        record_results(
            ex, _frame_rows(golds[0]), _frame_rows(pred), result_rows, mode="spider2",
            ignore_order=bool(inst.ignore_order), condition_cols=_selection(cond), gold_file=paths[0].name,
        )  # fmt: skip
        ok = compare_spider2(pred, golds, inst.cond, inst.ignore_order, is_single=single)
        ex.metrics["ex"] = 1.0 if ok else 0.0
        if not ok:
            ex.extra["error_info"] = "Result Error"
    except Exception as e:  # noqa: BLE001 - "Python Script Error" in the official script
        ex.error_kind, ex.error = "compare_error", f"Python Script Error:{e}"


def _frame_rows(frame: CsvFrame) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A frame's column names and rows (its values as the comparison reads them)."""
    values = frame.columns_values()
    return list(frame.columns), list(zip(*values, strict=True)) if values else []


def format_spider2_summary(report: EvalReport) -> str:
    """The official closing lines: the score over evaluated instances and over all instances."""
    n = len(report.examples)
    correct = int(sum(e.metrics.get("ex", 0.0) for e in report.examples))
    total = int(report.meta.get("num_instances") or n)
    lines = []
    if n:
        lines.append(f"Final score: {correct / n}, Correct examples: {correct}, Total examples: {n}")
    else:
        lines.append("No overlapping prediction IDs with gold set. Nothing to evaluate.")
    if total:
        lines.append(f"Real score: {correct / total}, Correct examples: {correct}, Total examples: {total}")
    return "\n".join(lines)
