"""The base of every reward function: TRL's calling protocol, the never-raise rule, metric logging, and
:data:`REWARDS`, the one mapping from a reward's name to its class (filled as the classes are defined)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from sqlrl.rewards.batch import Batch
from sqlrl.rewards.executor import ExecutedBatch, RewardExecutor
from sqlrl.sandbox.service import did_you_mean

__all__ = ["REWARDS", "SQLReward"]

logger = logging.getLogger("sqlrl.rewards")

#: Reward kinds by name (``execution``, ``partial``, ...), each mapped to its class, in the order the classes
#: were defined. Every subclass of :class:`SQLReward` that sets ``kind`` adds itself (unless defined with
#: ``register=False``); reward specs (:mod:`sqlrl.rewards.spec`) resolve names here.
REWARDS: dict[str, type[SQLReward]] = {}

R = TypeVar("R", bound="SQLReward")


class SQLReward:
    """A reward function in TRL's protocol: ``f(prompts, completions, completion_ids=None, **columns)``.

    Returns one float (or None, "not applicable") per completion and never raises for anything a
    completion or a query does: an unscorable completion (no SQL, unparseable, a failed or timed-out
    query) gets 0.0. It raises when it cannot score the batch for a reason that is not the
    completions' fault, which would otherwise train on zeros: a misconfiguration (``TypeError`` /
    ``ValueError`` at construction), a batch that lacks a column the reward needs or names a
    database that cannot be opened (:class:`~sqlrl.rewards.batch.RewardInputError`), and any
    internal error (raised as is, with a note naming the reward).

    Subclasses set ``kind`` (the name a spec uses; the class is then listed in :data:`REWARDS`) and
    ``required_columns``, take their options in ``__init__`` and implement :meth:`compute`. Instances are
    picklable and carry ``__name__`` (TRL logs ``rewards/<__name__>/mean``). Rewards built together
    by :func:`~sqlrl.rewards.build_rewards` share one :class:`RewardExecutor`, so a batch is executed
    once for all of them.
    """

    kind: ClassVar[str] = "reward"
    required_columns: ClassVar[tuple[str, ...]] = ()
    #: Reads the databases of the batch (each one must open, else the call raises).
    uses_database: ClassVar[bool] = True

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not register or "kind" not in cls.__dict__:
            return
        known = REWARDS.get(cls.kind)
        if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise TypeError(
                f"{cls.__qualname__}: a reward named {cls.kind!r} exists already "
                f"({known.__module__}.{known.__qualname__}); choose another kind, or define it with register=False"
            )
        REWARDS[cls.kind] = cls  # a module imported again replaces its own class

    @classmethod
    def factory(cls: type[R]) -> Callable[..., R]:
        """A function named ``<kind>_reward`` that builds this reward: ``execution_reward = ExecutionReward.factory()``.

        It shows the class's signature and docstring (``help()``, ``inspect.signature``): each reward's
        options are written once, in its ``__init__``.
        """

        def build(*args: Any, **kwargs: Any) -> R:
            return cls(*args, **kwargs)

        build.__name__ = build.__qualname__ = f"{cls.kind}_reward"
        build.__module__ = cls.__module__
        build.__doc__ = cls.__doc__
        build.__signature__ = inspect.signature(cls).replace(return_annotation=cls.__name__)  # type: ignore[attr-defined]
        return build

    def __init__(self, *, name: str | None = None, executor: RewardExecutor | None = None, **sandbox_options: Any):
        if executor is not None and sandbox_options:
            raise TypeError(
                f"pass sandbox options ({', '.join(sandbox_options)}) to the shared executor, not with executor="
            )
        sandbox_valid = RewardExecutor.option_names()
        for key in sandbox_options:
            if key not in sandbox_valid:
                own = self.option_names()
                raise TypeError(
                    f"the {self.kind} reward has no option {key!r}{did_you_mean(key, [*own, *sandbox_valid])}; "
                    f"its options: {', '.join(own) or 'none'}; sandbox options: {', '.join(sandbox_valid)}"
                )
        self.executor = executor if executor is not None else RewardExecutor(**sandbox_options)
        self.__name__ = name or self.default_name()
        self._metrics: dict[str, float] = {}

    def default_name(self) -> str:
        return self.kind

    @classmethod
    def option_names(cls) -> list[str]:
        """The reward's own keyword options (not the sandbox's)."""
        skip = ("self", "name", "executor")
        params = inspect.signature(cls.__init__).parameters.values()
        return [p.name for p in params if p.name not in skip and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__name__!r}>"

    # -- the TRL protocol --------------------------------------------------------------------------

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        if completions is None:
            raise TypeError(f"{self.__name__}() needs completions")
        batch = self.executor.read(prompts, completions, completion_ids, kwargs)
        batch.require(*self.required_columns, reward=f"the {self.__name__!r} reward")
        if self.uses_database:
            self.executor.check_databases(batch, reward=f"the {self.__name__!r} reward")
        self._metrics = {}
        try:
            values = self.compute(batch)
        except Exception as e:  # not a completion's doing (those score 0): stop rather than train on zeros
            if hasattr(e, "add_note"):  # Python >= 3.11
                e.add_note(f"(while the {self.__name__!r} reward scored a batch of {len(batch)})")
            raise
        self._log(kwargs.get("log_metric"))
        return values

    def compute(self, batch: Batch) -> list[float | None]:
        raise NotImplementedError

    # -- helpers for subclasses --------------------------------------------------------------------

    def execute(self, batch: Batch) -> ExecutedBatch:
        """The batch executed through the shared executor; its SQL rates are logged once per batch."""
        executed = self.executor.execute(batch)
        if not executed.metrics_logged:
            executed.metrics_logged = True
            self._metrics.update(executed.rates())
        return executed

    def metric(self, name: str, value: float) -> None:
        """Record a metric logged under ``<__name__>/<name>`` after this call."""
        self._metrics[f"{self.__name__}/{name}"] = float(value)

    def dialect_of(self, batch: Batch, i: int) -> str:
        """The dialect the model wrote in row ``i`` (its ``dialect`` column, else the sandbox's)."""
        d = batch.dialect(i)
        if d:
            from sqlrl.sql.dialects import resolve_dialect

            try:
                return resolve_dialect(d)
            except Exception:  # noqa: BLE001 - an unknown name: parse as SQLite, the most lenient
                return "sqlite"
        db = batch.db(i)
        return self.executor.sandbox_dialect(db, batch.engine(i)) if db else "sqlite"

    def _log(self, log_metric: Callable[[str, float], None] | None) -> None:
        if log_metric is None or not callable(log_metric):
            return
        for name, value in self._metrics.items():
            try:
                log_metric(name, value)
            except Exception:  # noqa: BLE001 - logging must not break training
                logger.debug("log_metric(%r) failed", name, exc_info=True)
