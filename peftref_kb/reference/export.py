"""Equivalent third-party configs for a record: Hugging Face peft and AdapterHub ``adapters``.

Pure functions over a record (and, where module names are needed, the slot
table its positions resolved to); no torch import here, so the CLI can build
configs without loading a model when none is needed.  A record without an
exact equivalent raises :class:`NoEquivalent` with the reason (e.g. GPT-2's
fused q/k/v, peft's decoder-only prefixes on encoder-decoder models).
"""

from __future__ import annotations

import re
from typing import Any, Callable

TARGETS = ("peft", "adapters")


class NoEquivalent(ValueError):
    """The record has no exact equivalent in the target library; the message says why."""


def _hp(component) -> dict[str, Any]:
    return {k: h.default for k, h in component.hyperparameters.items()}


def _regex(paths: list[str], base_prefix: str = "") -> str:
    """A regex matching exactly these module paths, with or without the wrapper's prefix (peft full-matches it)."""
    names = sorted({p[len(base_prefix):] if base_prefix and p.startswith(base_prefix) else p for p in paths})
    return r"^(?:.*\.)?(?:" + "|".join(re.escape(n) for n in names) + r")$"


def _single(method, target: str):
    if len(method.components) != 1:
        raise NoEquivalent(f"{method.id} combines {len(method.components)} components; {target} has no single config for this hybrid")
    return method.components[0]


def _need(table, what: str):
    if table is None:
        raise NoEquivalent(f"{what} depends on the model's module names; pass --config HF_CONFIG.json")
    return table


def _task_type(table) -> str | None:
    if table is None:
        return None
    arch = table.architecture
    if arch.is_encoder_decoder:
        return "SEQ_2_SEQ_LM"
    return "CAUSAL_LM" if "decoder" in arch.stacks else "FEATURE_EXTRACTION"


def peft_config(method, hyperparameters: dict[str, Any] | None = None, table=None) -> dict[str, Any]:
    """The ``adapter_config.json`` content of the equivalent HF peft config."""
    component = _single(method, "HF peft")
    hp = {**_hp(component), **(hyperparameters or {})}
    builder = _PEFT.get(component.module or "")
    if builder is None:
        raise NoEquivalent(f"HF peft has no config equivalent to module {component.module!r} ({method.id})")
    return builder(method, component, hp, table)


def _peft_lora(method, component, hp, table):
    if component.unified_view.composition.value == "gated-addition":
        raise NoEquivalent("HF peft's LoRA has no input-dependent gate (UniPELT)")
    table = _need(table, "LoraConfig.target_modules")
    slots = table.all()
    if any(s.representation and s.representation.chunk for s in slots):
        raise NoEquivalent(
            "the positions are column blocks of a fused projection (GPT-2's c_attn); HF peft can only adapt the whole "
            "fused matrix (q, k and v together)"
        )
    # rsLoRA scales by alpha / sqrt(r): peft's use_rslora (without it peft scales by alpha / r, another function)
    return {"peft_type": "LORA", "task_type": _task_type(table), "r": int(hp["r"]), "lora_alpha": hp.get("alpha", hp["r"]), "lora_dropout": 0.0,
            "target_modules": _regex([s.path for s in slots]), "bias": "none", "use_rslora": bool(hp.get("rank_stabilized", False))}


def _whole_projections(table, what: str):
    table = _need(table, what)
    slots = table.all()
    if any(s.representation and s.representation.chunk for s in slots):
        raise NoEquivalent("the positions are column blocks of a fused projection (GPT-2's c_attn); HF peft can only adapt the whole fused matrix")
    return table, slots


def _peft_dora(method, component, hp, table):
    table, slots = _whole_projections(table, "LoraConfig.target_modules")
    return {"peft_type": "LORA", "task_type": _task_type(table), "r": int(hp["r"]), "lora_alpha": hp.get("alpha", hp["r"]), "lora_dropout": 0.0,
            "target_modules": _regex([s.path for s in slots]), "bias": "none", "use_dora": True}


def _peft_loha(method, component, hp, table):
    table, slots = _whole_projections(table, "LoHaConfig.target_modules")
    return {"peft_type": "LOHA", "task_type": _task_type(table), "r": int(hp["r"]), "alpha": hp.get("alpha", hp["r"]), "rank_dropout": 0.0,
            "module_dropout": 0.0, "target_modules": _regex([s.path for s in slots])}


