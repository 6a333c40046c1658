"""list, show, validate, fmt, schema: reading and maintaining records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import CatalogueOption, echo, JsonOption, UserError, console, emit_json, err, handle_errors, load, table as make_table


def register(app: typer.Typer) -> None:
    app.command("list")(list_methods)
    app.command("show")(show)
    app.command("validate")(validate)
    app.command("fmt")(fmt)
    app.command("schema")(schema)
    app.command("coverage")(coverage)


@handle_errors
def list_methods(catalogue: CatalogueOption = None, json: JsonOption = False) -> None:
    """List the catalogue's methods: id, name, Lialin class letters, hybrid, components."""
    cat = load(catalogue)
    rows = [
        {
            "id": m.id,
            "name": m.name,
            "kind": m.kind,
            "type": m.class_letters,
            "hybrid": m.taxonomy.hybrid.value,
            "components": [c.id for c in m.components],
            "year": m.citation.year,
        }
        for m in cat
    ]
    if json:
        emit_json(rows)
        return
    table = make_table(title=f"{len(rows)} records in {cat.root}")
    for column in ("id", "name", "type", "hybrid", "components", "year"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], row["name"] + (" (baseline)" if row["kind"] == "baseline" else ""), row["type"], "yes" if row["hybrid"] else "", ", ".join(row["components"]), str(row["year"]))
    console().print(table)


@handle_errors
def show(method_id: Annotated[str, typer.Argument(metavar="ID", help="Method id, name or alias.")], catalogue: CatalogueOption = None, json: JsonOption = False) -> None:
    """Show one record: citation, taxonomy, efficiency, and each component's typology with sources."""
    from ..render.text import method_text

    cat = load(catalogue)
    method = cat[method_id]
    if json:
        emit_json(method.model_dump(mode="json", exclude_none=True))
        return
    echo(method_text(method))


@handle_errors
def validate(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Record files or catalogue directories; default: the --catalogue (or bundled) catalogue.")] = None,
    catalogue: CatalogueOption = None,
    json: JsonOption = False,
) -> None:
    """Validate records (schema, then lint rules across records). Exit code 1 on any problem."""
    from ..store import default_catalogue_dir, validate_paths

    targets = list(paths) if paths else [catalogue or default_catalogue_dir()]
    count, problems = validate_paths(targets, context=catalogue)
    errors = [p for p in problems if p.severity != "warning"]
    warnings = len(problems) - len(errors)
    if json:
        emit_json({"checked": count, "problems": [p.__dict__ for p in problems]})
    else:
        for problem in problems:
            err(problem.format())
        also = f" and {warnings} warning(s)" if warnings else ""
        if errors:
            err(f"{len(errors)} problem(s){also} in {count} record(s).")
        else:
            err(f"{count} record(s) valid{f', with {warnings} warning(s)' if warnings else ''}.")
    if errors:  # warnings (style rules) never fail validation
        raise typer.Exit(1)


@handle_errors
def fmt(
    paths: Annotated[list[Path], typer.Argument(help="Record files to rewrite in canonical key order.")],
    check: Annotated[bool, typer.Option("--check", help="Only report files that are not canonical (exit 1 if any).")] = False,
) -> None:
    """Rewrite records canonically (key order, quoting). Refuses files that do not validate or that hold comments."""
    from ..store.format import canonical_text, comment_lines
    from ..store.records import load_record

    changed = []
    for path in paths:
        method, _ = load_record(path)
        text = canonical_text(method)
        current = path.read_text(encoding="utf-8")
        commented = comment_lines(current)
        if commented:
            raise UserError(f"{path}:{commented[0]}: the file has comments (line(s) {', '.join(map(str, commented[:5]))}), which fmt would drop; move them into the record's fields (e.g. notes) or remove them, then run fmt again")
        if current != text:
            changed.append(path)
            if not check:
                path.write_text(text, encoding="utf-8")
    for path in changed:
        err(f"{'would reformat' if check else 'reformatted'} {path}")
    if check and changed:
        raise typer.Exit(1)


@handle_errors
def schema(
    output: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="Directory to write method.schema.json and vocabulary.md into; default: the repository's schema/.")] = None,
    check: Annotated[bool, typer.Option("--check", help="Only check that the committed files are up to date.")] = False,
) -> None:
    """Regenerate schema/method.schema.json and schema/vocabulary.md from the pydantic models."""
    from ..schema.export import generated_files
    from ..store.catalogue import data_dir

    directory = output or data_dir("schema")
    stale = []
    for name, text in generated_files().items():
        path = directory / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(name)
            if not check:
                directory.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if check and stale:
        raise UserError(f"{', '.join(stale)} in {directory} are out of date; run `peftref schema`")
    err(("out of date: " if check else "wrote: ") + ", ".join(stale) if stale else f"{directory} is up to date")


@handle_errors
def coverage(catalogue: CatalogueOption = None, json: JsonOption = False) -> None:
    """Records, executable records, records with a version-checked library crosswalk, and the methods that installed
    peft (PeftType) and AdapterHub adapters (config classes, read from source) list but no record maps."""
    from ..store.coverage import coverage as compute

    report = compute(load(catalogue))
    if json:
        emit_json(report)
        return
    out = console()
    out.print(f"records: {report['records']} ({report['methods']} methods)  executable: {report['executable']}  crosswalk checked against a library version: {report['crosswalk_checked']}")
    for library in ("peft", "adapters"):
        part = report[library]
        if part["source"] is None:
            out.print(f"{library}: not installed here, not compared")
        else:
            out.print(f"{library}: {part['listed']} listed, missing here: {', '.join(part['missing']) or 'none'}")
    out.print(f"peft-atlas: {report['peft_atlas']['records_with_id']} records carry an id; {report['peft_atlas']['note']}")
