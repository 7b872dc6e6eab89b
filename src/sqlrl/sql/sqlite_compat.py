"""Rewrites that make SQLite-dialect queries behave on DuckDB as they do on SQLite.

Used by the DuckDB engine when ``sqlite_compat`` is on, together with the settings in
:data:`sqlrl.sandbox.duckdb_engine.SQLITE_COMPAT_SETTINGS`, and by
:func:`sqlrl.sql.dialects.transpile` for SQLite-to-DuckDB output. A number glued to a name
(``18_49_Rating_Share``, a Spider column, unquoted) is refused as SQLite refuses it
(:func:`unrecognized_token`), where DuckDB would read ``1849 AS _Rating_Share``, and so is a
quantified comparison (``x > ALL (SELECT ...)``, :func:`quantified_comparison`), which SQLite's
grammar lacks. Four kinds of rewrites, by cost:

- :func:`rewrite_double_quoted` runs on queries holding a double quote, once per distinct text
  (the DuckDB engine caches it, with the database's schema): SQLite reads a double-quoted name that
  is no column in scope as a string literal (``STATE_NAME = "texas"``, as text2sql-data's gold
  queries write values), DuckDB refuses it. Such names become single-quoted strings.

- :func:`rewrite_compound_order` and :func:`rewrite_join_without_on` run once per distinct text that
  a substring test lets pass (``intersect`` with ``union`` or ``except``; more ``join`` than
  ``on``/``using`` words), one pass of sqlglot's tokenizer each: SQLite reads compound operators left
  to right with one precedence (``a UNION b INTERSECT c`` is ``(a UNION b) INTERSECT c``; DuckDB
  binds INTERSECT tighter), so parentheses make SQLite's reading explicit; and a ``JOIN`` without
  ``ON`` or ``USING``, which SQLite joins on a condition that always holds and DuckDB refuses, gets
  ``ON TRUE``.

- :func:`rewrite_rowid` runs once per distinct text in which a regex finds ``rowid``, ``oid`` or
  ``_rowid_``: DuckDB's ``rowid`` counts from 0, SQLite's is the INTEGER PRIMARY KEY or, in a table
  whose rowids run 1..n, DuckDB's plus one; the importer records which (a table comment,
  :func:`rowid_comment`), and a rowid read as a value becomes that column or ``(rowid + 1)``.

- :func:`rewrite_affinity` runs once per distinct text that :meth:`AffinitySchema.candidate` (one
  tokenization and scan, in the compiled core for ASCII texts) finds a column of one type next to a
  literal of the other in, or a text column in arithmetic, ``sum``, ``avg`` or ``CAST``; and after
  DuckDB refused a query for its types (two columns of different types compared). It applies SQLite's type affinity
  (https://sqlite.org/datatype3.html, 4.2) with the column types the importer records:
  ``year >= 2014`` on a TEXT column compares ``year >= '2014'``, ``capacity = '5000'`` on an INTEGER
  column compares ``capacity = 5000``, numbers sort before text, and text in arithmetic is the
  number it starts with (``1.0 * name``), else 0.

- :func:`rewrite_tokens` runs on every query that mentions ``LIKE``, ``CAST`` or one of the
  SQLite functions below (one pass of sqlglot's tokenizer, 20-150 us; untouched text is kept
  byte for byte):

  * ``LIKE`` -> ``ILIKE``: SQLite's LIKE ignores the case of ASCII letters. For a string
    pattern holding non-ASCII letters (which SQLite compares case-sensitively, but ILIKE
    would fold) the query is instead parsed and each such ``x LIKE p`` becomes
    ``translate(x, 'A..Z', 'a..z') LIKE translate(p, 'A..Z', 'a..z')``, exactly SQLite's rule.
  * ``CAST(x AS REAL|FLOAT|DOUBLE|NUMERIC|DECIMAL)`` -> ``CAST(x AS DOUBLE)`` (SQLite's REAL is
    a 64-bit double, DuckDB's REAL a 32-bit float, DuckDB's NUMERIC a DECIMAL(18,3));
    ``CAST(x AS INT|INTEGER|...)`` -> ``CAST(trunc(CAST(x AS DECIMAL(38, 9))) AS BIGINT)`` (SQLite
    integers are 64-bit, and SQLite truncates a real where DuckDB rounds it).
  * ``iif(c, a, b)`` -> ``CASE``; ``julianday(t)`` and ``strftime(format, t)`` (two arguments, a
    format both engines read alike) read ``t`` as a timestamp, NULL when it is none; ``typeof(x)``
    gives SQLite's type names; ``upper``/``lower`` fold ASCII letters only, as SQLite's do.

- :func:`rewrite_bare_columns` runs once per distinct text in which
  :func:`sqlrl.sql.bare_columns.may_have_bare_columns` (one tokenization and scan, no parse) finds a
  column that is neither grouped nor aggregated, before the text's first run, and after DuckDB refused
  a text for such a column that the pre-check did not read whole. SQLite allows them (Spider's gold
  queries use them: ``SELECT T2.name, count(*) ... GROUP BY T1.id``). Such columns are wrapped in
  ``ANY_VALUE(...)``, or, when the query's only aggregate is ``max(y)``/``min(y)``, in
  ``arg_max(col, y)``/``arg_min(col, y)``: SQLite then takes the bare column from the row
  holding the extreme value.

- :func:`rewrite_tie_break` runs only with the sandbox option ``sqlite_ties``: rows that tie under the
  ORDER BY of a query that reads one table come in SQLite's row order.

Not rewritten (see ``benchmarks/ENGINE_COMPAT.md``): the order of rows that tie under ``ORDER BY``
(but see :func:`rewrite_tie_break`), values of a mixed column (numbers and text) read back (they
are text in DuckDB), ``round`` on halves that a double cannot hold exactly, ``strftime`` with
modifiers or other formats, dates SQLite does not read but DuckDB does, expressions other than
columns compared with literals of the other type (``substr(x, 1, 4) > 2000``), and collations declared on columns.

The sandbox imports this module at module level, so sqlglot (and :mod:`sqlrl.sql.dialects`, which
imports it) is imported only inside the functions that tokenize or parse; the token readers it calls first
(:mod:`sqlrl.sql.plain_select`) import it only for sqlglot's keyword list.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

from sqlrl._core import AffinityNames
from sqlrl.sql.affinity_rewrite import affinity_edits
from sqlrl.sql.bare_rewrite import bare_column_edits
from sqlrl.sql.plain_select import UNREAD
from sqlrl.sql.rowid_rewrite import rowid_edits

__all__ = [
    "BARE_COLUMN_ERROR",
    "CAST_TYPES",
    "quantified_comparison",
    "has_token_rewrites",
    "rewrite_bare_columns",
    "rewrite_compound_order",
    "rewrite_double_quoted",
    "rewrite_join_without_on",
    "rewrite_rowid",
    "rowid_replacement",
    "rowid_comment",
    "rowid_note",
    "rewrite_tie_break",
    "rewrite_tokens",
    "unrecognized_token",
]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = _UPPER.lower()

#: Type names in CAST that are rewritten, and what they become.
CAST_TYPES = {
    "REAL": "DOUBLE", "FLOAT": "DOUBLE", "DOUBLE": "DOUBLE", "DOUBLE PRECISION": "DOUBLE",
    "NUMERIC": "DOUBLE", "DECIMAL": "DOUBLE",
    "INT": "BIGINT", "INTEGER": "BIGINT", "TINYINT": "BIGINT", "SMALLINT": "BIGINT", "MEDIUMINT": "BIGINT",
    "INT2": "BIGINT", "INT4": "BIGINT", "INT8": "BIGINT", "BIGINT": "BIGINT",
}  # fmt: skip


# A word that starts with a digit and has a letter or ``_`` later: the texts that may hold a
# number glued to a name (false positives such as ``1e5`` or ``'3rd'`` are sorted out by tokens). The digit comes
# first and the look behind it second, so that the search skips to digits (3x faster than the look first).
_GLUED_CANDIDATE = re.compile(r"[0-9](?<![\w$][0-9])[\w.$]*[^\W0-9]")


def unrecognized_token(sql: str) -> str | None:
    r"""SQLite's error for a number glued to a name (``18_49_Rating_Share``, ``12abc``), which
    SQLite refuses as one unrecognized token and DuckDB reads as a number and an alias, or for a
    number with ``_`` separators (``1_000``) when this Python's SQLite is older than 3.46; None
    when there is none (strings, quoted names and comments do not count).

    >>> unrecognized_token("SELECT 18_49_Rating_Share FROM tv_series")
    'unrecognized token: "18_49_Rating_Share"'
    >>> unrecognized_token("SELECT \"18_49_Rating_Share\", 1e5 FROM t WHERE x = '3rd' -- 12abc") is None
    True
    """
    if _GLUED_CANDIDATE.search(sql) is None:
        return None
    from sqlglot.tokens import TokenType

    tokens = _sqlite_tokens(sql)
    if tokens is None:
        return None  # the engine reports it
    for tok in tokens:
        text = sql[tok.start : tok.end + 1]
        if (tok.token_type == TokenType.VAR and text[:1].isdigit()) or (
            tok.token_type == TokenType.NUMBER and "_" in text and sqlite3.sqlite_version_info < (3, 46)
        ):
            return f'unrecognized token: "{text}"'
    return None


def _sqlite_tokens(sql: str) -> list | None:
    """sqlglot's tokens of ``sql`` read as SQLite, or None when the text does not tokenize (the engine
    then reports it)."""
    from sqlglot.errors import SqlglotError

    from sqlrl.sql.dialects import reader

    try:
        return reader("sqlite").tokenize(sql)
    except (SqlglotError, ValueError):
        return None


# A quantifier keyword before a parenthesis: the texts that may hold ``x > ALL (SELECT ...)``.
# (The first letter first, as in _GLUED_CANDIDATE.)
_QUANTIFIER_CANDIDATE = re.compile(r"(?i)[as](?<![\w$][as])(?:ll|ny|ome)\s*\(")


def quantified_comparison(sql: str) -> str | None:
    """SQLite's error for a quantified comparison (``x > ALL (SELECT ...)``, ``= ANY (...)``, ``= SOME (...)``),
    which SQLite's grammar does not have and DuckDB runs; None when there is none.

    ``ALL`` after a comparison operator is a syntax error in SQLite; ``ANY``/``SOME`` read as a
    function call, which fails on the ``SELECT`` inside it (or, without one, as an unknown function).
    ``SELECT ALL``, ``UNION ALL`` and names in strings or quotes do not count.

    >>> quantified_comparison("SELECT a FROM t WHERE a > ALL (SELECT b FROM u)")
    'near "ALL": syntax error'
    >>> quantified_comparison("SELECT a FROM t WHERE a = any(SELECT b FROM u)")
    'near "SELECT": syntax error'
    >>> quantified_comparison("SELECT ALL a FROM t UNION ALL (SELECT 1)") is None
    True
    """
    if _QUANTIFIER_CANDIDATE.search(sql) is None:
        return None
    from sqlglot.tokens import TokenType

    tokens = _sqlite_tokens(sql)
    if tokens is None:
        return None
    comparisons = {TokenType.EQ, TokenType.NEQ, TokenType.LT, TokenType.LTE, TokenType.GT, TokenType.GTE}
    for i in range(1, len(tokens) - 1):
        tok = tokens[i]
        if tok.token_type not in (TokenType.ALL, TokenType.ANY, TokenType.SOME):
            continue
        if tokens[i - 1].token_type not in comparisons or tokens[i + 1].token_type != TokenType.L_PAREN:
            continue
        text = sql[tok.start : tok.end + 1]
        if tok.token_type == TokenType.ALL:
            return f'near "{text}": syntax error'
        if i + 2 < len(tokens) and tokens[i + 2].token_type in (TokenType.SELECT, TokenType.WITH):
            return f'near "{sql[tokens[i + 2].start : tokens[i + 2].end + 1]}": syntax error'
        return f"no such function: {text}"
    return None


def _parse(sql: str, dialect: str) -> Any:
    """sqlglot's tree of ``sql`` read in ``dialect`` (:func:`sqlrl.sql.dialects.reader`); None for text it
    cannot parse (the rewrites then leave the text as it is)."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    from sqlrl.sql.dialects import reader

    try:
        return sqlglot.parse_one(sql, read=reader(dialect))
    except (SqlglotError, ValueError, RecursionError):
        return None


