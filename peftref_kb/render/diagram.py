"""SVG diagrams: a method's components drawn where they act in the reference Transformer layer.

The picture is laid out bottom-up along a vertical axis (the residual stream):
input tokens, embedding, then one Transformer layer (self-attention with
W_q/W_k/W_v/W_o, add & norm, [cross-attention, add & norm,] FFN in/out,
add & norm).  Every drawable part is an :class:`~.architecture.Anchor`; the
components' positions select anchors and their insertion form and composition
choose a drawing (:data:`~.architecture.DRAWING_RULES`):

* sequential modules sit in the residual path after the part they adapt;
* parallel modules sit beside the part they bypass, read its input and join
  its output at a node labelled with the composition function;
* soft prompts and prefixes are extra sequence positions concatenated at a node;
* rescaling vectors multiply the output at a ⊙ node;
* selective updates (``params.*``) highlight existing weights (biases get a badge).

Layout items measure themselves (extent left/right of the axis and height)
before they are placed, so decorations push neighbours apart instead of
overlapping them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..schema.models import Component, Method
from ..schema.vocabulary import SEED_DOCUMENTS, VOCABULARIES
from .architecture import ATTENTION_KINDS, HIGHLIGHT_STYLES, PROJECTIONS, Anchor, anchors, drawing_for, needs_cross_attention, targets
from .environment import render_template
from .svgscene import FONT_FAMILY, FRAME_STROKE, FROZEN_FILL, FROZEN_STROKE, INK, PAPER, SCREEN, Scene, colour, style, text_width, using, wrap

GAP = 22  # vertical gap between stacked items (an arrow)
BOX_H = 28
NODE_R = 9
NODE_ROW = 34
MODULE_H = 36
LANE_GAP = 16
COLUMN_GAP = 18
PAD = 10
FRAME_TITLE = 17
BUS = 16
NORM_W = 110
# Dots where a line branches off the axis sit clear of the arrowhead that ends at the part above
# (ARROW_LENGTH long) and of each other.
ARROW_LENGTH = 7 * 1.3  # markerWidth × stroke width
RESIDUAL_TAP = 16  # how far below a sub-layer the residual connection branches off
PARALLEL_TAP = 12.5  # … and the input of parallel modules beside a box (inside a frame's bottom padding for frames)
COMPACT_ID_MAX = 8  # characters; longer component ids are lettered in paper figures
MARGIN = 24
MARGIN_COMPACT = 8
TOP_COMPACT = 12
LEGEND_INDENT = 28
TEXT_WIDTH = 560  # citation lines wrap here
MODULE_TEXT_MAX = 26  # longer formulas are replaced by their category label in module boxes

# Symbols drawn in composition nodes, by drawing; additions share ⊕.
NODE_SYMBOLS = {"parallel": "+", "rescale": "•", "prepended": "‖"}  # inside a circle: ⊕, ⊙, concatenation
DRAWN_COMPOSITION = {"prepended": "concatenation"}
NODE_ORDER = {"parallel": 0, "rescale": 1, "prepended": 1, "sequential": 2, "unknown": 2}


@dataclass
class Decoration:
    index: int  # the component's colour index
    component: Component
    drawing: str
    single: bool = False  # the method has this one component

    @property
    def stroke(self) -> str:
        return colour(self.index)[0]

    @property
    def fill(self) -> str:
        return colour(self.index)[1]

    @property
    def node_caption(self) -> str:
        """Beside a concatenation or rescaling node: whose it is and the composition (a paper figure of a
        one-component method leaves out whose: the colour and the legend say it)."""
        if style().compact:
            return self.composition if self.single else f"{self.tag}: {self.composition}"
        return f"{self.component.id}: {self.composition}"

    @property
    def tag(self) -> str:
        """The module's name in a paper figure: its id, or a letter the legend explains when the id is long."""
        return self.component.id if len(self.component.id) <= COMPACT_ID_MAX else chr(ord("A") + self.index)

    @property
    def composition(self) -> str:
        """The composition drawn at this decoration's node: the record's, unless the drawing is itself one
        (prepended vectors are concatenated, whatever equivalent form the unified view gives them)."""
        value = DRAWN_COMPOSITION.get(self.drawing, self.component.unified_view.composition.value)
        return VOCABULARIES["composition"].term(value).label

    @property
    def module_lines(self) -> tuple[str, str]:
        if style().compact:
            return self.tag, ""
        form = self.component.unified_view.functional_form.value
        detail = form.formula if len(form.formula) <= MODULE_TEXT_MAX else VOCABULARIES["functional_form"].term(form.category).label
        if len(detail) > MODULE_TEXT_MAX + 6:
            detail = detail[: MODULE_TEXT_MAX + 5] + "…"
        return self.component.id, detail

    @property
    def module_width(self) -> float:
        first, second = self.module_lines
        return max(48.0 if style().compact else 84.0, text_width(first, style().label, bold=True) + 16, text_width(second, style().small) + 16)


