"""Drawing primitives for the SVG diagrams: a scene is layers of rects, paths, circles and texts.

Coordinates are rounded once, here, so output is byte-for-byte deterministic;
the template (``renderers/diagrams/diagram.svg.j2``) only loops over them.
Text widths are estimated from DejaVu Sans-like advance widths (the usual
``sans-serif``), erring wide so labels fit whatever generic font renders them.
"""

from __future__ import annotations

import contextvars
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

FONT_FAMILY = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
INK = "#333333"
FROZEN_FILL = "#F1F1F1"
FROZEN_STROKE = "#8A8A8A"
FRAME_STROKE = "#B5B5B5"
# Okabe–Ito colours (readable for colour-blind viewers): (stroke, light fill) per component.
PALETTE = (
    ("#0072B2", "#D7EAF6"),
    ("#D55E00", "#F9E1D0"),
    ("#009E73", "#D3F0E7"),
    ("#CC79A7", "#F6E4EF"),
    ("#E69F00", "#FBECCB"),
    ("#56B4E9", "#DEF1FB"),
)
LAYERS = ("frames", "connectors", "boxes", "labels")


def fmt(value: float) -> str:
    text = f"{round(value, 1):.1f}"
    text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def colour(index: int) -> tuple[str, str]:
    return PALETTE[index % len(PALETTE)]


# Advance widths (in em) of DejaVu Sans, the usual generic sans-serif, for printable ASCII;
# other characters count as 0.84 em (arrows, operators), a slight overestimate for letters.
_ASCII_WIDTHS = (
    0.32, 0.4, 0.46, 0.84, 0.64, 0.95, 0.78, 0.27, 0.39, 0.39, 0.5, 0.84, 0.32, 0.36, 0.32, 0.34,
    0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.34, 0.34, 0.84, 0.84, 0.84, 0.53,
    1.0, 0.68, 0.69, 0.7, 0.77, 0.63, 0.58, 0.77, 0.75, 0.29, 0.29, 0.66, 0.56, 0.86, 0.75, 0.79,
    0.6, 0.79, 0.69, 0.63, 0.61, 0.73, 0.68, 0.99, 0.69, 0.61, 0.69, 0.39, 0.34, 0.39, 0.84, 0.5,
    0.5, 0.61, 0.63, 0.55, 0.63, 0.62, 0.35, 0.63, 0.63, 0.28, 0.28, 0.58, 0.28, 0.97, 0.63, 0.61,
    0.63, 0.63, 0.41, 0.52, 0.39, 0.63, 0.59, 0.82, 0.59, 0.59, 0.52, 0.64, 0.34, 0.64, 0.84,
)
_OTHER_WIDTHS = {"·": 0.32, "ᵀ": 0.38, "‖": 0.5, "λ": 0.59, "Σ": 0.63, "√": 0.64, "Δ": 0.68, "…": 1.0}


def _char_width(ch: str) -> float:
    code = ord(ch)
    if 32 <= code < 127:
        return _ASCII_WIDTHS[code - 32]
    return _OTHER_WIDTHS.get(ch, 0.84)


# ``W_q``, ``d_h`` and ``P_k^T`` in labels and record formulas are drawn with sub- and
# superscripts; only after a one-letter symbol, so ids such as ``prefix_attn`` stay as written.
_SCRIPT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z])_(\{[^}]*\}|[A-Za-z0-9]+)(?:\^(\{[^}]*\}|[A-Za-z0-9]+))?")
BOLD_SCALE = 1.14  # DejaVu Sans Bold is about an eighth wider than the regular face


@dataclass(frozen=True)
class Style:
    """Font sizes (px) of one kind of figure; the geometry stays the same, so bigger text is more legible."""

    label: float = 11  # part and module names
    small: float = 9.5  # composition labels, captions, legend detail
    node: float = 12  # the symbol in a composition node
    title: float = 15
    script_scale: float = 0.72  # sub- and superscripts
    compact: bool = False  # for papers: no title, key or citation (they go in the caption); module boxes name only
    row_width: float = 1800  # px; a comparison wraps into rows no wider than this


SCREEN = Style()
# Paper figures: text stays at 7 pt or more when the figure is scaled to one column (8.5 cm).
# Comparisons wrap at 1000 px, so at \\textwidth (17.8 cm) their text is no smaller than a single figure's at 8.5 cm.
PAPER = Style(label=19, small=17, node=14, title=19, script_scale=0.82, compact=True, row_width=1000)
_STYLE: contextvars.ContextVar[Style] = contextvars.ContextVar("diagram_style", default=SCREEN)


def style() -> Style:
    return _STYLE.get()


@contextmanager
def using(chosen: Style):
    token = _STYLE.set(chosen)
    try:
        yield chosen
    finally:
        _STYLE.reset(token)


