"""Resolve typology positions against a real model through the architecture data.

``catalogue/architectures/<model_type>.yaml`` says, for each position of the
vocabulary (``schema/vocabulary.py`` ``_positions``), which module paths of a
Hugging Face model hold it, per stack (encoder / decoder).  :func:`resolve`
matches a list of positions against a model and returns a :class:`SlotTable`:
one :class:`Slot` per place something can be inserted, with its input/output
sizes.  An architecture without data, or a position that matches nothing, is a
:class:`PositionError` naming what is missing — never a silent no-op.

``attn.*`` positions are the union of ``self_attn.*`` and ``cross_attn.*``
(read from the vocabulary's ``attention`` attribute, not hard-coded); the union
may lack one kind (a decoder-only model has no cross-attention) but not both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..schema.formula import FormulaError, evaluate, names_in
from ..schema.vocabulary import VOCABULARIES

SITE_KINDS = ("projection", "sublayer", "activation", "embedding", "parameters")


class PositionError(ValueError):
    """A position cannot be resolved on this model; the message says what is missing."""


@dataclass(frozen=True)
class Location:
    """Where a tensor is read or written: the input or the output of a module (optionally a column block)."""

    path: str
    side: str  # "input" | "output"
    chunk: tuple[int, int] | None = None  # (index, count): the index-th of count equal column blocks


@dataclass(frozen=True)
class Slot:
    """One place a component can act at, in one layer of one stack.

    ``representation`` is where h lives (what a module composes with);
    ``source`` is where x lives (the input of the frozen computation), or None.
    """

    position: str  # concrete vocabulary term, e.g. ``self_attn.q``
    requested: str  # the position as the record or user gave it, e.g. ``attn.q``
    stack: str  # ``encoder`` | ``decoder`` | ``model``
    layer: int | None
    site: str  # one of SITE_KINDS
    path: str  # the main module's full path in the model
    d_in: int
    d_out: int
    representation: Location | None = None
    source: Location | None = None
    attention: str | None = None  # the module that calls transformers' attention function (attention positions)
    sublayer: str | None = None  # key of the sub-layer this slot belongs to, e.g. ``decoder.self_attn.3``
    parameter: str | None = None  # full parameter name (parameter groups)
    weight_layout: str = "out_in"  # how the projection stores W: nn.Linear (out, in) or Conv1D (in, out)

    @property
    def label(self) -> str:
        return self.path + (f"[{self.representation.chunk[0]}/{self.representation.chunk[1]}]" if self.representation and self.representation.chunk else "")


@dataclass
class SlotTable:
    """Resolved positions: requested position -> slots, plus the model's dimensions."""

    model_type: str
    dims: dict[str, int]
    slots: dict[str, list[Slot]] = field(default_factory=dict)
    architecture: "Architecture | None" = None

    def all(self) -> list[Slot]:
        return [s for slots in self.slots.values() for s in slots]

    def rows(self) -> list[dict[str, Any]]:
        """One row per requested position: module paths and the layers matched."""
        rows = []
        for position, slots in self.slots.items():
            layers = sorted({s.layer for s in slots if s.layer is not None})
            rows.append(
                {
                    "position": position,
                    "kinds": sorted({s.position for s in slots}),
                    "stacks": sorted({s.stack for s in slots}),
                    "paths": [s.label for s in slots],
                    "layers": layers,
                    "count": len(slots),
                    "shared": sorted({s.stack for s in slots if self.architecture and self.architecture.stacks.get(s.stack, {}).get("shared")}),
                }
            )
        return rows


def architectures_dir() -> Path:
    from ..store.catalogue import data_dir

    return data_dir("catalogue") / "architectures"


@dataclass(frozen=True)
class Architecture:
    model_type: str
    data: dict[str, Any]
    file: str

    @property
    def positions(self) -> dict[str, Any]:
        return self.data.get("positions", {})

    @property
    def stacks(self) -> dict[str, Any]:
        return self.data.get("stacks", {})

    @property
    def model_inputs(self) -> dict[str, Any]:
        return self.data.get("model_inputs", {})

    @property
    def is_encoder_decoder(self) -> bool:
        return "encoder" in self.stacks and "decoder" in self.stacks


