"""Interactive generation: the training episodes, for any chat model, written as prediction files.

``sqlrl generate --interactive`` (and :func:`interactive_predictions`) asks the model each question with
the tool help appended, runs its tool calls on the question's database (:func:`~sqlrl.env.run_episodes`),
and takes the episode's final SQL as the prediction. The files are those of ``sqlrl generate``
(``pred.sql``, ``gold.sql``, ``predict_<split>.json``, ``samples.jsonl``, ``generate.json``), which
``sqlrl eval`` scores as usual, plus ``trajectories.jsonl``: per question every model turn, tool call and
tool output, and the episode's counts.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlrl.env.config import EnvConfig
from sqlrl.env.environment import _service_for, environment_factory
from sqlrl.env.episodes import run_episodes

__all__ = ["interactive_predictions", "write_trajectories"]


def interactive_predictions(
    model: Any,
    dataset: Any,
    config: Any = None,
    env: EnvConfig | None = None,
    *,
    chunk: int = 64,
    progress: bool | None = None,
) -> Any:
    """One episode per example of ``dataset``; returns a :class:`~sqlrl.generate.runner.GenerateResult` whose
    records also hold each ``episode`` (its ``trajectory`` and counts).

    Args:
        model: a local model folder, or any chat model (:class:`~sqlrl.models.chat.ChatModel`, e.g.
            :class:`~sqlrl.models.openai_chat.OpenAIChatModel` for an OpenAI-compatible server).
        dataset: the examples. config: a :class:`~sqlrl.generate.runner.GenerateConfig` (prompt, sampling,
            ``engine``, ``max_new_tokens`` per turn; ``n`` must be 1). env: the episodes' settings.
        chunk: episodes run together (their turns are asked in one batch).
    """
    from sqlrl.data.prompts import build_messages
    from sqlrl.eval.pred_files import NO_SQL, one_line
    from sqlrl.generate.runner import GenerateConfig, GenerateResult
    from sqlrl.models.chat import load_chat_model
    from sqlrl.models.prompt_settings import PromptSettings
    from sqlrl.sandbox.parallel import progress_bar

    cfg = config or GenerateConfig()
    if cfg.n != 1:
        raise ValueError("interactive generation runs one episode per question: use n=1")
    env = env or EnvConfig()
    examples = list(dataset)
    name = None
    settings = None
    if isinstance(model, (str, os.PathLike)):
        name = os.fspath(model)
        settings = PromptSettings.read(name)
        model = load_chat_model(model, backend=cfg.backend, device=cfg.device, dtype=cfg.dtype,
                                batch_size=cfg.batch_size)  # fmt: skip
    else:
        settings = getattr(model, "prompt_settings", None)
    cfg = cfg.resolve(settings)
    rows = []
    for ex in examples:
        if ex.db_path is None:
            raise ValueError(f"example {ex.id or ex.question!r} has no database file to explore")
        rows.append({"prompt": build_messages(ex, options=cfg.prompt), "db_path": str(ex.db_path),
                     "engine": cfg.engine, "dialect": cfg.prompt.dialect if cfg.prompt else None})  # fmt: skip
    service = _service_for(env)
    make = environment_factory(env, service=service)
    t0 = time.perf_counter()
    episodes = []
    bar = progress_bar(len(rows), progress, "episodes", unit="q")
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        episodes += run_episodes(model, part, config=env, make_env=make, temperature=cfg.sampling_temperature,
                                 max_tokens=cfg.max_new_tokens or 256, seed=cfg.seed)  # fmt: skip
        if bar is not None:
            bar.update(len(part))
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    service.close()
    records = []
    for i, (ex, ep) in enumerate(zip(examples, episodes, strict=True)):
        if ep.error is not None:
            raise RuntimeError(f"the model failed on example {i}: {ep.error}")
        sql = ep.prediction
        records.append({
            "index": i, "id": ex.id, "db_id": ex.db_id, "question": ex.question, "gold": ex.gold_sql,
            "prediction": one_line(sql) if sql else NO_SQL, "chosen": 0, "vote": "single", "votes": 1,
            "clusters": [[0]], "samples": [{"completion": ep.final_text, "sql": sql,
                                            "extract": "answer" if ep.counts["answered"] else "last_turn"}],
            "episode": ep.to_json(),
        })  # fmt: skip
    counts = [r["episode"]["counts"] for r in records]
    n = max(len(counts), 1)
    meta = {
        "model": name or type(model).__name__, "dataset": dataset.name, "split": dataset.split,
        "interactive": True, "env": {k: getattr(env, k) for k in env.__dataclass_fields__},
        "seconds_generate": round(seconds, 3), "seconds_execute": 0.0,
        "episodes": {
            "turns": sum(c["turns"] for c in counts) / n,
            "tool_calls": sum(c["tool_calls"] for c in counts) / n,
            "answered": sum(c["answered"] for c in counts) / n,
            "out_of_turns": sum(c["out_of_turns"] for c in counts) / n,
            "tool_error_rate": sum(c["failed_calls"] for c in counts) / max(sum(c["tool_calls"] for c in counts), 1),
            "calls": dict(sum((Counter(c["calls"]) for c in counts), Counter())),
        },
        "queries_executed": service.stats["executed"], "query_memo_hits": service.stats["memo_hits"],
    }  # fmt: skip
    return GenerateResult(dataset.name, dataset.split, records, cfg, meta)


def write_trajectories(result: Any, out_dir: str | os.PathLike[str]) -> Path:
    """``trajectories.jsonl`` in ``out_dir``: one line per question with its episode."""
    path = Path(out_dir) / "trajectories.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for r in result.records:
            line = {"index": r["index"], "id": r["id"], "db_id": r["db_id"], "question": r["question"],
                    "gold": r["gold"], "prediction": r["prediction"], **r["episode"]}  # fmt: skip
            f.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    return path
