"""Which query texts may select a column that is neither grouped nor aggregated, without parsing them.

SQLite runs ``SELECT T2.name, count(*) ... GROUP BY T1.id`` (a *bare* column: the value of some row of the
group); DuckDB refuses it at its binder. :func:`~sqlrl.sql.sqlite_compat.rewrite_bare_columns` reads such a
query as SQLite does, with a sqlglot parse. :func:`may_have_bare_columns` tells, from one tokenization (in the
compiled core for ASCII texts), the texts that cannot hold one, so that the DuckDB sandbox parses only the others
before their first run, instead of running every text, failing some at the binder, and parsing and running those
again.

It answers None for a shape it does not read whole (a WITH, a window, ``GROUP BY 2``, ``t.*``, text
before the first SELECT): such a text runs as it is, and is rewritten only if DuckDB's binder refuses it, as
is a bare column that the pre-check misses (an aggregate function of another dialect, say).
"""

from __future__ import annotations

import re

from sqlrl._core import bare_column_scan
from sqlrl.sql.plain_select import TOKEN, Unread, closing, split_items

__all__ = ["AGGREGATES", "may_have_bare_columns"]

#: The aggregate functions of SQLite (and Spider's SQL) whose arguments are aggregated.
AGGREGATES = frozenset({"count", "sum", "avg", "min", "max", "total", "group_concat", "string_agg"})


#: One call of an aggregate of :data:`AGGREGATES` over a name or ``*`` (no parentheses inside), with an alias.
_CALL = rf"(?:{'|'.join(sorted(AGGREGATES))})\s*\((?:distinct\s+)?[\w.*]*\)(?:\s+as\s+\w+)?"
#: ``SELECT`` and a list of such calls, up to FROM; what follows is in ``rest``.
_ONLY_AGGREGATES = re.compile(rf"(?:\s|/\*.*?\*/)*select\s+(?:{_CALL}\s*,\s*)*{_CALL}\s+from\s(?P<rest>.*)", re.S)

#: Words that are no column where they stand in a select list, HAVING or ORDER BY (a function name is told by
#: the ``(`` after it; a type name by the AS before it).
_NOT_COLUMNS = frozenset(
    {
        *("and", "or", "not", "null", "is", "in", "between", "like", "glob", "regexp", "match", "escape"),
        *("case", "when", "then", "else", "end", "asc", "desc", "nulls", "first", "last", "distinct", "all"),
        *("true", "false", "collate", "nocase", "binary", "rtrim", "as", "isnull", "notnull", "current_date"),
        *("current_time", "current_timestamp"),
    }
)

#: Words that open a clause of a SELECT at its own level.
_CLAUSES = frozenset({"select", "from", "where", "group", "having", "order", "limit", "offset", "window"})
_SET_OPERATORS = frozenset({"union", "intersect", "except"})
_MARKS = _CLAUSES | _SET_OPERATORS | {"(", ")"}


def may_have_bare_columns(sql: str, *, compiled: bool = True) -> bool | None:
    """False when no SELECT of ``sql`` can hold a bare column: none groups or aggregates, or every column its
    select list, HAVING and ORDER BY name outside an aggregate is a GROUP BY key (or, in HAVING and ORDER BY,
    an output alias). True when a column there is none of those (by name: a column inside an expression that
    is itself a key counts too, which the rewrite then leaves alone). None for a shape it does not read whole.

    >>> may_have_bare_columns("SELECT T2.name, count(*) FROM s AS T2 JOIN c AS T1 USING (id) GROUP BY T1.id")
    True
    >>> may_have_bare_columns("SELECT T1.id, count(*) AS n FROM c AS T1 GROUP BY T1.id ORDER BY n DESC")
    False
    >>> may_have_bare_columns("SELECT name FROM t WHERE age > (SELECT avg(age) FROM t)")
    False

    An ASCII text is tokenized and read in the compiled core (``sqlrl._core.bare_column_scan``), the same
    reading as the Python one here, which reads the other texts (``compiled=False``: every text, the
    reference the tests compare with).
    """
    low = sql.lower()
    if "group" not in low:
        if not any(a in low for a in AGGREGATES):  # no GROUP BY, no aggregate call
            return False
        only = _ONLY_AGGREGATES.match(low)
        if only is not None and not any(w in only["rest"] for w in ("having", "order", "select", "over")):
            return False  # SELECT count(*), max(x) FROM ... WHERE ...: nothing outside an aggregate, no subquery
    if compiled and low.isascii():
        return bare_column_scan(low)  # the tokens and the pass below, in the compiled core
    words = TOKEN.findall(low)
    if any(q in sql for q in "'\"`[-/"):  # strings as one word, quoted names unquoted, comments dropped
        words = [w if w[0] not in "'\"`[-/" else _word(w) for w in words if not w.startswith(("/*", "--"))]
    if "with" in words or "over" in words:
        return None
    try:
        return _scope_may_be_bare(words, 0, len(words))
    except Unread:
        return None


def _word(token: str) -> str:
    """A lower-cased token as the pre-check compares it: a string as ``'``, a quoted name unquoted."""
    first = token[0]
    if first == "'":
        return "'"
    if first in '"`[':
        return token[1:-1] if len(token) > 1 else token
    return token


