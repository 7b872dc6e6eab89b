"""One static HTML page from what ``sqlrl eval``, ``train``, ``generate`` and ``verbal`` write.

See docs/report.md. :func:`build_report` reads the outputs (:mod:`sqlrl.report.load`), builds the page
data (:mod:`sqlrl.report.eval_page`, :mod:`sqlrl.report.train_page`, with the result-table marks of
:mod:`sqlrl.report.diff`) and writes one self-contained file (:mod:`sqlrl.report.html`).
"""

from sqlrl._lazy import lazy_exports

__all__ = ["ROWS", "ReportInputError", "build_report", "page_data", "write_eval_html"]
# Read on first use: `sqlrl --help` lists the report command without loading the scoring core.
__getattr__, __dir__ = lazy_exports(
    "sqlrl.report",
    {"ROWS": "eval_page", "ReportInputError": "load", "build_report": "build", "page_data": "build",
     "write_eval_html": "build"},
)  # fmt: skip
