"""The pieces every HTML report shares: PNG figures, embedded images, tables, number
formatting, the page skeleton, and JSON conversion of numpy results.

Pages are self-contained: images are embedded as base64 ``data:`` URIs, nothing is fetched.
matplotlib is imported only inside :func:`figure_png`, when a figure is saved.

>>> table([["a", esc("<1>")]], header=["key", "value"])
'<table><tr><th>key</th><th>value</th></tr><tr><td>a</td><td>&lt;1&gt;</td></tr></table>'
>>> jsonable({"x": np.float64(float("inf")), "n": np.arange(2)})
{'x': 'inf', 'n': [0, 1]}
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["figure_png", "img", "esc", "fmt", "table", "page", "jsonable"]


def figure_png(fig: Any, *, dpi: float | None = 90, tight: bool = True) -> bytes:
    """A matplotlib ``Figure`` as PNG bytes (Agg canvas: no pyplot, no global backend).

    Args:
        fig: A ``matplotlib.figure.Figure``.
        dpi: Resolution [dots per inch]; ``None``: the figure's own.
        tight: Crop to the drawn area (``bbox_inches="tight"``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    return buf.getvalue()


def img(png: bytes, alt: str, style: str = "") -> str:
    """An ``<img>`` element embedding ``png`` as a base64 ``data:`` URI."""
    data = base64.b64encode(png).decode("ascii")
    extra = f' style="{esc(style)}"' if style else ""
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}"{extra}>'


def esc(x: Any) -> str:
    """``str(x)`` escaped for HTML text and attribute values."""
    return html.escape(str(x))


def fmt(v: Any) -> str:
    """A table cell: floats to 3 significant digits, dicts as ``key: value, ...``, anything
    else as its escaped string."""
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, dict):
        return esc(", ".join(f"{k}: {x}" for k, x in v.items()))
    return esc(v)


def table(rows: Iterable[Sequence[str]], header: Sequence[str] | None = None,
          cls: str | None = None) -> str:
    """An HTML table; cells are HTML already (escape text with :func:`esc`)."""
    head = "" if header is None else "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<table{attr}>{head}{body}</table>"


def page(title: str, body: str, css: str) -> str:
    """A complete HTML document: ``title`` (text) in the head, ``body`` (HTML) and a
    ``<style>`` sheet."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f"<title>{esc(title)}</title><style>{css}</style></head><body>\n"
            f"{body}\n</body></html>\n")


def jsonable(x: Any, nonfinite: str = "str") -> Any:
    """``x`` with numpy scalars and arrays turned into JSON types, recursively.

    Args:
        x: Nested dicts, lists, tuples, numpy arrays and scalars.
        nonfinite: What non-finite floats become (JSON has no inf/NaN): ``"str"`` their
            string (``"inf"``, ``"nan"``), ``"null"`` ``None``.
    """
    if isinstance(x, dict):
        return {k: jsonable(v, nonfinite) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v, nonfinite) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist(), nonfinite)
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else (str(v) if nonfinite == "str" else None)
    if isinstance(x, np.integer):
        return int(x)
    return x
