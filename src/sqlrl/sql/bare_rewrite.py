"""SQLite's bare columns made explicit for DuckDB without a parse, for the plain SELECTs most texts are.

:func:`~sqlrl.sql.sqlite_compat.rewrite_bare_columns` reads a query with sqlglot and wraps each column that
is neither grouped nor aggregated in ``ANY_VALUE(...)`` (or ``ARG_MAX``/``ARG_MIN`` when the select list has
one ``max``/``min``). A sqlglot parse costs the DuckDB sandbox far more than its own time when it comes
between DuckDB's queries (measured in ``benchmarks/ENGINE_COMPAT.md``). :func:`bare_column_edits` makes the
same edits from one regex tokenization, for texts whose every SELECT it reads whole:

- SELECTs joined by UNION, INTERSECT or EXCEPT (no ORDER BY or LIMIT after a compound), no subquery, CTE,
  window or filter;
- GROUP BY keys that are columns (``a``, ``t.a``), not positions or expressions;
- in the select list, HAVING and ORDER BY: columns, numbers, strings, operators, ``CASE``, ``CAST(x AS
  type)``, the aggregates ``count``, ``sum``, ``avg``, ``min`` and ``max`` of one argument, and the scalar
  functions of :data:`SCALARS`; aliases written with ``AS``.

Anything else (a quoted name, a keyword it does not know, a function not listed, an alias without AS) makes
it answer :data:`UNREAD`, and the caller parses. The answer it gives equals ``rewrite_bare_columns``'s on
every such text (``tests/test_bare_rewrite.py`` compares the two on the toy corpus and its mutations).
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlrl.sql.bare_columns import _TOKEN

__all__ = ["SCALARS", "UNREAD", "bare_column_edits"]

#: The answer for a text this reader does not read whole: parse it.
UNREAD = object()

#: Aggregates read here, each over one argument (sqlglot reads each as an aggregate).
_AGGREGATES = frozenset({"count", "sum", "avg", "min", "max"})

#: Scalar functions whose arguments are columns of the same SELECT (sqlglot reads none as an aggregate).
SCALARS = frozenset(
    {
        *("abs", "round", "upper", "lower", "length", "substr", "substring", "trim", "ltrim", "rtrim"),
        *("coalesce", "ifnull", "nullif", "iif", "instr", "replace", "cast"),
    }
)

#: Words that are no column where they stand: operators, the parts of CASE and ORDER BY items, AS.
_WORDS = frozenset(
    {
        *("and", "or", "not", "is", "null", "in", "like", "glob", "between", "case", "when", "then", "else"),
        *("end", "asc", "desc", "nulls", "distinct", "as"),
    }
)

#: Words that open a clause of a SELECT at its own level, and the set operators between SELECTs.
_CLAUSES = frozenset({"select", "from", "where", "group", "having", "order", "limit", "offset"})
_SET_OPERATORS = frozenset({"union", "intersect", "except"})
_NAME = re.compile(r"[^\W\d][\w$]*")


@lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    """The lower-case single words sqlglot's SQLite tokenizer reads as keywords: a name among them may not
    be a column to sqlglot (``date``, ``current_date``, ``true``), so the reader leaves such texts alone."""
    from sqlglot.dialects.dialect import Dialect

    from sqlrl.sql.dialects import reader

    keywords = Dialect.get_or_raise(reader("sqlite")).tokenizer_class.KEYWORDS
    return frozenset(k.lower() for k in keywords if " " not in k and _NAME.fullmatch(k))


class _Unread(Exception):
    pass


def bare_column_edits(sql: str) -> str | None | object:
    """``sql`` with its bare columns wrapped as :func:`~sqlrl.sql.sqlite_compat.rewrite_bare_columns` wraps
    them, None when it has none, :data:`UNREAD` when the text is not of the shapes read here.

    >>> bare_column_edits("SELECT T2.name, count(*) FROM s AS T2 JOIN c AS T1 USING (id) GROUP BY T1.id")
    'SELECT ANY_VALUE(T2.name), count(*) FROM s AS T2 JOIN c AS T1 USING (id) GROUP BY T1.id'
    >>> bare_column_edits("SELECT name, max(age) FROM singer")
    'SELECT ARG_MAX(name, age), max(age) FROM singer'
    >>> bare_column_edits("SELECT name FROM t WHERE age > (SELECT avg(age) FROM t)") is UNREAD
    True
    """
    tokens: list[tuple[str, int, int]] = []  # (lower-case text, start, end), comments dropped
    for m in _TOKEN.finditer(sql):
        text = m.group()
        first = text[0]
        if first in '"`[;?:@$' or (first == "'" and (len(text) < 2 or not text.endswith("'"))):
            return UNREAD  # quoted names, parameters, more than one statement, an unclosed string
        if text.startswith(("/*", "--")):
            continue
        tokens.append((text.lower(), m.start(), m.end()))
    try:
        edits: list[tuple[int, int, str]] = []
        for select in _selects(tokens):
            edits += _select_edits(sql, select)
    except _Unread:
        return UNREAD
    if not edits:
        return None
    parts, last = [], 0
    for start, end, text in sorted(edits):
        parts += (sql[last:start], text)
        last = end
    parts.append(sql[last:])
    return "".join(parts)


def _selects(tokens: list[tuple[str, int, int]]) -> list[dict[str, list[tuple[str, int, int]]]]:
    """Each SELECT of a compound, as its clauses' tokens (parentheses kept inside a clause)."""
    selects: list[dict[str, list[tuple[str, int, int]]]] = []
    clauses: dict[str, list[tuple[str, int, int]]] | None = None
    current: list[tuple[str, int, int]] | None = None
    depth = 0
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        w = tok[0]
        i += 1
        if w == "(":
            if i < n and tokens[i][0] in ("select", "with", "values"):
                raise _Unread  # a subquery
            depth += 1
        elif w == ")":
            depth -= 1
            if depth < 0:
                raise _Unread
        elif depth == 0 and w in _SET_OPERATORS:
            if i < n and tokens[i][0] in ("all", "distinct"):
                i += 1
            clauses = current = None
            continue
        elif depth == 0 and w in _CLAUSES:
            if w == "select":
                if clauses is not None:
                    raise _Unread
                clauses = {}
                selects.append(clauses)
            elif clauses is None or w in clauses:
                raise _Unread  # a clause before SELECT, or twice
            if w in ("group", "order"):
                if i >= n or tokens[i][0] != "by":
                    raise _Unread
                i += 1
            current = clauses[w] = []
            continue
        if current is None:
            raise _Unread  # text before the first SELECT, or after a set operator
        current.append(tok)
    if depth != 0 or not selects or any("select" not in s or not all(s.values()) for s in selects):
        raise _Unread
    if len(selects) > 1 and ("order" in selects[-1] or "limit" in selects[-1]):
        raise _Unread  # the ORDER BY or LIMIT of the whole compound
    return selects