def rewrite_compound_order(sql: str) -> str | None:
    """SQLite's order of compound operators made explicit: parentheses around what precedes an INTERSECT
    that follows a UNION or EXCEPT; None when there is no such INTERSECT (or the text does not tokenize).

    SQLite gives ``UNION``, ``UNION ALL``, ``EXCEPT`` and ``INTERSECT`` one precedence and reads them left
    to right; DuckDB (as PostgreSQL and the SQL standard) binds ``INTERSECT`` tighter, so ``a UNION b
    INTERSECT c`` is ``(a UNION b) INTERSECT c`` on SQLite and ``a UNION (b INTERSECT c)`` on DuckDB.
    SQLite allows no parentheses around a compound's operands, so every such chain is read this way.
    Chains inside subqueries and CTEs are handled at their own level; other bytes are kept.

    >>> rewrite_compound_order("SELECT a FROM t UNION SELECT a FROM u INTERSECT SELECT a FROM v")
    '(SELECT a FROM t UNION SELECT a FROM u) INTERSECT SELECT a FROM v'
    >>> rewrite_compound_order("SELECT a FROM t INTERSECT SELECT a FROM u UNION SELECT a FROM v") is None
    True
    """
    low = sql.lower()
    if "intersect" not in low or ("union" not in low and "except" not in low):
        return None
    from sqlglot.tokens import TokenType

    tokens = _sqlite_tokens(sql)
    if tokens is None:
        return None
    starts: list[int | None] = [None]  # per parenthesis depth: where the current chain's first SELECT is
    seen: list[bool] = [False]  # per depth: a UNION or EXCEPT earlier in the chain
    edits: list[tuple[int, int, str]] = []
    for i, tok in enumerate(tokens):
        kind = tok.token_type
        if kind == TokenType.L_PAREN:
            starts.append(None)
            seen.append(False)
        elif kind == TokenType.R_PAREN:
            if len(starts) > 1:
                starts.pop()
                seen.pop()
        elif kind in (TokenType.SELECT, TokenType.VALUES):
            if starts[-1] is None:
                starts[-1] = tok.start
        elif kind in (TokenType.UNION, TokenType.EXCEPT):
            seen[-1] = True
        elif kind == TokenType.INTERSECT and seen[-1] and starts[-1] is not None:
            end_prev = tokens[i - 1].end + 1
            edits.append((starts[-1], starts[-1], "("))
            edits.append((end_prev, end_prev, ")"))
        elif kind == TokenType.SEMICOLON:
            starts, seen = [None], [False]
    if not edits:
        return None
    out, last = [], 0
    for start, end, text in sorted(edits, key=lambda e: e[0]):
        out.append(sql[last:start])
        out.append(text)
        last = end
    out.append(sql[last:])
    return "".join(out)


# Words that end a join's source: the next join, a clause, a compound operator.
_JOIN_ENDS = frozenset(
    "join left right inner outer full cross natural where group having order limit window union "
    "intersect except on using".split()
)


def rewrite_join_without_on(sql: str) -> str | None:
    """``ON TRUE`` after each join that has neither ON nor USING; None when there is none.

    SQLite reads ``a JOIN b`` (and ``a LEFT JOIN b``) without a constraint as a join on a condition that
    always holds (every row of ``a`` with every row of ``b``; Spider's gold writes ``FROM Professionals AS
    T1 JOIN Treatments AS T2 WHERE ...``); DuckDB refuses it as a syntax error. ``CROSS JOIN``, ``NATURAL
    JOIN`` and comma joins are left as they are. A cheap count of ``JOIN`` against ``ON``/``USING`` words
    skips the texts where every join has its constraint.

    >>> rewrite_join_without_on("SELECT T1.a FROM p AS T1 JOIN t AS T2 WHERE T2.c < 3")
    'SELECT T1.a FROM p AS T1 JOIN t AS T2 ON TRUE WHERE T2.c < 3'
    >>> rewrite_join_without_on("SELECT * FROM p JOIN t ON p.id = t.id CROSS JOIN u") is None
    True
    """
    low = sql.lower()
    if "join" not in low:
        return None
    words = re.findall(r"[a-z_]+", re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "''", low))
    joins = sum(1 for i, w in enumerate(words) if w == "join" and (i == 0 or words[i - 1] not in ("cross", "natural")))
    if joins <= words.count("on") + words.count("using"):
        return None
    from sqlglot.tokens import TokenType

    tokens = _sqlite_tokens(sql)
    if tokens is None:
        return None
    depth = 0
    open_join: set[int] = set()  # depths where a join still lacks its constraint
    edits: list[int] = []
    words = [(sql[t.start : t.end + 1].lower().split() or [""])[0] for t in tokens]  # "group by" -> "group"
    names = (TokenType.VAR, TokenType.IDENTIFIER, TokenType.STRING)
    for i, tok in enumerate(tokens):
        kind, word = tok.token_type, words[i]
        end_prev = tokens[i - 1].end + 1 if i else tok.start
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            if depth in open_join:
                open_join.discard(depth)
                edits.append(end_prev)
            depth = max(depth - 1, 0)
        elif kind in (TokenType.SEMICOLON, TokenType.COMMA) or (kind not in names and word in _JOIN_ENDS):
            if word in ("on", "using"):
                open_join.discard(depth)
                continue
            if depth in open_join:
                open_join.discard(depth)
                edits.append(end_prev)
            if word == "join":
                j = i - 1
                while j >= 0 and words[j] in ("left", "right", "full", "inner", "outer"):
                    j -= 1
                if j < 0 or words[j] not in ("cross", "natural"):
                    open_join.add(depth)
    if 0 in open_join:
        edits.append(tokens[-1].end + 1 if words[-1] != ";" else tokens[-2].end + 1)
    if not edits:
        return None
    out, last = [], 0
    for pos in sorted(set(edits)):
        out.append(sql[last:pos])
        out.append(" ON TRUE")
        last = pos
    out.append(sql[last:])
    return "".join(out)


def _has_cased_non_ascii(text: str) -> bool:
    return any(not ch.isascii() and ch.lower() != ch.upper() for ch in text)


def has_token_rewrites(sql: str) -> bool:
    """Whether :func:`rewrite_tokens` may change ``sql``: it names ``like``, ``cast`` or one of :data:`_FUNCTIONS`
    somewhere (a substring test; the tokens decide). The other compat rewrites add none of these words but
    ``CAST(... AS DOUBLE|BIGINT)`` of numbers or of numeric text, which needs no rewrite: a text without them
    needs no tokens after those rewrites either."""
    low = sql.lower()
    return "like" in low or "cast" in low or any(f in low for f in _FUNCTIONS)


def rewrite_tokens(sql: str, dialect: str = "sqlite", *, like: bool = True) -> str:
    """LIKE -> ILIKE (unless ``like`` is false), CAST type names and SQLite-only functions, on tokens
    (strings, identifiers and comments untouched).

    ``iif(c, a, b)`` becomes a CASE; ``julianday(t)`` and ``strftime(format, t)`` (two arguments, a
    format of ``%d %H %j %m %M %S %w %W %Y %%`` only) read ``t`` as a timestamp (NULL when it is none);
    ``typeof(x)`` gives SQLite's names (``integer``, ``real``, ``text``, ``blob``, ``null``) from
    DuckDB's type; ``upper``/``lower`` fold ASCII letters only, as SQLite's do.

    >>> rewrite_tokens("SELECT CAST(a AS REAL) FROM t WHERE b NOT LIKE 'x%'")
    "SELECT CAST(a AS DOUBLE) FROM t WHERE b NOT ILIKE 'x%'"
    >>> sql = rewrite_tokens("SELECT name FROM t WHERE name LIKE '%ö%'")
    >>> print(sql.replace(_UPPER, "A..Z").replace(_LOWER, "a..z"))
    SELECT name FROM t WHERE TRANSLATE(name, 'A..Z', 'a..z') LIKE TRANSLATE('%ö%', 'A..Z', 'a..z')
    """
    if not has_token_rewrites(sql):
        return sql
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    from sqlrl.sql.dialects import reader

    try:
        tokens = reader(dialect).tokenize(sql)
    except (SqlglotError, ValueError):
        return sql
    edits: list[tuple[int, int, str]] = []
    calls = _function_edits(sql, tokens, dialect, like)  # SQLite-only functions, their arguments rewritten inside
    exact_like = False
    n = len(tokens)
    for i, tok in enumerate(tokens):
        if any(start <= tok.start < end for start, end, _ in calls):
            continue
        if like and tok.token_type == TokenType.LIKE and sql[tok.start : tok.end + 1].upper() == "LIKE":
            if i + 1 < n and tokens[i + 1].token_type == TokenType.L_PAREN:
                continue  # like(pattern, text): a function call
            if i + 1 < n and tokens[i + 1].token_type == TokenType.STRING and _has_cased_non_ascii(tokens[i + 1].text):
                exact_like = True
            edits.append((tok.start, tok.end + 1, "ILIKE"))
        elif (
            tok.text.upper() == "CAST"
            and tok.token_type != TokenType.STRING
            and i + 1 < n
            and tokens[i + 1].token_type == TokenType.L_PAREN
        ):
            edits.extend(_cast_type_edit(sql, tokens, i + 1))
    if exact_like:
        rewritten = _exact_like(sql, dialect)
        if rewritten is not None:
            return rewrite_tokens(rewritten, "duckdb", like=False)
    return _apply(sql, edits + calls)


#: SQLite functions that DuckDB lacks or reads otherwise, rewritten on tokens by :func:`rewrite_tokens`.
_FUNCTIONS = ("iif", "strftime", "julianday", "typeof", "upper", "lower")

# strftime conversions that mean the same in SQLite and DuckDB
_STRFTIME_SAFE = re.compile(r"(?:[^%]|%[dHjmMSwWY%])*")


def _function_edits(sql: str, tokens: list, dialect: str, like: bool) -> list[tuple[int, int, str]]:
    """Edits for the outermost calls of :data:`_FUNCTIONS` (their arguments through :func:`rewrite_tokens`)."""
    from sqlglot.tokens import TokenType

    edits: list[tuple[int, int, str]] = []
    n = len(tokens)
    claimed = -1
    for i, tok in enumerate(tokens):
        name = tok.text.lower()
        if (
            name not in _FUNCTIONS
            or tok.start < claimed
            or tok.token_type in (TokenType.STRING, TokenType.IDENTIFIER)
            or i + 1 >= n
            or tokens[i + 1].token_type != TokenType.L_PAREN
            or (i > 0 and tokens[i - 1].token_type == TokenType.DOT)
        ):
            continue
        depth, args, first, close = 0, [], i + 2, None
        for j in range(i + 1, n):
            t = tokens[j].token_type
            if t == TokenType.L_PAREN:
                depth += 1
            elif t == TokenType.R_PAREN:
                depth -= 1
                if depth == 0:
                    close = j
                    break
            elif t == TokenType.COMMA and depth == 1:
                args.append((first, j - 1))
                first = j + 1
        if close is None:
            continue
        args.append((first, close - 1))
        if any(a > b for a, b in args):
            continue  # f() or an empty argument
        texts = [rewrite_tokens(sql[tokens[a].start : tokens[b].end + 1], dialect, like=like) for a, b in args]
        fmt = tokens[args[0][0]] if args[0][0] == args[0][1] else None
        new = None
        if name == "iif" and len(texts) == 3:
            new = f"(CASE WHEN {texts[0]} THEN {texts[1]} ELSE {texts[2]} END)"
        elif name == "julianday" and len(texts) == 1:
            new = f"(epoch(TRY_CAST({texts[0]} AS TIMESTAMP)) / 86400.0 + 2440587.5)"
        elif (
            name == "strftime"
            and len(texts) == 2
            and fmt is not None
            and fmt.token_type == TokenType.STRING
            and _STRFTIME_SAFE.fullmatch(fmt.text)
        ):
            new = f"strftime(TRY_CAST({texts[1]} AS TIMESTAMP), {texts[0]})"
        elif name == "typeof" and len(texts) == 1:
            x = texts[0]
            new = (
                f"(CASE WHEN ({x}) IS NULL THEN 'null' WHEN typeof({x}) IN ('BIGINT', 'INTEGER', 'SMALLINT', "
                f"'TINYINT', 'HUGEINT', 'UBIGINT', 'UINTEGER', 'USMALLINT', 'UTINYINT', 'BOOLEAN') THEN 'integer' "
                f"WHEN typeof({x}) IN ('DOUBLE', 'FLOAT') OR starts_with(typeof({x}), 'DECIMAL') THEN 'real' "
                f"WHEN typeof({x}) = 'BLOB' THEN 'blob' ELSE 'text' END)"
            )
        elif name in ("upper", "lower") and len(texts) == 1:
            src, dst = (_LOWER, _UPPER) if name == "upper" else (_UPPER, _LOWER)
            new = f"translate(CAST({texts[0]} AS VARCHAR), '{src}', '{dst}')"  # SQLite folds ASCII letters only
        if new is not None:
            claimed = tokens[close].end + 1
            edits.append((tok.start, claimed, new))
    return edits


def _cast_type_edit(sql: str, tokens: list, open_paren: int) -> list[tuple[int, int, str]]:
    from sqlglot.tokens import TokenType

    depth = 0
    alias_at = None
    for j in range(open_paren, len(tokens)):
        t = tokens[j].token_type
        if t == TokenType.L_PAREN:
            depth += 1
        elif t == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                if alias_at is None or alias_at + 1 >= j:
                    return []
                start, end = tokens[alias_at + 1].start, tokens[j - 1].end + 1
                name = " ".join(sql[start:end].upper().split())
                target = CAST_TYPES.get(name)
                if target is None:
                    return []
                edits = [] if name == target else [(start, end, target)]
                if target == "BIGINT" and alias_at > open_paren + 1:
                    # SQLite truncates a real cast to an integer, DuckDB rounds: trunc() it first (via DECIMAL,
                    # exact for every 64-bit integer, and accepting text and numbers alike)
                    first, last = tokens[open_paren + 1].start, tokens[alias_at - 1].end + 1
                    edits.append((first, first, "trunc(CAST("))
                    edits.append((last, last, " AS DECIMAL(38, 9)))"))
                return edits
        elif t == TokenType.ALIAS and depth == 1 and tokens[j].text.upper() == "AS":
            alias_at = j
    return []


def _apply(sql: str, edits: list[tuple[int, int, str]]) -> str:
    if not edits:
        return sql
    parts, last = [], 0
    for start, end, text in sorted(edits):
        parts.append(sql[last:start])
        parts.append(text)
        last = end
    parts.append(sql[last:])
    return "".join(parts)


def _exact_like(sql: str, dialect: str) -> str | None:
    """SQLite's LIKE exactly (ASCII case folded, other letters not), via sqlglot; None if it cannot parse."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    def fold(node: exp.Expression) -> exp.Expression:
        return exp.func("translate", node, exp.Literal.string(_UPPER), exp.Literal.string(_LOWER))

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Like):
            pattern = node.expression
            if isinstance(pattern, exp.Literal) and pattern.is_string and _has_cased_non_ascii(pattern.this):
                return exp.Like(this=fold(node.this.copy()), expression=fold(pattern.copy()))
            return exp.ILike(this=node.this.copy(), expression=pattern.copy())
        return node

    from sqlrl.sql.dialects import reader

    try:
        tree = sqlglot.parse_one(sql, read=reader(dialect))
        return tree.transform(rewrite).sql(dialect="duckdb")
    except (SqlglotError, ValueError, RecursionError):
        return None


#: DuckDB's message when a selected column is neither grouped nor aggregated.
BARE_COLUMN_ERROR = "must appear in the GROUP BY clause"


def _span(node: object) -> tuple[int, int] | None:
    """The ``[start, end)`` of a token node (identifier, literal) in the text sqlglot parsed; None if unknown."""
    start, end = node.meta.get("start"), node.meta.get("end")
    return None if start is None or end is None else (start, end + 1)


def _column_span(col: object) -> tuple[int, int] | None:
    """The ``[start, end)`` of a column reference (``name`` or ``table.name``) in the parsed text; None for
    ``db.table.name`` or when a part's position is unknown."""
    end = _span(col.this)
    if end is None:
        return None
    table = col.args.get("table")
    start = _span(table) if table is not None else end
    if start is None or col.args.get("db") is not None:
        return None
    return (start[0], end[1])


