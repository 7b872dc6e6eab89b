"""Token n-gram similarity between two queries (Reasoning-SQL's n-gram reward).

Queries are tokenised by sqlglot (so whitespace, case of keywords and identifiers, and quoting
style do not matter), tokens become stable 64-bit ids, and the compiled core computes the
multiset Jaccard of their n-grams.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from sqlrl._core import ngram_jaccard, ngram_jaccard_many
from sqlrl.sql.dialects import reader

__all__ = ["ngram_similarity", "ngram_similarity_many", "sql_tokens", "token_ids"]

_CASE_SENSITIVE = {TokenType.STRING, TokenType.NATIONAL_STRING, TokenType.BIT_STRING, TokenType.HEX_STRING}


def sql_tokens(sql: str, dialect: str = "sqlite") -> list[str]:
    """Normalised tokens: string literals kept verbatim, everything else lower-cased.

    Text that does not tokenise falls back to whitespace splitting.

    >>> sql_tokens("SELECT Name FROM  singer WHERE age > 30")
    ['select', 'name', 'from', 'singer', 'where', 'age', '>', '30']
    """
    try:
        tokens = reader(dialect).tokenize(sql)
    except (TokenError, ValueError):
        return sql.lower().split()
    return [t.text if t.token_type in _CASE_SENSITIVE else t.text.lower() for t in tokens]


def token_ids(tokens: Sequence[str]) -> list[int]:
    """Stable signed 64-bit ids (the same in every process)."""
    return [
        int.from_bytes(
            hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little", signed=True
        )
        for t in tokens
    ]


def ngram_similarity(gold_sql: str, pred_sql: str, *, n: int = 2, dialect: str = "sqlite") -> float:
    """Multiset Jaccard of token n-grams, in [0, 1].

    >>> ngram_similarity("SELECT a FROM t", "select a from t")
    1.0
    >>> round(ngram_similarity("SELECT a FROM t", "SELECT b FROM t"), 3)
    0.2
    """
    return ngram_jaccard(token_ids(sql_tokens(gold_sql, dialect)), token_ids(sql_tokens(pred_sql, dialect)), n)


def ngram_similarity_many(
    gold_sql: str, preds: Sequence[str], *, n: int = 2, dialect: str = "sqlite", workers: int = 1
) -> list[float]:
    """:func:`ngram_similarity` of one gold query against many predictions (GIL released)."""
    ref = token_ids(sql_tokens(gold_sql, dialect))
    return ngram_jaccard_many(ref, [token_ids(sql_tokens(p, dialect)) for p in preds], n, workers)
