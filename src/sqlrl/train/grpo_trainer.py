"""TRL's ``GRPOTrainer`` with a choice of what to do with groups that carry no gradient, and with
less weight on the completions that did worse than their group.

A GRPO group whose completions all get the same reward has zero advantage everywhere: it costs a
generation and a backward pass and teaches nothing, and with token-normalised losses (``dapo``,
``dr_grpo``, ``bnpo``) its tokens also dilute the step of the groups that do carry signal. A
stage's ``zero_variance`` setting decides:

- ``keep`` (TRL's behaviour): train on the batch as generated.
- ``skip``: drop the zero-variance completions from the loss (their tokens leave the normaliser),
  so every step moves the policy as far as its informative groups ask. Works with any number of
  processes (the rule is per completion: a completion whose advantage is zero).
- ``resample`` (DAPO's dynamic sampling, Yu et al. 2025): replace zero-variance groups by groups of
  freshly drawn training prompts, up to ``resample_rounds`` extra generations per step; groups still
  missing after that are skipped as above. One process only (the groups of a step must be whole on
  one process to be replaced).

**Negative weight.** With binary execution rewards, a group's below-average completions are often
low-probability samples from the tail; pushing them down moves probability to other tail sequences
rather than to the group's right answers, and on a small model the sampled reward on a fixed prompt
set falls (``benchmarks/bench_grpo_signal.py``). ``negative_weight`` < 1 scales the negative
advantages (W-REINFORCE, Zhu et al. 2025, "The Surprising Effectiveness of Negative Reinforcement in
LLM Reasoning": positive samples raise pass@1, negative ones keep pass@k); 0 reinforces only the
better-than-average completions.

Each step logs ``zero_variance/share`` (the share of the first generation's completions in zero-variance
groups; TRL's own ``frac_reward_zero_std`` logs it over all generations of the step),
``zero_variance/skipped`` (the share of the final batch's completions left out of the loss) and, with
``resample``, ``zero_variance/extra_groups`` (groups generated beyond the batch).
"""

from __future__ import annotations

import random
from typing import Any

__all__ = ["ZERO_VARIANCE", "grpo_trainer_class", "weigh_negatives"]

#: The choices of a stage's ``zero_variance`` setting.
ZERO_VARIANCE = ("keep", "skip", "resample")
_EPS = 1e-6
# Output keys and how a merge pads them: prompts are left-padded, completions right-padded.
_LEFT = ("prompt_ids", "prompt_mask")
_RIGHT = ("completion_ids", "completion_mask", "old_per_token_logps", "ref_per_token_logps", "sampling_per_token_logps",
          "tool_mask", "importance_sampling_ratio")  # fmt: skip
_ROWS = ("advantages",)


def _pad_cat(tensors: list[Any], left: bool, value: float) -> Any:
    import torch
    import torch.nn.functional as F

    width = max(t.shape[1] for t in tensors)
    padded = [F.pad(t, (width - t.shape[1], 0) if left else (0, width - t.shape[1]), value=value) for t in tensors]
    return torch.cat(padded, dim=0)


def _merge(parts: list[dict[str, Any]], pad_id: int) -> dict[str, Any] | None:
    """Concatenate generated batches row-wise (padding to common widths); None when a part holds keys this
    merge does not know (multimodal inputs): the caller then skips instead of resampling."""
    keys = set(parts[0])
    known = set(_LEFT) | set(_RIGHT) | set(_ROWS) | {"num_items_in_batch"}
    if keys - known or any(set(p) != keys for p in parts):
        return None
    import torch

    out: dict[str, Any] = {}
    for key in keys - {"num_items_in_batch"}:
        values = [p[key] for p in parts]
        if any(v is None for v in values):
            out[key] = None
        elif key in _ROWS:
            out[key] = torch.cat(values, dim=0)
        else:
            out[key] = _pad_cat(values, key in _LEFT, pad_id if key == "prompt_ids" else 0)
    return out


def informative_completions(advantages: Any, group_size: int) -> Any:
    """A bool per completion: its group's advantages are not all zero (the group's rewards differ). A completion
    whose own advantage is 0 in a group that varies (it sits at the mean) stays in. Rows that do not split into
    whole groups (a group cut across processes) are judged one by one."""
    nonzero = advantages.abs() > _EPS
    if group_size < 1 or len(nonzero) % group_size:
        return nonzero
    return nonzero.view(-1, group_size).any(dim=1).repeat_interleave(group_size)