def rewrite_bare_columns(sql: str, dialect: str = "sqlite", *, tokens: bool = True) -> str | None:
    """Wrap columns that are neither grouped nor aggregated, as SQLite reads them; None if nothing changed.

    The wraps are edits of ``sql`` at the columns' places: every other byte is kept, so the text stays in
    ``dialect`` and is not written out again. None also when a column to wrap has no known place (a
    ``db.table.column`` name). A plain SELECT of SQLite's is read from its tokens
    (:func:`~sqlrl.sql.bare_rewrite.bare_column_edits`), any other text by a sqlglot parse (``tokens=False``:
    always parsed, the reference the token reading is tested against).

    >>> rewrite_bare_columns("SELECT name, max(age) FROM singer")
    'SELECT ARG_MAX(name, age), max(age) FROM singer'
    >>> rewrite_bare_columns("SELECT T2.name, count(*) FROM s AS T2 JOIN c AS T1 USING (id) GROUP BY T1.id")
    'SELECT ANY_VALUE(T2.name), count(*) FROM s AS T2 JOIN c AS T1 USING (id) GROUP BY T1.id'
    """
    if tokens and dialect == "sqlite":
        wrapped = bare_column_edits(sql)
        if wrapped is not UNREAD:
            return wrapped
    from sqlglot import exp

    tree = _parse(sql, dialect)
    if tree is None:
        return None
    edits: list[tuple[int, int, str]] = []
    for select in list(tree.find_all(exp.Select)):
        group = select.args.get("group")
        keys = set()
        expression_keys = set()  # keys that are no column: GROUP BY 1, GROUP BY upper(x)
        for g in group.expressions if group else []:
            if isinstance(g, exp.Literal) and g.is_int and 0 < int(g.this) <= len(select.expressions):
                g = select.expressions[int(g.this) - 1].unalias()  # GROUP BY 2
            keys.add(_key(g))
            if not isinstance(g, exp.Column):
                expression_keys.add(_key(g))
        aggs = [a for p in select.expressions for a in _own_nodes(p) if isinstance(a, exp.AggFunc)]
        if not group and not aggs:
            continue
        aliases = {p.alias for p in select.expressions if isinstance(p, exp.Alias)}
        single = aggs[0] if len(aggs) == 1 and isinstance(aggs[0], (exp.Max, exp.Min)) else None
        # what goes around each bare column: the value of the row the one max()/min() picks, else any row's
        if single is not None:
            head = "ARG_MAX(" if isinstance(single, exp.Max) else "ARG_MIN("
            tail = f", {single.this.sql(dialect=dialect)})"
        else:
            head, tail = "ANY_VALUE(", ")"

        targets = list(select.expressions)
        for arg in ("order", "having"):
            if select.args.get(arg) is not None:
                targets.append(select.args[arg])
        for target in targets:
            nodes = list(_own_nodes(target))
            keyed = {  # the columns of an expression that is itself a GROUP BY key
                id(c)
                for n in (nodes if expression_keys else ())
                if not isinstance(n, (exp.Column, exp.Literal, exp.Identifier, exp.Star)) and _key(n) in expression_keys
                for c in n.find_all(exp.Column)
            }
            for col in [c for c in nodes if isinstance(c, exp.Column)]:
                if id(col) in keyed or _grouped(col, keys) or _inside_aggregate(col, stop=target):
                    continue
                if not col.table and col.name in aliases:
                    continue  # ORDER BY an output alias
                span = _column_span(col)
                if span is None:
                    return None
                edits.append((span[0], span[1], head + sql[span[0] : span[1]] + tail))
    return _apply(sql, edits) if edits else None


def rewrite_tie_break(sql: str, tables: Collection[str], *, groups_sorted: bool | None = None) -> str | None:
    """``sql`` with SQLite's order of tied rows made explicit in its ORDER BY; None where that does not apply.

    Two cases, for the query and each subquery with its own ORDER BY (not a branch of a UNION):

    - it reads one base table (one of ``tables``, compared case-insensitively) without joins, GROUP BY,
      DISTINCT or aggregates: ``rowid`` is appended (DuckDB's ``rowid`` is the row's position, which is SQLite's rowid
      order for tables the importer copied). SQLite returns such ties in the order it scans the table, by
      rowid, or by an index on the sort keys, whose entries are ordered by rowid after the keys: the same
      order either way.
    - it has a GROUP BY: its keys are appended, each ascending (NULLs first), except that when the GROUP BY
      has as many terms as the ORDER BY, key ``i`` takes the direction of ORDER BY term ``i`` (DESC: NULLs
      last). SQLite makes its groups in that order (``sqlite3Select`` copies the ORDER BY's ASC/DESC onto the
      GROUP BY terms when the two lists are as long, hoping to skip the sort) and sorts them keeping tied
      rows in the order they came (a sequence number in the sorter's key when there is a LIMIT), also
      with DISTINCT when the keys are among the selected columns (no two groups are then equal rows).
      ``SELECT x FROM t GROUP BY x ORDER BY count(*) DESC LIMIT 1`` returns the largest ``x`` among the
      tied counts on SQLite. Where SQLite reads the groups in the order of an index or of the table instead
      of sorting them (``groups_sorted=False``: no temp B-tree for the GROUP BY in its plan), they come
      ascending whatever the ORDER BY; ``None`` (unknown) reads them as sorted.

    >>> rewrite_tie_break("SELECT name FROM singer AS s ORDER BY age DESC LIMIT 1", {"singer"})
    'SELECT name FROM singer AS s ORDER BY age DESC, s.rowid LIMIT 1'
    >>> rewrite_tie_break("SELECT count(*) FROM singer ORDER BY 1", {"singer"}) is None
    True
    >>> rewrite_tie_break("SELECT x FROM t GROUP BY x ORDER BY count(*) DESC LIMIT 1", {"t"})
    'SELECT x FROM t GROUP BY x ORDER BY COUNT(*) DESC, x DESC LIMIT 1'
    >>> rewrite_tie_break("SELECT x, y FROM t GROUP BY x, y ORDER BY count(*) DESC", {"t"})
    'SELECT x, y FROM t GROUP BY x, y ORDER BY COUNT(*) DESC, x ASC, y ASC'
    """
    if not re.search(r"order\s+by", sql, re.IGNORECASE):
        return None
    from sqlglot import exp

    tree = _parse(sql, "sqlite")
    if not isinstance(tree, (exp.Select, exp.SetOperation)):
        return None
    ctes = {cte.alias.lower() for cte in tree.find_all(exp.CTE) if cte.alias}
    base = {t.lower() for t in tables} - ctes
    changed = False
    for select in list(tree.find_all(exp.Select)):  # the query and each subquery with its own ORDER BY
        if select.args.get("order") is not None and not isinstance(select.parent, exp.SetOperation):
            changed |= _break_ties(select, base, groups_sorted)
    return tree.sql(dialect="sqlite") if changed else None


def _break_ties(select: Any, tables: Collection[str], groups_sorted: bool | None = None) -> bool:
    """:func:`rewrite_tie_break` on one SELECT (its ORDER BY extended in place); whether it applied."""
    from sqlglot import exp

    order = select.args["order"]
    group = select.args.get("group")
    if group is not None and group.expressions and not group.args.get("rollup") and not group.args.get("cube"):
        keys, terms = list(group.expressions), list(order.expressions)  # copies: the ORDER BY grows below
        selected = {_key(e.unalias()) for e in select.expressions}
        if select.args.get("distinct") and not {_key(k) for k in keys} <= selected:
            return False  # DISTINCT over other columns than the keys may merge groups: their order is not the keys'
        follow = len(keys) == len(terms) and groups_sorted is not False  # keys take the ORDER BY's directions
        for key, term in zip(keys, terms if follow else [None] * len(keys), strict=True):
            desc = term is not None and bool(term.args.get("desc"))
            order.append("expressions", exp.Ordered(this=key.copy(), desc=desc, nulls_first=not desc))
        return True
    source = select.args.get("from_") or select.args.get("from")  # sqlglot renamed the key
    if source is None or select.args.get("joins") or group is not None or select.args.get("distinct"):
        return False
    table = source.this
    if not isinstance(table, exp.Table) or table.name.lower() not in tables:
        return False
    if any(isinstance(a, exp.AggFunc) for p in select.expressions for a in _own_nodes(p)):
        return False
    order.append("expressions", exp.Ordered(this=exp.column("rowid", table=table.alias_or_name), nulls_first=True))
    return True


def _grouped(col: object, keys: set[str]) -> bool:
    """Whether a column is a GROUP BY key (``t.a`` matches ``a``, ``a`` matches ``t.a``)."""
    name = col.name.lower()
    if _key(col) in keys:
        return True
    if col.table:
        return name in keys
    return any(k.split(".")[-1] == name for k in keys)


def _key(node: object) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Column):
        return (f"{node.table}.{node.name}" if node.table else node.name).lower()
    return node.sql().lower() if hasattr(node, "sql") else str(node).lower()


def _own_nodes(node: object):
    """Nodes of an expression without descending into subqueries or window functions."""
    from sqlglot import exp

    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (exp.Subquery, exp.Select, exp.Window)) and n is not node:
            continue
        stack.extend(n.iter_expressions())


def _inside_aggregate(node: object, stop: object) -> bool:
    from sqlglot import exp

    parent = node.parent
    while parent is not None and parent is not stop:
        if isinstance(parent, exp.AggFunc):
            return True
        parent = parent.parent
    return isinstance(stop, exp.AggFunc)


#: Names every SQLite table answers to besides its columns.
ROWID_NAMES = frozenset({"rowid", "oid", "_rowid_"})


