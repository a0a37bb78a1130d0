"""Small SVG charts in plain Python (no matplotlib on the CI image): grouped bars, one group per
category, one bar per series, with a value label on every bar. Enough for the benchmark's figures,
and the output is deterministic text, so docs/benchmarks.md diffs stay readable.
"""
from __future__ import annotations

from html import escape

PALETTE = ["#3b6ea5", "#e07b39", "#5a9e4b", "#b84a62", "#7d5ba6", "#8c8c8c"]


def _nice_max(v: float) -> float:
    """The smallest 1/2/5 x 10^k at or above v, so the axis ends on a round figure."""
    if v <= 0:
        return 1.0
    k = 1.0
    while k * 10 <= v:
        k *= 10
    while k > v:
        k /= 10
    for m in (1, 2, 5, 10):
        if m * k >= v:
            return m * k
    return 10 * k


def _fmt(v: float) -> str:
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def bar_chart(title: str, unit: str, categories: list[str],
              series: list[tuple[str, list[float | None]]],
              width: int = 720, height: int = 320) -> str:
    """Returns an SVG document. `series` is [(name, one value per category or None for no bar)]."""
    left, right, top, bottom = 60, 10, 30, 64
    pw, ph = width - left - right, height - top - bottom
    vals = [v for _, vs in series for v in vs if v is not None]
    vmax = _nice_max(max(vals) if vals else 1.0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="13">{escape(title)}</text>']
    for i in range(5):  # horizontal grid lines with their values
        v = vmax * i / 4
        y = top + ph - ph * i / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    out.append(f'<text x="12" y="{top + ph / 2}" transform="rotate(-90 12 {top + ph / 2})" '
               f'text-anchor="middle">{escape(unit)}</text>')
    ncat, nser = max(len(categories), 1), max(len(series), 1)
    gw = pw / ncat
    bw = gw * 0.8 / nser
    for ci, cat in enumerate(categories):
        gx = left + ci * gw + gw * 0.1
        out.append(f'<text x="{left + ci * gw + gw / 2:.1f}" y="{top + ph + 14}" '
                   f'text-anchor="middle">{escape(cat)}</text>')
        for si, (_, vs) in enumerate(series):
            v = vs[ci] if ci < len(vs) else None
            if v is None:
                continue
            h = ph * min(v / vmax, 1.0)
            x, y = gx + si * bw, top + ph - h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw * 0.92:.1f}" height="{h:.1f}" '
                       f'fill="{PALETTE[si % len(PALETTE)]}"/>')
            out.append(f'<text x="{x + bw * 0.46:.1f}" y="{y - 2:.1f}" text-anchor="middle" '
                       f'font-size="9">{_fmt(v)}</text>')
    lx, ly = left, height - 38
    for si, (name, _) in enumerate(series):  # legend under the axis, wrapped to a second row
        w = 24 + 6 * len(name)
        if lx + w > width and lx > left:
            lx, ly = left, ly + 16
        out.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" '
                   f'fill="{PALETTE[si % len(PALETTE)]}"/>')
        out.append(f'<text x="{lx + 14}" y="{ly + 9}">{escape(name)}</text>')
        lx += w
    out.append("</svg>")
    return "\n".join(out) + "\n"
