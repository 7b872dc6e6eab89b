"""Type stub for the compiled scoring core ``sqlrl._core`` (built from csrc/)."""

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from sqlrl.errors import SqlrlError

class ResultTooLarge(MemoryError, SqlrlError):
    """``Table.from_arrow``: the cells read take more than ``max_bytes``."""

class Mode:
    """Execution-match modes (0/1 verdicts); MODES holds their names in order (a pybind11 enum)."""

    __members__: ClassVar[dict[str, Mode]]
    spider: ClassVar[Mode]
    bird: ClassVar[Mode]
    spider2: ClassVar[Mode]
    strict: ClassVar[Mode]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

class Metric:
    """Partial-match metrics (scores in [0, 1]); METRICS holds their names in order (a pybind11 enum)."""

    __members__: ClassVar[dict[str, Metric]]
    paverl: ClassVar[Metric]
    soft_f1: ClassVar[Metric]
    table_f1: ClassVar[Metric]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

#: The names of Mode's members, in order: ("spider", "bird", "spider2", "strict").
MODES: tuple[str, ...]
#: The names of Metric's members, in order: ("paverl", "soft_f1", "table_f1").
METRICS: tuple[str, ...]

class Table:
    """A canonicalised result table (cells typed and hashed once; immutable; thread-safe)."""

    @staticmethod
    def from_arrow(obj: Any, max_rows: int = ..., max_bytes: int = ...) -> Table: ...
    @staticmethod
    def from_rows(
        rows: Iterable[Sequence[Any]], columns: Sequence[str] | None = None, max_rows: int = ...
    ) -> Table: ...
    @property
    def columns(self) -> list[str]: ...
    @property
    def num_rows(self) -> int: ...
    @property
    def num_columns(self) -> int: ...
    @property
    def truncated(self) -> bool: ...
    def __len__(self) -> int: ...
    def rows(self) -> list[tuple[Any, ...]]: ...
    def fingerprint(self, ordered: bool = False, column_order: bool = True) -> int: ...

def match(
    gold: Table,
    pred: Table,
    mode: str = "spider",
    order_matters: bool = False,
    ignore_order: bool = False,
    condition_cols: Sequence[int] = ...,
    quirks: bool = True,
) -> bool: ...
def partial(gold: Table, pred: Table, metric: str = "table_f1") -> float: ...
def score_batch(
    golds: Sequence[Table],
    preds: Sequence[Table | None],
    modes: Sequence[str],
    metrics: Sequence[str],
    order_matters: Sequence[bool],
    ignore_order: Sequence[bool],
    condition_cols: Sequence[Sequence[int]],
    quirks: bool = True,
    workers: int = 1,
) -> dict[str, list[float]]: ...
def column_permutation(gold: Table, pred: Table, order_matters: bool = False) -> list[int]: ...
def py_float_repr(x: float) -> str: ...
def ngram_jaccard(a: Sequence[int], b: Sequence[int], n: int = 2) -> float: ...
def ngram_jaccard_many(
    ref: Sequence[int], cands: Sequence[Sequence[int]], n: int = 2, workers: int = 1
) -> list[float]: ...
