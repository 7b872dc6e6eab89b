"""The trajectory file: one JSON object per finished question, appended as questions finish.

Each line holds the question, the generator prompt, every request, sample, candidate (query,
execution summary, result hash, cluster), judge call (prompt, reply, parsed scores), refinement
message and choice, the prediction and why it was chosen, and (when the gold is known, computed
after the choice) which candidates match the gold.

Readers here turn a file into training data for TRL:

- :func:`sft_records`: ``{"prompt": messages, "completion": [assistant message]}`` with the chosen
  query (TRL's conversational prompt-completion format, for ``SFTTrainer``);
- :func:`preference_records`: ``{"prompt", "chosen", "rejected"}`` pairs, best-scored cluster
  against the worst or a failed query (for ``DPOTrainer``);
- :func:`group_records`: every completion of a question with a reward from the judge's scores
  (0 for no SQL or a failed query), for offline RL or training a reward model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["group_records", "preference_records", "read_trajectories", "sft_records"]

PathLike = str | os.PathLike[str]


def read_trajectories(path: PathLike, *, repair: bool = False) -> list[dict[str, Any]]:
    """The records of a trajectory file, the last one per question id, in file order.

    A line that is not a JSON object (a write cut short by an interruption) is skipped; with
    ``repair`` the file is rewritten without such lines, so that appending can go on safely.
    """
    p = Path(path)
    if not p.exists():
        return []
    good: list[str] = []
    broken = False
    with open(p, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                broken = True
                continue
            if not isinstance(rec, dict) or "id" not in rec or not line.endswith("\n"):
                broken = True
                continue
            good.append(line)
    if broken and repair:
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text("".join(good), encoding="utf-8")
        os.replace(tmp, p)
    last: dict[str, dict[str, Any]] = {}
    for line in good:
        rec = json.loads(line)
        last.pop(str(rec["id"]), None)
        last[str(rec["id"])] = rec
    return list(last.values())


def _iter(source: PathLike | list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    records = read_trajectories(source) if isinstance(source, (str, os.PathLike)) else source
    for rec in records:
        if rec.get("reason") != "error" and rec.get("prompt"):
            yield rec


def _fence(sql: str) -> str:
    return f"```sql\n{sql}\n```"


def _cluster_scores(rec: dict[str, Any]) -> dict[int, float]:
    """The last judged choice's mean score per cluster, scaled to [0, 1]."""
    for choice in reversed(rec.get("choices") or []):
        if choice.get("scores"):
            score_max = float(choice.get("score_max") or 10)
            return {int(k): float(v) / score_max for k, v in choice["scores"].items()}
    return {}


def sft_records(
    source: PathLike | list[dict[str, Any]],
    *,
    completion: str = "sql",
    min_score: float | None = None,
    require_gold_match: bool = False,
) -> list[dict[str, Any]]:
    """One supervised example per question: the generator prompt and the chosen query.

    Args:
        source: a trajectory file or its records.
        completion: ``"sql"``, the chosen query in a ```sql block; ``"text"``, the completion that
            first produced it (with its reasoning).
        min_score: keep questions whose chosen cluster scored at least this (0-1 scale).
        require_gold_match: keep questions whose prediction matches the gold (rejection sampling).
    """
    if completion not in ("sql", "text"):
        raise ValueError(f"completion must be 'sql' or 'text', got {completion!r}")
    out = []
    for rec in _iter(source):
        if rec.get("reason") in ("no_sql", "no_executable"):
            continue
        if require_gold_match and not (rec.get("gold_match") or {}).get("prediction"):
            continue
        choice = (rec.get("choices") or [{}])[-1]
        if min_score is not None:
            score = _cluster_scores(rec).get(choice.get("cluster", -1))
            if score is None or score < min_score:
                continue
        text = _fence(rec["prediction"])
        if completion == "text" and choice.get("candidate") is not None:
            cand = rec["candidates"][choice["candidate"]]
            text = rec["samples"][cand["samples"][0]]["text"]
        out.append({"id": rec["id"], "prompt": rec["prompt"], "completion": [{"role": "assistant", "content": text}]})
    return out


def group_records(source: PathLike | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every first-round completion of each question with a reward in [0, 1].

    The reward of a completion is its cluster's mean judge score (scaled), the cluster's share of
    the samples when the judge gave no scores, and 0 when it held no SQL or its query failed.
    ``gold_match`` lists the gold verdicts when they were computed (else None).
    """
    out = []
    for rec in _iter(source):
        scores = _cluster_scores(rec)
        clusters = rec.get("clusters") or []
        total = sum(c["size"] for c in clusters) or 1
        completions, rewards, gold = [], [], []
        for s in rec.get("samples") or []:
            if s["round"] != 0:
                continue
            completions.append(s["text"])
            cand = rec["candidates"][s["candidate"]] if s["candidate"] is not None else None
            cluster = None if cand is None else cand["cluster"]
            if cluster is None:
                rewards.append(0.0)
            elif scores:
                rewards.append(scores.get(cluster, 0.0))
            else:
                rewards.append(clusters[cluster]["size"] / total)
            gold.append(None if cand is None else cand.get("gold_match"))
        out.append({"id": rec["id"], "prompt": rec["prompt"], "completions": completions, "rewards": rewards,
                    "gold_match": gold if any(g is not None for g in gold) else None})  # fmt: skip
    return out


def preference_records(source: PathLike | list[dict[str, Any]], *, margin: float = 0.2) -> list[dict[str, Any]]:
    """Chosen/rejected pairs: the chosen query against the lowest-scored cluster or a failed query.

    A pair is made only when the rejected side scored at least ``margin`` (0-1 scale) below the
    chosen one, or failed to run.
    """
    out = []
    for rec in _iter(source):
        choice = (rec.get("choices") or [{}])[-1]
        if choice.get("cluster") is None:
            continue
        scores = _cluster_scores(rec)
        chosen_score = scores.get(choice["cluster"])
        rejected = None
        if scores and chosen_score is not None:
            worst = min(scores, key=lambda c: scores[c])
            if chosen_score - scores[worst] >= margin:
                rejected = rec["candidates"][rec["clusters"][worst]["representative"]]["sql"]
        if rejected is None:
            failed = [c for c in rec["candidates"] if not c["execution"]["ok"]]
            if failed:
                rejected = max(failed, key=lambda c: c["count"])["sql"]
        if rejected is None:
            continue
        out.append({"id": rec["id"], "prompt": rec["prompt"],
                    "chosen": [{"role": "assistant", "content": _fence(rec["prediction"])}],
                    "rejected": [{"role": "assistant", "content": _fence(rejected)}]})  # fmt: skip
    return out
