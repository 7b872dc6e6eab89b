"""Deprecated alias: the statement checks moved to :mod:`sqlrl.sql.statement`.

Kept so that ``from sqlrl.sandbox.statement import ...`` still works; new code imports from
:mod:`sqlrl.sql.statement` (the sandbox depends on the SQL layer, not the reverse).
"""

from sqlrl.sql.statement import (
    DEFAULT_MAX_SQL_LENGTH,
    QUERY_KEYWORDS,
    STATEMENT_KEYWORDS,
    StatementCheck,
    check_statement,
    check_text,
    first_keyword,
    is_blank,
    keyword_gate,
    normalize_sql,
)

__all__ = [
    "DEFAULT_MAX_SQL_LENGTH",
    "QUERY_KEYWORDS",
    "STATEMENT_KEYWORDS",
    "StatementCheck",
    "check_statement",
    "check_text",
    "first_keyword",
    "is_blank",
    "keyword_gate",
    "normalize_sql",
]