@dataclass
class Context:
    """What the components do to each anchor."""

    parts: dict[str, Anchor]
    decorations: dict[str, list[Decoration]] = field(default_factory=dict)
    highlights: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    @classmethod
    def for_components(cls, components: list[Component]) -> "Context":
        context = cls(anchors(needs_cross_attention(components)))
        seen: set[tuple[int, str, str]] = set()
        for index, component in enumerate(components):
            for position in component.positions.value:
                drawing = drawing_for(component, position)
                for anchor in targets(position, drawing, context.parts):
                    if (index, anchor.key, drawing) in seen:
                        continue
                    seen.add((index, anchor.key, drawing))
                    if drawing == "highlight":
                        context.highlights.setdefault(anchor.key, []).append((index, HIGHLIGHT_STYLES.get(position, "fill")))
                    else:
                        context.decorations.setdefault(anchor.key, []).append(Decoration(index, component, drawing, single=len(components) == 1))
        for key, items in context.decorations.items():
            items.sort(key=lambda d: (NODE_ORDER.get(d.drawing, 3), d.index))
        return context


@dataclass(frozen=True)
class Extent:
    left: float
    right: float
    height: float


def draw_part(scene: Scene, context: Context, key: str, x: float, y: float, w: float, h: float, *, rx: float = 4, frame: bool = False) -> None:
    """An existing part of the model: grey when frozen, in the component's colour when updated."""
    marks = context.highlights.get(key, [])
    fills = [i for i, style in marks if style == "fill"]
    if frame:
        fill, stroke, width, dash = ("none", FRAME_STROKE, 1.0, "4 3")
    else:
        fill, stroke, width, dash = (FROZEN_FILL, FROZEN_STROKE, 1.2, "")
    if fills:
        fill = colour(fills[0])[1] if not frame else fill
        stroke, width, dash = colour(fills[0])[0], 2.4, ""
    scene.rect(x, y, w, h, fill=fill, stroke=stroke, width=width, rx=rx, dash=dash, layer="frames" if frame else "boxes")
    for ring, index in enumerate(fills[1:], start=1):  # further components updating the same part: outer rings
        scene.rect(x - 3 * ring, y - 3 * ring, w + 6 * ring, h + 6 * ring, fill="none", stroke=colour(index)[0], width=1.8, rx=rx + 2, layer="boxes")
    for slot, index in enumerate(i for i, style in marks if style == "bias"):
        bx = x + w - 8 - 16 * slot
        scene.rect(bx - 7, y - 7, 16, 13, fill=colour(index)[0], stroke=colour(index)[0], width=1, rx=3)
        scene.text(bx + 1, y + 3, "b", size=style().small, anchor="middle", weight="bold", fill="#FFFFFF")


def _centre(size: float) -> float:
    """Baseline offset that centres a line of ``size`` px text on a y coordinate."""
    return round(size * 0.36, 1)


class Item:
    def extent(self) -> Extent:
        raise NotImplementedError

    def hidden_taps(self) -> list[float]:
        """After placing: heights where the layer's hidden states can be read (side networks)."""
        return []

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        raise NotImplementedError


class PartBox(Item):
    """A frozen (or selected) part drawn as a box on the axis."""

    def __init__(self, context: Context, key: str, label: str | None = None, width: float | None = None, height: float = BOX_H):
        self.context, self.key = context, key
        self.label = label if label is not None else context.parts[key].label
        self.width = max(width or 70.0, text_width(self.label, style().label) + 22)
        self.height = height

    def extent(self) -> Extent:
        return Extent(self.width / 2, self.width / 2, self.height)

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        draw_part(scene, self.context, self.key, ax - self.width / 2, bottom - self.height, self.width, self.height)
        scene.text(ax, bottom - self.height / 2 + _centre(style().label), self.label, size=style().label, anchor="middle")


