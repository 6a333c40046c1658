"""The reference Transformer layer the diagrams draw, and how records map onto it (data).

PEFT-Ref (Sabry & Belz 2023 §2.1) places every PEFT module relative to the
standard Transformer components: embedding, multi-head attention with its
W_q, W_k, W_v, W_o projections, add & norm, the FFN's two projections, add &
norm.  Each drawable part (an *anchor*) lists the record positions that select
it, so mapping a component onto the picture is a lookup, not code per method.
How a component is drawn there follows from its insertion form and
composition through :data:`DRAWING_RULES`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..schema.models import Component
from ..schema.vocabulary import VOCABULARIES

ATTENTION_KINDS = {
    "self_attn": "Multi-head self-attention",
    "cross_attn": "Multi-head cross-attention",
}
PROJECTIONS = (("q", "W_q"), ("k", "W_k"), ("v", "W_v"))


@dataclass(frozen=True)
class Anchor:
    """A part of the reference layer a component can act on."""

    key: str
    label: str
    selected_by: frozenset[str]
    prepend_to: tuple[str, ...] = ()  # prepended vectors at this anchor go to these anchors (keys/values)


def _biased(key: str, label: str, selected: set[str]) -> Anchor:
    """A weight with a bias vector: also selected by ``params.bias``."""
    return Anchor(key, label, frozenset(selected | {"params.bias"}))


def _attention_anchors(kind: str) -> list[Anchor]:
    extra = ("params.cross_attn",) if kind == "cross_attn" else ()
    anchors = [Anchor(kind, ATTENTION_KINDS[kind], frozenset({"attn", kind}), prepend_to=(f"{kind}.k", f"{kind}.v"))]
    for part, label in PROJECTIONS + (("o", "W_o"),):
        selected = {f"attn.{part}", f"{kind}.{part}", "params.all", *extra}
        anchors.append(_biased(f"{kind}.{part}", label, selected))
    anchors.append(Anchor(f"{kind}.heads", "softmax(QKᵀ/√d_h)·V per head", frozenset()))
    return anchors


def anchors(cross_attention: bool) -> dict[str, Anchor]:
    """Every anchor of the layer; the decoder layer of an encoder-decoder model has cross-attention."""
    found = [Anchor("embedding", "Embedding", frozenset({"embedding", "params.all"}))]
    found += _attention_anchors("self_attn")
    sublayers = ["self_attn", "cross_attn"] if cross_attention else ["self_attn"]
    if cross_attention:
        found += _attention_anchors("cross_attn")
    found += [
        Anchor("ffn", "Feed-forward network", frozenset({"ffn"})),
        _biased("ffn.in", "FFN in  W_1", {"ffn.in", "params.ffn", "params.all"}),
        Anchor("ffn.hidden", "activation σ", frozenset({"ffn.hidden"})),
        _biased("ffn.out", "FFN out  W_2", {"ffn.out", "params.ffn", "params.all"}),
        Anchor("block", "Transformer layer", frozenset({"block", "side_network"})),
    ]
    for sublayer in sublayers + ["ffn"]:
        found.append(_biased(f"{sublayer}.norm", "Add & Norm", {"layer_norm", "params.all"}))
    # A position group (all-linear, attn.linear, …) selects what any of its members selects.
    groups = [(t.value, frozenset(t.attrs["members"])) for t in VOCABULARIES["position"] if t.attrs.get("members")]
    found = [replace(a, selected_by=a.selected_by | {g for g, members in groups if members & a.selected_by}) for a in found]
    return {a.key: a for a in found}


def needs_cross_attention(components: list[Component]) -> bool:
    """True when a component acts on cross-attention (then the decoder layer of an encoder-decoder is drawn)."""
    terms = VOCABULARIES["position"]
    return any(terms.term(p).attrs.get("attention") == "cross_attn" for c in components for p in c.positions.value)


@dataclass(frozen=True)
class DrawingRule:
    """Draw a component as ``drawing`` when any listed property value holds (first rule wins)."""

    drawing: str
    position_kinds: frozenset[str] = frozenset()
    insertion_forms: frozenset[str] = frozenset()
    compositions: frozenset[str] = frozenset()


DRAWING_RULES: tuple[DrawingRule, ...] = (
    DrawingRule("side-network", position_kinds=frozenset({"network"}), insertion_forms=frozenset({"side-network"})),
    # params.* and layer_norm name groups of existing weights: a selective update of them.
    DrawingRule("highlight", position_kinds=frozenset({"parameters"})),
    # Soft prompts and prefixes are extra sequence positions, even where He et al. read them as parallel.
    DrawingRule("prepended", insertion_forms=frozenset({"prepended"}), compositions=frozenset({"concatenation"})),
    DrawingRule("highlight", insertion_forms=frozenset({"in-place"}), compositions=frozenset({"weight-update"})),
    DrawingRule("rescale", compositions=frozenset({"rescaling"})),
    DrawingRule("parallel", insertion_forms=frozenset({"parallel"})),
    DrawingRule("sequential", insertion_forms=frozenset({"sequential"})),
)
FALLBACK_DRAWING = "unknown"  # drawn in the residual path with a dashed outline

# Which highlight a parameter group gets: biases are marked with a badge on every biased part.
HIGHLIGHT_STYLES = {"params.bias": "bias"}


def drawing_for(component: Component, position: str) -> str:
    kind = VOCABULARIES["position"].term(position).attrs.get("kind")
    forms = {component.peft_ref.insertion_form.value, component.unified_view.insertion_form.value}
    composition = component.unified_view.composition.value
    for rule in DRAWING_RULES:
        if kind in rule.position_kinds or forms & rule.insertion_forms or composition in rule.compositions:
            return rule.drawing
    return FALLBACK_DRAWING


def targets(position: str, drawing: str, parts: dict[str, Anchor]) -> list[Anchor]:
    """The anchors a position selects; prepended vectors at a sublayer go to its keys and values."""
    found = [a for a in parts.values() if position in a.selected_by]
    if drawing == "prepended":
        found = [parts[key] for a in found for key in (a.prepend_to or (a.key,))]
    return found