def rewrite_double_quoted(sql: str, schema: Mapping[str, Collection[str]], dialect: str = "sqlite") -> str | None:
    r'''SQLite's rule for double-quoted names: one that resolves to no column is a string literal.

    SQLite reads ``"texas"`` as the column ``texas`` when a table in scope (of this query or an
    enclosing one) has such a column, or when a result alias of the query is called so (outside
    the result list itself); otherwise as the string ``'texas'``. DuckDB always reads it as a
    name and refuses the query. This rewrites each unqualified double-quoted name that resolves to
    nothing into a single-quoted string, in every clause, leaving every other byte of the text as
    it is; a whole result column also gets SQLite's column name (the token, quotes included).
    Names match case-insensitively, as in SQLite. Qualified names (``"t"."c"``), aliases
    (``AS "x"``), table and CTE names in ``FROM`` are never touched; an unknown table or a source
    whose columns cannot be told (a table function, ``VALUES``) keeps every name in its scope a name.

    ``schema`` maps each table (and view) name to its column names, any case. Returns None when
    nothing changes (no double quote, nothing to rewrite, or text sqlglot cannot parse).

    >>> schema = {"state": ["state_name", "area"]}
    >>> sql = 'SELECT "Area" AS "a" FROM state WHERE "STATE_NAME" = "texas" ORDER BY "a"'
    >>> print(rewrite_double_quoted(sql, schema))
    SELECT "Area" AS "a" FROM state WHERE "STATE_NAME" = 'texas' ORDER BY "a"
    >>> print(rewrite_double_quoted('SELECT "a""b", "Area" FROM state', schema))
    SELECT 'a"b' AS """a""""b""", "Area" FROM state
    '''
    if '"' not in sql:
        return None
    from sqlglot import exp

    tree = _parse(sql, dialect)
    if tree is None:
        return None
    tables = {str(t).lower(): {str(c).lower() for c in cols} | ROWID_NAMES for t, cols in schema.items()}
    ctes = {cte.alias.lower(): cte for cte in tree.find_all(exp.CTE) if cte.alias}
    resolver = _Resolver(tables, ctes)
    edits: list[tuple[int, int, str]] = []
    for col in tree.find_all(exp.Column):
        ident = col.this
        if col.table or not isinstance(ident, exp.Identifier) or not ident.quoted:
            continue
        start, end = ident.meta.get("start"), ident.meta.get("end")
        if start is None or end is None or sql[start] != '"' or sql[end] != '"':
            continue  # `name` and [name] are always names in SQLite
        if resolver.resolves(col, ident.this.lower()):
            continue
        text = "'" + ident.this.replace("'", "''") + "'"
        if isinstance(col.parent, exp.Select) and col.arg_key == "expressions":
            text += ' AS "' + sql[start : end + 1].replace('"', '""') + '"'  # SQLite's column name: the token
        edits.append((start, end + 1, text))
    return _apply(sql, edits) if edits else None


# A rowid name as a word: the texts that may read SQLite's rowid.
_ROWID_WORD = re.compile(r"(?i)(?<![\w$])(?:rowid|_rowid_|oid)(?![\w$])")

#: The importer's table comment for a table whose SQLite rowids are 1..n in row order (DuckDB's are 0..n-1).
ROWID_DENSE = "+1"


def rowid_comment(alias: str | None) -> str:
    """The DuckDB table comment with which the importer records how to read SQLite's ``rowid``: the name of the
    column equal to it on every row (an INTEGER PRIMARY KEY), or :data:`ROWID_DENSE`."""
    import json

    return "sqlite:" + json.dumps({"rowid": alias if alias is not None else ROWID_DENSE})


def rowid_note(comment: str | None) -> str | None:
    """The column name or :data:`ROWID_DENSE` of :func:`rowid_comment`; None for any other comment."""
    import json

    if not comment or not comment.startswith("sqlite:"):
        return None
    try:
        value = json.loads(comment[len("sqlite:") :]).get("rowid")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def rowid_replacement(text: str, qualifier: str | None, note: str) -> str:
    """What a rowid name becomes for the importer's ``note`` (:func:`rowid_note`): ``text`` is the name with its
    qualifier as written, ``qualifier`` the qualifier alone (None without one)."""
    if note == ROWID_DENSE:
        return f"({text} + 1)"
    name = '"' + note.replace('"', '""') + '"'
    return f"{qualifier}.{name}" if qualifier is not None else name


def rewrite_rowid(
    sql: str,
    rowids: Mapping[str, str],
    schema: Mapping[str, Collection[str]],
    dialect: str = "sqlite",
    *,
    tokens: bool = True,
) -> str | None:
    """SQLite's ``rowid`` (``oid``, ``_rowid_``) read as a value on DuckDB; None when nothing changes.

    DuckDB's ``rowid`` counts rows from 0; SQLite's is the INTEGER PRIMARY KEY where a table has one, else a
    number that the importer's copy (rows in rowid order) turns into DuckDB's ``rowid + 1`` when SQLite's run
    1..n. ``rowids`` maps a table name (any case) to what the importer recorded for it (:func:`rowid_note`): the
    column equal to SQLite's rowid on every row, or :data:`ROWID_DENSE`; a table without an entry keeps
    DuckDB's ``rowid``. A rowid name is rewritten where it is unquoted, names no real column of its table, and
    its table is told: by its qualifier, or as the only table of its SELECT. Other bytes are kept. A plain
    SELECT of SQLite's is read from its tokens (:func:`~sqlrl.sql.rowid_rewrite.rowid_edits`), any other text
    by a sqlglot parse (``tokens=False``: always parsed).

    >>> rewrite_rowid("SELECT max(rowid) FROM t WHERE x > 1", {"t": "+1"}, {"t": ["x"]})
    'SELECT max((rowid + 1)) FROM t WHERE x > 1'
    >>> rewrite_rowid("SELECT T1.rowid FROM t AS T1 JOIN u ON T1.x = u.x", {"t": "id"}, {"t": ["id", "x"]})
    'SELECT T1."id" FROM t AS T1 JOIN u ON T1.x = u.x'
    """
    low = sql.lower()
    if not rowids or ("rowid" not in low and "oid" not in low) or _ROWID_WORD.search(sql) is None:
        return None
    if tokens and dialect == "sqlite":
        edited = rowid_edits(sql, rowids, schema)
        if edited is not UNREAD:
            return edited
    from sqlglot import exp

    tree = _parse(sql, dialect)
    if tree is None:
        return None
    notes = {str(t).lower(): v for t, v in rowids.items()}
    columns = {str(t).lower(): {str(c).lower() for c in cols} for t, cols in schema.items()}
    ctes = {cte.alias.lower() for cte in tree.find_all(exp.CTE) if cte.alias}
    edits: list[tuple[int, int, str]] = []
    for col in tree.find_all(exp.Column):
        ident = col.this
        if not isinstance(ident, exp.Identifier) or ident.quoted or ident.this.lower() not in ROWID_NAMES:
            continue
        select = col.find_ancestor(exp.Select)
        if select is None:
            continue
        from_ = select.args.get("from_") or select.args.get("from")
        sources = [from_.this] if from_ is not None else []
        sources += [j.this for j in select.args.get("joins") or []]
        tables = {}
        for src in sources:
            if isinstance(src, exp.Table) and not src.args.get("db") and src.name.lower() not in ctes:
                tables[src.alias_or_name.lower()] = src.name.lower()
            else:
                tables[f"<other {id(src)}>"] = None
        if col.table:
            table = tables.get(col.table.lower())
        else:
            table = next(iter(tables.values())) if len(tables) == 1 else None
        if table is None or ident.this.lower() in columns.get(table, ()) or table not in notes:
            continue
        end = ident.meta.get("end")
        qualifier = col.args.get("table")
        start = (qualifier if qualifier is not None else ident).meta.get("start")
        if start is None or end is None or col.args.get("db") is not None:
            continue
        named = sql[start : qualifier.meta["end"] + 1] if qualifier is not None else None
        edits.append((start, end + 1, rowid_replacement(sql[start : end + 1], named, notes[table])))
    return _apply(sql, edits) if edits else None


class _Resolver:
    """Which names a column reference can see, per SQLite's scoping (None: cannot tell, keep it a name)."""

    def __init__(self, tables: dict[str, set[str]], ctes: dict[str, object]) -> None:
        self.tables = tables
        self.ctes = ctes
        self._cte_names: dict[str, set[str] | None] = {}

    def resolves(self, col: object, name: str) -> bool:
        from sqlglot import exp

        child, node = col, col.parent
        while node is not None:
            if isinstance(node, exp.Select):
                names = self.source_columns(node)
                if names is None or name in names:
                    return True
                if child.arg_key != "expressions":  # result aliases: everywhere but the result list
                    if name in {p.alias.lower() for p in node.expressions if isinstance(p, exp.Alias)}:
                        return True
            elif isinstance(node, exp.SetOperation) and child.arg_key == "order":
                names = self.output_names(node)
                if names is None or name in names:
                    return True
            child, node = node, node.parent
        return False

    def source_columns(self, select: object) -> set[str] | None:
        """Columns of the tables and subqueries in a SELECT's FROM and JOINs; None if one is unknown."""
        sources = []
        from_ = select.args.get("from_") or select.args.get("from")
        if from_ is not None:
            sources.append(from_.this)
        sources.extend(j.this for j in select.args.get("joins") or [])
        names: set[str] = set()
        for src in sources:
            cols = self.columns_of(src)
            if cols is None:
                return None
            names |= cols
        return names

    def columns_of(self, src: object) -> set[str] | None:
        from sqlglot import exp

        if isinstance(src, exp.Table) and isinstance(src.this, exp.Identifier):
            key = src.name.lower()
            if not src.args.get("db") and key in self.ctes:
                if key not in self._cte_names:
                    self._cte_names[key] = None  # a recursive CTE reading itself: unknown
                    self._cte_names[key] = self.cte_names(self.ctes[key])
                return self._cte_names[key]
            return self.tables.get(key)
        if isinstance(src, exp.Subquery):
            aliased = _alias_columns(src)
            return aliased if aliased is not None else self.output_names(src.this)
        return None

    def cte_names(self, cte: object) -> set[str] | None:
        aliased = _alias_columns(cte)
        return aliased if aliased is not None else self.output_names(cte.this)

    def output_names(self, query: object) -> set[str] | None:
        """The result column names of a query; None if they cannot be told."""
        from sqlglot import exp

        while isinstance(query, (exp.SetOperation, exp.Subquery)):
            query = query.this
        if not isinstance(query, exp.Select):
            return None
        names: set[str] = set()
        for p in query.expressions:
            if isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star)):
                cols = self.source_columns(query)
                if cols is None:
                    return None
                names |= cols - ROWID_NAMES
            elif p.alias_or_name:
                names.add(p.alias_or_name.lower())
        return names


