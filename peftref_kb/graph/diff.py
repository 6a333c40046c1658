"""Property-by-property diff of two methods and a typology distance.

Components of hybrids are aligned by the assignment that minimises their
summed distance; an unmatched component costs 1.  The distance is a weighted
mean of per-field Jaccard distances (fields and weights from :mod:`.fields`),
0 for identical typology and 1 for nothing in common; it is symmetric.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import permutations
from typing import Any

from . import fields as F
from .facts import get, method_facts
from .locations import atoms

METHOD_SHARE = 0.35  # share of the distance from method-level facts; the rest from components


def _comparable(fld: F.Field, vals: tuple) -> set:
    if fld.kind == "position":
        return {a for v in vals for a in atoms(v)}
    if fld.kind == "range":
        return {v[0] for v in vals}
    return set(vals)


def _jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 0.0
    return 1.0 - len(a & b) / len(a | b)


def _display(vals: tuple) -> Any:
    vals = [v[0] if isinstance(v, tuple) else v for v in vals]
    return vals[0] if len(vals) == 1 else vals


@dataclass
class Row:
    field: str
    a: Any
    b: Any
    distance: float

    @property
    def same(self) -> bool:
        return self.distance == 0

    def to_dict(self) -> dict:
        return {"field": self.field, "a": self.a, "b": self.b, "same": self.same, "distance": round(self.distance, 4)}


@dataclass
class ComponentPair:
    a: str | None
    b: str | None
    distance: float
    rows: list[Row] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "distance": round(self.distance, 4), "rows": [r.to_dict() for r in self.rows]}


@dataclass
class Diff:
    a: str
    b: str
    distance: float
    method_rows: list[Row]
    components: list[ComponentPair]

    def differing(self) -> list[str]:
        names = [r.field for r in self.method_rows if not r.same]
        for pair in self.components:
            if pair.a is None or pair.b is None:
                names.append(f"component {pair.a or pair.b} only in {'b' if pair.a is None else 'a'}")
            else:
                names += [f"{pair.a}~{pair.b}: {r.field}" for r in pair.rows if not r.same]
        return names

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "distance": round(self.distance, 4),
            "method": [r.to_dict() for r in self.method_rows],
            "components": [c.to_dict() for c in self.components],
        }


_METHOD_FIELDS = [f for f in F.FIELDS if f.level == "method" and f.weight > 0]
_COMPONENT_FIELDS = [f for f in F.FIELDS if f.level == "component" and f.weight > 0]


def _rows(fields: list[F.Field], ma: dict, ca: dict | None, mb: dict, cb: dict | None) -> tuple[list[Row], float]:
    rows, total, weight = [], 0.0, 0.0
    for fld in fields:
        va, vb = get(ma, fld, ca), get(mb, fld, cb)
        if fld.optional and not (va and vb):
            if va or vb:  # stated by one record only: shown, not counted (an unstated fact is not a difference)
                rows.append(Row(fld.name, _display(va) if va else None, _display(vb) if vb else None, 0.0))
            continue
        d = _jaccard(_comparable(fld, va), _comparable(fld, vb))
        rows.append(Row(fld.name, _display(va), _display(vb), d))
        total += fld.weight * d
        weight += fld.weight
    return rows, (total / weight if weight else 0.0)


def _align(ma: dict, mb: dict) -> list[ComponentPair]:
    ca, cb = ma["components"], mb["components"]
    cost = {}
    for i, x in enumerate(ca):
        for j, y in enumerate(cb):
            cost[i, j] = _rows(_COMPONENT_FIELDS, ma, x, mb, y)
    swap = len(ca) > len(cb)
    small, large = (cb, ca) if swap else (ca, cb)
    best, best_cost = None, float("inf")
    if len(large) <= 6:
        candidates = permutations(range(len(large)), len(small))
    else:  # greedy for large hybrids
        candidates = [tuple(range(len(small)))]
    for perm in candidates:
        total = sum(cost[(perm[i], i) if swap else (i, perm[i])][1] for i in range(len(small)))
        if total < best_cost - 1e-12:
            best, best_cost = perm, total
    pairs: list[ComponentPair] = []
    used = set()
    for i, j in enumerate(best or ()):
        ia, ib = (j, i) if swap else (i, j)
        used.add(j)
        rows, d = cost[ia, ib]
        pairs.append(ComponentPair(ca[ia]["id"], cb[ib]["id"], d, rows))
    for j, comp in enumerate(large):
        if j not in used:
            pairs.append(ComponentPair(None, comp["id"], 1.0) if not swap else ComponentPair(comp["id"], None, 1.0))
    return pairs


def diff_facts(a: dict, b: dict) -> Diff:
    """Diff two methods given their facts (:func:`.facts.method_facts`)."""
    method_rows, method_distance = _rows(_METHOD_FIELDS, a, None, b, None)
    pairs = _align(a, b)
    component_distance = sum(p.distance for p in pairs) / max(len(a["components"]), len(b["components"]))
    distance = METHOD_SHARE * method_distance + (1 - METHOD_SHARE) * component_distance
    return Diff(a["id"], b["id"], distance, method_rows, pairs)


def diff_methods(a, b) -> Diff:
    """Diff two :class:`~peftref_kb.schema.Method` records."""
    return diff_facts(method_facts(a), method_facts(b))


def similar_methods(catalogue, method_id: str, k: int = 5) -> list[Diff]:
    facts = catalogue.facts
    target = facts[method_id]
    diffs = [diff_facts(target, other) for other_id, other in facts.items() if other_id != method_id]
    diffs.sort(key=lambda d: (d.distance, d.b))
    return diffs[:k]
