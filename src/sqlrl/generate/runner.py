"""Predictions for a dataset from a chat model: prompts, sampling, SQL extraction, execution, voting, files.

>>> from sqlrl.data import load_toy
>>> from sqlrl.generate import GenerateConfig, generate_predictions
>>> result = generate_predictions("path/to/model", load_toy("dev")[:20],
...                               GenerateConfig(n=8, temperature=0.8))  # doctest: +SKIP
>>> result.write("out/")  # doctest: +SKIP
{'spider': PosixPath('out/pred.sql'), 'gold': PosixPath('out/gold.sql'), 'bird': ..., 'samples': ...}

With ``n == 1`` the single completion's SQL is the prediction and nothing is executed. With
``n > 1`` every extracted query runs in the sandbox on the example's database (each distinct
text once) and :func:`~sqlrl.generate.voting.majority_vote` picks the prediction by result.

Files written by :meth:`GenerateResult.write` (with the writers of :mod:`sqlrl.eval.pred_files`):

- ``pred.sql``: one SQL per line, as ``sqlrl eval spider --pred`` and test-suite-sql-eval read
  it. Tabs and line breaks become spaces (also inside string literals; other spaces are kept); an
  example without SQL gets :data:`NO_SQL` (``SELECT``, which fails to run and to parse, so it is
  never right by accident).
- ``gold.sql``: ``SQL<TAB>db_id`` lines in the same order (``--gold`` of ``sqlrl eval spider`` and
  ``sqlrl eval bird``), when every example has gold SQL.
- ``predict_<split>.json``: BIRD's ``{"0": "SQL\\t----- bird -----\\tdb_id", ...}`` in dataset order.
- ``spider2/<instance_id>.sql``: a Spider 2.0-lite submission folder (``sqlrl eval spider2 --mode sql``),
  for Spider 2.0 datasets.
- ``samples.jsonl``: per example every completion, its SQL, execution outcome, result fingerprint
  and cluster, and the vote; ``generate.json``: settings and counts.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlrl.data.example import Example, ExampleSet
from sqlrl.data.prompts import PromptOptions, build_messages
from sqlrl.eval.pred_files import (
    NO_SQL,
    one_line,
    write_bird_predictions,
    write_gold_lines,
    write_spider2_folder,
    write_spider_predictions,
)
from sqlrl.generate.voting import Candidate, Vote, majority_vote
from sqlrl.models.chat import as_chat_model, raise_failed
from sqlrl.models.prompt_settings import PROMPT_FILE, PromptSettings
from sqlrl.sandbox.parallel import progress_bar
from sqlrl.sql.extract import extract_sql

__all__ = ["NO_SQL", "GenerateConfig", "GenerateResult", "generate_predictions", "one_line"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class GenerateConfig:
    """Settings of :func:`generate_predictions`.

    Attributes:
        n: samples per question; with more than one, the prediction is chosen by majority vote.
        temperature: sampling temperature; None means greedy (0) for ``n == 1`` and 0.8 otherwise.
        top_p: nucleus sampling.
        max_new_tokens: completion length limit; None: the model's training length when its folder has a
            ``sqlrl_prompt.json`` (:mod:`sqlrl.models.prompt_settings`), else 256.
        seed: sampling seed (each batch of questions uses ``seed + its first index``).
        batch_size: questions per generation call (transformers batches them with left padding).
        backend: ``auto`` (vLLM when installed and CUDA is present, else transformers),
            ``transformers`` or ``vllm``; only used when a model path is given.
        device: torch device for transformers (default CUDA when available).
        dtype: weights dtype (``bfloat16``, ...; default the checkpoint's).
        prompt: how prompts are built (:class:`~sqlrl.data.prompts.PromptOptions`); None: as the model was
            trained when its folder has a ``sqlrl_prompt.json``, else ``PromptOptions()``.
        engine: sandbox engine executing the samples for the vote (``sqlite`` or ``duckdb``).
        timeout: seconds per sampled query.
        workers: threads executing samples.
        max_rows: rows kept per result; results are compared on the rows kept.
        vote_column_order: results that differ only in column order are different votes (default).
            False: a column permutation of a result votes with it (``Table.fingerprint(column_order=False)``),
            and the winning cluster's prediction is the earliest sample with the column order most
            of the cluster's samples produced. Keep the default for BIRD-style evaluation, where
            column order matters (a permuted result is wrong); with Spider, whose execution accuracy
            accepts a column permutation of the gold result, False merges votes that Spider's EX
            treats as equal.
    """

    n: int = 1
    temperature: float | None = None
    top_p: float = 1.0
    max_new_tokens: int | None = None
    seed: int = 0
    batch_size: int = 8
    backend: str = "auto"
    device: str | None = None
    dtype: str | None = None
    prompt: PromptOptions | None = None
    engine: str = "sqlite"
    timeout: float = 10.0
    workers: int = 2
    max_rows: int = 100_000
    vote_column_order: bool = True

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        if self.temperature is not None and self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.n > 1 and self.temperature == 0:
            raise ValueError(f"n={self.n} greedy samples would all be equal: pass a temperature > 0 (e.g. 0.8)")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if (self.max_new_tokens is not None and self.max_new_tokens < 1) or self.batch_size < 1:
            raise ValueError("max_new_tokens and batch_size must be at least 1")
        if self.engine not in ("sqlite", "duckdb"):
            raise ValueError(f"engine must be 'sqlite' or 'duckdb', got {self.engine!r}")

    @property
    def sampling_temperature(self) -> float:
        """The temperature used: ``temperature``, else 0 for one sample and 0.8 for several."""
        if self.temperature is not None:
            return self.temperature
        return 0.0 if self.n == 1 else 0.8

    def resolve(self, settings: PromptSettings | None) -> GenerateConfig:
        """This config with ``prompt`` and ``max_new_tokens`` filled in: from the model's training
        ``settings`` where this config leaves them None, else the defaults."""
        prompt = self.prompt or (settings.options() if settings is not None else PromptOptions())
        tokens = self.max_new_tokens or (settings.max_new_tokens if settings is not None else None) or 256
        return replace(self, prompt=prompt, max_new_tokens=tokens)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        prompt = self.prompt or PromptOptions()
        out["prompt"] = {k: v for k, v in asdict(prompt).items() if k != "length_fn"}
        out["temperature"] = self.sampling_temperature
        return out


@dataclass
class GenerateResult:
    """Per-example records (``samples.jsonl`` lines) and the dataset they belong to.

    Each record has ``index``, ``id``, ``db_id``, ``question``, ``gold``, ``prediction`` (the
    chosen SQL as written to the files), ``chosen`` (sample index), ``vote`` (a reason of
    :data:`~sqlrl.generate.voting.VOTE_REASONS`), ``votes`` (winning cluster size), ``clusters``
    and ``samples`` (``completion``, ``sql``, ``extract``, and when executed ``ok``,
    ``error_kind``, ``error``, ``rows``, ``fingerprint``: the key voted on; with
    ``vote_column_order=False`` it ignores column order and ``fingerprint_column_order`` counts it).
    """

    dataset_name: str
    split: str
    records: list[dict[str, Any]]
    config: GenerateConfig
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def predictions(self) -> list[str]:
        """The chosen SQL per example, one line each (as in ``pred.sql``)."""
        return [r["prediction"] for r in self.records]

    def summary(self) -> dict[str, Any]:
        """Counts: examples, samples, samples with SQL, samples that ran, vote reasons."""
        samples = [s for r in self.records for s in r["samples"]]
        return {
            "examples": len(self.records),
            "samples": len(samples),
            "with_sql": sum(s["sql"] is not None for s in samples),
            "executed_ok": sum(bool(s.get("ok")) for s in samples),
            "votes": dict(Counter(r["vote"] for r in self.records)),
        }

    def write(self, out_dir: PathLike) -> dict[str, Path]:
        """Write the prediction files (see the module) into ``out_dir``; returns ``{kind: path}``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        paths["spider"] = write_spider_predictions(out / "pred.sql", self.predictions)
        if self.records and all(r["gold"] is not None for r in self.records):
            paths["gold"] = write_gold_lines(out / "gold.sql", [(r["gold"], r["db_id"]) for r in self.records])
        bird = [(r["prediction"], r["db_id"]) for r in self.records]
        paths["bird"] = write_bird_predictions(out / f"predict_{self.split or 'dev'}.json", bird)
        if self.dataset_name.lower().startswith("spider2"):
            paths["spider2"] = write_spider2_folder(out / "spider2", [(r["id"], r["prediction"]) for r in self.records])
        paths["samples"] = out / "samples.jsonl"
        with open(paths["samples"], "w", encoding="utf-8") as f:
            for r in self.records:
                f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
        paths["meta"] = out / "generate.json"
        meta = {**self.meta, "config": self.config.to_json(), "summary": self.summary()}
        meta["files"] = {k: str(v) for k, v in paths.items()}
        paths["meta"].write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        return paths


def _sample_completions(
    lm: Any, examples: Sequence[Example], dataset: ExampleSet, cfg: GenerateConfig, progress: bool | None
) -> list[list[str]]:
    messages = []
    for ex in examples:
        if ex.db_path is None:
            raise ValueError(f"example {ex.id!r} has no database file: its schema cannot be put in the prompt")
        messages.append(build_messages(ex, options=cfg.prompt, tables_entry=dataset.tables.get(ex.db_id)))
    chunk = int(getattr(lm, "chunk_size", cfg.batch_size))
    chat = as_chat_model(lm)
    bar = progress_bar(len(examples), progress, "generate", least=1)
    out: list[list[str]] = []
    try:
        for start in range(0, len(messages), chunk):
            batch = messages[start : start + chunk]
            results = chat.chat(
                batch,
                n=cfg.n,
                temperature=cfg.sampling_temperature,
                top_p=cfg.top_p,
                max_tokens=cfg.max_new_tokens,  # type: ignore[arg-type]  # resolved: never None here
                seed=cfg.seed + start,
            )
            raise_failed(results)  # a failed generation stops the run
            got = [r.texts for r in results]
            if len(got) != len(batch) or any(len(g) != cfg.n for g in got):
                raise RuntimeError(
                    f"the model returned {[len(g) for g in got]} completions for {len(batch)} x n={cfg.n}"
                )
            out.extend(list(g) for g in got)
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    return out


def _execute(
    examples: Sequence[Example], sqls: list[list[str | None]], cfg: GenerateConfig, progress: bool | None,
    cache_dir: PathLike | None,
) -> list[list[dict[str, Any]]]:  # fmt: skip
    """Run every extracted query on its example's database; per sample ``ok``, errors, rows, fingerprint."""
    from sqlrl.eval._exec import evaluation_service

    tasks, where = [], []
    for i, (ex, row) in enumerate(zip(examples, sqls, strict=True)):
        for j, sql in enumerate(row):
            if sql is not None and ex.db_path is not None:
                tasks.append((ex.db_path, sql))
                where.append((i, j))
    outcomes: list[list[dict[str, Any]]] = [[{"ok": False} for _ in row] for row in sqls]
    with evaluation_service(
        engine=cfg.engine, timeout=cfg.timeout, max_rows=cfg.max_rows, text_errors="ignore", cache_dir=cache_dir
    ) as pool:
        results = pool.run(tasks, workers=cfg.workers, progress=progress, desc="execute")
    for (i, j), res in zip(where, results, strict=True):
        if res.ok:
            fp = res.table.fingerprint(column_order=cfg.vote_column_order)
            outcomes[i][j] = {"ok": True, "rows": res.table.num_rows, "fingerprint": f"{fp:016x}"}
            if not cfg.vote_column_order:
                outcomes[i][j]["fingerprint_column_order"] = f"{res.table.fingerprint():016x}"
            if res.truncated:
                outcomes[i][j]["truncated"] = True
        else:
            kind = getattr(res.error_kind, "value", res.error_kind)
            outcomes[i][j] = {"ok": False, "error_kind": str(kind), "error": res.error}
    return outcomes


def generate_predictions(
    model: Any,
    dataset: ExampleSet,
    config: GenerateConfig | None = None,
    *,
    progress: bool | None = None,
    cache_dir: PathLike | None = None,
) -> GenerateResult:
    """Generate one predicted query per example of ``dataset``.

    Args:
        model: a local model folder (loaded with ``config.backend``), or a chat model
            (:class:`~sqlrl.models.chat.ChatModel`, such as :class:`~sqlrl.models.local.LocalChatModel`),
            or any object with ``generate(messages_list, *, n, temperature, top_p, max_new_tokens, seed)
            -> list[list[str]]``.
        dataset: the examples (e.g. ``load_toy("dev")``, ``load_spider(...)[:100]``).
        config: see :class:`GenerateConfig`. Its ``prompt`` and ``max_new_tokens`` default to the settings the
            model was trained with (``sqlrl_prompt.json`` in a model folder, or a chat model's
            ``prompt_settings`` attribute), so a model from ``sqlrl train`` is asked as it was trained.
        progress: progress bars (None: when stderr is a terminal).
        cache_dir: sandbox cache (DuckDB copies of SQLite databases with ``engine="duckdb"``).

    Raises:
        FileNotFoundError: ``model`` is a path without a model folder.
        ValueError: an example has no database file (its schema cannot be shown).
    """
    from sqlrl.models.chat import load_chat_model

    cfg = config or GenerateConfig()
    examples = list(dataset)
    model_name = None
    if isinstance(model, (str, os.PathLike)):
        model_name = os.fspath(model)
        settings = PromptSettings.read(model_name)
        model = load_chat_model(
            model, backend=cfg.backend, device=cfg.device, dtype=cfg.dtype, batch_size=cfg.batch_size
        )
        source = str(Path(model_name) / PROMPT_FILE) if settings is not None else None
    else:
        settings = getattr(model, "prompt_settings", None)
        source = "the model's prompt_settings" if settings is not None else None
    cfg = cfg.resolve(settings)
    t0 = time.perf_counter()
    completions = _sample_completions(model, examples, dataset, cfg, progress)
    t1 = time.perf_counter()
    extractions = [[extract_sql(text) for text in row] for row in completions]
    sqls = [[e.sql for e in row] for row in extractions]
    vote_by_execution = cfg.n > 1
    outcomes = (
        _execute(examples, sqls, cfg, progress, cache_dir) if vote_by_execution else [[{} for _ in r] for r in sqls]
    )
    t2 = time.perf_counter()

    records = []
    for i, ex in enumerate(examples):
        samples = []
        candidates = []
        for text, ext, outcome in zip(completions[i], extractions[i], outcomes[i], strict=True):
            samples.append({"completion": text, "sql": ext.sql, "extract": ext.source if ext.ok else ext.reason})
            samples[-1].update(outcome)
            exact = outcome.get("fingerprint_column_order")
            candidates.append(Candidate(ext.sql, bool(outcome.get("ok")), outcome.get("fingerprint"), exact))
        vote: Vote = majority_vote(candidates)
        cluster_of = {j: c for c, members in enumerate(vote.clusters) for j in members}
        for j, s in enumerate(samples):
            s["cluster"] = cluster_of.get(j)
        records.append({
            "index": i, "id": ex.id, "db_id": ex.db_id, "question": ex.question, "gold": ex.gold_sql,
            "prediction": one_line(vote.sql), "chosen": vote.index, "vote": vote.reason, "votes": vote.votes,
            "clusters": vote.clusters, "samples": samples,
        })  # fmt: skip
    meta = {
        "model": model_name or type(model).__name__,
        "dataset": dataset.name,
        "split": dataset.split,
        "seconds_generate": round(t1 - t0, 3),
        "seconds_execute": round(t2 - t1, 3),
        "prompt_settings": source,
    }
    return GenerateResult(dataset.name, dataset.split, records, cfg, meta)
