"""How much of the field the catalogue covers, and what the peer libraries list that it lacks.

Light: nothing here imports torch, peft or adapters.  The libraries' method lists are read from their
installed source files with :mod:`ast` (peft's ``PeftType`` enum; adapters' config classes), located
without importing them; the catalogue side comes from the records' ``implementations`` crosswalk.
"""

from __future__ import annotations

import ast
import glob
import importlib.util
import os
from pathlib import Path

# adapters classes that configure no method of their own (bases and containers)
ADAPTERS_NOT_METHODS = frozenset({"AdapterConfig", "BnConfig", "ReftConfig", "ConfigUnion", "MultiTaskConfig", "AdapterFusionConfig", "AdapterConfigBase", "ModelAdaptersConfig"})


def _peft_types() -> tuple[str | None, list[str]]:
    spec = importlib.util.find_spec("peft")  # locates the package without running it
    if spec is None or not spec.origin:
        return None, []
    path = Path(spec.origin).parent / "utils" / "peft_types.py"
    if not path.is_file():
        return None, []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "PeftType":
            values = [s.value.value for s in node.body if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)]
            return str(path), values
    return str(path), []


def _adapters_source() -> Path | None:
    candidates = []
    python = os.environ.get("PEFTREF_ADAPTERS_PYTHON")
    if python:
        candidates += glob.glob(str(Path(os.path.abspath(python)).parents[1] / "lib" / "python*" / "site-packages" / "adapters" / "configuration"))
    spec = importlib.util.find_spec("adapters")
    if spec is not None and spec.origin:
        candidates.append(str(Path(spec.origin).parent / "configuration"))
    for candidate in candidates:
        if Path(candidate, "adapter_config.py").is_file():
            return Path(candidate)
    return None


def _adapters_configs() -> tuple[str | None, list[str]]:
    source = _adapters_source()
    if source is None:
        return None, []
    names = []
    for file in sorted(source.glob("*.py")):
        for node in ast.parse(file.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and node.name.endswith("Config") and node.name not in ADAPTERS_NOT_METHODS:
                names.append(node.name)
    return str(source), sorted(set(names))


def coverage(catalogue) -> dict:
    methods = [m for m in catalogue if m.kind == "method"]
    executable = [m.id for m in catalogue if all(c.module for c in m.components)]
    checked = sorted({m.id for m in catalogue for impl in m.implementations if impl.version})
    peft_mapped = {impl.peft_type for m in catalogue for impl in m.implementations if impl.library == "peft" and impl.peft_type}
    adapters_mapped = {impl.config_class for m in catalogue for impl in m.implementations if impl.library == "adapters"}
    peft_source, peft_types = _peft_types()
    adapters_source, adapters_configs = _adapters_configs()
    return {
        "records": len(catalogue.ids),
        "methods": len(methods),
        "executable": len(executable),
        "crosswalk_checked": len(checked),
        "peft": {"source": peft_source, "listed": len(peft_types), "missing": [t for t in peft_types if t not in peft_mapped]},
        "adapters": {"source": adapters_source, "listed": len(adapters_configs), "missing": [c for c in adapters_configs if c not in adapters_mapped]},
        "peft_atlas": {"records_with_id": sum(1 for m in catalogue if m.peft_atlas_id), "missing": None, "note": "the peft-atlas list is not held by this project, so its gaps cannot be listed"},
    }
