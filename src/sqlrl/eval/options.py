"""The evaluators' options: their choices, and one dataclass per evaluator whose fields are also the
flags of its command (:func:`add_flags`). Commands build their flags from here without importing an
evaluator (and with it the SQL layer and the sandbox)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from sqlrl._cliutil import dialect as dialect_name
from sqlrl._cliutil import non_negative_int, positive_float, positive_int, workers_int

#: What ``evaluate_spider`` (``sqlrl eval spider --etype``) evaluates.
SPIDER_ETYPES = ("all", "exec", "match")
#: What ``evaluate_spider2`` (``sqlrl eval spider2 --mode``) reads: result CSV files, or SQL files it runs.
SPIDER2_EVAL_MODES = ("exec_result", "sql")
#: BIRD's R-VES timing runs per matching pair, as the official script.
VES_ITERATIONS = 100
#: How BIRD predictions are paired with gold (``--pair-by``).
PAIR_BY = ("position", "key", "question_id")
#: Dataset kinds ``load_examples`` reads (``--dataset`` of eval paverl, generate and verbal).
DATASET_KINDS = ("toy", "spider", "bird", "jsonl", "spider2")
#: Modes of the extra ``ex`` column of ``evaluate_paverl``.
EX_MODES = ("auto", "spider", "bird", "spider2", "none")
#: How Spider 2.0 and PaVeRL read CSV files (``--csv-reader``).
CSV_READERS = ("auto", "pandas", "builtin")
#: Where the evaluators run their queries (``--backend``; :data:`sqlrl.sandbox.ray_service.BACKENDS`).
EXEC_BACKENDS = ("local", "ray")
#: Rows kept per result by the evaluators (the official scripts fetch everything; a truncated result is flagged).
EVAL_MAX_ROWS = 10_000_000

# -- the evaluators' options, each a dataclass field that is also a flag ----------------------------------------

FIXES = "opt-in fixes of the official script (default: its behaviour)"


def option(
    default: Any, help: str, *aliases: str, type: Any = None, choices: Any = None, group: str | None = None
) -> Any:
    """A dataclass field that is also a command-line flag: ``--name-with-dashes`` and ``aliases``, with this
    default, help text, value type and choices; ``group`` puts it in a titled flag group."""
    meta = {"help": help, "aliases": aliases, "type": type, "choices": choices, "group": group}
    return field(default=default, metadata=meta)


@dataclass
class RunOptions:
    """How every evaluator runs its queries."""

    engine: str = option("sqlite", "execution engine (default sqlite)", choices=("sqlite", "duckdb"))
    timeout: float = option(30.0, "seconds per query, really stopped (default 30)", type=positive_float)
    workers: int = option(8, "threads; -1 = all cores (default 8)", type=workers_int)
    max_rows: int = option(EVAL_MAX_ROWS, "rows kept per result (more are flagged truncated)", type=non_negative_int)
    cache_dir: str | None = option(None, "where DuckDB copies of SQLite databases are cached")
    result_rows: int = option(
        20, "rows of the gold and predicted results kept per example in <stem>.jsonl, for sqlrl report "
        "(default 20; 0: none)", type=non_negative_int,
    )  # fmt: skip
    dialect: str = option(
        "sqlite", "dialect the predictions are written in (postgres, mysql, snowflake, bigquery, ...; default "
        "sqlite): another than sqlite is transpiled by sqlglot to DuckDB and everything runs on DuckDB "
        "(SQLite files imported), whatever --engine says", type=dialect_name,
    )  # fmt: skip
    backend: str = option(
        "local", "where queries run: local (this process's threads) or ray (Ray actors, each with its own "
        "sandboxes; pip install 'sqlrl[ray]')", choices=EXEC_BACKENDS,
    )  # fmt: skip
    ray_actors: int = option(2, "Ray actors with --backend ray (default 2)", type=positive_int)
    ray_address: str | None = option(None, "Ray cluster to join with --backend ray (default $RAY_ADDRESS, else local)")


SUITE_HELP = (
    "folder of test suites (sqlrl suite build --out) with <db_id>/ per database: also report execution "
    "accuracy on every database of the suite, and the examples whose verdict it flipped"
)


@dataclass
class SpiderOptions(RunOptions):
    """``evaluate_spider``'s options (``sqlrl eval spider``)."""

    etype: str = option("all", "all, exec or match (default all)", choices=SPIDER_ETYPES)
    keep_distinct: bool = option(False, "keep DISTINCT when executing (official default: removed)", "--keep_distinct")
    plug_value: bool = option(
        False, "also try the gold's values plugged into a failing prediction (for models that predict no values)",
        "--plug_value",
    )  # fmt: skip
    suite: str | None = option(None, SUITE_HELP)


