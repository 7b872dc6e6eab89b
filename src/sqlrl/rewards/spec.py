"""Reward specs: which rewards, with which weights and settings, in a list or a YAML file.

A spec is a list of entries ``{name, weight, **params}``; ``name`` is a reward kind (see
:data:`REWARDS`), ``weight`` its weight in TRL's weighted sum (default 1.0), ``label`` an optional
name for TRL's logs (needed when one kind appears twice), and every other key is a parameter of
that reward's class (which its factory, e.g. ``partial_reward``, takes too)::

    rewards:
      - name: partial
        weight: 1.0
        metric: table_f1
      - name: format
        weight: 0.2
        think: optional

:func:`build_rewards` turns a spec into the ``(reward_funcs, reward_weights)`` pair TRL's
``GRPOTrainer`` takes; the functions share one executor, so a batch runs once for all of them.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlrl.errors import SqlrlError
from sqlrl.rewards.base import REWARDS, SQLReward
from sqlrl.rewards.executor import RewardExecutor

__all__ = ["PRESETS", "REWARDS", "RewardSpec", "RewardSpecError", "RewardTerm", "build_rewards"]

# REWARDS (name -> class) is complete here: the package's __init__ imports every reward module before this one.
_RESERVED = ("name", "weight", "label")


class RewardSpecError(SqlrlError, ValueError):
    """A reward spec names an unknown reward or parameter, or has a bad weight or value."""


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reward_params(kind: str) -> list[str]:
    """The parameters a reward kind accepts in a spec: its class's options."""
    return REWARDS[kind].option_names()


@dataclass(frozen=True)
class RewardTerm:
    """One entry of a spec: reward kind ``name``, ``weight``, parameters and an optional log ``label``."""

    name: str
    weight: float = 1.0
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None

    def build(self, executor: RewardExecutor) -> SQLReward:
        """The reward function, using ``executor``."""
        return REWARDS[self.name](**dict(self.params), name=self.label, executor=executor)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "weight": self.weight}
        if self.label:
            out["label"] = self.label
        out.update(self.params)
        return out


def _term(entry: Any, where: str) -> RewardTerm:
    if isinstance(entry, RewardTerm):
        entry = entry.to_dict()
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, Mapping):
        raise RewardSpecError(f"{where}: expected a mapping like {{name: execution, weight: 1.0}}, got {entry!r}")
    if "name" not in entry:
        raise RewardSpecError(f"{where}: missing 'name' (one of {', '.join(REWARDS)})")
    kind = entry["name"]
    if kind not in REWARDS:
        raise RewardSpecError(
            f"{where}: unknown reward {kind!r}{_suggest(str(kind), REWARDS)}; valid names: {', '.join(REWARDS)}"
        )
    weight = entry.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
        raise RewardSpecError(f"{where} ({kind}): weight must be a finite number, got {weight!r}")
    label = entry.get("label")
    if label is not None and (not isinstance(label, str) or not label.strip()):
        raise RewardSpecError(f"{where} ({kind}): label must be a non-empty string, got {label!r}")
    params = {k: v for k, v in entry.items() if k not in _RESERVED}
    valid = reward_params(kind)
    for key in params:
        if key in valid:
            continue
        if key in RewardExecutor.option_names():
            raise RewardSpecError(
                f"{where} ({kind}): {key!r} is a sandbox option, shared by every reward of the spec, not a "
                f"parameter of one reward: pass it to build_rewards(spec, {key}=...); {kind} takes: "
                f"{', '.join(valid) or 'no parameters'}"
            )
        raise RewardSpecError(
            f"{where} ({kind}): unknown parameter {key!r}{_suggest(key, valid)}; "
            f"{kind} takes: {', '.join(valid) or 'no parameters'}"
        )
    term = RewardTerm(kind, float(weight), params, label)
    try:  # build once on an idle executor, so that bad values fail here and not in the first training step
        term.build(RewardExecutor())
    except ImportError as e:
        raise RewardSpecError(f"{where} ({kind}): {e}") from None
    except (ValueError, TypeError) as e:
        raise RewardSpecError(f"{where} ({kind}): {e}") from None
    return term


