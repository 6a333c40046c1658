"""Table layouts as data: each column is a heading, a field path and how to label its values.

The paper layouts reproduce a seed document's table: their default rows are
the records carrying that table's ``seed_tables`` key, in the paper's row
order, labelled as the paper labels them.  Adding a column or a layout is an
edit here, not a new code path in :mod:`.tables`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..schema.models import PeftRefProperties
from ..schema.vocabulary import SEED_DOCUMENTS, VOCABULARIES
from .fields import vocabulary_for


@dataclass(frozen=True)
class Column:
    heading: str
    path: str
    vocabulary: str | None = None
    show: str = "label"  # "label": the term's label; "value": the controlled value itself
    join: str = ", "  # between the values of a list field
    group: str | None = None  # a heading spanning adjacent columns (HTML and LaTeX)
    math: bool = False  # the cells are formulas: LaTeX typesets them in math mode

    @classmethod
    def for_path(cls, path: str) -> "Column":
        """A custom column: the path is its heading; its vocabulary follows from the field name."""
        vocabulary = vocabulary_for(path)
        return cls(path, path, vocabulary, math=path.endswith(".formula") or vocabulary in FORMULA_VOCABULARIES)


# Vocabularies whose labels are formulas (He et al.'s composition functions, “h ← h + s·Δh”).
FORMULA_VOCABULARIES = frozenset({"composition"})


def _vocabulary_column(path: str, vocabulary: str, **kwargs) -> Column:
    """A column headed by the vocabulary's own title (the paper's name for the property)."""
    return Column(VOCABULARIES[vocabulary].title, path, vocabulary, **kwargs)


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    label_heading: str
    columns: tuple[Column, ...]
    seed_table: str | None = None  # rows and labels come from this seed_tables key
    source: str | None = None  # seed document the layout reproduces
    description: str = ""

    @property
    def citation(self) -> str:
        return SEED_DOCUMENTS[self.source]["citation"] if self.source else ""


_PEFT_REF = tuple(_vocabulary_column(f"components.peft_ref.{name}", name) for name in PeftRefProperties.model_fields)

LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout(
            "peft-ref",
            "PEFT-Ref typology of PEFT techniques",
            "Technique",
            _PEFT_REF,
            seed_table="sabry-belz-2023/typology",
            source="sabry-belz-2023",
            description="The nine PEFT-Ref properties (Sabry & Belz 2023) of its seven techniques, as this catalogue's records state them with their sources; the paper's own cell values are not in the seed documents.",
        ),
        Layout(
            "lialin-efficiency",
            "Comparing PEFT methods across storage, memory and computational efficiency",
            "Method",
            (
                Column("Type", "class_letters"),
                Column("Storage", "efficiency.storage", "yes_no"),
                Column("Memory", "efficiency.memory", "yes_no"),
                Column("Backprop", "efficiency.backprop", "yes_no"),
                Column("Inference overhead", "efficiency.inference_overhead", "inference_overhead"),
            ),
            seed_table="lialin-2023/table-1",
            source="lialin-2023",
            description="Lialin et al. 2023, Table 1. Method types: A – additive, S – selective, R – reparametrization-based.",
        ),
        Layout(
            "lialin-scale",
            "Model sizes PEFT methods were evaluated on and their typical share of trainable parameters",
            "Method",
            (
                Column("% Trainable parameters", "scale.trainable_percent.text"),
                Column("% Changed parameters", "scale.changed_percent.text"),
                Column("<1B", "scale.evaluated_on.lt_1b", "yes_no", group="Evaluated on"),
                Column("<20B", "scale.evaluated_on.lt_20b", "yes_no", group="Evaluated on"),
                Column(">20B", "scale.evaluated_on.gt_20b", "yes_no", group="Evaluated on"),
            ),
            seed_table="lialin-2023/table-2",
            source="lialin-2023",
            description="Lialin et al. 2023, Table 2. For reparametrization-based methods, changed parameters are given before or after reparametrization.",
        ),
        Layout(
            "unified-view",
            "PEFT methods decomposed along the unified view's design dimensions",
            "Method",
            (
                Column("Δh functional form", "components.unified_view.functional_form.formula", math=True),
                # He et al. print the controlled words themselves (“parallel”), not our capitalised labels.
                Column("insertion form", "components.unified_view.insertion_form", "insertion_form", show="value"),
                Column("modified representation", "components.unified_view.modified_representation", "modified_representation", join="/"),
                Column("composition function", "components.unified_view.composition", "composition", math=True),
            ),
            seed_table="he-2022/table-1",
            source="he-2022",
            description="He et al. 2022, Table 1.",
        ),
        Layout(
            "custom",
            "Selected fields",
            "Method",
            (),
            description="Fields chosen with --columns; rows in id order.",
        ),
    )
}
