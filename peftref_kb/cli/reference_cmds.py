"""instantiate, export: the executable side of a record (torch is imported inside the commands only)."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import CatalogueOption, ForceOption, JsonOption, OutputOption, UserError, console, emit_json, err, handle_errors, load, write_output

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
        data[key.strip()] = jsonlib.loads(value) if value.strip()[:1] in "[{\"" else _value(value)
    try:
        return AutoConfig.for_model(model_type, **data)
    except (ValueError, KeyError, TypeError) as exc:
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
    errors = _reference_errors()
    from ..reference.inject import instantiate as run, plan

    hf_config = _read_config(config, config_set)
    try:
        model = _model(hf_config, meta or dry_run)
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
    from rich.table import Table

    out = console()
    for component in report.components:
        table = Table(title=f"{report.method_id} / {component.id}: {component.module} on {report.model_type}", title_justify="left")
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
    catalogue: CatalogueOption = None,
) -> None:
    """Write the equivalent HF peft (LoraConfig, IA3Config, PromptTuningConfig, PrefixTuningConfig) or AdapterHub config."""
    from ..reference.export import TARGETS, NoEquivalent, adapters_config, peft_config

    if to not in TARGETS:
        raise UserError(f"--to {to!r}: choose one of {', '.join(TARGETS)}")
    method = load(catalogue)[method_id]
    overrides = _overrides(set_)
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
