"""Queryable fields: where each lives in a record, its vocabulary and the words that name it.

This table is the only place that knows record paths; the parser, evaluator,
diff and renderers read it.  Adding a schema field that users should query is
one line here, never an ``if`` in the engine.
"""

from __future__ import annotations

from ..schema.vocabulary import VOCABULARIES


class Field:
    """A queryable field (plain class: imported by the fast query path)."""

    __slots__ = ("name", "level", "kind", "vocabulary", "cues", "weight", "verbs", "optional")

    def __init__(self, name: str, level: str, kind: str, vocabulary: str | None = None, cues: tuple = (), weight: float = 1.0, verbs: tuple = (), optional: bool = False):
        self.name = name  # canonical dotted path, relative to the method or to a component
        self.level = level  # "method" or "component"
        self.kind = kind  # "enum", "bool", "number", "range", "text", "position"
        self.vocabulary = vocabulary
        self.cues = cues  # words that name the field in plain language
        self.weight = weight  # contribution to the typology distance (0 = not compared)
        self.verbs = verbs  # verbs that name the field ("insert" -> insertion form); ignored when no value follows
        self.optional = optional  # a record may leave it unstated; then diff/similar do not compare it

    def __repr__(self) -> str:
        return f"Field({self.name!r})"

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]


FIELDS: tuple[Field, ...] = (
    # -- method level (Lialin et al. 2023 taxonomy, efficiency and scale) -------------------
    Field("id", "method", "text", weight=0),
    Field("name", "method", "text", weight=0),
    Field("kind", "method", "enum", "method_kind", ("kind", "record kind")),
    Field("taxonomy.classes", "method", "enum", "lialin_class", ("class", "classes", "type", "category", "taxonomy")),
    Field("taxonomy.hybrid", "method", "bool", None, ("hybrid", "hybrids", "hybrid method", "hybrid methods"), weight=1.0),
    Field("efficiency.storage", "method", "enum", "yes_no", ("storage", "storage efficient", "storage-efficient", "storage efficiency"), 0.5),
    Field("efficiency.memory", "method", "enum", "yes_no", ("memory", "memory efficient", "memory-efficient", "memory efficiency"), 0.5),
    Field("efficiency.backprop", "method", "enum", "yes_no", ("backprop", "backpropagation", "backprop efficient", "reduces backprop", "reduces backpropagation", "backprop savings"), 0.5),
    Field("efficiency.inference_overhead", "method", "enum", "inference_overhead", ("inference overhead", "overhead", "inference cost"), 0.5),
    Field("scale.trainable_percent", "method", "range", None, ("trainable", "trainable percent", "trainable parameters", "% trainable"), 0),
    Field("scale.changed_percent", "method", "range", None, ("changed", "changed percent", "changed parameters", "% changed"), 0),
    Field("scale.evaluated_on.lt_1b", "method", "enum", "yes_no", ("evaluated under 1b",), 0),
    Field("scale.evaluated_on.lt_20b", "method", "enum", "yes_no", ("evaluated under 20b",), 0),
    Field("scale.evaluated_on.gt_20b", "method", "enum", "yes_no", ("evaluated over 20b",), 0),
    Field("citation.year", "method", "number", None, ("year", "published"), 0),
    Field("citation.venue", "method", "text", None, ("venue",), 0),
    Field("citation.authors", "method", "text", None, ("author", "authors"), 0),
    Field("aliases", "method", "text", None, (), 0),
    Field("relations.target", "method", "text", None, ("related to",), 0),
    # "type:target" pairs, e.g. variant-of:lora (see values())
    Field("relations", "method", "relation", None, (), 0),
    Field("implementations.library", "method", "text", None, ("library", "implemented in"), 0),
    Field("recipe.initialisation", "method", "enum", "initialisation", ("initialisation", "initialization", "init", "initialised", "initialized"), optional=True),
    Field("recipe.base_weights", "method", "enum", "base_weights", ("base weights", "quantisation", "quantization", "base precision"), optional=True),
    Field("recipe.optimisation", "method", "enum", "optimisation", ("optimisation", "optimization", "optimiser", "optimizer", "learning rate"), optional=True),
    Field("recipe.rank_allocation", "method", "enum", "rank_allocation", ("rank allocation", "rank budget"), optional=True),
    Field("recipe.regulariser", "method", "enum", "regulariser", ("regulariser", "regularizer", "regularisation", "regularization"), optional=True),
    # -- component level (PEFT-Ref typology, He et al. unified view, positions) ---------------
    Field("positions", "component", "position", "position", ("position", "positions", "acts on", "location", "where"), 2.0,
          verbs=("train", "tune", "update", "adapt", "target", "finetune", "act on", "modify")),
    Field("peft_ref.intra_connectivity", "component", "enum", "intra_connectivity", ("intra-connectivity", "intra connectivity", "intraconnectivity")),
    Field("peft_ref.inter_connectivity", "component", "enum", "inter_connectivity", ("inter-connectivity", "inter connectivity", "interconnectivity")),
    Field("peft_ref.parameter_adaptation", "component", "enum", "parameter_adaptation", ("parameter adaptation", "adaptation", "adaptation type")),
    Field("peft_ref.parameter_sharing", "component", "enum", "parameter_sharing", ("parameter sharing", "sharing"), verbs=("share",)),
    Field("peft_ref.input_type", "component", "enum", "input_type", ("input type", "input")),
    Field("peft_ref.insertion_form", "component", "enum", "insertion_form", ("insertion", "insertion form", "inserted"), verbs=("add", "insert", "prepend", "append", "place", "put")),
    Field("peft_ref.number_of_insertions", "component", "enum", "number_of_insertions", ("number of insertions", "insertions")),
    Field("peft_ref.integration_form", "component", "enum", "integration_form", ("integration", "integration form", "integrated")),
    Field("peft_ref.workspace", "component", "enum", "workspace", ("workspace",)),
    Field("unified_view.functional_form.category", "component", "enum", "functional_form", ("functional form", "function", "form")),
    Field("unified_view.functional_form.formula", "component", "text", None, ("formula",), 0),
    Field("unified_view.modified_representation", "component", "enum", "modified_representation", ("modified representation", "modifies", "modified")),
    Field("unified_view.insertion_form", "component", "enum", "insertion_form", ("insertion", "insertion form", "inserted"), verbs=("add", "insert", "prepend", "append", "place", "put")),
    Field("unified_view.composition", "component", "enum", "composition", ("composition", "composition function", "composed", "combined"), verbs=("scale", "rescale", "gate", "compose", "multiply")),
    Field("module", "component", "text", None, ("module", "reference module"), 0),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}


