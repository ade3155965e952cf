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

__all__ = ["figure_png", "img", "esc", "fmt", "num", "label", "table", "page", "jsonable"]


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


_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_UNITS = (("_m3", "m³"), ("_m", "m"), ("_s", "s"), ("_rad", "rad"), ("_mm", "mm"),
          ("_rad_s", "rad/s"), ("_ratio", ""), ("_gib", "GiB"))


def num(v: Any, unit: str = "", digits: int = 3) -> str:
    """A number for a reader (HTML-safe text): ``digits`` significant digits without float
    noise, ``a × 10ⁿ`` outside [1e-3, 1e5), thousands separators on integers, ``—`` for
    ``None``/NaN, ``∞``, ``yes``/``no`` for booleans, then ``unit``.

    >>> num(3.4560000000000001, "m"), num(9.48e-14), num(12345), num(None), num(0.0, "s")
    ('3.46 m', '9.48 × 10⁻¹⁴', '12,345', '—', '0 s')
    """
    u = f" {unit}" if unit else ""
    if v is None:
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}{u}"
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if math.isnan(x):
            return "—"
        if math.isinf(x):
            return ("∞" if x > 0 else "−∞") + u
        if x == 0:
            return f"0{u}"
        if 1e-3 <= abs(x) < 1e5:
            text = f"{x:.{digits}g}"
            return (text if "e" not in text else f"{x:,.0f}") + u
        mant, exp = f"{x:.{digits - 1}e}".split("e")
        return f"{mant} × 10{str(int(exp)).translate(_SUP)}{u}"
    return str(v) + u


def label(key: str) -> tuple[str, str]:
    """A snake_case key as ``(human label, unit)``: ``"tracking_rms_m"`` ->
    ``("tracking rms", "m")``; the unit comes from the suffix (``_m``, ``_s``, ``_rad``,
    ``_m3``)."""
    for suffix, unit in sorted(_UNITS, key=lambda x: -len(x[0])):
        if key.endswith(suffix):
            return key[: -len(suffix)].replace("_", " "), unit
    return key.replace("_", " "), ""


def fmt(v: Any, unit: str = "") -> str:
    """A table cell (HTML): numbers by :func:`num` with ``unit``, dicts as
    ``key: value, ...``, anything else as its escaped string."""
    if isinstance(v, dict):
        return esc(", ".join(f"{label(str(k))[0]}: {num(x)}" for k, x in v.items()))
    return esc(num(v, unit))


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
