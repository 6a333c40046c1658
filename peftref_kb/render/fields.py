"""Read a dotted field path out of a record and turn its value into display text.

A path walks attributes (``efficiency.storage``), dict keys
(``components.hyperparameters.r.default``) and fans out over lists of
id-carrying records (``components.…`` gives one value per component).  A
:class:`Claim` met on the way stands for its value unless the next segment
names a Claim field (``efficiency.storage.source``).  Display text takes term
labels from the vocabularies, so the paper's wording is kept in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from pydantic import BaseModel

from ..schema.models import Claim, Method, Source
from ..schema.vocabulary import VOCABULARIES

# Fields whose values come from a vocabulary not named like the field itself;
# a field named like a vocabulary (``composition``, ``workspace``) needs no entry.
FIELD_VOCABULARIES: dict[str, str] = {
    "positions": "position",
    "classes": "lialin_class",
    "category": "functional_form",
    "storage": "yes_no",
    "memory": "yes_no",
    "backprop": "yes_no",
    "lt_1b": "yes_no",
    "lt_20b": "yes_no",
    "gt_20b": "yes_no",
    "kind": "method_kind",
    "type": "relation",
}


class FieldPathError(ValueError):
    """A dotted path names a field the record does not have."""


@dataclass(frozen=True)
class FieldValue:
    """One value found at a path; ``component`` is set when the path fanned out over components."""

    component: str | None
    value: Any


def _claim_fields() -> frozenset[str]:
    return frozenset(Claim.model_fields)


def _fields_of(obj: Any) -> list[str]:
    if isinstance(obj, BaseModel):
        names = list(type(obj).model_fields)
        names += [n for n, v in vars(type(obj)).items() if isinstance(v, property)]
        return names
    if isinstance(obj, dict):
        return [str(k) for k in obj]
    return []


def _step(obj: Any, segment: str, path: str) -> Any:
    if isinstance(obj, Claim) and segment not in _claim_fields():
        obj = obj.value
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(segment)
    if isinstance(obj, BaseModel) and segment in _fields_of(obj):
        return getattr(obj, segment)
    choices = ", ".join(_fields_of(obj)) or "none (it is a plain value)"
    raise FieldPathError(f"{path}: {type(obj).__name__} has no field {segment!r}; its fields are: {choices}")


def _is_record_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, BaseModel) and hasattr(v, "id") for v in value)


def resolve(method: Method, path: str) -> list[FieldValue]:
    """Values at ``path``: one for a method-level field, one per component under ``components``."""
    found = [FieldValue(None, method)]
    for segment in path.split("."):
        if not segment:
            raise FieldPathError(f"{path}: empty segment in the field path")
        stepped: list[FieldValue] = []
        for item in found:
            value = _step(item.value, segment, path)
            if _is_record_list(value):
                stepped.extend(FieldValue(v.id, v) for v in value)
            else:
                stepped.append(FieldValue(item.component, value))
        found = stepped
    return [FieldValue(f.component, f.value.value if isinstance(f.value, Claim) else f.value) for f in found]


def vocabulary_for(path: str) -> str | None:
    """The vocabulary a path's values come from, by the name of its last field."""
    last = path.rsplit(".", 1)[-1]
    if last in VOCABULARIES:
        return last
    return FIELD_VOCABULARIES.get(last)


def term_label(value: str, vocabulary: str | None) -> str:
    """The term's display label (the paper's wording), or the value itself if it has none."""
    if vocabulary is None:
        return value
    try:
        return VOCABULARIES[vocabulary].term(value).label
    except KeyError:
        return value


def source_text(source: Source) -> str:
    """One line naming where a claim comes from."""
    if source.ref == "derived":
        return f"derived: {source.reasoning}"
    text = ", ".join(part for part in (source.ref, source.loc) if part)
    if source.quote:
        text += f" — “{source.quote}”"
    return text


def display(value: Any, vocabulary: str | None = None, *, show: str = "label", join: str = ", ") -> str:
    """Text for one value: term labels (or raw values when ``show='value'``), lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return join.join(display(v, vocabulary, show=show, join=join) for v in value)
    if isinstance(value, Source):
        return source_text(value)
    if isinstance(value, BaseModel):
        data = value.model_dump(exclude_none=True)
        if "text" in data:  # a PercentRange: the paper's own wording
            return str(data["text"])
        if "formula" in data:
            return str(data["formula"])
        return ", ".join(f"{k}={display(v)}" for k, v in data.items())
    if isinstance(value, str) and show == "label":
        return term_label(value, vocabulary)
    return str(value)


def cell_parts(values: Iterable[FieldValue], vocabulary: str | None = None, *, show: str = "label", join: str = ", ") -> tuple[tuple[str | None, str], ...]:
    """A table cell as ``(component, text)`` pairs: one with component None, or one per component of a hybrid."""
    values = list(values)
    if len(values) == 1:
        return ((None, display(values[0].value, vocabulary, show=show, join=join)),)
    return tuple((v.component, display(v.value, vocabulary, show=show, join=join)) for v in values)


def parts_text(parts: Iterable[tuple[str | None, str]], hybrid_separator: str = "; ") -> str:
    return hybrid_separator.join(text if component is None else f"{component}: {text}" for component, text in parts)


def cell_text(values: Iterable[FieldValue], vocabulary: str | None = None, *, show: str = "label", join: str = ", ", hybrid_separator: str = "; ") -> str:
    """A table cell: a single value, or ``component: value`` for each component of a hybrid."""
    return parts_text(cell_parts(values, vocabulary, show=show, join=join), hybrid_separator)
