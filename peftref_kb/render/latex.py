"""Record formulas as LaTeX: math runs in math mode, the prose between them as text.

Record formulas are plain text written for people (``softmax(x W_q P_k^T) P_v``,
``R ∈ ℝ^{r×d} with orthonormal rows``).  :func:`latex_formula` typesets the
mathematical runs as inline math (single letters italic, longer names upright,
``_x``/``^x`` as sub- and superscripts, Unicode symbols as their TeX commands) and
leaves English words in text mode, so a long formula wraps in a narrow cell: a
line may break between prose words and, through ``\\allowbreak``, wherever the
record had a space inside a math run.  Only ASCII and TeX commands come out, so
the result compiles under pdflatex and xelatex alike (needs ``amssymb`` for ℝ).
"""

from __future__ import annotations

import re
import unicodedata

# Symbols with a math-mode command; Greek letters are found by their Unicode names below.
MATH_SYMBOLS = {
    "←": r"\leftarrow", "→": r"\rightarrow", "·": r"\cdot", "−": "-", "×": r"\times", "∈": r"\in",
    "⊙": r"\odot", "⊗": r"\otimes", "∘": r"\circ", "‖": r"\|", "≤": r"\leq", "≥": r"\geq", "≈": r"\approx",
    "√": r"\surd ", "∇": r"\nabla ", "∏": r"\prod ", "∑": r"\sum ", "…": r"\ldots ", "⌈": r"\lceil ", "⌉": r"\rceil ",
    "ℝ": r"\mathbb{R}", "½": r"\frac{1}{2}", "↦": r"\mapsto ", "≪": r"\ll ", "⊂": r"\subset ", "§": r"\S ", "ı": r"\imath ", "†": r"\dagger ", "ᵀ": r"^{\top}", "ẑ": r"\hat{z}",
    "±": r"\pm ", "∞": r"\infty ", "≠": r"\neq ", "∼": r"\sim ", "∝": r"\propto ", "⊤": r"\top ",
}
_SUBSCRIPTS = {chr(0x2080 + d): str(d) for d in range(10)} | {"ᵢ": "i", "ⱼ": "j", "ₖ": "k", "ₙ": "n"}
_SUPERSCRIPTS = {"ᵉ": "e", "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-"}
# Greek letters that have no command of their own because they look like Latin ones.
_LATIN_LOOKING = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I", "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T", "Chi": "X", "omicron": "o"}


def greek_command(char: str) -> str | None:
    """``\\gamma`` for γ, ``\\Delta`` for Δ; None for anything that is not a Greek letter."""
    name = unicodedata.name(char, "")
    match = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER ([A-Z]+)", name)
    if not match:
        return None
    letter = match.group(2).lower()
    letter = {"lamda": "lambda"}.get(letter, letter)
    if match.group(1) == "CAPITAL":
        letter = letter.capitalize()
    return _LATIN_LOOKING.get(letter, "\\" + letter + " ")


def math_symbol(char: str) -> str | None:
    """The math-mode TeX for one non-ASCII character, or None when there is none."""
    if char in MATH_SYMBOLS:
        return MATH_SYMBOLS[char]
    if char in _SUBSCRIPTS:
        return "_{" + _SUBSCRIPTS[char] + "}"
    if char in _SUPERSCRIPTS:
        return "^{" + _SUPERSCRIPTS[char] + "}"
    return greek_command(char)


# Combining marks over the symbol before them: F̂ is \hat{F}.
_ACCENTS = {"\u0302": r"\hat", "\u0303": r"\tilde", "\u0304": r"\bar", "\u0307": r"\dot", "\u0308": r"\ddot", "\u20d7": r"\vec"}
_MATH_ESCAPES = {"#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$", "~": r"\sim ", "\\": r"\backslash ", '"': "''", "{": r"\{", "}": r"\}"}
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _is_prose(word: str, following: str) -> bool:
    """An English word rather than a symbol: lower case, two letters or more, not a function name or subscripted."""
    return len(word) > 1 and word.isalpha() and word.islower() and not following[:1] in ("(", "_", "^")


