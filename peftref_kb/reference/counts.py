"""One definition of "base parameters", used by instantiate, bench and the site.

The base count is the backbone (``model.base_model``: the transformer without the LM or task head), each
tensor once (tied weights are one tensor).  A head that is tied to the input embedding adds nothing; an untied
LM head (Llama, Mistral) is left out, so the same config counts the same under AutoModel and
AutoModelForCausalLM, and trainable percentages are relative to the backbone.
"""

from __future__ import annotations

from typing import Any

BASE_DEFINITION = "backbone parameters without the LM / task head"


def base_parameter_count(model: Any) -> int:
    backbone = getattr(model, "base_model", model)
    return sum(p.numel() for p in backbone.parameters())