# Directories added with ``--catalogue DIR`` (their ``architectures/*.yaml``), searched before the bundled data.
_EXTRA_DIRS: list[Path] = []


def add_architecture_dir(directory: str | Path) -> None:
    """Also read ``directory/*.yaml`` (a user's own architecture files); they take precedence over bundled ones."""
    path = Path(directory)
    if not path.is_dir():
        raise PositionError(f"{path}: not a directory of architecture files")
    if path not in _EXTRA_DIRS:
        _EXTRA_DIRS.insert(0, path)
        _index.cache_clear()
        load_architecture.cache_clear()


def _model_types_of(data: dict[str, Any], path: Path) -> list[str]:
    """A file serves ``model_type`` (its family's name, = the file name) plus every type in ``model_types``."""
    if not isinstance(data, dict) or not isinstance(data.get("model_type"), str):
        raise PositionError(f"{path}: model_type: missing (the family's name, equal to the file name)")
    if data["model_type"] != path.stem:
        raise PositionError(f"{path}: model_type: {data['model_type']!r} differs from the file name {path.stem!r}")
    extra = data.get("model_types", [])
    if not isinstance(extra, list) or not all(isinstance(t, str) for t in extra):
        raise PositionError(f"{path}: model_types: must be a list of transformers model_type names")
    return list(dict.fromkeys([data["model_type"], *extra]))


@lru_cache(maxsize=None)
def _index() -> dict[str, tuple[Path, dict[str, Any]]]:
    """model_type -> (file, data) over the user's directories first, then the bundled ones."""
    index: dict[str, tuple[Path, dict[str, Any]]] = {}
    for directory in [*_EXTRA_DIRS, architectures_dir()]:
        for path in sorted(directory.glob("*.yaml")):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                raise PositionError(f"{path}:{mark.line + 1 if mark else 1}: invalid YAML") from None
            for model_type in _model_types_of(data, path):
                index.setdefault(model_type, (path, data))
    return index


def supported_model_types() -> list[str]:
    return sorted(_index())


def architecture_families() -> dict[str, list[str]]:
    """Family (file) name -> the model types it serves."""
    out: dict[str, list[str]] = {}
    for model_type, (path, _) in sorted(_index().items()):
        out.setdefault(path.stem, []).append(model_type)
    return out


@lru_cache(maxsize=None)
def load_architecture(model_type: str) -> Architecture:
    entry = _index().get(model_type) if re.fullmatch(r"[a-z0-9_\-]+", model_type or "") else None
    if entry is None:
        raise PositionError(
            f"no architecture data for model_type {model_type!r}: add architectures/{model_type}.yaml (or a family file "
            f"listing it under model_types) with --catalogue DIR (supported: {', '.join(supported_model_types())})"
        )
    path, data = entry
    unknown = sorted(set(data.get("positions", {})) - set(VOCABULARIES["position"].values()))
    if unknown:
        raise PositionError(f"{path}: positions {', '.join(unknown)} are not in the position vocabulary")
    groups = sorted(p for p in data.get("positions", {}) if VOCABULARIES["position"].term(p).attrs.get("members"))
    if groups:
        raise PositionError(f"{path}: {', '.join(groups)} are position groups, resolved from their members; give the members instead")
    return Architecture(model_type, data, str(path))


# -- dimensions ------------------------------------------------------------------


def model_dimensions(config: Any, arch: Architecture) -> dict[str, int]:
    """d, d_ff, n_heads, d_head, L, vocab, n_positions read from the config as the data says."""
    dims: dict[str, int] = {}
    for name, alternatives in arch.data.get("dimensions", {}).items():
        for text in alternatives if isinstance(alternatives, list) else [alternatives]:
            text = str(text)
            env = {n: getattr(config, n, None) for n in names_in(text)}
            if any(v is None or isinstance(v, (str, list, dict)) for v in env.values()):
                continue
            try:
                dims[name] = int(evaluate(text, env))
            except FormulaError:
                continue
            break
        else:
            raise PositionError(f"{arch.file}: cannot read dimension {name!r} from the config (tried {alternatives})")
    return dims