def _script_body(text: str, start: int) -> tuple[str, int]:
    """The body of a sub- or superscript at ``text[start]``: ``{…}``, ``(…)`` or a run of letters/digits."""
    if start >= len(text):
        return "", start
    opener = text[start]
    if opener in "{(":
        closer = "}" if opener == "{" else ")"
        depth = 0
        for end in range(start, len(text)):
            depth += {opener: 1, closer: -1}.get(text[end], 0)
            if depth == 0:
                inner = text[start + 1 : end]
                body = _math(inner)
                return (body if opener == "{" else "(" + body + ")"), end + 1
        return _math(text[start + 1 :]), len(text)
    match = re.compile(r"[A-Za-z0-9]+|.").match(text, start)
    token = match.group(0)
    if token[:1].isascii() and token[:1].isalpha():
        return _identifier(token), match.end()
    return _spaced(math_symbol(token) or _MATH_ESCAPES.get(token, token)), match.end()


def _identifier(word: str) -> str:
    """Single letters stay italic variables; longer names (ReLU, softmax, down) are upright."""
    return word if len(word) == 1 or word.isdigit() else r"\mathrm{" + word + "}"


def _script(out: list[str], kind: str, body: str) -> None:
    """Append ``kind{body}``, merged with a script of the same kind just before (``⁻¹``, ``^(i)ᵀ``)."""
    if out and out[-1].startswith(kind + "{"):
        out[-1] = out[-1][:-1] + body + "}"
    else:
        out.append(kind + "{" + body + "}")


def _math(text: str) -> str:
    """Math-mode TeX for a run that contains no prose words."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "_^":
            body, i = _script_body(text, i + 1)
            _script(out, char, body)
            continue
        if char == "ᵀ" or char in _SUPERSCRIPTS or char in _SUBSCRIPTS:
            _script(out, "_" if char in _SUBSCRIPTS else "^", r"\top " if char == "ᵀ" else _SUPERSCRIPTS.get(char) or _SUBSCRIPTS[char])
            i += 1
            continue
        word = _WORD.match(text, i)
        if word:
            out.append(_identifier(word.group(0)))
            i = word.end()
            continue
        if unicodedata.combining(char) and char in _ACCENTS and out:
            out[-1] = _ACCENTS[char] + "{" + out[-1] + "}"
        elif char.isspace():
            out.append(r"\allowbreak ")
        elif ord(char) > 127:
            out.append(_spaced(math_symbol(char) or r"\mbox{" + char + "}"))
        else:
            out.append(_MATH_ESCAPES.get(char, char))
        i += 1
    return "".join(out)


def _spaced(command: str) -> str:
    """A control word followed by a space, so ``\\times`` and ``d`` do not run together."""
    return command + " " if re.search(r"\\[A-Za-z]+$", command) else command


def latex_formula(text: str, text_escape) -> str:
    """TeX for a record formula: prose words through ``text_escape``, math runs as ``$…$``."""
    pieces: list[tuple[str, str]] = []  # ("text"|"math", source text)
    position = 0
    for match in _WORD.finditer(text):
        if match.start() < position:
            continue
        if _is_prose(match.group(0), text[match.end() :]) and (match.start() == 0 or text[match.start() - 1] in " ('\"") and _prose_end(text, match.end()):
            pieces.append(("math", text[position : match.start()]))
            pieces.append(("text", match.group(0)))
            position = match.end()
    pieces.append(("math", text[position:]))
    out: list[str] = []
    for kind, chunk in pieces:
        if kind == "text":
            out.append(text_escape(chunk))
            continue
        # Spaces at the edges of a math run stay as text spaces, so the line can break there.
        stripped = chunk.strip()
        lead = " " if chunk[: len(chunk) - len(chunk.lstrip())] else ""
        trail = " " if chunk[len(chunk.rstrip()) :] else ""
        if not stripped:
            out.append(lead or trail)
            continue
        if stripped in ("(", ")", ",", ";", ":", "(", "'", ".", ");", "),"):
            out.append(lead + text_escape(stripped) + trail)
            continue
        out.append(lead + "$" + _math(stripped) + "$" + trail)
    return "".join(out)


def _prose_end(text: str, end: int) -> bool:
    """A prose word ends at a space, punctuation or the end, not inside an expression like ``h'``."""
    return end == len(text) or text[end] in " ,;:)."