def _peft_vera(method, component, hp, table):
    table, slots = _whole_projections(table, "VeraConfig.target_modules")
    # the frozen A, B are drawn from projection_prng_key with the same shapes as ours
    # (test_new_methods_peft.py::test_vera_shared_projections_are_peft_draws_from_the_same_seed), so peft regenerates them
    return {"peft_type": "VERA", "task_type": _task_type(table), "r": int(hp["r"]), "projection_prng_key": int(hp.get("projection_prng_key", 0)),
            "save_projection": False, "vera_dropout": 0.0, "d_initial": float(hp.get("d_initial", 0.1)), "bias": "none",
            "target_modules": _regex([s.path for s in slots])}


def _peft_oft(method, component, hp, table):
    table, slots = _whole_projections(table, "OFTConfig.target_modules")
    if not hp.get("use_cayley_neumann", True):
        raise NoEquivalent("with use_cayley_neumann=False peft computes R = (I - Q)(I + Q)^-1, the Cayley transform of -Q; the record's is of Q "
                           "(tests/reference/test_new_methods_peft.py::test_oft_exact_cayley_is_peft_with_the_skew_parameters_negated)")
    return {"peft_type": "OFT", "task_type": _task_type(table), "r": 0, "oft_block_size": int(hp["oft_block_size"]), "module_dropout": 0.0,
            "coft": bool(hp.get("coft", False)), "eps": float(hp.get("eps", 6e-5)), "block_share": bool(hp.get("block_share", False)),
            "use_cayley_neumann": bool(hp.get("use_cayley_neumann", True)), "num_cayley_neumann_terms": int(hp.get("num_cayley_neumann_terms", 5)),
            "target_modules": _regex([s.path for s in slots])}


def _peft_ia3(method, component, hp, table):
    table = _need(table, "IA3Config.target_modules")
    slots = table.all()
    if any(s.representation and s.representation.chunk for s in slots):
        raise NoEquivalent("the positions are column blocks of a fused projection (GPT-2's c_attn); HF peft would rescale q, k and v together")
    feedforward = [s.path for s in slots if s.site == "activation"]
    return {"peft_type": "IA3", "task_type": _task_type(table), "target_modules": _regex([s.path for s in slots]),
            "feedforward_modules": _regex(feedforward) if feedforward else None}


def _peft_soft_prompt(method, component, hp, table):
    config = {"peft_type": "PROMPT_TUNING", "task_type": _task_type(table), "num_virtual_tokens": int(hp["l"]), "prompt_tuning_init": "RANDOM"}
    if table is not None:
        # one set of l vectors, prepended to the (encoder) input as Lester et al. do; peft would otherwise allocate 2l
        config.update(token_dim=table.dims["d"], num_transformer_submodules=1, num_attention_heads=table.dims["n_heads"], num_layers=table.dims["L"])
    return config


def _peft_prefix(method, component, hp, table):
    if hp.get("gate"):
        raise NoEquivalent("HF peft's prefix tuning has no gate (UniPELT)")
    if table is not None and table.architecture.is_encoder_decoder:
        raise NoEquivalent(
            "on encoder-decoder models HF peft prefixes only the decoder's self-attention (see peft_deviations.yaml); "
            "the record prefixes every attention sub-layer"
        )
    hidden = int(hp.get("reparam_hidden", 0))
    config = {"peft_type": "PREFIX_TUNING", "task_type": _task_type(table), "num_virtual_tokens": int(hp["l"]), "prefix_projection": hidden > 0}
    if hidden:
        config["encoder_hidden_size"] = hidden
    if table is not None:
        config.update(token_dim=table.dims["d"], num_layers=table.dims["L"], num_attention_heads=table.dims["n_heads"])
    return config


_PEFT: dict[str, Callable] = {"lora": _peft_lora, "dora": _peft_dora, "loha": _peft_loha, "oft": _peft_oft, "vera": _peft_vera, "ia3": _peft_ia3, "soft_prompt": _peft_soft_prompt, "prefix": _peft_prefix}


# -- AdapterHub `adapters` ----------------------------------------------------------------