def _alias_columns(node: object) -> set[str] | None:
    alias = node.args.get("alias")
    cols = alias.args.get("columns") if alias is not None else None
    return {c.name.lower() for c in cols} if cols else None


# -- type affinity ---------------------------------------------------------------------------------

#: SQLite's numeric affinities (https://sqlite.org/datatype3.html, 3.1).
NUMERIC_AFFINITIES = frozenset({"INTEGER", "REAL", "NUMERIC"})

#: Prefix of the DuckDB column comment the importer writes with a column's SQLite type.
COMMENT_PREFIX = "sqlite:"

# Text that SQLite's numeric affinity turns into a number: a whole decimal literal, spaces around it.
_LOOKS_NUMERIC = r"[ \t\n\f\r]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?[ \t\n\f\r]*"
# The longest numeric prefix SQLite's text-to-number conversion reads (in arithmetic, sum, avg, CAST).
_REAL_PREFIX = r"^[ \t\n\f\r]*([+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?)"
_INT_PREFIX = r"^[ \t\n\f\r]*([+-]?[0-9]+)"


class SqliteColumn(NamedTuple):
    """What the affinity rewrite knows of a column: SQLite's affinity and how DuckDB holds the values.

    ``kind``: ``"number"`` (a numeric DuckDB type: the values are numbers), ``"text"`` (VARCHAR, all
    values text), ``"mixed"`` (VARCHAR holding SQLite's text rendering of numbers next to text: a value
    that looks like a number was one), ``"other"`` (anything else: left alone).
    """

    affinity: str
    kind: str


def column_comment(declared: str | None, classes: Collection[str]) -> str:
    """The DuckDB column comment with which the importer records a column's SQLite type.

    >>> column_comment("INT", {"integer", "text", "null"})
    'sqlite:{"type": "INT", "classes": ["integer", "text"]}'
    """
    import json

    body = {"type": declared or "", "classes": sorted(set(classes) - {"null"})}
    return COMMENT_PREFIX + json.dumps(body)


def sqlite_affinity(declared: str | None) -> str:
    """SQLite's column affinity of a declared type (https://sqlite.org/datatype3.html, 3.1).

    >>> sqlite_affinity("VARCHAR(20)"), sqlite_affinity("BIGINT"), sqlite_affinity(""), sqlite_affinity("DATE")
    ('TEXT', 'INTEGER', 'BLOB', 'NUMERIC')
    """
    t = (declared or "").upper()
    if "INT" in t:
        return "INTEGER"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "TEXT"
    if t == "" or "BLOB" in t:
        return "BLOB"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "REAL"
    return "NUMERIC"


_DUCKDB_NUMBERS = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "DOUBLE", "FLOAT", "DECIMAL", "UBIGINT")


def sqlite_column(duckdb_type: str, comment: str | None) -> SqliteColumn:
    """A column's :class:`SqliteColumn` from its DuckDB type and comment (the importer's, else none).

    Without the importer's comment (a DuckDB file of other origin) the affinity is the DuckDB type's.

    >>> sqlite_column("VARCHAR", column_comment("INT", {"integer", "text"}))
    SqliteColumn(affinity='INTEGER', kind='mixed')
    >>> sqlite_column("BIGINT", None), sqlite_column("VARCHAR", None)
    (SqliteColumn(affinity='INTEGER', kind='number'), SqliteColumn(affinity='TEXT', kind='text'))
    """
    import json

    t = duckdb_type.upper()
    number = t.startswith(_DUCKDB_NUMBERS)
    kind = "number" if number else "text" if t == "VARCHAR" else "other"
    info = None
    if comment and comment.startswith(COMMENT_PREFIX):
        try:
            info = json.loads(comment[len(COMMENT_PREFIX) :])
        except ValueError:
            info = None
    if isinstance(info, dict):
        affinity = sqlite_affinity(str(info.get("type", "")))
        classes = set(info.get("classes") or ())
        if kind == "text" and classes & {"integer", "real"}:
            kind = "mixed"
        return SqliteColumn(affinity, kind)
    if number:
        return SqliteColumn("INTEGER" if "INT" in t else "REAL", kind)
    return SqliteColumn("TEXT" if kind == "text" else "BLOB", kind)


_SQLITE_LOCK = threading.Lock()
_SQLITE_CON: list[sqlite3.Connection] = []


def _sqlite_eval(sql: str, *params: object) -> tuple:
    """One row computed by this Python's SQLite (an in-memory database, for literal conversions)."""
    with _SQLITE_LOCK:
        if not _SQLITE_CON:
            con = sqlite3.connect(":memory:", check_same_thread=False)
            con.execute("CREATE TABLE n (v NUMERIC)")
            _SQLITE_CON.append(con)
        con = _SQLITE_CON[0]
        if sql == "affinity":
            con.execute("INSERT INTO n VALUES (?)", params)
            row = con.execute("SELECT typeof(v), v FROM n").fetchone()
            con.execute("DELETE FROM n")
            return row
        return con.execute(sql, params).fetchone()


def _number_sql(value: object) -> str:
    """A DuckDB literal for a number SQLite computed."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return "CAST('" + ("nan" if value != value else "inf" if value > 0 else "-inf") + "' AS DOUBLE)"
        return f"CAST({value!r} AS DOUBLE)"
    return str(value)


def _string_sql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_INF = "CAST('inf' AS DOUBLE)"


def _as_number(col: str, convert_text: bool) -> str:
    """A DOUBLE view of a VARCHAR column for comparisons with numbers: text that looks like a number is
    that number (when ``convert_text``: SQLite's numeric affinity is applied, or the column is mixed);
    other text is +inf, above every number, as SQLite orders text after numbers."""
    if not convert_text:
        return f"(CASE WHEN {col} IS NOT NULL THEN {_INF} END)"
    return (
        f"(CASE WHEN regexp_full_match({col}, '{_LOOKS_NUMERIC}') "
        f"THEN CAST(regexp_extract({col}, '{_REAL_PREFIX}', 1) AS DOUBLE) "
        f"WHEN {col} IS NOT NULL THEN {_INF} END)"
    )


def _as_text(col: str) -> str:
    """A VARCHAR view of a mixed column for comparisons with text: numbers sort before all text (as '')."""
    return f"(CASE WHEN regexp_full_match({col}, '{_LOOKS_NUMERIC}') THEN '' ELSE {col} END)"


def _to_number(col: str, integer: bool = False) -> str:
    """SQLite's conversion of text to a number: the longest numeric prefix, else 0 (NULL stays NULL)."""
    pattern, target = (_INT_PREFIX, "BIGINT") if integer else (_REAL_PREFIX, "DOUBLE")
    return (
        f"CAST(coalesce(nullif(regexp_extract({col}, '{pattern}', 1), ''), "
        f"CASE WHEN {col} IS NOT NULL THEN '0' END) AS {target})"
    )


# The pre-check's coarse tokens: names and keywords, numbers, quotes, operators (quote characters of
# names are dropped, so ``"year" = 5`` reads as ``year = 5``; text inside strings is tokenized too,
# which can only make the pre-check say yes more often).
_COARSE_TOKEN = re.compile(r"[^\W\d][\w$]*|[0-9]+[.]?[0-9]*(?:[eE][-+]?[0-9]+)?|[.][0-9]+|'|[=<>!]+|[-+*/%(.]")
_COMPARISON_OPS = frozenset({"=", "==", "!=", "<>", "<", "<=", ">", ">="})
_ARITHMETIC_OPS = frozenset("-+*/%")
_PLAIN_NAME = re.compile(r"[^\W\d][\w$]*")
#: A quoted string or name (kept) or a comment (dropped by the affinity pre-check); an unclosed comment runs to the end.
_QUOTED_OR_COMMENT = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|/\*.*?(?:\*/|\Z)|--[^\n]*", re.S
)
_STAR_AFTER = frozenset({"select", "distinct", "all"})  # words a `*` after which is a star, not a product


def _number_bounds(toks: list[str], j: int) -> bool:
    """Whether coarse tokens from ``j`` read ``number AND number`` (each with an optional sign), and no more."""
    j = _signed_number_end(toks, j)
    if j is None or j >= len(toks) or toks[j] != "and":
        return False
    j = _signed_number_end(toks, j + 1)
    return j is not None and (j >= len(toks) or toks[j] not in _ARITHMETIC_OPS and toks[j] not in (".", "("))


def _signed_number_end(toks: list[str], j: int) -> int | None:
    """The index after a number (with an optional sign) starting at ``j``, or None."""
    if j < len(toks) and toks[j] in ("-", "+"):
        j += 1
    return j + 1 if j < len(toks) and _is_number(toks[j]) else None


def _is_word(tok: str) -> bool:
    return tok[:1].isalpha() or tok[:1] in "_$"


def _is_number(tok: str) -> bool:
    return tok[:1].isdigit() or (tok[:1] == "." and len(tok) > 1)


