"""The sandbox as a SkyRL-Gym environment: multi-turn SQL episodes scored by sqlrl's rewards.

SkyRL (read at NovaSky-AI/SkyRL commit ``a9564572e``; skyrl-gym 0.4.0 on PyPI has the same files) runs an
environment per trajectory. ``SkyRLGymGenerator.agent_loop`` (``skyrl/train/generators/skyrl_gym_generator.py``)
does, per dataset row::

    extras = row without "prompt" and "env_class"; extras["max_turns"] = generator.max_turns
    env = skyrl_gym.make(env_class, env_config=getattr(cfg.environment.skyrl_gym, env_class, {}), extras=extras)
    chat, _ = env.init(prompt)                  # the first model input
    while not done:
        out = env.step(model_text)              # {"observations", "reward", "done", "metadata"}
        chat += [assistant turn] + out["observations"]; done = out["done"]
    env.get_metrics(); env.close()

(``skyrl_gym/envs/base_text_env.py``: ``BaseTextEnv`` and the ``BaseTextEnvStepOutput`` TypedDict;
``skyrl_gym/envs/registration.py``: ``register(id, entry_point, kwargs)`` and ``make(id, **kwargs)``, which
requires an instance of ``skyrl_gym.Env``.)

:class:`SqlrlTextEnv` speaks that protocol without importing skyrl_gym: ``step`` returns a plain dict,
which is what a TypedDict is at run time. :func:`register` (called where SkyRL builds environments, e.g.
in the entrypoint's Ray task) registers ``sqlrl-sql`` with :func:`make_env` as entry point; that builds
the class mixed with ``BaseTextEnv`` when skyrl_gym is importable, so ``make``'s ``isinstance`` check
passes, and the plain class otherwise.

The actions, both accepted in one episode (see :func:`parse_actions`):

- SkyRL-SQL's (``skyrl_gym/envs/sql/env.py``): ``<sql>...</sql>`` runs a query, ``<solution>...</solution>``
  answers; observations come back as ``<observation>...<reminder>You have N turns left ...</reminder>
  </observation>`` user messages, as there;
- sqlrl's: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` with the tools of
  :class:`~sqlrl.env.SqlEnvironment` (``run_query``, ``list_tables``, ``describe_table``, ``answer``);
  results come back as ``<tool_response>...</tool_response>``, as in ``sqlrl generate --interactive``.

Each step is one model turn; its actions run in order. The episode ends when the model answers or when
``max_turns`` turns were taken (SkyRL-SQL's rule: the last turn's queries are not run); a turn without
any action gets SkyRL-SQL's "invalid action" observation (or, with ``no_action="answer"``, ends the
episode as in ``sqlrl generate --interactive``). Queries run in :class:`~sqlrl.env.SqlEnvironment`
(read-only sandboxes, one statement, timeouts, the output budgets and truncation of
:class:`~sqlrl.env.EnvConfig`); environments made in one process with the same settings share one
execution service. The final answer (``answer``'s SQL, else the last turn's text, as
:func:`sqlrl.env.final_answer` picks it) is scored by ``build_rewards(spec)`` exactly as TRL would score it
(``execution`` by default), plus the :class:`~sqlrl.env.EnvConfig` penalties; intermediate steps get 0.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlrl.env.config import EnvConfig
from sqlrl.env.environment import SqlEnvironment, environment_factory
from sqlrl.env.episodes import call_tool, parse_tool_calls
from sqlrl.env.rewards import final_answer
from sqlrl.integrations._rows import COLUMNS, row_from, score_rows, write_records

__all__ = [
    "ENV_ID",
    "SkyRLSettings",
    "SqlrlTextEnv",
    "make_env",
    "parse_actions",
    "register",
    "skyrl_records",
    "sql_tags_help",
    "write_parquet",
]

#: The id :func:`register` uses (the rows' ``env_class``).
ENV_ID = "sqlrl-sql"
#: SkyRL-SQL's default turn limit when neither the generator nor the settings give one.
DEFAULT_MAX_TURNS = 5
#: SkyRL-SQL's ``data`` values and where their databases lie under ``db_path`` (``<db_id>/<db_id>.sqlite``).
SKYRL_SQL_FOLDERS = {
    "synsql": "SynSQL-2.5M/databases",
    "spider": "spider/database",
    "bird": "bird/train/train_databases",
}

_ACTION = re.compile(r"<(sql|solution)>(.*?)</\1>|<tool_call>\s*.*?\s*</tool_call>", re.DOTALL)
#: The observation for a turn without any action, per format (SkyRL-SQL's words for its tags).
_INVALID = {
    "sql_tags": "Your previous action is invalid: give one query as <sql>SELECT ...</sql> to see its result, "
    "or the final query as <solution>SELECT ...</solution>.",
    "tool_call": 'Your previous turn called no tool: call one as <tool_call>{"name": "run_query", "arguments": '
    '{"sql": "SELECT ..."}}</tool_call>, or give the final query with answer(sql).',
}


def sql_tags_help(max_turns: int) -> str:
    """The instructions for SkyRL-SQL's tags, for prompts that do not already have them."""
    return (
        "\n\nYou may explore the database before answering: write one SQL query as <sql>SELECT ...</sql> "
        "to see its first rows (or the error), then give the final query as <solution>SELECT ...</solution>. "
        f"You have {max_turns} turns in all."
    )


