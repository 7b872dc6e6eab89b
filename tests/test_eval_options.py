"""The evaluators' option dataclasses: each field is a flag of its command and a parameter of its evaluator."""

from __future__ import annotations

import argparse
import dataclasses
import inspect

import pytest

from sqlrl.eval import options
from sqlrl.eval.bird import evaluate_bird
from sqlrl.eval.commands import EvalCommand
from sqlrl.eval.paverl import evaluate_paverl
from sqlrl.eval.spider import evaluate_spider
from sqlrl.eval.spider2 import evaluate_spider2

CASES = [
    (options.BirdOptions, evaluate_bird, ["bird", "--pred", "p", "--gold", "g", "--db-root", "d"], {}),
    (options.SpiderOptions, evaluate_spider, ["spider", "--gold", "g", "--pred", "p", "--db", "d", "--table", "t"], {}),
    (
        options.Spider2Options,
        evaluate_spider2,
        ["spider2", "--pred", "r", "--gold-dir", "g"],
        {"save_csv": "save_csv_dir"},
    ),
    (options.PaverlOptions, evaluate_paverl, ["paverl", "--pred", "p"], {}),
]


@pytest.mark.parametrize(("cls", "evaluate", "argv", "renamed"), CASES, ids=[c[0].__name__ for c in CASES])
def test_every_option_is_a_flag_and_a_parameter_with_one_default(cls, evaluate, argv, renamed):
    parser = argparse.ArgumentParser()
    EvalCommand.register(parser.add_subparsers())
    args = vars(parser.parse_args(["eval", *argv]))
    params = inspect.signature(evaluate).parameters
    for f in dataclasses.fields(cls):
        assert args[f.name] == f.default, f.name  # the flag's default is the field's
        param = params[renamed.get(f.name, f.name)]
        assert param.kind is inspect.Parameter.KEYWORD_ONLY, f.name
        want = param.default
        if isinstance(want, tuple):  # a list option is comma-separated on the command line
            want = ",".join(want)
        assert want == f.default, f.name


def test_boolean_options_are_switches_and_aliases_work():
    parser = argparse.ArgumentParser()
    EvalCommand.register(parser.add_subparsers())
    args = parser.parse_args(["eval", "spider", "--gold", "g", "--pred", "p", "--db", "d", "--table", "t",
                              "--keep_distinct", "--plug-value", "--timeout", "2.5"])  # fmt: skip
    assert (args.keep_distinct, args.plug_value, args.timeout) == (True, True, 2.5)
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "bird", "--pred", "p", "--gold", "g", "--db-root", "d", "--pair-by", "nope"])
