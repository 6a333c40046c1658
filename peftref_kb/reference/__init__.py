"""The executable side of the catalogue: the only subpackage that imports torch and transformers.

- :mod:`.positions` resolves typology positions against a Hugging Face model
  through ``catalogue/architectures/<model_type>.yaml``;
- :mod:`.modules` holds one reference ``nn.Module`` per functional form;
- :mod:`.registry` maps each record's ``module`` name to a builder;
- :mod:`.inject` wires a record's components into a model
  (:func:`~peftref_kb.reference.inject.instantiate`);
- :mod:`.distributed` runs instantiated models under FSDP2 / DDP and gathers or checkpoints adapters from shards;
- :mod:`.export` writes equivalent HF peft / AdapterHub configs (torch-free).

Attributes are imported lazily so that ``peftref_kb.reference.export`` loads without torch.
"""

from __future__ import annotations

def __getattr__(name: str):
    if name in ("instantiate", "plan", "InstantiationReport", "InstantiationError"):
        from . import inject

        return getattr(inject, name)
    if name in ("resolve", "PositionError"):
        from . import positions

        return getattr(positions, name)
    raise AttributeError(name)
