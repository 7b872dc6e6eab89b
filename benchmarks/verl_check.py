"""Opt-in check against the real verl: sqlrl-toy completions scored by verl's own reward managers, with
sqlrl's adapter loaded through verl's own loader, compared per sample with sqlrl's TRL reward functions.

Not part of the test suite (verl is not a dependency). Run it in a separate environment (torch pinned to
the cached CPU build; pass it with verl so that pip keeps it)::

    python3.11 -m venv /work/tmp/verlvenv
    /work/tmp/verlvenv/bin/pip install torch==2.13.0 verl sqlglot duckdb rich tqdm pyyaml pyarrow
    PYTHONPATH=src /work/tmp/verlvenv/bin/python benchmarks/verl_check.py [--ray] [--record]

What runs, for each reward spec (``execution``, ``stage1``, ``stage2``):

1. A batch of sqlrl-toy dev questions (16 by default), written by ``sqlrl.integrations.verl.write_parquet``
   and read back by verl's ``RLHFDataset`` + ``collate_fn``; each row repeated (``DataProto.repeat``,
   interleaved, as the trainer does for ``rollout.n``) into a group of 4 completions: the gold query, two
   of ``bench_eval.mutate``'s mutations, and an answer without SQL. Prompts (chat template) and responses
   are token ids of a tiny byte-level BPE tokenizer trained here (``sqlrl.models.tiny.train_tokenizer``,
   no download), left/right padded into ``prompts``, ``responses``, ``attention_mask`` as the rollout
   leaves them.
2. verl's config composed with Hydra from verl's own ``ppo_trainer.yaml`` with
   ``reward.custom_reward_function.path=pkg://sqlrl.integrations.verl`` (and ``name``, ``reward_kwargs``).
3. The reward loop (what verl's trainer calls): ``RewardLoopWorker(config)`` (``load_reward_manager`` ->
   ``get_custom_reward_fn`` -> the registered ``naive`` manager), ``compute_score_batch`` (every row's
   ``run_single`` concurrently, ``compute_score`` in a thread pool), and ``RewardLoopManager``'s assembly
   of ``rm_scores`` and ``reward_extra_info``. With ``--ray`` the real ``RewardLoopManager`` on a local
   Ray instance (2 worker actors) as well.
4. The legacy managers still shipped in ``verl.workers.reward_manager`` (``naive`` with ``compute_score``,
   ``batch`` with ``compute_score_batch``), constructed as older verl's ``load_reward_manager`` did and
   called as ``manager(data, return_dict=True)``.
5. TRL's side: ``build_rewards(spec)``, each function called as TRL's GRPOTrainer calls it (conversational
   ``prompts``, ``completions`` as assistant messages decoded with ``skip_special_tokens=True``,
   ``completion_ids``, the dataset columns), weighted and summed.

Every score (the total in ``rm_scores`` / ``reward_tensor`` and each per-reward value in
``reward_extra_info``) must be identical to TRL's, except the group reward ``length`` of ``stage2``,
which needs a group: verl's per-sample managers see groups of one (so it reads 0.0), and the batch manager
measures characters where TRL counts tokens. Those are shown and not counted. Exits non-zero on any other
mismatch. ``--record`` writes the result table into ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata as md
import math
import random
import sqlite3
import struct
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _results import machine, record_section  # noqa: E402
from bench_eval import KINDS, mutate  # noqa: E402

SECTION = "verl reward managers vs TRL rewards"
SPECS = ["execution", "stage1", "stage2"]
#: (path, spec) -> reward terms that legitimately differ from TRL (group rewards; see the module docs).
EXPECTED_DIFF = {"stage2": {"length"}}
MODULE = "pkg://sqlrl.integrations.verl"


def build_examples(n: int, seed: int):
    """``n`` sqlrl-toy dev questions with a gold query, spread over the databases."""
    from sqlrl.data import load_toy

    rng = random.Random(seed)
    examples = [ex for ex in load_toy("dev") if ex.gold_sql]
    rng.shuffle(examples)
    return examples[:n]


def completions_for(examples, group: int, seed: int) -> list[list[str]]:
    """``group`` completions per example: gold, mutations, an answer without SQL."""
    rng = random.Random(seed)
    tables: dict[str, list[str]] = {}
    out = []
    for ex in examples:
        if ex.db_id not in tables:
            con = sqlite3.connect(ex.db_path)
            tables[ex.db_id] = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            con.close()
        texts = [f"<think>The question asks about {ex.db_id}.</think>\n```sql\n{ex.gold_sql}\n```"]
        while len(texts) < group - 1:
            sql = mutate(ex.gold_sql, rng.choice(KINDS), tables[ex.db_id], rng) or ex.gold_sql
            texts.append(f"```sql\n{sql}\n```")
        texts.append("I cannot answer this from the schema.")
        out.append(texts[:group])
    return out


def verl_config(verl_dir: Path, name: str, spec: str, tokenizer_dir: Path, *extra: str):
    """verl's own trainer config (Hydra, ppo_trainer.yaml) with sqlrl's custom reward function."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(verl_dir / "trainer" / "config"), version_base=None):
        return compose(
            "ppo_trainer",
            overrides=[
                f"actor_rollout_ref.model.path={tokenizer_dir}",
                f"reward.custom_reward_function.path={MODULE}",
                f"reward.custom_reward_function.name={name}",
                f"+reward.custom_reward_function.reward_kwargs.spec={spec}",
                "reward.num_workers=2",
                *extra,
            ],
        )


