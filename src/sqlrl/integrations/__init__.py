"""sqlrl's rewards inside other RL frameworks (docs/integrations.md).

- :mod:`sqlrl.integrations.verl`: ``compute_score`` / ``compute_score_batch`` for verl's custom reward
  function, and ``write_parquet`` for verl's dataset layout.
- :mod:`sqlrl.integrations.openrlhf`: ``reward_func`` for OpenRLHF's ``--reward.remote_url`` Python file.
- :mod:`sqlrl.integrations.skyrl`: the interactive episodes as the ``sqlrl-sql`` SkyRL-Gym environment
  (``register``), and ``write_parquet`` for SkyRL's dataset layout.

None imports its framework at import time; torch is imported only inside OpenRLHF's ``reward_func``, which must
return tensors.
"""
