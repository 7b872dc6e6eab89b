"""SQLite's bare columns made explicit for DuckDB from tokens, for plain SELECTs (:mod:`sqlrl.sql.plain_select`).

:func:`~sqlrl.sql.sqlite_compat.rewrite_bare_columns` reads a query with sqlglot and wraps each column that
is neither grouped nor aggregated in ``ANY_VALUE(...)`` (or ``ARG_MAX``/``ARG_MIN`` when the select list has
one ``max``/``min``). :func:`bare_column_edits` makes the same edits from tokens where, besides the text being
plain:

- the GROUP BY keys are columns (``a``, ``t.a``), not positions or expressions;
- the select list, HAVING and ORDER BY hold columns, numbers, strings, operators, ``CASE``, ``CAST(x AS
  type)``, the aggregates ``count``, ``sum``, ``avg``, ``min`` and ``max`` of one argument, and the scalar
  functions of :data:`SCALARS`; aliases written with ``AS``.

Anything else makes it answer :data:`~sqlrl.sql.plain_select.UNREAD`, and the caller parses.
"""

from __future__ import annotations

from sqlrl.sql.plain_select import (
    CLAUSES,
    NAME,
    SET_OPERATORS,
    UNREAD,
    Token,
    Unread,
    apply_edits,
    closing,
    column_at,
    read_selects,
    read_tokens,
    split_items,
)

__all__ = ["SCALARS", "UNREAD", "bare_column_edits"]

#: Aggregates read here, each over one argument (sqlglot reads each as an aggregate).
AGGREGATES = frozenset({"count", "sum", "avg", "min", "max"})

#: Scalar functions whose arguments are expressions of the same SELECT (sqlglot reads none as an aggregate).
SCALARS = frozenset(
    {
        *("abs", "round", "upper", "lower", "length", "substr", "substring", "trim", "ltrim", "rtrim"),
        *("coalesce", "ifnull", "nullif", "iif", "instr", "replace", "cast"),
        *("regexp_extract", "regexp_full_match"),  # written by the affinity rewrite, which comes first
    }
)

#: Words that are no column where they stand: operators, the parts of CASE and ORDER BY items, AS.
WORDS = frozenset(
    {
        *("and", "or", "not", "is", "null", "in", "like", "glob", "between", "case", "when", "then", "else"),
        *("end", "asc", "desc", "nulls", "distinct", "as"),
    }
)

_OPERATORS = frozenset({"*", "/", "%", "+", "-", "=", "<", ">", "<=", ">=", "<>", "!=", "==", "||"})


def bare_column_edits(sql: str) -> str | None | object:
    """``sql`` with its bare columns wrapped as :func:`~sqlrl.sql.sqlite_compat.rewrite_bare_columns` wraps
    them, None when it has none, :data:`~sqlrl.sql.plain_select.UNREAD` when the text is not read here.

    >>> bare_column_edits("SELECT T2.name, count(*) FROM s AS T2 JOIN c AS T1 USING (id) GROUP BY T1.id")
    'SELECT ANY_VALUE(T2.name), count(*) FROM s AS T2 JOIN c AS T1 USING (id) GROUP BY T1.id'
    >>> bare_column_edits("SELECT name, max(age) FROM singer")
    'SELECT ARG_MAX(name, age), max(age) FROM singer'
    >>> bare_column_edits("SELECT name FROM t WHERE age > (SELECT avg(age) FROM t)") is UNREAD
    True
    """
    try:
        edits: list[tuple[int, int, str]] = []
        for select in read_selects(read_tokens(sql)):
            edits += _select_edits(sql, select)
    except Unread:
        return UNREAD
    return apply_edits(sql, edits) if edits else None


