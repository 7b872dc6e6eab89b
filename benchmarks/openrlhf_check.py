"""Opt-in check against the real OpenRLHF: sqlrl's ``reward_func`` file loaded and called by OpenRLHF's own
``SingleTurnAgentExecutor`` and turned into ``Experience`` objects by OpenRLHF's own
``SamplesGenerator._process_response_into_experience``, compared per sample with sqlrl's TRL reward functions.

Not part of the test suite. ``pip install openrlhf`` does not install on a machine without CUDA (OpenRLHF
0.11.2 pins ``flash-attn==2.8.3``, a source distribution whose build imports torch and needs CUDA; see
RESULTS.md), so OpenRLHF goes in without its dependencies, plus those its rollout and reward path imports::

    python3.11 -m venv /work/tmp/orlhfvenv
    /work/tmp/orlhfvenv/bin/pip install torch==2.13.0
    /work/tmp/orlhfvenv/bin/pip install --no-deps openrlhf==0.11.2
    /work/tmp/orlhfvenv/bin/pip install torch==2.13.0 aiohttp transformers==5.15.0 ray==2.55.0 datasets \\
        pylatexenc sympy sqlglot duckdb rich tqdm pyyaml pyarrow
    PYTHONPATH=src /work/tmp/orlhfvenv/bin/python benchmarks/openrlhf_check.py [--record]

vLLM is not installed: ``openrlhf.trainer.ppo_utils.samples_generator`` imports ``vllm.SamplingParams``,
``vllm.inputs.TokensPrompt`` and ``vllm.utils.random_uuid`` at import time, so those three names are stubbed
(none of them is used on the reward path); generation is replaced by an engine that returns the scripted
completion's token ids, as vLLM's ``generate`` would.

What runs, for each reward spec (``execution``, ``stage1``, ``stage2``): the batch of ``verl_check.py``
(16 sqlrl-toy dev questions x 4 completions: gold, two mutations, no SQL), as rows of
``sqlrl.integrations.openrlhf.openrlhf_records`` through OpenRLHF's ``preprocess_data`` (with
``--data.apply_chat_template``: the tiny local tokenizer's chat template); one
``SingleTurnAgentExecutor(remote_rm_url=[<sqlrl/integrations/openrlhf.py>])`` (``--reward.remote_url``, split
at commas as ``train_ppo_ray.py`` does) runs ``execute`` for every sample concurrently, which loads the file
as module ``reward_func`` and calls ``reward_func([query], [prompt], [label])`` in a thread; each result goes
through ``_process_response_into_experience``. The spec is chosen by ``SQLRL_REWARD_SPEC``.

Compared with TRL (``build_rewards(spec)`` called as TRL's GRPOTrainer calls them, on the completions decoded
with ``skip_special_tokens=True``): ``Experience.scores`` (float32) against ``sum(weight * reward)`` rounded to
float32, every ``Experience.info[<reward>]`` against the TRL function's value (exact), and the reward against
TRL's own float32 ``nansum`` (at most 1 ulp). ``stage2``'s ``length`` compares a prompt's completions, and
OpenRLHF scores one sample per call, so it reads 0.0 there: shown, not counted. Exits non-zero on any other
mismatch, and when OpenRLHF drops a reward (its executor logs a failing ``reward_func`` at INFO and goes on
with ``reward=None``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata as md
import json
import math
import os
import struct
import sys
import time
import types
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _results import machine, record_section  # noqa: E402
from verl_check import build_examples, completions_for, ulps  # noqa: E402

SECTION = "OpenRLHF reward_func vs TRL rewards"
SPECS = ["execution", "stage1", "stage2"]
EXPECTED_DIFF = {"stage2": {"length"}}


def stub_vllm() -> None:
    """The three vLLM names OpenRLHF's samples generator imports (unused on the reward path)."""
    if "vllm" in sys.modules:
        return
    vllm = types.ModuleType("vllm")
    vllm.__version__ = "0.0.0+stub"
    vllm.SamplingParams = lambda **kw: SimpleNamespace(**kw)
    inputs = types.ModuleType("vllm.inputs")
    inputs.TokensPrompt = dict
    utils = types.ModuleType("vllm.utils")
    utils.random_uuid = lambda: "stub"
    vllm.inputs, vllm.utils = inputs, utils
    sys.modules.update({"vllm": vllm, "vllm.inputs": inputs, "vllm.utils": utils})


class ScriptedEngine:
    """Stands in for the vLLM engine: ``generate`` returns the scripted completion of each prompt."""

    def __init__(self, tokenizer, answers: dict[str, list[list[int]]]):
        self.tokenizer, self.answers = tokenizer, answers

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        key = self.tokenizer.decode(prompt_token_ids, skip_special_tokens=False)
        ids = self.answers[key].pop(0)
        return SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, finish_reason="stop", logprobs=None)])