class SpanBox(Item):
    """A box spanning given distances left and right of the axis (attention heads)."""

    def __init__(self, context: Context, key: str, left: float, right: float):
        self.context, self.key, self.left, self.right = context, key, left, right

    def extent(self) -> Extent:
        return Extent(self.left, self.right, BOX_H)

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        x = ax - self.left
        w = self.left + self.right
        draw_part(scene, self.context, self.key, x, bottom - BOX_H, w, BOX_H)
        scene.text(x + w / 2, bottom - BOX_H / 2 + _centre(style().label), self.context.parts[self.key].label, size=style().label, anchor="middle")


class Frame(Item):
    """A titled dashed frame around an item (a sub-layer or the whole layer)."""

    def __init__(self, context: Context, key: str, inner: Item, title: str, bottom_pad: float = PAD):
        self.context, self.key, self.inner, self.title, self.bottom_pad = context, key, inner, title, bottom_pad

    def extent(self) -> Extent:
        e = self.inner.extent()
        title = text_width(self.title, style().small, bold=True) + 2 * PAD + 10
        return Extent(max(e.left + PAD, title), e.right + PAD, e.height + PAD + self.bottom_pad + FRAME_TITLE)

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        e = self.extent()
        inner = self.inner.extent()
        top = bottom - e.height
        draw_part(scene, self.context, self.key, ax - e.left, top, e.left + e.right, e.height, rx=8, frame=True)
        scene.text(ax - e.left + PAD, top + FRAME_TITLE - 3, self.title, size=style().small, weight="bold", fill="#555555")
        inner_bottom = bottom - self.bottom_pad
        scene.path([(ax, bottom), (ax, inner_bottom)], arrow=False)
        self.inner.place(scene, ax, inner_bottom)
        scene.path([(ax, inner_bottom - inner.height), (ax, top)], arrow=False)

    def hidden_taps(self) -> list[float]:
        return self.inner.hidden_taps()


