"""SkyRL's training entrypoint with the ``sqlrl-sql`` environment registered::

    SQLRL_SKYRL_SETTINGS='{"spec": "execution", "env": {"max_rows": 10}}' \\
    python -m sqlrl.integrations.skyrl_entrypoint environment.env_class=sqlrl-sql data.train_data=... ...

or, keeping SkyRL's own command, ``python -m skyrl.train.entrypoints.main_base
trainer.override_entrypoint=sqlrl.integrations.skyrl_entrypoint ...`` (``main_base.main`` dispatches to
this module's :func:`main`, which drops that override before parsing).

It does what SkyRL's ``skyrl/train/entrypoints/main_base.py`` does (parse the overrides into
``SkyRLTrainConfig``, ``validate_cfg``, ``initialize_ray``, run ``BasePPOExp(cfg).run()`` in a Ray task),
with :func:`sqlrl.integrations.skyrl.register` called first inside that task, where SkyRL's generator
makes the environments (as SkyRL's ``examples/train/multiply/main_multiply.py`` registers its own).
SkyRL's config rejects keys it does not declare, so the environment's settings
(:class:`~sqlrl.integrations.skyrl.SkyRLSettings`) come from the JSON in ``SQLRL_SKYRL_SETTINGS``, read
on the driver and handed to the task. Imports skyrl and ray only when run.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

__all__ = ["main", "run_experiment", "settings_from_env"]

#: The environment variable holding the settings as a JSON object.
SETTINGS_VAR = "SQLRL_SKYRL_SETTINGS"
#: main_base's dispatch flag, which SkyRL's config does not declare.
_OVERRIDE = "trainer.override_entrypoint="


def settings_from_env() -> dict[str, Any]:
    """The settings in ``SQLRL_SKYRL_SETTINGS`` (``{}`` when unset)."""
    text = os.environ.get(SETTINGS_VAR, "").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{SETTINGS_VAR} is not JSON: {e}") from e
    if not isinstance(data, dict):
        raise ValueError(f"{SETTINGS_VAR} must be a JSON object, got {type(data).__name__}")
    return data


def run_experiment(cfg: Any, settings: dict[str, Any]) -> None:
    """The Ray task's body: register ``sqlrl-sql`` in this process, then run SkyRL's PPO experiment."""
    from skyrl.train.entrypoints.main_base import BasePPOExp  # type: ignore[import-not-found]

    from sqlrl.integrations.skyrl import register

    register(**settings)
    BasePPOExp(cfg).run()


def main(argv: list[str] | None = None) -> None:
    import ray  # type: ignore[import-not-found]
    from skyrl.train.config import SkyRLTrainConfig  # type: ignore[import-not-found]
    from skyrl.train.utils import initialize_ray, validate_cfg  # type: ignore[import-not-found]

    from sqlrl.integrations.skyrl import SkyRLSettings

    settings = settings_from_env()
    SkyRLSettings.merged(settings)  # a bad setting fails here, before Ray starts
    args = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith(_OVERRIDE)]
    cfg = SkyRLTrainConfig.from_cli_overrides(args)
    validate_cfg(cfg)
    initialize_ray(cfg)
    ray.get(ray.remote(num_cpus=1)(run_experiment).remote(cfg, settings))


if __name__ == "__main__":
    main()
