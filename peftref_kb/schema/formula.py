"""A small, safe evaluator for parameter-count formulas in records.

Records give closed-form counts such as ``2*r*d`` or ``L*(2*l*d)``.  We parse
them with :mod:`ast` and walk a whitelist of node types: numbers, names,
``+ - * / // % **``, unary minus, parentheses and ``min``/``max`` calls.  No
attribute access, subscripts, lambdas or anything else — nothing is ever
passed to ``eval``.
"""

from __future__ import annotations

import ast
import math
import operator
from functools import lru_cache
from typing import Mapping

# Model dimensions a formula may use; hyperparameter names are added per component.
MODEL_VARIABLES: dict[str, str] = {
    "d": "hidden size (d_model)",
    "d_ff": "inner size of the FFN",
    "n_heads": "number of attention heads",
    "d_head": "size of one attention head (d / n_heads)",
    "L": "number of Transformer layers in one stack",
    "d_in": "input size of the module at this insertion",
    "d_out": "output size of the module at this insertion",
    "vocab": "vocabulary size",
    "n_positions": "maximum sequence length",
    "n_insertions": "number of modules the component is inserted at in this model",
}

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_FUNCTIONS = {"min": min, "max": max}
MAX_LENGTH = 500
# Every intermediate value stays within this magnitude (a parameter count above
# 1e30 is not a count), so no power tower or huge product can hang evaluation.
MAX_VALUE = 1e30
MAX_EXPONENT = 64
# Typical dimensions of a large decoder, used by `validate` to evaluate each
# formula once so that what `instantiate` would reject is reported first.
PROBE_VALUES: dict[str, float] = {
    "d": 4096, "d_ff": 16384, "n_heads": 32, "d_head": 128, "L": 32, "d_in": 4096, "d_out": 4096,
    "vocab": 32000, "n_positions": 4096, "n_insertions": 64,
}


class FormulaError(ValueError):
    pass


@lru_cache(maxsize=4096)
def parse_formula(text: str) -> ast.Expression:
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("formula is empty")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"formula {text!r} is not valid arithmetic: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. an integer literal over Python's digit limit
        raise FormulaError(f"formula {text!r} cannot be parsed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.USub, ast.UAdd, ast.Name, ast.Load)) or type(node) in _BINARY:
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and not node.keywords:
            continue
        raise FormulaError(f"formula {text!r} uses {type(node).__name__}, which is not allowed (only numbers, names, + - * / // % ** and min/max)")
    return tree


def names_in(text: str) -> set[str]:
    tree = parse_formula(text)
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in calls}


def evaluate(text: str, variables: Mapping[str, float]) -> float:
    """Evaluate ``text`` with ``variables``; anything it cannot evaluate raises :class:`FormulaError`.

    Unknown names, non-numbers, division by zero, complex results and values
    beyond :data:`MAX_VALUE` (checked before each power is computed) are all
    errors, never a hang, a traceback or a complex number.
    """
    return _eval(parse_formula(text).body, variables, text)


def _number(value, text: str, what: str) -> float:
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, (int, float)):
        raise FormulaError(f"formula {text!r}: {what} is {type(value).__name__}, not a number")
    if isinstance(value, float) and value != value:
        raise FormulaError(f"formula {text!r}: {what} is not a number (NaN)")
    if abs(value) > MAX_VALUE:
        raise FormulaError(f"formula {text!r}: {what} exceeds {MAX_VALUE:g}")
    return value


def _power(left: float, right: float, text: str) -> float:
    if abs(right) > MAX_EXPONENT:
        raise FormulaError(f"formula {text!r}: exponent {right} is too large")
    if left < 0 and right != int(right):
        raise FormulaError(f"formula {text!r}: {left} ** {right} is not a real number")
    if left == 0 and right < 0:
        raise FormulaError(f"formula {text!r} divides by zero")
    if left != 0 and right > 0 and right * math.log10(abs(left)) > math.log10(MAX_VALUE):
        raise FormulaError(f"formula {text!r}: {left} ** {right} exceeds {MAX_VALUE:g}")
    return left**right


def _eval(node: ast.AST, env: Mapping[str, float], text: str) -> float:
    if isinstance(node, ast.Constant):
        return _number(node.value, text, "a constant")
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise FormulaError(f"formula {text!r} needs {node.id!r}, which was not given")
        return _number(env[node.id], text, repr(node.id))
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env, text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, env, text), _eval(node.right, env, text)
        try:
            if isinstance(node.op, ast.Pow):
                value = _power(left, right, text)
            else:
                value = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise FormulaError(f"formula {text!r} divides by zero") from None
        except FormulaError:
            raise
        except (OverflowError, TypeError, ValueError) as exc:
            raise FormulaError(f"formula {text!r} cannot be evaluated: {exc}") from None
        return _number(value, text, "an intermediate value")
    if isinstance(node, ast.Call):
        args = [_eval(a, env, text) for a in node.args]
        if len(args) < 2:
            raise FormulaError(f"formula {text!r}: {node.func.id}() needs at least two arguments")  # type: ignore[union-attr]
        return _FUNCTIONS[node.func.id](*args)  # type: ignore[union-attr]
    raise FormulaError(f"formula {text!r}: unsupported expression")  # pragma: no cover - parse_formula rejects it


def probe(text: str, hyperparameters: Mapping[str, float]) -> None:
    """Evaluate ``text`` once at :data:`PROBE_VALUES` and the hyperparameters' defaults; FormulaError if it cannot be."""
    evaluate(text, {**PROBE_VALUES, **hyperparameters})
