"""SQLite's type affinity made explicit for DuckDB from tokens, for plain SELECTs (:mod:`sqlrl.sql.plain_select`).

:func:`~sqlrl.sql.sqlite_compat.rewrite_affinity` reads a query with sqlglot, finds each comparison,
``BETWEEN``, ``IN`` list, arithmetic, ``sum`` and ``avg`` whose operands are columns and literals, and applies
SQLite's affinity rules to them. :func:`affinity_edits` finds the same operands from tokens, with the
operator precedence of sqlglot's parser, resolves each column against its SELECT's FROM clause as the parse
does, and applies the same rules (the parse's own code: ``_AffinityRewrite``). It reads, besides a plain
text:

- FROM clauses of tables (``t``, ``t AS a``, ``t a``) joined by commas or JOINs with ON or USING;
- expressions of columns, numbers, strings, ``NULL``, ``+ - * / %``, the comparisons, ``IS [NOT]``,
  ``[NOT] IN (list)``, ``[NOT] BETWEEN``, ``[NOT] LIKE``, ``AND``, ``OR``, ``NOT``, ``CASE``, parentheses, and
  calls of ``count``, ``sum``, ``avg`` and the scalars of :data:`~sqlrl.sql.bare_rewrite.SCALARS` (not
  ``CAST``, whose type names sqlglot rewrites, nor ``max``/``min`` next to an operator, which the parse reads
  as a column without affinity).

Anything else answers :data:`~sqlrl.sql.plain_select.UNREAD`, and the caller parses.
"""

from __future__ import annotations

import re
from typing import Any

from sqlrl.sql.bare_rewrite import SCALARS
from sqlrl.sql.plain_select import (
    JOIN_WORDS,
    NAME,
    UNREAD,
    Token,
    Unread,
    apply_edits,
    closing,
    column_at,
    read_from,
    read_selects,
    read_tokens,
    split_items,
)

__all__ = ["UNREAD", "affinity_edits"]

_NUMBER = re.compile(r"[0-9]+[.]?[0-9]*(?:e[0-9]+)?")  # (lower-case) as one token here and for sqlglot

#: Binding power of the binary operators, as sqlglot's parser nests them (higher binds tighter).
_EQUALITY, _COMPARISON, _RANGE, _TERM, _FACTOR = 4, 5, 6, 7, 8
_BINARY = {
    "or": 1, "and": 2, "=": _EQUALITY, "==": _EQUALITY, "!=": _EQUALITY, "<>": _EQUALITY,
    "<": _COMPARISON, "<=": _COMPARISON, ">": _COMPARISON, ">=": _COMPARISON,
    "is": _RANGE, "in": _RANGE, "between": _RANGE, "like": _RANGE, "glob": _RANGE,
    "+": _TERM, "-": _TERM, "*": _FACTOR, "/": _FACTOR, "%": _FACTOR,
}  # fmt: skip
_COMPARES = frozenset({"=", "==", "!=", "<>", "<", "<=", ">", ">=", "is"})
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})

#: Words that are no column where an operand is read: the ends of an expression (clause parts read by the
#: callers) and the operator words.
_NOT_COLUMNS = JOIN_WORDS | {
    *("when", "then", "else", "end", "on", "using", ",", ")", "as", "asc", "desc", "nulls"),
    *("null", "not", "case", "and", "or", "is", "in", "like", "between"),
}

# What an expression is, for its parent: an operand of the affinity rules (a tuple as
# ``_AffinityRewrite.operand`` returns), a comparison (which may not be an operand of another one), a call of
# max/min (which the parse reads as a column), or anything else.
_OTHER, _COMPARED, _MAXMIN = ("other",), ("compared",), ("maxmin",)


def affinity_edits(sql: str, schema: Any) -> str | None | object:
    """``sql`` with SQLite's affinity made explicit as :func:`~sqlrl.sql.sqlite_compat.rewrite_affinity` makes
    it against ``schema`` (an :class:`~sqlrl.sql.sqlite_compat.AffinitySchema`), None when nothing changes,
    :data:`~sqlrl.sql.plain_select.UNREAD` when the text is not read here.

    >>> from sqlrl.sql.sqlite_compat import AffinitySchema, SqliteColumn
    >>> schema = AffinitySchema({"c": {"year": SqliteColumn("TEXT", "text"), "id": SqliteColumn("INTEGER", "number")}})
    >>> affinity_edits("SELECT id FROM c WHERE year >= 2014 AND id = '3'", schema)
    "SELECT id FROM c WHERE year >= '2014' AND id = 3"
    """
    from sqlrl.sql.sqlite_compat import _AffinityRewrite

    rules = _AffinityRewrite(sql, None)
    try:
        for clauses in read_selects(read_tokens(sql)):
            _Select(rules, clauses, schema).read()
    except Unread:
        return UNREAD
    return apply_edits(sql, list(rules.edits.values())) if rules.edits else None