class Unit(Item):
    """A part plus what the components attach to it: modules beside it, nodes and modules above it."""

    def __init__(self, context: Context, key: str, core: Item, tap: float | None = None):
        self.context, self.key, self.core = context, key, core
        self.tap = tap  # distance below the unit's bottom of the line that feeds parallel modules
        self.decorations = context.decorations.get(key, [])

    # layout of decorations, relative to the axis and to the core's top
    def _plan(self):
        core = self.core.extent()
        side = core.right + LANE_GAP
        label_right = 0.0
        right = core.right
        left = core.left
        rows: list[tuple[Decoration, float, float]] = []  # (decoration, row height, x of its side element)
        for deco in self.decorations:
            if deco.drawing == "parallel" or deco.drawing == "side-network":
                x = max(side, label_right + LANE_GAP)
                width = deco.module_width if deco.drawing == "parallel" else max(deco.module_width, 110.0)
                label = NODE_R + 6 + text_width(deco.composition, style().small)
                rows.append((deco, NODE_ROW if deco.drawing == "parallel" else 0.0, x))
                side = x + width + LANE_GAP
                label_right = max(label_right, label)
                right = max(right, x + width, label)
            elif deco.drawing in ("rescale", "prepended"):
                x = NODE_R + 14
                element = 40.0 if deco.drawing == "rescale" else 4 * 11.0
                caption = deco.node_caption
                rows.append((deco, NODE_ROW, x))
                right = max(right, x + element + 6 + text_width(caption, style().small))
            else:  # sequential or unknown: a module box in the residual path
                width = deco.module_width
                rows.append((deco, GAP + MODULE_H, 0.0))
                left = max(left, width / 2)
                label = deco.composition if deco.drawing == "sequential" else f"{deco.composition} (insertion form unknown)"
                right = max(right, width / 2 + 8 + text_width(label, style().small))
        return core, rows, left, right

    def extent(self) -> Extent:
        core, rows, left, right = self._plan()
        return Extent(left, right, core.height + sum(h for _, h, _ in rows))

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        core, rows, _, _ = self._plan()
        self.core.place(scene, ax, bottom)
        y = bottom - core.height
        if self.tap is not None:
            tap = self.tap
        elif isinstance(self.core, Frame):
            tap = -self.core.bottom_pad / 2
        else:
            tap = PARALLEL_TAP
        tap_y = bottom + tap
        for deco, height, x in rows:
            stroke = deco.stroke
            if deco.drawing in ("parallel", "side-network"):
                width = deco.module_width if deco.drawing == "parallel" else max(deco.module_width, 110.0)
                box_h = MODULE_H if deco.drawing == "parallel" else core.height
                box_bottom = bottom - max(0.0, (core.height - box_h) / 2)
                cx = ax + x + width / 2
                scene.circle(ax, tap_y, 2.6, fill=stroke, stroke=stroke, width=1)
                scene.path([(ax, tap_y), (cx, tap_y), (cx, box_bottom)], stroke=stroke)
                self._module(scene, deco, ax + x, box_bottom - box_h, width, box_h)
                if deco.drawing == "side-network":
                    # the side network reads the layer's hidden states (the outputs of its add & norms)
                    for n, tap in enumerate(self.core.hidden_taps()):
                        scene.path([(ax + NORM_W / 2, tap), (ax + x - 1, tap)], stroke=stroke, dash="4 3")
                        if n == 0:
                            scene.text(ax + NORM_W / 2 + 6, tap - 5 - _centre(style().small), "hidden states", size=style().small, fill=stroke, style="italic")
                    scene.path([(cx, box_bottom - box_h), (cx, box_bottom - box_h - GAP)], stroke=stroke)
                    scene.text(cx, box_bottom - box_h - GAP - 4, "side output", size=style().small, anchor="middle", fill=stroke)
                    continue
                cy = y - height + NODE_R
                scene.path([(cx, box_bottom - box_h), (cx, cy), (ax + NODE_R + 1, cy)], stroke=stroke)
                self._node(scene, deco, ax, y, cy)
                scene.text(ax + NODE_R + 5, cy - 3 - _centre(style().small) * 1.1, deco.composition, size=style().small, fill=stroke)
            elif deco.drawing in ("rescale", "prepended"):
                cy = y - height + NODE_R
                ex = ax + x
                if deco.drawing == "rescale":
                    scene.rect(ex, cy - 7, 40, 14, fill=deco.fill, stroke=stroke, width=1.6, rx=2)
                    scene.text(ex + 20, cy + _centre(style().small), "l", size=style().small, anchor="middle", style="italic", fill=stroke)
                    element = 40.0
                else:  # prepended vectors: a few coloured sequence positions
                    for i in range(4):
                        scene.rect(ex + 11 * i, cy - 5, 9, 10, fill=deco.fill, stroke=stroke, width=1.4, rx=1)
                    element = 4 * 11.0 - 2
                scene.path([(ex - 1, cy), (ax + NODE_R + 1, cy)], stroke=stroke)
                self._node(scene, deco, ax, y, cy)
                scene.text(ex + element + 6, cy + _centre(style().small), deco.node_caption, size=style().small, fill=stroke)
            else:
                top = y - GAP - MODULE_H
                width = deco.module_width
                scene.path([(ax, y), (ax, top + MODULE_H)])
                self._module(scene, deco, ax - width / 2, top, width, MODULE_H, dashed=deco.drawing != "sequential")
                label = deco.composition if deco.drawing == "sequential" else f"{deco.composition} (insertion form unknown)"
                scene.text(ax + width / 2 + 8, top + MODULE_H / 2 + _centre(style().small), label, size=style().small, fill=stroke)
            y -= height

    def _node(self, scene: Scene, deco: Decoration, ax: float, below: float, cy: float) -> None:
        scene.path([(ax, below), (ax, cy + NODE_R)])
        scene.circle(ax, cy, NODE_R, fill="#FFFFFF", stroke=deco.stroke, width=1.8)
        scene.text(ax, cy + _centre(style().node), NODE_SYMBOLS[deco.drawing], size=style().node, anchor="middle", weight="bold", fill=deco.stroke)

    def _module(self, scene: Scene, deco: Decoration, x: float, y: float, w: float, h: float, *, dashed: bool = False) -> None:
        scene.rect(x, y, w, h, fill=deco.fill, stroke=deco.stroke, width=2, rx=6, dash="5 3" if dashed else "")
        first, second = deco.module_lines
        middle = y + h / 2
        if not second:  # paper figures name the module only
            scene.text(x + w / 2, middle + _centre(style().label), first, size=style().label, anchor="middle", weight="bold", fill=deco.stroke)
            return
        scene.text(x + w / 2, middle - 2, first, size=style().label, anchor="middle", weight="bold", fill=deco.stroke)
        scene.text(x + w / 2, middle + 11, second, size=style().small, anchor="middle", fill=INK)