class AffinitySchema:
    """The column types of one database, for :func:`rewrite_affinity`, with its cheap pre-check.

    ``columns`` maps each table (and view) to its columns' :class:`SqliteColumn`, names in any case.
    """

    def __init__(self, columns: Mapping[str, Mapping[str, SqliteColumn]]) -> None:
        self.columns = {
            str(t).lower(): {str(c).lower(): info for c, info in cols.items()} for t, cols in columns.items()
        }
        self.number_names: set[str] = set()
        self.text_names: set[str] = set()
        for cols in self.columns.values():
            for name, info in cols.items():
                if info.kind == "number":
                    self.number_names.add(name)
                elif info.kind in ("text", "mixed"):
                    self.text_names.add(name)
        # names the patterns cannot capture whole (spaces, punctuation): any quoted name may be one
        self._odd_names = any(_PLAIN_NAME.fullmatch(n) is None for n in self.number_names | self.text_names)
        self._scan = AffinityNames(sorted(self.text_names), sorted(self.number_names))  # the compiled pass

    def candidate(self, sql: str, *, compiled: bool = True) -> bool:
        """False when :func:`rewrite_affinity` leaves ``sql`` as it is: no column of one type next to a
        literal of the other in a comparison (or BETWEEN, an IN list), no text column in arithmetic, sum,
        avg or CAST. One tokenization and a pass over the tokens, no parse; for an ASCII text both run in the
        compiled core (``sqlrl._core.AffinityNames``), the same reading as the Python pass below, which reads
        the other texts (``compiled=False``: every text, the reference the tests compare with). Not seen (left
        to the retry after DuckDB's type error): two columns of different types compared, a string literal in
        arithmetic. Comments are read as nothing.
        """
        if self._odd_names and any(q in sql for q in '"`['):
            return True
        if compiled and sql.isascii():
            scanned = self._scan.candidate(sql)  # None: a string or quoted name left open, read below
            if scanned is not None:
                return scanned
        texts, numbers = self.text_names, self.number_names
        if "/*" in sql or "--" in sql:  # comments read as nothing (quoted text kept whole)
            sql = _QUOTED_OR_COMMENT.sub(lambda m: m.group() if m.group()[0] in "'\"`[" else " ", sql)
        toks = [t.lower() for t in _COARSE_TOKEN.findall(sql)]
        n = len(toks)

        def word_after(j: int) -> str | None:  # the column name of a (qualified) name starting at j
            while j < n and _is_word(toks[j]):
                if j + 2 < n and toks[j + 1] == "." and _is_word(toks[j + 2]):
                    j += 2
                    continue
                return toks[j]
            return None

        for i, tok in enumerate(toks):
            if tok in _COMPARISON_OPS or tok == "is":
                j = i + 1
                if tok == "is" and j < n and toks[j] == "not":
                    j += 1
                if j < n and toks[j] in "-+":
                    j += 1
                right = toks[j] if j < n else ""
                left = toks[i - 1] if i > 0 else ""
                if _is_word(left) and ((_is_number(right) and left in texts) or (right == "'" and left in numbers)):
                    return True
                if _is_number(left) and word_after(i + 1) in texts:
                    return True
                if left == "'" and word_after(i + 1) in numbers:
                    return True
            elif tok in ("between", "in"):
                if tok == "in" and (
                    i + 1 >= n or toks[i + 1] != "(" or (i + 2 < n and toks[i + 2] in ("select", "with"))
                ):
                    continue
                k = i - 2 if i > 1 and toks[i - 1] == "not" else i - 1
                column = toks[k] if k >= 0 else ""
                if column in texts:
                    return True
                if column in numbers and not (tok == "between" and _number_bounds(toks, i + 1)):
                    return True  # a number column between two numbers needs nothing
            elif tok in _ARITHMETIC_OPS:
                if tok == "*" and (i == 0 or toks[i - 1] in "(." or toks[i - 1] in _STAR_AFTER):
                    continue  # count(*), SELECT *, t.*: no multiplication
                if i > 0 and toks[i - 1] in texts or word_after(i + 1) in texts:
                    return True
            elif tok in ("sum", "avg", "cast") and i + 1 < n and toks[i + 1] == "(":
                if word_after(i + 2) in texts:
                    return True
        return False

    def rewrite(self, sql: str, dialect: str = "sqlite") -> str | None:
        """:func:`rewrite_affinity` on this schema."""
        return rewrite_affinity(sql, self, dialect)


def rewrite_affinity(
    sql: str,
    schema: AffinitySchema | Mapping[str, Mapping[str, SqliteColumn]],
    dialect: str = "sqlite",
    *,
    tokens: bool = True,
) -> str | None:
    """SQLite's type affinity made explicit for DuckDB, which refuses or reads differently text compared
    with numbers, and text in arithmetic; None when nothing changes (or sqlglot cannot parse the text).

    Comparisons (``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``, ``IS``, ``BETWEEN``, ``IN`` lists and
    ``IN (SELECT ...)``) between a column and a literal or a column of the other type follow
    https://sqlite.org/datatype3.html, 4.2: a column of numeric affinity turns a text operand that looks
    like a number into that number; a TEXT column turns a number into its text (``year >= 2014`` on a
    TEXT column compares ``year >= '2014'``); otherwise numbers sort before all text. Literals are
    converted here by this Python's SQLite; a VARCHAR column compared with a number is read as the
    number it spells, else as +inf (above every number); a mixed column (numbers and text, see the
    importer) compared with text reads its numbers as ``''``. Text in arithmetic (``1.0 * name``,
    ``x + 1``), ``sum`` and ``avg``, and in ``CAST(... AS INT|REAL|NUMERIC)`` is converted as SQLite
    does: the longest numeric prefix, else 0. Every other byte of the text is kept. A plain SELECT of SQLite's
    is read from its tokens (:func:`~sqlrl.sql.affinity_rewrite.affinity_edits`, by the same rules), any other
    text by a sqlglot parse (``tokens=False``: always parsed, the reference the token reading is tested against).

    >>> cols = {"concert": {"year": SqliteColumn("TEXT", "text"), "id": SqliteColumn("INTEGER", "number")}}
    >>> rewrite_affinity("SELECT id FROM concert WHERE year >= 2014 AND id = '3'", cols)
    "SELECT id FROM concert WHERE year >= '2014' AND id = 3"
    """
    if not isinstance(schema, AffinitySchema):
        schema = AffinitySchema(schema)
    if tokens and dialect == "sqlite":
        converted = affinity_edits(sql, schema)
        if converted is not UNREAD:
            return converted
    from sqlglot import exp

    tree = _parse(sql, dialect)
    if tree is None:
        return None
    ctes = {cte.alias.lower(): cte for cte in tree.find_all(exp.CTE) if cte.alias}
    rw = _AffinityRewrite(sql, _Types(schema.columns, ctes))
    comparisons = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ)
    arithmetic = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)
    for node in list(tree.walk()):
        if isinstance(node, comparisons):
            rw.compare(node.this, node.expression)
        elif isinstance(node, exp.Between):
            rw.compare(node.this, node.args.get("low"))
            rw.compare(node.this, node.args.get("high"))
        elif isinstance(node, exp.In):
            query = node.args.get("query")
            if query is not None:
                inner = query.this if isinstance(query, exp.Subquery) else query
                if isinstance(inner, exp.Select) and len(inner.expressions) == 1:
                    rw.compare(node.this, inner.expressions[0].unalias())  # as node.this = that column
            for item in node.expressions:
                rw.compare(node.this, item, lists=True)
        elif isinstance(node, arithmetic):
            rw.to_number(node.this)
            rw.to_number(node.expression)
        elif isinstance(node, exp.Neg):
            rw.to_number(node.this)
        elif isinstance(node, (exp.Sum, exp.Avg)):
            rw.to_number(node.this)
        elif isinstance(node, exp.Cast) and node.to is not None:
            name = node.to.sql(dialect="sqlite").upper().split("(")[0].strip()
            if name in CAST_TYPES or name in ("NUMERIC", "BIGINT"):
                rw.to_number(node.this, integer=CAST_TYPES.get(name, name) == "BIGINT")
    return _apply(sql, list(rw.edits.values())) if rw.edits else None


class _Types:
    """The SqliteColumn a column reference resolves to, per SQLite's scoping; None when it cannot be told."""

    def __init__(self, tables: dict[str, dict[str, SqliteColumn]], ctes: dict[str, object]) -> None:
        self.tables = tables
        self.ctes = ctes
        self._cte_cols: dict[str, dict[str, SqliteColumn | None] | None] = {}

    def column(self, col: object) -> SqliteColumn | None:
        from sqlglot import exp

        name, qualifier = col.name.lower(), col.table.lower()
        node = col.parent
        while node is not None:
            if isinstance(node, exp.Select):
                sources = self.sources(node)
                if qualifier:
                    if qualifier in sources:
                        cols = sources[qualifier]
                        return None if cols is None else cols.get(name)
                else:
                    found = [cols for cols in sources.values() if cols is None or name in cols]
                    if len(found) > 1 or (found and found[0] is None):
                        return None  # ambiguous, or a source whose columns are unknown
                    if found:
                        return found[0][name]
            node = node.parent
        return None

    def sources(self, select: object) -> dict[str, dict[str, SqliteColumn | None] | None]:
        from sqlglot import exp

        out: dict[str, dict[str, SqliteColumn | None] | None] = {}
        from_ = select.args.get("from_") or select.args.get("from")
        items = [from_.this] if from_ is not None else []
        items.extend(j.this for j in select.args.get("joins") or [])
        for src in items:
            if isinstance(src, exp.Table) and isinstance(src.this, exp.Identifier):
                key = src.alias_or_name.lower()
                out[key] = self.table(src)
            elif isinstance(src, exp.Subquery):
                out[src.alias.lower() if src.alias else f"<subquery {id(src)}>"] = self.outputs(src.this)
            else:
                out[f"<unknown {id(src)}>"] = None
        return out

    def table(self, src: object) -> dict[str, SqliteColumn | None] | None:
        key = src.name.lower()
        if not src.args.get("db") and key in self.ctes:
            if key not in self._cte_cols:
                self._cte_cols[key] = None  # a recursive CTE reading itself: unknown
                cte = self.ctes[key]
                alias = cte.args.get("alias")
                if alias is not None and alias.args.get("columns"):
                    self._cte_cols[key] = None  # renamed columns: not followed
                else:
                    self._cte_cols[key] = self.outputs(cte.this)
            return self._cte_cols[key]
        cols = self.tables.get(key)
        return dict(cols) if cols is not None else None

    def outputs(self, query: object) -> dict[str, SqliteColumn | None] | None:
        """A subquery's result columns: a plain column keeps its type (and SQLite its affinity)."""
        from sqlglot import exp

        if not isinstance(query, exp.Select):
            return None  # set operations, VALUES: not followed
        out: dict[str, SqliteColumn | None] = {}
        for p in query.expressions:
            if isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star)):
                return None
            inner = p.unalias()
            out[p.alias_or_name.lower()] = self.column(inner) if isinstance(inner, exp.Column) else None
        return out


