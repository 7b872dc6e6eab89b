"""Reading plain SELECTs from one regex tokenization, for the rewrites that would otherwise parse.

A sqlglot parse costs the DuckDB sandbox far more than its own time when it comes between DuckDB's queries
(measured in ``benchmarks/ENGINE_COMPAT.md``), so the SQLite-compat rewrites most texts need are also made
from tokens (:mod:`sqlrl.sql.bare_rewrite`, :mod:`sqlrl.sql.affinity_rewrite`) where the text is *plain*:

- SELECTs joined by UNION, INTERSECT or EXCEPT, without ORDER BY or LIMIT after a compound;
- no subquery, CTE, window, filter, parameter, quoted name (``"x"``, ```x```, ``[x]``) or statement after
  the first;
- names that sqlglot's SQLite tokenizer reads as names (not ``date``, ``first``, ``current_date``).

A reader raises :class:`Unread` for anything else, and its caller answers :data:`UNREAD`: the text is
then parsed by sqlglot as before. Each reader's answers are compared with the parse's in the tests.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlrl.errors import SqlrlError

__all__ = ["UNREAD", "Token", "Unread", "read_selects", "read_tokens"]

#: The answer for a text a reader does not read whole: parse it.
UNREAD = object()

#: A token: its lower-case text, its start and its end in the text.
Token = tuple[str, int, int]

#: Comments, strings and quoted names (whole, an unclosed one to the end), names, numbers, and any other character.
TOKEN = re.compile(
    r"/\*.*?(?:\*/|\Z)|--[^\n]*|'(?:[^']|'')*'?|\"(?:[^\"]|\"\")*\"?|`[^`]*`?|\[[^\]]*\]?"
    r"|[^\W\d][\w$]*|\d[\w.]*|\S",
    re.S,
)

#: Words that open a clause of a SELECT at its own level, and the set operators between SELECTs.
CLAUSES = frozenset({"select", "from", "where", "group", "having", "order", "limit", "offset"})
SET_OPERATORS = frozenset({"union", "intersect", "except"})

#: Two-character operators (each character is a token of its own in ``_TOKEN``).
_PAIRS = frozenset({"<=", ">=", "<>", "!=", "==", "||", "<<", ">>", "->"})
NAME = re.compile(r"[^\W\d][\w$]*")
#: Operators that would take an IN list as their left operand.
_AFTER_VALUE = frozenset({"*", "/", "%", "+", "-", "||", "<<", ">>", "&", "|"})


class Unread(SqlrlError):
    """A text (or a part of it) the token readers do not read whole."""


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """The lower-case single words sqlglot's SQLite tokenizer reads as keywords: a name among them may not
    be a column to sqlglot (``date``, ``current_date``, ``true``)."""
    from sqlglot.dialects.dialect import Dialect

    from sqlrl.sql.dialects import reader

    words = Dialect.get_or_raise(reader("sqlite")).tokenizer_class.KEYWORDS
    return frozenset(k.lower() for k in words if " " not in k and NAME.fullmatch(k))


def read_tokens(sql: str) -> list[Token]:
    """The tokens of ``sql``, comments dropped, two-character operators joined.

    Raises:
        Unread: a quoted name, a parameter, a ``;`` or an unclosed string.
    """
    tokens: list[Token] = []
    ascii_text = sql.isascii()  # then the lower-cased text has the same tokens at the same places
    for m in TOKEN.finditer(sql.lower() if ascii_text else sql):
        text = m.group()
        first = text[0]
        if first in '"`[;?:@$\\' or (first == "'" and (len(text) < 2 or not text.endswith("'"))):
            raise Unread
        if text.startswith(("/*", "--")):
            continue
        start = m.start()
        if tokens and tokens[-1][2] == start and tokens[-1][0] + text in _PAIRS:
            tokens[-1] = (tokens[-1][0] + text, tokens[-1][1], m.end())
            continue
        tokens.append((text if ascii_text else text.lower(), start, m.end()))
    return tokens


def read_selects(tokens: list[Token]) -> list[dict[str, list[Token]]]:
    """Each SELECT of a compound, as its clauses' tokens (parentheses kept inside a clause).

    Raises:
        Unread: a subquery, text before the first SELECT, a clause twice, an empty clause, or an ORDER BY or
            LIMIT after a compound.
    """
    selects: list[dict[str, list[Token]]] = []
    clauses: dict[str, list[Token]] | None = None
    current: list[Token] | None = None
    depth = 0
    lists: list[bool] = []  # for each open parenthesis, whether it opens an IN list
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        w = tok[0]
        i += 1
        if w == "(":
            if i < n and tokens[i][0] in ("select", "with", "values"):
                raise Unread  # a subquery
            depth += 1
            lists.append(i > 1 and tokens[i - 2][0] == "in")
        elif w == ")":
            depth -= 1
            if depth < 0:
                raise Unread
            if lists.pop() and i < n and tokens[i][0] in _AFTER_VALUE:
                raise Unread  # x IN (...) + 1: SQLite reads it, sqlglot does not
        elif depth == 0 and w in SET_OPERATORS:
            if i < n and tokens[i][0] in ("all", "distinct"):
                i += 1
            clauses = current = None
            continue
        elif depth == 0 and w in CLAUSES:
            if w == "select":
                if clauses is not None:
                    raise Unread
                clauses = {}
                selects.append(clauses)
            elif clauses is None or w in clauses:
                raise Unread  # a clause before SELECT, or twice
            if w in ("group", "order"):
                if i >= n or tokens[i][0] != "by":
                    raise Unread
                i += 1
            current = clauses[w] = []
            continue
        if current is None:
            raise Unread  # text before the first SELECT, or after a set operator
        current.append(tok)
    if depth != 0 or not selects or any("select" not in s or not all(s.values()) for s in selects):
        raise Unread
    if len(selects) > 1 and ("order" in selects[-1] or "limit" in selects[-1]):
        raise Unread  # the ORDER BY or LIMIT of the whole compound
    return selects


def split_items(tokens: list) -> list[list]:
    """The comma-separated items of a clause's tokens, or of its words (the plain strings of
    :mod:`sqlrl.sql.bare_columns`); commas inside parentheses kept.

    Raises:
        Unread: an empty item.
    """
    if not tokens:
        return []
    items: list[list] = [[]]
    depth = 0
    for tok in tokens:
        w = tok if tok.__class__ is str else tok[0]
        if w == "(":
            depth += 1
        elif w == ")":
            depth -= 1
        if w == "," and depth == 0:
            items.append([])
        else:
            items[-1].append(tok)
    if not all(items):
        raise Unread  # an empty item
    return items


def closing(tokens: list, i: int) -> int:
    """The index of the ``)`` that closes the ``(`` at ``i`` (tokens or words, as :func:`split_items`).

    Raises:
        Unread: it is not closed.
    """
    depth = 0
    for j in range(i, len(tokens)):
        w = tokens[j] if tokens[j].__class__ is str else tokens[j][0]
        if w == "(":
            depth += 1
        elif w == ")":
            depth -= 1
            if depth == 0:
                return j
    raise Unread


def column_at(tokens: list[Token], j: int, words: frozenset[str]) -> tuple[int, int, str | None, str] | None:
    """The column that starts at ``tokens[j]``: (index after it, start, qualifier, name); None when the token
    there is no name (not a word, or one of ``words``).

    Raises:
        Unread: a name sqlglot may read as something else, ``t.*``, ``db.t.c``.
    """
    w = tokens[j][0]
    if NAME.fullmatch(w) is None or w in words:
        return None
    if w in keywords():
        raise Unread
    if j + 1 < len(tokens) and tokens[j + 1][0] == ".":
        if j + 2 >= len(tokens) or NAME.fullmatch(tokens[j + 2][0]) is None or tokens[j + 2][0] in keywords():
            raise Unread
        if j + 3 < len(tokens) and tokens[j + 3][0] in (".", "("):
            raise Unread
        return j + 3, tokens[j][1], w, tokens[j + 2][0]
    return j + 1, tokens[j][1], None, w


def apply_edits(sql: str, edits: list[tuple[int, int, str]]) -> str:
    """``sql`` with each ``(start, end, text)`` of ``edits`` (spans that do not overlap) put in place."""
    parts, last = [], 0
    for start, end, text in sorted(edits):
        parts += (sql[last:start], text)
        last = end
    parts.append(sql[last:])
    return "".join(parts)


#: Words of a FROM clause between its tables.
JOIN_WORDS = frozenset({"join", "inner", "left", "right", "full", "outer", "cross", "natural"})


def read_from(tokens: list[Token]) -> tuple[list[tuple[str, str]], list[list[Token]]]:
    """The tables of a FROM clause as ``(alias or name, name)`` (lower case), and its ON conditions' tokens.

    Raises:
        Unread: anything but tables (``t``, ``t AS a``, ``t a``) joined by commas or JOINs with ON or USING.
    """
    tables: list[tuple[str, str]] = []
    conditions: list[list[Token]] = []
    j, n = 0, len(tokens)
    while j < n:
        while j < n and (tokens[j][0] in JOIN_WORDS or tokens[j][0] == ","):
            j += 1
        if j >= n:
            raise Unread
        name = tokens[j][0]
        if NAME.fullmatch(name) is None or name in keywords() or (j + 1 < n and tokens[j + 1][0] in (".", "(")):
            raise Unread  # db.table, a table function
        j += 1
        alias = name
        if j < n and tokens[j][0] == "as":
            j += 1
        if j < n and NAME.fullmatch(tokens[j][0]) and tokens[j][0] not in JOIN_WORDS | {"on", "using"}:
            if tokens[j][0] in keywords():
                raise Unread
            alias = tokens[j][0]
            j += 1
        tables.append((alias, name))
        if j < n and tokens[j][0] == "on":
            end = j + 1
            depth = 0
            while end < n and not (depth == 0 and (tokens[end][0] in JOIN_WORDS or tokens[end][0] == ",")):
                depth += tokens[end][0] == "("
                depth -= tokens[end][0] == ")"
                end += 1
            conditions.append(tokens[j + 1 : end])
            j = end
        elif j < n and tokens[j][0] == "using":
            if j + 1 >= n or tokens[j + 1][0] != "(":
                raise Unread
            j = closing(tokens, j + 1) + 1
        elif j < n and tokens[j][0] not in JOIN_WORDS and tokens[j][0] != ",":
            raise Unread
    return tables, conditions