class _Select:
    """One SELECT: its sources, and each expression of its clauses read through the rules."""

    def __init__(self, rules: Any, clauses: dict[str, list[Token]], schema: Any) -> None:
        self.rules = rules
        self.clauses = clauses
        self.schema = schema
        self.sources: dict[str, dict[str, Any] | None] = {}

    def read(self) -> None:
        clauses = self.clauses
        tables, conditions = read_from(clauses.get("from", []))
        for alias, name in tables:
            cols = self.schema.columns.get(name)
            self.sources[alias] = dict(cols) if cols is not None else None
        select = clauses["select"]
        if select[0][0] in ("distinct", "all"):
            select = select[1:]
        for item in split_items(select):
            if item[-1][0] == "*" and len(item) == 1:
                continue
            if len(item) > 2 and item[-2][0] == "as":
                item = item[:-2]
            self.expression(item)
        for tokens in conditions:
            self.expression(tokens)
        for part in ("where", "having"):
            if part in clauses:
                self.expression(clauses[part])
        for part in ("group", "limit", "offset"):
            for item in split_items(clauses.get(part, [])):
                self.expression(item)
        for item in split_items(clauses.get("order", [])):
            words = [t[0] for t in item]
            if words[-2:] in (["nulls", "first"], ["nulls", "last"]):
                item, words = item[:-2], words[:-2]
            if words[-1:] in (["asc"], ["desc"]):
                item = item[:-1]
            self.expression(item)

    def column(self, qualifier: str | None, name: str) -> Any:
        """The SqliteColumn a column reference resolves to (as ``_Types.column``), None if unknown."""
        if qualifier is not None:
            cols = self.sources.get(qualifier)
            return None if cols is None else cols.get(name)
        found = [cols for cols in self.sources.values() if cols is None or name in cols]
        if len(found) != 1 or found[0] is None:
            return None
        return found[0][name]

    # expressions -----------------------------------------------------------------------------------
    def expression(self, tokens: list[Token]) -> None:
        """Read a whole expression: every token must be part of it."""
        parser = _Parser(self, tokens)
        parser.parse(0)
        if parser.i != len(tokens):
            raise Unread  # an alias without AS, two values in a row, a word not read here


