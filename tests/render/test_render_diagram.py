"""SVG diagrams: well-formed, self-contained, deterministic, rendered to PNG, and placed by the records."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest

from peftref_kb.render.architecture import DRAWING_RULES, anchors, drawing_for, targets
from peftref_kb.render.diagram import Context, diagram_svg
from peftref_kb.schema.vocabulary import VOCABULARIES

SVG = "{http://www.w3.org/2000/svg}"
# Methods whose PNGs were inspected by eye when the layout was written: one per drawing kind.
PNG_METHODS = ("lora", "houlsby-adapter", "prefix-tuning", "mam-adapter", "bitfit", "ia3", "unipelt", "cross-attention-tuning")


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def test_every_record_draws_a_well_formed_self_contained_svg(catalogue):
    for method in catalogue:
        svg = diagram_svg([method])
        root = _parse(svg)
        assert float(root.get("width")) > 300 and float(root.get("height")) > 300
        assert root.find(f"{SVG}title").text.startswith(method.name[:10])
        # self-contained: no scripts, images, external fonts or stylesheets; generic font family
        assert not list(root.iter(f"{SVG}script"))
        assert not list(root.iter(f"{SVG}image")) and not list(root.iter(f"{SVG}style"))
        assert not re.search(r"(href|url)\((?!#)|@import|@font-face", svg)
        assert "sans-serif" in root.get("font-family")
        # every marker referenced is defined
        defined = {m.get("id") for m in root.iter(f"{SVG}marker")}
        assert set(re.findall(r"url\(#([^)]+)\)", svg)) <= defined


def test_diagram_is_deterministic(fixture_catalogue):
    methods = [fixture_catalogue["unipelt"]]
    assert diagram_svg(methods) == diagram_svg(methods)


@pytest.mark.parametrize("method_id", ["lora", "mam-adapter", "bitfit"])
def test_diagram_matches_golden(fixture_catalogue, golden, method_id):
    golden(f"diagrams/{method_id}.svg", diagram_svg([fixture_catalogue[method_id]]))


def test_compare_draws_one_panel_per_method(fixture_catalogue):
    single = _parse(diagram_svg([fixture_catalogue["lora"]]))
    both = _parse(diagram_svg([fixture_catalogue["lora"], fixture_catalogue["ia3"]]))
    assert float(both.get("width")) > float(single.get("width"))
    texts = " ".join("".join(t.itertext()) for t in both.iter(f"{SVG}text"))
    assert "LoRA in the PEFT-Ref" in texts and "(IA)³ in the PEFT-Ref" in texts


def _texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in _parse(svg).iter(f"{SVG}text")]


def test_modules_are_drawn_where_the_record_says(fixture_catalogue):
    lora = _texts(diagram_svg([fixture_catalogue["lora"]]))
    assert lora.count("lora") == 2  # one module beside W_q, one beside W_v
    assert lora.count("h ← h + s·Δh") == 2  # each labelled with its composition
    bitfit = _texts(diagram_svg([fixture_catalogue["bitfit"]]))
    assert bitfit.count("b") >= 6  # a bias badge on every biased part
    prefix = _texts(diagram_svg([fixture_catalogue["prefix-tuning"]]))
    assert prefix.count("prefix: concat(P, h)") == 2  # prepended to keys and to values, at concatenation nodes
    cross = _texts(diagram_svg([fixture_catalogue["cross-attention-tuning"]]))
    assert "Multi-head cross-attention" in cross and "encoder output" in cross
    assert "Multi-head cross-attention" not in _texts(diagram_svg([fixture_catalogue["lora"]]))


def test_every_component_of_a_hybrid_gets_its_own_colour_and_legend_entry(fixture_catalogue):
    unipelt = fixture_catalogue["unipelt"]
    root = _parse(diagram_svg([unipelt]))
    texts = _texts(diagram_svg([unipelt]))
    for component in unipelt.components:
        assert any(t.startswith(f"{component.id}: {component.name.split()[0]}") for t in texts), f"no legend entry for {component.id}"
    strokes = {r.get("stroke") for r in root.iter(f"{SVG}rect") if r.get("stroke-width") == "2"}
    assert len(strokes) >= len(unipelt.components)


def test_every_position_selects_a_part_of_the_drawing():
    for cross in (False, True):
        parts = anchors(cross)
        for term in VOCABULARIES["position"]:
            if term.value == "unknown" or (term.attrs.get("attention") == "cross_attn" and not cross):
                continue
            assert [a for a in parts.values() if term.value in a.selected_by], f"position {term.value} selects nothing in the diagram"


def test_every_record_component_gets_a_drawing_and_a_place(catalogue):
    kinds = {rule.drawing for rule in DRAWING_RULES}
    for method in catalogue:
        context = Context.for_components(list(method.components))
        for component in method.components:
            for position in component.positions.value:
                if position == "unknown":  # an honest gap: listed in the legend, nowhere in the layer
                    continue
                drawing = drawing_for(component, position)
                assert drawing in kinds or drawing == "unknown"
                assert targets(position, drawing, context.parts), f"{method.id}/{component.id} at {position} is not drawn"


@pytest.mark.parametrize("method_id", PNG_METHODS)
def test_png_renders(catalogue, method_id):
    cairosvg = pytest.importorskip("cairosvg", reason="cairosvg (with libcairo2) renders the PNGs")
    from PIL import Image

    png = cairosvg.svg2png(bytestring=diagram_svg([catalogue[method_id]]).encode("utf-8"))
    image = Image.open(io.BytesIO(png))
    assert image.size[0] > 300 and image.size[1] > 300
    # not blank: the picture has ink in it
    assert image.convert("L").getextrema()[0] < 100  # not blank: dark ink on the white background