def _split(tokens: list[tuple[str, int, int]]) -> list[list[tuple[str, int, int]]]:
    """The comma-separated items of a clause (commas inside parentheses kept)."""
    if not tokens:
        return []
    items: list[list[tuple[str, int, int]]] = [[]]
    depth = 0
    for tok in tokens:
        w = tok[0]
        if w == "(":
            depth += 1
        elif w == ")":
            depth -= 1
        if w == "," and depth == 0:
            items.append([])
        else:
            items[-1].append(tok)
    if not all(items):
        raise _Unread  # an empty item
    return items


def _is_name(w: str) -> bool:
    return _NAME.fullmatch(w) is not None and w not in _WORDS


def _column_at(item: list[tuple[str, int, int]], j: int) -> tuple[int, int, str | None, str] | None:
    """The column that starts at ``item[j]``: (index after it, start, qualifier, name), or None when the token
    there is no name."""
    w = item[j][0]
    if not _is_name(w):
        return None
    if w in _keywords():
        raise _Unread  # sqlglot may read it as something else than a column
    if j + 1 < len(item) and item[j + 1][0] == ".":
        if j + 2 >= len(item) or not _is_name(item[j + 2][0]) or item[j + 2][0] in _keywords():
            raise _Unread  # t.*, db.t.c, t."c"
        if j + 3 < len(item) and item[j + 3][0] in (".", "("):
            raise _Unread
        return j + 3, item[j][1], w, item[j + 2][0]
    return j + 1, item[j][1], None, w


