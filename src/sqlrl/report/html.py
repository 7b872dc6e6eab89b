"""One self-contained HTML file: the page data as a JSON block, rendered by a small inline script.

Nothing is fetched: the CSS and JavaScript (``assets/``) are inlined, charts are inline SVG, and a
Content-Security-Policy forbids any network access, so the file works from ``file://`` offline.
The data goes into ``<script type="application/json">`` with every ``<`` written as ``\\u003c``,
so no text in it (``</script>`` in a question or a value) can end the block; the script only ever
puts that text into the page as text.
"""

from __future__ import annotations

import html
import json
import math
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

__all__ = ["SIZE_BUDGET", "embed_json", "render_page", "write_page"]

#: The size a report aims to stay under (bytes) for 10,000 examples with the default row caps; ``sqlrl
#: report`` says so when a page is larger (lower ``--rows`` then).
SIZE_BUDGET = 50 * 1024 * 1024


def _asset(name: str) -> str:
    return resources.files("sqlrl.report").joinpath("assets", name).read_text(encoding="utf-8")


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float as None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def embed_json(data: Any) -> str:
    """``data`` as JSON safe inside a ``<script>`` block: ``<``, ``>``, ``&`` and the JavaScript line
    separators are escaped (JSON.parse reads them back unchanged).

    >>> embed_json({"sql": "</script><b>"})
    '{"sql":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def render_page(data: dict[str, Any]) -> str:
    """The HTML text of a page (``data["kind"]``: ``eval`` or ``train``)."""
    return Template(_asset("page.html")).substitute(
        title=html.escape(str(data.get("title", "sqlrl report"))),
        css=_asset("report.css"),
        js=_asset("report.js"),
        data=embed_json(data),
    )


def write_page(data: dict[str, Any], path: str | Path) -> Path:
    """Write the page to ``path`` (folders made as needed); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(data), encoding="utf-8")
    return path