# -- resolution -------------------------------------------------------------------


def _concrete(position: str) -> list[str]:
    """``attn.q`` -> [``self_attn.q``, ``cross_attn.q``]; other positions map to themselves."""
    vocab = VOCABULARIES["position"]
    try:
        term = vocab.term(position)
    except KeyError:
        raise PositionError(f"{position!r} is not a position (known: {', '.join(vocab.values())})") from None
    if term.attrs.get("attention") != "attn":
        return [position]
    kinds = [t.attrs["attention"] for t in vocab if t.attrs.get("attention") not in (None, "attn")]
    suffix = position[len("attn") :]
    return [f"{kind}{suffix}" for kind in dict.fromkeys(kinds) if f"{kind}{suffix}" in vocab.values()]


def _choose(entry: Any, config: Any) -> dict[str, Any] | None:
    """An entry, or the first alternative of a list whose `when` holds for the config."""
    if isinstance(entry, dict):
        entry = [entry]
    for alternative in entry:
        when = alternative.get("when", {})
        if all(getattr(config, key, None) == value for key, value in when.items()):
            return alternative
    return None


def _as_list(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) else [value]


def _base_prefix(model: Any) -> tuple[Any, str]:
    base = getattr(model, "base_model", model)
    if base is model:
        return model, ""
    for name, module in model.named_modules():
        if module is base:
            return base, name + "."
    return model, ""


def _get(base: Any, path: str):
    try:
        return base.get_submodule(path) if path else base
    except AttributeError:
        return None


def _layer_count(base: Any, layers_path: str) -> int:
    container = _get(base, layers_path)
    return len(container) if container is not None else 0


def _features(module: Any, layout: str) -> tuple[int, int]:
    weight = getattr(module, "weight", None)
    if hasattr(module, "in_features"):
        return module.in_features, module.out_features
    if hasattr(module, "num_embeddings"):
        return module.num_embeddings, module.embedding_dim
    if weight is not None and weight.dim() == 2:
        return (weight.shape[0], weight.shape[1]) if layout == "in_out" else (weight.shape[1], weight.shape[0])
    raise PositionError(f"cannot read the input/output size of {type(module).__name__}")


def resolve(model: Any, positions: Iterable[str], *, config: Any = None) -> SlotTable:
    """Match ``positions`` against ``model`` through its architecture data.

    Raises :class:`PositionError` for an unsupported architecture or a position
    that matches no module.
    """
    config = config if config is not None else model.config
    arch = load_architecture(getattr(config, "model_type", None))
    dims = model_dimensions(config, arch)
    base, prefix = _base_prefix(model)
    table = SlotTable(arch.model_type, dims, architecture=arch)
    for requested in dict.fromkeys(positions):
        members = _group_members(requested)
        if members:
            table.slots[requested] = _resolve_group(base, prefix, arch, config, dims, requested, members)
            continue
        slots: list[Slot] = []
        concrete = _concrete(requested)
        for position in concrete:
            slots.extend(_resolve_one(base, prefix, arch, config, dims, position, requested))
        if not slots:
            known = [p for p in concrete if p in arch.positions]
            if not known:
                raise PositionError(f"architecture {arch.model_type!r} has no data for position {requested!r} ({arch.file})")
            raise PositionError(
                f"position {requested!r} matches no module of this {arch.model_type} model "
                f"(looked for {', '.join(_patterns(arch, config, known))})"
            )
        table.slots[requested] = slots
    return table


def _group_members(position: str) -> tuple[str, ...]:
    try:
        return tuple(VOCABULARIES["position"].term(position).attrs.get("members", ()))
    except KeyError:
        raise PositionError(f"{position!r} is not a position (known: {', '.join(VOCABULARIES['position'].values())})") from None