def shipped_config(verl_dir: Path, tokenizer_dir: Path):
    """verl's config with the ``reward`` section of sqlrl's ``configs/verl_sqlrl.yaml`` merged in, and its spec."""
    import yaml
    from omegaconf import open_dict

    shipped = yaml.safe_load((HERE.parent / "configs" / "verl_sqlrl.yaml").read_text())
    cfg = verl_config(verl_dir, "compute_score", "execution", tokenizer_dir)
    with open_dict(cfg):
        del cfg.reward.custom_reward_function.reward_kwargs
        cfg.merge_with({"reward": shipped["reward"]})
    return cfg, shipped["reward"]["custom_reward_function"]["reward_kwargs"]["spec"]


def legacy_keys_read(verl_dir: Path, tokenizer_dir: Path) -> bool:
    """Whether verl's trainer reads the pre-0.9 keys ``custom_reward_function.*`` /
    ``reward_model.reward_manager`` (main_ppo hands ``config.reward`` to the reward loop; only
    ``migrate_legacy_reward_impl`` copies the old keys there, and main_ppo does not call it)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from verl.trainer.ppo.reward import get_custom_reward_fn

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(verl_dir / "trainer" / "config"), version_base=None):
        cfg = compose(
            "ppo_trainer",
            overrides=[
                f"actor_rollout_ref.model.path={tokenizer_dir}",
                f"custom_reward_function.path={MODULE}",
                "custom_reward_function.name=compute_score",
            ],
        )
    return get_custom_reward_fn(cfg) is not None


def make_data(parquet: Path, tokenizer, completions: list[list[str]], group: int):
    """The DataProto the trainer hands to the reward: dataset rows repeated ``group`` times, with tokens."""
    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.utils.dataset.rl_dataset import RLHFDataset, collate_fn

    ds = RLHFDataset(
        str(parquet),
        tokenizer,
        OmegaConf.create({"prompt_key": "prompt", "max_prompt_length": 8192, "filter_overlong_prompts": False}),
    )
    rows = [ds[i] for i in range(len(ds))]
    gen = DataProto.from_single_dict(collate_fn(rows))
    batch = gen.repeat(repeat_times=group, interleave=True)
    flat = [text for texts in completions for text in texts]
    assert len(flat) == len(batch), (len(flat), len(batch))
    prompt_ids = [
        tokenizer.encode(
            tokenizer.apply_chat_template(list(m), add_generation_prompt=True, tokenize=False),
            add_special_tokens=False,
        )
        for m in batch.non_tensor_batch["raw_prompt"]
    ]
    response_ids = [tokenizer.encode(t, add_special_tokens=False) + [tokenizer.eos_token_id] for t in flat]
    pad = tokenizer.pad_token_id
    p_len, r_len = max(map(len, prompt_ids)), max(map(len, response_ids)) + 3
    prompts = torch.tensor([[pad] * (p_len - len(p)) + p for p in prompt_ids])
    responses = torch.tensor([r + [pad] * (r_len - len(r)) for r in response_ids])
    mask = torch.tensor(
        [
            [0] * (p_len - len(p)) + [1] * len(p) + [1] * len(r) + [0] * (r_len - len(r))
            for p, r in zip(prompt_ids, response_ids, strict=True)
        ]
    )
    tensors = {
        "prompts": prompts,
        "responses": responses,
        "input_ids": torch.cat([prompts, responses], dim=1),
        "attention_mask": mask,
    }
    non_tensors = {k: v for k, v in batch.non_tensor_batch.items()}
    data = DataProto.from_dict(tensors=tensors, non_tensors=non_tensors)
    # what TRL decodes: the completion tokens without the padding, special tokens skipped
    decoded = [tokenizer.decode(r, skip_special_tokens=True) for r in response_ids]
    return data, decoded, [r[:-1] for r in response_ids], np.array(flat, dtype=object)


def trl_scores(spec: str, data, decoded: list[str], completion_ids):
    """TRL's GRPOTrainer (trl 1.16 ``_calculate_rewards``): each reward function called with the batch's
    columns, values put in a float32 ``rewards_per_func`` (None as NaN), times float32 ``reward_weights``,
    ``nansum`` per row. Returns (TRL's float32 rewards, the float64 sums of weight * reward, per reward)."""
    import torch

    from sqlrl.rewards import build_rewards

    funcs, weights = build_rewards(spec)
    nt = data.non_tensor_batch
    infos = list(nt["extra_info"])
    columns = {
        "gold_sql": [rm["ground_truth"] for rm in nt["reward_model"]],
        **{k: [info[k] for info in infos] for k in ("db_path", "engine", "dialect", "db_id", "question", "evidence")},
    }
    prompts = [list(m) for m in nt["raw_prompt"]]
    completions = [[{"role": "assistant", "content": t}] for t in decoded]
    totals = [0.0] * len(decoded)
    per: dict[str, list[float]] = {}
    rewards_per_func = torch.zeros(len(decoded), len(funcs))
    for j, (func, w) in enumerate(zip(funcs, weights, strict=True)):
        values = func(prompts=prompts, completions=completions, completion_ids=completion_ids, **columns)
        per[func.__name__] = [0.0 if v is None else float(v) for v in values]
        rewards_per_func[:, j] = torch.tensor([math.nan if v is None else v for v in values], dtype=torch.float32)
        for i, v in enumerate(values):
            if v is not None:
                totals[i] += w * v
    # GRPOTrainer._generate_and_score_completions: float32 products, nansum over the functions
    rewards = (rewards_per_func * torch.tensor(weights, dtype=torch.float32).unsqueeze(0)).nansum(dim=1)
    return rewards.tolist(), totals, per


def reward_loop(config, data):
    """RewardLoopWorker.compute_score_batch + RewardLoopManager.compute_rm_score's assembly, in-process."""
    import numpy as np
    from verl.experimental.reward_loop import RewardLoopWorker
    from verl.trainer.ppo.reward import resolve_reward_manager_cls

    worker = RewardLoopWorker(config)
    cls = resolve_reward_manager_cls(config)
    t0 = time.perf_counter()
    outputs = worker.loop.run_until_complete(worker.compute_score_batch(data))
    seconds = time.perf_counter() - t0
    rm_scores = cls.assemble_rm_scores(data, [o["reward_score"] for o in outputs])
    infos = [o.get("reward_extra_info", {}) for o in outputs]
    extra = {k: np.array([info[k] for info in infos]) for k in infos[0]}
    return rm_scores.sum(dim=-1).tolist(), extra, seconds, type(worker.reward_manager).__module__


def reward_loop_ray(config, data):
    """The real RewardLoopManager: Ray worker actors, the batch split between them (Ray started as
    main_ppo's run_ppo starts it, with sqlrl's source on the workers' PYTHONPATH)."""
    import os

    import ray
    from omegaconf import OmegaConf
    from verl.experimental.reward_loop import RewardLoopManager
    from verl.trainer.constants_ppo import get_ppo_ray_runtime_env

    if not ray.is_initialized():
        env = get_ppo_ray_runtime_env(config)
        env = OmegaConf.to_container(env) if OmegaConf.is_config(env) else dict(env)
        paths = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        env.setdefault("env_vars", {})["PYTHONPATH"] = os.pathsep.join(paths)  # sqlrl on the actors
        ray.init(num_cpus=2, include_dashboard=False, runtime_env=env)
    manager = RewardLoopManager(config)
    try:
        manager.compute_rm_score(data[:2])  # warm-up: actors up, rewards built
        t0 = time.perf_counter()
        out = manager.compute_rm_score(data)
        seconds = time.perf_counter() - t0
    finally:
        for worker in manager.reward_loop_workers:  # named actors: free the names for the next spec
            ray.kill(worker)
    extra = {k: out.non_tensor_batch[k] for k in out.meta_info["reward_extra_keys"]}
    return out.batch["rm_scores"].sum(dim=-1).tolist(), extra, seconds, "RewardLoopManager (ray)"


def legacy(config, data, tokenizer, kind: str):
    """verl.workers.reward_manager.{naive,batch}, constructed as older verl's load_reward_manager did."""
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.workers.reward_manager import get_reward_manager_cls

    fn = get_custom_reward_fn(config)
    manager = get_reward_manager_cls(kind)(
        tokenizer=tokenizer, num_examine=0, compute_score=fn, reward_fn_key="data_source"
    )
    t0 = time.perf_counter()
    out = manager(data, return_dict=True)
    seconds = time.perf_counter() - t0
    return out["reward_tensor"].sum(dim=-1).tolist(), dict(out["reward_extra_info"]), seconds, type(manager).__module__


def ulps(a: float, b: float) -> int:
    """How many float32 steps apart ``a`` and ``b`` are."""
    ia, ib = (struct.unpack("<i", struct.pack("<f", x))[0] for x in (a, b))
    ia, ib = (i if i >= 0 else -(2**31) - i for i in (ia, ib))  # monotonic across zero
    return abs(ia - ib)


def compare(path: str, spec: str, got, want, want_sum, want_per):
    """(rewards identical, scores identical, float32 ulps from TRL's trainer, per-reward counts, problems).

    - ``score`` (float64, logged by verl) against ``sum(weight * reward)`` of TRL's reward functions: exact;
    - the float32 reward verl trains on (``rm_scores`` / ``reward_tensor`` row sum) against that sum rounded
      to float32: exact;
    - every per-reward value in ``reward_extra_info`` against the TRL reward function's: exact;
    - the float32 reward against TRL's GRPOTrainer's own float32 ``nansum``: at most 1 ulp (torch adds the
      float32 products in its own order, which depends on the device and the number of terms).
    """
    rewards, extra, _, _ = got
    n = len(want)
    skip = EXPECTED_DIFF.get(spec, set())
    problems = []
    f32_sum = [struct.unpack("<f", struct.pack("<f", v))[0] for v in want_sum]
    same = sum(1 for a, b in zip(rewards, f32_sum, strict=True) if a == b)
    scores = [float(v) for v in extra.get("score", [math.nan] * n)]
    same_score = sum(1 for a, b in zip(scores, want_sum, strict=True) if a == b)
    worst = max(ulps(a, b) for a, b in zip(rewards, want, strict=True))
    trl_same = sum(1 for a, b in zip(rewards, want, strict=True) if a == b)
    per_same = {}
    for name, values in want_per.items():
        if name not in extra:
            problems.append(f"{path}/{spec}: reward_extra_info has no {name!r}")
            continue
        theirs = [float(v) for v in extra[name]]
        per_same[name] = sum(1 for a, b in zip(theirs, values, strict=True) if a == b)
        if per_same[name] != n and name not in skip:
            bad = [i for i in range(n) if theirs[i] != values[i]][:3]
            problems.append(
                f"{path}/{spec}: {name} differs at rows {bad}: verl {[theirs[i] for i in bad]} "
                f"TRL {[values[i] for i in bad]}"
            )
    if not skip:
        checks = (("reward", same, rewards, f32_sum), ("score", same_score, scores, want_sum))
        for label, count, mine, ref in checks:
            if count != n:
                bad = [i for i in range(n) if mine[i] != ref[i]][:3]
                problems.append(
                    f"{path}/{spec}: {label} differs at rows {bad}: verl {[mine[i] for i in bad]} "
                    f"TRL {[ref[i] for i in bad]}"
                )
        if worst > 1:
            problems.append(f"{path}/{spec}: the reward is {worst} float32 ulps from TRL's trainer's")
    return same, same_score, (trl_same, worst), per_same, problems


def record(args, versions, rows, n, roundtrip, legacy_read, table, failures) -> None:
    """Write the result table into benchmarks/RESULTS.md."""
    cmd = "PYTHONPATH=src /work/tmp/verlvenv/bin/python benchmarks/verl_check.py" + (" --ray" if args.ray else "")
    lines = [
        f"## {SECTION} (opt-in)",
        "",
        f"Machine: {machine(*(f'{k} {v}' for k, v in versions.items()))}.",
        "",
        f"{rows} sqlrl-toy dev questions x {args.group} completions (gold, two `bench_eval.mutate` mutations, an "
        f"answer without SQL) = {n} samples: written by `write_parquet`, read back by verl's `RLHFDataset` + "
        "`collate_fn`, repeated with `DataProto.repeat` as for `rollout.n`, tokenized with a tiny local BPE "
        f"tokenizer ({roundtrip}/{n} responses decode to the original text). sqlrl's adapter loaded by verl's "
        "`get_custom_reward_fn` from verl's own Hydra config (`ppo_trainer.yaml` + "
        "`reward.custom_reward_function.path=pkg://sqlrl.integrations.verl`).",
        "",
        "- **score**: the `score` verl logs (float64) against `sum(weight * reward)` of sqlrl's TRL reward "
        "functions (`build_rewards(spec)` called as TRL's GRPOTrainer calls them) on the same decoded "
        "completions;",
        "- **reward**: the float32 reward verl trains on (`rm_scores` / `reward_tensor`) against that sum in float32;",
        "- **per reward**: each value in `reward_extra_info` against the TRL reward function's;",
        "- **TRL trainer float32**: against the reward TRL 1.16's GRPOTrainer itself computes (float32 products, "
        "`nansum` in torch's order): equal, or 1 float32 ulp apart where torch's float32 addition rounds "
        "differently from the float64 sum (1.5000001 for 1.5);",
        "- **time**: one call on the whole batch with the rewards already built; the first in-process path of "
        "each spec also opens the databases and fills sqlrl's per-process caches that later paths reuse (the "
        "Ray actors are timed after a warm-up call of 2 samples), so the times are indicative only.",
        "",
        "| spec | verl path | score | reward | per reward identical | TRL trainer float32 | time (ms) | check |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for spec, path, same_score, same, n_rows, per, trl_same, worst, secs, status in table:
        lines.append(
            f"| {spec} | {path} | {same_score}/{n_rows} | {same}/{n_rows} | {per} | "
            f"{trl_same}/{n_rows} (max {worst} ulp) | {secs * 1000:.0f} | {status} |"
        )
    lines += [
        "",
        "`stage2`'s `length` term is a group reward: verl's per-sample managers call `compute_score` one row at a "
        "time (a group of one: `length` reads 0.0), and the batch manager passes no token ids (lengths in "
        "characters where TRL counts tokens), so `stage2` totals are not expected to match; its other terms do.",
        "",
        f"verl {versions['verl']}'s trainer reads `reward.custom_reward_function` and `reward.reward_manager`; the "
        "pre-0.9 top-level `custom_reward_function.*` keys "
        + ("are read too." if legacy_read else "are accepted by Hydra but not read (sqlrl would not be called).")
        + " Its reward loop registers `naive`, `dapo`, `gdpo`, `remote`, `limited`: `batch` (and with it "
        "`compute_score_batch`) exists only as the legacy `verl.workers.reward_manager.BatchRewardManager`.",
        "",
        ("All checks passed." if not failures else f"{len(failures)} checks failed: " + "; ".join(failures)),
        "",
        "Reproduce (no GPU needed):",
        "",
        "    python3.11 -m venv /work/tmp/verlvenv",
        "    /work/tmp/verlvenv/bin/pip install torch==2.13.0 verl sqlglot duckdb rich tqdm pyyaml pyarrow",
        f"    {cmd} --record",
    ]
    record_section(SECTION, "\n".join(lines))
    print("recorded in", HERE / "RESULTS.md")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=16)
    ap.add_argument("--group", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ray", action="store_true", help="also run the real RewardLoopManager on a local Ray instance")
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()

    import verl

    from sqlrl.integrations.verl import compute_score_batch, write_parquet
    from sqlrl.models.tiny import train_tokenizer

    verl_dir = Path(verl.__file__).parent
    versions = {p: md.version(p) for p in ("verl", "torch", "transformers", "tensordict", "hydra-core", "ray")}
    print("verl", versions["verl"], "from", verl_dir, "|", ", ".join(f"{k} {v}" for k, v in versions.items()))
    tmp = Path(tempfile.mkdtemp(prefix="verl_check_"))
    examples = build_examples(args.questions, args.seed)
    completions = completions_for(examples, args.group, args.seed)
    parquet = tmp / "dev.parquet"
    rows = write_parquet(examples, parquet, split="dev")
    from sqlrl.integrations.verl import verl_records

    texts = [m["content"] for r in verl_records(examples) for m in r["prompt"]] + sum(completions, [])
    tok = train_tokenizer(texts, vocab_size=2000)
    tok_dir = tmp / "tokenizer"
    tok.save_pretrained(tok_dir)  # RewardLoopWorker loads it from actor_rollout_ref.model.path

    data, decoded, completion_ids, flat = make_data(parquet, tok, completions, args.group)
    roundtrip = sum(a == b for a, b in zip(decoded, flat, strict=True))
    print(f"{rows} parquet rows x {args.group} completions = {len(data)} samples; "
          f"{roundtrip}/{len(data)} decode to the original text")  # fmt: skip

    legacy_read = legacy_keys_read(verl_dir, tok_dir)
    print("top-level custom_reward_function.* (pre-0.9 layout) read by the trainer's loader:", legacy_read)
    failures, table = [], []
    for spec in SPECS:
        want, want_sum, want_per = trl_scores(spec, data, decoded, completion_ids)
        # build this process's rewards for the spec first, so that the times below are scoring only
        nt = data.non_tensor_batch
        compute_score_batch(nt["data_source"][:2], decoded[:2], [rm["ground_truth"] for rm in nt["reward_model"][:2]],
                            [dict(x) for x in nt["extra_info"][:2]], spec=spec)  # fmt: skip
        # (label, function name in the config, how it is called)
        paths = [
            ("reward loop: naive + compute_score", "compute_score", lambda c: reward_loop(c, copy.deepcopy(data))),
            ("legacy naive + compute_score", "compute_score", lambda c: legacy(c, copy.deepcopy(data), tok, "naive")),
            (
                "legacy batch + compute_score_batch",
                "compute_score_batch",
                lambda c: legacy(c, copy.deepcopy(data), tok, "batch"),
            ),
        ]
        if args.ray:
            paths.append(("reward loop on Ray (2 actors)", "compute_score", lambda c: reward_loop_ray(c, data)))
        shipped, shipped_spec = shipped_config(verl_dir, tok_dir)
        if spec == shipped_spec:  # the reward loop with configs/verl_sqlrl.yaml as shipped
            paths.append(
                ("reward loop: configs/verl_sqlrl.yaml", shipped, lambda c: reward_loop(c, copy.deepcopy(data)))
            )
        for path, name, call in paths:
            try:
                got = call(name if not isinstance(name, str) else verl_config(verl_dir, name, spec, tok_dir))
            except Exception as e:  # a framework call that fails is a failed check
                failures.append(f"{path}/{spec}: {type(e).__name__}: {e}")
                print(f"{spec:9s} {path:38s} FAILED: {type(e).__name__}: {e}")
                continue
            same, same_score, (trl_same, worst), per_same, problems = compare(path, spec, got, want, want_sum, want_per)
            failures += problems
            per = " ".join(f"{k}={v}" for k, v in per_same.items())
            status = "ok" if not problems else "MISMATCH"
            if problems == [] and spec in EXPECTED_DIFF:
                status = f"ok (except {', '.join(sorted(EXPECTED_DIFF[spec]))})"
            n = len(want)
            print(f"{spec:9s} {path:36s} score {same_score}/{n} reward {same}/{n} per reward: {per} "
                  f"| vs TRL float32 {trl_same}/{n} (max {worst} ulp) | {got[2] * 1000:.0f} ms {status}")  # fmt: skip
            table.append((spec, path, same_score, same, n, per, trl_same, worst, got[2], status))
    print("all checks passed" if not failures else f"{len(failures)} checks failed:")
    for f in failures:
        print("  ", f)

    if args.record:
        record(args, versions, rows, len(data), roundtrip, legacy_read, table, failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
