"""The SQL layer (sqlglot): find SQL in model output, parse and transpile between dialects,
check syntax without executing, resolve the schema items a query uses, n-gram similarity,
and Spider's structural evaluation (:mod:`sqlrl.sql.spider`).
"""

from __future__ import annotations

from sqlrl._lazy import lazy_exports

# Each name is imported from its module on first use: `sqlrl.sql.extract` (what every reward needs) does
# not pull in sqlglot, whose import is most of the package's import time.
_HOMES = {
    "COMMON_DIALECTS": "dialects", "dialect_names": "dialects", "parse_one": "dialects",
    "resolve_dialect": "dialects", "transpile": "dialects",
    "SqlError": "errors", "SqlParseError": "errors", "TranspileError": "errors", "UnknownDialectError": "errors",
    "Extraction": "extract", "extract_sql": "extract", "clean_sql": "extract",
    "SchemaItems": "linking", "linking_scores": "linking", "schema_items": "linking",
    "ngram_similarity": "ngrams", "ngram_similarity_many": "ngrams", "sql_tokens": "ngrams",
    "DbSchema": "schema", "load_tables_json": "schema",
    "SyntaxCheck": "syntax", "check_syntax": "syntax",
}  # fmt: skip
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

__all__ = [
    "COMMON_DIALECTS",
    "DbSchema",
    "Extraction",
    "SchemaItems",
    "SqlError",
    "SqlParseError",
    "SyntaxCheck",
    "TranspileError",
    "UnknownDialectError",
    "check_syntax",
    "clean_sql",
    "dialect_names",
    "extract_sql",
    "linking_scores",
    "load_tables_json",
    "ngram_similarity",
    "ngram_similarity_many",
    "parse_one",
    "resolve_dialect",
    "schema_items",
    "sql_tokens",
    "transpile",
]