class _Parser:
    """Precedence climbing over one expression's tokens, applying the affinity rules at each operator."""

    def __init__(self, select: _Select, tokens: list[Token]) -> None:
        self.select = select
        self.rules = select.rules
        self.tokens = tokens
        self.i = 0

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.tokens[j][0] if j < len(self.tokens) else ""

    def parse(self, floor: int) -> tuple:
        """An expression whose operators bind tighter than ``floor``; returns what it is (see ``_OTHER``)."""
        left = self.unary(floor)
        while True:
            op = self.peek()
            negated = op == "not" and self.peek(1) in ("in", "between", "like", "glob")
            word = self.peek(1) if negated else op
            power = _BINARY.get(word)
            if power is None or power <= floor:
                return left
            self.i += 2 if negated else 1
            left = self.binary(word, power, left)

    def binary(self, op: str, power: int, left: tuple) -> tuple:
        rules = self.rules
        if op in ("and", "or"):
            self.parse(power)
            return _OTHER
        if op in _ARITHMETIC:
            right = self.parse(power)  # left-associative: the right side binds tighter
            for side in (left, right):
                if side is _MAXMIN:
                    raise Unread
                rules.number_operand(_operand(side))
            return _OTHER
        if left is _COMPARED or left is _MAXMIN:
            raise Unread  # a comparison of a comparison, or max()/min() the parse reads as a column
        if op == "is":
            if self.peek() == "not":
                self.i += 1
            if self.peek() == "distinct":
                raise Unread
            right = self.parse(power)
        elif op == "in":
            if self.peek() != "(":
                raise Unread
            close = closing(self.tokens, self.i)
            items = split_items(self.tokens[self.i + 1 : close])
            for item in items:
                rules.compare_operands(_operand(left), _operand(self.sub(item)), lists=True)
            self.i = close + 1
            if _BINARY.get(self.peek(), 0) > _RANGE:
                raise Unread  # x IN (...) + 1: SQLite reads it, sqlglot does not
            return _COMPARED
        elif op == "between":
            low = self.parse(_RANGE)
            if self.peek() != "and":
                raise Unread
            self.i += 1
            high = self.parse(_RANGE)
            for side in (low, high):
                if side is _COMPARED or side is _MAXMIN:
                    raise Unread
                rules.compare_operands(_operand(left), _operand(side))
            return _COMPARED
        else:
            right = self.parse(power)
        if right is _COMPARED or right is _MAXMIN:
            raise Unread
        if op in _COMPARES:
            rules.compare_operands(_operand(left), _operand(right))
        return _COMPARED  # LIKE and GLOB take no rule, and are no operand of another comparison either

    def sub(self, tokens: list[Token]) -> tuple:
        """A whole expression of its own (a list item, a function's argument, a part of CASE)."""
        parser = _Parser(self.select, tokens)
        out = parser.parse(0)
        if parser.i != len(tokens):
            raise Unread
        return out

    def unary(self, floor: int = 0) -> tuple:
        tokens = self.tokens
        if self.i >= len(tokens):
            raise Unread
        w, start, end = tokens[self.i]
        if w == "not":
            if floor >= _EQUALITY:
                raise Unread  # x <> NOT y: SQLite reads it, sqlglot does not
            self.i += 1
            self.parse(_EQUALITY - 1)  # NOT a = 1 is NOT (a = 1)
            return _OTHER
        if w == "-":
            self.i += 1
            if self.peek() in ("-", "+", "not"):
                raise Unread
            inner = self.unary(_FACTOR)
            if inner is _MAXMIN:
                raise Unread
            if inner[0] == "num" and self.tokens[self.i - 1][0] != ")":
                return ("num", "-" + inner[1], (start, inner[2][1]))  # a negative number literal
            self.rules.number_operand(_operand(inner))  # -x: x read as a number
            return _OTHER
        if w == "(":
            close = closing(tokens, self.i)
            inner = self.sub(tokens[self.i + 1 : close])
            self.i = close + 1
            return inner  # (x) keeps what x is
        if w == "case":
            return self.case()
        if w[0].isdigit():
            if _NUMBER.fullmatch(w) is None:
                raise Unread  # 0x1F, 1e+5 split by the tokenizer, a number glued to a name
            self.i += 1
            return ("num", self.rules.sql[start:end], (start, end))
        if w[0] == "'":
            self.i += 1
            return ("str", self.rules.sql[start + 1 : end - 1].replace("''", "'"), (start, end))
        if w in ("null", "true", "false"):
            self.i += 1
            return _OTHER
        if self.peek(1) == "(" and NAME.fullmatch(w):
            return self.call(w)
        col = column_at(tokens, self.i, _NOT_COLUMNS)
        if col is None:
            raise Unread
        after, first, qualifier, name = col
        self.i = after
        info = self.select.column(qualifier, name)
        return ("col", info, (first, tokens[after - 1][2])) if info is not None else _OTHER

    def call(self, name: str) -> tuple:
        close = closing(self.tokens, self.i + 1)
        args = self.tokens[self.i + 2 : close]
        self.i = close + 1
        if name == "count":
            if [t[0] for t in args] == ["*"]:
                return _OTHER
            if args and args[0][0] == "distinct":
                args = args[1:]
            self.sub(args)
            return _OTHER
        if name in ("sum", "avg", "min", "max"):
            if not args or args[0][0] in ("distinct", "all") or any(t[0] == "," for t in args):
                raise Unread  # min(a, b) is a scalar in SQLite
            inner = self.sub(args)
            if inner is _MAXMIN:
                raise Unread
            if name in ("sum", "avg"):
                self.rules.number_operand(_operand(inner))
                return _OTHER
            return _MAXMIN
        if name not in SCALARS or name == "cast":
            raise Unread  # CAST's type sqlglot writes in its own words; other functions may be aggregates
        for arg in split_items(args):
            self.sub(arg)
        return _OTHER

    def case(self) -> tuple:
        """``CASE [x] WHEN a THEN b ... [ELSE c] END``: each part read as an expression of its own."""
        tokens = self.tokens
        self.i += 1
        depth, start = 0, self.i
        for j in range(self.i, len(tokens)):
            w = tokens[j][0]
            if w in ("(", "case"):
                depth += 1
            elif w in (")", "end") and depth:
                depth -= 1
            elif depth == 0 and w in ("when", "then", "else", "end"):
                if j > start:
                    self.sub(tokens[start:j])
                elif w != "when" or start != self.i:
                    raise Unread  # an empty part
                start = j + 1
                if w == "end":
                    self.i = j + 1
                    return _OTHER
        raise Unread


def _operand(what: tuple) -> tuple | None:
    """The rules' operand for what an expression is (None: not a column or a literal)."""
    return what if what[0] in ("col", "num", "str") else None