@dataclass(frozen=True)
class Run:
    text: str
    dy: str
    size: str


def runs(text: str, size: float, bold: bool = False) -> tuple[list[tuple[str, int]], float]:
    """Split ``text`` into (piece, shift) runs (shift -1 sub, +1 super) and estimate its width."""
    pieces: list[tuple[str, int]] = []
    position = 0
    for match in _SCRIPT.finditer(text):
        pieces.append((text[position : match.start()] + match.group(1), 0))
        pieces.append((match.group(2).strip("{}"), -1))
        if match.group(3):
            pieces.append((match.group(3).strip("{}"), 1))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], 0))
    pieces = [p for p in pieces if p[0]]
    width = sum(sum(_char_width(c) for c in piece) * size * (_STYLE.get().script_scale if shift else 1.0) for piece, shift in pieces)
    return pieces, width * (BOLD_SCALE if bold else 1.0)


def text_width(text: str, size: float, bold: bool = False) -> float:
    return runs(text, size, bold)[1]


def wrap(text: str, size: float, width: float) -> list[str]:
    """Greedy line breaking at spaces so each line fits ``width``."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(lines[-1] + " " + word, size) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


@dataclass(frozen=True)
class Rect:
    x: str
    y: str
    w: str
    h: str
    rx: str
    fill: str
    stroke: str
    stroke_width: str
    dash: str


@dataclass(frozen=True)
class Path:
    d: str
    stroke: str
    stroke_width: str
    dash: str
    marker: str  # marker id for an arrowhead at the end, or "" for none
    fill: str = "none"


@dataclass(frozen=True)
class Circle:
    cx: str
    cy: str
    r: str
    fill: str
    stroke: str
    stroke_width: str


@dataclass(frozen=True)
class Text:
    x: str
    y: str
    size: str
    anchor: str
    weight: str
    style: str
    fill: str
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Marker:
    id: str
    fill: str


@dataclass
class Layer:
    name: str
    rects: list[Rect] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    circles: list[Circle] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


class Scene:
    """Collects primitives; ``markers`` has one arrowhead per stroke colour used."""

    def __init__(self) -> None:
        self.layers = [Layer(name) for name in LAYERS]
        self._markers: dict[str, Marker] = {}

    def layer(self, name: str) -> Layer:
        return self.layers[LAYERS.index(name)]

    @property
    def markers(self) -> list[Marker]:
        return list(self._markers.values())

    def _marker(self, stroke: str) -> str:
        if stroke not in self._markers:
            self._markers[stroke] = Marker(f"arrow-{stroke.lstrip('#').lower()}", stroke)
        return self._markers[stroke].id

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str = FROZEN_FILL, stroke: str = FROZEN_STROKE, width: float = 1.2, rx: float = 4, dash: str = "", layer: str = "boxes") -> None:
        self.layer(layer).rects.append(Rect(fmt(x), fmt(y), fmt(w), fmt(h), fmt(rx), fill, stroke, fmt(width), dash))

    def path(self, points: list[tuple[float, float]], *, stroke: str = INK, width: float = 1.3, arrow: bool = True, dash: str = "", layer: str = "connectors") -> None:
        d = " ".join(f"{'M' if i == 0 else 'L'}{fmt(x)} {fmt(y)}" for i, (x, y) in enumerate(points))
        self.layer(layer).paths.append(Path(d, stroke, fmt(width), dash, self._marker(stroke) if arrow else ""))

    def circle(self, cx: float, cy: float, r: float, *, fill: str = "#FFFFFF", stroke: str = INK, width: float = 1.3, layer: str = "boxes") -> None:
        self.layer(layer).circles.append(Circle(fmt(cx), fmt(cy), fmt(r), fill, stroke, fmt(width)))

    def text(self, x: float, y: float, text: str, *, size: float = 11, anchor: str = "start", weight: str = "normal", style: str = "normal", fill: str = INK) -> None:
        pieces, estimated = runs(text, size, weight == "bold")
        if len(pieces) > 1 and anchor != "start":
            # Renderers disagree on anchoring text made of several tspans (cairosvg shifts each
            # one), so scripted labels are positioned from their estimated width instead.
            x -= estimated / 2 if anchor == "middle" else estimated
            anchor = "start"
        built: list[Run] = []
        level = 0
        for piece, shift in pieces:
            # dy moves relative to the previous run: go to this run's level from the last one's.
            target = {0: 0.0, -1: 0.28 * size, 1: -0.38 * size}[shift]
            current = {0: 0.0, -1: 0.28 * size, 1: -0.38 * size}[level]
            built.append(Run(piece, fmt(target - current), fmt(size * (_STYLE.get().script_scale if shift else 1.0))))
            level = shift
        self.layer("labels").texts.append(Text(fmt(x), fmt(y), fmt(size), anchor, weight, style, fill, tuple(built)))