@dataclass(frozen=True)
class RewardSpec:
    """An ordered list of weighted reward terms.

    Build one from a list of dicts, a YAML file or text, or a preset name (:meth:`load`), and turn it
    into TRL's reward functions with :func:`build_rewards`.

    Raises:
        RewardSpecError: an unknown reward name or parameter, a bad weight or value, two terms
            with the same log name, or no term with a non-zero weight.

    >>> spec = RewardSpec.from_list([{"name": "execution", "weight": 1.0}, {"name": "format", "weight": 0.1}])
    >>> spec.names, spec.weights
    (['execution', 'format'], [1.0, 0.1])
    >>> RewardSpec.from_list([{"name": "exection"}])
    Traceback (most recent call last):
    ...
    sqlrl.rewards.spec.RewardSpecError: rewards[0]: unknown reward 'exection' (did you mean 'execution'?); \
valid names: execution, partial, format, syntax, schema_linking, ngram, components, length, judge
    """

    terms: tuple[RewardTerm, ...]

    def __post_init__(self) -> None:
        terms = tuple(_term(t, f"rewards[{i}]") for i, t in enumerate(self.terms))
        if not terms:
            raise RewardSpecError("a reward spec needs at least one reward")
        if all(t.weight == 0 for t in terms):
            raise RewardSpecError("every weight is 0: give at least one reward a non-zero weight")
        object.__setattr__(self, "terms", terms)
        names = self.names
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise RewardSpecError(
                f"two rewards are logged as {', '.join(map(repr, dupes))}: give one of them a distinct 'label'"
            )

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def from_list(cls, entries: Sequence[Any]) -> RewardSpec:
        """From ``[{name, weight, **params}, ...]`` (a bare name string means weight 1, default params)."""
        if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Sequence):
            raise RewardSpecError(f"a reward spec is a list of rewards, got {type(entries).__name__}")
        return cls(tuple(entries))

    @classmethod
    def from_yaml(cls, source: str | os.PathLike[str]) -> RewardSpec:
        """From a YAML file or YAML text: a list of entries, or a mapping with a ``rewards`` list."""
        import yaml

        text = str(source)
        path = Path(source) if isinstance(source, os.PathLike) or "\n" not in text else None
        if path is not None and path.suffix.lower() in (".yaml", ".yml", ".json") and not path.is_file():
            raise RewardSpecError(f"reward spec file not found: {path}")
        if path is not None and path.is_file():
            text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise RewardSpecError(f"reward spec is not valid YAML: {e}") from None
        if isinstance(data, Mapping):
            if "rewards" not in data:
                raise RewardSpecError("a YAML reward spec is a list of rewards or a mapping with a 'rewards' list")
            data = data["rewards"]
        return cls.from_list(data)

    @classmethod
    def load(cls, spec: Any) -> RewardSpec:
        """Whatever names a spec: a :class:`RewardSpec`, a preset name (:data:`PRESETS`), a YAML path or
        text, or a list of entries."""
        if isinstance(spec, RewardSpec):
            return spec
        if isinstance(spec, str) and spec in PRESETS:
            return PRESETS[spec]
        if isinstance(spec, (str, os.PathLike)):
            looks_like_name = isinstance(spec, str) and "\n" not in spec and ":" not in spec and not Path(spec).suffix
            if looks_like_name and not Path(spec).is_file():
                raise RewardSpecError(
                    f"unknown reward preset {spec!r}{_suggest(spec, PRESETS)}; presets: {', '.join(PRESETS)}"
                )
            return cls.from_yaml(spec)
        return cls.from_list(spec)

    # -- views -------------------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """The names TRL logs the rewards under (``rewards/<name>/mean``)."""
        return [t.build(RewardExecutor()).__name__ if not t.label else t.label for t in self.terms]

    @property
    def weights(self) -> list[float]:
        return [t.weight for t in self.terms]

    def to_list(self) -> list[dict[str, Any]]:
        return [t.to_dict() for t in self.terms]

    def to_yaml(self, path: str | os.PathLike[str] | None = None) -> str:
        """The spec as YAML (``rewards:`` list); written to ``path`` when given."""
        import yaml

        text = yaml.safe_dump({"rewards": self.to_list()}, sort_keys=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def build_rewards(spec: Any = "stage2", **sandbox_options: Any) -> tuple[list[SQLReward], list[float]]:
    """Reward functions and weights for TRL, sharing one executor (one execution per prediction per batch).

    Args:
        spec: a :class:`RewardSpec`, a preset name (``stage1``, ``stage2``, ``execution``, ``suite``), a YAML
            file or text, or a list of ``{name, weight, **params}`` dicts.
        **sandbox_options: for the shared :class:`~sqlrl.rewards.executor.RewardExecutor`:
            ``timeout`` (seconds per query, default 5), ``max_rows``, ``engine`` (for rows without an
            ``engine`` column), ``workers``, ``memory_limit``, ``cache_dir``, ...

    Returns:
        ``(funcs, weights)`` for ``GRPOTrainer(reward_funcs=funcs, args=GRPOConfig(reward_weights=weights))``.

    Raises:
        RewardSpecError: a bad spec, or a sandbox option that does not exist, has a bad value or
            belongs to a reward (``empty_gold``, ``mode``, ...: set those in the spec).

    >>> funcs, weights = build_rewards("stage2", timeout=3.0)
    >>> [f.__name__ for f in funcs], weights
    (['execution', 'format', 'length'], [1.0, 0.1, 0.1])
    >>> funcs[0].executor is funcs[2].executor
    True
    """
    spec = RewardSpec.load(spec)
    executor = _executor(sandbox_options)
    return [t.build(executor) for t in spec.terms], list(spec.weights)


def _executor(sandbox_options: Mapping[str, Any]) -> RewardExecutor:
    """The shared executor; an option that belongs to a reward, or none at all, fails here, naming the valid ones."""
    valid = RewardExecutor.option_names()
    for key in sandbox_options:
        if key in valid:
            continue
        owners = [kind for kind in REWARDS if key in reward_params(kind)]
        if owners:
            raise RewardSpecError(
                f"{key!r} is a parameter of the {', '.join(owners)} reward{'s' if len(owners) > 1 else ''}, not a "
                f"sandbox option: set it on the reward in the spec, e.g. {{name: {owners[0]}, {key}: ...}}; "
                f"build_rewards takes the sandbox options {', '.join(valid)}"
            )
        raise RewardSpecError(
            f"unknown sandbox option {key!r}{_suggest(key, valid)}; build_rewards takes: {', '.join(valid)}"
        )
    try:
        return RewardExecutor(**sandbox_options)
    except (TypeError, ValueError) as e:
        raise RewardSpecError(f"bad sandbox option: {e}") from None


#: Ready-made specs. ``stage1``: dense partial rewards for the first GRPO stage; ``stage2``:
#: execution-focused rewards for the second; ``execution``: execution match alone; ``suite``: execution
#: match on each row's distilled test suite (``suite: true``: the folder in the dataset column ``suite_dir``,
#: which a training config's ``data.suite`` fills; logged as ``execution_suite``; see docs/suites.md).
PRESETS: dict[str, RewardSpec] = {}
PRESETS["stage1"] = RewardSpec.from_list(
    [
        {"name": "partial", "weight": 1.0, "metric": "table_f1"},
        {"name": "syntax", "weight": 0.2},
        {"name": "schema_linking", "weight": 0.2},
        {"name": "format", "weight": 0.1, "think": "optional"},
    ]
)
PRESETS["stage2"] = RewardSpec.from_list(
    [
        {"name": "execution", "weight": 1.0, "mode": "spider"},
        {"name": "format", "weight": 0.1, "think": "optional"},
        {"name": "length", "weight": 0.1, "threshold": 0.5},
    ]
)
PRESETS["execution"] = RewardSpec.from_list([{"name": "execution", "weight": 1.0}])
PRESETS["suite"] = RewardSpec.from_list(
    [{"name": "execution", "weight": 1.0, "mode": "spider", "suite": True, "label": "execution_suite"}]
)
