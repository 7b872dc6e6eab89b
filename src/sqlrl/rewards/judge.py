"""An optional LLM judge, through any OpenAI-compatible chat endpoint (vLLM, a hosted API, ...).

Execution is the ground truth; the judge only speaks where execution cannot: by default for
predictions that were extracted but did not run (an engine error, a timeout, a dialect the sandbox
cannot translate). The judge is asked through :class:`sqlrl.models.openai_chat.OpenAIChatModel`:
every call is bounded (``timeout`` seconds, at most ``max_retries`` retries on timeouts,
connection errors, 408/409/429/5xx and replies that are not chat completions, 0.5 s before the
first retry, doubled each time, 8 s at most), runs on a small thread pool, and is memoised by its prompt.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any

from sqlrl.rewards.base import SQLReward
from sqlrl.rewards.batch import Batch
from sqlrl.rewards.executor import NO_SQL, RewardExecutor
from sqlrl.sandbox.cache import LRUCache

__all__ = ["DEFAULT_JUDGE_PROMPT", "JudgeReward", "judge_reward", "parse_judge_score"]

logger = logging.getLogger("sqlrl.rewards")

WHEN = ("error", "mismatch", "always")

DEFAULT_JUDGE_PROMPT = """You grade a SQL query written to answer a question over a database.

Question: {question}
Evidence: {evidence}

Database schema:
{schema}

Reference SQL:
{gold_sql}

Candidate SQL ({dialect}):
{pred_sql}

Execution of the candidate: {error}

