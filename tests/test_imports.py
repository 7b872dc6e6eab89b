"""Entry points import what they use: the heavy libraries stay out of the rewards and the light commands."""

import json
import sqlite3
import subprocess
import sys

import pytest

HEAVY = ("sqlglot", "rich", "matplotlib", "torch", "transformers", "ray")

_CLI = r"""
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["sqlrl", *json.loads(sys.argv[1])]
from sqlrl.cli import main
try:
    code = main()
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}), file=sys.stderr)
"""

_REWARD = r"""
import json, sys
import sqlrl.rewards
from sqlrl.rewards import build_rewards
funcs, _ = build_rewards("execution")
out = funcs[0](prompts=["q"], completions=["```sql\nSELECT a FROM t\n```"], gold_sql=["SELECT a FROM t;"],
               db_path=[sys.argv[1]])
print(json.dumps({"out": out, "loaded": [m for m in json.loads(sys.argv[2]) if m in sys.modules]}))
"""


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("imports") / "t.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")
    return path


def test_an_execution_reward_imports_no_heavy_library(tiny_db):
    proc = subprocess.run([sys.executable, "-c", _REWARD, str(tiny_db), json.dumps(HEAVY)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["out"] == [1.0] and res["loaded"] == [], res


@pytest.mark.parametrize(
    "args", [["--help"], ["eval", "bird", "--help"], ["exec", "--json", "--db", "DB", "SELECT a FROM t"]]
)
def test_light_commands_import_no_heavy_library(tiny_db, args):
    args = [str(tiny_db) if a == "DB" else a for a in args]
    proc = subprocess.run([sys.executable, "-c", _CLI, json.dumps(args), json.dumps(HEAVY)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    res = json.loads(proc.stderr.strip().splitlines()[-1])
    assert res["code"] in (0, None) and res["loaded"] == [], (res, proc.stderr[-2000:])


def test_help_loads_no_command_machinery():
    """``sqlrl --help`` lists the commands by name: no compiled core, no evaluator types, no dataclasses."""
    listed = ["sqlrl._core", "sqlrl.scoring", "sqlrl.eval.report", "sqlrl.sandbox", "dataclasses", "sqlrl.suite.build"]
    proc = subprocess.run([sys.executable, "-c", _CLI, json.dumps(["--help"]), json.dumps(listed)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    res = json.loads(proc.stderr.strip().splitlines()[-1])
    assert res["code"] in (0, None) and res["loaded"] == [], res


def test_the_spider_evaluator_loads_only_the_dialects_it_reads():
    """Resolving a dialect sqlglot names itself must not import all of sqlglot's dialect modules."""
    code = "import sys, sqlrl.eval.spider; print(sorted(m for m in sys.modules if m.startswith('sqlglot.dialects.')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = eval(proc.stdout.strip())  # noqa: S307 - our own printed list
    assert "sqlglot.dialects.snowflake" not in loaded and len(loaded) <= 5, loaded