def adapters_config(method, hyperparameters: dict[str, Any] | None = None, table=None) -> dict[str, Any]:
    """An AdapterHub ``adapters`` config dict (a ConfigUnion for hybrids)."""
    configs = []
    for component in method.components:
        hp = {**_hp(component), **{k.split("__", 1)[-1]: v for k, v in (hyperparameters or {}).items() if "__" not in k or k.startswith(component.id + "__")}}
        builder = _ADAPTERS.get(component.module or "")
        if builder is None:
            raise NoEquivalent(f"AdapterHub adapters has no config equivalent to module {component.module!r} ({method.id}/{component.id})")
        configs.append(builder(component, hp, table))
    return configs[0] if len(configs) == 1 else {"architecture": "union", "configs": configs}


def _reduction_factor(d: int, r: int) -> float:
    """AdapterHub sizes the bottleneck as int(d // reduction_factor); pick the factor that gives exactly r."""
    return d / r if d % r == 0 else d / (r + 0.5)


def _positions(component) -> set[str]:
    return set(component.positions.value)


def _adapters_bottleneck(component, hp, table):
    if hp.get("n_heads_split") or hp.get("gate"):
        raise NoEquivalent("AdapterHub's bottleneck adapters have no multi-head or gated variant")
    table = _need(table, "reduction_factor (= d / r)")
    positions = _positions(component)
    parallel = component.unified_view.insertion_form.value == "parallel"
    # AdapterHub loads a bottleneck config when `architecture` is absent (BnConfig.architecture is None)
    return {"mh_adapter": bool(positions & {"attn", "self_attn"}), "output_adapter": "ffn" in positions,
            "reduction_factor": _reduction_factor(table.dims["d"], int(hp["r"])), "non_linearity": hp.get("activation", "relu"), "is_parallel": parallel,
            "scaling": float(hp.get("s", 1.0)), "residual_before_ln": True, "original_ln_before": not parallel, "original_ln_after": True}


def _adapters_lora(component, hp, table):
    matrices = sorted({p.split(".")[-1] for p in _positions(component) if p.startswith(("attn.", "self_attn."))})
    return {"architecture": "lora", "selfattn_lora": bool(matrices), "intermediate_lora": "ffn.in" in _positions(component),
            "output_lora": "ffn.out" in _positions(component), "r": int(hp["r"]), "alpha": hp.get("alpha", hp["r"]), "attn_matrices": matrices,
            "composition_mode": "add", "init_weights": "lora"}


def _adapters_ia3(component, hp, table):
    matrices = sorted({p.split(".")[-1] for p in _positions(component) if p.startswith(("attn.", "self_attn."))})
    return {"architecture": "lora", "selfattn_lora": True, "intermediate_lora": "ffn.hidden" in _positions(component), "output_lora": False,
            "r": 1, "alpha": 1, "attn_matrices": matrices, "composition_mode": "scale", "init_weights": "ia3"}


def _adapters_prefix(component, hp, table):
    hidden = int(hp.get("reparam_hidden", 0))
    return {"architecture": "prefix_tuning", "prefix_length": int(hp["l"]), "flat": hidden == 0, "bottleneck_size": hidden or 512,
            "encoder_prefix": True, "cross_prefix": True, "non_linearity": "tanh"}


def _adapters_soft_prompt(component, hp, table):
    return {"architecture": "prompt_tuning", "prompt_length": int(hp["l"]), "prompt_init": "random_uniform", "combine": "prefix"}


def _adapters_phm(component, hp, table):
    table = _need(table, "reduction_factor (= d / r)")
    positions = _positions(component)
    shared = component.peft_ref.parameter_sharing.value == "shared-across-layers"
    return {"phm_layer": True, "phm_dim": int(hp["n"]), "shared_phm_rule": shared, "factorized_phm_W": "rank" in hp,
            "phm_rank": int(hp.get("rank", 1)), "mh_adapter": bool(positions & {"attn", "self_attn"}), "output_adapter": "ffn" in positions,
            "reduction_factor": _reduction_factor(table.dims["d"], int(hp["r"])), "non_linearity": hp.get("activation", "relu")}


_ADAPTERS: dict[str, Callable] = {
    "bottleneck_adapter": _adapters_bottleneck, "lora": _adapters_lora, "ia3": _adapters_ia3, "prefix": _adapters_prefix,
    "soft_prompt": _adapters_soft_prompt, "phm_adapter": _adapters_phm,
}