def _select_edits(sql: str, clauses: dict[str, list[Token]]) -> list[tuple[int, int, str]]:
    """The wraps of one SELECT's bare columns."""
    select = clauses["select"]
    if select[0][0] in ("distinct", "all"):
        select = select[1:]
    keys: set[str] = set()
    for key in split_items(clauses.get("group", [])):
        col = column_at(key, 0, WORDS)
        if col is None or col[0] != len(key):
            raise Unread  # GROUP BY 2, GROUP BY upper(x): sqlglot compares such keys as expressions
        keys.add(f"{col[2]}.{col[3]}" if col[2] else col[3])
    aliases: set[str] = set()
    bodies = []
    for item in split_items(select):
        if len(item) > 2 and item[-2][0] == "as":
            if NAME.fullmatch(item[-1][0]) is None or item[-1][0] in WORDS:
                raise Unread
            aliases.add(sql[item[-1][1] : item[-1][2]])  # as written: sqlglot compares aliases case-sensitively
            item = item[:-2]
        bodies.append(item)
    aggregates: list[list[Token]] = []  # each aggregate call of the select list: its name, then its argument
    columns: list[tuple[int, int, str | None, str]] = []  # (start, end, qualifier, name) outside aggregates
    for item in bodies:
        _read(item, columns, aggregates)
    if "group" not in clauses and not aggregates:
        return []
    for part in ("having", "order"):
        if part in clauses:
            _read(clauses[part], columns, [])
    head, tail = "ANY_VALUE(", ")"
    if len(aggregates) == 1 and aggregates[0][0][0] in ("max", "min"):
        arg = aggregates[0][1:]
        col = column_at(arg, 0, WORDS) if arg else None
        if col is None or col[0] != len(arg):
            raise Unread  # sqlglot writes the argument out again: only a column is written here as it would
        head = "ARG_MAX(" if aggregates[0][0][0] == "max" else "ARG_MIN("
        tail = ", " + ".".join(sql[t[1] : t[2]] for t in arg if t[0] != ".") + ")"
    edits = []
    for start, end, qualifier, name in columns:
        if (f"{qualifier}.{name}" if qualifier else name) in keys:
            continue
        if qualifier is not None and name in keys:
            continue
        if qualifier is None and (any(k.rsplit(".", 1)[-1] == name for k in keys) or sql[start:end] in aliases):
            continue
        edits.append((start, end, head + sql[start:end] + tail))
    return edits


def _read(tokens: list[Token], columns: list[tuple[int, int, str | None, str]], aggregates: list[list[Token]]) -> None:
    """Add the columns ``tokens`` name outside aggregate calls to ``columns``, and each aggregate call (its
    name's token, then its argument's tokens) to ``aggregates``."""
    j, n = 0, len(tokens)
    previous = ""  # "operand" when a value ends at the token before
    while j < n:
        w = tokens[j][0]
        nxt = tokens[j + 1][0] if j + 1 < n else ""
        if w == "nulls" and nxt in ("first", "last"):
            j += 2  # ORDER BY x NULLS FIRST
            continue
        if nxt == "(" and NAME.fullmatch(w) and w not in WORDS:
            if previous == "operand":
                raise Unread
            close = closing(tokens, j + 1)
            if w in AGGREGATES:
                arg = tokens[j + 2 : close]
                if not arg or any(t[0] == "," for t in arg) or arg[0][0] in ("distinct", "all"):
                    raise Unread  # min(a, b) is a scalar in SQLite; DISTINCT: kept to the simple form
                if [t[0] for t in arg] != ["*"] and any(t[0] == "(" for t in arg):
                    raise Unread
                aggregates.append([tokens[j], *arg])
                j, previous = close + 1, "operand"
                continue
            if w not in SCALARS:
                raise Unread  # a function sqlglot may read as an aggregate, or a table function
            if w == "cast":
                _read_cast(tokens, j + 2, close, columns)
                j, previous = close + 1, "operand"
                continue
            j, previous = j + 2, ""  # the arguments are read as they come
            continue
        if w == "as" or w in CLAUSES or w in SET_OPERATORS:
            raise Unread  # an alias inside an expression, a clause word inside parentheses
        col = column_at(tokens, j, WORDS)
        if col is not None:
            if previous == "operand":
                raise Unread  # two values in a row: an alias without AS
            end, start, qualifier, name = col
            columns.append((start, tokens[end - 1][2], qualifier, name))
            j, previous = end, "operand"
            continue
        if w in ("(", ",") or w in WORDS:
            previous = "operand" if w == "end" else ""
        elif w == ")":
            previous = "operand"
        elif w[0].isdigit() or w[0] == "'":
            if previous == "operand":
                raise Unread
            previous = "operand"
        elif w in _OPERATORS:
            previous = ""
        else:
            raise Unread
        j += 1


def _read_cast(tokens: list[Token], start: int, close: int, columns: list[tuple[int, int, str | None, str]]) -> None:
    """``CAST(expression AS type)`` with a one-word type: the expression's columns."""
    if close - start < 3 or tokens[close - 2][0] != "as" or NAME.fullmatch(tokens[close - 1][0]) is None:
        raise Unread
    _read(tokens[start : close - 2], columns, [])