def _counted(mask: Any, out: dict[str, Any]) -> Any:
    """The tokens of ``mask`` the loss normalises by: with tool calls (TRL's ``tool_mask``), the model's own
    tokens only, as TRL counts them."""
    tool = out.get("tool_mask")
    return mask if tool is None else mask * tool


def weigh_negatives(advantages: Any, weight: float) -> Any:
    """``advantages`` with every negative entry multiplied by ``weight`` (positive ones unchanged)."""
    return advantages.where(advantages >= 0, advantages * weight)


def grpo_trainer_class(
    zero_variance: str = "keep", resample_rounds: int = 2, seed: int = 0, negative_weight: float = 1.0
) -> type:
    """A ``GRPOTrainer`` subclass applying ``zero_variance`` and ``negative_weight`` (see the module docs); TRL's
    own class when both keep TRL's behaviour (``keep``, 1.0)."""
    from trl import GRPOTrainer

    if zero_variance not in ZERO_VARIANCE:
        raise ValueError(f"zero_variance must be one of {', '.join(ZERO_VARIANCE)}, not {zero_variance!r}")
    if not 0.0 <= negative_weight <= 1.0:
        raise ValueError(f"negative_weight must be in [0, 1], not {negative_weight!r}")
    if zero_variance == "keep" and negative_weight == 1.0:
        return GRPOTrainer

    class SignalGRPOTrainer(GRPOTrainer):
        _rng = random.Random(seed)

        def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
            out = super()._generate_and_score_completions(inputs)
            if not self.model.training:
                return out
            if zero_variance != "keep":
                g = self.num_generations
                informative = informative_completions(out["advantages"], g)
                self._metrics["train"]["zero_variance/share"].append(1.0 - informative.float().mean().item())
                if zero_variance == "resample" and self.accelerator.num_processes == 1 and len(inputs) % g == 0:
                    out, informative = self._resample(out, informative, len(inputs) // g)
                out = self._skip(out, informative)
            if negative_weight != 1.0:
                out["advantages"] = weigh_negatives(out["advantages"], negative_weight)
            return out

        def _group_flags(self, informative: Any) -> Any:
            return informative.view(-1, self.num_generations).any(dim=1)

        def _resample(self, out: dict[str, Any], informative: Any, groups: int) -> tuple[dict[str, Any], Any]:
            import torch

            g = self.num_generations
            flags = self._group_flags(informative)
            parts, part_flags, extra = [out], [flags], 0
            for _ in range(resample_rounds):
                missing = groups - int(sum(f.sum().item() for f in part_flags))
                if missing <= 0:
                    break
                idx = [self._rng.randrange(len(self.train_dataset)) for _ in range(missing)]
                fresh = [self.train_dataset[i] for i in idx for _ in range(g)]
                more = super()._generate_and_score_completions(fresh)
                parts.append(more)
                part_flags.append(self._group_flags(informative_completions(more["advantages"], g)))
                extra += missing
            self._metrics["train"]["zero_variance/extra_groups"].append(float(extra))
            if len(parts) == 1:
                return out, informative
            pad_id = self.processing_class.pad_token_id or 0
            merged = _merge(parts, pad_id)
            if merged is None:
                return out, informative
            all_flags = torch.cat(part_flags)
            order = [i for i in range(len(all_flags)) if all_flags[i]][:groups]
            order += [i for i in range(groups) if not all_flags[i]][: groups - len(order)]  # first batch's fillers
            rows = torch.tensor([i * g + j for i in order for j in range(g)], device=merged["advantages"].device)
            picked = {k: (v.index_select(0, rows) if v is not None else None) for k, v in merged.items()}
            picked["num_items_in_batch"] = _counted(picked["completion_mask"], picked).sum()
            return picked, informative_completions(picked["advantages"], g)

        def _skip(self, out: dict[str, Any], informative: Any) -> dict[str, Any]:
            mask = out["completion_mask"]
            kept = mask * informative.to(mask.dtype).unsqueeze(1)
            total = self.accelerator.gather(_counted(kept, out).sum()).sum()
            if total.item() == 0:  # nothing informative anywhere: every advantage is 0, the step moves nothing
                out["num_items_in_batch"] = self.accelerator.gather(_counted(mask, out).sum()).sum()
                self._metrics["train"]["zero_variance/skipped"].append(0.0)
                return out
            self._metrics["train"]["zero_variance/skipped"].append(1.0 - informative.float().mean().item())
            out["completion_mask"] = kept
            out["num_items_in_batch"] = total
            return out

    return SignalGRPOTrainer
