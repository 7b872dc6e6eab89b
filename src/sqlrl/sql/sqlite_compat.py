"""Rewrites that make SQLite-dialect queries behave on DuckDB as they do on SQLite.

Used by the DuckDB engine when ``sqlite_compat`` is on, together with the settings in
:data:`sqlrl.sandbox.duckdb_engine.SQLITE_COMPAT_SETTINGS`, and by
:func:`sqlrl.sql.dialects.transpile` for SQLite-to-DuckDB output. A number glued to a name
(``18_49_Rating_Share``, a Spider column, unquoted) is refused as SQLite refuses it
(:func:`unrecognized_token`), where DuckDB would read ``1849 AS _Rating_Share``. Two kinds of
rewrites, by cost:

- :func:`rewrite_tokens` runs on every query that mentions ``LIKE`` or ``CAST`` (one pass of
  sqlglot's tokenizer, 20-150 us; untouched text is kept byte for byte):

  * ``LIKE`` -> ``ILIKE``: SQLite's LIKE ignores the case of ASCII letters. For a string
    pattern holding non-ASCII letters (which SQLite compares case-sensitively, but ILIKE
    would fold) the query is instead parsed and each such ``x LIKE p`` becomes
    ``translate(x, 'A..Z', 'a..z') LIKE translate(p, 'A..Z', 'a..z')``, exactly SQLite's rule.
  * ``CAST(x AS REAL|FLOAT|DOUBLE|NUMERIC|DECIMAL)`` -> ``CAST(x AS DOUBLE)`` (SQLite's REAL is
    a 64-bit double, DuckDB's REAL a 32-bit float, DuckDB's NUMERIC a DECIMAL(18,3));
    ``CAST(x AS INT|INTEGER|...)`` -> ``CAST(x AS BIGINT)`` (SQLite integers are 64-bit).

- :func:`rewrite_bare_columns` runs only after DuckDB refused a query because a selected
  column is neither grouped nor aggregated, which SQLite allows (and Spider's gold queries
  use: ``SELECT T2.name, count(*) ... GROUP BY T1.id``). Such columns are wrapped in
  ``ANY_VALUE(...)``, or, when the query's only aggregate is ``max(y)``/``min(y)``, in
  ``arg_max(col, y)``/``arg_min(col, y)``: SQLite then takes the bare column from the row
  holding the extreme value.

Not rewritten (see ``benchmarks/ENGINE_COMPAT.md``): comparisons between text and numbers
(DuckDB refuses them, SQLite applies column affinity), SQLite-only functions (``strftime``
with SQLite's argument order, ``julianday``, ``iif``; sqlglot's transpiler handles some),
``CAST(real AS INT)`` (SQLite truncates, DuckDB rounds), ``typeof``, the order of rows that
tie under ``ORDER BY``, and Unicode case mapping in ``upper``/``lower``.

The sandbox imports this module at module level, so sqlglot (and :mod:`sqlrl.sql.dialects`, which
imports it) is imported only inside the functions that tokenize or parse.
"""

from __future__ import annotations

import re
import sqlite3

__all__ = ["BARE_COLUMN_ERROR", "CAST_TYPES", "rewrite_bare_columns", "rewrite_tokens", "unrecognized_token"]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = _UPPER.lower()

#: Type names in CAST that are rewritten, and what they become.
CAST_TYPES = {
    "REAL": "DOUBLE", "FLOAT": "DOUBLE", "DOUBLE": "DOUBLE", "DOUBLE PRECISION": "DOUBLE",
    "NUMERIC": "DOUBLE", "DECIMAL": "DOUBLE",
    "INT": "BIGINT", "INTEGER": "BIGINT", "TINYINT": "BIGINT", "SMALLINT": "BIGINT", "MEDIUMINT": "BIGINT",
    "INT2": "BIGINT", "INT4": "BIGINT", "INT8": "BIGINT",
}  # fmt: skip


# A word that starts with a digit and has a letter or ``_`` later: the texts that may hold a
# number glued to a name (false positives such as ``1e5`` or ``'3rd'`` are sorted out by tokens).
_GLUED_CANDIDATE = re.compile(r"(?<![\w$])[0-9][\w.$]*[^\W0-9]")


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
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    from sqlrl.sql.dialects import reader

    try:
        tokens = reader("sqlite").tokenize(sql)
    except (SqlglotError, ValueError):
        return None  # the engine reports it
    for tok in tokens:
        text = sql[tok.start : tok.end + 1]
        if (tok.token_type == TokenType.VAR and text[:1].isdigit()) or (
            tok.token_type == TokenType.NUMBER and "_" in text and sqlite3.sqlite_version_info < (3, 46)
        ):
            return f'unrecognized token: "{text}"'
    return None