@dataclass(frozen=True)
class SkyRLSettings:
    """What :class:`SqlrlTextEnv` reads from its settings (``register(**settings)``, then SkyRL's
    ``environment.skyrl_gym.<env_class>`` section, which wins).

    Attributes:
        spec: the reward spec scoring the final answer (a preset such as ``execution``, ``stage1``, a YAML
            file or text, or a list of terms), as ``build_rewards`` takes it.
        reward_options: ``build_rewards`` options (``timeout``, ``max_rows``, ...).
        env: :class:`~sqlrl.env.EnvConfig` fields (output budgets, truncation, penalties); ``env.max_turns``
            (exploration calls) defaults to the episode's ``max_turns - 1``.
        db_path: the folder relative ``db_path`` columns are read from, and, for rows without ``db_path``,
            SkyRL-SQL's database folder (``<db_path>/<folder of data>/<db_id>/<db_id>.sqlite``).
        max_turns: model turns per episode when the row (SkyRL's generator sets ``max_turns``) has none.
        tool_help: append the actions' instructions to the last user message in ``init``: ``"sql_tags"``,
            ``"tool_call"`` or ``None`` (default: the prompt is used as given; :func:`skyrl_records` writes
            the instructions into the prompts).
        observation_format: ``"auto"`` (each action's own style), ``"sql_tags"`` or ``"tool_call"``.
        no_action: a turn without any action: ``"retry"`` (SkyRL-SQL's rule: an "invalid action"
            observation, the turn is used) or ``"answer"`` (``sqlrl generate --interactive``'s rule: the
            turn is the final answer and is scored).
    """

    spec: Any = "execution"
    reward_options: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, Any] = field(default_factory=dict)
    db_path: str | None = None
    max_turns: int | None = None
    tool_help: str | None = None
    observation_format: str = "auto"
    no_action: str = "retry"

    def __post_init__(self) -> None:
        if self.tool_help not in (None, "sql_tags", "tool_call"):
            raise ValueError(f"tool_help must be 'sql_tags', 'tool_call' or None, not {self.tool_help!r}")
        if self.observation_format not in ("auto", "sql_tags", "tool_call"):
            raise ValueError(
                f"observation_format must be 'auto', 'sql_tags' or 'tool_call', not {self.observation_format!r}"
            )
        if self.no_action not in ("retry", "answer"):
            raise ValueError(f"no_action must be 'retry' or 'answer', not {self.no_action!r}")
        if self.max_turns is not None and (not isinstance(self.max_turns, int) or self.max_turns < 1):
            raise ValueError(f"max_turns must be an integer >= 1, not {self.max_turns!r}")

    @classmethod
    def merged(cls, *sources: Any) -> SkyRLSettings:
        """Settings from mappings (dict, OmegaConf, a dataclass, None), later ones winning; unknown keys fail."""
        names = set(cls.__dataclass_fields__)
        data: dict[str, Any] = {}
        for source in sources:
            for key, value in _plain(source).items():
                if key not in names:
                    raise ValueError(f"unknown sqlrl SkyRL setting {key!r}; valid: {', '.join(sorted(names))}")
                data[key] = value
        return cls(**data)


