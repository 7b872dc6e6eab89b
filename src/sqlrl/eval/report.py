"""Evaluation reports: per-example records, the familiar breakdown table, JSON, JSONL and a PNG.

Every evaluator (Spider, BIRD, Spider 2.0, PaVeRL's EX_b/EX_f) fills an :class:`EvalReport`
with one :class:`ExampleResult` per example; the report aggregates by group (Spider hardness,
BIRD difficulty) the way the official scripts print it: a ``count`` row, then one row per metric
with the mean per group and over all examples.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RESULT_ROWS", "EvalReport", "ExampleResult", "record_results", "result_sample"]

#: Rows of each result (gold and prediction) kept per example in the JSONL for ``sqlrl report``.
RESULT_ROWS = 20


@dataclass
class ExampleResult:
    """One evaluated example.

    Attributes:
        index: position in the input files (0-based).
        db_id: database name.
        group: breakdown group (Spider hardness, BIRD difficulty, or ``all``).
        gold, pred: the gold and predicted SQL as evaluated.
        metrics: metric name -> value (verdicts as 0.0/1.0).
        error_kind, error: why the prediction failed to run, if it did.
        elapsed: seconds spent on this example.
        extra: anything evaluator-specific (per-database verdicts, timings, components); with
            ``result_rows`` > 0, ``results`` holds the first rows of the gold and predicted results
            (:func:`record_results`), what ``sqlrl report`` shows and compares.
    """

    index: int
    db_id: str
    group: str
    gold: str
    pred: str
    metrics: dict[str, float] = field(default_factory=dict)
    error_kind: str | None = None
    error: str = ""
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalReport:
    """All results of one evaluation run.

    Attributes:
        benchmark: e.g. ``spider``, ``bird``, ``spider2``.
        groups: breakdown groups in display order (``all`` is added automatically).
        metrics: metric names in display order.
        examples: the per-example results.
        meta: run settings (files, flags, engine, timings) written into the JSON report.
    """

    benchmark: str
    groups: list[str]
    metrics: list[str]
    examples: list[ExampleResult] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{group: {"count": n, metric: mean, ...}}`` including ``all``; empty groups give 0.0."""
        out: dict[str, dict[str, float]] = {}
        for g in [*self.groups, "all"]:
            rows = self.examples if g == "all" else [e for e in self.examples if e.group == g]
            out[g] = {"count": float(len(rows))}
            for m in self.metrics:
                vals = [e.metrics[m] for e in rows if m in e.metrics]
                out[g][m] = sum(vals) / len(vals) if vals else 0.0
        return out

    def table(self, title: str | None = None, scale: float = 1.0, digits: int = 3) -> Any:
        """The breakdown as a rich table: columns are groups, rows are count and metrics."""
        summary = self.summary()
        cols = [*self.groups, "all"]
        from rich.table import Table as RichTable

        t = RichTable(title=title or f"{self.benchmark} evaluation")
        t.add_column("")
        for g in cols:
            t.add_column(g, justify="right")
        t.add_row("count", *(str(int(summary[g]["count"])) for g in cols))
        for m in self.metrics:
            t.add_row(m, *(f"{summary[g][m] * scale:.{digits}f}" for g in cols))
        return t

    def print(self, console: Any = None, **kwargs: Any) -> None:
        """Print :meth:`table` on ``console`` (a rich console; default: a new one)."""
        if console is None:
            from rich.console import Console

            console = Console()
        console.print(self.table(**kwargs))

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "groups": self.groups,
            "metrics": self.metrics,
            "summary": self.summary(),
            "meta": self.meta,
            "errors": self.error_counts(),
        }

    def unjudged(self) -> list[ExampleResult]:
        """The examples scored 0 whatever the prediction: their gold query failed or their gold file is
        missing (``gold_error``, ``gold_<kind>``, ``missing_gold``), or their database cannot be
        opened (``missing_database``, unless it is the database a prediction named itself)."""
        out = []
        for e in self.examples:
            kind = e.error_kind or ""
            if "gold_error" in e.extra or kind.startswith("gold_") or kind == "missing_gold":
                out.append(e)
            elif kind == "missing_database" and "pred_db" not in e.extra:
                out.append(e)
        return out

    def error_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.examples:
            if e.error_kind:
                counts[e.error_kind] = counts.get(e.error_kind, 0) + 1
        return counts

    def write(self, out_dir: str | Path, stem: str | None = None, chart: bool = True) -> dict[str, Path]:
        """Write ``<stem>.json`` (summary), ``<stem>.jsonl`` (per example) and ``<stem>.png``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = stem or self.benchmark
        paths = {"json": out / f"{stem}.json", "jsonl": out / f"{stem}.jsonl"}
        paths["json"].write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False, default=str) + "\n")
        with paths["jsonl"].open("w", encoding="utf-8") as f:
            for e in self.examples:
                f.write(json.dumps(asdict(e), ensure_ascii=False, default=str) + "\n")
        if chart and _can_plot():
            paths["png"] = out / f"{stem}.png"
            self.plot(paths["png"])
        return paths

    def plot(self, path: str | Path) -> Path:
        """A grouped bar chart of every metric by group."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        summary = self.summary()
        cols = [*self.groups, "all"]
        n = max(1, len(self.metrics))
        width = 0.8 / n
        fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(cols), 4.2), dpi=110)
        for k, m in enumerate(self.metrics):
            xs = [i + (k - (n - 1) / 2) * width for i in range(len(cols))]
            ys = [summary[g][m] * 100 for g in cols]
            ax.bar(xs, ys, width=width * 0.95, label=m)
            for x, y in zip(xs, ys, strict=True):
                ax.text(x, y + 1, f"{y:.1f}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels([f"{g}\n(n={int(summary[g]['count'])})" for g in cols])
        ax.set_ylim(0, 110)
        ax.set_ylabel("score (%)")
        ax.set_title(f"{self.benchmark}: {', '.join(self.metrics)}")
        ax.legend(loc="upper right", fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return Path(path)


def _json_cell(value: Any) -> Any:
    """A result cell as JSON keeps it: numbers, text and NULL as they are; a non-finite float as
    ``{"float": "nan"}`` (JSON has no NaN), bytes as ``{"bytes": hex}``, anything else as its text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else {"float": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": bytes(value).hex()}
    return str(value)


def result_sample(columns: Any, rows: Any, limit: int, *, num_rows: int | None = None) -> dict[str, Any]:
    """The first ``limit`` rows of a result, JSON-ready: ``{"columns", "rows", "num_rows"}``.

    >>> result_sample(["a"], [(1,), (2.5,), (None,)], 2)
    {'columns': ['a'], 'rows': [[1], [2.5]], 'num_rows': 3}
    """
    total = len(rows) if num_rows is None else num_rows
    rows = list(rows[:limit]) if limit > 0 else []
    return {
        "columns": [str(c) for c in columns],
        "rows": [[_json_cell(v) for v in row] for row in rows],
        "num_rows": total,
    }


def record_results(ex: ExampleResult, gold: Any, pred: Any, limit: int, **how: Any) -> None:
    """Keep the first ``limit`` rows of the gold and predicted results on ``ex.extra["results"]`` with how
    the verdict compared them (``how``: ``mode``, ``order_matters``, ``ignore_order``, ``condition_cols``).

    ``gold`` and ``pred`` are :class:`~sqlrl.sandbox.ExecResult` s that ran, ``(columns, rows)`` pairs, or
    None (not run or failed). Nothing is kept when ``limit`` is 0.
    """
    if limit <= 0:
        return
    out: dict[str, Any] = {k: v for k, v in how.items() if v is not None}
    for side, res in (("gold", gold), ("pred", pred)):
        if res is None:
            continue
        if isinstance(res, tuple):
            columns, rows = res
            out[side] = result_sample(columns, rows, limit, num_rows=len(rows))
        elif getattr(res, "ok", False) and res.rows is not None:
            out[side] = result_sample(res.columns, res.rows, limit, num_rows=len(res.rows))
            if res.truncated:
                out[side]["truncated"] = True
    if "gold" in out or "pred" in out:
        ex.extra["results"] = out


def _can_plot() -> bool:
    """Whether matplotlib is installed; if not, say once on stderr how to get the charts."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is not None:
        return True
    global _SAID_NO_PLOTS
    if not _SAID_NO_PLOTS:
        _SAID_NO_PLOTS = True
        print("note: no chart (matplotlib is not installed: pip install 'sqlrl[plots]')", file=sys.stderr)
    return False


_SAID_NO_PLOTS = False
