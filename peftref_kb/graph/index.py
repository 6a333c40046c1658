"""An inverted index over the facts, so queries are set algebra instead of a scan.

Every component of every method gets an integer key.  For each
(field, value) the index holds the set of component keys where the field has
that value — method-level fields are expanded to all of the method's
components, which keeps the within-one-component semantics of
:mod:`.query`.  Ranges and numbers are compared by scanning their column.
"""

from __future__ import annotations

from . import fields as F
from .locations import atoms, region


class Index:
    def __init__(self, facts: dict[str, dict]):
        self.keys: list[tuple[str, str]] = []  # key -> (method id, component id)
        self.method_keys: dict[str, list[int]] = {}
        self.postings: dict[tuple[str, object], set[int]] = {}
        self.columns: dict[str, list[tuple[int, tuple]]] = {}
        self.universe: set[int] = set()
        scan_fields = {f.name for f in F.FIELDS if f.kind in ("range", "number", "text", "relation")}
        for method_id, method in facts.items():
            keys = []
            for component in method["components"]:
                key = len(self.keys)
                self.keys.append((method_id, component["id"]))
                keys.append(key)
                for name, values in component["values"].items():
                    self._add(name, key, values, name in scan_fields)
            self.method_keys[method_id] = keys
            for name, values in method["method"].items():
                for key in keys:
                    self._add(name, key, values, name in scan_fields)
        self.universe = set(range(len(self.keys)))

    def _add(self, name: str, key: int, values: tuple, scan: bool) -> None:
        if scan:
            self.columns.setdefault(name, []).append((key, values))
            return
        for value in values:
            self.postings.setdefault((name, value), set()).add(key)
        if not values:
            self.postings.setdefault((name, None), set()).add(key)

    def with_value(self, name: str, value) -> set[int]:
        return self.postings.get((name, value), set())

    def with_field(self, name: str) -> set[int]:
        """Keys where the field has at least one value."""
        out: set[int] = set()
        for (field, value), keys in self.postings.items():
            if field == name and value is not None:
                out |= keys
        return out

    def positions_covering(self, name: str, wanted: str) -> set[int]:
        covered = region(wanted)
        out: set[int] = set()
        for (field, value), keys in self.postings.items():
            if field == name and value is not None and atoms(value) & covered:
                out |= keys
        return out
