"""The LaTeX float around a table: column types, wrapped headings and cells, rules, caption, label, width.

Cells longer than :data:`WRAP_AT` characters go into ragged-right ``p`` columns so they
wrap; shorter columns stay ``l`` with their headings stacked over several lines when the
heading is wider than the values.  ``width="column"``/``"text"`` puts the tabular in
``adjustbox`` with ``max width=\\columnwidth``/``\\textwidth``: it shrinks a table that is
still too wide and leaves a narrow one alone, so no option gives an overfull box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markupsafe import Markup

from .latex import latex_formula

if TYPE_CHECKING:
    from .tables import Table

WIDTHS = ("natural", "column", "text")
WRAP_AT = 28  # characters; a longer cell wraps
EM_PER_CHAR = 0.5  # average width of a character of Computer Modern text, in em
MAX_WRAP_EM = 16.0


@dataclass(frozen=True)
class LatexOptions:
    booktabs: bool = True
    caption: str | None = None  # None: the layout's title, description and source
    label: str | None = None
    width: str = "text"  # natural | column | text

    def __post_init__(self):
        if self.width not in WIDTHS:
            raise ValueError(f"unknown width {self.width!r}; choose one of {', '.join(WIDTHS)}")


@dataclass(frozen=True)
class LatexTable:
    """What table.tex.j2 prints; every string is TeX already (Markup passes the template's escaping)."""

    environment: str
    column_spec: str
    headings: tuple[Markup, ...]
    rows: tuple[tuple[Markup, ...], ...]
    caption: Markup
    label: str | None
    top_rule: str
    mid_rule: str
    bottom_rule: str
    group_rule: str  # with {first}/{last} placeholders filled by group_rules
    group_rules: tuple[str, ...] = field(default=())
    max_width: str | None = None
    packages: str = ""

    @property
    def heading_line(self) -> Markup:
        return Markup(" & ").join(self.headings)

    @property
    def row_lines(self) -> tuple[Markup, ...]:
        return tuple(Markup(" & ").join(row) for row in self.rows)


def _escape(text: str) -> str:
    from .environment import latex_escape  # one escaping helper for every LaTeX string

    return latex_escape(text)


def _cell(parts, math: bool) -> Markup:
    def one(text: str) -> str:
        return latex_formula(text, _escape) if math else _escape(text)

    return Markup("; ".join(one(text) if component is None else f"{_escape(component)}: {one(text)}" for component, text in parts))


def _stack(heading: str, width: int) -> str:
    """A heading broken into lines of at most ``width`` characters, stacked in a one-column tabular."""
    lines: list[str] = []
    for word in re.split(r"\s+|(?<=\.)", heading):  # dotted field paths break after a dot
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) == 1:
        return _escape(heading)
    return r"\begin{tabular}[b]{@{}l@{}}" + r"\\ ".join(_escape(line) for line in lines) + r"\end{tabular}"


def latex_table(table: "Table", options: LatexOptions) -> LatexTable:
    columns = [(table.layout.label_heading, [row.label for row in table.rows], [((None, row.label),) for row in table.rows], False)]
    columns += [(column.heading, [row.cells[i] for row in table.rows], [row.parts[i] for row in table.rows], column.math) for i, column in enumerate(table.columns)]
    specs, headings = [], []
    for heading, texts, _, _ in columns:
        longest = max((len(t) for t in texts), default=0)
        longest_word = max((len(w) for t in texts + [heading] for w in t.split()), default=1)
        if longest > WRAP_AT:
            em = min(MAX_WRAP_EM, max(longest_word, WRAP_AT) * EM_PER_CHAR)
            specs.append(rf">{{\raggedright\arraybackslash}}p{{{em:g}em}}")
            headings.append(Markup(_escape(heading).replace(".", r".\allowbreak{}")))
        else:
            specs.append("l")
            headings.append(Markup(_stack(heading, max(longest, longest_word, 8))))
    rows = tuple(tuple(_cell(parts[r], math) for _, _, parts, math in columns) for r in range(len(table.rows)))
    if options.caption is not None:
        caption = _escape(options.caption)
    else:
        caption = _escape(f"{table.layout.title}. {table.layout.description}") + (f" Source: {_escape(table.layout.citation)}." if table.layout.citation else "")
    rules = (r"\toprule", r"\midrule", r"\bottomrule", r"\cmidrule(lr){{{first}-{last}}}") if options.booktabs else (r"\hline", r"\hline", r"\hline", r"\cline{{{first}-{last}}}")
    packages = ["array"] + (["booktabs"] if options.booktabs else []) + (["adjustbox"] if options.width != "natural" else []) + (["amssymb"] if any(math for *_, math in columns) else [])
    tex = Markup
    return LatexTable(
        environment="table*" if options.width == "text" else "table",
        column_spec=tex("".join(specs) if options.booktabs else "|".join(specs)),
        headings=tuple(headings),
        rows=rows,
        caption=Markup(caption),
        label=options.label,
        top_rule=tex(rules[0]),
        mid_rule=tex(rules[1]),
        bottom_rule=tex(rules[2]),
        group_rule=tex(rules[3]),
        group_rules=tuple(tex(rules[3].format(first=g.first, last=g.last)) for g in table.group_rules),
        max_width=tex({"column": r"\columnwidth", "text": r"\textwidth"}[options.width]) if options.width != "natural" else None,
        packages=",".join(packages),
    )