@dataclass
class BirdOptions(RunOptions):
    """``evaluate_bird``'s options (``sqlrl eval bird``); ``metrics`` is comma-separated here."""

    metrics: str = option("ex,soft_f1", "comma-separated: ex, soft_f1, r_ves (default ex,soft_f1)")
    suite: str | None = option(None, SUITE_HELP)
    ves_iterations: int = option(
        VES_ITERATIONS, f"R-VES timing runs per matching pair (official {VES_ITERATIONS})", type=positive_int
    )
    pair_by: str = option(
        "position", "position: i-th prediction in file order with i-th gold (official); key: the prediction key is "
        "the gold position; question_id: the gold's question_id", choices=PAIR_BY, group=FIXES,
    )  # fmt: skip
    missing_as_wrong: bool = option(
        False, "gold entries without a prediction count as wrong (official: left out)", group=FIXES
    )
    empty_as_error: bool = option(
        False, "an empty prediction is an error (official: sqlite runs it, no rows)", group=FIXES
    )
    ves_keep_all: bool = option(
        False, "R-VES: when the outlier filter drops every timing, use them all (official: 0)", group=FIXES
    )
    pred_db: bool = option(
        False, "run predictions on the database their string names (older evaluation.py; no separator = "
        "'financial')", group=FIXES,
    )  # fmt: skip


@dataclass
class Spider2Options(RunOptions):
    """``evaluate_spider2``'s options (``sqlrl eval spider2``); ``save_csv`` is its ``save_csv_dir``."""

    timeout: float = option(60.0, "seconds per query, really stopped (default 60)", type=positive_float)
    mode: str = option(
        "sql", "exec_result: <id>.csv files; sql: <id>.sql files run locally (default, as official)",
        choices=SPIDER2_EVAL_MODES,
    )  # fmt: skip
    eval_config: str | None = option(None, "settings file (default <gold-dir>/spider2lite_eval.jsonl)")
    tasks: str | None = option(None, "spider2-lite.jsonl (sql mode; default <gold-dir>/../../)")
    db_dir: str | None = option(None, "folder of <db>.sqlite (sql mode; default resource/databases)")
    csv_reader: str = option(
        "auto", "auto: pandas when installed, else the built-in read_csv emulation", choices=CSV_READERS
    )
    save_csv: str | None = option(None, "sql mode: write each prediction's result CSV here")
    local_only: bool = option(False, "evaluate only local* instances")


@dataclass
class PaverlOptions(RunOptions):
    """``evaluate_paverl``'s options (``sqlrl eval paverl``)."""

    ex_mode: str = option("auto", "mode of the extra 'ex' column", choices=EX_MODES)
    extract: bool = option(False, "predictions are completions: extract the SQL first")
    gold_via_csv: bool = option(False, "read gold results back from CSV as PaVeRL's gold files are")
    csv_reader: str = option("auto", "how CSV files are read (auto: pandas when installed)", choices=CSV_READERS)


def add_flags(parser: Any, options: type) -> None:
    """Add a flag for every field of the ``options`` dataclass (see :func:`option`): booleans are switches,
    the rest take a value of the field's ``type`` (text when None)."""
    groups: dict[str, Any] = {}
    for f in fields(options):
        meta = f.metadata
        target = parser
        if meta.get("group"):
            target = groups.get(meta["group"]) or groups.setdefault(
                meta["group"], parser.add_argument_group(meta["group"])
            )
        names = ["--" + f.name.replace("_", "-"), *meta.get("aliases", ())]
        if f.default is False:
            target.add_argument(*names, dest=f.name, action="store_true", help=meta["help"])
            continue
        extra = {k: meta[k] for k in ("type", "choices") if meta.get(k) is not None}
        target.add_argument(*names, dest=f.name, default=f.default, help=meta["help"], **extra)