def _has_cased_non_ascii(text: str) -> bool:
    return any(not ch.isascii() and ch.lower() != ch.upper() for ch in text)


def rewrite_tokens(sql: str, dialect: str = "sqlite") -> str:
    """LIKE -> ILIKE and CAST type names, on tokens (strings, identifiers and comments untouched).

    >>> rewrite_tokens("SELECT CAST(a AS REAL) FROM t WHERE b NOT LIKE 'x%'")
    "SELECT CAST(a AS DOUBLE) FROM t WHERE b NOT ILIKE 'x%'"
    >>> sql = rewrite_tokens("SELECT name FROM t WHERE name LIKE '%ö%'")
    >>> print(sql.replace(_UPPER, "A..Z").replace(_LOWER, "a..z"))
    SELECT name FROM t WHERE TRANSLATE(name, 'A..Z', 'a..z') LIKE TRANSLATE('%ö%', 'A..Z', 'a..z')
    """
    low = sql.lower()
    if "like" not in low and "cast" not in low:
        return sql
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    from sqlrl.sql.dialects import reader

    try:
        tokens = reader(dialect).tokenize(sql)
    except (SqlglotError, ValueError):
        return sql
    edits: list[tuple[int, int, str]] = []
    exact_like = False
    n = len(tokens)
    for i, tok in enumerate(tokens):
        if tok.token_type == TokenType.LIKE and sql[tok.start : tok.end + 1].upper() == "LIKE":
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
            edit = _cast_type_edit(sql, tokens, i + 1)
            if edit is not None:
                edits.append(edit)
    if exact_like:
        rewritten = _exact_like(sql, dialect)
        if rewritten is not None:
            return rewrite_tokens(rewritten, "duckdb") if "cast" in low else rewritten
    return _apply(sql, edits)


def _cast_type_edit(sql: str, tokens: list, open_paren: int) -> tuple[int, int, str] | None:
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
                    return None
                start, end = tokens[alias_at + 1].start, tokens[j - 1].end + 1
                name = " ".join(sql[start:end].upper().split())
                target = CAST_TYPES.get(name)
                return None if target is None or name == target else (start, end, target)
        elif t == TokenType.ALIAS and depth == 1 and tokens[j].text.upper() == "AS":
            alias_at = j
    return None


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


def rewrite_bare_columns(sql: str, dialect: str = "sqlite") -> str | None:
    """Wrap columns that are neither grouped nor aggregated, as SQLite reads them; None if nothing changed.

    >>> rewrite_bare_columns("SELECT name, max(age) FROM singer")
    'SELECT ARG_MAX(name, age), MAX(age) FROM singer'
    >>> rewrite_bare_columns("SELECT T2.name, count(*) FROM s AS T2 JOIN c AS T1 USING (id) GROUP BY T1.id")
    'SELECT ANY_VALUE(T2.name), COUNT(*) FROM s AS T2 JOIN c AS T1 USING (id) GROUP BY T1.id'
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    from sqlrl.sql.dialects import reader

    try:
        tree = sqlglot.parse_one(sql, read=reader(dialect))
    except (SqlglotError, ValueError, RecursionError):
        return None
    changed = False
    for select in list(tree.find_all(exp.Select)):
        group = select.args.get("group")
        keys = set()
        for g in group.expressions if group else []:
            if isinstance(g, exp.Literal) and g.is_int and 0 < int(g.this) <= len(select.expressions):
                g = select.expressions[int(g.this) - 1].unalias()  # GROUP BY 2
            keys.add(_key(g))
        aggs = [a for p in select.expressions for a in _own_nodes(p) if isinstance(a, exp.AggFunc)]
        if not group and not aggs:
            continue
        aliases = {p.alias for p in select.expressions if isinstance(p, exp.Alias)}
        single = aggs[0] if len(aggs) == 1 and isinstance(aggs[0], (exp.Max, exp.Min)) else None

        def wrap(col: exp.Column, single: exp.AggFunc | None = single) -> exp.Expression:
            if single is not None:
                cls = exp.ArgMax if isinstance(single, exp.Max) else exp.ArgMin
                return cls(this=col.copy(), expression=single.this.copy())
            return exp.AnyValue(this=col.copy())

        targets = list(select.expressions)
        for arg in ("order", "having"):
            if select.args.get(arg) is not None:
                targets.append(select.args[arg])
        for target in targets:
            for col in [c for c in _own_nodes(target) if isinstance(c, exp.Column)]:
                if _grouped(col, keys) or _inside_aggregate(col, stop=target):
                    continue
                if not col.table and col.name in aliases:
                    continue  # ORDER BY an output alias
                col.replace(wrap(col))
                changed = True
    return tree.sql(dialect="duckdb") if changed else None


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
