"""instantiate, export: the executable side of a record (torch is imported inside the commands only)."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import CatalogueOption, ForceOption, JsonOption, OutputOption, UserError, console, emit_json, err, handle_errors, load, write_output, table as make_table

ConfigOption = Annotated[
    Optional[str],
    typer.Option("--config", help="A Hugging Face config: a config.json file, a directory holding config.json, or a bare model_type (transformers' default config for it, e.g. `llama`).", show_default=False),
]
ConfigSetOption = Annotated[
    Optional[list[str]],
    typer.Option("--config-set", help="Override a config field: KEY=VALUE (e.g. num_hidden_layers=2); repeatable.", show_default=False),
]
SetOption = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Override a hyperparameter: NAME=VALUE (every component with NAME) or COMPONENT.NAME=VALUE; repeatable.", show_default=False),
]
AtOption = Annotated[
    Optional[list[str]],
    typer.Option("--at", help="Override the positions (every component); repeatable, e.g. --at attn.q --at ffn.", show_default=False),
]


def register(app: typer.Typer) -> None:
    app.command("instantiate")(instantiate)
    app.command("export")(export)
    app.command("identify")(identify)


def _value(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _overrides(values: Optional[list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--set {item!r}: expected NAME=VALUE or COMPONENT.NAME=VALUE")
        out[name.strip().replace(".", "__")] = _value(value)
    return out


MAX_SIZE = 1 << 20  # no hyperparameter or model dimension of a real model is a million or more
MAX_MAGNITUDE = 1e6


def _check_overrides(method, overrides: dict[str, Any]) -> None:
    """Each ``--set`` value has its hyperparameter's type and a sane size, checked before anything is built.

    The records' ``range`` fields are free text (what the paper explored), so
    the bounds here are the declared default's type and sign: a positive
    integer default (a rank, a bottleneck size) takes 1..2^20, a boolean takes
    true/false, a number is finite.
    """
    import math

    for key, value in overrides.items():
        component_id, _, name = key.rpartition("__")
        declared = [c.hyperparameters[name] for c in method.components if name in c.hyperparameters and component_id in ("", c.id)]
        label = f"--set {key.replace('__', '.')}={value}"
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{label}: not a finite number")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SIZE:
            raise UserError(f"{label}: too large (at most {MAX_SIZE:,})")
        for hp in declared:
            default = hp.default
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise UserError(f"{label}: {name} is true or false")
            elif isinstance(default, int):
                if isinstance(value, float) and value.is_integer():
                    value = overrides[key] = int(value)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise UserError(f"{label}: {name} takes a whole number (default {default})")
                low = 1 if default > 0 else 0
                if not low <= value <= MAX_SIZE:
                    raise UserError(f"{label}: {name} must be between {low} and {MAX_SIZE:,} (default {default})")
            elif isinstance(default, float):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) > MAX_MAGNITUDE:
                    raise UserError(f"{label}: {name} takes a finite number of magnitude at most {MAX_MAGNITUDE:g} (default {default})")


def _check_config(path: Path, data: dict) -> None:
    """Basic consistency of a config.json before transformers builds anything from it."""
    import math

    for key, value in data.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{path}: {key} is not a finite number")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if key.endswith("_size") or key.startswith(("num_", "n_")) or key in ("d_model", "d_ff", "d_kv"):
            if not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
                raise UserError(f"{path}: {key} must be a whole number between 1 and {MAX_SIZE:,}, got {value}")
    for size, heads in (("hidden_size", "num_attention_heads"), ("n_embd", "n_head"), ("d_model", "num_heads")):
        if isinstance(data.get(size), int) and isinstance(data.get(heads), int) and data[size] % data[heads]:
            raise UserError(f"{path}: {size} ({data[size]}) is not divisible by {heads} ({data[heads]})")


def _read_config(spec: str, sets: Optional[list[str]] = None):
    """A transformers config from a JSON file, a directory holding config.json, or a bare model_type; then KEY=VALUE overrides."""
    from transformers import CONFIG_MAPPING, AutoConfig

    path = Path(spec)
    if path.is_dir():
        path = path / "config.json"
        if not path.is_file():
            raise UserError(f"{spec}: the directory holds no config.json")
    if path.is_file():
        try:
            data = jsonlib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UserError(f"{path}: cannot read ({exc.strerror})") from None
        except ValueError as exc:
            raise UserError(f"{path}: not JSON ({exc})") from None
        if not isinstance(data, dict) or "model_type" not in data:
            raise UserError(f"{path}: a Hugging Face config.json needs a `model_type` field")
        data = dict(data)
        model_type = data.pop("model_type")
    elif spec in CONFIG_MAPPING:
        path, data, model_type = Path(spec), {}, spec
    else:
        raise UserError(f"--config {spec}: no such file or directory, and not a transformers model_type")
    for item in sets or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--config-set {item!r}: expected KEY=VALUE")
        try:
            data[key.strip()] = jsonlib.loads(value) if value.strip()[:1] in "[{\"" else _value(value)
        except ValueError as exc:
            raise UserError(f"--config-set {item!r}: not a JSON value ({exc})") from None
    _check_config(path, data)
    try:
        return AutoConfig.for_model(model_type, **data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path}: transformers cannot build a {model_type!r} config ({exc})") from None


def _available_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _model(config, meta: bool):
    """Build on the meta device first: its parameter count times the dtype's size is the estimate checked against memory."""
    import torch
    from transformers import AutoModel

    with torch.device("meta"):
        model = AutoModel.from_config(config)
    if meta:
        return model
    estimate = sum(p.numel() * p.element_size() for p in model.parameters()) + sum(b.numel() * b.element_size() for b in model.buffers())
    available = _available_bytes()
    if available is not None and estimate > available:
        raise UserError(
            f"this {config.model_type} model needs about {estimate / 2**30:.1f} GiB ({sum(p.numel() for p in model.parameters()):,} parameters) "
            f"and {available / 2**30:.1f} GiB are available; add --meta to resolve and count without materialising weights"
        )
    return AutoModel.from_config(config)