def _select_edits(sql: str, clauses: dict[str, list[tuple[str, int, int]]]) -> list[tuple[int, int, str]]:
    """The wraps of one SELECT's bare columns."""
    select = clauses["select"]
    if select[0][0] in ("distinct", "all"):
        select = select[1:]
    items = _split(select)
    keys: set[str] = set()
    for key in _split(clauses.get("group", [])):
        col = _column_at(key, 0)
        if col is None or col[0] != len(key):
            raise _Unread  # GROUP BY 2, GROUP BY upper(x): sqlglot compares such keys as expressions
        keys.add(f"{col[2]}.{col[3]}" if col[2] else col[3])
    aliases: set[str] = set()
    bodies = []
    for item in items:
        if len(item) > 2 and item[-2][0] == "as":
            if not _is_name(item[-1][0]):
                raise _Unread
            aliases.add(sql[item[-1][1] : item[-1][2]])  # as written: sqlglot compares aliases case-sensitively
            item = item[:-2]
        bodies.append(item)
    aggregates: list[list[tuple[str, int, int]]] = []  # the argument of each aggregate call in the select list
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
        col = _column_at(arg, 0) if arg else None
        if col is None or col[0] != len(arg):
            raise _Unread  # sqlglot writes the argument out again: only a column is written here as it would
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


def _read(
    tokens: list[tuple[str, int, int]],
    columns: list[tuple[int, int, str | None, str]],
    aggregates: list[list[tuple[str, int, int]]],
) -> None:
    """Add the columns ``tokens`` name outside aggregate calls to ``columns``, and each aggregate call (its
    name's token, then its argument's tokens) to ``aggregates``."""
    j, n = 0, len(tokens)
    previous = ""  # the kind of the token before: "operand" (a value ends there), or ""
    while j < n:
        w = tokens[j][0]
        nxt = tokens[j + 1][0] if j + 1 < n else ""
        if w == "nulls" and nxt in ("first", "last"):
            j += 2  # ORDER BY x NULLS FIRST
            continue
        if nxt == "(" and _NAME.fullmatch(w) and w not in _WORDS:
            if previous == "operand":
                raise _Unread
            close = _closing(tokens, j + 1)
            if w in _AGGREGATES:
                arg = tokens[j + 2 : close]
                if not arg or any(t[0] == "," for t in arg) or arg[0][0] in ("distinct", "all"):
                    raise _Unread  # min(a, b) is a scalar in SQLite; DISTINCT: keep to the simple form
                if w == "count" and [t[0] for t in arg] == ["*"]:
                    pass
                elif any(t[0] == "(" for t in arg):
                    raise _Unread
                aggregates.append([tokens[j], *arg])
                j, previous = close + 1, "operand"
                continue
            if w not in SCALARS:
                raise _Unread  # a function sqlglot may read as an aggregate, or a table function
            if w == "cast":
                _read_cast(tokens, j + 2, close, columns)
                j, previous = close + 1, "operand"
                continue
            j, previous = j + 2, ""  # the arguments are read as they come; "(" opens them
            continue
        if w == "as":
            raise _Unread  # an alias inside an expression, or CAST read above
        if w in _CLAUSES or w in _SET_OPERATORS or w in ("over", "filter", "window", "collate", "escape"):
            raise _Unread
        col = _column_at(tokens, j)
        if col is not None:
            if previous == "operand":
                raise _Unread  # two values in a row: an alias without AS
            end, start, qualifier, name = col
            columns.append((start, tokens[end - 1][2], qualifier, name))
            j, previous = end, "operand"
            continue
        if w in ("(", ",") or w in _WORDS:
            previous = "operand" if w == "end" else ""
        elif w == ")":
            previous = "operand"
        elif w[0].isdigit() or w[0] == "'" or (w[0] == "." and len(w) > 1):
            if previous == "operand":
                raise _Unread
            previous = "operand"
        elif w in ("*", "/", "%", "+", "-", "|", "=", "<", ">", "!", "&", "~"):
            previous = ""
        else:
            raise _Unread
        j += 1


def _read_cast(
    tokens: list[tuple[str, int, int]], start: int, close: int, columns: list[tuple[int, int, str | None, str]]
) -> None:
    """``CAST(expression AS type)`` with a one-word type: the expression's columns."""
    if close - start < 3 or tokens[close - 2][0] != "as" or not _NAME.fullmatch(tokens[close - 1][0]):
        raise _Unread
    _read(tokens[start : close - 2], columns, [])


def _closing(tokens: list[tuple[str, int, int]], i: int) -> int:
    """The index of the ``)`` that closes the ``(`` at ``i``."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j][0] == "(":
            depth += 1
        elif tokens[j][0] == ")":
            depth -= 1
            if depth == 0:
                return j
    raise _Unread