def trl_scores(spec: str, messages, labels, decoded, completion_ids):
    """As ``verl_check.trl_scores``: TRL's float32 rewards, the float64 weighted sums, the per-reward values."""
    import torch

    from sqlrl.rewards import build_rewards

    funcs, weights = build_rewards(spec)
    parsed = [json.loads(lab) for lab in labels]
    names = ("gold_sql", "db_path", "engine", "dialect", "db_id", "question", "evidence")
    columns = {k: [p.get(k) for p in parsed] for k in names}
    completions = [[{"role": "assistant", "content": t}] for t in decoded]
    sums = [0.0] * len(decoded)
    per: dict[str, list[float]] = {}
    rewards_per_func = torch.zeros(len(decoded), len(funcs))
    for j, (func, w) in enumerate(zip(funcs, weights, strict=True)):
        values = func(prompts=messages, completions=completions, completion_ids=completion_ids, **columns)
        per[func.__name__] = [0.0 if v is None else float(v) for v in values]
        rewards_per_func[:, j] = torch.tensor([math.nan if v is None else v for v in values], dtype=torch.float32)
        for i, v in enumerate(values):
            if v is not None:
                sums[i] += w * v
    rewards = (rewards_per_func * torch.tensor(weights, dtype=torch.float32).unsqueeze(0)).nansum(dim=1)
    return rewards.tolist(), sums, per


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=16)
    ap.add_argument("--group", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()

    stub_vllm()
    import openrlhf
    from openrlhf.datasets.prompts_dataset import preprocess_data
    from openrlhf.trainer.ppo_utils.samples_generator import SamplesGenerator
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    import sqlrl.integrations.openrlhf as adapter
    from sqlrl.integrations.openrlhf import openrlhf_records
    from sqlrl.models.tiny import train_tokenizer

    versions = {p: md.version(p) for p in ("openrlhf", "torch", "transformers", "ray")}
    print("openrlhf", versions["openrlhf"], "from", Path(openrlhf.__file__).parent, "|", versions)
    examples = build_examples(args.questions, args.seed)
    completions = completions_for(examples, args.group, args.seed)
    records = openrlhf_records(examples)
    assert len(records) == len(examples)
    texts = [m["content"] for r in records for m in r["input"]] + sum(completions, [])
    tok = train_tokenizer(texts, vocab_size=2000)
    # the JSON Lines dataset as OpenRLHF reads it, prompt and label by preprocess_data
    rows = [json.loads(json.dumps(r)) for r in records]
    pairs = [preprocess_data(r, None, "input", "label", apply_chat_template=tok.apply_chat_template) for r in rows]
    prompts, labels, messages, ids, decoded = [], [], [], [], []
    answers: dict[str, list[list[int]]] = {}
    for (prompt, lab), row, texts in zip(pairs, rows, completions, strict=True):
        for text in texts:  # n_samples_per_prompt completions of each prompt
            action = tok.encode(text, add_special_tokens=False) + [tok.eos_token_id]
            key = tok.decode(tok(text=prompt, add_special_tokens=False)["input_ids"], skip_special_tokens=False)
            answers.setdefault(key, []).append(action)
            prompts.append(prompt)
            labels.append(lab)
            messages.append(row["input"])
            ids.append(action[:-1])
            decoded.append(tok.decode(action, skip_special_tokens=True))
    n = len(prompts)
    roundtrip = sum(d == t for d, t in zip(decoded, sum(completions, []), strict=True))
    print(f"{len(rows)} prompts x {args.group} completions = {n} samples; {roundtrip}/{n} decode to the original")

    remote_url = str(Path(adapter.__file__).resolve())  # --reward.remote_url, split at "," by train_ppo_ray
    failures, table = [], []
    for spec in SPECS:
        os.environ["SQLRL_REWARD_SPEC"] = spec
        want, want_sum, want_per = trl_scores(spec, messages, labels, decoded, ids)
        executor = SingleTurnAgentExecutor(remote_rm_url=remote_url.split(","))
        executor.reward_func([prompts[0] + decoded[0]], [prompts[0]], [labels[0]])  # rewards built before timing
        engine = ScriptedEngine(tok, {k: list(v) for k, v in answers.items()})
        params = SimpleNamespace(max_tokens=512, logprobs=None)

        async def run_all(executor=executor, engine=engine, params=params):
            return await asyncio.gather(
                *(executor.execute(p, lab, params, 8192, tok, engine) for p, lab in zip(prompts, labels, strict=True))
            )

        t0 = time.perf_counter()
        outputs = asyncio.run(run_all())
        seconds = time.perf_counter() - t0
        for o, a in zip(outputs, ids, strict=True):  # each prompt got its own scripted completion
            start, end = o["action_ranges"][0]
            assert o["observation_tokens"][start:end] == a + [tok.eos_token_id]
        experiences = [SamplesGenerator._process_response_into_experience(None, o, max_len=8192) for o in outputs]
        problems = []
        dropped = sum(1 for e in experiences if e.rewards is None or e.scores is None)
        if dropped:
            problems.append(f"{spec}: {dropped} samples came back without a reward (reward_func failed)")
            failures += problems
            print(f"{spec:9s} FAILED: {problems[-1]}")
            table.append((spec, 0, n, "", 0, 0, seconds, "FAILED"))
            continue
        rewards = [float(e.rewards.flatten()[0]) for e in experiences]
        scores = [float(e.scores.flatten()[0]) for e in experiences]
        f32_sum = [struct.unpack("<f", struct.pack("<f", v))[0] for v in want_sum]
        skip = EXPECTED_DIFF.get(spec, set())
        same = sum(a == b for a, b in zip(scores, f32_sum, strict=True))
        if rewards != scores:
            problems.append(f"{spec}: rewards and scores differ")
        if same != n and not skip:
            bad = [i for i in range(n) if scores[i] != f32_sum[i]][:3]
            problems.append(
                f"{spec}: scores differ at {bad}: {[scores[i] for i in bad]} vs {[f32_sum[i] for i in bad]}"
            )
        per_same = {}
        for name, values in want_per.items():
            got = [float(e.info[name].flatten()[0]) if name in e.info else math.nan for e in experiences]
            # info values are float32 tensors: compare with TRL's values rounded to float32
            ref = [struct.unpack("<f", struct.pack("<f", v))[0] for v in values]
            per_same[name] = sum(a == b for a, b in zip(got, ref, strict=True))
            if per_same[name] != n and name not in skip:
                problems.append(f"{spec}: {name} identical for {per_same[name]}/{n}")
        trl_same = sum(a == b for a, b in zip(scores, want, strict=True))
        worst = max(ulps(a, b) for a, b in zip(scores, want, strict=True))
        if worst > 1 and not skip:
            problems.append(f"{spec}: {worst} float32 ulps from TRL's trainer's reward")
        failures += problems
        status = "ok" if not problems else "MISMATCH"
        if not problems and skip:
            status = f"ok (except {', '.join(sorted(skip))})"
        per = " ".join(f"{k}={v}" for k, v in per_same.items())
        print(f"{spec:9s} scores {same}/{n} per reward: {per} | vs TRL float32 {trl_same}/{n} (max {worst} ulp) "
              f"| {seconds * 1000:.0f} ms {status}")  # fmt: skip
        table.append((spec, same, n, per, trl_same, worst, seconds, status))
    print("all checks passed" if not failures else f"{len(failures)} checks failed:")
    for f in failures:
        print("  ", f)
    if args.record:
        record(versions, len(rows), args.group, n, roundtrip, table, failures)
    return 1 if failures else 0


def record(versions, prompts, group, n, roundtrip, table, failures) -> None:
    lines = [
        f"## {SECTION} (opt-in)",
        "",
        f"Machine: {machine(*(f'{k} {v}' for k, v in versions.items()))}.",
        "",
        "`pip install torch==2.13.0 openrlhf` fails on this CPU machine: OpenRLHF 0.11.2 pins `flash-attn==2.8.3`, "
        "a source distribution whose build step imports torch (`ModuleNotFoundError: No module named 'torch'` "
        "in pip's isolated build; it then needs CUDA to compile). So OpenRLHF is installed with `--no-deps` "
        "plus what its rollout/reward path imports, with vLLM's three import-time names stubbed.",
        "",
        f"{prompts} sqlrl-toy dev questions x {group} completions = {n} samples (the batch of `verl_check.py`; "
        f"{roundtrip}/{n} decode to the original text): `openrlhf_records` rows through OpenRLHF's "
        "`preprocess_data` (chat template of a tiny local tokenizer), OpenRLHF's `SingleTurnAgentExecutor` "
        "with `remote_rm_url=[.../sqlrl/integrations/openrlhf.py]` (loads it as module `reward_func`, calls "
        "`reward_func([query], [prompt], [label])` in a thread, one sample per call, all samples concurrently), "
        "each result through `SamplesGenerator._process_response_into_experience`. **scores**: "
        "`Experience.scores` (float32) against `sum(weight * reward)` of sqlrl's TRL reward functions in "
        "float32; **per reward**: `Experience.info[<reward>]` against each TRL function; **TRL trainer "
        "float32**: against TRL's GRPOTrainer's own float32 `nansum` (1 ulp apart where torch's float32 "
        "addition rounds differently); **time**: the 64 concurrent `execute` calls, rewards already built.",
        "",
        "| spec | scores identical | per reward identical | TRL trainer float32 | time (ms) | check |",
        "|---|---|---|---|---|---|",
    ]
    for spec, same, n_rows, per, trl_same, worst, secs, status in table:
        lines.append(
            f"| {spec} | {same}/{n_rows} | {per} | {trl_same}/{n_rows} (max {worst} ulp) | "
            f"{secs * 1000:.0f} | {status} |"
        )
    lines += [
        "",
        "`stage2`'s `length` is a group reward and OpenRLHF calls `reward_func` one sample at a time, so it "
        "reads 0.0 there; its other terms match.",
        "",
        ("All checks passed." if not failures else f"{len(failures)} checks failed: " + "; ".join(failures)),
        "",
        "Reproduce (no GPU needed): the commands in `benchmarks/openrlhf_check.py`'s docstring, then",
        "",
        "    PYTHONPATH=src /work/tmp/orlhfvenv/bin/python benchmarks/openrlhf_check.py --record",
    ]
    record_section(SECTION, "\n".join(lines))
    print("recorded in", HERE / "RESULTS.md")


if __name__ == "__main__":
    sys.exit(main())
