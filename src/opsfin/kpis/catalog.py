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

Expressions (expressions.py) use the source's columns, numbers, + − × ÷, comparisons, `in`, `if_else`,
`not_null`; they become Ibis expressions, so a custom KPI runs on every backend the built-ins run on.
The built-in ratio KPIs are written in the same language (definitions.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from .definitions import KPIS
from .expressions import Expression
from .parts import Kpi, Part, formula_of
from .sources import SOURCES

FILE = "model/kpis.yaml"  # how messages name the catalog: relative to the workspace
FIELDS = ("id", "name", "description", "unit", "direction", "owner", "formula")
#: what a catalog entry may change; the formula is always the one computed
EDITABLE = ("name", "description", "unit", "direction", "owner")


def default_catalog_yaml() -> str:
    entries = [{f: v for f, v in catalog_row(k).items() if f != "company_level"} for k in KPIS]
    header = (
        "# KPI catalog. Edit names, owners, units and descriptions freely. `formula` shows what the engine\n"
        "# computes, in the expression language of custom KPIs (editing it changes nothing).\n"
        "# Add your own KPIs at the end: see docs/kpis.md.\n"
    )
    return header + yaml.safe_dump({"kpis": entries}, sort_keys=False, allow_unicode=True, width=110)


def catalog_row(kpi: Kpi) -> dict[str, Any]:
    """One KPI as every catalog listing shows it (`opsfin kpi --list`, `GET /api/v1/kpis`, the YAML):
    its text fields, its dimensions (sorted) and whether it is company-level only (no dimension)."""
    return {f: getattr(kpi, f) for f in FIELDS} | {
        "dimensions": sorted(kpi.dims),
        "company_level": not kpi.dims,
    }


def custom_kpi(entry: dict[str, Any], path: str | Path = FILE) -> Kpi:
    where = f"{path}: kpi {entry.get('id')!r}"
    for key in ("id", "source", "numerator"):
        if not entry.get(key):
            raise UserError(f"{where}: missing '{key}'")
    if entry["source"] not in SOURCES:
        raise UserError(f"{where}: unknown source {entry['source']!r}; sources are {', '.join(SOURCES)}")
    kind = entry.get("kind", "ratio" if entry.get("denominator") else "sum")
    if kind not in ("ratio", "sum"):
        raise UserError(f"{where}: kind must be ratio or sum")
    den = entry.get("denominator")
    part = Part(
        entry["source"],
        Expression(entry["numerator"], where + " numerator"),
        Expression(den, where + " denominator") if den not in (None, "") else None,
        keep=Expression(entry["filter"], where + " filter") if entry.get("filter") else None,
    )
    return Kpi(
        entry["id"],
        entry.get("name", entry["id"]),
        entry.get("unit", ""),
        entry.get("direction", "higher_is_better"),
        entry.get("owner", ""),
        formula_of((part,), kind),
        entry.get("description", ""),
        (part,),
        kind=kind,
    )


def parse_catalog(data: Mapping[str, Any] | None, where: str | Path = FILE) -> dict[str, Kpi]:
    """Built-in KPIs with the catalog's metadata, plus the user's KPIs. `data` is the parsed
    model/kpis.yaml (None: the built-ins alone); a mistake is a UserError naming `where`. The I/O layer
    reads the file (opsfin.runs.model.load_catalog)."""
    kpis = {k.id: k for k in KPIS}
    for entry in (data or {}).get("kpis", []) or []:
        if not isinstance(entry, dict) or "id" not in entry:
            raise UserError(f"{where}: every entry under 'kpis' needs an 'id'")
        if entry["id"] in kpis and "source" not in entry:
            meta = {f: entry[f] for f in EDITABLE if f in entry}
            kpis[entry["id"]] = replace(kpis[entry["id"]], **meta)
        else:
            kpis[entry["id"]] = custom_kpi(entry, where)
    return kpis
