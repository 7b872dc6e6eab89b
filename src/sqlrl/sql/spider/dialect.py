"""Reading Spider SQL with sqlglot: SQLite tokens, repaired to read as the official tokenizer does.

Spider writes string values in double quotes (``WHERE name = "Bob"``), which SQLite accepts as
a string when no column has that name and the official evaluator always reads as a string. The
tokens of sqlrl's SQLite reader (:class:`sqlrl.sql.dialects.SqliteReader`: a name that starts
with a digit, ``18_49_Rating_Share``, a Spider column, is one identifier, with every sqlglot
version) are taken as they are, except:

* ``"..."`` is a string literal (identifiers may still be quoted with backticks or brackets);
* ``<>``, ``==`` and string values containing a quote character are refused: the official
  tokenizer cannot read them;
* ``! =``, ``> =``, ``< =`` are one operator, as the official tokenizer reads them;
* the text the official parser ignores after the end of the query is cut (see
  :func:`_cut_trailing`), and so is a clause the text leaves open at its very end (``... WHERE``,
  ``... AND``; see :func:`_open_end`), which the official parser reads as far as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

from sqlrl.sql.dialects import reader

from .errors import SpiderParseError

_DIALECT = reader("sqlite")


def tokenize(sql: str) -> list[Token]:
    """sqlglot tokens of the whole of ``sql`` after the Spider repairs and checks (raises
    SpiderParseError); :func:`read` parses them up to where the official parser stops."""
    try:
        tokens = _DIALECT.tokenize(sql)
    except SqlglotError as e:
        raise SpiderParseError(f"sqlglot cannot tokenize it: {_first_line(e)}", sql) from None
    out: list[Token] = []
    for tok in tokens:
        kind = tok.token_type
        if kind not in _REPAIRED:
            out.append(tok)
            continue
        if kind is TokenType.IDENTIFIER:
            if sql[tok.start] != '"':
                out.append(tok)
                continue
            tok = Token(TokenType.STRING, tok.text, tok.line, tok.col, tok.start, tok.end, tok.comments)
            kind = TokenType.STRING
        if kind is TokenType.STRING:
            if "'" in tok.text or '"' in tok.text:
                raise SpiderParseError(
                    "a string value containing a quote character is not read by the official parser", sql
                )
        elif kind is TokenType.NEQ:
            if tok.text == "<>":
                raise SpiderParseError("'<>' is not read by the official parser (write '!=')", sql)
        elif kind is TokenType.EQ:
            if tok.text == "==":
                raise SpiderParseError("'==' is not read by the official parser (write '=')", sql)
            if out and out[-1].token_type in _BEFORE_EQ and out[-1].text in "!<>":
                prev = out.pop()
                merged = _BEFORE_EQ[prev.token_type]
                tok = Token(merged, prev.text + "=", prev.line, prev.col, prev.start, tok.end, prev.comments)
        out.append(tok)
    return out


# ``! =``, ``> =``, ``< =`` are one operator to the official tokenizer.
_BEFORE_EQ = {TokenType.NOT: TokenType.NEQ, TokenType.GT: TokenType.GTE, TokenType.LT: TokenType.LTE}
_REPAIRED = frozenset({TokenType.IDENTIFIER, TokenType.STRING, TokenType.NEQ, TokenType.EQ})

_CLAUSE_RANK = {
    TokenType.SELECT: 0,
    TokenType.FROM: 1,
    TokenType.WHERE: 2,
    TokenType.GROUP_BY: 3,
    TokenType.HAVING: 4,
    TokenType.ORDER_BY: 5,
    TokenType.LIMIT: 6,
}
_ORDER_RANK = _CLAUSE_RANK[TokenType.ORDER_BY]
_SET_OP_TOKENS = frozenset({TokenType.UNION, TokenType.INTERSECT, TokenType.EXCEPT})
_AFTER_LIMIT = _SET_OP_TOKENS | {TokenType.SEMICOLON, TokenType.R_PAREN}
_AFTER_DIRECTION = _AFTER_LIMIT | {TokenType.COMMA, TokenType.LIMIT}
_STRUCTURAL = frozenset(
    {*_CLAUSE_RANK, *_SET_OP_TOKENS, TokenType.L_PAREN, TokenType.R_PAREN, TokenType.SEMICOLON}
    | {TokenType.ASC, TokenType.DESC, TokenType.VAR}
)


@dataclass(frozen=True, slots=True)
class OpenEnd:
    """What the official parser reads from a clause the text leaves open at its very end (the
    clause's keyword or connector itself is cut before sqlglot parses the rest).

    ``clause`` is ``"order"`` for a final ``ORDER BY`` (an ORDER BY without items), or the clause
    (``"from"`` for ON, ``"where"``, ``"having"``) whose last condition a final ``connector``
    (``"and"``/``"or"``) follows. Both belong to the last operand of the top-level query.
    """

    clause: str
    connector: str = ""


class Reading(NamedTuple):
    """The first statement of a text as sqlglot reads it after the Spider repairs."""

    tree: exp.Expr
    tokens: list[Token]
    """All tokens of the text (the official parser scans aliases over all of them)."""
    parsed: list[Token]
    """The tokens sqlglot parsed."""
    open_end: OpenEnd | None
    """A clause the text leaves open at its end, when the official parser keeps something of it."""


def _cut_trailing(tokens: list[Token], sql: str) -> tuple[list[Token], OpenEnd | None]:
    """Drop what the official parser ignores at the end of the top-level query.

    The official parser reads clauses in the order SELECT, FROM, WHERE, GROUP BY, HAVING,
    ORDER BY, LIMIT and stops at the first token that cannot continue the query: the rest of the
    text is ignored. At the top level this ends the query at a clause out of that order, an
    unmatched ``)``, a ``;`` (unless a set operation follows), ``NULLS FIRST/LAST``, anything but a
    comma or LIMIT after an ORDER BY direction, and anything after ``LIMIT n``; inside
    parentheses the official parser fails on a clause out of order or ``NULLS``. A text that runs
    to its end is passed on to :func:`_open_end`.
    """
    ranks = [-1]
    n = len(tokens)
    for i, tok in enumerate(tokens):
        kind = tok.token_type
        if kind not in _STRUCTURAL:
            continue
        top = len(ranks) == 1
        if kind is TokenType.VAR:
            if ranks[-1] == _ORDER_RANK and tok.text.lower() == "nulls":
                if not top:
                    raise SpiderParseError(
                        "NULLS FIRST/LAST inside parentheses is not read by the official parser", sql
                    )
                return tokens[:i], None
        elif kind is TokenType.L_PAREN:
            ranks.append(-1)
        elif kind is TokenType.R_PAREN:
            if top:
                return tokens[:i], None
            ranks.pop()
        elif kind is TokenType.SEMICOLON:
            if top:
                rest = [t for t in tokens[i + 1 :] if t.token_type is not TokenType.SEMICOLON]
                if rest and rest[0].token_type in _SET_OP_TOKENS:
                    cut, open_end = _cut_trailing(rest, sql)
                    return tokens[:i] + cut, open_end
                return tokens[:i], None
        elif kind in _SET_OP_TOKENS:
            ranks[-1] = -1
        elif kind is TokenType.ASC or kind is TokenType.DESC:
            if top and ranks[-1] == _ORDER_RANK and i + 1 < n and tokens[i + 1].token_type not in _AFTER_DIRECTION:
                return tokens[: i + 1], None
        else:
            rank = _CLAUSE_RANK[kind]
            if rank <= ranks[-1] or (rank == 0) != (ranks[-1] == -1):
                if top:
                    return tokens[:i], None
                raise SpiderParseError(f"{tok.text.upper()} out of clause order inside parentheses", sql)
            ranks[-1] = rank
            if kind is TokenType.LIMIT and top and i + 2 < n and tokens[i + 2].token_type not in _AFTER_LIMIT:
                return tokens[: i + 2], None
    return _open_end(tokens, sql, ranks)


# Keywords the official parser reads as an empty clause when the text ends right after them.
_OPENING = frozenset({TokenType.ON, TokenType.WHERE, TokenType.GROUP_BY, TokenType.HAVING, TokenType.ORDER_BY})
_CONDITION_RANKS = {
    _CLAUSE_RANK[TokenType.FROM]: "from",
    _CLAUSE_RANK[TokenType.WHERE]: "where",
    _CLAUSE_RANK[TokenType.HAVING]: "having",
}
# After a GROUP BY or ORDER BY item, the official parser stops at a connector and ignores it.
_IGNORED_CONNECTOR_RANKS = frozenset({_CLAUSE_RANK[TokenType.GROUP_BY], _ORDER_RANK})


def _open_end(tokens: list[Token], sql: str, ranks: list[int]) -> tuple[list[Token], OpenEnd | None]:
    """Cut a clause the top-level query leaves open at the very end of the text.

    The official parser reads a clause's items while there are tokens left, so a text that ends
    right after ``ON``, ``WHERE``, ``GROUP BY`` or ``HAVING`` has that clause empty (as if it were
    absent), one that ends after ``ORDER BY`` has an ORDER BY without items, and one that ends
    after ``AND``/``OR`` keeps that connector after the last condition of ON, WHERE or HAVING
    (after a GROUP BY or ORDER BY item it is ignored). Only the very end counts: anything after
    the keyword, even a ``;`` or a comment, makes the official parser fail, and so does sqlglot.
    """
    if not tokens or len(ranks) != 1 or sql[tokens[-1].end + 1 :].strip():
        return tokens, None
    last = tokens[-1].token_type
    if last in _OPENING:
        return tokens[:-1], OpenEnd("order") if last is TokenType.ORDER_BY else None
    if last is TokenType.AND or last is TokenType.OR:
        clause = _CONDITION_RANKS.get(ranks[-1])
        if clause is not None:
            return tokens[:-1], OpenEnd(clause, tokens[-1].text.lower())
        if ranks[-1] in _IGNORED_CONNECTOR_RANKS:
            return tokens[:-1], None
    return tokens, None


def read(sql: str) -> Reading:
    """The first statement of ``sql`` as a sqlglot tree, with the tokens of ``sql``, the tokens
    parsed and what the official parser reads from a clause left open at the end.

    Raises:
        SpiderParseError: sqlglot cannot read it, or a token the official tokenizer cannot read.
    """
    tokens = tokenize(sql)
    parsed, open_end = _cut_trailing(tokens, sql)
    try:
        trees = _DIALECT.parser().parse(parsed, sql)
    except SqlglotError as e:
        raise SpiderParseError(f"sqlglot cannot parse it: {_first_line(e)}", sql) from None
    tree = next((t for t in trees if t is not None), None)
    if tree is None:
        raise SpiderParseError("no SQL statement", sql)
    return Reading(tree, tokens, parsed, open_end)


def parse_tree(sql: str) -> exp.Expr:
    """The first statement of ``sql`` as a sqlglot tree (raises SpiderParseError)."""
    return read(sql).tree


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