class _AffinityRewrite:
    def __init__(self, sql: str, types: _Types) -> None:
        self.sql = sql
        self.types = types
        self.edits: dict[tuple[int, int], tuple[int, int, str]] = {}
        self._tokens: list | None = None

    # operands ----------------------------------------------------------------------------------
    def operand(self, node: object) -> tuple[str, object, tuple[int, int]] | None:
        """("col", SqliteColumn, span), ("num", text, span), ("str", text, span) or ("sub", None, span) for a
        scalar subquery without affinity (its one result is no plain column); None for anything else."""
        from sqlglot import exp

        while isinstance(node, exp.Paren):
            node = node.this  # (col) keeps the column's affinity
        if isinstance(node, (exp.Max, exp.Min)) and isinstance(node.this, exp.Column) and not node.expressions:
            # max(col)/min(col): the column's values, but no affinity (SQLite: max(year) = 2015 is false)
            inner = self.operand(node.this)
            span = self.call_span(inner[2], ("max", "min")) if inner is not None and inner[0] == "col" else None
            if span is None:
                return None
            return ("col", SqliteColumn("BLOB", inner[1].kind), span)
        if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
            info = self.types.column(node)
            span = _column_span(node)
            if info is None or span is None:
                return None
            return ("col", info, span)
        if isinstance(node, exp.Literal):
            span = _span(node)
            if span is None:
                return None
            if node.is_string:
                return ("str", node.this, span)
            return ("num", self.sql[span[0] : span[1]], span)
        if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select) and len(node.this.expressions) == 1:
            # a scalar subquery has the affinity of its result column: none unless it is a plain column
            inner = node.this.expressions[0].unalias()
            if isinstance(inner, (exp.Column, exp.Star)) or not node.this.args.get("from_", node.this.args.get("from")):
                return None
            span = self.subquery_span(node)
            return None if span is None else ("sub", None, span)
        if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
            span = _span(node.this)
            if span is None:
                return None
            start = span[0] - 1
            while start >= 0 and self.sql[start].isspace():
                start -= 1
            if start < 0 or self.sql[start] != "-":
                return None
            return ("num", "-" + self.sql[span[0] : span[1]], (start, span[1]))
        return None

    def subquery_span(self, node: object) -> tuple[int, int] | None:
        """The span of ``( SELECT ... )`` around a subquery node, from the tokens; None if it cannot be told."""
        from sqlglot.tokens import TokenType

        starts = [n.meta["start"] for n in node.walk() if n.meta.get("start") is not None]
        if not starts:
            return None
        if self._tokens is None:
            self._tokens = _sqlite_tokens(self.sql) or []
        toks = self._tokens
        first = next((i for i, t in enumerate(toks) if t.start == min(starts)), None)
        if first is None:
            return None
        depth, open_ = 0, None
        for i in range(first - 1, -1, -1):  # the nearest unclosed "(" followed by SELECT
            kind = toks[i].token_type
            if kind == TokenType.R_PAREN:
                depth += 1
            elif kind == TokenType.L_PAREN:
                if depth:
                    depth -= 1
                elif i + 1 < len(toks) and toks[i + 1].token_type in (TokenType.SELECT, TokenType.WITH):
                    open_ = i
                    break
        if open_ is None:
            return None
        depth = 0
        for i in range(open_, len(toks)):
            kind = toks[i].token_type
            depth += kind == TokenType.L_PAREN
            depth -= kind == TokenType.R_PAREN
            if depth == 0:
                return (toks[open_].start, toks[i].end + 1)
        return None

    def call_span(self, arg: tuple[int, int], names: tuple[str, ...]) -> tuple[int, int] | None:
        """The span of ``name(arg)`` around the span of its one argument; None if the text is otherwise."""
        sql = self.sql
        i = arg[0] - 1
        while i >= 0 and sql[i].isspace():
            i -= 1
        if i < 0 or sql[i] != "(":
            return None
        i -= 1
        while i >= 0 and sql[i].isspace():
            i -= 1
        for name in names:
            start = i - len(name) + 1
            if start >= 0 and sql[start : i + 1].lower() == name and (start == 0 or not _is_word(sql[start - 1])):
                break
        else:
            return None
        j = arg[1]
        while j < len(sql) and sql[j].isspace():
            j += 1
        if j >= len(sql) or sql[j] != ")":
            return None
        return (start, j + 1)

    def edit(self, span: tuple[int, int], text: str) -> None:
        if any(s < span[1] and span[0] < e for s, e in self.edits):
            return  # one edit per piece of text
        self.edits[span] = (span[0], span[1], text)

    def text(self, span: tuple[int, int]) -> str:
        return self.sql[span[0] : span[1]]

    # rules -------------------------------------------------------------------------------------
    def compare(self, a: object, b: object, *, lists: bool = False) -> None:
        if a is None or b is None:
            return
        self.compare_operands(self.operand(a), self.operand(b), lists=lists)

    def compare_operands(self, oa: tuple | None, ob: tuple | None, *, lists: bool = False) -> None:
        """The rules for a comparison of two operands (:meth:`operand`'s tuples; None: not one of those)."""
        if oa is None or ob is None:
            return
        if lists and ob[0] == "col":
            return  # x IN (col, ...): the list's values have no affinity of their own
        if oa[0] != "col" and ob[0] == "col":
            oa, ob = ob, oa
        if oa[0] != "col":
            return
        col: SqliteColumn = oa[1]
        if ob[0] == "sub":
            if not lists and col.kind == "text" and col.affinity == "TEXT":
                # no affinity meets TEXT: SQLite compares the subquery's value as text
                self.edit((ob[2][0], ob[2][0]), "CAST(")
                self.edit((ob[2][1], ob[2][1]), " AS VARCHAR)")
            return
        if ob[0] == "col":
            self.compare_columns(oa, ob)
        elif ob[0] == "num":
            self.column_vs_number(oa, ob)
        else:
            self.column_vs_string(oa, ob, col)

    def column_vs_number(self, oc: tuple, on: tuple) -> None:
        info: SqliteColumn = oc[1]
        if info.kind == "text" and info.affinity == "TEXT":
            try:
                (text,) = _sqlite_eval(f"SELECT CAST({on[1]} AS TEXT)")
            except sqlite3.Error:
                return  # a number SQLite does not read: its own error
            self.edit(on[2], _string_sql(text))
        elif info.kind in ("text", "mixed"):
            convert = info.affinity in NUMERIC_AFFINITIES or info.kind == "mixed"
            self.edit(oc[2], _as_number(self.text(oc[2]), convert))

    def column_vs_string(self, oc: tuple, os_: tuple, info: SqliteColumn) -> None:
        value = None
        if info.affinity in NUMERIC_AFFINITIES:
            kind, converted = _sqlite_eval("affinity", os_[1])
            if kind in ("integer", "real"):
                value = converted
        if info.kind == "number":
            self.edit(os_[2], _number_sql(value) if value is not None else _INF)
        elif info.kind == "mixed" or (info.kind == "text" and info.affinity != "TEXT"):
            if value is not None:
                self.edit(oc[2], _as_number(self.text(oc[2]), True))
                self.edit(os_[2], _number_sql(value))
            elif info.kind == "mixed":
                self.edit(oc[2], _as_text(self.text(oc[2])))

    def compare_columns(self, oa: tuple, ob: tuple) -> None:
        a, b = oa[1], ob[1]
        if a.kind == b.kind or "other" in (a.kind, b.kind):
            return
        if a.kind != "number":
            oa, ob, a, b = ob, oa, b, a
        if a.kind != "number":
            return  # text against mixed: left as it is
        # a holds numbers, b text (or mixed)
        if a.affinity in NUMERIC_AFFINITIES or b.affinity in NUMERIC_AFFINITIES:
            self.edit(ob[2], _as_number(self.text(ob[2]), True))  # numeric affinity applied to the text side
        elif b.affinity == "TEXT":
            self.edit(oa[2], f"CAST({self.text(oa[2])} AS VARCHAR)")  # TEXT affinity applied to the numbers
        else:
            self.edit(ob[2], _as_number(self.text(ob[2]), b.kind == "mixed"))  # no affinity: as stored

    def to_number(self, node: object, integer: bool = False) -> None:
        self.number_operand(self.operand(node), integer)

    def number_operand(self, o: tuple | None, integer: bool = False) -> None:
        """The rule for an operand of arithmetic, ``sum``, ``avg`` or a numeric CAST."""
        if o is None:
            return
        if o[0] == "col" and o[1].kind in ("text", "mixed"):
            self.edit(o[2], _to_number(self.text(o[2]), integer))
        elif o[0] == "str":
            fn = "CAST(? AS INTEGER)" if integer else "CAST(? AS NUMERIC)"
            (value,) = _sqlite_eval(f"SELECT {fn}", o[1])
            self.edit(o[2], _number_sql(value))
