"""The end-of-run PNG: reward curves per reward over all GRPO steps with the share of zero-variance
groups (no gradient), validation execution accuracy per stage, and eval execution accuracy on every
eval split after every phase."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_training"]


def plot_training(state: dict[str, Any], path: str | Path) -> Path:
    """Draw ``training.png`` from a run's ``state.json`` contents; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = state.get("phases", {})
    grpo = [(n, p) for n, p in phases.items() if n not in ("base", "sft") and p.get("log_history") is not None]
    curves: dict[str, list[tuple[int, float]]] = {}
    boundaries: list[tuple[int, str]] = []
    offset = 0
    for name, p in grpo:
        boundaries.append((offset, name))
        last = 0
        for rec in p["log_history"]:
            step = rec.get("step")
            if step is None:
                continue
            last = max(last, step)
            for k, v in rec.items():
                if k.startswith("rewards/") and k.endswith("/mean") and isinstance(v, (int, float)) and v == v:
                    curves.setdefault(k[len("rewards/") : -len("/mean")], []).append((offset + step, v))
            if isinstance(rec.get("reward"), (int, float)):
                curves.setdefault("total (weighted)", []).append((offset + step, rec["reward"]))
            if isinstance(rec.get("frac_reward_zero_std"), (int, float)):
                curves.setdefault("zero-variance groups (share)", []).append(
                    (offset + step, rec["frac_reward_zero_std"])
                )
        offset += last
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    ax = axes[0]
    for name, pts in sorted(curves.items()):
        xs, ys = zip(*pts, strict=True)
        style = {"color": "black", "linestyle": "--"} if name.startswith("zero-variance") else {}
        ax.plot(xs, _smooth(ys), label=name, linewidth=1.5 if name.startswith("total") else 1, **style)
    for x, name in boundaries:
        ax.axvline(x, color="grey", linestyle=":", linewidth=0.8)
        ax.text(x, 1.0, f" {name}", transform=ax.get_xaxis_transform(), va="top", fontsize=8, color="grey")
    ax.set(title="GRPO rewards (mean per step, smoothed)", xlabel="step (all stages)", ylabel="reward")
    if curves:
        ax.legend(fontsize=7)
    ax = axes[1]
    offset = 0
    for name, p in grpo:
        val = p.get("val", {})
        if val:
            pts = sorted((int(s), v["accuracy"]) for s, v in val.items())
            ax.plot([offset + s for s, _ in pts], [a for _, a in pts], marker="o", label=name)
            best = p.get("best")
            for s, v in val.items():
                if v.get("path") == best:
                    ax.plot([offset + int(s)], [v["accuracy"]], marker="*", markersize=14, color="gold", zorder=5)
        steps = [r.get("step", 0) for r in p.get("log_history", [])]
        offset += max(steps, default=0)
    ax.set(title="validation execution accuracy (star: best)", xlabel="step (all stages)", ylabel="EX")
    if grpo:
        ax.legend(fontsize=8)
    ax = axes[2]
    names = [n for n, p in phases.items() if p.get("eval")]
    by_split = {n: phases[n].get("evals") or {"eval": phases[n]["eval"]} for n in names}
    splits = list(dict.fromkeys(split for n in names for split in by_split[n]))
    width = 0.8 / max(1, len(splits))
    top = 0.05
    for i, split in enumerate(splits):
        xs = [j + (i - (len(splits) - 1) / 2) * width for j in range(len(names))]
        accs = [by_split[n].get(split, {}).get("accuracy", 0.0) for n in names]
        top = max(top, *accs)
        bars = ax.bar(xs, accs, width=width, label=split)
        for b, a in zip(bars, accs, strict=True):
            ax.text(b.get_x() + b.get_width() / 2, a, f"{a:.0%}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(names)), names)
    ax.set(title="eval execution accuracy after each phase", ylabel="EX", ylim=(0, top * 1.25))
    if len(splits) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _smooth(ys: tuple[float, ...], k: int = 5) -> list[float]:
    out, acc = [], []
    for y in ys:
        acc.append(y)
        if len(acc) > k:
            acc.pop(0)
        out.append(sum(acc) / len(acc))
    return out
