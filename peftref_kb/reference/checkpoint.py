"""Saving trained adapters and loading them onto a fresh base model: our format and HF peft's.

Our format (``format="peftref"``) is a directory with

- ``adapter_model.safetensors``: the adapter's state dict, keyed as in the live model (``<method id>.<component>...``);
- ``peftref_adapter.json``: the record id, each component's hyperparameters and requested positions, and the slot
  table they resolved to.

``format="peft"`` writes what ``peft.PeftModel.from_pretrained`` reads (``adapter_config.json`` +
``adapter_model.safetensors``, see :mod:`.peft_format`) and the same ``peftref_adapter.json`` beside it, so that a
directory we wrote is recognised as ours.  We never write into a non-empty directory without that file unless
``overwrite=True``.

Tensors are gathered by :func:`gather`: DTensors (torch FSDP2 shards) are gathered with ``.full_tensor()`` on
every rank, and only rank 0 writes when torch.distributed is initialised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from .export import NoEquivalent, peft_config
from . import peft_format

MANIFEST = "peftref_adapter.json"
WEIGHTS = "adapter_model.safetensors"
PEFT_CONFIG = "adapter_config.json"
FORMAT_VERSION = 1
FORMATS = ("peftref", "peft")


class CheckpointError(ValueError):
    """The adapter cannot be saved or loaded; the message says why."""


# -- tensors -----------------------------------------------------------------------------------


def gather(tensor: torch.Tensor) -> torch.Tensor:
    """The whole tensor on CPU: DTensor shards are gathered (a collective: every rank must call it)."""
    full = getattr(tensor, "full_tensor", None)
    if callable(full):
        tensor = full()
    return tensor.detach().to("cpu").contiguous()


def is_writer() -> bool:
    """True on the process that writes files: rank 0 under torch.distributed, else the only process."""
    distributed = torch.distributed
    if distributed.is_available() and distributed.is_initialized():
        return distributed.get_rank() == 0
    return True


def gathered_state(model: nn.Module, method_id: str) -> dict[str, torch.Tensor]:
    """The adapter's tensors under their canonical names (wherever the modules are owned), gathered to whole tensors."""
    from .inject import adapter_state_dict

    return {k: gather(v) for k, v in adapter_state_dict(model, method_id).items()}


# -- directories -------------------------------------------------------------------------------


