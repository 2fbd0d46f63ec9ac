"""Small inline SVG bar charts (no library, no CDN). Right-to-left pages get the series reversed, so time runs
the way the page reads; the labels stay upright."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD, LABEL = 600, 160, 4, 18


def bar_chart(points: Sequence[tuple[str, float]], *, title: str, rtl: bool = False, limit: float | None = None,
              unit: str = "") -> SafeString:
    """Bars for (label, value) points; an optional dashed line at `limit` (the plan's allowance)."""
    points = list(reversed(points)) if rtl else list(points)
    top = max([value for _label, value in points] + [limit or 0, 1])
    n = max(1, len(points))
    step = WIDTH / n
    plot = HEIGHT - LABEL
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
             f'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    every = max(1, n // 8)
    for index, (label, value) in enumerate(points):
        height = 0 if value <= 0 else max(1.0, plot * value / top)
        x = index * step + PAD / 2
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{plot - height:.1f}" width="{max(1.0, step - PAD):.1f}" '
                     f'height="{height:.1f}"><title>{escape(label)}: {value:g}{escape(unit)}</title></rect>')
        if index % every == 0 or index == n - 1:
            parts.append(f'<text x="{x + (step - PAD) / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle">'
                         f'{escape(label)}</text>')
    if limit:
        y = plot - plot * limit / top
        parts.append(f'<line class="limit" x1="0" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped or a number
