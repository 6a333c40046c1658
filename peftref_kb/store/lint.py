"""Lint rules across records: the second validation layer.

Each rule has a stable code (``PR1xx``) and a message that says how to fix the
problem.  Rules read validated :class:`Method` objects plus each record's line
map, so problems still point at ``file:line``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable

from ..schema.models import KNOWN_REFS, Method
from .yamlio import Problem, dotted


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    description: str
    check: Callable[["LintContext"], Iterable[Problem]]


@dataclass
class LintContext:
    methods: dict[str, Method]
    files: dict[str, str]
    lines: dict[str, dict[tuple, int]]

    def line(self, method_id: str, path: tuple) -> int | None:
        lines = self.lines.get(method_id, {})
        path = tuple(path)
        while path not in lines and path:
            path = path[:-1]
        return lines.get(path)

    def problem(self, method_id: str, path: tuple, message: str, code: str) -> Problem:
        return Problem(self.files.get(method_id, method_id), self.line(method_id, path), dotted(path), message, code)


def _relation_targets(ctx: LintContext):
    for mid, method in ctx.methods.items():
        for i, rel in enumerate(method.relations):
            if rel.target not in ctx.methods:
                yield ctx.problem(mid, ("relations", i, "target"), f"relation target {rel.target!r} is not a record in this catalogue; add catalogue/methods/{rel.target}.yaml or fix the id", "PR101")
            elif rel.target == mid:
                yield ctx.problem(mid, ("relations", i, "target"), "a method cannot relate to itself; remove this relation", "PR101")


def _aliases(ctx: LintContext):
    owners: dict[str, list[tuple[str, tuple]]] = defaultdict(list)
    for mid, method in ctx.methods.items():
        owners[method.id.lower()].append((mid, ("id",)))
        owners[method.name.lower()].append((mid, ("name",)))
        for i, alias in enumerate(method.aliases):
            owners[alias.lower()].append((mid, ("aliases", i)))
    for name, uses in owners.items():
        distinct = sorted({mid for mid, _ in uses})
        if len(distinct) > 1:
            for mid, path in uses:
                if path[0] == "aliases":
                    others = ", ".join(o for o in distinct if o != mid)
                    yield ctx.problem(mid, path, f"alias {name!r} is also the id, name or alias of {others}; an alias must point at one method — remove it or make it specific", "PR102")


def _sources(ctx: LintContext):
    for mid, method in ctx.methods.items():
        allowed = KNOWN_REFS | set(method.references)
        for path, source in method.iter_sources():
            if source.ref not in allowed:
                yield ctx.problem(
                    mid,
                    path + ("ref",),
                    f"source {source.ref!r} is not a seed document ({', '.join(sorted(KNOWN_REFS - {'paper', 'derived'}))}), `paper`, `derived` or a key of `references`; add it under `references`",
                    "PR103",
                )


def _unused_references(ctx: LintContext):
    for mid, method in ctx.methods.items():
        used = {source.ref for _, source in method.iter_sources()}
        for key in method.references:
            if key not in used:
                yield ctx.problem(mid, ("references", key), f"reference {key!r} is never cited by a source; cite it or remove it", "PR104")


def _seed_rows(ctx: LintContext):
    taken: dict[tuple[str, int], str] = {}
    for mid in sorted(ctx.methods):
        for table, row in ctx.methods[mid].seed_tables.items():
            other = taken.get((table, row.row))
            if other is not None:
                yield ctx.problem(mid, ("seed_tables", table, "row"), f"row {row.row} of {table} is already claimed by {other}; each row belongs to one record", "PR105")
            else:
                taken[(table, row.row)] = mid


def _hybrid_components(ctx: LintContext):
    for mid, method in ctx.methods.items():
        if method.taxonomy.hybrid.value and not any(r.type == "combines" for r in method.relations) and len(method.components) < 2:
            yield ctx.problem(mid, ("taxonomy", "hybrid"), "a hybrid method needs at least two components or a `combines` relation naming what it combines", "PR106")


def _baseline_not_peft(ctx: LintContext):
    for mid, method in ctx.methods.items():
        if method.kind == "baseline" and method.seed_tables:
            yield ctx.problem(mid, ("seed_tables",), "a baseline is not a PEFT method and cannot occupy a row of a PEFT method table", "PR107")


# --- placement, venue, vocabulary and cross-record consistency (issue 17) ----------

# A source states a library's *default* placement when it cites a default-target-module table
# or says it takes the library's defaults; the method's own placement comes from its paper or code.
_LIBRARY_DEFAULT = re.compile(
    r"TARGET_MODULES_MAPPING|default target[ _]modules|default target_modules|target_modules default|"
    r"attn_matrices inherited|copy of (?:the )?\w+(?:'s)? (?:default )?(?:target modules|mapping)",
    re.I,
)


def library_default_source(method: Method, source) -> bool:
    """True when ``source`` takes a placement from a library's default target modules."""
    text = " ".join(t for t in (source.loc, source.quote, source.reasoning) if t)
    return source.ref.endswith("-constants") or bool(_LIBRARY_DEFAULT.search(text))


