"""The data of a training page, from a ``sqlrl train`` output folder.

Read from ``state.json``: per GRPO stage TRL's ``log_history`` (``rewards/<name>/mean`` per reward
function, ``reward``, ``frac_reward_zero_std`` and sqlrl's ``zero_variance/share``,
``completions/mean_length``), the validation execution accuracy of every saved checkpoint and the
best one; per phase the eval accuracies. Completions with their verdicts (the execution reward) come
from each stage's ``val-<step>.jsonl`` (the greedy completions of the validation at every saved
checkpoint) and each phase's ``eval-<split>.jsonl`` (the eval after the phase).
"""

from __future__ import annotations

import math
from typing import Any

from sqlrl.report.load import Run

__all__ = ["SAMPLES", "train_page"]

#: Completions shown per phase and eval split.
SAMPLES = 12

_ZERO_VARIANCE = ("zero_variance/share", "frac_reward_zero_std")
_LENGTH = ("completions/mean_length", "completion_length")


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _series(log: list[dict[str, Any]], offset: int) -> dict[str, Any]:
    rewards: dict[str, list[list[float]]] = {}
    total, zero, length, last = [], [], [], 0
    for rec in log:
        step = rec.get("step")
        if not isinstance(step, int):
            continue
        last = max(last, step)
        x = offset + step
        for k, v in rec.items():
            if k.startswith("rewards/") and k.endswith("/mean") and _number(v) is not None:
                rewards.setdefault(k[len("rewards/") : -len("/mean")], []).append([x, float(v)])
        if _number(rec.get("reward")) is not None:
            total.append([x, float(rec["reward"])])
        z = next((rec[k] for k in _ZERO_VARIANCE if _number(rec.get(k)) is not None), None)
        if z is not None:
            zero.append([x, float(z)])
        n = next((rec[k] for k in _LENGTH if _number(rec.get(k)) is not None), None)
        if n is not None:
            length.append([x, float(n)])
    return {"rewards": rewards, "total": total, "zero_variance": zero, "length": length, "last": last}


def _sample(r: dict[str, Any]) -> dict[str, Any]:
    return {"db": r.get("db_id") or "", "q": r.get("question") or "", "gold": r.get("gold") or "",
            "completion": r.get("completion") or "", "correct": bool(r.get("correct"))}  # fmt: skip


def train_page(run: Run, *, samples: int = SAMPLES, title: str | None = None) -> dict[str, Any]:
    """The page data of a training run (see the module)."""
    state = run.summary
    phases_out = []
    offset = 0
    for name, p in state.get("phases", {}).items():
        entry: dict[str, Any] = {"name": name, "offset": offset}
        log = p.get("log_history") or []
        if name not in ("base", "sft") and log:
            series = _series(log, offset)
            entry.update({k: series[k] for k in ("rewards", "total", "zero_variance", "length")})
            val = p.get("val") or {}
            pts = sorted((int(s), v) for s, v in val.items() if str(s).isdigit() and isinstance(v, dict))
            entry["val"] = [[offset + s, v.get("accuracy")] for s, v in pts if _number(v.get("accuracy")) is not None]
            best = p.get("best")
            best_pt = next(((s, v) for s, v in pts if best and v.get("path") == best), None)
            if best_pt is not None:
                entry["best"] = {"step": best_pt[0], "x": offset + best_pt[0], "accuracy": best_pt[1].get("accuracy"),
                                 "path": best}  # fmt: skip
            offset += series["last"]
        evals = p.get("evals") or ({"eval": p["eval"]} if p.get("eval") else {})
        entry["evals"] = {
            split: {k: r[k] for k in ("accuracy", "executable", "sampled", "pass_at_k", "k", "n") if k in r}
            for split, r in evals.items()
            if isinstance(r, dict)
        }
        for key in ("seconds", "final", "start"):
            if key in p:
                entry[key] = p[key]
        records = run.extra.get("evals", {}).get(name, {})
        entry["samples"] = {
            split: [
                {
                    "db": r.get("db_id") or "",
                    "q": r.get("question") or "",
                    "gold": r.get("gold") or "",
                    "completion": r.get("completion") or "",
                    "correct": bool(r.get("correct")),
                }  # fmt: skip
                for r in recs[:samples]
            ]
            for split, recs in records.items()
        }
        entry["sample_counts"] = {split: len(recs) for split, recs in records.items()}
        entry["val_samples"] = [
            {
                "step": step,
                "n": len(recs),
                "right": sum(bool(r.get("correct")) for r in recs),
                "samples": [_sample(r) for r in recs[:samples]],
            }  # fmt: skip
            for step, recs in run.extra.get("vals", {}).get(name, {}).items()
        ]
        phases_out.append(entry)
    return {
        "kind": "train",
        "title": title or f"training run {run.path.name}",
        "source": str(run.path),
        "data": state.get("data"),
        "phases": phases_out,
        "seconds": (run.extra.get("summary") or {}).get("seconds"),
    }
