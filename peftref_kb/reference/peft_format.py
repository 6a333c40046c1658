"""HF peft's adapter directory format (``adapter_config.json`` + ``adapter_model.safetensors``) for our modules.

Each reference module that peft implements with the same function declares, in :data:`WEIGHTS`, how its tensors
are named and shaped in peft's state dict (one entry per module name, not an ``if`` chain per method):
``(our attribute, peft suffix, layout)`` with layout ``T`` (peft stores the transpose, e.g. LoRA's
``lora_A.weight`` = W_downᵀ) or ``as-is`` (same values, peft's shape; (IA)³'s vectors are ``(d, 1)`` at a
projection's output and ``(1, d)`` at its input).  peft's keys are ``base_model.model.<module path>.<suffix>``
for layer-wise methods and ``prompt_embeddings`` for prompt tuning.  The configs come from
:func:`~peftref_kb.reference.export.peft_config` (one path for both the CLI's config export and the weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from .export import NoEquivalent


@dataclass(frozen=True)
class Tensor:
    ours: str  # attribute of our module
    peft: str  # suffix after the module path in peft's state dict
    layout: str = "as-is"  # "T": peft stores the transpose


def _ia3_shape(module, tensor: torch.Tensor) -> torch.Tensor:
    side = module._target.side if module._target is not None else "output"
    return tensor.reshape(-1, 1) if side == "output" else tensor.reshape(1, -1)


@dataclass(frozen=True)
class ModuleWeights:
    tensors: tuple[Tensor, ...]
    scope: str = "layer"  # "layer": keyed by the module path; "prompt": one model-level tensor
    shape: Callable[[Any, torch.Tensor], torch.Tensor] | None = None  # peft's shape for "as-is" tensors (default: ours)
    # frozen tensors peft may store once per model (VeRA's A, B with save_projection=True): (dotted attribute, peft key);
    # read back only if they equal ours (ours are redrawn from the seed), never written (the config regenerates them)
    frozen: tuple[tuple[str, str], ...] = ()


WEIGHTS: dict[str, ModuleWeights] = {
    "lora": ModuleWeights((Tensor("down", "lora_A.weight", "T"), Tensor("up", "lora_B.weight", "T"))),
    "dora": ModuleWeights((Tensor("down", "lora_A.weight", "T"), Tensor("up", "lora_B.weight", "T"), Tensor("magnitude", "lora_magnitude_vector"))),
    "ia3": ModuleWeights((Tensor("scale", "ia3_l"),), shape=_ia3_shape),
    "loha": ModuleWeights((Tensor("B1", "hada_w1_a"), Tensor("A1", "hada_w1_b"), Tensor("B2", "hada_w2_a"), Tensor("A2", "hada_w2_b"))),
    "vera": ModuleWeights((Tensor("scale_d", "vera_lambda_d"), Tensor("scale_b", "vera_lambda_b")),
                          frozen=(("projections.A", "base_model.vera_A"), ("projections.B", "base_model.vera_B"))),
    "oft": ModuleWeights((Tensor("skew", "oft_R.weight"),)),
    "soft_prompt": ModuleWeights((Tensor("prompt", "prompt_embeddings"),), scope="prompt"),
}

PREFIX = "base_model.model."


def _weights(component) -> ModuleWeights:
    spec = WEIGHTS.get(component.module or "")
    if spec is None:
        raise NoEquivalent(f"no peft weight mapping for module {component.module!r}: peft's tensors for it are not known to match ours one to one")
    return spec


def _paths(insertion) -> list[str]:
    return [p.split("[")[0] for p in insertion.paths]


def to_peft(component, insertions, modules) -> dict[str, torch.Tensor]:
    """peft's state dict (adapter name removed, as ``save_pretrained`` writes it) for one component's modules."""
    spec = _weights(component)
    out: dict[str, torch.Tensor] = {}
    for insertion, module in zip(insertions, modules):
        if any("[" in p for p in insertion.paths):
            raise NoEquivalent(f"{insertion.paths[0]} is a column block of a fused projection; peft adapts whole modules only")
        for t in spec.tensors:
            value = getattr(module, t.ours).detach()
            value = value.T if t.layout == "T" else (spec.shape(module, value) if spec.shape else value)
            key = t.peft if spec.scope == "prompt" else f"{PREFIX}{_paths(insertion)[0]}.{t.peft}"
            if key in out:
                raise NoEquivalent(f"two insertions write peft's {key}; peft has one adapter per module")
            out[key] = value.contiguous()
    return out


def from_peft(component, insertions, modules, state: dict[str, torch.Tensor]) -> set[str]:
    """Copy peft's tensors into our modules; returns the keys used (the caller checks that none is left over)."""
    spec = _weights(component)
    used: set[str] = set()
    with torch.no_grad():
        for insertion, module in zip(insertions, modules):
            for t in spec.tensors:
                key = t.peft if spec.scope == "prompt" else f"{PREFIX}{_paths(insertion)[0]}.{t.peft}"
                if key not in state:
                    raise NoEquivalent(f"the peft adapter has no tensor {key} (our {component.module} module at {insertion.paths[0]} needs it)")
                target = getattr(module, t.ours)
                value = state[key].T if t.layout == "T" else state[key]
                if value.numel() != target.numel():
                    raise NoEquivalent(f"{key}: peft's tensor has shape {tuple(state[key].shape)}, our {t.ours} has {tuple(target.shape)}")
                target.copy_(value.reshape(target.shape))
                used.add(key)
            for attribute, key in spec.frozen:
                if key in state:
                    ours = module.get_submodule(attribute.rsplit(".", 1)[0]).get_buffer(attribute.rsplit(".", 1)[1])
                    if ours.shape != state[key].shape or not torch.equal(ours, state[key].to(ours.dtype)):
                        raise NoEquivalent(f"peft's {key} is not the frozen tensor our module draws from its seed; the adapter was made with other projections")
                    used.add(key)
    return used


# -- reading a peft config back into a record ------------------------------------------------

# record (found from peft_type and flags by identify.PEFT) -> our hyperparameter names for peft's config fields, for
# the records whose weights peft_format reads
HYPERPARAMETERS: dict[str, dict[str, str]] = {
    "dora": {"r": "r", "lora_alpha": "alpha"},
    "rslora": {"r": "r", "lora_alpha": "alpha"},
    "lora": {"r": "r", "lora_alpha": "alpha"},
    "ia3": {},
    "loha": {"r": "r", "alpha": "alpha"},
    "oft": {name: name for name in ("oft_block_size", "coft", "eps", "block_share", "use_cayley_neumann", "num_cayley_neumann_terms")},
    "vera": {"r": "r", "projection_prng_key": "projection_prng_key", "d_initial": "d_initial"},
    "prompt-tuning": {"num_virtual_tokens": "l"},
}

# config values under which peft computes something our module does not (checked before loading)
UNSUPPORTED: dict[str, Callable[[dict], str | None]] = {
    "LORA": lambda c: (
        f"bias={c.get('bias')!r} trains biases (our LoRA does not)" if c.get("bias", "none") != "none"
        else "modules_to_save trains whole modules besides the adapter" if c.get("modules_to_save")
        else "rank_pattern / alpha_pattern give modules different ranks" if c.get("rank_pattern") or c.get("alpha_pattern")
        else None),
    "PROMPT_TUNING": lambda c: f"num_transformer_submodules={c.get('num_transformer_submodules')} prompts both encoder and decoder"
    if (c.get("num_transformer_submodules") or 1) != 1 else None,
}


def record_for(config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The catalogue record and our hyperparameters for a peft ``adapter_config.json``."""
    from .identify import PEFT, _first

    peft_type = str(config.get("peft_type", ""))
    record = _first(PEFT, config)
    if record not in HYPERPARAMETERS:
        raise NoEquivalent(f"peft {peft_type or '(no peft_type)'} adapters ({record or 'no catalogue record'}) are not read into our modules yet")
    reason = UNSUPPORTED.get(peft_type, lambda c: None)(config)
    if reason:
        raise NoEquivalent(f"peft {peft_type} adapter: {reason}")
    if record == "oft" and config.get("r"):
        raise NoEquivalent("peft OFT with r (number of blocks) set; the reference module is sized by oft_block_size")
    return record, {ours: config[theirs] for theirs, ours in HYPERPARAMETERS[record].items() if config.get(theirs) is not None}
