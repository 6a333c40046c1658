"""table, diagram, site: render records as paper-style tables, SVG diagrams and a static site."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import CatalogueOption, ForceOption, OutputOption, UserError, handle_errors, load, write_output


def register(app: typer.Typer) -> None:
    app.command("table")(table)
    app.command("diagram")(diagram)
    app.command("site")(site)


def _split(text: Optional[str]) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@handle_errors
def table(
    layout: Annotated[str, typer.Option("--layout", "-l", help="peft-ref | lialin-efficiency | lialin-scale | unified-view | custom.")] = "peft-ref",
    fmt: Annotated[str, typer.Option("--format", "-f", help="md | latex | html | csv.")] = "md",
    query: Annotated[Optional[str], typer.Option("--query", "-q", help="Keep only the records matching this query.")] = None,
    methods: Annotated[Optional[str], typer.Option("--methods", "-m", help="Comma-separated method ids (rows, in this order).")] = None,
    columns: Annotated[Optional[str], typer.Option("--columns", help="Comma-separated dotted fields, for --layout custom (e.g. efficiency.storage,components.positions).")] = None,
    booktabs: Annotated[bool, typer.Option("--booktabs/--no-booktabs", help="LaTeX: booktabs rules (else \\hline).")] = True,
    caption: Annotated[Optional[str], typer.Option("--caption", help="LaTeX: caption text (default: the layout's title, description and source).")] = None,
    label: Annotated[Optional[str], typer.Option("--label", help="LaTeX: \\label for the table, e.g. tab:peft-ref.")] = None,
    width: Annotated[str, typer.Option("--width", help="LaTeX: text (default) | column | natural: shrink to \\textwidth or \\columnwidth if wider, or leave as set.")] = "text",
    catalogue: CatalogueOption = None,
    output: OutputOption = None,
    force: ForceOption = False,
) -> None:
    """Print a table of records; paper layouts reproduce PEFT-Ref's typology, Lialin et al. Tables 1-2 and He et al. Table 1."""
    from ..render.latex_table import WIDTHS, LatexOptions
    from ..render.tables import FORMATS, TableError, build_table, layout_for, render_table, select_methods

    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if width not in WIDTHS:
        raise UserError(f"unknown width {width!r}; choose one of {', '.join(WIDTHS)}")
    latex = LatexOptions(booktabs=booktabs, caption=caption, label=label, width=width)
    cat = load(catalogue)
    try:
        spec, chosen = layout_for(layout, _split(columns))
        rows = select_methods(cat, spec, _split(methods), query)
        text = render_table(build_table(rows, spec, chosen), fmt, latex)
    except TableError as exc:
        raise UserError(str(exc)) from None
    write_output(text, output, force)


@handle_errors
def diagram(
    method_id: Annotated[Optional[str], typer.Argument(metavar="ID", help="Method id, name or alias.")] = None,
    compare: Annotated[Optional[str], typer.Option("--compare", help="Comma-separated method ids drawn side by side (wrapping into rows).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="svg | pdf | png (pdf and png need --output).")] = "svg",
    compact: Annotated[bool, typer.Option("--compact", help="Paper figure: larger text, no title, key or citation (put them in the caption).")] = False,
    catalogue: CatalogueOption = None,
    output: OutputOption = None,
    force: ForceOption = False,
) -> None:
    """Draw a method's components in the PEFT-Ref reference Transformer layer as SVG, PDF or PNG."""
    from ..render.diagram import FORMATS, diagram_bytes, diagram_svg

    ids = _split(compare) if compare else ([method_id] if method_id else [])
    if method_id and compare:
        raise UserError("give either ID or --compare, not both")
    if not ids:
        raise UserError("name a method (peftref diagram lora) or several with --compare lora,ia3")
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt != "svg" and output is None:
        raise UserError(f"--format {fmt} writes a binary file: pass --output FILE.{fmt}")
    cat = load(catalogue)
    svg = diagram_svg([cat[i] for i in ids], compact=compact)
    write_output(svg, output, force, binary=None if fmt == "svg" else diagram_bytes(svg, fmt))


@handle_errors
def site(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write the site into.")],
    catalogue: CatalogueOption = None,
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty directory, replacing the site's files.")] = False,
) -> None:
    """Write a static HTML site: a filterable index of every record and one page per method."""
    from ..render.site import SiteError, build_site

    cat = load(catalogue)
    try:
        written = build_site(cat, output, force=force)
    except SiteError as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"wrote {len(written)} files to {output}", err=True)
