"""Small server-side SVG charts (no JavaScript, no library): one line per node over a time window.

The SVG carries no inline script or style attribute, so the page's CSP stays strict; colours come
from CSS classes ``series-0`` .. ``series-7`` in ``panel.css``. Its own words (the time axis, "no
samples") are in the reader's language; the caller translates the title and the unit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from html import escape

import attrs

from vectobeat_adapters.i18n import gettext as _

__all__ = ["NodeHistory", "Sample", "line_chart"]

WIDTH = 640
HEIGHT = 180
PAD_LEFT = 48
PAD_RIGHT = 12
PAD_TOP = 12
PAD_BOTTOM = 24


@attrs.frozen
class Sample:
    """One observation of a node: players on it and the probe latency (``None`` when it failed)."""

    at: float
    players: int
    latency_ms: float | None


class NodeHistory:
    """The last ``window`` seconds of samples per node, kept in this panel process."""

    def __init__(self, window: float = 3600.0, max_points: int = 720) -> None:
        self.window = window
        self._max = max_points
        self._series: dict[str, deque[Sample]] = {}

    def record(self, node: str, sample: Sample) -> None:
        series = self._series.setdefault(node, deque(maxlen=self._max))
        if series and series[-1].at >= sample.at:
            return
        series.append(sample)

    def series(self, now: float) -> dict[str, list[Sample]]:
        start = now - self.window
        out: dict[str, list[Sample]] = {}
        for node, samples in sorted(self._series.items()):
            while samples and samples[0].at < start:
                samples.popleft()
            if samples:
                out[node] = list(samples)
        return out


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return float(factor * step)
    return value


def line_chart(
    title: str,
    series: Mapping[str, Sequence[tuple[float, float | None]]],
    *,
    start: float,
    end: float,
    unit: str,
    unit_one: str | None = None,
) -> str:
    """An accessible SVG line chart of ``series`` (name -> [(time, value or gap)]) over start..end.

    The axis reads ``<top> <unit>`` (``unit_one`` when the top is 1: "1 player", "2 players").
    """
    values = [v for points in series.values() for _, v in points if v is not None]
    top = _nice_max(max(values, default=0.0))
    span = max(end - start, 1e-9)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(t: float) -> float:
        return PAD_LEFT + (min(max(t, start), end) - start) / span * plot_w

    def y(v: float) -> float:
        return PAD_TOP + plot_h - (v / top) * plot_h

    earliest = _("-{minutes} min").format(minutes=f"{span / 60:.0f}")
    now = _("now")
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" '
        f'x2="{WIDTH - PAD_RIGHT}" y2="{PAD_TOP + plot_h}"/>',
        f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" y2="{PAD_TOP + plot_h}"/>',
        f'<text class="tick" x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" text-anchor="end">'
        f"{top:g} {escape(unit_one or unit) if top == 1 else escape(unit)}</text>",
        f'<text class="tick" x="{PAD_LEFT - 6}" y="{PAD_TOP + plot_h}" text-anchor="end">0</text>',
        f'<text class="tick" x="{PAD_LEFT}" y="{HEIGHT - 6}">{escape(earliest)}</text>',
        f'<text class="tick" x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'
        f"{escape(now)}</text>",
    ]
    for index, (name, points) in enumerate(sorted(series.items())):
        css = f"series-{index % 8}"
        segments: list[list[str]] = [[]]
        for t, v in points:
            if v is None:
                segments.append([])
                continue
            segments[-1].append(f"{x(t):.1f},{y(v):.1f}")
        for segment in segments:
            if len(segment) == 1:
                cx, cy = segment[0].split(",")
                parts.append(f'<circle class="{css}" cx="{cx}" cy="{cy}" r="2"/>')
            elif segment:
                parts.append(f'<polyline class="{css}" points="{" ".join(segment)}"/>')
        parts.append(
            f'<text class="legend {css}" x="{PAD_LEFT + 8 + 120 * index}" y="{PAD_TOP + 12}">'
            f"{escape(name)}</text>"
        )
    if not values:
        empty = _("no samples in this window yet")
        parts.append(
            f'<text class="tick" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
            f"{escape(empty)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
