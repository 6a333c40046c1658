"""Hostile sizes are refused fast with a located one-line error: YAML bombs, deep nesting, long integers, formulas, queries."""

import time

import pytest
from hardening_helpers import MINIMAL, assert_clean_error, cli

from peftref_kb.graph.query import QueryError, parse
from peftref_kb.schema.formula import FormulaError, evaluate
from peftref_kb.store import validate_paths
from peftref_kb.store.yamlio import YamlError, load_yaml


def alias_bomb(width: int = 6, depth: int = 10) -> str:
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, depth):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _refused(text: str, needle: str, seconds: float = 2.0):
    start = time.perf_counter()
    with pytest.raises(YamlError) as info:
        load_yaml(text, "bomb.yaml")
    assert time.perf_counter() - start < seconds
    problem = info.value.problems[0]
    assert needle in problem.message, problem.format()
    return problem


def test_yaml_alias_bomb_6x10_is_refused_fast_with_its_line():
    problem = _refused(alias_bomb(), "expands to more than")
    assert problem.file == "bomb.yaml" and problem.line is not None


def test_yaml_many_aliases_refused():
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 500) + "]\n"
    _refused(text, "aliases")


@pytest.mark.parametrize("depth", [100, 990, 999, 5000])
def test_yaml_deep_nesting_refused(depth):
    _refused("a: " + "[" * depth + "]" * depth + "\n", "nesting")
    _refused("".join("  " * i + f"k{i}:\n" for i in range(min(depth, 200))) + "  " * min(depth, 200) + "x: 1\n", "nesting")


@pytest.mark.parametrize("literal", ["9" * 5000, "-" + "9" * 4301, "0x" + "f" * 5000, "0b" + "1" * 20000, "1_" * 3000 + "1"])
def test_yaml_integer_over_4300_digits_refused(literal):
    problem = _refused(f"a: {literal}\n", "digits")
    assert problem.line == 1


def test_yaml_document_size_bounded():
    _refused("a: " + "x" * 1_500_000 + "\n", "larger than")


def test_yaml_self_referencing_alias_refused():
    with pytest.raises(YamlError):
        load_yaml("a: &a [*a]\n", "x.yaml")


def test_alias_bomb_in_a_record_fails_validation_cleanly(tmp_path):
    record = tmp_path / "minimal-lora.yaml"
    record.write_text(MINIMAL.read_text() + "bomb:\n" + "".join("  " + line + "\n" for line in alias_bomb().splitlines()))
    start = time.perf_counter()
    proc = cli("validate", record)
    assert time.perf_counter() - start < 30
    assert_clean_error(proc, "minimal-lora.yaml:")


@pytest.mark.parametrize(
    "formula, needle",
    [
        ("((9**9)**9)**9", "exceeds"),  # left-nested power tower: hung instantiate
        ("2**2**2**2**2", "exponent"),
        ("(-8)**0.5", "not a real number"),  # complex result
        ("1e400", "exceeds"),
        ("d**64", "exceeds"),
        ("min(d)", "two arguments"),  # TypeError
        ("d/(d-d)", "divides by zero"),
        ("0**-1", "divides by zero"),
        ("10**30*10", "exceeds"),
    ],
)
def test_formula_evaluator_rejects_what_it_cannot_evaluate(formula, needle):
    start = time.perf_counter()
    with pytest.raises(FormulaError, match=needle):
        evaluate(formula, {"d": 4096})
    assert time.perf_counter() - start < 0.5


def test_formula_evaluator_rejects_non_numbers():
    with pytest.raises(FormulaError, match="not a number"):
        evaluate("d*2", {"d": None})
    with pytest.raises(FormulaError, match="NaN"):
        evaluate("d*2", {"d": float("nan")})


def test_power_tower_in_a_record_fails_validate_with_its_field(tmp_path):
    text = MINIMAL.read_text()
    assert "per_insertion:" in text
    lines = text.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "per_insertion:" in line)
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = f"{indent}per_insertion: ((d**9)**9)**9\n"
    record = tmp_path / "minimal-lora.yaml"
    record.write_text("".join(lines))
    _, problems = validate_paths([record])
    assert any("parameter_count.per_insertion" in p.message and "exceeds" in p.message for p in problems), [p.format() for p in problems]
    assert all(p.line for p in problems)
    proc = cli("validate", record)
    assert_clean_error(proc, "exceeds")


@pytest.mark.parametrize("query", ["(" * 300 + "selective" + ")" * 300, "not " * 400 + "selective", "(" * 999])
def test_query_nesting_300_deep_is_a_clear_error(query):
    with pytest.raises(QueryError, match="nests|longer"):
        parse(query)
    proc = cli("query", query)
    assert_clean_error(proc)


def test_query_with_huge_number_is_a_clear_answer():
    proc = cli("query", "rank>" + "9" * 1990)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr
