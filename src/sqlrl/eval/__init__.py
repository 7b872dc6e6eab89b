"""Evaluation on Spider, BIRD and Spider 2.0 with the official semantics.

See docs/architecture.md, 'Evaluators and the official scripts'.
"""

from sqlrl.eval.report import EvalReport, ExampleResult

__all__ = ["EvalReport", "ExampleResult"]