def fields_named(name: str) -> list[Field]:
    """Fields a user name refers to: a full dotted path, a suffix of one (``insertion_form``,
    ``peft_ref.insertion_form``, ``evaluated_on.gt_20b``) or the path with ``components.`` in front."""
    name = name.strip().lower().replace("-", "_").replace(" ", "_")
    if name.startswith("components."):
        name = name[len("components.") :]
    if name in BY_NAME:
        return [BY_NAME[name]]
    matches = [f for f in FIELDS if f.name.endswith("." + name)]
    if matches:
        return matches
    aliases = {
        "class": "taxonomy.classes",
        "type": "taxonomy.classes",
        "hybrid": "taxonomy.hybrid",
        "year": "citation.year",
        "functional_form": "unified_view.functional_form.category",
        "unified_view.functional_form": "unified_view.functional_form.category",
    }
    if name in aliases:
        return [BY_NAME[aliases[name]]]
    return []


def _walk(obj, parts: list) -> list:
    """Values at a dotted path; Claims are unwrapped to their value, lists are flattened."""
    from pydantic import BaseModel  # only when facts are built from records, never for cached queries

    from ..schema.models import Claim

    if isinstance(obj, Claim):
        obj = obj.value
    if not parts:
        if obj is None:
            return []
        return list(obj) if isinstance(obj, (list, tuple)) else [obj]
    if isinstance(obj, (list, tuple)):
        out: list = []
        for item in obj:
            out.extend(_walk(item, parts))
        return out
    if isinstance(obj, BaseModel):
        return _walk(getattr(obj, parts[0], None), parts[1:])
    if isinstance(obj, dict):
        return _walk(obj.get(parts[0]), parts[1:])
    return []


def values(field: Field, method, component=None) -> list:
    target = component if field.level == "component" else method
    if target is None:
        return []
    if field.kind == "relation":  # typed links as "type:target" so one value carries both
        return [f"{getattr(r.type, 'value', r.type)}:{r.target}" for r in _walk(target, field.name.split("."))]
    return _walk(target, field.name.split("."))


def vocabulary_fields(vocabulary: str) -> list[Field]:
    return [f for f in FIELDS if f.vocabulary == vocabulary]


assert all(f.vocabulary is None or f.vocabulary in VOCABULARIES for f in FIELDS)
