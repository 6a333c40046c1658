"""Figures of reported results, drawn with the diagrams' SVG scene (no plotting library).

Two kinds, one panel per leaderboard (benchmark, metric, data regime), panels stacked:

* :func:`grouped_plot`: each run a dot on the score axis, in one row per value of a
  typology property (insertion form, workspace, composition…), the group's mean a bar;
* :func:`efficiency_plot`: score against the share of tuned parameters (log scale),
  each run a dot labelled with its method.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

from .environment import render_template
from .svgscene import FONT_FAMILY, FRAME_STROKE, INK, Scene, colour, text_width, wrap

WIDTH = 640
MARGIN = 16
AXIS_LABEL = 11
TICK = 10
ROW_H = 22
PLOT_H = 220  # height of a scatter's plotting area


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw), default=10 * power)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _tick_text(value: float) -> str:
    return f"{value:g}"


def _x_axis(scene: Scene, x0: float, x1: float, y: float, ticks: Sequence[float], position, label: str) -> None:
    scene.path([(x0, y), (x1, y)], stroke=INK, width=1, arrow=False)
    for tick in ticks:
        x = position(tick)
        scene.path([(x, y), (x, y + 4)], stroke=INK, width=1, arrow=False)
        scene.text(x, y + 16, _tick_text(tick), size=TICK, anchor="middle")
    scene.text((x0 + x1) / 2, y + 32, label, size=AXIS_LABEL, anchor="middle", fill="#555555")


def _title(scene: Scene, y: float, text: str) -> float:
    """The panel's title, wrapped to the figure's width; returns the y below it."""
    for line in wrap(text, (AXIS_LABEL + 1) * 1.14, WIDTH - 2 * MARGIN):
        scene.text(MARGIN, y + 14, line, size=AXIS_LABEL + 1, weight="bold")
        y += 17
    return y


def _svg(scene: Scene, height: float, title: str) -> str:
    return render_template("svg", "diagrams/diagram.svg.j2", scene=scene, width=WIDTH, height=round(height), title=title, font_family=FONT_FAMILY, description=title)


def grouped_plot(summaries: Iterable, prop_name: str) -> str:
    """Runs per group of ``prop_name``, one panel per leaderboard (from :func:`~peftref_kb.graph.evidence.group_summaries`)."""
    scene = Scene()
    y = MARGIN
    summaries = list(summaries)
    # One colour per group value across every panel.
    names = list(dict.fromkeys(g.label for summary in summaries for g in summary.groups))
    for summary in summaries:
        board = summary.board
        labels = [g.label for g in summary.groups]
        left = MARGIN + max(text_width(label, AXIS_LABEL) for label in labels) + 12
        right = WIDTH - MARGIN - 12
        values = [e.first.result.value for g in summary.groups for e in g.entries]
        ticks = nice_ticks(min(values), max(values))
        span = (ticks[-1] - ticks[0]) or 1.0

        def position(v: float, left=left, right=right, ticks=ticks, span=span) -> float:
            return left + (v - ticks[0]) / span * (right - left)

        top = _title(scene, y, f"{board.title} — by {summary.property}") + 11
        for row, group in enumerate(summary.groups):
            cy = top + row * ROW_H + ROW_H / 2
            stroke, fill = colour(names.index(group.label))
            scene.text(left - 8, cy + 4, group.label, size=AXIS_LABEL, anchor="end")
            scene.path([(left, cy), (right, cy)], stroke="#EEEEEE", width=1, arrow=False, layer="frames")
            for entry in group.entries:
                scene.circle(position(entry.first.result.value), cy, 4, fill=fill, stroke=stroke, width=1.4)
            mean = position(group.mean)
            scene.path([(mean, cy - 8), (mean, cy + 8)], stroke=stroke, width=2.4, arrow=False)
        bottom = top + len(summary.groups) * ROW_H + 6
        better = "lower is better" if board.lower_is_better else "higher is better"
        _x_axis(scene, left, right, bottom, ticks, position, f"{board.metric} ({board.unit}; {better}) · dots: runs · bar: group mean")
        y = bottom + 48
    return _svg(scene, y, f"Reported results by {prop_name}")


def efficiency_plot(boards: Iterable) -> str:
    """Score against % tuned parameters (log scale) per leaderboard (from :func:`~peftref_kb.graph.evidence.leaderboards`)."""
    scene = Scene()
    y = MARGIN
    for board in boards:
        runs = [e.first.result for e in board.entries if e.first.result.tuned_percent]
        if not runs:
            continue
        left, right = MARGIN + 44, WIDTH - MARGIN - 12
        scores = nice_ticks(min(r.value for r in runs), max(r.value for r in runs), 4)
        low = math.floor(math.log10(min(r.tuned_percent for r in runs)))
        high = math.ceil(math.log10(max(r.tuned_percent for r in runs)))
        high = max(high, low + 1)
        top = _title(scene, y, board.title) + 11
        bottom = top + PLOT_H

        def px(percent: float, left=left, right=right, low=low, high=high) -> float:
            return left + (math.log10(percent) - low) / (high - low) * (right - left)

        def py(value: float, top=top, bottom=bottom, scores=scores) -> float:
            return bottom - (value - scores[0]) / ((scores[-1] - scores[0]) or 1.0) * (bottom - top)

        scene.rect(left, top, right - left, bottom - top, fill="none", stroke=FRAME_STROKE, width=1, rx=0, layer="frames")
        for score in scores:
            scene.path([(left - 4, py(score)), (left, py(score))], stroke=INK, width=1, arrow=False)
            scene.text(left - 7, py(score) + 3.5, _tick_text(score), size=TICK, anchor="end")
        _x_axis(scene, left, right, bottom, [10.0**k for k in range(low, high + 1)], px, "% of parameters tuned (log scale)")
        scene.text(left - 38, top - 6, f"{board.metric} ({board.unit})", size=TICK, fill="#555555")
        methods = sorted({r.method for r in runs})
        placed: list[tuple[float, float, float, float]] = []
        for r in sorted(runs, key=lambda r: (r.tuned_percent, r.value)):
            stroke, fill = colour(methods.index(r.method))
            x, cy = px(r.tuned_percent), py(r.value)
            scene.circle(x, cy, 4, fill=fill, stroke=stroke, width=1.4)
            label = r.label
            w = text_width(label, TICK)
            lx = x + 7 if x + 7 + w <= right else x - 7 - w
            box = (lx, cy - 7, lx + w, cy + 3)
            if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                continue  # a label that would overlap an earlier one is left out; the dot stays
            placed.append(box)
            scene.text(lx, cy + 3, label, size=TICK, fill=stroke)
        y = bottom + 48
    return _svg(scene, y, "Reported score against parameter efficiency")
