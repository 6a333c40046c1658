"""The static site: a filterable index of every record and one page per method.

Pages are filled from view models built here (labels, sources, links), so the
templates in ``renderers/site/`` only loop and print; jinja2 autoescapes every
value, and the inline diagram is our own escaped SVG.  The index filters with a
few lines of inline JavaScript over ``data-facets`` attributes, so the site
works from ``file://`` with no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..safety import safe_url

from ..graph import fields as query_fields
from ..graph.locations import overlaps
from ..schema.models import Claim, Component, Method
from ..schema.vocabulary import SEED_DOCUMENTS, VOCABULARIES
from .diagram import diagram_svg
from .environment import render_template
from .fields import display, source_text
from .text import PEFT_REF_FIELDS, UNIFIED_FIELDS

# Index columns (heading, field name in the query fields table); values shown as term labels.
INDEX_COLUMNS = (
    ("Type", "taxonomy.classes"),
    ("Insertion form", "peft_ref.insertion_form"),
    ("Workspace", "peft_ref.workspace"),
    ("Composition", "unified_view.composition"),
    ("Inference overhead", "efficiency.inference_overhead"),
)
FILTER_KINDS = ("enum", "bool", "position")
# Filters shown first; the rest fold under "More filters" so the table stays above the fold.
PRIMARY_FILTERS = ("positions", "peft_ref.insertion_form", "peft_ref.workspace", "unified_view.composition", "taxonomy.classes", "efficiency.inference_overhead")
# Rows of the compare view: (heading, query field) — the typology side by side.
COMPARE_FIELDS = INDEX_COLUMNS + (
    ("Positions", "positions"),
    ("Parameter adaptation", "peft_ref.parameter_adaptation"),
    ("Parameter sharing", "peft_ref.parameter_sharing"),
    ("Integration form", "peft_ref.integration_form"),
    ("Modified representation", "unified_view.modified_representation"),
    ("Functional form", "unified_view.functional_form.category"),
    ("Storage efficient", "efficiency.storage"),
    ("Memory efficient", "efficiency.memory"),
)


class SiteError(ValueError):
    """The site cannot be written where asked."""


@dataclass(frozen=True)
class ClaimView:
    label: str
    value: str
    source: str
    note: str = ""
    alternatives: tuple[tuple[str, str], ...] = ()
    canonical_reason: str = ""


@dataclass(frozen=True)
class ComponentView:
    id: str
    name: str
    description: str
    positions: ClaimView
    peft_ref: tuple[ClaimView, ...]
    unified_view: tuple[ClaimView, ...]
    hyperparameters: tuple[tuple[str, str, str, str], ...]  # name, default, description, source
    parameter_count: str
    module: str


@dataclass(frozen=True)
class Link:
    text: str
    href: str  # "" when the target is not in the catalogue


@dataclass(frozen=True)
class DiffRow:
    field: str
    a: str
    b: str
    css_class: str  # "same" or "differs"


@dataclass(frozen=True)
class DiffView:
    other: Link
    summary: str
    rows: tuple[DiffRow, ...]


@dataclass(frozen=True)
class FilterView:
    name: str
    label: str
    options: tuple[tuple[str, str], ...]  # (value, label)
    level: str = "component"  # "method": a fact of the record; "component": must hold within one component

    @property
    def primary(self) -> bool:
        return self.name in PRIMARY_FILTERS


@dataclass
class IndexRow:
    id: str
    name: str
    href: str
    letters: str
    year: int
    cells: list[str]
    facets: str
    search: str
    components: str = ""  # per component, its facet tokens; components separated by "|"
    compare: str = ""  # the compare view's cells, one per COMPARE_FIELDS row, separated by "|"


def _vocabulary_of(name: str) -> str | None:
    fld = query_fields.BY_NAME.get(name)
    return fld.vocabulary if fld else None


def claim_view(label: str, claim: Claim, vocabulary: str | None = None) -> ClaimView:
    return ClaimView(
        label,
        display(claim.value, vocabulary),
        source_text(claim.source),
        claim.note or "",
        tuple((display(a.value, vocabulary), source_text(a.source)) for a in claim.alternatives),
        claim.canonical_reason or "",
    )


def _title(vocabulary: str) -> str:
    return VOCABULARIES[vocabulary].title


def component_view(component: Component) -> ComponentView:
    peft_ref = tuple(claim_view(_title(n), getattr(component.peft_ref, n), n) for n in PEFT_REF_FIELDS)
    unified = tuple(
        claim_view(_title(n) if n != "functional_form" else "Functional form", getattr(component.unified_view, n), n)
        for n in UNIFIED_FIELDS
    )
    hyper = tuple((name, display(hp.default), hp.description + (f" (explored: {hp.range})" if hp.range else ""), source_text(hp.source)) for name, hp in component.hyperparameters.items())
    count = ""
    if component.parameter_count:
        pc = component.parameter_count
        count = f"{pc.per_insertion} per insertion" + (f" + {pc.shared} shared" if pc.shared != "0" else "") + f" [{source_text(pc.source)}]"
    module = component.module or f"not executable: {component.not_executable_reason}"
    return ComponentView(component.id, component.name, component.description or "", claim_view("Positions", component.positions, "position"), peft_ref, unified, hyper, count, module)


def _facet_values(method: Method, fld) -> list[Any]:
    if fld.level == "method":
        return query_fields.values(fld, method)
    return [v for c in method.components for v in query_fields.values(fld, method, c)]


def _facet_token(name: str, value: Any) -> str:
    return f"{name}={str(value).lower()}"


def _component_tokens(method: Method, fields: list, positions: list[str]) -> list[set[str]]:
    """Per component, the facet tokens the query language would match on it.

    A position filter keeps a component when the chosen position covers one of the
    component's (``ffn`` covers ``ffn.in``; ``attention`` covers ``attention.q``), decided
    by the query's own :func:`~peftref_kb.graph.locations.overlaps`, so the site's
    filters and ``peftref query`` agree without the page re-implementing the hierarchy.
    """
    out = []
    for component in method.components:
        tokens: set[str] = set()
        for fld in fields:
            if fld.level == "method":
                continue
            values = query_fields.values(fld, method, component)
            if fld.kind == "position":
                tokens |= {_facet_token(fld.name, p) for p in positions if overlaps(p, [str(v) for v in values])}
            else:
                tokens |= {_facet_token(fld.name, v) for v in values}
        out.append(tokens)
    return out


def index_view(methods: list[Method]) -> tuple[list[IndexRow], list[FilterView]]:
    filters_fields = [f for f in query_fields.FIELDS if f.kind in FILTER_KINDS]
    rows = []
    seen: dict[str, set[str]] = {f.name: set() for f in filters_fields}
    positions = [t.value for t in VOCABULARIES["position"]]
    per_method: list[list[set[str]]] = []
    for method in methods:
        tokens = []
        components = _component_tokens(method, filters_fields, positions)
        per_method.append(components)
        for fld in filters_fields:
            if fld.kind == "position":
                covered = {t.split("=", 1)[1] for c in components for t in c if t.startswith(fld.name + "=")}
                tokens += [_facet_token(fld.name, v) for v in covered]
                seen[fld.name] |= covered
                continue
            for value in _facet_values(method, fld):
                tokens.append(_facet_token(fld.name, value))
                seen[fld.name].add(str(value).lower())
        cells = []
        for _, name in INDEX_COLUMNS:
            values = list(dict.fromkeys(_facet_values(method, query_fields.BY_NAME[name])))
            cells.append(display(values, _vocabulary_of(name), join="; "))
        search = " ".join([method.id, method.name, *method.aliases]).lower()
        method_tokens = {_facet_token(f.name, v) for f in filters_fields if f.level == "method" for v in _facet_values(method, f)}
        components_text = "|".join(" ".join(sorted(c | method_tokens)) for c in components)
        compare = "|".join(display(list(dict.fromkeys(_facet_values(method, query_fields.BY_NAME[name]))), _vocabulary_of(name), join="; ").replace("|", "/") for _, name in COMPARE_FIELDS)
        rows.append(IndexRow(method.id, method.name, f"methods/{method.id}.html", method.class_letters, method.citation.year, cells, " ".join(sorted(set(tokens))), search, components_text, compare))
    titles = [_title(f.vocabulary) if f.vocabulary else f.short for f in filters_fields]
    filters = []
    for fld, title in zip(filters_fields, titles):
        present = seen[fld.name]
        if fld.vocabulary:
            options = tuple((t.value, t.label) for t in VOCABULARIES[fld.vocabulary] if t.value.lower() in present)
        else:
            options = tuple((v, display(v == "true")) for v in sorted(present))
        if options:
            # a vocabulary shared by several fields (yes/no) does not name the field: use the field's own words
            label = title if titles.count(title) == 1 or fld.name.split(".")[0] in ("peft_ref", "unified_view") else (fld.cues[0] if fld.cues else fld.short)
            label = label[0].upper() + label[1:]
            prefix = "He et al.: " if fld.name.startswith("unified_view.") else "PEFT-Ref: " if fld.name.startswith("peft_ref.") else ""
            filters.append(FilterView(fld.name, prefix + label, options, fld.level))
    return rows, filters


def _diff_view(method: Method, other: Method, diff_methods) -> DiffView:
    diff = diff_methods(method, other)

    def row(r, prefix: str = "") -> DiffRow:
        vocabulary = _vocabulary_of(r.field)
        return DiffRow(prefix + r.field, display(r.a, vocabulary), display(r.b, vocabulary), "same" if r.same else "differs")

    rows = [row(r) for r in diff.method_rows]
    for pair in diff.components:
        if pair.a is None or pair.b is None:
            rows.append(DiffRow("component", pair.a or "—", pair.b or "—", "differs"))
            continue
        rows += [row(r, f"{pair.a} ~ {pair.b}: ") for r in pair.rows]
    differing = sum(r.css_class == "differs" for r in rows)
    summary = f"{differing} of {len(rows)} properties differ (typology distance {diff.distance:.2f})"
    return DiffView(Link(other.name, f"{other.id}.html"), summary, tuple(rows))


def _diff_function():
    try:
        from ..graph.diff import diff_methods
    except ImportError:  # the graph layer is optional for rendering
        return None
    return diff_methods


def method_context(method: Method, catalogue) -> dict:
    c = method.citation
    links = []
    if c.arxiv:
        links.append(Link(f"arXiv:{c.arxiv}", f"https://arxiv.org/abs/{c.arxiv}"))
    if c.url and safe_url(c.url):  # javascript:, data: and the like never become a live href
        links.append(Link(c.url, safe_url(c.url)))
    relations = []
    diffs = []
    diff_methods = _diff_function()
    for relation in method.relations:
        target = catalogue.get(relation.target) if relation.target in catalogue else None
        relations.append(
            (
                VOCABULARIES["relation"].term(relation.type).label,
                Link(target.name if target else relation.target, f"{relation.target}.html" if target else ""),
                relation.note or "",
                source_text(relation.source),
            )
        )
        if target is not None and diff_methods is not None and all(d.other.href != f"{target.id}.html" for d in diffs):
            diffs.append(_diff_view(method, target, diff_methods))
    efficiency = [claim_view("Lialin class", method.taxonomy.classes, "lialin_class"), claim_view("Hybrid", method.taxonomy.hybrid)]
    for name, vocabulary in (("storage", "yes_no"), ("memory", "yes_no"), ("backprop", "yes_no"), ("inference_overhead", "inference_overhead")):
        efficiency.append(claim_view(name.replace("_", " ").capitalize(), getattr(method.efficiency, name), vocabulary))
    for name, label in (("trainable_percent", "% trainable parameters"), ("changed_percent", "% changed parameters"), ("evaluated_on", "Evaluated on")):
        claim = getattr(method.scale, name)
        if claim is not None:
            efficiency.append(claim_view(label, claim, "yes_no"))
    seeds = [(SEED_DOCUMENTS[key.split("/")[0]]["citation"].split(",")[0] + ", " + key.split("/")[1].replace("-", " "), row.row, row.label) for key, row in method.seed_tables.items()]
    return {
        "method": method,
        "kind_label": VOCABULARIES["method_kind"].term(method.kind).label,
        "authors": ", ".join(c.authors),
        "links": links,
        "efficiency": efficiency,
        "components": [component_view(x) for x in method.components],
        "relations": relations,
        "diffs": diffs,
        "diagram": Markup(diagram_svg([method])),  # rendered by the autoescaping SVG template
        "seeds": seeds,
        "references": [(key, ref.title, f"{', '.join(ref.authors)} {ref.year}") for key, ref in method.references.items()],
    }


def build_site(catalogue, directory: str | Path, *, force: bool = False) -> list[Path]:
    """Write ``index.html`` and ``methods/<id>.html``; returns the files written."""
    from .outdir import OutputDirError, OwnedDirectory

    directory = Path(directory)
    try:
        owned = OwnedDirectory(directory, "peftref site", force=force)  # removes only files it wrote before
    except OutputDirError as exc:
        raise SiteError(str(exc)) from None
    methods = list(catalogue)
    rows, filters = index_view(methods)
    pages = directory / "methods"
    pages.mkdir(parents=True, exist_ok=True)
    result_pages = _results_pages(catalogue, directory, force)
    written = [path for path, _ in result_pages]
    results = [{"title": title, "href": f"results/{path.name}"} for path, title in result_pages]
    index = directory / "index.html"
    index.write_text(
        render_template("html", "site/index.html.j2", rows=rows, filters=filters, columns=[h for h, _ in INDEX_COLUMNS], compare_fields=[h for h, _ in COMPARE_FIELDS], count=len(rows), results=results),
        encoding="utf-8",
    )
    written.append(index)
    for method in methods:
        page = pages / f"{method.id}.html"
        page.write_text(render_template("html", "site/method.html.j2", **method_context(method, catalogue)), encoding="utf-8")
        written.append(page)
    owned.commit(written)
    return written


def _results_pages(catalogue, directory: Path, force: bool) -> list[tuple[Path, str]]:
    """One page per benchmark of the catalogue's reported results (catalogue/results/), when it has any: (path, title)."""
    from ..store.results import RESULTS_DIR, load_results

    if not (catalogue.root / RESULTS_DIR).is_dir():
        return []
    from ..graph.evidence import results_pages

    pages = results_pages(load_results(catalogue))
    target = directory / "results"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages:
        path = target / f"{page['slug']}.html"
        path.write_text(render_template("html", "site/results.html.j2", page=page, pages=pages), encoding="utf-8")
        written.append((path, page["title"]))
    return written
