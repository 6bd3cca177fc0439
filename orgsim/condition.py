"""Conditions on a sweep's outcomes, such as ``"responsive - siloed > 0"``, for scenario discovery.

A condition is parsed with :mod:`ast` and only a whitelist of node types is accepted: organisation
names, numbers, ``+ - * /``, unary minus, parentheses, comparisons (``< <= > >= == !=``, chained or
not) and ``and`` / ``or``. It is evaluated by walking that tree over columns of a table, one column per
organisation; user text is never passed to ``eval`` or ``exec``. Organisation names may contain ``-``
(e.g. ``tight-silo``): known names are matched longest first, so write ``a - b`` with spaces to
subtract two organisations whose joined name ``a-b`` is also an organisation.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from orgsim.errors import OrgsimError

ALLOWED = "organisation names, numbers, + - * /, parentheses, comparisons (< <= > >= == !=), and, or"

_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
}
_COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
_PLACEHOLDER = "__org{}__"


@dataclass(frozen=True)
class Condition:
    """A parsed condition: ``text`` as given, the organisations it names, and its checked syntax tree."""

    text: str
    organisations: tuple[str, ...]
    tree: ast.Expression
    names: dict[str, str]  # placeholder identifier -> organisation

    def __call__(self, table: pd.DataFrame) -> pd.Series:
        """True/False per row of ``table`` (one numeric column per organisation named). NaN compares False."""
        result = _evaluate(self.tree.body, {p: table[org] for p, org in self.names.items()})
        return pd.Series(np.asarray(result, dtype=bool), index=table.index, name=self.text)


def parse_condition(text: str, organisations: Sequence[str], option: str = "--where") -> Condition:
    """Parse ``text`` into a :class:`Condition` over ``organisations``.

    Raises :class:`OrgsimError` (one line naming ``option``) for a syntax error, a node type outside
    the whitelist, an unknown organisation or an expression that is not a comparison.
    """
    orgs = list(dict.fromkeys(organisations))

    def fail(why: str) -> OrgsimError:
        return OrgsimError(f"{option} {text!r}: {why}; allowed: {ALLOWED}; organisations: {', '.join(orgs)}")

    if not text.strip():
        raise fail("empty condition")
    names: dict[str, str] = {}
    source = text
    for i, org in enumerate(sorted(orgs, key=len, reverse=True)):
        pattern = rf"(?<![\w.]){re.escape(org)}(?![\w.])"
        if re.search(pattern, source):
            names[_PLACEHOLDER.format(i)] = org
            source = re.sub(pattern, _PLACEHOLDER.format(i), source)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        raise fail("not a valid expression") from None
    for node in ast.walk(tree):
        _check(node, names, fail)
    if not _is_boolean(tree.body):
        raise fail("not a comparison (e.g. 'responsive - siloed > 0')")
    found = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Name)), key=lambda n: n.col_offset)
    used = tuple(dict.fromkeys(names[n.id] for n in found))  # in the order written
    if not used:
        raise fail("names no organisation")
    return Condition(text, used, tree, {p: o for p, o in names.items() if o in used})


def _check(node: ast.AST, names: dict[str, str], fail: Callable[[str], OrgsimError]) -> None:
    """Refuse every node type outside the whitelist."""
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise fail(f"unknown organisation {node.id!r}")
        if not isinstance(node.ctx, ast.Load):
            raise fail(f"cannot assign to {names[node.id]!r}")
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise fail(f"{node.value!r} is not a number")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _ARITHMETIC:
            raise fail(f"operator {type(node.op).__name__} is not allowed")
        if _is_boolean(node.left) or _is_boolean(node.right):
            raise fail("arithmetic on a comparison")
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise fail(f"operator {type(node.op).__name__} is not allowed")
        if _is_boolean(node.operand):
            raise fail("arithmetic on a comparison")
    elif isinstance(node, ast.Compare):
        if any(type(op) not in _COMPARISONS for op in node.ops):
            raise fail("only < <= > >= == != compare")
        if any(_is_boolean(side) for side in (node.left, *node.comparators)):
            raise fail("a comparison of comparisons")
    elif isinstance(node, ast.BoolOp):
        if not all(_is_boolean(value) for value in node.values):
            raise fail("'and' and 'or' join comparisons")
    elif not isinstance(node, ast.Expression | ast.Load | ast.operator | ast.cmpop | ast.boolop | ast.unaryop):
        raise fail(f"{type(node).__name__} is not allowed")


def _is_boolean(node: ast.AST) -> bool:
    return isinstance(node, ast.Compare | ast.BoolOp)


def _evaluate(node: ast.AST, columns: dict[str, pd.Series]) -> Any:
    """Value of a checked node: a column, a number or a boolean array."""
    if isinstance(node, ast.Name):
        return columns[node.id].to_numpy(dtype=float)
    if isinstance(node, ast.Constant):
        return np.float64(node.value)  # 1 / 0 gives inf, as for columns
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, columns)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _ARITHMETIC[type(node.op)](_evaluate(node.left, columns), _evaluate(node.right, columns))
    if isinstance(node, ast.Compare):
        left, result = _evaluate(node.left, columns), True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, columns)
            result = np.logical_and(result, _COMPARISONS[type(op)](left, right))
            left = right
        return result
    if isinstance(node, ast.BoolOp):
        values = [_evaluate(value, columns) for value in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = values[0]
        for value in values[1:]:
            out = combine(out, value)
        return out
    raise AssertionError(f"unchecked node {type(node).__name__}")  # _check refuses every other node
