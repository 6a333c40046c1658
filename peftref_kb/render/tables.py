"""Build a table from a layout and records, and write it as Markdown, LaTeX, HTML or CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..schema.models import Method
from ..safety import csv_cell
from .environment import render_template
from .fields import FieldPathError, cell_parts, parts_text, resolve
from .latex_table import LatexOptions, latex_table
from .layouts import LAYOUTS, Column, Layout

FORMATS = ("md", "latex", "html", "csv")
_TEMPLATES = {"md": ("md", "tables/table.md.j2"), "latex": ("latex", "tables/table.tex.j2"), "html": ("html", "tables/table.html.j2")}


class TableError(ValueError):
    """The requested table cannot be built (unknown layout, column or method)."""


@dataclass(frozen=True)
class Row:
    id: str
    label: str
    cells: tuple[str, ...]
    # Each cell as (component, text) pairs, so LaTeX can typeset a hybrid's formulas one by one.
    parts: tuple[tuple[tuple[str | None, str], ...], ...] = ()


@dataclass(frozen=True)
class HeaderGroup:
    text: str
    span: int
    first: int  # 1-based column number, counting the label column, for LaTeX \cmidrule
    last: int

    @property
    def css_class(self) -> str:
        return "group" if self.text else ""


@dataclass(frozen=True)
class Table:
    layout: Layout
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    group_rows: tuple[tuple[HeaderGroup, ...], ...] = field(default=())

    @property
    def headings(self) -> list[str]:
        return [self.layout.label_heading] + [c.heading for c in self.columns]

    @property
    def group_rules(self) -> list[HeaderGroup]:
        return [g for row in self.group_rows for g in row if g.text]


def _header_groups(columns: Sequence[Column]) -> tuple[tuple[HeaderGroup, ...], ...]:
    """One header row of spanning groups, or none when no column has a group."""
    if not any(c.group for c in columns):
        return ()
    groups: list[HeaderGroup] = [HeaderGroup("", 1, 1, 1)]
    for number, column in enumerate(columns, start=2):
        last = groups[-1]
        if column.group and column.group == last.text:
            groups[-1] = HeaderGroup(last.text, last.span + 1, last.first, number)
        else:
            groups.append(HeaderGroup(column.group or "", 1, number, number))
    return (tuple(groups),)


def row_label(method: Method, layout: Layout) -> str:
    """The paper's row heading when the method is in the layout's seed table, else the record's name."""
    seed = method.seed_tables.get(layout.seed_table) if layout.seed_table else None
    return seed.label if seed else method.name


def default_methods(methods: Iterable[Method], layout: Layout) -> list[Method]:
    """The paper's rows in the paper's order; every record in id order for layouts without a seed table."""
    methods = list(methods)
    if layout.seed_table is None:
        return sorted(methods, key=lambda m: m.id)
    return sorted((m for m in methods if layout.seed_table in m.seed_tables), key=lambda m: m.seed_tables[layout.seed_table].row)


def paper_order(methods: Iterable[Method], layout: Layout) -> list[Method]:
    """The layout's paper rows first in the paper's order, then the rest by id."""
    methods = list(methods)
    if layout.seed_table is None:
        return sorted(methods, key=lambda m: m.id)
    in_paper = default_methods(methods, layout)
    return in_paper + sorted((m for m in methods if m not in in_paper), key=lambda m: m.id)


def layout_for(name: str, columns: Sequence[str] | None = None) -> tuple[Layout, tuple[Column, ...]]:
    try:
        layout = LAYOUTS[name]
    except KeyError:
        raise TableError(f"unknown layout {name!r}; choose one of {', '.join(LAYOUTS)}") from None
    if layout.columns:
        if columns:
            raise TableError(f"--columns is only for --layout custom; layout {name!r} has fixed columns")
        return layout, layout.columns
    if not columns:
        raise TableError("--layout custom needs --columns, e.g. --columns efficiency.storage,components.positions")
    return layout, tuple(Column.for_path(c) for c in columns)


def build_table(methods: Sequence[Method], layout: Layout, columns: Sequence[Column] | None = None) -> Table:
    """Fill the layout's columns for ``methods`` (in the order given)."""
    columns = tuple(columns if columns is not None else layout.columns)
    rows = []
    for method in methods:
        cells = []
        for column in columns:
            try:
                values = resolve(method, column.path)
            except FieldPathError as exc:
                raise TableError(str(exc)) from None
            cells.append(cell_parts(values, column.vocabulary, show=column.show, join=column.join))
        rows.append(Row(method.id, row_label(method, layout), tuple(parts_text(c) for c in cells), tuple(cells)))
    return Table(layout, columns, tuple(rows), _header_groups(columns))


def render_table(table: Table, fmt: str, latex: LatexOptions | None = None) -> str:
    """The table as ``fmt``; ``latex`` sets the LaTeX float's rules, caption, label and width."""
    if fmt == "csv":
        return table_csv(table)
    try:
        language, template = _TEMPLATES[fmt]
    except KeyError:
        raise TableError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    extra = {"tex": latex_table(table, latex or LatexOptions())} if fmt == "latex" else {}
    return render_template(language, template, table=table, layout=table.layout, **extra)


def table_csv(table: Table) -> str:
    """First column ``id``, then the layout's columns under the paper's headings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in ("id", *table.headings)])
    for row in table.rows:
        writer.writerow([csv_cell(c) for c in (row.id, row.label, *row.cells)])  # no cell can start a spreadsheet formula
    return buffer.getvalue()


def query_ids(catalogue, text: str) -> set[str]:
    """Ids of the records matching a query (``catalogue.query``, from :mod:`peftref_kb.graph.query`)."""
    try:
        result = catalogue.query(text)
    except ModuleNotFoundError as exc:
        if "graph" not in str(exc):
            raise
        raise TableError("--query needs the query language (peftref_kb/graph/query.py), which is not installed in this build") from None
    hits = getattr(result, "hits", result)
    return {hit.id for hit in hits}


def select_methods(catalogue, layout: Layout, method_ids: Sequence[str] | None = None, query: str | None = None) -> list[Method]:
    """The rows: ``method_ids`` in the order given, or the layout's default rows; narrowed by ``query``.

    A query alone searches the whole catalogue (paper rows first, in the paper's order).
    """
    if method_ids:
        methods = [catalogue[m] for m in method_ids]
    elif query:
        methods = paper_order(catalogue, layout)
    else:
        methods = default_methods(catalogue, layout)
        if not methods:
            raise TableError(f"no record has seed_tables[{layout.seed_table!r}], so layout {layout.name!r} has no default rows; pass --methods")
    if query:
        wanted = query_ids(catalogue, query)
        methods = [m for m in methods if m.id in wanted]
    return methods