def _positions_not_library_default(ctx: LintContext):
    for mid, method in ctx.methods.items():
        for i, component in enumerate(method.components):
            claim = component.positions
            if claim.value != ["unknown"] and library_default_source(method, claim.source):
                yield ctx.problem(
                    mid,
                    ("components", i, "positions", "source"),
                    "positions come from a library's default target modules, which is not the method's own placement; cite the paper or the authors' "
                    "official code, or set the value to [unknown] and keep the default as an alternative (and under implementations[].placement)",
                    "PR108",
                )


def _term_index():
    from ..schema.vocabulary import VOCABULARIES

    return {(vocab.name, term.value): term for vocab in VOCABULARIES.values() for term in vocab}


# the vocabulary a claim's value is drawn from, by the field's name
_FIELD_VOCABULARY = {
    "intra_connectivity": "intra_connectivity", "inter_connectivity": "inter_connectivity", "parameter_adaptation": "parameter_adaptation",
    "parameter_sharing": "parameter_sharing", "input_type": "input_type", "insertion_form": "insertion_form",
    "number_of_insertions": "number_of_insertions", "integration_form": "integration_form", "workspace": "workspace",
    "functional_form": "functional_form", "modified_representation": "modified_representation", "composition": "composition",
    "classes": "lialin_class", "inference_overhead": "inference_overhead", "positions": "position",
    "initialisation": "initialisation", "base_weights": "base_weights", "optimisation": "optimisation", "rank_allocation": "rank_allocation", "regulariser": "regulariser",
}


def _claims(obj, path=()):
    """Yield (path, field name, claim) for every Claim in a record."""
    from pydantic import BaseModel

    from ..schema.models import Claim

    if isinstance(obj, Claim):
        yield path, path[-1] if path else "", obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _claims(getattr(obj, name), path + (name,))
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            yield from _claims(value, path + (index,))


def _values(claim) -> set[str]:
    value = claim.value
    if hasattr(value, "category"):
        value = value.category
    return set(value) if isinstance(value, list) else {value} if isinstance(value, str) else set()


def _vocabulary_quotes_current(ctx: LintContext):
    """Text that says it quotes a vocabulary definition must still be in that definition."""
    from ..schema.vocabulary import VOCABULARIES

    pattern = re.compile(r"definition of `([\w.-]+)`[^\"“]*[\"“]([^\"”]+)[\"”]")
    for mid, method in ctx.methods.items():
        for path, source in method.iter_sources():
            for m in pattern.finditer(source.reasoning or ""):
                value, quoted = m.groups()
                definitions = [t.definition for v in VOCABULARIES.values() for t in v if t.value == value]
                if not any(quoted.lower() in d.lower() for d in definitions):
                    yield ctx.problem(mid, path + ("reasoning",), f"quotes {quoted!r} from the vocabulary's definition of {value!r}, which no longer says so; update the claim to the current vocabulary", "PR109")


