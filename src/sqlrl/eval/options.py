"""The choices the evaluators accept, in a module of constants: commands build their flags from it without
importing an evaluator (and with it the SQL layer and the sandbox)."""

from __future__ import annotations

#: What ``evaluate_spider`` (``sqlrl eval spider --etype``) evaluates.
SPIDER_ETYPES = ("all", "exec", "match")
#: What ``evaluate_spider2`` (``sqlrl eval spider2 --mode``) reads: result CSV files, or SQL files it runs.
SPIDER2_EVAL_MODES = ("exec_result", "sql")
#: BIRD's R-VES timing runs per matching pair, as the official script.
VES_ITERATIONS = 100
#: How BIRD predictions are paired with gold (``--pair-by``).
PAIR_BY = ("position", "key", "question_id")
#: Dataset kinds ``load_examples`` reads (``--dataset`` of eval paverl, generate and verbal).
DATASET_KINDS = ("toy", "spider", "bird", "jsonl", "spider2")
#: Modes of the extra ``ex`` column of ``evaluate_paverl``.
EX_MODES = ("auto", "spider", "bird", "spider2", "none")
