"""Paper figures: legible text at print size, no overlapping marks, PDF/PNG output, labels per composition.

Sizes and overlaps are computed from the scene (the same primitives the SVG is written from):
text boxes from the scene's width estimate, arrowheads from each arrow's last segment and the
marker's size (7 × stroke width long), dots and nodes from their circles.
"""

from __future__ import annotations

import io
import math

import pytest

from peftref_kb.render.diagram import ARROW_LENGTH, Panel, diagram_bytes, diagram_scene, diagram_svg
from peftref_kb.render.svgscene import PAPER, SCREEN, Scene, text_width, using

CM_TO_PT = 72 / 2.54
COLUMN_PT = 8.5 * CM_TO_PT
TEXTWIDTH_PT = 17.8 * CM_TO_PT


def _min_font_pt(scene: Scene, width: float, target_pt: float) -> float:
    sizes = [float(run.size) for layer in scene.layers for text in layer.texts for run in text.runs]
    return min(sizes) * target_pt / width


def _text_boxes(scene: Scene):
    for layer in scene.layers:
        for t in layer.texts:
            text = "".join(r.text for r in t.runs)
            size, x, y = float(t.size), float(t.x), float(t.y)
            w = text_width(text, size, t.weight == "bold")
            x0 = {"start": x, "middle": x - w / 2, "end": x - w}[t.anchor]
            yield text, (x0, y - 0.75 * size, x0 + w, y + 0.22 * size)


def _arrowheads(scene: Scene):
    for layer in scene.layers:
        for p in layer.paths:
            if not p.marker:
                continue
            points = [tuple(map(float, token.split())) for token in p.d.replace("M", "").split("L")]
            (x1, y1), (x2, y2) = points[-2], points[-1]
            length = math.hypot(x2 - x1, y2 - y1) or 1.0
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            head = 7 * float(p.stroke_width) * 0.9  # the marker path spans x 0..10 of a 10-unit box, refX 9
            bx, by = x2 - ux * head, y2 - uy * head
            corners = [(x2, y2), (bx - uy * head / 2, by + ux * head / 2), (bx + uy * head / 2, by - ux * head / 2)]
            yield (x2, y2), (min(c[0] for c in corners), min(c[1] for c in corners), max(c[0] for c in corners), max(c[1] for c in corners))


def _circles(scene: Scene):
    return [(float(c.cx), float(c.cy), float(c.r)) for layer in scene.layers for c in layer.circles]


def _overlap(a, b, tolerance=0.3) -> bool:
    return a[0] + tolerance < b[2] and b[0] + tolerance < a[2] and a[1] + tolerance < b[3] and b[1] + tolerance < a[3]


def overlaps(scene: Scene) -> list[str]:
    found = []
    texts = list(_text_boxes(scene))
    for i, (a, box_a) in enumerate(texts):
        found += [f"text {a!r} overlaps text {b!r}" for b, box_b in texts[i + 1 :] if _overlap(box_a, box_b, 0.5)]
    circles = _circles(scene)
    for tip, box in _arrowheads(scene):
        for cx, cy, r in circles:
            if math.hypot(tip[0] - cx, tip[1] - cy) <= r + 1.6:
                continue  # the arrow points at this node
            if _overlap(box, (cx - r, cy - r, cx + r, cy + r)):
                found.append(f"arrowhead at {tip} overlaps the dot at ({cx}, {cy})")
        found += [f"arrowhead at {tip} overlaps text {t!r}" for t, text_box in texts if _overlap(box, text_box, 0.5)]
    for i, a in enumerate(circles):
        found += [f"dot {a} overlaps dot {b}" for b in circles[i + 1 :] if math.hypot(a[0] - b[0], a[1] - b[1]) < a[2] + b[2] - 0.3]
    return found


@pytest.mark.parametrize("style", [SCREEN, PAPER], ids=["screen", "paper"])
def test_no_overlapping_marks_in_any_diagram(catalogue, style):
    problems = {}
    with using(style):
        for method in catalogue:
            scene = Scene()
            Panel.for_method(method).place(scene, 0)
            if found := overlaps(scene):
                problems[method.id] = found[:3]
    assert not problems, problems


def test_the_ffn_residual_dot_is_clear_of_the_arrowhead_above_it(catalogue):
    scene, _, _ = diagram_scene([catalogue["lora"]])
    dots = [c for c in _circles(scene) if c[2] < 3]
    heads = [box for _, box in _arrowheads(scene)]
    assert dots and all(not _overlap(h, (x - r, y - r, x + r, y + r)) for h in heads for x, y, r in dots)
    assert ARROW_LENGTH < 16 - 2.6  # the residual tap (16 px below a sub-layer) lies beyond the arrowhead


def test_paper_figures_keep_text_legible_at_print_size(catalogue):
    """Text in a paper figure (--compact) is at least 7 pt across two columns (17.8 cm), single or compared."""
    worst = {}
    for method in catalogue:
        scene, width, _ = diagram_scene([method], compact=True)
        worst[method.id] = _min_font_pt(scene, width, TEXTWIDTH_PT)
    assert min(worst.values()) >= 7.0, sorted(worst.items(), key=lambda kv: kv[1])[:3]
    for ids in (["lora", "ia3"], ["lora", "ia3", "prefix-tuning", "mam-adapter"]):
        scene, width, _ = diagram_scene([catalogue[i] for i in ids], compact=True)
        assert width <= PAPER.row_width or len(ids) == 1
        assert _min_font_pt(scene, width, TEXTWIDTH_PT) >= 7.0
    # One column (8.5 cm): LoRA's paper figure is larger than the screen one by a factor of two or more.
    paper, paper_width, _ = diagram_scene([catalogue["lora"]], compact=True)
    screen, screen_width, _ = diagram_scene([catalogue["lora"]])
    assert _min_font_pt(paper, paper_width, COLUMN_PT) >= 2 * _min_font_pt(screen, screen_width, COLUMN_PT)


def test_comparisons_wrap_into_rows(catalogue):
    ids = ["lora", "ia3", "prefix-tuning", "bitfit"]
    _, width, height = diagram_scene([catalogue[i] for i in ids], compact=True)
    _, single_width, single_height = diagram_scene([catalogue["lora"]], compact=True)
    assert width <= PAPER.row_width and height > 1.5 * single_height


def test_prefix_concatenation_node_is_labelled_as_concatenation(catalogue):
    scene, _, _ = diagram_scene([catalogue["prefix-tuning"]])
    texts = ["".join(r.text for r in t.runs) for layer in scene.layers for t in layer.texts]
    nodes = [t for t in texts if t.startswith("prefix: ") and "Key/value" not in t]  # the legend entry names it
    assert nodes and all(t == "prefix: concat(P, h)" for t in nodes), nodes
    assert any("(1−λ)h + λΔh" in t for t in texts)  # the record's composition stays in the legend


def test_pdf_and_png_output(catalogue):
    from PIL import Image

    svg = diagram_svg([catalogue["lora"]], compact=True)
    pdf = diagram_bytes(svg, "pdf")
    assert pdf.startswith(b"%PDF") and b"/Font" in pdf  # text stays text (vectors), not an image
    png = Image.open(io.BytesIO(diagram_bytes(svg, "png", dpi=150)))
    assert png.size[0] > 800 and png.convert("L").getextrema()[0] < 100
