"""The sandbox as an environment: multi-turn episodes where the model explores a database before it answers.

- :class:`SqlEnvironment` (TRL's environment protocol; ``GRPOTrainer(environment_factory=...)``): per
  question, read-only tools ``run_query``, ``list_tables``, ``describe_table`` and ``answer``, within a
  turn and character budget, every output truncated by :mod:`sqlrl.env.render`'s rules;
- :func:`environment_factory`: environments sharing one execution service (sandboxes, memo);
- :func:`episode_rewards`: the single-turn rewards scoring an episode's final answer, plus the
  per-episode penalty terms of :class:`EnvConfig`;
- :func:`run_episodes`: the same episodes for any chat model through text (``sqlrl generate --interactive``);
- :mod:`sqlrl.env.template`: a tool-calling chat template for the tiny model, parsed by TRL.

See docs/environment.md.
"""

from sqlrl.env.config import EnvConfig, EnvConfigError
from sqlrl.env.environment import EXPLORATION_TOOLS, TOOLS, SqlEnvironment, environment_factory, tool_help
from sqlrl.env.episodes import Episode, call_tool, format_tool_call, parse_tool_calls, run_episodes
from sqlrl.env.rewards import EpisodeReward, episode_metrics, episode_rewards, final_answer

__all__ = [
    "EXPLORATION_TOOLS",
    "TOOLS",
    "EnvConfig",
    "EnvConfigError",
    "Episode",
    "EpisodeReward",
    "SqlEnvironment",
    "call_tool",
    "environment_factory",
    "episode_metrics",
    "episode_rewards",
    "final_answer",
    "format_tool_call",
    "parse_tool_calls",
    "run_episodes",
    "tool_help",
]
