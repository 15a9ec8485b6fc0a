"""Every data table of a page as CSV or Excel (docs/web.md "Downloads"): the page's own URL with
`format=csv|xlsx&download=NAME` answers with the rows the page gathered for the caller (so the site scope and
the filters are the page's), written by present.table_files."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi.responses import Response

from ..present.table_files import FORMATS, table_columns, table_file
from .problems import Problem

Rows = list[Mapping[str, Any]]


def _tiles(c: Mapping[str, Any]) -> Rows:
    keys = ("id", "name", "unit", "value", "change", "gap", "band", "status", "alerts")
    return [{k: t.get(k) for k in keys} for t in c.get("tiles", [])]


def _kpi_split(c: Mapping[str, Any]) -> Rows:
    by = c.get("by") or "member"
    return [
        {by: m["member"], "value": m["value"], "numerator": m["numerator"], "denominator": m["denominator"]}
        for m in c.get("members", [])
    ]


# template → table name → the rows of that table in the page's context
PAGE_TABLES: dict[str, dict[str, Callable[[Mapping[str, Any]], Rows]]] = {
    "overview.html": {"kpis": _tiles},
    "plant_costs.html": {"plant-costs": lambda c: (c.get("plant") or {}).get("rows", [])},
    "kpi.html": {"split": _kpi_split, "guardrails": lambda c: c.get("guardrails", [])},
    "operations.html": {"bottlenecks": lambda c: c.get("bottlenecks", [])},
    "unit_economics.html": {"unit-economics": lambda c: c.get("rows", [])},
    "variances.html": {"bridge": lambda c: c.get("bridge", []), "split": lambda c: c.get("members", [])},
    "variance_rows.html": {"rows": lambda c: c.get("all_rows", c.get("rows", []))},
    "alerts.html": {"alerts": lambda c: c.get("alerts", [])},
    "actions.html": {"actions": lambda c: c.get("actions", [])},
    "data.html": {
        "loads": lambda c: c.get("loads", []),
        "quarantine": lambda c: c.get("all_quarantine", c.get("quarantine", [])),
    },
}
HIDDEN = ("spark", "no_data", "overdue_url")


def wants_file(template: str, query: Mapping[str, str]) -> bool:
    return template in PAGE_TABLES and query.get("format") is not None


def file_response(template: str, query: Mapping[str, str], context: Mapping[str, Any]) -> Response:
    """The table `query["download"]` of the page as `query["format"]`; 400 naming the choices otherwise.
    (Not `table=`: the Data page filters its quarantined rows by `table`.)"""
    fmt, name = query.get("format", ""), query.get("download") or ""
    tables = PAGE_TABLES[template]
    if fmt not in FORMATS:
        raise Problem(400, f"format {fmt!r}: choose csv or xlsx")
    if name not in tables:
        raise Problem(400, f"download {name!r}: this page's tables are {', '.join(tables)}")
    rows = list(tables[name](context))
    columns = table_columns(rows, HIDDEN)
    view = context.get("view")
    stem = "-".join(p for p in (name, view.month if view else "", view.site if view else "") if p)
    return Response(
        table_file(rows, columns, fmt, name),
        media_type=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )
