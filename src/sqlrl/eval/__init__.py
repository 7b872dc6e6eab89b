"""Evaluation on Spider, BIRD and Spider 2.0 with the official semantics.

See docs/architecture.md, 'Evaluators and the official scripts'.
"""

from sqlrl._lazy import lazy_exports

__all__ = ["EvalReport", "ExampleResult"]
# Read on first use: `sqlrl --help` lists the eval command without loading the evaluators' types.
__getattr__, __dir__ = lazy_exports("sqlrl.eval", {"EvalReport": "report", "ExampleResult": "report"})