class Stack(Item):
    """Items stacked bottom-up along the axis, joined by arrows."""

    def __init__(self, items: list[Item], gap: float = GAP):
        self.items, self.gap = items, gap
        self.bottoms: list[float] = []

    def extent(self) -> Extent:
        extents = [i.extent() for i in self.items]
        return Extent(max(e.left for e in extents), max(e.right for e in extents), sum(e.height for e in extents) + self.gap * (len(extents) - 1))

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        self.bottoms = []
        y = bottom
        for n, item in enumerate(self.items):
            if n:
                scene.path([(ax, y), (ax, y - self.gap)])
                y -= self.gap
            self.bottoms.append(y)
            item.place(scene, ax, y)
            y -= item.extent().height


class Attention(Item):
    """W_q, W_k, W_v side by side, the attention heads, then W_o.  In cross-attention K and V read the encoder."""

    def __init__(self, context: Context, kind: str):
        self.context, self.kind = context, kind
        self.columns = [Unit(context, f"{kind}.{part}", PartBox(context, f"{kind}.{part}", width=58), tap=BUS - 5) for part, _ in PROJECTIONS]
        self.cross = kind == "cross_attn"
        # The residual stream enters at Q in cross-attention (K, V come from the encoder), else at K (the middle).
        self.axis_column = 0 if self.cross else 1
        self.output = Unit(context, f"{kind}.o", PartBox(context, f"{kind}.o", width=58))

    def _columns(self) -> tuple[list[float], list[Extent]]:
        extents = [c.extent() for c in self.columns]
        xs = [0.0]
        for previous, current in zip(extents, extents[1:]):
            xs.append(xs[-1] + previous.right + COLUMN_GAP + current.left)
        shift = xs[self.axis_column]
        return [x - shift for x in xs], extents

    def _heads(self) -> SpanBox:
        xs, _ = self._columns()
        half = 29
        label = text_width(self.context.parts[f"{self.kind}.heads"].label, style().label) + 20
        left, right = -(xs[0] - half), xs[-1] + half
        if left + right < label:
            grow = (label - left - right) / 2
            left, right = left + grow, right + grow
        return SpanBox(self.context, f"{self.kind}.heads", left, right)

    def extent(self) -> Extent:
        xs, extents = self._columns()
        heads = self._heads().extent()
        out = self.output.extent()
        left = max([heads.left, out.left] + [e.left - x for x, e in zip(xs, extents)])
        right = max([heads.right, out.right] + [x + e.right for x, e in zip(xs, extents)])
        if self.cross:
            right = max(right, xs[-1] + 40 + text_width("encoder output", style().small))
        height = BUS + max(e.height for e in extents) + GAP + BOX_H + GAP + out.height
        return Extent(left, right, height)

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        xs, extents = self._columns()
        bus_y = bottom - 5
        column_bottom = bottom - BUS
        from_stream = [0] if self.cross else [0, 1, 2]
        stream_xs = [ax + xs[i] for i in from_stream] + [ax]
        scene.path([(min(stream_xs), bus_y), (max(stream_xs), bus_y)], arrow=False)
        if self.cross:  # keys and values are computed from the encoder's output
            enc_y = bus_y - 5
            right = ax + xs[-1] + 40
            scene.path([(right, bottom + PAD + 12), (right, enc_y), (ax + xs[1], enc_y)], arrow=False, stroke="#666666")
            scene.text(right + 5, bottom + PAD + 12, "encoder output", size=style().small, fill="#666666")
        for i, (column, x) in enumerate(zip(self.columns, xs)):
            feed_y = bus_y if i in from_stream else bus_y - 5
            column.tap = feed_y - column_bottom
            scene.path([(ax + x, feed_y), (ax + x, column_bottom)])
            column.place(scene, ax + x, column_bottom)
        heads_bottom = column_bottom - max(e.height for e in extents) - GAP
        for x, e in zip(xs, extents):
            scene.path([(ax + x, column_bottom - e.height), (ax + x, heads_bottom)])
        self._heads().place(scene, ax, heads_bottom)
        out_bottom = heads_bottom - BOX_H - GAP
        scene.path([(ax, heads_bottom - BOX_H), (ax, out_bottom)])
        self.output.place(scene, ax, out_bottom)