def _vocabulary_examples_use_value(ctx: LintContext):
    """A record a vocabulary definition names as its example, e.g. "(C3A)", uses that value in that field."""
    from ..schema.vocabulary import VOCABULARIES

    names: dict[str, str] = {}
    for mid, method in ctx.methods.items():
        for name in (method.name, *method.aliases):
            names[name.lower()] = mid
    for vocab in VOCABULARIES.values():
        if vocab.name not in _FIELD_VOCABULARY.values():
            continue
        for term in vocab:
            for group in re.findall(r"\(([^()]*)\)", term.definition):
                for token in re.split(r",\s*(?:as in\s+|such as\s+|e\.g\.\s+)?|\s+such as\s+|\s+as in\s+|^(?:as in|such as|e\.g\.)\s+", group):
                    mid = names.get(token.strip().lower())
                    if mid is None:
                        continue
                    used = set()
                    for _, field, claim in _claims(ctx.methods[mid]):
                        if _FIELD_VOCABULARY.get(field) == vocab.name:
                            used |= _values(claim) | {v for alt in claim.alternatives for v in _values(alt)}
                    if term.value not in used:
                        yield ctx.problem(mid, ("components",), f"the vocabulary names this method as the example of {vocab.name} {term.value!r}, but no {vocab.name} claim uses it; use the value or change the definition", "PR109")


def _arxiv_venue_checked(ctx: LintContext):
    import datetime

    this_year = datetime.date.today().year
    for mid, method in ctx.methods.items():
        for path, citation in [(("citation",), method.citation)] + [(("references", k), c) for k, c in method.references.items()]:
            venue = (citation.venue or "").lower()
            if citation.arxiv and (not venue or venue.startswith("arxiv")) and this_year - citation.year >= 1 and not citation.venue_checked:
                yield ctx.problem(mid, path + ("venue",), f"venue is an arXiv preprint from {citation.year}, more than a year old: check for a published version and record where in `venue_checked`", "PR110")


def _hybrid_matches_classes(ctx: LintContext):
    for mid, method in ctx.methods.items():
        classes, hybrid = method.taxonomy.classes.value, method.taxonomy.hybrid
        several = len(classes) > 1
        if several != bool(hybrid.value) and not (hybrid.note or hybrid.canonical_reason):
            state = "several classes but is not hybrid" if several else "is hybrid with one class"
            yield ctx.problem(mid, ("taxonomy", "hybrid"), f"the method has {state}; Lialin §3.4 calls a method combining classes hybrid — fix one of them or say why in `note`", "PR111")


def _insertion_counts_consistent(ctx: LintContext):
    """The same placement (positions over every layer) means the same number of insertions in every record."""
    groups: dict[tuple, list[tuple[str, int, str]]] = defaultdict(list)
    for mid, method in ctx.methods.items():
        for i, component in enumerate(method.components):
            claim = component.peft_ref.number_of_insertions
            count = claim.value
            if claim.note or component.layers is not None or count in ("unknown", "some-layers", "none") or component.positions.value == ["unknown"]:
                continue
            groups[tuple(sorted(component.positions.value))].append((mid, i, count))
    for positions, uses in groups.items():
        counts = defaultdict(list)
        for mid, i, count in uses:
            counts[count].append(mid)
        if len(counts) < 2:
            continue
        majority = max(counts, key=lambda c: (len(counts[c]), c))
        for mid, i, count in uses:
            if count != majority:
                yield ctx.problem(
                    mid,
                    ("components", i, "peft_ref", "number_of_insertions"),
                    f"placement {list(positions)} is {count!r} here but {majority!r} in {', '.join(sorted(set(counts[majority])))}; the same placement has one insertion count (or say in `note` why this one differs)",
                    "PR112",
                )


def _mentions(text: str, term) -> bool:
    norm = lambda t: re.sub(r"[\s\-_]+", " ", t.lower())  # noqa: E731
    text = norm(text)
    words = {term.value, term.label, *term.synonyms}
    return any(norm(w) in text for w in words if len(w) > 2)


# Fields whose quotes are checked.  The word-level check is crude (a pseudocode line such as `k = l_k * k`
# states rescaling without naming it), so it runs on the fields where the fact check found quotes cited for a
# value they do not state, and not on the seed documents' pseudocode, which was checked line by line.
# Widening it (parameter_adaptation: 15 paper quotes to rework, functional_form: 15) is open work.
_QUOTE_CHECKED_FIELDS = frozenset({"composition"})
_SEED_REFS = frozenset({"lialin-2023", "he-2022", "pu-2023", "sabry-belz-2023"})


