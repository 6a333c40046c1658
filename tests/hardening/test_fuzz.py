"""Hypothesis fuzzing at the depths the hand-made attacks found: nesting, long numbers, aliases, hostile text.

Every input either works or ends in the package's own located error; nothing
hangs (each example has a deadline), raises anything else, or leaks markup.
"""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peftref_kb.graph.query import QueryError, parse
from peftref_kb.safety import csv_cell, safe_url, terminal_text
from peftref_kb.schema.formula import MAX_VALUE, FormulaError, evaluate
from peftref_kb.store.yamlio import YamlError, load_yaml

FAST = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def _yaml_ok_or_located(text: str) -> None:
    try:
        load_yaml(text, "f.yaml")
    except YamlError as exc:
        assert exc.problems and all(p.file == "f.yaml" for p in exc.problems)


@FAST
@given(depth=st.integers(0, 3000), flow=st.booleans())
def test_fuzz_yaml_nesting(depth, flow):
    if flow:
        text = "a: " + "[" * depth + "1" + "]" * depth + "\n"
    else:
        depth = min(depth, 300)
        text = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "x: 1\n"
    _yaml_ok_or_located(text)


@FAST
@given(digits=st.integers(1, 12000), prefix=st.sampled_from(["", "-", "+", "0x", "0b", "0o"]), quoted=st.booleans())
def test_fuzz_yaml_long_numbers(digits, prefix, quoted):
    body = {"0x": "f", "0b": "1", "0o": "7"}.get(prefix, "9") * digits
    value = f'"{prefix}{body}"' if quoted else prefix + body
    try:
        located = load_yaml(f"a: {value}\nb: [{value}]\n", "f.yaml")
    except YamlError as exc:
        assert exc.problems[0].line is not None
        return
    for v in (located.data["a"], located.data["b"][0]):
        assert not isinstance(v, int) or abs(v).bit_length() <= 400
        str(v)  # printable without hitting Python's digit limit


@FAST
@given(width=st.integers(1, 12), depth=st.integers(1, 12))
def test_fuzz_yaml_alias_bombs(width, depth):
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for level in range(1, depth):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    _yaml_ok_or_located("\n".join(lines) + "\n")


_formula = st.recursive(
    st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr), st.sampled_from(["d", "r", "L", "1e308", "9" * 300])),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**"]), inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        inner.map(lambda x: f"-{x}"),
        st.lists(inner, min_size=0, max_size=3).map(lambda xs: f"max({','.join(xs)})"),
    ),
    max_leaves=12,
)


@FAST
@given(text=_formula)
def test_fuzz_formula_evaluator(text):
    try:
        value = evaluate(text, {"d": 4096, "r": 8, "L": 32})
    except FormulaError:
        return
    assert isinstance(value, (int, float)) and not isinstance(value, complex)
    assert math.isfinite(value) and abs(value) <= MAX_VALUE


_query_token = st.sampled_from(["(", ")", "not", "and", "or", "selective", "parallel", "insertion", "on", "ffn", "rank>", "9" * 50, "=", "methods", "with", '"', "\x1b[31m", "[/bold]"])


@FAST
@given(tokens=st.lists(_query_token, max_size=400), depth=st.integers(0, 600))
def test_fuzz_query_parser(tokens, depth):
    text = "(" * depth + " ".join(tokens) + ")" * depth
    try:
        parse(text)
    except QueryError as exc:
        assert str(exc)


_hostile = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80) | st.sampled_from(
    ["=HYPERLINK(\"x\")", "+1", "@SUM(A1)", "-cmd", "\x1b]8;;http://x\x07", "\x1b[2J", "[/bold]", "\u202e", "javascript:alert(1)", "\t=1"]
)


@FAST
@given(text=_hostile)
def test_fuzz_hostile_text_is_inert(text):
    clean = terminal_text(text)
    assert "\x1b" not in clean and "\x07" not in clean and "\u202e" not in clean
    assert all(c in "\n\t" or c.isprintable() or not (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F) for c in clean)
    cell = csv_cell(text)
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        float(cell)  # only a number may start with a sign
    url = safe_url(text)
    assert url is None or url.lower().startswith(("http://", "https://"))


@settings(max_examples=25, deadline=5000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=_hostile.filter(lambda s: s.strip() and "\n" not in s and "\r" not in s), summary=_hostile)
def test_fuzz_hostile_text_in_rendered_fields(name, summary):
    """Hostile name and summary through the show text and the SVG diagram (still well-formed XML)."""
    import yaml

    from hardening_helpers import MINIMAL
    from peftref_kb.render.diagram import diagram_svg
    from peftref_kb.render.text import method_text
    from peftref_kb.schema.models import Method

    data = yaml.safe_load(MINIMAL.read_text())
    data["name"], data["summary"] = name, summary or "x"
    try:
        method = Method.model_validate(data)
    except Exception:
        return  # the schema refused it: fine
    assert "\x1b" not in terminal_text(method_text(method))
    svg = diagram_svg([method])
    assert "\x1b" not in svg and "<script" not in svg.replace("&lt;script", "")
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg)  # still well-formed XML
