"""Which catalogue record an adapter directory (ours, HF peft's or AdapterHub's) is, and where it attaches.

``identify(path)`` reads only JSON (no torch): our ``peftref_adapter.json`` names the record; peft's
``adapter_config.json`` is read through :data:`~peftref_kb.reference.peft_format.RECORDS`-style data (peft_type and
flags); AdapterHub's ``adapter_config.json`` (``{"config": {...}, "model_class": ...}``) through :data:`ADAPTERS`.
The slot table needs the base model's config and is computed by the caller with
:func:`~peftref_kb.reference.inject.plan`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# AdapterHub config -> record: the first entry whose fields all match (None: the field is absent or null)
ADAPTERS: tuple[dict[str, Any], ...] = (
    {"match": {"architecture": "lora", "composition_mode": "scale"}, "record": "ia3"},
    {"match": {"architecture": "lora"}, "record": "lora"},
    {"match": {"architecture": "prefix_tuning"}, "record": "prefix-tuning"},
    {"match": {"architecture": "prompt_tuning"}, "record": "prompt-tuning"},
    {"match": {"architecture": None, "phm_layer": True}, "record": "compacter"},
    {"match": {"architecture": None, "mh_adapter": True, "output_adapter": True}, "record": "houlsby-adapter"},
    {"match": {"architecture": None, "mh_adapter": False, "output_adapter": True}, "record": "pfeiffer-adapter"},
)

# peft_type (+ flags) -> record; kept torch-free here and used by peft_format.record_for as well
PEFT: tuple[dict[str, Any], ...] = (
    {"match": {"peft_type": "LORA", "use_dora": True}, "record": "dora"},
    {"match": {"peft_type": "LORA", "use_rslora": True}, "record": "rslora"},
    {"match": {"peft_type": "LORA"}, "record": "lora"},
    {"match": {"peft_type": "IA3"}, "record": "ia3"},
    {"match": {"peft_type": "LOHA"}, "record": "loha"},
    {"match": {"peft_type": "LOKR"}, "record": "lokr"},
    {"match": {"peft_type": "OFT"}, "record": "oft"},
    {"match": {"peft_type": "VERA"}, "record": "vera"},
    {"match": {"peft_type": "ADALORA"}, "record": "adalora"},
    {"match": {"peft_type": "PROMPT_TUNING"}, "record": "prompt-tuning"},
    {"match": {"peft_type": "P_TUNING"}, "record": "p-tuning"},
    {"match": {"peft_type": "PREFIX_TUNING"}, "record": "prefix-tuning"},
    {"match": {"peft_type": "ADAPTION_PROMPT"}, "record": "llama-adapter"},
    {"match": {"peft_type": "LN_TUNING"}, "record": "ln-tuning"},
)


class IdentifyError(ValueError):
    """The path is no adapter we can read; the message says why."""


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IdentifyError(f"{path}: cannot read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise IdentifyError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise IdentifyError(f"{path}: expected a JSON object")
    return data


def _first(table, config: dict[str, Any]) -> str | None:
    for entry in table:
        if all(config.get(k) == v for k, v in entry["match"].items()):
            return entry["record"]
    return None


def identify(path: str | Path) -> dict[str, Any]:
    """``{"format", "record", "config", "file"}`` for an adapter directory or its config file."""
    path = Path(path)
    if path.is_dir():
        for name in ("peftref_adapter.json", "adapter_config.json"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise IdentifyError(f"{path}: no peftref_adapter.json or adapter_config.json")
    data = _read(path)
    if data.get("format") == "peftref-adapter":
        return {"format": "peftref", "record": data.get("method_id"), "config": data, "file": str(path)}
    if "peft_type" in data:
        record = _first(PEFT, data)
        return {"format": "peft", "record": record, "config": data, "file": str(path)}
    if isinstance(data.get("config"), dict):
        config = data["config"]
        return {"format": "adapters", "record": _first(ADAPTERS, config), "config": config, "file": str(path)}
    raise IdentifyError(f"{path}: neither a peftref, HF peft (peft_type) nor AdapterHub (config) adapter config")


def hyperparameters_and_positions(found: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Our hyperparameter overrides and positions for :func:`plan` (ours exactly; peft/adapters: r and alpha only)."""
    config = found["config"]
    if found["format"] == "peftref":
        components = config.get("components") or []
        return {f"{c['id']}__{k}": v for c in components for k, v in c["hyperparameters"].items()}, {c["id"]: c["positions"] for c in components}
    names = {"r": "r", "lora_alpha": "alpha", "alpha": "alpha", "num_virtual_tokens": "l", "prefix_length": "l", "prompt_length": "l"}
    return {ours: config[theirs] for theirs, ours in names.items() if isinstance(config.get(theirs), (int, float)) and not isinstance(config.get(theirs), bool)}, None