class AddNorm(Item):
    """Add & Norm, fed by the residual connection from below the sub-layer."""

    def __init__(self, context: Context, key: str):
        self.box = Unit(context, key, PartBox(context, key, width=NORM_W))

    @property
    def width(self) -> float:
        return self.box.core.width

    def extent(self) -> Extent:
        return self.box.extent()

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        self.box.place(scene, ax, bottom)


class Layer(Item):
    """One Transformer layer: sub-layers with residual connections, in a frame."""

    def __init__(self, context: Context):
        self.context = context
        sublayers = [k for k in ATTENTION_KINDS if k in context.parts]
        items: list[Item] = []
        self.pairs: list[tuple[int, int]] = []  # (sub-layer item, its add & norm item)
        for kind in sublayers:
            items.append(Unit(context, kind, Frame(context, kind, Attention(context, kind), ATTENTION_KINDS[kind])))
            items.append(AddNorm(context, f"{kind}.norm"))
            self.pairs.append((len(items) - 2, len(items) - 1))
        ffn = Stack([Unit(context, key, PartBox(context, key, width=120 if key != "ffn.hidden" else 96)) for key in ("ffn.in", "ffn.hidden", "ffn.out")], gap=GAP - 6)
        items.append(Unit(context, "ffn", Frame(context, "ffn", ffn, "Feed-forward network (FFN)")))
        items.append(AddNorm(context, "ffn.norm"))
        self.pairs.append((len(items) - 2, len(items) - 1))
        self.stack = Stack(items)

    def extent(self) -> Extent:
        e = self.stack.extent()
        return Extent(e.left + 20, e.right, e.height)

    def hidden_taps(self) -> list[float]:
        return [self.stack.bottoms[norm] - BOX_H / 2 for _, norm in self.pairs]

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        self.stack.place(scene, ax, bottom)
        e = self.stack.extent()
        lane = ax - e.left - 14
        for n, (sub, norm) in enumerate(self.pairs):
            start = self.stack.bottoms[sub] + RESIDUAL_TAP
            target = self.stack.bottoms[norm] - BOX_H / 2
            scene.circle(ax, start, 2.6, fill=INK, stroke=INK, width=1)
            scene.path([(ax, start), (lane, start), (lane, target), (ax - self.stack.items[norm].width / 2, target)], stroke="#777777")
            if n == 0:
                scene.text(lane + 6, target - 5, "residual", size=style().small, fill="#777777", style="italic")


class Output(Item):
    """Where the layer's output goes."""

    TEXT = "to the next layer / output head"

    @property
    def text(self) -> str:
        return "next layer" if style().compact else self.TEXT

    def extent(self) -> Extent:
        return Extent(4, 8 + text_width(self.text, style().small), 12)

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        scene.text(ax + 8, bottom - 2, self.text, size=style().small, style="italic", fill="#666666")


class Tokens(Item):
    """The input sequence x_1 … x_n."""

    def extent(self) -> Extent:
        return Extent(4 * 16, 4 * 16 + (0 if style().compact else 8 + text_width("input tokens", style().small)), 18)

    def place(self, scene: Scene, ax: float, bottom: float) -> None:
        for i, name in enumerate(("x_1", "x_2", "…", "x_n")):
            x = ax - 60 + 30 * i
            scene.rect(x, bottom - 18, 24, 18, rx=2)
            scene.text(x + 12, bottom - 5, name, size=style().small, anchor="middle")
        if not style().compact:  # the x_i say it
            scene.text(ax + 66, bottom - 5, "input tokens", size=style().small, style="italic", fill="#666666")


