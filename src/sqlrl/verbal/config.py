"""Every setting of the verbal loop in one dataclass, :class:`VerbalConfig`."""

from __future__ import annotations

import string
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sqlrl.data.prompts import PromptOptions

__all__ = ["VerbalConfig"]

_ENGINES = ("sqlite", "duckdb", "auto")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class VerbalConfig:
    """How the verbal loop samples, executes, judges and refines (docs/architecture.md, 'Verbal RL and generation').

    Every loop is bounded by a count here; every call by a timeout (HTTP in the backend, SQL in
    the sandbox), so a question always finishes.

    Attributes:
        k: stop sampling once this many sampled queries executed (duplicates count: a model that
            is sure of itself stops early).
        max_attempts: completions sampled at most per question in the first round, failed requests
            included.
        sample_batch: completions asked for per generator request (the API's ``n``).
        require_nonempty: only results with at least one row count towards ``k``.
        prefer_nonempty: results with rows rank before empty ones (majority vote, the judge's ties,
            which clusters are shown when there are more than ``max_judge_candidates``).
        temperature: generator sampling temperature.
        top_p: generator nucleus sampling.
        max_new_tokens: generator completion length limit.
        seed: base seed; each request gets a seed derived from it, the question and the request.
        use_judge: ask the judge to score the result clusters; False picks by majority vote.
        judge_rounds: scoring rounds R; a cluster's score is the mean over the rounds whose reply
            could be read.
        judge_retries: extra tries per round when the reply cannot be read (or the request failed).
        judge_temperature: judge sampling temperature.
        judge_max_tokens: judge reply length limit.
        score_max: scores run from 0 to this.
        vote_weight: a cluster is chosen by its mean judge score plus ``vote_weight * score_max *``
            its share of the executed samples. 0 (default) trusts the judge alone and uses the votes
            only to break ties; 1 lets a unanimous vote weigh as much as the whole score range, which
            keeps a noisy judge from overruling a clear majority.
        shuffle: show the clusters in a different (seeded) order in each round, against position bias.
        show_votes: tell the judge how many samples produced each result.
        max_judge_candidates: the largest clusters shown to the judge; smaller ones are not eligible.
        judge_single_cluster: call the judge even when every executed query gave the same result
            (nothing to choose; only useful for its critique before a refinement round).
        refine_rounds: refinement rounds after the first (0: none).
        refine_samples: completions sampled at most per refinement round.
        refine_below: refine only while the chosen cluster scores below this (empty results and
            no executable query are always refined).
        refine_temperature: generator temperature in refinement rounds (None: ``temperature``).
        summary_rows: rows shown per result in judge and feedback prompts.
        max_cell_chars: longer cells are cut in prompts.
        max_sql_chars: longer queries are cut in prompts.
        max_error_chars: longer error messages are cut in prompts.
        prompt_options: how the generator prompt (schema, sample values, instruction) is built.
        dialect: SQL dialect asked for (None: the example's).
        judge_system: judge system message template (None: :data:`~sqlrl.verbal.prompts.JUDGE_SYSTEM`).
        judge_user: judge user message template (None: :data:`~sqlrl.verbal.prompts.JUDGE_USER`).
        refine_user: refinement feedback template (None: :data:`~sqlrl.verbal.prompts.REFINE_USER`).
        engine: sandbox engine for the candidates (``sqlite``, ``duckdb``, ``auto``).
        exec_timeout: seconds per query, really stopped.
        max_rows: rows kept per result (a longer result is clustered on its first rows, flagged).
        cluster_ordered: results with the same rows in a different order are different clusters.
        cluster_column_order: results with the same columns in a different order are different
            clusters (default). False: a column permutation of a result joins its cluster
            (``Table.fingerprint(column_order=False)``), which the judge sees once, by the
            cluster's representative query and its column order. Keep the default for BIRD-style
            evaluation, where column order matters; with Spider, whose execution accuracy accepts a
            column permutation of the gold result, False merges clusters that Spider's EX treats
            as equal.
        log_prompts: keep every judge prompt in the trajectory (for training a judge).
        score_gold: after the choice, mark each candidate's execution match with the gold query
            (never shown to the judge; for analysis and as RL labels).
    """

    k: int = 4
    max_attempts: int = 8
    sample_batch: int = 4
    require_nonempty: bool = False
    prefer_nonempty: bool = True
    temperature: float = 0.8
    top_p: float = 0.95
    max_new_tokens: int = 512
    seed: int = 0
    use_judge: bool = True
    judge_rounds: int = 3
    judge_retries: int = 2
    judge_temperature: float = 0.7
    judge_max_tokens: int = 512
    score_max: int = 10
    vote_weight: float = 0.0
    shuffle: bool = True
    show_votes: bool = True
    max_judge_candidates: int = 8
    judge_single_cluster: bool = False
    refine_rounds: int = 0
    refine_samples: int = 2
    refine_below: float = 8.0
    refine_temperature: float | None = None
    summary_rows: int = 5
    max_cell_chars: int = 60
    max_sql_chars: int = 2000
    max_error_chars: int = 300
    prompt_options: PromptOptions = field(default_factory=PromptOptions)
    dialect: str | None = None
    judge_system: str | None = None
    judge_user: str | None = None
    refine_user: str | None = None
    engine: str = "sqlite"
    exec_timeout: float = 10.0
    max_rows: int = 100_000
    cluster_ordered: bool = False
    cluster_column_order: bool = True
    log_prompts: bool = True
    score_gold: bool = True

    def __post_init__(self) -> None:
        positive = ("k", "max_attempts", "sample_batch", "max_new_tokens", "judge_rounds", "judge_max_tokens",
                    "score_max", "max_judge_candidates", "refine_samples", "summary_rows", "max_cell_chars",
                    "max_sql_chars", "max_error_chars", "max_rows")  # fmt: skip
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("judge_retries", "refine_rounds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.k > self.max_attempts:
            raise ValueError(
                f"k={self.k} can never be reached with max_attempts={self.max_attempts}; raise max_attempts"
            )
        for name in ("temperature", "judge_temperature", "refine_temperature"):
            t = getattr(self, name)
            if t is not None and t < 0:
                raise ValueError(f"{name} must be >= 0, got {t}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.vote_weight < 0:
            raise ValueError(f"vote_weight must be >= 0, got {self.vote_weight}")
        if self.exec_timeout <= 0:
            raise ValueError(f"exec_timeout must be positive, got {self.exec_timeout}")
        if self.engine not in _ENGINES:
            raise ValueError(f"engine must be one of {', '.join(_ENGINES)}, got {self.engine!r}")
        from sqlrl.verbal import prompts

        for name, allowed in (("judge_system", prompts.JUDGE_FIELDS), ("judge_user", prompts.JUDGE_FIELDS),
                              ("refine_user", prompts.REFINE_FIELDS)):  # fmt: skip
            template = getattr(self, name)
            if template is None:
                continue
            try:
                unknown = _placeholders(template) - set(allowed)
            except ValueError as e:
                raise ValueError(f"{name}: not a valid format template ({e}); write literal braces as {{{{ }}}}") from e
            if unknown:
                raise ValueError(
                    f"{name}: unknown placeholder(s) {', '.join(sorted(unknown))}; available: {', '.join(allowed)}"
                )

    def to_json(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (stored with every trajectory)."""
        out = asdict(self)
        opts = self.prompt_options
        out["prompt_options"] = {f.name: getattr(opts, f.name) for f in fields(opts) if f.name != "length_fn"}
        return out
