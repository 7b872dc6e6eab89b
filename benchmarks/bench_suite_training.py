"""Reward hacking under plain EX: how many completions the execution reward pays that a test suite calls wrong,
before and after GRPO with each reward (sqlrl-toy, the quickstart's tiny model, CPU).

1. Suites for every sqlrl-toy database, built from every gold query of the training, validation and eval
   rows (``build_suite``, ``-k``, ``--candidates``), so the rewards know each gold's tied variants.
2. The quickstart's SFT warm start, shared by both arms.
3. Two GRPO arms from it, the quickstart's stage-2 settings for ``--steps`` steps: ``plain`` (reward
   ``execution``) and ``suite`` (``{name: execution, suite: DIR}``: a match counts only on every variant).
4. For the warm start and each arm, ``--samples`` completions per question at temperature 1.0 on a
   seeded sample of ``--train-rows`` training questions and on the ``iid`` and ``dev`` eval splits, each
   scored by both rewards. *Hacked*: the share of the completions plain EX pays that are wrong on the
   suite; also sampled EX under both rewards.

    PYTHONPATH=src python benchmarks/bench_suite_training.py [--steps 30] [--samples 4] [--seed 0] [--record]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _rows(cfg: dict, seed: int, train_rows: int) -> dict[str, list[dict]]:
    from sqlrl.train import TrainConfig
    from sqlrl.train.data import load_train_data, to_rows

    conf = TrainConfig.from_dict(cfg)
    data = load_train_data(conf.data, seed)
    train = random.Random(seed).sample(data.train, min(train_rows, len(data.train)))
    out = {"train": to_rows(train, conf.prompt, conf.data, seed=seed, tables=data.tables)}
    for split, examples in data.evals.items():
        out[split] = to_rows(examples, conf.prompt, conf.data, seed=seed, tables=data.tables)
    everything = data.train + data.val + [ex for exs in data.evals.values() for ex in exs]
    out["_golds"] = [{"gold_sql": ex.gold_sql, "db_path": str(ex.db_path)} for ex in everything]
    return out


def _suites(golds: list[dict], out: Path, k: int, candidates: int) -> dict[str, int]:
    from sqlrl.suite import build_suite

    by_db: dict[str, list[str]] = {}
    for g in golds:
        if g["gold_sql"] not in by_db.setdefault(g["db_path"], []):
            by_db[g["db_path"]].append(g["gold_sql"])
    return {
        Path(db).stem: len(build_suite(db, qs, k=k, candidates=candidates, out_dir=out, progress=False).variants)
        for db, qs in sorted(by_db.items())
    }


def _train(cfg: dict, label: str, reuse: bool = False) -> str:
    from sqlrl.train import Runner, TrainConfig

    summary_file = Path(cfg["output_dir"]) / "summary.json"
    if reuse and summary_file.exists():  # --reuse: the run finished earlier, measure its model again
        return list(json.loads(summary_file.read_text())["phases"].values())[-1]["final"]
    t0 = time.perf_counter()
    summary = Runner(TrainConfig.from_dict(cfg), overwrite=True).run()
    last = list(summary["phases"].values())[-1]
    print(f"  {label}: {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    return last["final"]


def _measure(model_path: str, rows: dict[str, list[dict]], suites: Path, samples: int, seed: int) -> dict:
    """Per split: sampled EX under plain EX and on the suites, and the share of plain-EX matches the suite rejects."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from sqlrl.rewards import execution_reward
    from sqlrl.train.evaluate import _generate, _scorer

    model = AutoModelForCausalLM.from_pretrained(model_path)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model.eval()
    plain = execution_reward(mode="spider", empty_gold="allow", timeout=5.0)
    on_suite = execution_reward(mode="spider", empty_gold="allow", suite=suites, executor=plain.executor)
    out = {}
    for split, split_rows in rows.items():
        if split.startswith("_"):
            continue
        texts = _generate(model, tokenizer, split_rows, 64, False, split, n=samples, temperature=1.0,
                          max_new_tokens=96, seed=seed)  # fmt: skip
        score_plain, score_suite = _scorer(plain, split_rows), _scorer(on_suite, split_rows)
        p_all, s_all = [], []
        for j in range(samples):
            completions = [t[j] for t in texts]
            p_all += score_plain(completions)
            s_all += score_suite(completions)
        paid = sum(1 for p in p_all if p == 1.0)
        hacked = sum(1 for p, s in zip(p_all, s_all, strict=True) if p == 1.0 and s == 0.0)
        out[split] = {
            "n": len(p_all), "plain_ex": sum(p_all) / len(p_all), "suite_ex": sum(s_all) / len(s_all),
            "paid": paid, "hacked": hacked, "hacked_share": hacked / paid if paid else 0.0,
        }  # fmt: skip
    plain.executor.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30, help="GRPO steps per arm (default: the quickstart's stage 2)")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--train-rows", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--candidates", type=int, default=50)
    ap.add_argument("--out", default="runs/suite_training")
    ap.add_argument("--reuse", action="store_true", help="measure the models of finished runs in --out again")
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    a = ap.parse_args()

    from sqlrl.train import quickstart_config

    load = os.getloadavg()[0]
    t_start = time.perf_counter()
    out = Path(a.out)
    base = quickstart_config()
    base.update(seed=a.seed, report_to=["none"], progress=False)
    rows = _rows(base, a.seed, a.train_rows)
    suites = out / "suites"
    variants = _suites(rows["_golds"], suites, a.k, a.candidates)
    print(f"suites: {variants}", flush=True)
    warm = {**base, "output_dir": str(out / "warm"), "stages": []}
    models = {"SFT warm start": _train(warm, "SFT warm start", a.reuse)}
    after = {**base, "model": {"path": models["SFT warm start"]}, "sft": None}
    for arm, spec in (("plain", [{"name": "execution"}]), ("suite", [{"name": "execution", "suite": str(suites)}])):
        stage = {**copy.deepcopy(base["stages"][-1]), "name": arm, "rewards": spec, "init": "previous",
                 "steps": a.steps}  # fmt: skip
        models[f"+ GRPO, {arm} EX reward"] = _train(
            {**after, "output_dir": str(out / arm), "stages": [stage]}, f"GRPO {arm}, {a.steps} steps", a.reuse
        )
    results = {name: _measure(path, rows, suites, a.samples, a.seed) for name, path in models.items()}
    (out / "results.json").write_text(json.dumps(results, indent=2))
    splits = [s for s in rows if not s.startswith("_")]
    lines = [
        "| model | " + " | ".join(f"{s}: EX plain / suite, hacked" for s in splits) + " |",
        "|---|" + "---:|" * len(splits),
    ]
    for name, per in results.items():
        cells = [
            f"{100 * r['plain_ex']:.1f} / {100 * r['suite_ex']:.1f}, {r['hacked']}/{r['paid']} "
            f"({100 * r['hacked_share']:.1f}%)"
            for r in (per[s] for s in splits)
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    minutes = (time.perf_counter() - t_start) / 60
    print(table)
    if a.record:
        from _results import machine, record_section

        text = (
            "## Reward hacking under plain EX, before and after GRPO (sqlrl-toy)\n\n"
            f"{__doc__.split(chr(10) + chr(10), 1)[1].split(chr(10) + chr(10) + '    PYTHONPATH')[0]}\n\n"
            f"{table}\n\n*EX plain / suite*: sampled EX (%) over {a.samples} samples per question under each reward; "
            "*hacked*: completions plain EX pays that the suite calls wrong, of those plain EX pays. Suites: "
            f"{sum(variants.values())} variants over {len(variants)} databases (k = {a.k}). {a.steps} GRPO steps "
            f"per arm, seed {a.seed}; {minutes:.0f} min in all"
            f"{' (measuring the models of an earlier run, --reuse)' if a.reuse else ''}. "
            f"Machine: {machine()}; 1-minute load average "
            f"{load:.2f} at the start. Reproduce:\n\n"
            f"    PYTHONPATH=src python benchmarks/bench_suite_training.py --steps {a.steps} --samples {a.samples} "
            f"--seed {a.seed} --record\n"
        )
        record_section("suite training", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
