"""Rewrites that make SQLite-dialect queries behave on DuckDB as they do on SQLite.

Used by the DuckDB engine when ``sqlite_compat`` is on, together with the settings in
:data:`sqlrl.sandbox.duckdb_engine.SQLITE_COMPAT_SETTINGS`, and by
:func:`sqlrl.sql.dialects.transpile` for SQLite-to-DuckDB output. A number glued to a name
(``18_49_Rating_Share``, a Spider column, unquoted) is refused as SQLite refuses it
(:func:`unrecognized_token`), where DuckDB would read ``1849 AS _Rating_Share``, and so is a
quantified comparison (``x > ALL (SELECT ...)``, :func:`quantified_comparison`), which SQLite's
grammar lacks. Three kinds of rewrites, by cost:

- :func:`rewrite_double_quoted` runs on queries holding a double quote, once per distinct text
  (the DuckDB engine caches it, with the database's schema): SQLite reads a double-quoted name that
  is no column in scope as a string literal (``STATE_NAME = "texas"``, as text2sql-data's gold
  queries write values), DuckDB refuses it. Such names become single-quoted strings.

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
from collections.abc import Collection, Mapping

__all__ = [
    "BARE_COLUMN_ERROR",
    "CAST_TYPES",
    "quantified_comparison",
    "rewrite_bare_columns",
    "rewrite_double_quoted",
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


# A quantifier keyword before a parenthesis: the texts that may hold ``x > ALL (SELECT ...)``.
_QUANTIFIER_CANDIDATE = re.compile(r"(?i)(?<![\w$])(?:all|any|some)\s*\(")


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
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    from sqlrl.sql.dialects import reader

    try:
        tokens = reader("sqlite").tokenize(sql)
    except (SqlglotError, ValueError):
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
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    from sqlrl.sql.dialects import reader

    try:
        tree = sqlglot.parse_one(sql, read=reader(dialect))
    except (SqlglotError, ValueError, RecursionError):
        return None
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
