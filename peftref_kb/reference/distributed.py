"""Instantiated models under PyTorch's distributed engines: FSDP2, DDP, activation checkpointing, torch.compile.

Every reference module is owned by the block it acts on (see :mod:`.inject`), so the usual recipes need nothing
special:

- **FSDP2**: :func:`shard` calls ``fully_shard`` on every layer of every stack the architecture data names
  (``stacks.<stack>.layers``), then on the root; a layer's adapters are sharded, gathered and freed with it,
  shared modules (a prefix reparametrisation MLP, VeRA's projections, a soft prompt) with the root.  An
  ``accelerate`` FSDP2 configuration that wraps the decoder-layer class does the same.
- **DDP** wraps the model as usual (only the adapters have gradients, so only they are all-reduced).
- :func:`checkpoint_layers` wraps the same layers with activation checkpointing (the adapters' hooks run inside).

Checkpoints from the shards: :func:`adapter_state_dict` gathers full adapter tensors (canonical names, as
:func:`peftref_kb.reference.inject.adapter_state_dict`) onto rank 0; :func:`save_checkpoint` /
:func:`load_checkpoint` write and read a sharded ``torch.distributed.checkpoint`` of the trainable state and the
optimiser state (each rank writes its shards; the frozen base is not stored).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from . import inject
from .positions import _base_prefix, load_architecture


def _unwrap(model: nn.Module) -> nn.Module:
    while True:
        inner = model._modules.get("module") or model._modules.get("_orig_mod")
        if inner is None:
            return model
        model = inner


def layers(model: nn.Module) -> list[nn.Module]:
    """The repeated blocks of every stack (``stacks.<stack>.layers`` in the architecture data), in order."""
    model = _unwrap(model)
    config = getattr(model, "config", None)
    if config is None:
        raise inject.InstantiationError(f"{type(model).__name__} has no config; cannot look up its layers")
    arch = load_architecture(config.model_type)
    base, _ = _base_prefix(model)
    out: list[nn.Module] = []
    for stack in arch.stacks.values():
        path = stack.get("layers")
        if path:
            out.extend(base.get_submodule(path))
    return out


def unit_of(model: nn.Module, parameter: nn.Parameter) -> nn.Module | None:
    """The FSDP2 unit (a module ``fully_shard`` was called on) managing ``parameter``, or None if unsharded."""
    from torch.distributed.fsdp import FSDPModule

    for module in _unwrap(model).modules():
        if isinstance(module, FSDPModule):
            group = module._get_fsdp_state()._fsdp_param_group
            if group is not None and any(fp.sharded_param is parameter for fp in group.fsdp_params):
                return module
    return None


def shard(model: nn.Module, *, mixed_precision: bool = False, param_dtype: torch.dtype = torch.bfloat16,
          reduce_dtype: torch.dtype = torch.float32, mesh: Any = None, reshard_after_forward: bool = True) -> nn.Module:
    """FSDP2: ``fully_shard`` every layer, then the root.  With ``mixed_precision`` parameters are gathered in
    ``param_dtype`` for compute and gradients reduced in ``reduce_dtype`` (bf16 / fp32 by default)."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    kwargs: dict[str, Any] = {"reshard_after_forward": reshard_after_forward}
    if mesh is not None:
        kwargs["mesh"] = mesh
    if mixed_precision:
        kwargs["mp_policy"] = MixedPrecisionPolicy(param_dtype=param_dtype, reduce_dtype=reduce_dtype)
    for layer in layers(model):
        fully_shard(layer, **kwargs)
    fully_shard(model, **kwargs)
    return model


def checkpoint_layers(model: nn.Module) -> nn.Module:
    """Activation checkpointing of every layer (recomputed in backward, adapters included).

    Sets ``config.use_cache = False`` as transformers' own gradient checkpointing does: a key/value cache filled
    in forward would be extended again by the recomputation.
    """
    config = getattr(_unwrap(model), "config", None)
    if config is not None and getattr(config, "use_cache", False):
        config.use_cache = False
    from functools import partial

    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import CheckpointImpl, apply_activation_checkpointing, checkpoint_wrapper

    targets = {id(m) for m in layers(model)}
    wrapper = partial(checkpoint_wrapper, checkpoint_impl=CheckpointImpl.NO_REENTRANT)
    apply_activation_checkpointing(_unwrap(model), checkpoint_wrapper_fn=wrapper, check_fn=lambda m: id(m) in targets)
    return model


def _rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def adapter_state_dict(model: nn.Module, method_id: str | None = None, *, rank0_only: bool = True) -> dict[str, torch.Tensor]:
    """Full adapter tensors (canonical names) gathered from the shards, on CPU.

    Every rank must call it (gathering DTensor shards is a collective); with ``rank0_only`` the other ranks get ``{}``.
    Works unchanged on an unsharded, DDP-wrapped or compiled model.
    """
    from torch.distributed.tensor import DTensor

    out: dict[str, torch.Tensor] = {}
    for name, value in inject.adapter_state_dict(_unwrap(model), method_id).items():
        if isinstance(value, DTensor):
            value = value.full_tensor()
        out[name] = value.detach().to("cpu", copy=True)
    return {} if rank0_only and _rank() != 0 else out


def _states(model: nn.Module, optimizer: torch.optim.Optimizer | None):
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict, get_state_dict

    options = StateDictOptions(ignore_frozen_params=True)  # the trainable state only: the base is not stored
    if optimizer is None:
        return {"model": get_model_state_dict(model, options=options)}, options
    model_state, optim_state = get_state_dict(model, optimizer, options=options)
    return {"model": model_state, "optim": optim_state}, options


def save_checkpoint(directory: str, model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> None:
    """Sharded ``torch.distributed.checkpoint`` of the trainable parameters (and optimiser state); every rank calls it."""
    import torch.distributed.checkpoint as dcp

    state, _ = _states(model, optimizer)
    dcp.save(state, checkpoint_id=directory)


def load_checkpoint(directory: str, model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> None:
    """Read a :func:`save_checkpoint` directory into an instantiated (and identically wrapped) model and optimiser."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

    state, options = _states(model, optimizer)
    dcp.load(state, checkpoint_id=directory)
    load_options = StateDictOptions(ignore_frozen_params=True, strict=False)  # frozen base keys are absent by design
    if optimizer is None:
        from torch.distributed.checkpoint.state_dict import set_model_state_dict

        set_model_state_dict(model, state["model"], options=load_options)
    else:
        set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optim"], options=load_options)