def _resolve_group(base, prefix, arch, config, dims, requested: str, members: tuple[str, ...]) -> list[Slot]:
    """A group's projections, one whole-module slot per module path (a fused projection's column blocks join).

    Members the architecture has no data for, or that match no module here (no cross-attention in a decoder),
    are skipped; a group matching nothing is an error.
    """
    by_path: dict[str, Slot] = {}
    for member in members:
        for position in _concrete(member):
            for slot in _resolve_one(base, prefix, arch, config, dims, position, requested, whole=True):
                if slot.site != "projection" or slot.path in by_path:
                    continue
                if slot.representation and slot.representation.chunk:
                    d_in, d_out = _features(base.get_submodule(slot.path[len(prefix):]), arch.data.get("weight_layout", "out_in"))
                    slot = replace(slot, d_in=d_in, d_out=d_out, representation=Location(slot.path, "output"))
                by_path[slot.path] = slot
    if not by_path:
        raise PositionError(f"position group {requested!r} ({', '.join(members)}) matches no projection of this {arch.model_type} model ({arch.file})")
    return list(by_path.values())


def _patterns(arch: Architecture, config: Any, positions: list[str]) -> list[str]:
    out = []
    for position in positions:
        for entry in arch.positions[position].values():
            chosen = _choose(entry, config) or {}
            for key in ("module", "output", "input_of", "parameters"):
                if key in chosen:
                    out.extend(str(p) or "<model>" for p in _as_list(chosen[key]))
    return out


def _layer_indices(base: Any, arch: Architecture, stack: str) -> list[int | None]:
    if stack == "model":
        return [None]
    layers = arch.stacks.get(stack, {}).get("layers")
    return list(range(_layer_count(base, layers))) if layers else [None]