def _scope_may_be_bare(words: list[str], start: int, end: int) -> bool:
    """:func:`may_have_bare_columns` for the query in ``words[start:end]``: each SELECT of a compound, each
    subquery in parentheses read as a query of its own (and as one value where it stands)."""
    clauses: dict[str, list[str]] = {}
    current: list[str] | None = None  # the words of the clause being read
    depth = 0  # of parentheses within this query (``extract(year FROM d)`` opens no clause)
    i = start
    while i < end:
        w = words[i]
        i += 1
        if w not in _MARKS:
            if current is None:
                raise Unread  # text before the first SELECT (VALUES, a parenthesised compound, ...)
            current.append(w)
            continue
        if w == "(":
            if i < end and words[i] == "select":
                close = closing(words, i - 1)
                if _scope_may_be_bare(words, i, close):
                    return True
                w, i = "0", close + 1  # the subquery's value
            else:
                depth += 1
        elif w == ")":
            depth -= 1
        elif depth == 0 and w in _SET_OPERATORS:  # the next SELECT is a query of its own: this one ends here
            if i < end and words[i] in ("all", "distinct"):
                i += 1  # UNION ALL
            return _select_may_be_bare(clauses) or _scope_may_be_bare(words, i, end)
        elif depth == 0:  # a clause opens
            if w in ("group", "order"):
                if i >= end or words[i] != "by":
                    raise Unread
                i += 1
            if w in clauses:
                return False  # a clause twice at one level: a syntax error for every engine, no bare column
            current = clauses[w] = []
            continue
        if current is None:
            raise Unread
        current.append(w)
    return _select_may_be_bare(clauses)


def _select_may_be_bare(clauses: dict[str, list[str]]) -> bool:
    """Whether one SELECT, split into its clauses' words, may hold a bare column."""
    if "select" not in clauses:
        raise Unread
    if not all(clauses.values()):
        return False  # an empty clause (``... WHERE`` at the end): a syntax error for every engine
    items = split_items(clauses["select"])
    grouped = "group" in clauses
    aggregated = any(_aggregate_calls(item) for item in items) or "having" in clauses
    if not grouped and not aggregated:
        return False  # no group: no column can be bare
    keys: set[tuple[str | None, str]] = set()
    for key in split_items(clauses.get("group", [])):
        if len(key) == 1 and key[0][:1].isdigit():
            raise Unread  # GROUP BY 2: a select item's position
        keys |= _columns(key)
    aliases = {item[-1] for item in items if len(item) > 1 and _is_name(item[-1]) and item[-2] in ("as", ")")}
    items = [_unaliased(item) for item in items]
    if any(_two_names_in_a_row(item) for item in items):
        return False  # ``count(*) FORM t``: a syntax error for every engine
    for item in items:
        if item == ["*"]:
            raise Unread  # every column of a grouped query: DuckDB's binder decides
        if any(not _is_grouped(col, keys, ()) for col in _columns(item)):
            return True
    for part in ("having", "order"):
        for col in _columns(clauses.get(part, [])):
            if not _is_grouped(col, keys, aliases):
                return True
    return False


def _unaliased(item: list[str]) -> list[str]:
    """A select item without its alias (``x AS n``, ``count(*) n``)."""
    if len(item) > 2 and item[-2] == "as":
        return item[:-2]
    if len(item) > 1 and item[-2] == ")" and _is_name(item[-1]):
        return item[:-1]
    return item


def _two_names_in_a_row(item: list[str]) -> bool:
    """Whether a select item (its alias taken off) has two names in a row outside parentheses: no expression
    does (keywords, ``AS`` and a ``.`` between parts do not count as names)."""
    depth = 0
    last_was_name = False
    for j, w in enumerate(item):
        if w == "(":
            depth += 1
        elif w == ")":
            depth -= 1
        name = depth == 0 and _is_name(w) and (j == 0 or item[j - 1] != ".")
        if name and last_was_name:
            return True
        last_was_name = name and (j + 1 >= len(item) or item[j + 1] != ".")
    return False


def _aggregate_calls(words: list[str]) -> bool:
    return any(w in AGGREGATES and j + 1 < len(words) and words[j + 1] == "(" for j, w in enumerate(words))


def _is_name(w: str) -> bool:
    return bool(w) and (w[0].isalpha() or w[0] in '_"`[') and w not in _NOT_COLUMNS


def _columns(words: list[str]) -> set[tuple[str | None, str]]:
    """The ``(qualifier, name)`` of each column that ``words`` name outside an aggregate call (a word before
    ``(`` is a function, one after AS a type or an alias; a string is no name)."""
    out: set[tuple[str | None, str]] = set()
    j, n = 0, len(words)
    while j < n:
        w = words[j]
        nxt = words[j + 1] if j + 1 < n else ""
        if nxt == "(" and _is_name(w):
            j = closing(words, j + 1) + 1 if w in AGGREGATES else j + 1
            continue
        if w == "as":
            j += 2
            continue
        if _is_name(w) and nxt == "." and j + 2 < n:
            if words[j + 2] == "*":
                raise Unread  # t.* in a grouped query
            out.add((w, words[j + 2]))
            j += 3
            continue
        if _is_name(w):
            out.add((None, w))
        j += 1
    return out


def _is_grouped(col: tuple[str | None, str], keys: set[tuple[str | None, str]], aliases: object) -> bool:
    """Whether a column is a GROUP BY key (``t.a`` matches ``a`` and ``t.a``; ``a`` matches any ``?.a``), or an
    output alias where it stands unqualified."""
    qualifier, name = col
    if col in keys or (None, name) in keys:
        return True
    if qualifier is None:
        return name in aliases or any(k[1] == name for k in keys)
    return False
