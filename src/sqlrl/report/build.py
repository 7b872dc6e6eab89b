"""Build a page from command outputs: which page the inputs make, and writing it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlrl.report.eval_page import ROWS, eval_page, examples_page
from sqlrl.report.html import write_page
from sqlrl.report.load import ReportInputError, Run, load_run
from sqlrl.report.train_page import train_page

__all__ = ["build_report", "page_data", "write_eval_html"]


def page_data(
    inputs: list[str | Path],
    *,
    baseline: str | Path | None = None,
    title: str | None = None,
    rows: int = ROWS,
) -> dict[str, Any]:
    """The data of the page for ``inputs``: one eval output (optionally with the generate or verbal output
    that made its predictions, for the questions), or one train, generate or verbal output alone.

    Raises:
        ReportInputError: a missing or broken input, or a combination that makes no page.
    """
    runs = [load_run(p) for p in inputs]
    if not runs:
        raise ReportInputError("nothing to report: give an eval, train, generate or verbal output")
    kinds = [r.kind for r in runs]
    base = load_run(baseline) if baseline is not None else None
    if base is not None and base.kind != "eval":
        raise ReportInputError(f"--baseline {baseline}: a baseline is an eval output (<stem>.json), not {base.kind}")
    evals = [r for r in runs if r.kind == "eval"]
    if "train" in kinds:
        if len(runs) > 1 or base is not None:
            raise ReportInputError("a training run is reported alone (no other input, no --baseline)")
        return train_page(runs[0], title=title)
    if len(evals) > 1:
        raise ReportInputError("give one eval output (compare two with --baseline)")
    companions = [r for r in runs if r.kind in ("generate", "verbal")]
    if len(companions) > 1:
        raise ReportInputError("give at most one generate or verbal output with an eval")
    if evals:
        return eval_page(evals[0], baseline=base, companion=companions[0] if companions else None, rows=rows,
                         title=title)  # fmt: skip
    if base is not None:
        raise ReportInputError("--baseline compares eval outputs: report an eval output with it")
    return examples_page(companions[0], rows=rows, title=title)


def build_report(
    inputs: list[str | Path],
    out: str | Path,
    *,
    baseline: str | Path | None = None,
    title: str | None = None,
    rows: int = ROWS,
) -> Path:
    """Write the page for ``inputs`` (see :func:`page_data`) to ``out``; returns its path."""
    return write_page(page_data(inputs, baseline=baseline, title=title, rows=rows), out)


def write_eval_html(report: Any, path: str | Path, *, rows: int = ROWS, title: str | None = None) -> Path:
    """The page of an :class:`~sqlrl.eval.EvalReport` in memory (``sqlrl eval ... --html PATH``)."""
    run = Run("eval", Path(str(report.meta.get("pred") or report.meta.get("predictions") or report.benchmark)),
              report.to_json(), [asdict(e) for e in report.examples])  # fmt: skip
    return write_page(eval_page(run, rows=rows, title=title), path)