Would the candidate return the same answer as the reference? Reply with one line of the form
SCORE: <number between 0 and 1>
where 1 means certainly the same answer and 0 means certainly wrong."""

_FIELDS = {"question", "evidence", "schema", "gold_sql", "pred_sql", "dialect", "error"}
_SCORE = re.compile(r"score\W{0,4}?([-+]?\d+(?:\.\d+)?)", re.I)
_NUMBER = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*")


def parse_judge_score(reply: str | None) -> float | None:
    """The score in a judge's reply, or None when the reply holds none in [0, 1].

    Accepts ``SCORE: 0.8`` anywhere in the text (the last one wins), a JSON object with a ``score``,
    or a bare number.

    >>> parse_judge_score("The queries differ in the filter.\\nSCORE: 0.25")
    0.25
    >>> parse_judge_score('{"score": 1}'), parse_judge_score("0"), parse_judge_score("looks fine")
    (1.0, 0.0, None)
    >>> parse_judge_score("SCORE: 7")
    """
    if not isinstance(reply, str):
        return None
    value: Any = None
    found = _SCORE.findall(reply)
    if found:
        value = found[-1]
    else:
        try:
            obj = json.loads(reply)
            value = obj.get("score") if isinstance(obj, dict) else obj
        except (ValueError, TypeError):
            m = _NUMBER.fullmatch(reply)
            value = m.group(1) if m else None
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    return score if 0.0 <= score <= 1.0 else None


def _require_openai() -> Any:
    try:
        import openai
    except ImportError:
        raise ImportError(
            "the judge reward needs the openai package: pip install 'sqlrl[verbal]' (or pip install openai)"
        ) from None
    return openai


class JudgeReward(SQLReward):
    """LLM-judge reward: a score in [0, 1] from a model behind an OpenAI-compatible endpoint, asked only
    where execution cannot decide.

    Args:
        model: the model name the endpoint serves (required).
        base_url: the endpoint (e.g. ``http://localhost:8000/v1`` for vLLM; default: OpenAI's).
        when: which completions are judged: ``error`` (default: SQL was found but did not run),
            ``mismatch`` (did not run, or ran and does not match the gold in ``mode``) or ``always``.
        api_key: the API key (else the ``api_key_env`` variable, default ``OPENAI_API_KEY``).
        mode: the execution-match mode of ``when="mismatch"``.
        prompt: a template with the fields question, evidence, schema, gold_sql, pred_sql, dialect, error.
        include_schema: show the database schema in the prompt.
        timeout, max_retries: seconds per call (default 20) and retries (default 1).
        concurrency: parallel calls (default 8).
        max_tokens, temperature: of the judge's reply.
        name: the name TRL logs (default ``judge``); it also logs ``<name>/calls``, ``<name>/failed``
            and ``<name>/consulted``.
        executor: a shared executor; else one is made from ``sandbox_options``.

    Completions that are not judged get None (not applicable); a completion without SQL gets 0.0;
    a failed call (server error, timeout) or a reply without ``SCORE: x`` (x in [0, 1]) gets None.

    Raises:
        ImportError: at construction, when ``openai`` is not installed.

    >>> judge_reward(model="judge", base_url="http://127.0.0.1:9/v1").__name__
    'judge'
    """

    kind = "judge"
    required_columns = ("gold_sql", "db_path")

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        when: str = "error",
        mode: str = "spider",
        prompt: str = DEFAULT_JUDGE_PROMPT,
        include_schema: bool = True,
        timeout: float = 20.0,
        max_retries: int = 1,
        concurrency: int = 8,
        max_tokens: int = 256,
        temperature: float = 0.0,
        name: str | None = None,
        executor: RewardExecutor | None = None,
        **sandbox_options: Any,
    ) -> None:
        _require_openai()
        if not model:
            raise ValueError("the judge reward needs model=<name of the model the endpoint serves>")
        if when not in WHEN:
            raise ValueError(f"when must be one of {', '.join(WHEN)}, got {when!r}")
        if timeout <= 0 or max_retries < 0 or concurrency < 1:
            raise ValueError("timeout must be > 0, max_retries >= 0 and concurrency >= 1")
        try:
            prompt.format(**dict.fromkeys(_FIELDS, ""))
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"the judge prompt may use only the fields {', '.join(sorted(_FIELDS))}: {e}") from None
        self.model, self.base_url, self.api_key, self.api_key_env = model, base_url, api_key, api_key_env
        self.when, self.mode, self.prompt, self.include_schema = when, mode, prompt, bool(include_schema)
        self.timeout, self.max_retries, self.concurrency = float(timeout), int(max_retries), int(concurrency)
        self.max_tokens, self.temperature = int(max_tokens), float(temperature)
        super().__init__(name=name, executor=executor, **sandbox_options)
        self._init_client_state()

    def _init_client_state(self) -> None:
        self._chat: Any = None
        self._lock = threading.Lock()
        self._memo: LRUCache[float] = LRUCache(4096)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for k in ("_chat", "_lock", "_memo"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_client_state()

    def chat_model(self) -> Any:
        """The :class:`~sqlrl.models.openai_chat.OpenAIChatModel` that asks the judge (built on first use)."""
        with self._lock:
            if self._chat is None:
                _require_openai()
                from sqlrl.models.openai_chat import OpenAIChatModel

                self._chat = OpenAIChatModel(
                    self.model, base_url=self.base_url, api_key=self.api_key, api_key_env=self.api_key_env,
                    timeout=self.timeout, max_retries=self.max_retries, concurrency=self.concurrency,
                )  # fmt: skip
            return self._chat

    def client(self) -> Any:
        """The ``openai`` client of :meth:`chat_model`."""
        return self.chat_model()._client

    def ask(self, prompt: str) -> float | None:
        """One judge call: the parsed score, or None when the call failed or the reply held no score."""
        return self.ask_many([prompt])[0]

    def ask_many(self, prompts: list[str]) -> list[float | None]:
        """The scores of many prompts: remembered ones looked up, the others asked at once (the chat model
        sends ``concurrency`` requests at a time)."""
        out: list[float | None] = [self._memo.get(p) for p in prompts]
        todo = [i for i, v in enumerate(out) if v is None]
        if not todo:
            return out
        replies = self.chat_model().chat(
            [[{"role": "user", "content": prompts[i]}] for i in todo],
            temperature=self.temperature,
            top_p=None,  # not sent: the server's default, as the judge always asked
            max_tokens=self.max_tokens,
        )
        for i, reply in zip(todo, replies, strict=True):
            if not reply.ok:  # server errors, timeouts, malformed responses, after the retries
                logger.warning("judge call failed: %s", reply.error)
                continue
            text = reply.texts[0] if reply.texts else None
            score = parse_judge_score(text)
            if score is None:
                logger.warning("judge reply holds no score in [0, 1]: %r", (text or "")[:200])
                continue
            out[i] = score
            self._memo.put(prompts[i], score)
        return out

    def _schema_text(self, db: str, engine: str) -> str:
        if not self.include_schema:
            return "(not shown)"
        schema = self.executor.schema(db, engine)
        if schema is None:
            return "(unavailable)"
        return "\n".join(s + ";" for s in schema.create_statements(self.executor.sandbox_dialect(db, engine)))

    def compute(self, batch: Batch) -> list[float | None]:
        executed = self.execute(batch)
        verdicts = executed.scores("mode", self.mode) if self.when == "mismatch" else None
        out: list[float | None] = [None] * len(batch)
        prompts: dict[str, list[int]] = {}
        for i, pred in enumerate(executed.preds):
            gold_sql, db = batch.gold(i), batch.db(i)
            if gold_sql is None or db is None:
                continue
            if self.when == "error" and pred.ok:
                continue
            if self.when == "mismatch" and pred.ok and verdicts is not None and verdicts[i] == 1.0:
                continue
            if pred.error_kind == NO_SQL:
                out[i] = 0.0
                continue
            if pred.ok:
                error = f"ran and returned {pred.num_rows} row(s) of {pred.num_columns} column(s)"
            else:
                error = f"failed ({pred.error_kind}): {pred.error[:300]}"
            text = self.prompt.format(
                question=batch.text_column("question", i),
                evidence=batch.text_column("evidence", i) or "(none)",
                schema=self._schema_text(db, batch.engine(i)),
                gold_sql=gold_sql,
                pred_sql=batch.extractions[i].sql,
                dialect=self.dialect_of(batch, i),
                error=error,
            )
            prompts.setdefault(text, []).append(i)
        if prompts:
            texts = list(prompts)
            scores = self.ask_many(texts)
            for t, s in zip(texts, scores, strict=True):
                for i in prompts[t]:
                    out[i] = s
            self.metric("calls", len(texts))
            self.metric("failed", sum(s is None for s in scores) / len(texts))
        self.metric("consulted", sum(v is not None for v in out) / max(len(batch), 1))
        return out


judge_reward = JudgeReward.factory()
