"""Distilled test suites: database variants on which a query right by luck on the original fails.

:func:`build_suite` builds one for a database (SQLite, DuckDB or a CSV folder) and its gold queries
(``sqlrl suite build``);
:func:`suite_match` / :func:`suite_verdicts` are the verdict rule: a prediction is right iff it
matches the gold on the original database and on every variant. See docs/suites.md.
"""

from __future__ import annotations

from sqlrl._lazy import lazy_exports

_HOMES = {
    "SUITE_VERSION": "build", "Suite": "build", "build_suite": "build", "read_gold_file": "build",
    "SuiteError": "errors",
    "SuiteVerdict": "verdict", "suite_databases": "verdict", "suite_match": "verdict", "suite_verdicts": "verdict",
    "suite_variants": "verdict", "write_variant": "variants", "write_duckdb_variant": "variants",
}  # fmt: skip
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

__all__ = [
    "SUITE_VERSION",
    "Suite",
    "SuiteError",
    "SuiteVerdict",
    "build_suite",
    "read_gold_file",
    "suite_databases",
    "suite_match",
    "suite_variants",
    "suite_verdicts",
    "write_duckdb_variant",
    "write_variant",
]
