"""The KPI expression language: one small, safe language for built-in and custom KPIs.

An expression is text over a source's columns (docs/kpis.md):

- column names and numbers (`run_minutes * 60`), strings in comparisons (`kind == 'pick'`);
- `+ - * /`, unary `-`, comparisons (chained ones too: `0 < x <= 5`), `and`, `or`, `not`, `&`, `|`;
- `x in ('a', 'b')` and `x not in (...)` against a list of constants;
- three functions: `if_else(condition, then, otherwise)`, `not_null(x)`, `is_null(x)`.

The text is parsed with Python's `ast` and interpreted node by node into an Ibis expression: nothing is
ever `eval`-ed, so no attribute, call or name outside this list can run. Long or deeply nested text is
refused before it can exhaust memory or the stack. A constant expression (`1`, `2.5`) is a column holding
that number on every row."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir

from ..errors import UserError

MAX_LENGTH = 2000  # characters of one expression
MAX_DEPTH = 50  # nesting of operators and calls
MAX_INT = 2**63 - 1

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "if_else": (3, lambda c, a, b: ibis.ifelse(c, a, b)),
    "not_null": (1, lambda x: x.notnull()),
    "is_null": (1, lambda x: x.isnull()),
}


class Expression:
    """A checked expression: call it with an Ibis table to get the column it computes."""

    def __init__(self, text: str, where: str):
        self.text = str(text).strip()
        self.where = where
        self.tree = _parse(self.text, where)
        self.names = frozenset(n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)) - set(_FUNCTIONS)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __call__(self, rel: ir.Table) -> ir.Value:
        missing = sorted(self.names - set(rel.columns))
        if missing:
            raise UserError(
                f"{self.where}: unknown column {', '.join(missing)}; the source has {', '.join(rel.columns)}"
            )
        try:
            value = _Interpreter(rel).visit(self.tree.body)
        except UserError:
            raise
        except Exception as exc:  # e.g. a string column compared with a number
            raise UserError(f"{self.where}: cannot compute {self.text!r}: {exc}") from None
        if isinstance(value, ir.Value):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(f"{self.where}: {self.text!r} must give a number or a condition, got {value!r}")
        return ibis.literal(value)


def _parse(text: str, where: str) -> ast.Expression:
    if not text:
        raise UserError(f"{where}: empty expression")
    if len(text) > MAX_LENGTH:
        raise UserError(f"{where}: expression of {len(text):,} characters; at most {MAX_LENGTH:,} are allowed")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise UserError(f"{where}: {text!r} is not an expression: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise UserError(f"{where}: expression nested too deeply; at most {MAX_DEPTH} levels are allowed") from None
    depth = _depth(tree)
    if depth > MAX_DEPTH:
        raise UserError(f"{where}: expression nested {depth} levels deep; at most {MAX_DEPTH} are allowed")
    _check(tree, text, where)
    return tree


def _depth(tree: ast.AST) -> int:
    """Operators and calls nested in one another, counted without recursion (a deep tree must not
    overflow the stack here)."""
    nesting = (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Call)
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, level = stack.pop()
        level += isinstance(node, nesting)
        deepest = max(deepest, level)
        stack.extend((child, level) for child in ast.iter_child_nodes(node))
    return deepest


def _check(tree: ast.Expression, text: str, where: str) -> None:
    allowed = (
        ast.Expression,
        ast.BinOp,
        ast.UnaryOp,
        ast.Compare,
        ast.BoolOp,
        ast.Name,
        ast.Load,
        ast.Constant,
        ast.Call,
        ast.Tuple,
        ast.List,
        ast.USub,
        ast.Not,
        ast.And,
        ast.Or,
        ast.In,
        ast.NotIn,
        *_BINARY,
        *_COMPARE,
    )
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise UserError(f"{where}: {type(node).__name__} is not allowed in a KPI expression ({text!r})")
        if isinstance(node, ast.Constant):
            _check_constant(node.value, text, where)
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in _FUNCTIONS or node.keywords:
                raise UserError(
                    f"{where}: this call is not allowed in a KPI expression; only "
                    f"{', '.join(f'{f}(…)' for f in _FUNCTIONS)} may be called ({text!r})"
                )
            if len(node.args) != _FUNCTIONS[name][0]:
                raise UserError(f"{where}: {name} takes {_FUNCTIONS[name][0]} argument(s) ({text!r})")
        elif isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn) and not (
                    isinstance(right, ast.Tuple | ast.List) and all(isinstance(e, ast.Constant) for e in right.elts)
                ):
                    raise UserError(f"{where}: 'in' needs a list of constants, e.g. kind in ('a', 'b') ({text!r})")
    lists = {id(right) for node in ast.walk(tree) if isinstance(node, ast.Compare) for right in node.comparators}
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List) and id(node) not in lists:
            raise UserError(f"{where}: a list is only allowed after 'in' ({text!r})")


def _check_constant(value: Any, text: str, where: str) -> None:
    if value is None:
        raise UserError(
            f"{where}: None is not a value in a KPI expression; test for it with "
            f"not_null(column) or is_null(column) ({text!r})"
        )
    if isinstance(value, bool) or isinstance(value, str):
        return
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise UserError(f"{where}: the number {str(value)[:20]}… is too large ({text!r})")
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"{where}: the number in {text!r} is not finite")
    if not isinstance(value, int | float):
        raise UserError(f"{where}: {value!r} is not a number, string or true/false ({text!r})")


class _Interpreter(ast.NodeVisitor):
    """Turns a checked tree into an Ibis expression (`and`/`or` and chains become `&`/`|`)."""

    def __init__(self, rel: ir.Table):
        self.rel = rel

    def visit_Name(self, node: ast.Name) -> Any:
        return self.rel[node.id]

    def visit_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        return _BINARY[type(node.op)](self.visit(node.left), self.visit(node.right))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -value
        return ~value if isinstance(value, ir.Value) else not value

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        join = operator.and_ if isinstance(node.op, ast.And) else operator.or_
        out = self.visit(node.values[0])
        for value in node.values[1:]:
            out = join(out, self.visit(value))
        return out

    def visit_Compare(self, node: ast.Compare) -> Any:
        out, left = None, self.visit(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                members = [e.value for e in right_node.elts]  # type: ignore[attr-defined]
                term = _as_column(left).isin(members)
                term = ~term if isinstance(op, ast.NotIn) else term
                right = None
            else:
                right = self.visit(right_node)
                term = _COMPARE[type(op)](left, right)
            out = term if out is None else out & term
            left = right
        return out

    def visit_Call(self, node: ast.Call) -> Any:
        _, function = _FUNCTIONS[node.func.id]  # type: ignore[attr-defined]
        return function(*(_as_column(self.visit(a)) for a in node.args))


def _as_column(value: Any) -> Any:
    return value if isinstance(value, ir.Value) else ibis.literal(value)
