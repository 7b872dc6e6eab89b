"""Size and shape of the package, for a redesign's before/after: lines, long modules and functions, repeats,
import time, test count.

    PYTHONPATH=src python benchmarks/house_metrics.py                 # the working tree
    PYTHONPATH=src python benchmarks/house_metrics.py --rev 721e9ac --core OLD/_core.so   # a commit, checked out
        # into a temporary worktree, with a compiled core built from that commit (default: this tree's)

Repeats are counted by the workplace's ``duplicates`` tool when it is on PATH (pairs of places in src/ that
share six or more lines); the column says ``n/a`` elsewhere.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(root: Path) -> dict[str, object]:
    src = root / "src" / "sqlrl"
    modules = sorted(src.rglob("*.py"))
    lines = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in modules}
    long_functions = []
    for p in modules:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if n > 80:
                    long_functions.append(f"{p.relative_to(src)}:{node.name} ({n})")
    env = {"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"}
    code = "import time; t = time.perf_counter(); import sqlrl.rewards; print(time.perf_counter() - t)"
    times = [float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                  check=True).stdout) for _ in range(7)]  # fmt: skip
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=root, env=env, capture_output=True, text=True,
    ).stdout.strip().splitlines()  # fmt: skip
    tests = next(
        (line.split()[0] for line in reversed(collected) if "tests collected" in line or "collected" in line), "?"
    )
    dup = "n/a"
    if shutil.which("duplicates"):
        out = subprocess.run(["duplicates", "--repo", str(src), "--seconds", "120"], capture_output=True, text=True)
        first = out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""
        dup = first.split()[0] if first and first.split()[0].isdigit() else first
    return {
        "python modules": len(modules),
        "lines in src/sqlrl (Python)": sum(lines.values()),
        "modules over 400 lines": sum(n > 400 for n in lines.values()),
        "functions over 80 lines": len(long_functions),
        "duplicates pairs in src/sqlrl": dup,
        "import sqlrl.rewards (median of 7, s)": round(statistics.median(times), 3),
        "tests collected": tests,
        "long functions": long_functions,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rev", help="measure this commit instead of the working tree")
    ap.add_argument("--core", help="with --rev: the compiled core (_core*.so) built from that commit")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    root = ROOT
    tmp = None
    if args.rev:
        tmp = Path(tempfile.mkdtemp(prefix="sqlrl-house-"))
        root = tmp / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(root), args.rev], check=True)
        cores = [Path(args.core)] if args.core else list((ROOT / "src" / "sqlrl").glob("_core*.so"))
        for so in cores:
            shutil.copy(so, root / "src" / "sqlrl" / (so.name if so.name.startswith("_core") else "_core.so"))
    try:
        result = measure(root)
    finally:
        if tmp is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(root)], check=False)
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for k, v in result.items():
        if k != "long functions":
            print(f"{k:40s} {v}")


if __name__ == "__main__":
    main()
