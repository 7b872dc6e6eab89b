"""Group self-evaluation: show the judge every result cluster, read its scores, average R rounds.

The judge is asked for ``{"scores": {"1": 7, "2": 3}, "critique": "..."}``. :func:`parse_judge_reply`
reads that object wherever it is in the reply (after a ``</think>``, in a fenced block, amid prose),
also as a list of scores or ``{"candidate": 1, "score": 7}`` records, and falls back to lines such
as ``Candidate 2: 7/10``. A reply is *malformed* when any candidate lacks a score, a score is not a
number in ``[0, score_max]``, or it scores a candidate that was not shown; the round is then asked
again, at most ``judge_retries`` times, and ignored when no reply could be read.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlrl.models.chat import ChatModel
from sqlrl.verbal import prompts

__all__ = ["JudgeCall", "JudgeOutcome", "ParsedReply", "parse_judge_reply", "run_judge"]

_THINK_CLOSE = re.compile(r"</think\s*>", re.I)
_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.S)
_LINE = re.compile(r"^\W*(?:candidate\s*)?#?\s*(\d+)\s*\W{0,3}?\s*[:=\-–]\s*\**\s*(-?\d+(?:\.\d+)?)", re.I | re.M)


@dataclass(frozen=True)
class ParsedReply:
    """What :func:`parse_judge_reply` read: scores by label, or the reason they could not be read."""

    scores: dict[str, float] | None
    critique: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.scores is not None


def _objects(text: str) -> list[Any]:
    """JSON values found in ``text``: fenced blocks first, then every ``{...}`` that parses."""
    found: list[Any] = []
    for body in _FENCE.findall(text):
        try:
            found.append(json.loads(body))
        except ValueError:
            pass
    decoder = json.JSONDecoder()
    spans = []
    for i, ch in enumerate(text):
        if ch != "{":
            continue
        try:
            value, end = decoder.raw_decode(text, i)
        except ValueError:
            continue
        spans.append((end, i, value))
    spans.sort(key=lambda s: (-s[0], s[1]))  # the last object first, an outer object before its parts
    found.extend(value for _, _, value in spans)
    return found


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*\d+(?:\.\d+)?)?\s*", value)
        if m:
            return float(m.group(1))
    if isinstance(value, Mapping):
        for key in ("score", "value", "rating"):
            if key in value:
                return _number(value[key])
    return None


def _label(key: Any) -> str:
    text = str(key).strip()
    m = re.fullmatch(r"(?:candidate\s*)?#?\s*(\d+)", text, re.I)
    return m.group(1) if m else text


def _scores_from(obj: Any, labels: Sequence[str]) -> tuple[dict[str, Any] | None, str]:
    """Raw scores by label from a parsed JSON value, and the critique."""
    if not isinstance(obj, (Mapping, list)):
        return None, ""
    critique = ""
    scores: Any = obj
    if isinstance(obj, Mapping):
        critique = obj.get("critique", obj.get("feedback", obj.get("reason", ""))) or ""
        if not isinstance(critique, str):
            critique = json.dumps(critique, ensure_ascii=False)
        for key in ("scores", "score", "ratings"):
            if key in obj:
                scores = obj[key]
                break
        else:
            if not any(_label(k) in labels for k in obj):
                return None, critique
    if isinstance(scores, list):
        if scores and all(isinstance(x, Mapping) for x in scores):
            out = {}
            for rec in scores:
                key = next((rec[k] for k in ("candidate", "id", "label", "index") if k in rec), None)
                if key is None:
                    return None, critique
                out[_label(key)] = rec
            return out, critique
        out = dict(zip(labels, scores[: len(labels)], strict=False))
        if len(scores) > len(labels):
            out["<extra>"] = None
        return out, critique
    if isinstance(scores, Mapping):
        return {_label(k): v for k, v in scores.items()}, critique
    return None, critique


def parse_judge_reply(text: str, labels: Sequence[str], score_max: float = 10) -> ParsedReply:
    """Scores for every label in a judge reply.

    >>> parse_judge_reply('Sure. {"scores": {"1": 8, "2": "3/10"}, "critique": "no ORDER BY"}', ["1", "2"])
    ParsedReply(scores={'1': 8.0, '2': 3.0}, critique='no ORDER BY', error='')
    >>> parse_judge_reply("Candidate 1: 9\\nCandidate 2: 2", ["1", "2"]).scores
    {'1': 9.0, '2': 2.0}
    >>> parse_judge_reply('{"scores": {"1": 9}}', ["1", "2"]).error
    'no score for candidate 2'
    """
    if not isinstance(text, str) or not text.strip():
        return ParsedReply(None, error="empty reply")
    parts = _THINK_CLOSE.split(text)
    body = parts[-1]
    first_error = ""
    candidates: list[tuple[dict[str, Any] | None, str]] = [_scores_from(o, labels) for o in _objects(body)]
    lines = _LINE.findall(body)
    if lines:
        candidates.append(({_label(k): v for k, v in lines}, ""))
    for raw, critique in candidates:
        if raw is None:
            continue
        error = _check(raw, labels, score_max)
        if not error:
            return ParsedReply({label: float(_number(raw[label])) for label in labels}, critique.strip())  # type: ignore[arg-type]
        first_error = first_error or error
    return ParsedReply(None, error=first_error or "no scores found")


def _check(raw: Mapping[str, Any], labels: Sequence[str], score_max: float) -> str:
    extra = [k for k in raw if k not in labels]
    if extra:
        return f"scores for candidates that were not shown: {', '.join(map(str, extra[:3]))}"
    for label in labels:
        if label not in raw:
            return f"no score for candidate {label}"
        value = _number(raw[label])
        if value is None:
            return f"the score of candidate {label} is not a number: {str(raw[label])[:40]!r}"
        if not 0 <= value <= score_max:
            return f"the score of candidate {label} is outside 0..{score_max:g}: {value:g}"
    return ""


@dataclass
class JudgeCall:
    """One request to the judge (trajectory record).

    Attributes:
        round: the refinement round (0 = first).
        judge_round: the scoring round (0 .. R-1).
        attempt: 0 for the first try, then each retry of the round.
        order: the clusters shown, by their label order (``order[0]`` is candidate "1").
        reply: the judge's text ("" when the request failed).
        scores: scores by cluster index, when the reply could be read.
        critique: the judge's critique, when given.
        error: why this call gave no scores (request failure or malformed reply), else "".
        messages: the prompt (when ``log_prompts``).
    """

    round: int
    judge_round: int
    attempt: int
    order: list[int]
    reply: str = ""
    scores: dict[int, float] | None = None
    critique: str = ""
    error: str = ""
    messages: list[dict[str, str]] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "round": self.round,
            "judge_round": self.judge_round,
            "attempt": self.attempt,
            "order": self.order,
            "reply": self.reply,
            "scores": None if self.scores is None else {str(k): v for k, v in self.scores.items()},
            "critique": self.critique,
            "error": self.error,
        }
        if self.messages is not None:
            out["messages"] = self.messages
        return out


@dataclass
class JudgeOutcome:
    """Mean scores over the rounds that could be read (empty when none could)."""

    mean: dict[int, float] = field(default_factory=dict)
    rounds_ok: int = 0
    calls: list[JudgeCall] = field(default_factory=list)
    critiques: list[str] = field(default_factory=list)


def run_judge(
    judge: ChatModel,
    *,
    clusters: Sequence[int],
    render: Callable[[Sequence[int]], list[dict[str, str]]],
    rounds: int,
    retries: int,
    score_max: float,
    temperature: float,
    max_tokens: int,
    seed: int,
    shuffle: bool,
    refine_round: int = 0,
    log_prompts: bool = True,
) -> JudgeOutcome:
    """Score ``clusters`` in ``rounds`` rounds; each round is tried at most ``1 + retries`` times.

    ``render(order)`` builds the judge prompt showing the clusters in ``order`` (labels "1", "2",
    ... in that order). With ``shuffle`` each round after the first shows a seeded permutation.
    """
    outcome = JudgeOutcome()
    totals: dict[int, float] = {c: 0.0 for c in clusters}
    rng = random.Random(seed)
    labels = [str(i + 1) for i in range(len(clusters))]
    for r in range(rounds):
        order = list(clusters)
        if shuffle and r > 0:
            rng.shuffle(order)
        messages = render(order)
        conversation = list(messages)
        for attempt in range(retries + 1):
            result = judge.chat(
                [conversation], n=1, temperature=temperature, max_tokens=max_tokens, seed=seed + 7919 * r + attempt
            )[0]
            call = JudgeCall(refine_round, r, attempt, order, messages=list(conversation) if log_prompts else None)
            outcome.calls.append(call)
            if not result.ok or not result.texts:
                call.error = result.error or "no completion returned"
                continue
            call.reply = result.texts[0]
            parsed = parse_judge_reply(call.reply, labels, score_max)
            if not parsed.ok:
                call.error = parsed.error
                retry = prompts.RETRY_USER.format(
                    reason=parsed.error, reply_format=prompts.reply_format(labels, int(score_max))
                )
                conversation = [
                    *messages,
                    {"role": "assistant", "content": call.reply},
                    {"role": "user", "content": retry},
                ]
                continue
            call.scores = {order[i]: parsed.scores[label] for i, label in enumerate(labels)}  # type: ignore[index]
            call.critique = parsed.critique
            for c, v in call.scores.items():
                totals[c] += v
            outcome.rounds_ok += 1
            if parsed.critique and parsed.critique.lower().strip(". ") not in ("none", "n/a", ""):
                outcome.critiques.append(parsed.critique)
            break
    if outcome.rounds_ok:
        outcome.mean = {c: totals[c] / outcome.rounds_ok for c in clusters}
    return outcome
