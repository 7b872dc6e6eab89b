"""Where the tokens of a query are, for edits that must leave everything else byte for byte.

sqlglot is imported inside the function, so importing this module costs nothing.
"""

from __future__ import annotations

__all__ = ["token_spans"]


def token_spans(sql: str) -> list[tuple[int, int]] | None:
    """``(start, end)`` of each token found by sqlglot's default tokenizer, in order (``sql[start:end]``
    is the token as written, quotes included); None when the text does not tokenize (an
    unterminated string, ...).

    >>> q = "SELECT DISTINCT name FROM t WHERE x = 'a b'"
    >>> [q[s:e] for s, e in token_spans(q)]
    ['SELECT', 'DISTINCT', 'name', 'FROM', 't', 'WHERE', 'x', '=', "'a b'"]
    >>> token_spans("SELECT 'unterminated") is None
    True
    """
    from sqlglot.errors import TokenError
    from sqlglot.tokens import Tokenizer

    try:
        tokens = Tokenizer().tokenize(sql)
    except TokenError:
        return None
    return [(tok.start, tok.end + 1) for tok in tokens]
