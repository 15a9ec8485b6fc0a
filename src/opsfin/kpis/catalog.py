"""The KPI catalog: `model/kpis.yaml`.

Built-in KPIs are defined in definitions.py; the YAML carries what people read and may edit (name,
description, owner, unit, direction, formula text). Users add their own KPIs as expressions over a
source's columns:

    - id: setup_share
      name: Setup share of machine time
      unit: ratio
      direction: lower_is_better
      owner: plant manager
      source: operations            # any source listed in docs/kpis.md
      numerator: setup_minutes
      denominator: setup_minutes + run_minutes
      filter: qty_good > 0          # optional
      kind: ratio                   # or sum (value = Σ numerator)

Expressions use the source's columns, numbers, + − × ÷ and comparisons; they become Ibis expressions,
so a custom KPI runs on every backend the built-ins run on.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from ..yamlfile import read_yaml_mapping
from .definitions import KPIS, Kpi, Part
from .sources import SOURCES

FIELDS = ("id", "name", "description", "unit", "direction", "owner", "formula")
_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Name, ast.Load,
                  ast.Constant, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.Gt, ast.GtE, ast.Lt, ast.LtE,
                  ast.Eq, ast.NotEq, ast.And, ast.Or, ast.BitAnd, ast.BitOr)


def default_catalog_yaml() -> str:
    entries = [{f: getattr(k, f) for f in FIELDS} | {"dimensions": sorted(k.dims)} for k in KPIS]
    header = ("# KPI catalog (DESIGN.md v1). Edit names, owners and descriptions freely; the formulas of\n"
              "# built-in KPIs live in the engine. Add your own KPIs at the end: see docs/kpis.md.\n")
    return header + yaml.safe_dump({"kpis": entries}, sort_keys=False, allow_unicode=True, width=110)


class _ColumnLogic(ast.NodeTransformer):
    """`a and b`, `a or b` and chained comparisons (`0 < x < 5`) become `&` and `|`: Python's own `and`/`or`
    ask a column expression for a single truth value, which it does not have."""

    @staticmethod
    def _join(op: ast.operator, values: list[ast.expr]) -> ast.expr:
        out = values[0]
        for v in values[1:]:
            out = ast.BinOp(out, op, v)
        return out

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        self.generic_visit(node)
        return self._join(ast.BitAnd() if isinstance(node.op, ast.And) else ast.BitOr(), node.values)

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        if len(node.ops) == 1:
            return node
        lefts = [node.left, *node.comparators[:-1]]
        pairs = [ast.Compare(left, [op], [right]) for left, op, right in
                 zip(lefts, node.ops, node.comparators, strict=True)]
        return self._join(ast.BitAnd(), pairs)  # type: ignore[arg-type]


def _expression(text: str, where: str):
    try:
        tree = ast.parse(str(text), mode="eval")
    except SyntaxError as exc:
        raise UserError(f"{where}: {text!r} is not an expression: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise UserError(f"{where}: {type(node).__name__} is not allowed in a KPI expression ({text!r})")
    tree = ast.fix_missing_locations(_ColumnLogic().visit(tree))
    code = compile(tree, where, "eval")
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}

    def build(rel):
        missing = sorted(names - set(rel.columns))
        if missing:
            raise UserError(f"{where}: unknown column {', '.join(missing)}; the source has {', '.join(rel.columns)}")
        try:
            return eval(code, {"__builtins__": {}}, {n: rel[n] for n in names})  # noqa: S307 - AST checked above
        except Exception as exc:  # e.g. a string column compared with a number
            raise UserError(f"{where}: cannot compute {text!r}: {exc}") from None

    return build


def custom_kpi(entry: dict[str, Any], path: Path) -> Kpi:
    where = f"{path}: kpi {entry.get('id')!r}"
    for key in ("id", "source", "numerator"):
        if not entry.get(key):
            raise UserError(f"{where}: missing '{key}'")
    if entry["source"] not in SOURCES:
        raise UserError(f"{where}: unknown source {entry['source']!r}; sources are {', '.join(SOURCES)}")
    kind = entry.get("kind", "ratio" if entry.get("denominator") else "sum")
    if kind not in ("ratio", "sum"):
        raise UserError(f"{where}: kind must be ratio or sum")
    part = Part(entry["source"], _expression(entry["numerator"], where + " numerator"),
                _expression(entry["denominator"], where + " denominator") if entry.get("denominator") else None,
                keep=_expression(entry["filter"], where + " filter") if entry.get("filter") else None)
    return Kpi(entry["id"], entry.get("name", entry["id"]), entry.get("unit", ""),
               entry.get("direction", "higher_is_better"), entry.get("owner", ""),
               entry.get("formula", f"{entry['numerator']} / {entry.get('denominator', '1')}"),
               entry.get("description", ""), (part,), kind=kind)


def load_catalog(model_dir: Path | None) -> dict[str, Kpi]:
    """Built-in KPIs with the YAML's metadata, plus the user's KPIs."""
    kpis = {k.id: k for k in KPIS}
    path = model_dir / "kpis.yaml" if model_dir else None
    if not path or not path.exists():
        return kpis
    data = read_yaml_mapping(path)
    for entry in data.get("kpis", []) or []:
        if not isinstance(entry, dict) or "id" not in entry:
            raise UserError(f"{path}: every entry under 'kpis' needs an 'id'")
        if entry["id"] in kpis and "source" not in entry:
            meta = {f: entry[f] for f in FIELDS[1:] if f in entry}
            kpis[entry["id"]] = replace(kpis[entry["id"]], **meta)
        else:
            kpis[entry["id"]] = custom_kpi(entry, path)
    return kpis
