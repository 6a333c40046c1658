"""Instantiate a catalogue record on a Hugging Face model: resolve, build, wire, freeze, count.

One mechanism for every method and every hybrid:

1. each component's positions are resolved through the architecture data
   (:func:`~peftref_kb.reference.positions.resolve`);
2. the registry builder named by the component's ``module`` makes the
   reference modules (:mod:`~peftref_kb.reference.registry`);
3. each module is owned by the block it acts on: ``representation`` and
   ``attention`` modules are registered under the module they wrap
   (``<projection or attention path>.<method id>.<component id>.<insertion>``),
   so a wrapper that shards or checkpoints a decoder layer (FSDP2's
   ``fully_shard`` per layer, activation checkpointing) takes the layer's
   adapters with it; modules shared by several layers and model-input
   modules live at the root under ``model.<method id>.<component id>``.  The
   base model's own parameter names are not changed.  Adapter state has one
   canonical naming whatever the owner, ``<method id>.<component id>.<insertion>.<tensor>``
   (:func:`adapter_state_dict`, :func:`adapter_parameters`).  The modules are
   wired in with forward hooks:

   - ``representation`` modules compute h' = module(x, h) where the slot's h
     lives (a projection's output, a sub-layer's output, an activation = the
     input of the next projection), with x captured where the slot says
     (modules declaring ``wants_token_mask``, such as LoReFT's position-selective
     intervention, also get the model input's 2-D padding mask);
   - ``attention`` modules (prefixes, adaption prompts) are consumed inside the
     attention call (:mod:`~peftref_kb.reference.attention`);
   - ``model_inputs`` modules (soft prompts, P-tuning's encoder) prepend to the input embeddings in
     a forward pre-hook on the model;
   - ``parameters`` modules unfreeze existing tensors;

4. the base model is frozen and the report counts trainable and stored
   parameters and evaluates the record's ``parameter_count`` formulas with the
   safe evaluator.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import torch
from torch import nn

from ..schema.formula import evaluate
from . import attention as attention_hook
from .modules import CompositionError, MergeableMixin
from .counts import base_parameter_count
from .positions import SlotTable, resolve
from .registry import BUILDERS, BuildContext, Built, Insertion


class InstantiationError(ValueError):
    """The record cannot be instantiated on this model; the message says why."""


# -- report ---------------------------------------------------------------------------


@dataclass
class SlotRow:
    position: str
    kinds: list[str]
    paths: list[str]
    layers: list[int]
    inserted: str


@dataclass
class InsertionRow:
    key: str
    paths: list[str]
    d_in: int
    d_out: int
    module: str
    trainable_params: int
    stored_params: int


@dataclass
class ComponentReport:
    id: str
    module: str
    hyperparameters: dict[str, Any]
    slots: list[SlotRow]
    n_insertions: int
    trainable_params: int | None = None
    stored_params: int | None = None
    formula_params: float | None = None
    formula_stored_params: float | None = None
    insertions: list[InsertionRow] = field(default_factory=list)

    @property
    def formula_matches(self) -> bool | None:
        if self.formula_params is None or self.trainable_params is None:
            return None
        return self.formula_params == self.trainable_params and self.formula_stored_params == self.stored_params


@dataclass
class InstantiationReport:
    method_id: str
    model_type: str
    dims: dict[str, int]
    base_params: int
    trainable_params: int | None
    stored_params: int | None
    components: list[ComponentReport]
    dry_run: bool = False
    handle: "Injection | None" = field(default=None, repr=False, compare=False)

    @property
    def formula_params(self) -> float | None:
        values = [c.formula_params for c in self.components]
        return None if any(v is None for v in values) else sum(values)

    @property
    def formula_stored_params(self) -> float | None:
        values = [c.formula_stored_params for c in self.components]
        return None if any(v is None for v in values) else sum(values)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("handle", None)
        data["formula_params"] = self.formula_params
        data["formula_stored_params"] = self.formula_stored_params
        for component, report in zip(data["components"], self.components):
            component["formula_matches"] = report.formula_matches
        return data

    # convenience: the live injection
    def merge(self) -> None:
        self._live().merge()

    def unmerge(self) -> None:
        self._live().unmerge()

    def remove(self) -> None:
        self._live().remove()

    def merge_and_unload(self):
        """The base model with the adapter merged into its weights, no hooks or added modules (mergeable records only)."""
        return self._live().merge_and_unload()

    def save_pretrained(self, directory, format: str = "peftref", overwrite: bool = False):
        """Write the adapter (``format="peftref"`` or ``"peft"``); see :mod:`~peftref_kb.reference.checkpoint`."""
        from .checkpoint import save_pretrained

        return save_pretrained(self, directory, format=format, overwrite=overwrite)

    def _live(self) -> "Injection":
        if self.handle is None:
            raise InstantiationError("this report comes from a dry run; nothing was injected")
        return self.handle


# -- the live injection ------------------------------------------------------------------


class Injection:
    """Hooks, attachments and frozen state of one instantiation; :meth:`remove` undoes it."""

    def __init__(self, model: nn.Module, name: str):
        self.model, self.name = model, name
        self.handles: list[Any] = []
        self.prefixes: list[tuple[nn.Module, nn.Module]] = []
        self.modules: list[nn.Module] = []
        self.requires_grad: dict[str, bool] = {}
        self.named: list[tuple[str, nn.Module]] = []  # canonical prefix -> module, in build order
        self.owners: list[tuple[nn.Module, str]] = []  # (block, attribute) holding modules owned by a block
        self.tables: dict[str, SlotTable] = {}  # component id -> the slots it was built on (checkpoint.py saves them)

    def mergeable_modules(self) -> list[MergeableMixin]:
        return [m for m in self.modules if isinstance(m, MergeableMixin)]

    def merge(self) -> None:
        """Fold every weight-space update into the frozen weights (explicit; never a side effect of eval mode)."""
        blocked = [type(m).__name__ for m in self.modules if not (isinstance(m, MergeableMixin) and m.can_merge()) and m.attach != "parameters"]
        if blocked:
            raise CompositionError(f"cannot merge: {', '.join(sorted(set(blocked)))} change activations, not a weight")
        for module in self.mergeable_modules():
            module.merge()

    def unmerge(self) -> None:
        for module in self.mergeable_modules():
            if module.merged:
                module.unmerge()

    def remove(self) -> None:
        """Take the adapter out again.  Refuses while merged: that would silently revert the trained update."""
        merged = sorted({type(m).__name__ for m in self.mergeable_modules() if m.merged})
        if merged:
            raise CompositionError(
                f"{', '.join(merged)} merged into the base weights: remove() would revert them; call unmerge() first to drop the adapter, "
                "or merge_and_unload() to keep the merged weights"
            )
        self._detach()

    def merge_and_unload(self) -> nn.Module:
        """Merge, then take every hook and added module out: the plain base model with the update in its weights."""
        self.merge()
        self._detach()
        return self.model

    def _detach(self) -> None:
        for handle in self.handles:
            handle.remove()
        for attention_module, prefix in self.prefixes:
            attention_hook.detach(attention_module, prefix)
        if hasattr(self.model, self.name):
            delattr(self.model, self.name)
        for owner, attribute in self.owners:
            if attribute in owner._modules:
                delattr(owner, attribute)
        self.model.__dict__.get(_REGISTRY, {}).pop(self.name, None)
        self.owners, self.named = [], []
        for name, param in self.model.named_parameters():
            if name in self.requires_grad:
                param.requires_grad_(self.requires_grad[name])
        self.handles, self.prefixes, self.modules = [], [], []


# -- ownership --------------------------------------------------------------------------------

_REGISTRY = "_peftref_injections"  # model.__dict__ entry: method id -> Injection (not a module attribute)


def _owner_path(insertion: Insertion) -> str:
    """The path of the module that owns ``insertion``'s module: the one it wraps ("" = the model's root)."""
    kind = insertion.module.attach
    if kind == "representation" and insertion.representation is not None:
        return insertion.representation.path
    if kind == "attention" and insertion.source is not None:
        return insertion.source.path
    return ""


def _own(model: nn.Module, path: str, name: str, component_id: str, key: str, module: nn.Module, live: Injection) -> None:
    owner = model.get_submodule(path)
    holder = owner._modules.get(name)
    if holder is None:
        if hasattr(owner, name):
            raise InstantiationError(f"{path} already has an attribute {name!r}; cannot register the {name} modules on it")
        holder = nn.ModuleDict()
        owner.add_module(name, holder)
        live.owners.append((owner, name))
    if component_id not in holder:
        holder[component_id] = nn.ModuleDict()
    holder[component_id][key] = module


def _injection(model: nn.Module, method_id: str | None = None) -> Injection:
    """The live injection of ``method_id`` on ``model`` (unwrapping DDP's ``.module`` and torch.compile's ``._orig_mod``)."""
    seen = model
    while _REGISTRY not in seen.__dict__:
        inner = seen.__dict__.get("_modules", {}).get("module") or seen.__dict__.get("_modules", {}).get("_orig_mod")
        if inner is None:
            raise InstantiationError(f"no method is instantiated on this {type(model).__name__}")
        seen = inner
    injections = seen.__dict__[_REGISTRY]
    if method_id is None:
        if len(injections) != 1:
            raise InstantiationError(f"{len(injections)} methods are instantiated ({', '.join(injections)}); name one")
        return next(iter(injections.values()))
    if method_id not in injections:
        raise InstantiationError(f"{method_id!r} is not instantiated on this model (instantiated: {', '.join(injections) or 'none'})")
    return injections[method_id]


def adapter_modules(model: nn.Module, method_id: str | None = None) -> dict[str, nn.Module]:
    """Canonical prefix (``<method id>.<component id>.<insertion key>``, or ``….shared``) -> module, wherever it is owned."""
    return dict(_injection(model, method_id).named)


def adapter_parameters(model: nn.Module, method_id: str | None = None) -> dict[str, nn.Parameter]:
    """The added parameters under their canonical names (the live objects, so sharding wrappers' DTensors too)."""
    return {f"{prefix}.{n}": p for prefix, module in adapter_modules(model, method_id).items() for n, p in module.named_parameters()}


# -- helpers --------------------------------------------------------------------------------


def _load_method(method: Any):
    if isinstance(method, str):
        from ..store import load_catalogue

        return load_catalogue()[method]
    return method


def _first_input(args: tuple, kwargs: dict, where: str) -> torch.Tensor:
    if args:
        return args[0]
    if "hidden_states" in kwargs:
        return kwargs["hidden_states"]
    raise InstantiationError(f"{where} was called without a positional input or `hidden_states`; cannot read x there")


def _replace_first_input(args: tuple, kwargs: dict, value: torch.Tensor) -> tuple[tuple, dict]:
    if args:
        return (value, *args[1:]), kwargs
    kwargs = dict(kwargs)
    kwargs["hidden_states"] = value
    return args, kwargs


def _split_output(output: Any) -> tuple[torch.Tensor, Any]:
    if isinstance(output, tuple):
        return output[0], output
    return output, None


def _join_output(h: torch.Tensor, original: Any) -> Any:
    if original is None:
        return h
    return (h, *original[1:])


def _apply_chunk(h: torch.Tensor, chunk: tuple[int, int] | None, fn) -> torch.Tensor:
    if chunk is None:
        return fn(h)
    index, count = chunk
    size = h.shape[-1] // count
    start = index * size
    new = fn(h[..., start : start + size])
    return torch.cat([h[..., :start], new, h[..., start + size :]], dim=-1)


def _read_chunk(h: torch.Tensor, chunk: tuple[int, int] | None) -> torch.Tensor:
    if chunk is None:
        return h
    index, count = chunk
    size = h.shape[-1] // count
    return h[..., index * size : (index + 1) * size]


# -- wiring -----------------------------------------------------------------------------------


def _capture_token_mask(model: nn.Module, insertion: Insertion, live: Injection, table: SlotTable, extra: dict[str, Any]) -> None:
    """For modules acting at token positions: pass them the model input's 2-D padding mask of the slot's stack.

    The name comes from the architecture data (``model_inputs.attention_mask``, or ``decoder_attention_mask``
    for a decoder stack of an encoder-decoder model); a missing mask means every token is real.
    """
    arch = table.architecture
    names = arch.model_inputs
    decoder = arch.is_encoder_decoder and insertion.slots[0].stack == "decoder"
    name = names.get("decoder_attention_mask") if decoder else names.get("attention_mask", "attention_mask")
    signature = inspect.signature(model.forward)

    def capture(mod, args, kwargs):
        mask = kwargs.get(name) if name else None
        if mask is None and name and args:
            try:
                mask = signature.bind_partial(*args, **kwargs).arguments.get(name)
            except TypeError:
                mask = None
        extra["token_mask"] = mask

    def release(mod, args, kwargs, output):
        extra.pop("token_mask", None)  # never reuse one call's mask in the next

    live.handles.append(model.register_forward_pre_hook(capture, with_kwargs=True))
    live.handles.append(model.register_forward_hook(release, with_kwargs=True))


def _attach_representation(model: nn.Module, insertion: Insertion, live: Injection, table: SlotTable) -> None:
    module, rep, src = insertion.module, insertion.representation, insertion.source
    target = model.get_submodule(rep.path)
    box: dict[str, Any] = {}
    same = src is not None and src.path == rep.path and src.side == "input" and rep.side == "output"
    if src is not None and not same and src.side == "input":
        def capture_input(mod, args, kwargs):
            box["x"] = _first_input(args, kwargs, src.path)

        live.handles.append(model.get_submodule(src.path).register_forward_pre_hook(capture_input, with_kwargs=True))
    elif src is not None and not same:
        def capture_output(mod, args, output):
            box["x"] = _read_chunk(_split_output(output)[0], src.chunk)

        live.handles.append(model.get_submodule(src.path).register_forward_hook(capture_output))
    extra: dict[str, Any] = {}
    if getattr(module, "wants_token_mask", False):
        _capture_token_mask(model, insertion, live, table, extra)
    if getattr(module, "wants_attention_mask", False):
        attention_path = insertion.slots[0].attention
        core = model.get_submodule(attention_path)

        def capture_mask(mod, args, kwargs):
            extra["attention_mask"] = kwargs.get("attention_mask", kwargs.get("mask"))
            extra["causal"] = bool(getattr(mod, "is_causal", False))

        live.handles.append(core.register_forward_pre_hook(capture_mask, with_kwargs=True))

    if rep.side == "output":
        def compose_output(mod, args, kwargs, output):
            x = _first_input(args, kwargs, rep.path) if same else box.pop("x", None)
            h, original = _split_output(output)
            h = _apply_chunk(h, rep.chunk, lambda part: module(x, part, **extra))
            return _join_output(h, original)

        live.handles.append(target.register_forward_hook(compose_output, with_kwargs=True))
    else:
        def compose_input(mod, args, kwargs):
            h = _first_input(args, kwargs, rep.path)
            return _replace_first_input(args, kwargs, module(box.pop("x", None), h, **extra))

        live.handles.append(target.register_forward_pre_hook(compose_input, with_kwargs=True))
    if insertion.weight_target is not None and isinstance(module, MergeableMixin):
        insertion.weight_target.module = target
        module.bind(insertion.weight_target)


def _attach_attention(model: nn.Module, insertion: Insertion, live: Injection) -> None:
    core = model.get_submodule(insertion.source.path)
    attention_hook.attach(core, insertion.module)
    live.prefixes.append((core, insertion.module))
    if getattr(insertion.module, "gate", None) is not None:
        prefix = insertion.module

        def capture(mod, args, kwargs):
            prefix.__dict__["_input"] = _first_input(args, kwargs, insertion.source.path)

        live.handles.append(core.register_forward_pre_hook(capture, with_kwargs=True))


def _attach_model_inputs(model: nn.Module, insertion: Insertion, live: Injection, table: SlotTable) -> None:
    arch = table.architecture
    names = arch.model_inputs
    embedding = model.get_submodule(insertion.slots[0].path)
    prompt = insertion.module
    ids_name, embeds_name = names.get("input_ids", "input_ids"), names.get("inputs_embeds", "inputs_embeds")
    mask_name = names.get("attention_mask", "attention_mask")

    def prepend(mod, args, kwargs):
        kwargs = dict(kwargs)
        if len(args) > 1:
            raise InstantiationError("with a soft prompt, pass every model input but input_ids by keyword")
        input_ids = args[0] if args else kwargs.pop(ids_name, None)
        kwargs.pop(ids_name, None)
        embeds = kwargs.pop(embeds_name, None)
        if embeds is None:
            if input_ids is None:
                raise InstantiationError(f"soft prompt: the model got neither {ids_name} nor {embeds_name}")
            embeds = embedding(input_ids)
        decoder_inputs = names.get("decoder_inputs")
        if decoder_inputs and all(kwargs.get(n) is None for n in decoder_inputs):
            raise InstantiationError(
                f"soft prompt on an encoder-decoder model: pass one of {', '.join(decoder_inputs)} (the model cannot derive decoder inputs from input_ids once they are replaced by embeddings)"
            )
        batch, l = embeds.shape[0], prompt.l
        kwargs[embeds_name] = prompt(embeds)
        if kwargs.get(mask_name) is not None:
            mask = kwargs[mask_name]
            kwargs[mask_name] = torch.cat([mask.new_ones(batch, l), mask], dim=1)
        token_types = names.get("token_type_ids")
        if token_types and kwargs.get(token_types) is not None:
            kwargs[token_types] = torch.cat([kwargs[token_types].new_zeros(batch, l), kwargs[token_types]], dim=1)
        labels = names.get("labels")
        if names.get("extend_labels") and labels and kwargs.get(labels) is not None:
            kwargs[labels] = torch.cat([kwargs[labels].new_full((batch, l), -100), kwargs[labels]], dim=1)
        return (), kwargs

    live.handles.append(model.register_forward_pre_hook(prepend, with_kwargs=True))


def _attach(model: nn.Module, insertion: Insertion, live: Injection, table: SlotTable) -> None:
    kind = insertion.module.attach
    if kind == "representation":
        _attach_representation(model, insertion, live, table)
    elif kind == "attention":
        _attach_attention(model, insertion, live)
    elif kind == "model_inputs":
        _attach_model_inputs(model, insertion, live, table)
    elif kind == "parameters":
        for param in insertion.module.selected.values():
            param.requires_grad_(True)
    else:  # pragma: no cover - every module declares one of the four
        raise InstantiationError(f"{type(insertion.module).__name__} declares unknown attach kind {kind!r}")
    live.modules.append(insertion.module)


# -- public API -------------------------------------------------------------------------------


def _hyperparameters(method, overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per component: defaults overridden by ``name=value`` (every component with that name) or ``component__name=value``."""
    result = {c.id: {k: h.default for k, h in c.hyperparameters.items()} for c in method.components}
    known = {k for c in method.components for k in c.hyperparameters} | {"gate", "activation", "s", "rank"}
    aliases = {a: k for c in method.components for k, h in c.hyperparameters.items() for a in getattr(h, "aliases", ())}
    declared = {k for c in method.components for k in c.hyperparameters}
    overrides = {(aliases[k] if k not in declared and k in aliases else k): v for k, v in overrides.items()}
    for key, value in overrides.items():
        if "__" in key:
            component, name = key.split("__", 1)
            if component not in result:
                raise InstantiationError(f"{method.id} has no component {component!r} (components: {', '.join(result)})")
            result[component][name] = value
            continue
        if key not in known:
            raise InstantiationError(f"{method.id} has no hyperparameter {key!r} (known: {', '.join(sorted(known))})")
        for component in method.components:
            if key in component.hyperparameters:
                result[component.id][key] = value
    return result


def _default_positions(component) -> list[str]:
    """Where a component runs by default: its canonical positions, or — where the method's own placement is
    unknown — the first alternative (a library's default, recorded as such), so the module still runs somewhere stated."""
    claim = component.positions
    if list(claim.value) == ["unknown"] and claim.alternatives:
        return list(claim.alternatives[0].value)
    return list(claim.value)


def _positions(method, at: Any) -> dict[str, list[str]]:
    if at is None:
        return {c.id: _default_positions(c) for c in method.components}
    if isinstance(at, Mapping):
        unknown = set(at) - {c.id for c in method.components}
        if unknown:
            raise InstantiationError(f"`at` names unknown components {', '.join(sorted(unknown))}")
        return {c.id: list(at.get(c.id, _default_positions(c))) for c in method.components}
    if isinstance(at, str):
        at = [at]
    return {c.id: list(at) for c in method.components}


def _executable(method) -> None:
    missing = [c for c in method.components if c.module is None]
    if missing:
        reasons = "; ".join(f"{c.id}: {c.not_executable_reason}" for c in missing)
        raise InstantiationError(f"{method.id} is not executable ({reasons})")


def _variables(table: SlotTable, hyperparameters: Mapping[str, Any]) -> dict[str, float]:
    env: dict[str, float] = dict(table.dims)
    for name, value in hyperparameters.items():
        if isinstance(value, bool):
            env[name] = int(value)
        elif isinstance(value, (int, float)):
            env[name] = value
    return env


def _formula(component, insertions: list[Insertion], env: dict[str, float]) -> tuple[float | None, float | None]:
    count = component.parameter_count
    if count is None:
        return None, None
    env = {**env, "n_insertions": len(insertions)}

    def total(per: str, shared: str) -> float:
        return sum(evaluate(per, {**env, "d_in": i.d_in, "d_out": i.d_out}) for i in insertions) + evaluate(shared, env)

    trained = total(count.per_insertion, count.shared)
    # each stored_* field defaults to its trained counterpart
    stored = total(count.stored_per_insertion or count.per_insertion, count.stored_shared if count.stored_shared is not None else count.shared)
    return trained, stored


def _slot_rows(table: SlotTable, described: str) -> list[SlotRow]:
    return [SlotRow(r["position"], r["kinds"], r["paths"], r["layers"], described) for r in table.rows()]


def _describe(component, hyperparameters: Mapping[str, Any]) -> str:
    uv = component.unified_view
    values = ", ".join(f"{k}={v}" for k, v in hyperparameters.items())
    return f"{component.module}({values}) {uv.insertion_form.value}, {uv.composition.value}"


def plan(method: Any, model: nn.Module, at: Any = None, **hyperparameters: Any) -> InstantiationReport:
    """Resolve every component's positions without building anything (``--dry-run``)."""
    method = _load_method(method)
    _executable(method)
    hps, positions = _hyperparameters(method, hyperparameters), _positions(method, at)
    components, table = [], None
    for component in method.components:
        table = resolve(model, positions[component.id])
        slots = table.all()
        components.append(ComponentReport(component.id, component.module, hps[component.id], _slot_rows(table, _describe(component, hps[component.id])), len(slots)))
    base = base_parameter_count(model)
    return InstantiationReport(method.id, table.model_type, table.dims, base, None, None, components, dry_run=True)


def instantiate(method: Any, model: nn.Module, at: Any = None, **hyperparameters: Any) -> InstantiationReport:
    """Inject ``method`` (an id or a :class:`~peftref_kb.schema.models.Method`) into ``model``.

    ``hyperparameters`` override component defaults (``r=4`` for every
    component having ``r``; ``gated_lora__r=4`` for one component); ``at``
    overrides positions (a list for every component, or a mapping component
    id -> positions).  Freezes the base model and returns an
    :class:`InstantiationReport`; ``report.remove()`` undoes everything.
    """
    method = _load_method(method)
    _executable(method)
    name = method.id
    if hasattr(model, name) or name in dict(model.named_children()) or name in model.__dict__.get(_REGISTRY, {}):
        raise InstantiationError(f"the model already has an attribute {name!r}; was {name} instantiated twice?")
    hps, positions = _hyperparameters(method, hyperparameters), _positions(method, at)
    base_params = base_parameter_count(model)
    reference = next(iter(model.parameters()))
    device, dtype = reference.device, reference.dtype

    built: list[tuple[Any, SlotTable, Built]] = []
    for component in method.components:
        if component.module not in BUILDERS:
            raise InstantiationError(f"{name}/{component.id}: no builder registered for module {component.module!r}")
        table = resolve(model, positions[component.id])
        ctx = BuildContext(name, component, hps[component.id], table.all(), table, model, device, dtype)
        built.append((component, table, BUILDERS[component.module](ctx)))

    live = Injection(model, name)
    live.requires_grad = {n: p.requires_grad for n, p in model.named_parameters()}
    live.tables = {component.id: table for component, table, _ in built}
    for param in model.parameters():
        param.requires_grad_(False)
    container = nn.ModuleDict()  # root-owned: shared modules and model-input modules
    model.__dict__.setdefault(_REGISTRY, {})[name] = live
    try:
        for component, _, result in built:
            part = nn.ModuleDict()
            if result.shared:
                part["shared"] = nn.ModuleDict(result.shared)
                live.named.append((f"{name}.{component.id}.shared", part["shared"]))
            for insertion in result.insertions:
                if insertion.module.attach == "parameters":
                    continue
                path = _owner_path(insertion)
                if path:
                    _own(model, path, name, component.id, insertion.key, insertion.module, live)
                else:
                    part[insertion.key] = insertion.module
                live.named.append((f"{name}.{component.id}.{insertion.key}", insertion.module))
            container[component.id] = part
        model.add_module(name, container)
        for component, table, result in built:
            for insertion in result.insertions:
                _attach(model, insertion, live, table)
    except Exception:
        live.remove()
        raise

    components = []
    for component, table, result in built:
        hp = hps[component.id]
        rows = []
        for insertion in result.insertions:
            module = insertion.module
            trainable = sum(p.numel() for p in (module.selected.values() if module.attach == "parameters" else module.parameters()) if p.requires_grad)
            rows.append(InsertionRow(insertion.key, [s.label for s in insertion.slots], insertion.d_in, insertion.d_out, module.describe(), trainable, module.stored_parameter_count()))
        shared_trainable = sum(p.numel() for m in result.shared.values() for p in m.parameters())
        shared_stored = sum(getattr(m, "stored_parameter_count", lambda m=m: sum(p.numel() for p in m.parameters()))() for m in result.shared.values())
        formula, formula_stored = _formula(component, result.insertions, _variables(table, hp))
        components.append(
            ComponentReport(
                component.id, component.module, hp, _slot_rows(table, _describe(component, hp)), len(result.insertions),
                trainable_params=sum(r.trainable_params for r in rows) + shared_trainable,
                stored_params=sum(r.stored_params for r in rows) + shared_stored,
                formula_params=formula, formula_stored_params=formula_stored, insertions=rows,
            )
        )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stored = sum(c.stored_params for c in components)
    report = InstantiationReport(name, built[0][1].model_type, built[0][1].dims, base_params, trainable, stored, components, handle=live)
    return report


def adapter_state_dict(model: nn.Module, method_id: str | None = None) -> dict[str, torch.Tensor]:
    """The added tensors of ``method_id`` (parameters and buffers) under their canonical names
    ``<method id>.<component id>.<insertion>.<tensor>``, wherever the modules are owned.

    Values are what ``state_dict()`` gives (detached; DTensor shards on a sharded model: see
    :func:`peftref_kb.reference.distributed.adapter_state_dict` for full tensors gathered from the shards).
    """
    state: dict[str, torch.Tensor] = {}
    for prefix, module in adapter_modules(model, method_id).items():
        state.update(module.state_dict(prefix=f"{prefix}."))
    return state


def load_adapter_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor], method_id: str | None = None) -> None:
    """Copy canonical-named tensors (as :func:`adapter_state_dict` gives them) into the live modules; keys must match exactly."""
    own = adapter_state_dict(model, method_id)
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or unexpected:
        raise InstantiationError(f"adapter state does not match: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for prefix, module in adapter_modules(model, method_id).items():
        module.load_state_dict({k[len(prefix) + 1 :]: v for k, v in state.items() if k.startswith(f"{prefix}.")}, strict=True)
