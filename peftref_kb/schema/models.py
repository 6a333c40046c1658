"""Pydantic models of a catalogue record (the single source of truth for the schema).

A method record is a list of *components*; typology properties live on
components so that a query's conditions can hold within one component of a
hybrid.  Every typology value and efficiency claim is a :class:`Claim`: a
canonical value, the source it comes from, and any disagreeing sources kept
beside it with the reason the canonical one was chosen.

No I/O and no torch here: these models are imported by every light command.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .formula import FormulaError, parse_formula
from .modules import ModuleName
from .vocabulary import SEED_DOCUMENTS, VOCABULARIES, make_enum

IntraConnectivity = make_enum(VOCABULARIES["intra_connectivity"])
InterConnectivity = make_enum(VOCABULARIES["inter_connectivity"])
ParameterAdaptation = make_enum(VOCABULARIES["parameter_adaptation"])
ParameterSharing = make_enum(VOCABULARIES["parameter_sharing"])
InputType = make_enum(VOCABULARIES["input_type"])
InsertionForm = make_enum(VOCABULARIES["insertion_form"])
NumberOfInsertions = make_enum(VOCABULARIES["number_of_insertions"])
IntegrationForm = make_enum(VOCABULARIES["integration_form"])
Workspace = make_enum(VOCABULARIES["workspace"])
FunctionalForm = make_enum(VOCABULARIES["functional_form"])
ModifiedRepresentation = make_enum(VOCABULARIES["modified_representation"])
Composition = make_enum(VOCABULARIES["composition"])
LialinClass = make_enum(VOCABULARIES["lialin_class"])
YesNo = make_enum(VOCABULARIES["yes_no"])
InferenceOverhead = make_enum(VOCABULARIES["inference_overhead"])
Position = make_enum(VOCABULARIES["position"])
RelationType = make_enum(VOCABULARIES["relation"])
MethodKind = make_enum(VOCABULARIES["method_kind"])
Initialisation = make_enum(VOCABULARIES["initialisation"])
BaseWeights = make_enum(VOCABULARIES["base_weights"])
Optimisation = make_enum(VOCABULARIES["optimisation"])
RankAllocation = make_enum(VOCABULARIES["rank_allocation"])
Regulariser = make_enum(VOCABULARIES["regulariser"])

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SEED_TABLES = (
    "lialin-2023/table-1",
    "lialin-2023/table-2",
    "he-2022/table-1",
    "sabry-belz-2023/typology",
)
SeedTable = Literal[SEED_TABLES]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True, str_strip_whitespace=True)


class Source(Strict):
    """Where a claim comes from.

    ``ref`` is a seed document key (``lialin-2023``, ``he-2022``,
    ``sabry-belz-2023``, ``pu-2023``), ``paper`` (the record's own citation), a
    key of the record's ``references``, or ``derived`` — then ``reasoning``
    says in one line how the value follows from other facts.
    """

    ref: str = Field(min_length=1, description="seed document key, `paper`, a key of `references`, or `derived`")
    loc: str | None = Field(None, description="table, section, equation or page in the source, e.g. `Table 1` or `§3.2`")
    quote: str | None = Field(None, description="a short quote supporting the claim")
    reasoning: str | None = Field(None, description="required when ref is `derived`: one line of reasoning")

    @model_validator(mode="after")
    def _derived_has_reasoning(self) -> "Source":
        if self.ref == "derived" and not self.reasoning:
            raise ValueError("a `derived` source needs `reasoning`: one line saying how the value follows")
        if self.ref != "derived" and not self.loc and not self.quote:
            raise ValueError(f"source {self.ref!r} needs `loc` (table/section) or `quote` so the claim can be checked")
        return self


T = TypeVar("T")


class Alternative(Strict, Generic[T]):
    """A value a different source gives, kept beside the canonical one."""

    value: T
    source: Source
    note: str | None = None


class Claim(Strict, Generic[T]):
    """A sourced value.  ``alternatives`` keep disagreeing sources; then
    ``canonical_reason`` says why ``value`` was chosen."""

    value: T
    source: Source
    note: str | None = None
    alternatives: list[Alternative[T]] = Field(default_factory=list)
    canonical_reason: str | None = None

    @model_validator(mode="after")
    def _reason_when_disputed(self) -> "Claim[T]":
        if self.alternatives and not self.canonical_reason:
            raise ValueError("claims with `alternatives` need `canonical_reason` saying why `value` is canonical")
        return self


def _claim(name: str, value_type: Any) -> type:
    """A concrete (picklable, nicely named) Claim class for one value type.

    Parametrised generics such as ``Claim[Workspace]`` cannot be pickled, and
    the catalogue cache pickles validated records; so each value type gets a
    module-level subclass ``<Name>Claim`` with its ``<Name>Alternative``.
    """
    alternative = type(f"{name}Alternative", (Alternative[value_type],), {"__module__": __name__})
    claim = type(
        f"{name}Claim",
        (Claim[value_type],),
        {
            "__module__": __name__,
            "__annotations__": {"alternatives": list[alternative]},
            "alternatives": Field(default_factory=list),
        },
    )
    globals()[alternative.__name__] = alternative
    return claim


IntraConnectivityClaim = _claim("IntraConnectivity", IntraConnectivity)
InterConnectivityClaim = _claim("InterConnectivity", InterConnectivity)
ParameterAdaptationClaim = _claim("ParameterAdaptation", ParameterAdaptation)
ParameterSharingClaim = _claim("ParameterSharing", ParameterSharing)
InputTypeClaim = _claim("InputType", InputType)
InsertionFormClaim = _claim("InsertionForm", InsertionForm)
NumberOfInsertionsClaim = _claim("NumberOfInsertions", NumberOfInsertions)
IntegrationFormClaim = _claim("IntegrationForm", IntegrationForm)
WorkspaceListClaim = _claim("WorkspaceList", list[Workspace])
ModifiedRepresentationListClaim = _claim("ModifiedRepresentationList", list[ModifiedRepresentation])
CompositionClaim = _claim("Composition", Composition)
PositionListClaim = _claim("PositionList", list[Position])
LialinClassListClaim = _claim("LialinClassList", list[LialinClass])
BoolClaim = _claim("Bool", bool)
YesNoClaim = _claim("YesNo", YesNo)
InferenceOverheadClaim = _claim("InferenceOverhead", InferenceOverhead)
TextClaim = _claim("Text", str)
InitialisationClaim = _claim("Initialisation", Initialisation)
BaseWeightsClaim = _claim("BaseWeights", BaseWeights)
OptimisationClaim = _claim("Optimisation", Optimisation)
RankAllocationClaim = _claim("RankAllocation", RankAllocation)
RegulariserClaim = _claim("Regulariser", Regulariser)


class Citation(Strict):
    authors: list[str] = Field(min_length=1)
    year: int = Field(ge=1950, le=2100)
    title: str = Field(min_length=1)
    venue: str | None = None
    arxiv: str | None = Field(None, pattern=r"^\d{4}\.\d{4,5}(v\d+)?$")
    url: str | None = None
    venue_checked: str | None = Field(None, description="where and when the venue was checked (e.g. `DBLP and OpenReview, 2026-12: no proceedings version`); required by lint PR110 for an arXiv-only venue older than a year")


class PercentRange(Strict):
    """A percentage as the paper writes it (``text``) and as numbers."""

    text: str = Field(description="the paper's wording, e.g. `0.1 - 6` or `~0.5 or ~30`")
    low: float | None = Field(None, ge=0)
    high: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> "PercentRange":
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low}) is greater than high ({self.high})")
        return self


PercentRangeClaim = _claim("PercentRange", PercentRange)


class PeftRefProperties(Strict):
    """The nine PEFT-Ref properties (Sabry & Belz 2023 §3) of one component."""

    intra_connectivity: IntraConnectivityClaim
    inter_connectivity: InterConnectivityClaim
    parameter_adaptation: ParameterAdaptationClaim
    parameter_sharing: ParameterSharingClaim
    input_type: InputTypeClaim
    insertion_form: InsertionFormClaim
    number_of_insertions: NumberOfInsertionsClaim
    integration_form: IntegrationFormClaim
    workspace: WorkspaceListClaim


class FunctionalFormValue(Strict):
    category: FunctionalForm
    formula: str = Field(min_length=1, description="Δh as text, in He et al.'s notation where they give it")


FunctionalFormClaim = _claim("FunctionalForm", FunctionalFormValue)


class UnifiedView(Strict):
    """He et al. 2022's design dimensions (§3.2) of one component."""

    functional_form: FunctionalFormClaim
    modified_representation: ModifiedRepresentationListClaim
    insertion_form: InsertionFormClaim
    composition: CompositionClaim


Scalar = Union[bool, int, float, str]


class Hyperparameter(Strict):
    default: Scalar
    description: str
    source: Source
    range: str | None = Field(None, description="values the paper explored, as text")
    aliases: list[str] = Field(default_factory=list, description="other names users type for it (HF peft / AdapterHub config fields, plain words); `--set ALIAS=VALUE` sets it")


FORMULA_DESCRIPTION = (
    "arithmetic over model dimensions and the component's hyperparameters: "
    "d (hidden size), d_ff (FFN inner size), n_heads, d_head, L (layers), d_in / d_out "
    "(input/output size of the module at the insertion; for a selected parameter tensor d_out is its first dimension and d_in its "
    "size / d_out), vocab, n_positions, n_insertions; boolean hyperparameters count as 0/1; + - * / // ** ( ) and min/max"
)


class ParameterCount(Strict):
    """Closed-form count of the component's added parameters.

    ``per_insertion`` is evaluated once per module the component is inserted at
    (with that module's ``d_in``/``d_out``) and summed; ``shared`` is counted
    once for the whole model.  ``stored_*`` give what must be kept after
    training when it differs from what is trained (e.g. prefix tuning discards
    its reparametrisation MLP).
    """

    per_insertion: str = Field(description=FORMULA_DESCRIPTION)
    shared: str = Field("0", description=FORMULA_DESCRIPTION)
    stored_per_insertion: str | None = Field(None, description=FORMULA_DESCRIPTION)
    stored_shared: str | None = Field(None, description=FORMULA_DESCRIPTION)
    source: Source

    @field_validator("per_insertion", "shared", "stored_per_insertion", "stored_shared")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_formula(value)
            except FormulaError as exc:
                raise ValueError(str(exc)) from None
        return value


class Component(Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(_[a-z0-9]+)*$", description="unique within the method, snake_case")
    name: str
    description: str | None = None
    positions: PositionListClaim
    layers: TextClaim | None = Field(None, description="which layers the component acts on, when not every layer (e.g. a layer group of S4)")
    peft_ref: PeftRefProperties
    unified_view: UnifiedView
    hyperparameters: dict[str, Hyperparameter] = Field(default_factory=dict)
    parameter_count: ParameterCount | None = None
    module: ModuleName | None = Field(None, description="reference module in the registry; null when not executable yet")
    not_executable_reason: str | None = None

    @field_validator("hyperparameters")
    @classmethod
    def _hyperparameter_names(cls, value: dict[str, Hyperparameter]) -> dict[str, Hyperparameter]:
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"hyperparameter name {name!r} must be lowercase snake_case")
        return value

    @model_validator(mode="after")
    def _formula_names(self) -> "Component":
        if self.parameter_count is None:
            return self
        from .formula import MODEL_VARIABLES, FormulaError, names_in, probe

        allowed = set(MODEL_VARIABLES) | set(self.hyperparameters)
        for field_name in ("per_insertion", "shared", "stored_per_insertion", "stored_shared"):
            text = getattr(self.parameter_count, field_name)
            if text is None:
                continue
            unknown = sorted(names_in(text) - allowed)
            if unknown:
                raise ValueError(
                    f"parameter_count.{field_name} uses {', '.join(unknown)}, which is neither a model dimension "
                    f"({', '.join(sorted(MODEL_VARIABLES))}) nor one of this component's hyperparameters"
                )
            defaults = {n: h.default for n, h in self.hyperparameters.items() if isinstance(h.default, (int, float))}
            try:  # evaluated once at typical sizes, so a formula `instantiate` cannot evaluate fails validation
                probe(text, {n: defaults.get(n, 8) for n in names_in(text) if n not in MODEL_VARIABLES})
            except FormulaError as exc:
                raise ValueError(f"parameter_count.{field_name}: {exc}") from None
        if self.module is None and not self.not_executable_reason:
            raise ValueError("a component without `module` needs `not_executable_reason`")
        return self


class Taxonomy(Strict):
    """Lialin et al. §3: class letters (Table 1 `Type`) and hybridity (§3.4, §11)."""

    classes: LialinClassListClaim
    hybrid: BoolClaim


class Efficiency(Strict):
    """Lialin et al. Table 1 columns."""

    storage: YesNoClaim
    memory: YesNoClaim
    backprop: YesNoClaim
    inference_overhead: InferenceOverheadClaim


class Recipe(Strict):
    """How the method is initialised and trained: the facts that tell members of one family apart
    (PiSSA or LoftQ from LoRA).  Each is optional; an absent fact is not stated by the record."""

    initialisation: InitialisationClaim | None = None
    base_weights: BaseWeightsClaim | None = None
    optimisation: OptimisationClaim | None = None
    rank_allocation: RankAllocationClaim | None = None
    regulariser: RegulariserClaim | None = None


class EvaluatedOn(Strict):
    lt_1b: YesNo
    lt_20b: YesNo
    gt_20b: YesNo


EvaluatedOnClaim = _claim("EvaluatedOn", EvaluatedOn)


class Scale(Strict):
    """Lialin et al. Table 2 columns."""

    trainable_percent: PercentRangeClaim | None = None
    changed_percent: PercentRangeClaim | None = None
    evaluated_on: EvaluatedOnClaim | None = None


class Relation(Strict):
    type: RelationType
    target: str = Field(pattern=ID_PATTERN)
    note: str | None = None
    source: Source


class Deviation(Strict):
    """A verified difference between a library's implementation and the method's paper."""

    description: str
    verified_by: str | None = Field(None, description="the test that pins it, e.g. tests/reference/test_peft_agreement.py::test_ia3_ffn_placement")
    source: Source


class Implementation(Strict):
    """How a library implements the method (crosswalk and deviations)."""

    library: Literal["peft", "adapters"]
    config_class: str = Field(description="e.g. LoraConfig, SeqBnConfig")
    peft_type: str | None = Field(None, description="the PeftType value (Hugging Face peft only), e.g. LORA")
    options: dict[str, Scalar] = Field(default_factory=dict, description="config options that select this method, e.g. use_dora: true")
    placement: dict[str, list[str]] = Field(default_factory=dict, description="default target modules per model_type, where the library has defaults")
    version: str | None = Field(None, description="library version the entry was checked against")
    deviations: list[Deviation] = Field(default_factory=list)
    source: Source


class SeedRow(Strict):
    """Where this method appears in a seed document's table (keeps the paper's row order)."""

    row: int = Field(ge=1)
    label: str = Field(description="the row's heading as the paper prints it")


class Method(Strict):
    """One catalogue record: ``catalogue/methods/<id>.yaml``."""

    id: str = Field(pattern=ID_PATTERN, description="lowercase kebab-case, equal to the file name")
    name: str = Field(min_length=1)
    kind: MethodKind = "method"  # type: ignore[valid-type, assignment]
    aliases: list[str] = Field(default_factory=list)
    citation: Citation
    summary: str = Field(min_length=40, description="one paragraph in our own words")
    taxonomy: Taxonomy
    efficiency: Efficiency
    scale: Scale = Field(default_factory=Scale)
    components: list[Component] = Field(min_length=1)
    recipe: Recipe | None = Field(None, description="initialisation, base-weight precision, optimiser, rank allocation and regulariser, where the paper defines them")
    relations: list[Relation] = Field(default_factory=list)
    references: dict[str, Citation] = Field(default_factory=dict, description="other papers cited by `source.ref`")
    seed_tables: dict[SeedTable, SeedRow] = Field(default_factory=dict)
    implementations: list[Implementation] = Field(default_factory=list, description="crosswalk to Hugging Face peft and AdapterHub adapters")
    peft_atlas_id: str | None = Field(None, description="the method's id in the peft-atlas catalogue (xiaoyulics/peft-atlas), where it has one")
    notes: str | None = None

    @model_validator(mode="after")
    def _component_ids_unique(self) -> "Method":
        seen: set[str] = set()
        for component in self.components:
            if component.id in seen:
                raise ValueError(f"component id {component.id!r} appears twice")
            seen.add(component.id)
        return self

    # -- convenience used by graph/render layers --------------------------------
    @property
    def class_letters(self) -> str:
        """Lialin Table 1's Type letters in the paper's order (A, R, S)."""
        letters = {VOCABULARIES["lialin_class"].term(c).attrs["letter"] for c in self.taxonomy.classes.value}
        return "".join(letter for letter in "ARS" if letter in letters)

    def iter_sources(self):
        """Yield (path, Source) for every source in the record."""
        yield from _walk_sources(self, ())


def _walk_sources(obj: Any, path: tuple):
    if isinstance(obj, Source):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _walk_sources(getattr(obj, name), path + (name,))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _walk_sources(value, path + (key,))
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            yield from _walk_sources(value, path + (index,))


KNOWN_REFS = frozenset(SEED_DOCUMENTS) | {"paper", "derived"}
