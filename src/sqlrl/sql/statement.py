"""Is a string exactly one read-only query? Cheap text checks, a keyword gate and a sqlglot check.

Three layers, from cheapest to most thorough:

1. :func:`check_text` rejects what cannot be SQL at all (non-strings, NUL bytes, unpaired
   surrogates, overlong text) before any parser sees it.
2. :func:`keyword_gate` looks at the first keyword only (after comments and parentheses).
   Every statement of SQLite and DuckDB starts with a keyword that names its kind, so
   ``INSERT``/``ATTACH``/``PRAGMA``/... are refused here in a microsecond with a clear message.
3. :func:`check_statement` parses with sqlglot and walks the tree: exactly one statement,
   a query at the root, no DML/DDL/``SELECT INTO`` nested anywhere.

Which parser decides? The sandbox's *authoritative* gate is the engine's own parser
(DuckDB: ``extract_statements`` gives the count and the statement type of what will run;
SQLite: ``sqlite3`` refuses a second statement and an authorizer callback refuses any
action other than reading), backed by read-only connections. sqlglot is *advisory*: it
costs 0.1-0.6 ms per query (more than running a Spider query in SQLite), and a parser
different from the engine's is exactly where bypasses hide (a string or comment sqlglot
reads differently could hide a second statement). So when sqlglot cannot parse a text,
that alone is not an error: the engine decides, still in read-only mode. When sqlglot
*can* parse and finds a write, the query is refused without reaching the engine.

The sandbox imports this module for every query, so sqlglot is imported only inside
:func:`check_statement` (an execution reward never loads it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlrl._error_kind import ErrorKind

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

#: Queries longer than this (in characters) are refused before parsing. Parsing is not covered by the
#: timeout (DuckDB needs ~0.4 s for 400k characters of expression); benchmark queries stay under 10k.
DEFAULT_MAX_SQL_LENGTH = 100_000

#: First keywords of the queries each engine may run.
QUERY_KEYWORDS = {
    "sqlite": frozenset({"SELECT", "WITH", "VALUES"}),
    "duckdb": frozenset({"SELECT", "WITH", "VALUES", "FROM", "TABLE"}),
}

#: First keywords of statements that are not queries (both engines, and a few dialects more).
STATEMENT_KEYWORDS = frozenset(
    """
    INSERT UPDATE DELETE REPLACE MERGE UPSERT CREATE DROP ALTER TRUNCATE RENAME COMMENT
    ATTACH DETACH COPY EXPORT IMPORT INSTALL LOAD FORCE UNINSTALL SET RESET PRAGMA CALL EXECUTE
    PREPARE DEALLOCATE EXPLAIN DESCRIBE DESC SHOW SUMMARIZE PIVOT UNPIVOT USE BEGIN START
    COMMIT END ROLLBACK ABORT SAVEPOINT RELEASE CHECKPOINT VACUUM ANALYZE REINDEX GRANT REVOKE
    LOCK UNLOCK REFRESH CACHE UNCACHE OPTIMIZE KILL
    """.split()
)

_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*(?:(?!\*/).)*\*/|\()*", re.S)
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
# A block comment may be unterminated (SQLite reads it to the end of the text); it never spans a "*/".
_BLANK = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*(?:(?!\*/).)*(?:\*/|\Z)|;)*", re.S)
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(sql: object, max_length: int = DEFAULT_MAX_SQL_LENGTH) -> tuple[ErrorKind, str] | None:
    """Refuse what cannot be SQL text; None when the text may go on to a parser.

    >>> check_text("SELECT 1") is None
    True
    >>> check_text("SELECT '\\x00'")[0].value
    'invalid_input'
    """
    if not isinstance(sql, str):
        return ErrorKind.INVALID_INPUT, f"SQL must be a str, got {type(sql).__name__}"
    if len(sql) > max_length:
        return ErrorKind.INVALID_INPUT, f"SQL is {len(sql):,} characters long; the limit is {max_length:,}"
    if "\x00" in sql:
        return ErrorKind.INVALID_INPUT, f"SQL contains a NUL character at position {sql.index(chr(0))}"
    if not sql.isascii():
        m = _SURROGATE.search(sql)
        if m is not None:
            return (
                ErrorKind.INVALID_INPUT,
                f"SQL is not valid Unicode: lone surrogate at position {m.start()}",
            )
    return None


def is_blank(sql: str) -> bool:
    """True when the text holds only whitespace, comments and semicolons.

    >>> is_blank(" -- nothing\\n ; /* here */")
    True
    """
    return _BLANK.fullmatch(sql) is not None


def first_keyword(sql: str) -> str | None:
    """The first word of the text, upper-cased, after whitespace, comments and opening parentheses.

    >>> first_keyword("/* hi */ (( select 1))")
    'SELECT'
    >>> first_keyword("'a'") is None
    True
    """
    m = _WORD.match(sql, _LEADING.match(sql).end())
    return m.group(0).upper() if m else None


def keyword_gate(sql: str, engine: str) -> tuple[ErrorKind, str] | None:
    """Refuse a statement whose first keyword says it is not a query; None lets it through.

    Unknown first words (a typo such as ``SELCT``) pass, so that the engine reports the
    syntax error; the engine-level checks still refuse anything that is not a read.

    >>> keyword_gate("DROP TABLE t", "sqlite")[0].value
    'not_read_only'
    >>> keyword_gate("WITH a AS (SELECT 1) SELECT * FROM a", "duckdb") is None
    True
    """
    head = sql[:6].upper()
    if head == "SELECT" or head[:4] == "WITH":  # most queries, without a regex: a query's first word, or
        return None  # a longer word that no statement starts with (which passes below as well)
    if is_blank(sql):
        return ErrorKind.EMPTY, "no SQL statement in the text"
    word = first_keyword(sql)
    if word is None or word in QUERY_KEYWORDS[engine]:
        return None
    if word in STATEMENT_KEYWORDS:
        allowed = ", ".join(sorted(QUERY_KEYWORDS[engine]))
        return (
            ErrorKind.NOT_READ_ONLY,
            f"only read-only queries may run (starting with {allowed}); got {word}",
        )
    return None


_QUOTED_OR_SPACE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\s+")


def normalize_sql(sql: str) -> str:
    """A cache key for a query: runs of whitespace outside quotes collapsed, trailing ``;`` dropped.

    Nothing that changes the meaning is touched (case, literals, comments inside).

    >>> normalize_sql("SELECT  a\\n FROM t WHERE b = 'x  y' ;")
    "SELECT a FROM t WHERE b = 'x  y'"
    """
    text = _QUOTED_OR_SPACE.sub(lambda m: m.group(0) if m.group(0)[0] in "'\"" else " ", sql)
    return text.strip().rstrip(";").rstrip()


@dataclass(frozen=True)
class StatementCheck:
    """What :func:`check_statement` found.

    ``ok`` is False only when sqlglot parsed the text and found something other than one
    query (``kind`` and ``message`` say what). ``parsed`` is False when sqlglot could not
    parse it: then ``ok`` is True and the engine decides.
    """

    ok: bool
    parsed: bool
    kind: ErrorKind | None = None
    message: str = ""


def _forbidden_types() -> tuple[type, ...]:
    from sqlglot import exp

    names = [
        "DML",
        "DDL",
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Create",
        "Drop",
        "Alter",
        "TruncateTable",
        "Command",
        "Copy",
        "Pragma",
        "Set",
        "Into",
        "Use",
        "Transaction",
        "Commit",
        "Rollback",
        "Attach",
        "Detach",
        "Install",
        "LoadData",
        "Describe",
        "Show",
        "Summarize",
        "Pivot",
        "Refresh",
        "Cache",
        "Uncache",
        "Analyze",
        "Export",
        "Grant",
        "Revoke",
    ]
    return tuple({getattr(exp, n) for n in names if isinstance(getattr(exp, n, None), type)})


_FORBIDDEN: tuple[type, ...] | None = None


def check_statement(sql: str, dialect: str | None = None) -> StatementCheck:
    """Check with sqlglot that ``sql`` is exactly one read-only query.

    Allowed at the root: SELECT (with or without WITH), set operations (UNION, INTERSECT,
    EXCEPT), a parenthesised query, VALUES. Refused anywhere in the tree: DML, DDL,
    ``SELECT ... INTO``, SET/PRAGMA/ATTACH/COPY/INSTALL/LOAD and any statement sqlglot can
    only read as an opaque command (EXPLAIN, CALL, VACUUM, ...).

    Args:
        sql: the query text.
        dialect: sqlglot dialect to read it with (``"sqlite"``, ``"duckdb"``, ...).

    >>> check_statement("SELECT 1 UNION SELECT 2").ok
    True
    >>> c = check_statement("SELECT 1; DROP TABLE t")
    >>> c.ok, c.kind.value
    (False, 'multiple_statements')
    >>> check_statement("SELECT * INTO t2 FROM t", "postgres").kind.value
    'not_read_only'
    >>> check_statement("SELEC nonsense ((", "sqlite").parsed
    False
    """
    global _FORBIDDEN
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    from sqlrl.sql.dialects import reader

    if is_blank(sql):
        return StatementCheck(False, True, ErrorKind.EMPTY, "no SQL statement in the text")
    try:
        trees = [t for t in sqlglot.parse(sql, read=reader(dialect)) if t is not None]
    except (SqlglotError, RecursionError, ValueError):
        return StatementCheck(True, False)
    if not trees:
        return StatementCheck(False, True, ErrorKind.EMPTY, "no SQL statement in the text")
    if len(trees) > 1:
        return StatementCheck(
            False, True, ErrorKind.MULTIPLE_STATEMENTS, f"{len(trees)} statements; exactly one query may run"
        )
    root = trees[0]
    if _FORBIDDEN is None:
        _FORBIDDEN = _forbidden_types()
    if not isinstance(root, (exp.Select, exp.SetOperation, exp.Subquery, exp.Values)):
        return StatementCheck(
            False, True, ErrorKind.NOT_READ_ONLY, f"only read-only queries may run; got {_describe(root)}"
        )
    for node in root.walk():
        if isinstance(node, _FORBIDDEN):
            return StatementCheck(
                False,
                True,
                ErrorKind.NOT_READ_ONLY,
                f"only read-only queries may run; found {_describe(node)} inside the query",
            )
    return StatementCheck(True, True)


def _describe(node: object) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Command):
        return f"{node.this} statement"
    if isinstance(node, exp.Into):
        return "SELECT ... INTO"
    return type(node).__name__.upper()