def _prepare(directory: Path, overwrite: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise CheckpointError(f"{directory} exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / MANIFEST).is_file() and not overwrite:
        raise CheckpointError(f"{directory} is not empty and was not written by peftref; pass overwrite=True (--overwrite) to write into it")
    directory.mkdir(parents=True, exist_ok=True)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return data


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata=metadata)


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    if not path.is_file():
        raise CheckpointError(f"{path.parent}: no {path.name}")
    return load_file(str(path))


# -- what an instantiation is made of ----------------------------------------------------------


def manifest(report) -> dict[str, Any]:
    live = report._live()
    return {
        "format": "peftref-adapter", "version": FORMAT_VERSION, "method_id": report.method_id, "model_type": report.model_type, "dims": report.dims,
        # the base model's class and config, so that `peftref export --weights` can rebuild its module tree (no weights are needed)
        "model_class": type(live.model).__name__,
        "base_config": live.model.config.to_dict() if hasattr(getattr(live.model, "config", None), "to_dict") else None,
        "components": [
            {"id": c.id, "module": c.module, "hyperparameters": c.hyperparameters, "positions": list(live.tables[c.id].slots),
             "slots": [{"position": s.position, "paths": s.paths, "layers": s.layers} for s in c.slots]}
            for c in report.components
        ],
    }


def _method(report):
    from ..store import load_catalogue

    return load_catalogue()[report.method_id]


def _by_component(report):
    """(record component, report component, its insertion modules) per component."""
    live = report._live()
    method = _method(report)
    modules = iter(live.modules)
    for record_component, component in zip(method.components, report.components):
        yield record_component, component, [next(modules) for _ in component.insertions]


# -- save --------------------------------------------------------------------------------------


def save_pretrained(report, directory: str | Path, format: str = "peftref", overwrite: bool = False) -> Path:
    """Write the adapter of a live instantiation to ``directory`` (see the module docstring)."""
    if format not in FORMATS:
        raise CheckpointError(f"unknown format {format!r} (known: {', '.join(FORMATS)})")
    live = report._live()
    if any(getattr(m, "merged", False) for m in live.modules):
        raise CheckpointError("the adapter is merged into the base weights; save before merge() (or save the merged model with merge_and_unload())")
    directory = Path(directory)
    data = manifest(report)
    if format == "peftref":
        tensors = gathered_state(live.model, report.method_id)
        files = {WEIGHTS: tensors}
        extra = {}
    else:
        tensors, config = peft_export(report)
        files = {WEIGHTS: tensors}
        extra = {PEFT_CONFIG: config}
    if not is_writer():
        return directory
    _prepare(directory, overwrite)
    for name, value in extra.items():
        _write_json(directory / name, value)
    for name, value in files.items():
        _save_tensors(value, directory / name, {"format": "pt"})
    data["weights_format"] = format
    _write_json(directory / MANIFEST, data)
    return directory


def peft_export(report) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """peft's (state dict, adapter_config) for a live instantiation; :class:`NoEquivalent` says why not."""
    live = report._live()
    method = _method(report)
    if len(method.components) != 1:
        raise NoEquivalent(f"{method.id} combines {len(method.components)} components; HF peft has no single adapter for this hybrid")
    (record_component, component, modules), = list(_by_component(report))
    config = peft_config(method, component.hyperparameters, live.tables[component.id])
    tensors = {k: gather(v) for k, v in peft_format.to_peft(record_component, component.insertions, modules).items()}
    config = {**config, "peft_version": _peft_version(), "inference_mode": True}
    return tensors, config


def _peft_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("peft")
    except Exception:  # peft is not needed to write its format
        return None


# -- load --------------------------------------------------------------------------------------


def load_adapter(model: nn.Module, directory: str | Path, at: Any = None, **hyperparameters: Any):
    """Instantiate the adapter saved in ``directory`` (ours or peft's) on ``model`` and load its weights.

    A peft directory without our manifest is read through :func:`peft_format.record_for` (peft_type -> record);
    ``at`` / ``hyperparameters`` override positions and hyperparameters there.  Returns the report.
    """
    from .inject import instantiate

    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: not a directory")
    ours = directory / MANIFEST
    peft_dir = (directory / PEFT_CONFIG).is_file()
    if ours.is_file() and not (peft_dir and at is not None):
        data = _read_json(ours)
        if data.get("format") != "peftref-adapter":
            raise CheckpointError(f"{ours}: field 'format' is {data.get('format')!r}, expected 'peftref-adapter'")
        if data.get("version") != FORMAT_VERSION:
            raise CheckpointError(f"{ours}: field 'version' is {data.get('version')!r}; this peftref reads version {FORMAT_VERSION}")
        components = data.get("components") or []
        positions = {c["id"]: c["positions"] for c in components}
        hps = {f"{c['id']}__{k}": v for c in components for k, v in c["hyperparameters"].items()}
        report = instantiate(data["method_id"], model, at=positions, **hps)
        weights_format = data.get("weights_format", "peftref")
    elif peft_dir:
        config = _read_json(directory / PEFT_CONFIG)
        try:
            record, hps = peft_format.record_for(config)
        except NoEquivalent as err:
            raise CheckpointError(f"{directory / PEFT_CONFIG}: {err}") from None
        report = instantiate(record, model, at=at, **{**hps, **hyperparameters})
        weights_format = "peft"
    else:
        raise CheckpointError(f"{directory}: neither {MANIFEST} (peftref) nor {PEFT_CONFIG} (peft) found")
    try:
        state = _load_tensors(directory / WEIGHTS)
        if weights_format == "peft":
            _load_peft_weights(report, state)
        else:
            _load_own_weights(report, state)
    except Exception:
        report.remove()
        raise
    return report


def _load_own_weights(report, state: Mapping[str, torch.Tensor]) -> None:
    from .inject import adapter_state_dict, load_adapter_state_dict

    model = report._live().model
    expected = adapter_state_dict(model, report.method_id)
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"the saved adapter does not fit this model: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for key, value in state.items():
        if expected[key].shape != value.shape:
            raise CheckpointError(f"{key}: saved shape {tuple(value.shape)}, this model's {tuple(expected[key].shape)}")
    load_adapter_state_dict(model, state, report.method_id)


def _load_peft_weights(report, state: Mapping[str, torch.Tensor]) -> None:
    used: set[str] = set()
    for record_component, component, modules in _by_component(report):
        try:
            used |= peft_format.from_peft(record_component, component.insertions, modules, dict(state))
        except NoEquivalent as err:
            raise CheckpointError(str(err)) from None
    left = sorted(set(state) - used)
    if left:
        raise CheckpointError(f"the peft adapter has tensors no module of {report.method_id} at these positions reads: {', '.join(left[:4])}"
                              f"{' …' if len(left) > 4 else ''} (give the positions with at=...)")


# -- rebuilding the base model's structure (for converting a saved adapter without the user's model) ----------

AUTO_CLASSES = ("AutoModelForCausalLM", "AutoModelForSeq2SeqLM", "AutoModelForMaskedLM", "AutoModel")


def base_model_for(directory: str | Path, config=None):
    """A randomly initialised model of the saved adapter's base class (from ``config`` or the manifest's ``base_config``).

    The class is looked up among transformers' auto classes by the saved class name (never imported from a name).
    """
    import transformers

    directory = Path(directory)
    data = _read_json(directory / MANIFEST) if (directory / MANIFEST).is_file() else {}
    if config is None:
        base = data.get("base_config")
        if not isinstance(base, dict) or "model_type" not in base:
            raise CheckpointError(f"{directory}: the manifest has no base_config; pass the base model's config.json (--config)")
        base = dict(base)
        config = transformers.AutoConfig.for_model(base.pop("model_type"), **base)
    wanted = data.get("model_class")
    for name in AUTO_CLASSES:
        auto = getattr(transformers, name)
        mapping = auto._model_mapping
        try:
            cls = mapping[type(config)]
        except KeyError:
            continue
        if wanted is None or cls.__name__ == wanted:
            return auto.from_config(config).eval()
    raise CheckpointError(f"{directory}: model class {wanted!r} is none of transformers' {', '.join(AUTO_CLASSES)} for {config.model_type}")