def _plain(source: Any) -> dict[str, Any]:
    """A dict from a mapping, an OmegaConf node or a dataclass (SkyRL passes any of these)."""
    if source is None:
        return {}
    omegaconf = sys.modules.get("omegaconf")
    if omegaconf is not None and isinstance(source, omegaconf.DictConfig):
        return dict(omegaconf.OmegaConf.to_container(source, resolve=True))
    if hasattr(source, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(source)
    return dict(source)


def parse_actions(text: str) -> list[dict[str, Any]]:
    """The actions of one model turn, in order: ``{"name", "arguments"}`` (sqlrl's tool names; ``<sql>`` is
    ``run_query``, ``<solution>`` is ``answer``) or ``{"name", "error"}`` for a malformed ``<tool_call>``.

    >>> parse_actions("<think>count</think><sql>SELECT count(*) FROM t</sql>")
    [{'name': 'run_query', 'arguments': {'sql': 'SELECT count(*) FROM t'}, 'style': 'sql_tags'}]
    >>> [a["name"] for a in parse_actions('<tool_call>{"name": "list_tables", "arguments": {}}</tool_call> '
    ...                                   '<solution>SELECT 1</solution>')]
    ['list_tables', 'answer']
    """
    actions: list[dict[str, Any]] = []
    for m in _ACTION.finditer(text or ""):
        if m.group(1) == "sql":
            actions.append({"name": "run_query", "arguments": {"sql": m.group(2).strip()}, "style": "sql_tags"})
        elif m.group(1) == "solution":
            actions.append({"name": "answer", "arguments": {"sql": _solution_sql(m.group(2))}, "style": "sql_tags"})
        else:
            actions += [{**call, "style": "tool_call"} for call in parse_tool_calls(m.group(0))]
    return actions


def _solution_sql(body: str) -> str:
    """The SQL of a ``<solution>``: its text, or the fenced block inside it."""
    from sqlrl.sql.extract import extract_sql

    body = body.strip()
    if "```" in body:
        found = extract_sql(body).sql
        if found:
            return found
    return body


_FACTORIES: dict[str, Any] = {}
_FACTORIES_LOCK = threading.Lock()


def _factory(config: EnvConfig) -> Any:
    """One :func:`~sqlrl.env.environment_factory` (one execution service) per process per episode config."""
    key = repr(config)
    with _FACTORIES_LOCK:
        found = _FACTORIES.get(key)
        if found is None:
            found = _FACTORIES[key] = environment_factory(config)
        return found


class SqlrlTextEnv:
    """One SkyRL-Gym episode on one question's database (see the module docs).

    Args:
        env_config: SkyRL's ``environment.skyrl_gym.<env_class>`` section (``{}`` for an environment SkyRL's
            config does not declare): :class:`SkyRLSettings` fields, overriding ``settings``.
        extras: the dataset row without ``prompt`` and ``env_class``: ``reward_spec.ground_truth`` (the gold
            SQL), ``db_path`` (or SkyRL-SQL's ``db_id`` and ``data``), optionally ``engine``, ``dialect``,
            ``gold_dialect``, ``question``, ``evidence`` (at the top or in ``extra_info``) and ``max_turns``.
        settings: the defaults given to :func:`register`.
    """

    def __init__(self, env_config: Any = None, extras: Mapping[str, Any] | None = None, *, settings: Any = None):
        super().__init__()
        self.settings = SkyRLSettings.merged(settings, env_config)
        extras = dict(extras or {})
        info = extras.get("extra_info") if isinstance(extras.get("extra_info"), Mapping) else {}
        columns = {**info, **{k: v for k, v in extras.items() if k != "extra_info"}}
        reward_spec = extras.get("reward_spec") or {}
        gold = reward_spec.get("ground_truth") if isinstance(reward_spec, Mapping) else None
        self.gold_sql: str | None = gold if isinstance(gold, str) else columns.get("gold_sql")
        self.db_path = self._database(columns)
        self.columns = {k: columns[k] for k in COLUMNS if columns.get(k) is not None}
        turns = extras.get("max_turns", self.settings.max_turns) or DEFAULT_MAX_TURNS
        self.max_turns = int(turns)
        self.turns = 0
        env_fields = dict(self.settings.env)
        env_fields.setdefault("max_turns", max(self.max_turns - 1, 0))
        env_fields.setdefault("tool_help", False)
        self.config = EnvConfig.from_dict(env_fields)
        self.env: SqlEnvironment = _factory(self.config)()
        self.env.reset(db_path=self.db_path, engine=columns.get("engine"), dialect=columns.get("dialect"))
        self.chat_history: list[dict[str, str]] = []
        self.done = False
        self.reward: float | None = None
        self.reward_details: dict[str, float] = {}

    def _database(self, columns: Mapping[str, Any]) -> str:
        root = self.settings.db_path
        db = columns.get("db_path")
        if db:
            db = os.fspath(db)
            return db if os.path.isabs(db) or root is None else os.path.join(root, db)
        db_id, data = columns.get("db_id"), columns.get("data")
        if root is None or not db_id:
            raise ValueError(
                "a sqlrl SkyRL row needs 'db_path', or 'db_id' and the 'db_path' setting (the databases' folder)"
            )
        folder = os.path.join(root, SKYRL_SQL_FOLDERS[data]) if data in SKYRL_SQL_FOLDERS else root
        return os.path.join(folder, db_id, f"{db_id}.sqlite")

    # -- SkyRL's protocol --------------------------------------------------------------------------------

    def init(self, prompt: list[dict[str, str]]) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """The first model input (the prompt, with the actions' help appended when ``tool_help`` asks) and metadata."""
        messages = [dict(m) for m in prompt]
        help_text = None
        if self.settings.tool_help == "sql_tags":
            help_text = sql_tags_help(self.max_turns)
        elif self.settings.tool_help == "tool_call":
            from sqlrl.env.environment import tool_help

            help_text = tool_help(self.config)
        if help_text and messages:
            messages[-1] = {**messages[-1], "content": str(messages[-1].get("content", "")) + help_text}
        return messages, {"db_path": self.db_path, "max_turns": self.max_turns}

    def step(self, action: str) -> dict[str, Any]:
        """One model turn: run its actions; ``{"observations", "reward", "done", "metadata"}`` (SkyRL's
        ``BaseTextEnvStepOutput``)."""
        if self.done:
            return {"observations": [], "reward": 0.0, "done": True, "metadata": {"error": "the episode is over"}}
        self.turns += 1
        self.chat_history.append({"role": "assistant", "content": action})
        actions = parse_actions(action)
        last_turn = self.turns >= self.max_turns
        outputs: list[tuple[str, str]] = []
        for act in actions:
            if act["name"] != "answer" and last_turn:
                continue  # SkyRL-SQL's rule: the last turn's queries are not run
            outputs.append((act["style"], call_tool(self.env, act)))
            if self.env.final_sql is not None:
                break
        if self.env.final_sql is not None or last_turn or (not actions and self.settings.no_action == "answer"):
            return self._finish(actions)
        if not actions:
            self.env._failed += 1
            tool_call = "tool_call" in (self.settings.observation_format, self.settings.tool_help)
            style = "tool_call" if tool_call else "sql_tags"
            outputs.append((style, _INVALID[style]))
        observation = {"role": "user", "content": self._render(outputs)}
        self.chat_history.append(observation)
        metadata = {"turn": self.turns, "actions": [a["name"] for a in actions]}
        return {"observations": [observation], "reward": 0.0, "done": False, "metadata": metadata}

    def close(self) -> None:
        """Nothing to release: the sandboxes belong to the process-wide execution service."""

    def get_metrics(self) -> dict[str, Any]:
        """The episode's numbers (SkyRL averages them over episodes): turns, tool calls, failures, answered."""
        counts = self.env.episode
        out = {
            "turns": self.turns,
            "tool_calls": counts["tool_calls"],
            "failed_calls": counts["failed_calls"],
            "answered": float(counts["answered"]),
            "out_of_turns": float(counts["out_of_turns"]),
        }
        out.update({f"reward/{k}": v for k, v in self.reward_details.items()})
        return out

    @staticmethod
    def aggregate_metrics(metrics: list[dict[str, Any]]) -> dict[str, Any]:
        """The mean of each numeric metric (``BaseTextEnv``'s default)."""
        keys = {k for m in metrics for k, v in m.items() if isinstance(v, (int, float))}
        return {k: sum(m.get(k, 0) for m in metrics) / max(len(metrics), 1) for k in sorted(keys)}

    # -- internals ---------------------------------------------------------------------------------------

    @property
    def final_sql(self) -> str | None:
        return self.env.final_sql

    def _render(self, outputs: list[tuple[str, str]]) -> str:
        left = self.max_turns - self.turns
        parts = []
        for style, text in outputs:
            style = style if self.settings.observation_format == "auto" else self.settings.observation_format
            if style == "tool_call":
                parts.append(f"<tool_response>\n{text}\n</tool_response>")
            else:
                reminder = f"<reminder>You have {left} turns left to complete the task.</reminder>"
                parts.append(f"\n\n<observation>{text}\n{reminder}</observation>\n\n")
        return "\n".join(parts)

    def _finish(self, actions: list[dict[str, Any]]) -> dict[str, Any]:
        self.done = True
        if self.env.final_sql is None and self.turns >= self.max_turns:
            self.env._out_of_turns = True  # the turns ran out before an answer: out_of_turns_penalty applies
        assistant = [m for m in self.chat_history if m["role"] == "assistant"]
        completion = final_answer(assistant, self.env)
        row = row_from(completion, self.gold_sql, {"db_path": self.db_path, **self.columns}, where="sqlrl-sql row")
        totals, details = score_rows([row], spec=self.settings.spec, **dict(self.settings.reward_options))
        penalty = float(self.env.penalty)
        self.reward = totals[0] + penalty
        self.reward_details = {name: values[0] for name, values in details.items()}
        if self.config.has_penalties:
            self.reward_details["episode"] = penalty
        metadata = {
            "turn": self.turns,
            "actions": [a["name"] for a in actions],
            "final_sql": self.env.final_sql,
            "rewards": dict(self.reward_details),
            "episode": self.env.episode,
        }
        return {"observations": [], "reward": self.reward, "done": True, "metadata": metadata}


_SKYRL_CLASS: list[type] = []


def env_class() -> type:
    """:class:`SqlrlTextEnv` mixed with skyrl_gym's ``BaseTextEnv`` when skyrl_gym is importable (what
    ``skyrl_gym.make`` accepts), else :class:`SqlrlTextEnv` itself."""
    if _SKYRL_CLASS:
        return _SKYRL_CLASS[0]
    try:
        from skyrl_gym.envs.base_text_env import BaseTextEnv  # type: ignore[import-not-found]
    except ImportError:
        return SqlrlTextEnv
    cls = type("SqlrlSkyRLEnv", (SqlrlTextEnv, BaseTextEnv), {"__module__": __name__, "__doc__": SqlrlTextEnv.__doc__})
    _SKYRL_CLASS.append(cls)
    return cls


def make_env(env_config: Any = None, extras: Mapping[str, Any] | None = None, settings: Any = None) -> Any:
    """The entry point :func:`register` registers: an instance of :func:`env_class`."""
    return env_class()(env_config, extras, settings=settings)


def register(env_id: str = ENV_ID, **settings: Any) -> str:
    """Register the environment with skyrl_gym as ``env_id`` (once per process; call it where SkyRL makes
    environments, e.g. in the entrypoint's Ray task). ``settings`` are :class:`SkyRLSettings` fields,
    e.g. ``register(spec="stage1", db_path="/data/sql")``; SkyRL's ``environment.skyrl_gym.<env_id>``
    section overrides them. Registering the same id again replaces it. Returns ``env_id``.
    """
    import skyrl_gym.envs.registration as registration  # type: ignore[import-not-found]

    SkyRLSettings.merged(settings)  # fail now on a bad setting, not in the first episode
    if env_id in registration.registry:
        registration.deregister(env_id)
    registration.register(id=env_id, entry_point=f"{__name__}:make_env", kwargs={"settings": dict(settings)})
    return env_id


# -- data ------------------------------------------------------------------------------------------------


def skyrl_records(
    examples: Iterable[Any],
    *,
    split: str = "train",
    env_class: str = ENV_ID,
    data_source: str | None = None,
    prompt_options: Any = None,
    tables: dict[str, Any] | None = None,
    engine: str | None = None,
    action_format: str | None = "sql_tags",
    max_turns: int = DEFAULT_MAX_TURNS,
) -> list[dict[str, Any]]:
    """SkyRL rows for sqlrl :class:`~sqlrl.data.Example` s (those without a gold query are skipped), in the
    layout of SkyRL's dataset preparation (``docs/content/docs/datasets/dataset-preparation.mdx``):
    ``data_source``, ``prompt`` (sqlrl's chat messages, with the actions' help appended to the user
    message for ``action_format`` ``"sql_tags"`` or ``"tool_call"``), ``env_class``,
    ``reward_spec: {method: rule, ground_truth}``, the reward columns at the top level (SkyRL hands every
    column but ``prompt`` and ``env_class`` to the environment as ``extras``) and ``extra_info``.
    """
    from sqlrl.data.prompts import build_messages
    from sqlrl.env.environment import tool_help

    if action_format not in (None, "sql_tags", "tool_call"):
        raise ValueError(f"action_format must be 'sql_tags', 'tool_call' or None, not {action_format!r}")
    help_text = ""
    if action_format == "sql_tags":
        help_text = sql_tags_help(max_turns)
    elif action_format == "tool_call":
        help_text = tool_help(EnvConfig(max_turns=max(max_turns - 1, 0)))
    records = []
    for ex in examples:
        if not ex.gold_sql:
            continue
        messages = [{"role": m["role"], "content": m["content"]} for m in
                    build_messages(ex, options=prompt_options, tables_entry=(tables or {}).get(ex.db_id))]  # fmt: skip
        if help_text:
            messages[-1]["content"] += help_text
        dialect = ex.dialect or "sqlite"
        records.append(
            {
                "data_source": data_source or (str(ex.id).split("/", 1)[0] if "/" in str(ex.id) else "sqlrl"),
                "prompt": messages,
                "env_class": env_class,
                "reward_spec": {"method": "rule", "ground_truth": ex.gold_sql},
                "db_id": ex.db_id,
                "db_path": None if ex.db_path is None else os.fspath(ex.db_path),
                "engine": engine or ("sqlite" if dialect == "sqlite" else "duckdb"),
                "dialect": dialect,
                "question": ex.question,
                "evidence": ex.evidence or "",
                "extra_info": {"split": split, "index": len(records), "id": str(ex.id)},
            }
        )
    return records


def write_parquet(examples: Iterable[Any], path: str | os.PathLike[str], **options: Any) -> int:
    """Write :func:`skyrl_records` of ``examples`` to the parquet file ``path`` (SkyRL's ``data.train_data``);
    returns the number of rows. Needs pyarrow (``pip install 'sqlrl[verl]'``)."""
    return write_records(skyrl_records(examples, **options), path)
