"""Shared by the benchmark scripts: write one delimited section of benchmarks/RESULTS.md, and say
which machine the numbers come from."""

from __future__ import annotations

import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def record_section(name: str, text: str, path: Path = RESULTS) -> Path:
    """Replace the section between ``<!-- name: start -->`` and ``<!-- name: end -->``, or append it.

    The file is re-read right before writing, so sections written by other scripts stay intact.
    """
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    block = f"{start}\n{text.rstrip()}\n{end}"
    if start in old and end in old:
        new = old[: old.index(start)] + block + old[old.index(end) + len(end) :]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(new, encoding="utf-8")
    return path


def machine(*extra: str) -> str:
    """CPU model, cores, OS, Python and sqlrl versions (plus ``extra`` items) for a RESULTS.md line."""
    import sqlrl

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [cpu, f"{os.cpu_count()} cores", f"{platform.system()} {platform.release()}"]
    parts += [f"Python {platform.python_version()}", *extra, f"sqlrl {sqlrl.__version__}"]
    return ", ".join(parts)


def quarter_means(values: list[float], digits: int = 3) -> list[float]:
    """The means of ``values`` over its four quarters (fewer when there are under four values): a curve in a line."""
    q = max(1, len(values) // 4)
    return [round(sum(part) / len(part), digits) for i in range(0, 4 * q, q) if (part := values[i : i + q])]