@dataclass
class Panel:
    """One method's picture: the layer, legend and citation, measured before drawing."""

    method: Method
    context: Context
    body: Item
    legend: list[tuple[int | None, str, str]]  # (colour index or None for the key, first line, second line)
    title: str
    citation: list[str]

    @classmethod
    def for_method(cls, method: Method) -> "Panel":
        components = list(method.components)
        context = Context.for_components(components)
        embedding = Unit(context, "embedding", PartBox(context, "embedding", width=120))
        layer = Unit(context, "block", Frame(context, "block", Layer(context), "Transformer layer (× L)", bottom_pad=GAP))
        body = Stack([Tokens(), embedding, layer, Output()])
        legend = []
        positions = VOCABULARIES["position"]
        for index, component in enumerate(components):
            where = ", ".join(positions.term(p).label for p in component.positions.value)
            forms = VOCABULARIES["insertion_form"]
            form = forms.term(component.peft_ref.insertion_form.value).label.lower()
            if component.unified_view.insertion_form.value != component.peft_ref.insertion_form.value:
                form += f" (unified view: {forms.term(component.unified_view.insertion_form.value).label.lower()})"
            composition = VOCABULARIES["composition"].term(component.unified_view.composition.value).label
            legend.append((index, f"{component.id}: {component.name}", f"at {where} · insertion {form} · {composition}"))
        cross = "decoder layer of an encoder-decoder model (encoder layers: the same without cross-attention)" if "cross_attn" in context.parts else "encoder or decoder layer"
        citation = [line for text in _citation_lines(method) + [f"Layer drawn: {cross}."] for line in wrap(text, style().small, TEXT_WIDTH)]
        return cls(method, context, body, legend, f"{method.name} in the PEFT-Ref reference Transformer layer", citation)

    @property
    def key_lines(self) -> list[str]:
        return ["grey: frozen pre-trained part · coloured: trained (legend) · b: bias trained",
                "+ addition node · ⊙ element-wise rescaling · ‖ concatenation of prepended vectors"]

    def _legend_lines(self, width: float) -> list[tuple[int, list[str], str]]:
        """Each legend entry: (colour, lines of its bold first line wrapped to ``width``, detail line or "")."""
        if style().compact:
            entries = []
            for index, first, _ in self.legend:
                component = self.method.components[index]
                tag = Decoration(index, component, "").tag
                text = first if tag == component.id else f"{tag} = {first}"
                entries.append((index, wrap(text, style().label * 1.14, width - LEGEND_INDENT), ""))
            return entries
        return [(index, [first], second) for index, first, second in self.legend]

    def size(self) -> tuple[float, float, float]:
        """(width, height, axis x) of the panel."""
        e = self.body.extent()
        margin = MARGIN_COMPACT if style().compact else MARGIN
        if style().compact:
            width = e.left + e.right + 2 * margin
            legend = self._legend_lines(width - 2 * margin)
            height = TOP_COMPACT + e.height + 8 + 12 + sum(len(lines) * style().label * 1.3 + 6 for _, lines, _ in legend) + margin
            return width, height, margin + e.left
        texts = [text_width(self.title, style().title, bold=True)] + [text_width(line, style().small) for line in self.citation + self.key_lines]
        texts += [LEGEND_INDENT + max(text_width(a, style().label, bold=True), text_width(b, style().small)) for _, a, b in self.legend]
        width = max(e.left + e.right, *texts) + 2 * margin
        axis = margin + e.left + max(0.0, (width - 2 * margin - e.left - e.right) / 2)
        height = 48 + e.height + 26 + 36 * len(self.legend) + 2 * 15 + 10 + 14 * len(self.citation) + 20
        return width, height, axis

    def place(self, scene: Scene, x0: float, y0: float = 0.0) -> None:
        width, height, axis = self.size()
        e = self.body.extent()
        compact = style().compact
        margin = MARGIN_COMPACT if compact else MARGIN
        if not compact:
            scene.text(x0 + margin, y0 + 30, self.title, size=style().title, weight="bold")
        body_bottom = y0 + (TOP_COMPACT if compact else 48) + e.height + 8
        self.body.place(scene, x0 + axis, body_bottom)
        y = body_bottom + (12 + style().label if compact else 34)
        for index, lines, second in self._legend_lines(width - 2 * margin):
            stroke, fill = colour(index)
            swatch = style().label * 1.1 if compact else 18
            scene.rect(x0 + margin, y - swatch * 0.8, swatch, swatch, fill=fill, stroke=stroke, width=2, rx=3)
            for n, line in enumerate(lines):
                scene.text(x0 + margin + (swatch + 10 if compact else LEGEND_INDENT - 2), y + n * style().label * 1.3, line, size=style().label, weight="bold", fill=stroke)
            if compact:
                y += len(lines) * style().label * 1.3 + 6
                continue
            scene.text(x0 + 50, y + 14, second, size=style().small)
            y += 36
        if compact:
            return
        for line in self.key_lines:
            scene.text(x0 + margin, y, line, size=style().small, fill="#555555")
            y += 15
        y += 10
        for line in self.citation:
            scene.text(x0 + margin, y, line, size=style().small, style="italic", fill="#555555")
            y += 14