def _resolve_one(base, prefix, arch, config, dims, position, requested, whole: bool = False) -> list[Slot]:
    """``whole``: for a position group, which takes fused projections as whole modules."""
    spec = arch.positions.get(position)
    if spec is None:
        return []
    layout = arch.data.get("weight_layout", "out_in")
    slots: list[Slot] = []
    for stack, entry in spec.items():
        chosen = _choose(entry, config)
        if chosen is None:
            continue
        attention_entry = None
        family = position.split(".")[0]
        if family in ("self_attn", "cross_attn") and family in arch.positions and stack in arch.positions[family]:
            attention_entry = _choose(arch.positions[family][stack], config)
        seen_global: set[str] = set()
        for i in _layer_indices(base, arch, stack):
            fmt = (lambda p: p.replace("{i}", str(i))) if i is not None else (lambda p: p)
            sublayer = f"{stack}.{family}.{i}" if family in ("self_attn", "cross_attn", "ffn", "block") else None
            attention = fmt(attention_entry["attention"]) if attention_entry and "attention" in attention_entry else None
            if attention is not None and _get(base, attention) is None:
                attention = None
            if "parameters" in chosen:
                names = chosen.get("names")
                for pattern in _as_list(chosen["parameters"]):
                    if "{i}" not in pattern and (pattern in seen_global or i not in (None, 0)):
                        continue  # a model-level module (final layer norm): once, not once per layer
                    seen_global.add(pattern)
                    module = _get(base, fmt(pattern))
                    if module is None:
                        continue
                    for pname, param in module.named_parameters():
                        if names and pname.rsplit(".", 1)[-1] not in names:
                            continue
                        full = prefix + (fmt(pattern) + "." if pattern else "") + pname
                        shape = tuple(param.shape) or (1,)
                        d_out = shape[0]
                        slots.append(Slot(position, requested, stack, i if "{i}" in pattern else None, "parameters", full, param.numel() // d_out, d_out, parameter=full))
                continue
            if "module" in chosen:
                for pattern in _as_list(chosen["module"]):
                    path = fmt(pattern)
                    if "{i}" not in pattern and i not in (None, 0):
                        continue
                    module = _get(base, path)
                    if module is None:
                        continue
                    d_in, d_out = _features(module, layout)
                    if "fused" in chosen and not whole:
                        raise PositionError(
                            f"{position} on this {arch.model_type} model: {path} fuses several projections ({chosen['fused']}), "
                            f"not resolvable into one column block; use a whole-module position (all-linear, attn.linear)"
                        )
                    chunk = tuple(chosen["chunk"]) if "chunk" in chosen else None
                    if chunk and "widths" in chosen and not whole:
                        widths = [int(evaluate(str(w), dims)) for w in chosen["widths"]]
                        if len(set(widths)) != 1 or sum(widths) != d_out:
                            raise PositionError(
                                f"{position} on this {arch.model_type} model: {path} holds column blocks of widths {widths} "
                                f"(grouped-query attention); only equal blocks are resolvable, use a whole-module position (all-linear, attn.linear)"
                            )
                    if chunk and not whole:
                        if d_out % chunk[1]:
                            raise PositionError(f"{arch.file}: {path} has {d_out} outputs, not divisible into {chunk[1]} blocks")
                        d_out //= chunk[1]
                    site = "embedding" if position == "embedding" else "projection"
                    full = prefix + path
                    slots.append(
                        Slot(
                            position, requested, stack, i if "{i}" in pattern else None, site, full, d_in, d_out,
                            representation=Location(full, "output", chunk), source=Location(full, "input"),
                            attention=prefix + attention if attention else None,
                            sublayer=f"{stack}.{family}.{i}" if attention else None,
                            weight_layout=layout if hasattr(module, "weight") and not hasattr(module, "in_features") else "out_in",
                        )
                    )
                continue
            if "input_of" in chosen:
                path = fmt(chosen["input_of"])
                module = _get(base, path)
                if module is None:
                    continue
                d_in, _ = _features(module, layout)
                full = prefix + path
                slots.append(Slot(position, requested, stack, i, "activation", full, d_in, d_in, representation=Location(full, "input"), sublayer=sublayer,
                                  weight_layout=layout if not hasattr(module, "in_features") else "out_in"))
                continue
            if "output" in chosen:
                out_path, in_path = fmt(chosen["output"]), fmt(chosen.get("input", chosen["output"]))
                if _get(base, out_path) is None or _get(base, in_path) is None:
                    continue
                attention = fmt(chosen["attention"]) if "attention" in chosen else None
                d = dims["d"]
                slots.append(
                    Slot(
                        position, requested, stack, i, "sublayer", prefix + out_path, d, d,
                        representation=Location(prefix + out_path, "output"), source=Location(prefix + in_path, "input"),
                        attention=prefix + attention if attention else None, sublayer=sublayer,
                    )
                )
                continue
            raise PositionError(f"{arch.file}: entry for {position}/{stack} has none of module, output, input_of, parameters")
    return slots


def sibling(table_model: Any, slot: Slot, part: str) -> Slot:
    """The ``part`` projection (``q``, ``k``, ``v``, ``o``) of the attention sub-layer a slot belongs to."""
    family = slot.position.split(".")[0]
    if family not in ("self_attn", "cross_attn"):
        raise PositionError(f"{slot.position} is not an attention position; {part!r} projection has no meaning there")
    found = [s for s in resolve(table_model, [f"{family}.{part}"]).all() if s.sublayer == slot.sublayer]
    if len(found) != 1:
        raise PositionError(f"cannot find the {family}.{part} projection of {slot.path}")
    return found[0]


def stack_layer_count(model: Any, arch: Architecture, stack: str) -> int | None:
    """How many layers the ``stack`` (``encoder`` / ``decoder``) of ``model`` has, or None for ``model``-level slots."""
    layers = arch.stacks.get(stack, {}).get("layers")
    if not layers:
        return None
    base, _ = _base_prefix(model)
    return _layer_count(base, layers)