def _quotes_state_values(ctx: LintContext):
    """A quote cited for a typology value contains a term of that value (its value, label or a synonym)."""
    from ..schema.vocabulary import VOCABULARIES

    for mid, method in ctx.methods.items():
        for path, field, claim in _claims(method):
            vocab_name = _FIELD_VOCABULARY.get(field)
            source = claim.source
            if field not in _QUOTE_CHECKED_FIELDS or not source.quote or source.ref in _SEED_REFS or source.ref == "derived":
                continue
            vocab = VOCABULARIES[vocab_name]
            values = [v for v in _values(claim) if v != "unknown"]
            if values and not any(_mentions(source.quote, vocab.term(v)) for v in values):
                yield ctx.problem(
                    mid,
                    path + ("source", "quote"),
                    f"the quote does not state {', '.join(values)} (no wording of the term appears in it); quote the sentence that does, or make the source `derived` with reasoning",
                    "PR113",
                )


def _variants_differ(ctx: LintContext):
    """A record declared a variant of (or derived from) another that the typology and recipe facts cannot tell apart
    must say in the relation's note what differs; otherwise `diff`/`similar` report "differs in: nothing"."""
    from ..graph.diff import diff_methods

    for mid, method in ctx.methods.items():
        for i, rel in enumerate(method.relations):
            target = ctx.methods.get(rel.target)
            if rel.type not in ("variant-of", "derived-from") or target is None or rel.note:
                continue
            if diff_methods(method, target).distance == 0:
                yield ctx.problem(
                    mid,
                    ("relations", i),
                    f"{mid} is at distance 0 from {rel.target}: no typology or recipe fact tells them apart; add the fact that differs (e.g. recipe.initialisation) or say in this relation's `note` what differs",
                    "PR114",
                )


RULES: tuple[Rule, ...] = (
    Rule("PR101", "relation-target-exists", "Every relation target is a record in the catalogue.", _relation_targets),
    Rule("PR102", "alias-not-shared", "An alias names exactly one method.", _aliases),
    Rule("PR103", "source-cited", "Every source names a seed document, the record's paper, `derived`, or one of the record's references.", _sources),
    Rule("PR104", "reference-used", "Every entry of `references` is cited by some source.", _unused_references),
    Rule("PR105", "seed-row-unique", "A row of a seed table belongs to one record.", _seed_rows),
    Rule("PR106", "hybrid-has-parts", "A hybrid method lists its parts as components or `combines` relations.", _hybrid_components),
    Rule("PR107", "baseline-not-in-peft-tables", "Baselines do not occupy rows of PEFT method tables.", _baseline_not_peft),
    Rule("PR108", "positions-not-library-default", "Canonical positions come from the paper or official code, not a library's default target modules.", _positions_not_library_default),
    Rule("PR109", "vocabulary-text-current", "Text quoted from the vocabulary is still in it; a method a definition names as its example uses that value.", lambda ctx: [*_vocabulary_quotes_current(ctx), *_vocabulary_examples_use_value(ctx)]),
    Rule("PR110", "arxiv-venue-checked", "An arXiv-only venue older than a year records where its publication status was checked.", _arxiv_venue_checked),
    Rule("PR111", "hybrid-matches-classes", "A method with several classes is hybrid, and a hybrid one has several, unless a note says why.", _hybrid_matches_classes),
    Rule("PR113", "quote-states-value", "A quote cited for a typology value contains a wording of that value; otherwise the source is `derived`.", _quotes_state_values),
    Rule("PR114", "variant-distinguishable", "A variant at typology distance 0 from its target says in the relation's note what differs.", _variants_differ),
    Rule("PR112", "insertion-count-consistent", "The same placement has the same number of insertions in every record.", _insertion_counts_consistent),
)


def lint(methods: dict[str, Method], files: dict[str, str], lines: dict[str, dict[tuple, int]]) -> list[Problem]:
    ctx = LintContext(methods, files, lines)
    problems: list[Problem] = []
    for rule in RULES:
        problems.extend(rule.check(ctx))
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.code))