def _citation_lines(method: Method) -> list[str]:
    c = method.citation
    authors = c.authors[0].split()[-1] + (" et al." if len(c.authors) > 2 else f" & {c.authors[1].split()[-1]}" if len(c.authors) == 2 else "")
    where = " ".join(part for part in (c.venue, f"arXiv:{c.arxiv}" if c.arxiv else None) if part)
    reference = SEED_DOCUMENTS["sabry-belz-2023"]["citation"].split(",")[0]
    return [f"Method: {authors} {c.year}. {c.title}. {where}".strip(), f"Reference architecture after {reference} (PEFT-Ref §2.1)."]


def _rows(sizes: list[tuple[float, float, float]], row_width: float) -> list[list[int]]:
    """Panel indices packed greedily into rows no wider than ``row_width`` (a panel wider than that gets its own row)."""
    rows: list[list[int]] = [[]]
    used = 0.0
    for index, (width, _, _) in enumerate(sizes):
        if rows[-1] and used + width > row_width:
            rows.append([])
            used = 0.0
        rows[-1].append(index)
        used += width
    return rows


def diagram_scene(methods: list[Method], compact: bool = False) -> tuple[Scene, float, float]:
    """The scene of one panel per method, wrapped into rows that fit the page, and its (width, height)."""
    chosen = PAPER if compact else SCREEN
    with using(chosen):
        panels = [Panel.for_method(m) for m in methods]
        sizes = [p.size() for p in panels]
        scene = Scene()
        y = 0.0
        total_width = 0.0
        for row in _rows(sizes, chosen.row_width):
            row_height = max(sizes[i][1] for i in row)
            x = 0.0
            for i in row:
                panels[i].place(scene, x, y)
                if x:
                    scene.path([(x, y + 12), (x, y + row_height - 12)], stroke="#DDDDDD", arrow=False, layer="frames")
                x += sizes[i][0]
            if y:
                scene.path([(12, y), (x - 12, y)], stroke="#DDDDDD", arrow=False, layer="frames")
            total_width = max(total_width, x)
            y += row_height
    return scene, total_width, y


def diagram_svg(methods: list[Method], compact: bool = False) -> str:
    """One SVG with a panel per method (``--compare`` passes several); ``compact`` is the paper figure."""
    scene, width, height = diagram_scene(methods, compact)
    title = " vs ".join(m.name for m in methods)
    return render_template("svg", "diagrams/diagram.svg.j2", scene=scene, width=round(width), height=round(height), title=title, font_family=FONT_FAMILY, description=f"PEFT-Ref reference Transformer layer with the components of {title}")


FORMATS = ("svg", "pdf", "png")


def diagram_bytes(svg: str, fmt: str, dpi: float = 300) -> bytes:
    """The SVG converted by cairosvg (PDF keeps vectors; PNG at ``dpi``); imported only when asked for."""
    import cairosvg

    if fmt == "pdf":
        return cairosvg.svg2pdf(bytestring=svg.encode("utf-8"))
    if fmt == "png":
        return cairosvg.svg2png(bytestring=svg.encode("utf-8"), dpi=dpi, scale=dpi / 96)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