def _use_catalogue_architectures(catalogue: Optional[Path]) -> None:
    """--catalogue DIR: DIR/architectures/*.yaml add (and override) model types."""
    if catalogue is not None and (catalogue / "architectures").is_dir():
        from ..reference.positions import add_architecture_dir

        add_architecture_dir(catalogue / "architectures")


def _reference_errors():
    from .. import reference  # noqa: F401  (lazy package; the imports below load torch)
    from ..reference.inject import InstantiationError
    from ..reference.modules import CompositionError
    from ..reference.positions import PositionError
    from ..schema.formula import FormulaError

    return (InstantiationError, CompositionError, PositionError, FormulaError)


@handle_errors
def instantiate(
    method_id: Annotated[str, typer.Argument(metavar="ID", help="Method id, name or alias.")],
    config: ConfigOption = None,
    config_set: ConfigSetOption = None,
    set_: SetOption = None,
    at: AtOption = None,
    meta: Annotated[bool, typer.Option("--meta", help="Build the model on the meta device (no memory; for huge configs).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only resolve the positions; build nothing.")] = False,
    catalogue: CatalogueOption = None,
    json: JsonOption = False,
) -> None:
    """Instantiate a record on a model built from a config: the slot table, parameter counts and the formula check."""
    if config is None:
        raise UserError("--config is required (a config.json, a directory holding one, or a model_type such as llama)")
    method = load(catalogue)[method_id]
    _use_catalogue_architectures(catalogue)
    overrides = _overrides(set_)
    _check_overrides(method, overrides)
    errors = _reference_errors()
    from ..reference.inject import instantiate as run, plan

    hf_config = _read_config(config, config_set)
    try:
        model = _model(hf_config, meta or dry_run)
    except (ValueError, TypeError, RuntimeError, OverflowError, AttributeError, IndexError) as exc:
        raise UserError(f"{config}: transformers cannot build this model ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    try:
        report = plan(method, model, at=at, **overrides) if dry_run else run(method, model, at=at, **overrides)
    except errors as exc:
        raise UserError(str(exc)) from None
    if json:
        emit_json(report.to_dict())
        return
    _print_report(report)


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def _print_report(report) -> None:
    out = console()
    for component in report.components:
        table = make_table(title=f"{report.method_id} / {component.id}: {component.module} on {report.model_type}", title_justify="left")
        for column in ("position", "kinds", "layers", "modules", "inserted"):
            table.add_column(column, overflow="fold")
        for row in component.slots:
            paths = row.paths if len(row.paths) <= 4 else [*row.paths[:3], f"... ({len(row.paths)} in all)"]
            layers = f"{row.layers[0]}-{row.layers[-1]}" if len(row.layers) > 1 else ", ".join(map(str, row.layers)) or "-"
            table.add_row(row.position, ", ".join(row.kinds), layers, "\n".join(paths), row.inserted)
        out.print(table)
        if not report.dry_run:
            mark = {True: "matches", False: "DIFFERS from", None: "no formula for"}[component.formula_matches]
            out.print(
                f"  {component.n_insertions} insertion(s); trainable {_fmt(component.trainable_params)}, stored {_fmt(component.stored_params)}; "
                f"{mark} the record's parameter_count ({_fmt(component.formula_params)} / {_fmt(component.formula_stored_params)})",
                highlight=False,
            )
    if report.dry_run:
        out.print(f"dry run: positions resolved on {report.model_type} (d={report.dims['d']}, L={report.dims['L']}); nothing built", highlight=False)
        return
    share = 100 * report.trainable_params / report.base_params if report.base_params else 0
    out.print(
        f"base {_fmt(report.base_params)} parameters (backbone without the LM / task head; frozen); trainable {_fmt(report.trainable_params)} ({share:.3f}%); stored {_fmt(report.stored_params)}",
        highlight=False,
    )


@handle_errors
def export(
    method_id: Annotated[str, typer.Argument(metavar="ID", help="Method id, name or alias.")],
    to: Annotated[str, typer.Option("--to", help="Target library: peft (Hugging Face peft adapter_config.json) or adapters (AdapterHub).")] = "peft",
    config: ConfigOption = None,
    config_set: ConfigSetOption = None,
    set_: SetOption = None,
    output: OutputOption = None,
    force: ForceOption = False,
    weights: Annotated[
        Optional[Path],
        typer.Option("--weights", help="A trained adapter saved by report.save_pretrained(DIR): convert it, weights included, into the directory -o names.",
                     show_default=False),
    ] = None,
    catalogue: CatalogueOption = None,
) -> None:
    """Write the equivalent HF peft (LoraConfig, IA3Config, PromptTuningConfig, PrefixTuningConfig) or AdapterHub config.

    With --weights, convert a saved adapter into peft's adapter directory (adapter_config.json + adapter_model.safetensors)."""
    from ..reference.export import TARGETS, NoEquivalent, adapters_config, peft_config

    if to not in TARGETS:
        raise UserError(f"--to {to!r}: choose one of {', '.join(TARGETS)}")
    method = load(catalogue)[method_id]
    if weights is not None:
        _export_weights(method, to, weights, config, output, force)
        return
    overrides = _overrides(set_)
    _check_overrides(method, overrides)
    table = None
    if config is not None:
        errors = _reference_errors()
        from ..reference.positions import resolve

        _use_catalogue_architectures(catalogue)
        model = _model(_read_config(config, config_set), meta=True)
        try:
            positions = [p for c in method.components for p in c.positions.value]
            table = resolve(model, positions)
        except errors as exc:
            raise UserError(str(exc)) from None
    try:
        data = peft_config(method, overrides, table) if to == "peft" else adapters_config(method, overrides, table)
    except NoEquivalent as exc:
        raise UserError(f"{method.id}: no {to} equivalent: {exc}") from None
    write_output(jsonlib.dumps(data, indent=2) + "\n", output, force)
    if output is None:
        return
    err(f"{method.id} -> {to}")


def _export_weights(method, to: str, weights: Path, config: Optional[Path], output: Optional[Path], force: bool) -> None:
    if to != "peft":
        raise UserError(f"--weights: converting weights to {to!r} is not implemented (only --to peft)")
    if output is None:
        raise UserError("--weights needs -o DIR: the directory to write peft's adapter into")
    errors = _reference_errors()
    from ..reference.checkpoint import MANIFEST, CheckpointError, base_model_for, load_adapter
    from ..reference.export import NoEquivalent

    manifest = weights / MANIFEST
    if not manifest.is_file():
        raise UserError(f"{weights}: no {MANIFEST}; save the adapter with report.save_pretrained(DIR) first")
    saved = jsonlib.loads(manifest.read_text(encoding="utf-8")).get("method_id")
    if saved != method.id:
        raise UserError(f"{manifest}: the adapter is {saved!r}, not {method.id!r}")
    try:
        model = base_model_for(weights, _read_config(config) if config is not None else None)
        report = load_adapter(model, weights)
        report.save_pretrained(output, format="peft", overwrite=force)
    except NoEquivalent as exc:
        raise UserError(f"{method.id}: no peft equivalent: {exc}") from None
    except (CheckpointError, *errors) as exc:
        raise UserError(str(exc)) from None
    err(f"{method.id} -> {output} (peft adapter: adapter_config.json, adapter_model.safetensors)")


@handle_errors
def identify(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="An adapter directory (peftref, HF peft or AdapterHub) or its config JSON.")],
    config: ConfigOption = None,
    json: JsonOption = False,
    catalogue: CatalogueOption = None,
) -> None:
    """Name the catalogue method an adapter is, its typology and (with --config) the modules and layers it attaches to."""
    from ..reference.identify import IdentifyError, hyperparameters_and_positions
    from ..reference.identify import identify as find

    try:
        found = find(path)
    except IdentifyError as exc:
        raise UserError(str(exc)) from None
    if found["record"] is None:
        raise UserError(f"{found['file']}: a {found['format']} adapter that matches no catalogue record")
    method = load(catalogue)[found["record"]]
    out: dict[str, Any] = {"file": found["file"], "format": found["format"], "method": method.id, "name": method.name,
                           "taxonomy": {"classes": method.taxonomy.classes.value, "hybrid": method.taxonomy.hybrid.value},
                           "components": [{"id": c.id, "module": c.module, "positions": list(c.positions.value),
                                           "insertion_form": c.unified_view.insertion_form.value, "composition": c.unified_view.composition.value,
                                           "parameter_sharing": c.peft_ref.parameter_sharing.value} for c in method.components]}
    if config is not None:
        errors = _reference_errors()
        from ..reference.inject import plan

        hps, at = hyperparameters_and_positions(found)
        known = {k for c in method.components for k in c.hyperparameters}
        hps = {k: v for k, v in hps.items() if "__" in k or k in known}
        try:
            report = plan(method, _model(_read_config(config), meta=True), at=at, **hps)
        except errors as exc:
            raise UserError(str(exc)) from None
        out["slots"] = {c.id: [{"position": s.position, "paths": s.paths, "layers": s.layers} for s in c.slots] for c in report.components}
        if found["format"] != "peftref":
            out["slots_note"] = "the record's positions on this model; the adapter's own target list is in its config"
    if json:
        emit_json(out)
        return
    console.print(f"{out['file']}: {out['format']} adapter = [bold]{method.id}[/bold] ({method.name}); classes {', '.join(map(str, out['taxonomy']['classes']))}"
                  f"{', hybrid' if out['taxonomy']['hybrid'] else ''}", highlight=False)
    for c in out["components"]:
        console.print(f"  {c['id']}: {c['module']} at {', '.join(c['positions'])}; {c['insertion_form']}, {c['composition']}, {c['parameter_sharing']}", highlight=False)
    for component, rows in out.get("slots", {}).items():
        for row in rows:
            console.print(f"    {component} {row['position']}: layers {row['layers']} -> {', '.join(row['paths'][:4])}{' …' if len(row['paths']) > 4 else ''}", highlight=False)
