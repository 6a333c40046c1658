"""Jinja2 environments over the bundled ``renderers/`` templates, one per output language.

Every value printed into a template passes through that language's escaping:
HTML and SVG by jinja2's autoescape, LaTeX and Markdown by a ``finalize``
hook, so no record text can break out of its cell.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jinja2
import markupsafe

from ..safety import terminal_text
from ..store.catalogue import data_dir
from .latex import math_symbol

# Characters LaTeX treats specially, then the symbols our records use in formulas and labels.
_LATEX_REPLACEMENTS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "←": r"\ensuremath{\leftarrow}",
    "→": r"\ensuremath{\rightarrow}",
    "Δ": r"\ensuremath{\Delta}",
    "λ": r"\ensuremath{\lambda}",
    "Σ": r"\ensuremath{\Sigma}",
    "·": r"\ensuremath{\cdot}",
    "−": r"\ensuremath{-}",
    "ᵀ": r"\ensuremath{^{\top}}",
    "⊗": r"\ensuremath{\otimes}",
    "⊙": r"\ensuremath{\odot}",
    "∈": r"\ensuremath{\in}",
    "×": r"\ensuremath{\times}",
    "≈": r"\ensuremath{\approx}",
    "√": r"\ensuremath{\surd}",
    "³": r"\textsuperscript{3}",
    "²": r"\textsuperscript{2}",
    "“": "``",
    "”": "''",
    "–": "--",
    "—": "---",
}
_LATEX_PATTERN = re.compile("|".join(re.escape(k) for k in _LATEX_REPLACEMENTS) + r"|[^\x00-\x7f]")


def _latex_char(char: str) -> str:
    """One special or non-ASCII character: its replacement, a math symbol (γ, ℝ, ₁) or, for letters
    inputenc knows (é, ü), the character itself."""
    if char in _LATEX_REPLACEMENTS:
        return _LATEX_REPLACEMENTS[char]
    symbol = math_symbol(char)
    return r"\ensuremath{" + symbol + "}" if symbol else char


def latex_escape(value: object) -> str:
    return _LATEX_PATTERN.sub(lambda m: _latex_char(m.group(0)), "" if value is None else str(value))


# GitHub Markdown: backslash-escape what could end a cell or start emphasis, code, links or HTML.
_MD_PATTERN = re.compile(r"([\\`*|~\[\]])|(<)(?=[A-Za-z/!?])|(?<![A-Za-z0-9])(_)|(_)(?![A-Za-z0-9])")


def markdown_escape(value: object) -> str:
    text = "" if value is None else str(value)
    text = _MD_PATTERN.sub(lambda m: "\\" + m.group(0), text)
    return " ".join(text.split())  # a newline would end the table row


def _finalizer(escape):
    # Markup is text a renderer already wrote in the target language (a LaTeX cell built by latex_escape/latex_formula);
    # record text has its control characters removed before it is escaped.
    return lambda value: value if isinstance(value, markupsafe.Markup) else escape(terminal_text(value) if isinstance(value, str) else value)


def _clean_markup(value):
    """HTML/SVG: control characters removed from record text (jinja2 then autoescapes it); our own Markup kept."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return terminal_text(value)
    return value


@lru_cache(maxsize=None)
def environment(language: str) -> jinja2.Environment:
    """The environment for ``html``, ``svg``, ``latex`` or ``md`` templates."""
    loader = jinja2.FileSystemLoader(str(data_dir("renderers")))
    common = dict(loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    if language in ("html", "svg"):
        return jinja2.Environment(autoescape=True, finalize=_clean_markup, **common)
    if language == "latex":
        # TeX is full of braces, so LaTeX templates use << expr >>, <% block %> and <# comment #>.
        delimiters = dict(variable_start_string="<<", variable_end_string=">>", block_start_string="<%", block_end_string="%>", comment_start_string="<#", comment_end_string="#>")
        return jinja2.Environment(autoescape=False, finalize=_finalizer(latex_escape), **delimiters, **common)
    if language == "md":
        return jinja2.Environment(autoescape=False, finalize=_finalizer(markdown_escape), **common)
    raise ValueError(f"no template environment for {language!r}")


def render_template(language: str, name: str, **context) -> str:
    return environment(language).get_template(name).render(**context)
