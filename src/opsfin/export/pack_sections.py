"""The four sections of the monthly pack, each gathered from an engine through the Workspace:
KPIs against guardrails (KPI engine + alerts.guardrails), the variance bridge (costing.variance),
the month's alerts (runs.alerts.run_alerts) and the open actions (the app database).

Nothing here computes a figure: values come from `ws.kpi`, `ws.variance` and the alert engine; the
guardrail status is the guardrail engine's own verdict (`check_guardrail`) for the month. What this
module adds is the site scope: which rows belong to which site (`SiteMap`), so a site pack holds
only its sites' rows and hides company-level figures that mix other sites' data."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import polars as pl

from ..alerts.model import SEVERITY_ORDER
from ..appdb.records import OPEN_STATUSES
from ..core.dimensions import SiteMap
from ..errors import UserError
from .pack_model import Column, Section


def scope_text(scope: Mapping[str, str]) -> str:
    """`site=P1, machine=P1-ASSY-M04`, or `company`."""
    return ", ".join(f"{d}={'(none)' if v is None else v}" for d, v in scope.items()) or "company"


def check_month_has_data(ws, first: dt.date, last: dt.date) -> None:
    """UserError when the warehouse holds no GL postings and no machine readings in the month."""
    from ..runs.reads import data_rows_between, data_span

    if data_rows_between(ws, first, last):
        return
    lo, hi = data_span(ws)
    held = (
        f"it holds {lo:%Y-%m} to {hi:%Y-%m}"
        if lo is not None
        else "it is empty (load data with `opsfin ingest` or build `opsfin demo`)"
    )
    raise UserError(
        "{param} " + f"{first:%Y-%m}: the warehouse has no GL postings or machine readings in that month; {held}",
        param="period",
        value=f"{first:%Y-%m}",
    )


# ------------------------------------------------------------------------------------------ KPIs
KPI_COLUMNS = (
    Column("kpi", "KPI"),
    Column("name", "Name"),
    Column("scope", "Scope"),
    Column("site", "Site"),
    Column("unit", "Unit"),
    Column("value", "Value", "unit", unit_column="unit", fallback="amount"),
    Column("prior_value", "Prior month", "unit", unit_column="unit", fallback="prior_amount"),
    Column("guardrail", "Guardrail"),
    Column("min", "Min", "unit", unit_column="unit"),
    Column("max", "Max", "unit", unit_column="unit"),
    Column("status", "Status", "status"),
    Column("severity", "Severity"),
    Column("owner", "Owner"),
)
KPI_SCHEMA = {
    "kpi": pl.Utf8,
    "name": pl.Utf8,
    "scope": pl.Utf8,
    "site": pl.Utf8,
    "unit": pl.Utf8,
    "value": pl.Float64,
    "amount": pl.Decimal(38, 2),
    "prior_value": pl.Float64,
    "prior_amount": pl.Decimal(38, 2),
    "guardrail": pl.Utf8,
    "min": pl.Float64,
    "max": pl.Float64,
    "grain": pl.Utf8,
    "status": pl.Utf8,
    "severity": pl.Utf8,
    "owner": pl.Utf8,
}

Series = dict[tuple[str, tuple[tuple[str, Any], ...]], dict[dt.date, Any]]


def kpi_series(ws, catalog, ids: list[str], by: list[str], where: dict | None, first: dt.date, last: dt.date) -> Series:
    """Monthly values `{(kpi, ((dim, member), …)): {period_start: value}}` from `ws.kpi`. Money KPIs are
    asked apart from the others, so they stay exact decimals (mixed with ratios they become DOUBLE)."""
    out: Series = defaultdict(dict)
    for group in ([k for k in ids if catalog[k].money], [k for k in ids if not catalog[k].money]):
        if not group:
            continue
        frame = ws.kpi(group, "month", by=by or None, where=where or None, start=first, end=last)
        for r in frame.iter_rows(named=True):
            out[(r["kpi"], tuple((d, r[d]) for d in by))][r["period_start"]] = r["value"]
    return out


def band_text(g, unit: str) -> str:
    """`≥ 33.0%`, `15.0 days – 45.0 days`, `≤ 14.0% per week`: the band as a controller reads it."""
    from ..alerts.model import fmt_value

    if g.min is not None and g.max is not None:
        text = f"{fmt_value(g.min, unit)} – {fmt_value(g.max, unit)}"
    elif g.min is not None:
        text = f"≥ {fmt_value(g.min, unit)}"
    else:
        text = f"≤ {fmt_value(g.max, unit)}"
    return text if g.grain == "month" else f"{text} per {g.grain}"


def _kpi_row(
    kpi,
    scope: Mapping[str, Any],
    site: str | None,
    values: Mapping[dt.date, Any],
    first: dt.date,
    prior: dt.date,
) -> dict[str, Any]:
    now, before = values.get(first), values.get(prior)
    row = {
        "kpi": kpi.id,
        "name": kpi.name,
        "scope": scope_text(scope),
        "site": site,
        "unit": kpi.unit,
        "value": None,
        "amount": None,
        "prior_value": None,
        "prior_amount": None,
        "guardrail": "",
        "min": None,
        "max": None,
        "grain": None,
        "status": "",
        "severity": "",
        "owner": kpi.owner,
    }
    if kpi.money:
        row["amount"], row["prior_amount"] = now, before
    else:
        row["value"] = None if now is None else float(now)
        row["prior_value"] = None if before is None else float(before)
    return row


def _guard(row: dict[str, Any], g, unit: str, status: str) -> dict[str, Any]:
    return row | {
        "guardrail": band_text(g, unit),
        "min": g.min,
        "max": g.max,
        "grain": g.grain,
        "status": status,
        "severity": g.severity,
        "owner": g.owner or row["owner"],
    }


def kpi_section(ws, first: dt.date, last: dt.date, scope: tuple[str, ...] | None, site_map: SiteMap) -> Section:
    """Every catalog KPI for the month and the month before (company level, or per site of the scope),
    each with the guardrail that covers it, and one more row per guardrail series (`by` member) that is
    not one of those rows. Status: `breach` when the guardrail engine raises an alert in the month."""
    from ..alerts.guardrails import check_guardrail
    from ..runs.model import load_guardrails

    catalog = ws.kpi_catalog()
    prior = (first - dt.timedelta(days=1)).replace(day=1)
    if scope is None:
        ids, by, where, keys = list(catalog), [], None, [()]
    else:  # KPIs without a site dimension (DSO, DIO, days to pay…) mix every site: hidden
        ids = [k for k in catalog if "site" in catalog[k].dims]
        by, where, keys = ["site"], {"site": list(scope)}, [(("site", s),) for s in scope]
    values = kpi_series(ws, catalog, ids, by, where, prior, last)
    base: dict[tuple, dict[str, Any]] = {}
    for kpi_id in ids:
        for key in keys:
            v = values.get((kpi_id, key), {})
            if scope is not None and not v:
                continue  # a site the KPI has no rows for (OEE of a warehouse)
            base[(kpi_id, key)] = _kpi_row(catalog[kpi_id], dict(key), dict(key).get("site"), v, first, prior)

    guarded: set[tuple] = set()
    extra: dict[str, list[dict[str, Any]]] = defaultdict(list)
    tables = ws.kpi_tables()
    for g in load_guardrails(ws.model_dir, catalog):
        kpi = catalog[g.kpi]
        series = kpi_series(ws, catalog, [g.kpi], list(g.by), g.where, prior, last)
        breached = {tuple(a.scope.get(d) for d in g.by) for a in check_guardrail(tables, g, catalog, first, last)}
        for (_, key), v in sorted(series.items(), key=lambda kv: tuple(str(m) for _, m in kv[0][1])):
            members = {d: [m] for d, m in key} | {d: vs for d, vs in g.where.items() if d not in dict(key)}
            if not site_map.visible(members, scope):
                continue
            shown = dict(key) | {d: ",".join(vs) for d, vs in g.where.items() if d not in dict(key)}
            flagged = tuple(str(m) for _, m in key) in breached
            status = "breach" if flagged else ("ok" if v.get(first) is not None else "no data")
            row_key = (g.kpi, tuple(sorted(shown.items())))
            if row_key in base and row_key not in guarded:
                base[row_key] = _guard(base[row_key], g, kpi.unit, status)
                guarded.add(row_key)
            else:
                row = _kpi_row(kpi, shown, site_map.site_text(members), v, first, prior)
                extra[g.kpi].append(_guard(row, g, kpi.unit, status))
    rows = []
    for kpi_id in ids:
        rows += [base[(kpi_id, key)] for key in keys if (kpi_id, key) in base]
        rows += extra.get(kpi_id, [])
    note = (
        "Every catalog KPI for the company"
        if scope is None
        else f"Every KPI with a site dimension for {', '.join(scope)} (company-level KPIs such as DSO are left out)"
    )
    return Section(
        "kpis",
        "KPIs",
        f"{note}, this month and the month before, against model/guardrails.yaml; status "
        "'breach' when the guardrail engine raises an alert for the month.",
        pl.DataFrame(rows, schema=KPI_SCHEMA, orient="row"),
        KPI_COLUMNS,
        "No KPI has data for this month.",
    )


# ------------------------------------------------------------------------------------------ variances
VARIANCE_COLUMNS = (
    Column("part", "Part"),
    Column("category", "Category"),
    Column("amount", "Amount", "money"),
)
SITE_VARIANCE_COLUMNS = (
    Column("part", "Part"),
    Column("category", "Category"),
    Column("work_center", "Work centre"),
    Column("site", "Site"),
    Column("amount", "Amount", "money"),
)


def _part(category: str) -> str:
    from ..costing.variance import SALES_CATEGORIES

    if category.startswith("total"):
        return "total"
    return "sales" if category in SALES_CATEGORIES else "manufacturing"


def variance_section(ws, first: dt.date, last: dt.date, scope: tuple[str, ...] | None, site_map: SiteMap) -> Section:
    """The company's variance bridge for the month (favourable +, parts add to `total`); for a site
    scope, the bridge split by work centre, restricted to the sites' work centres, footed in scope."""
    from ..costing.variance_by_site import site_bridge

    title = "Variances"
    try:
        if scope is None:
            bridge = ws.variance(first, last)
            table = bridge.with_columns(part=pl.col("category").map_elements(_part, return_dtype=pl.Utf8))
            table = table.select("part", "category", "amount")
            description = (
                "The variance bridge from static budget to actual gross margin for the month "
                "(favourable +, unfavourable −); the parts add exactly to the total."
            )
            return Section("variances", title, description, table, VARIANCE_COLUMNS, "")
        split = ws.variance(first, last, by="work_center")
    except UserError as exc:
        columns = VARIANCE_COLUMNS if scope is None else SITE_VARIANCE_COLUMNS
        empty = pl.DataFrame(schema={c.name: pl.Utf8 for c in columns} | {"amount": pl.Decimal(18, 2)})
        return Section(
            "variances",
            title,
            "The variance bridge for the month.",
            empty,
            columns,
            f"No variance bridge for {first:%Y-%m}: {exc}",
        )
    part = site_bridge(split, "work_center", lambda member: site_map.site_of("work_center", member), scope)
    rows = [r | {"part": _part(r["category"])} for r in part.members.iter_rows(named=True)]
    if rows:
        rows.append(
            {
                "part": "total",
                "category": f"total ({', '.join(scope)})",
                "work_center": None,
                "site": None,
                "amount": part.total,
            }
        )
    table = pl.DataFrame(
        rows,
        schema={
            "part": pl.Utf8,
            "category": pl.Utf8,
            "work_center": pl.Utf8,
            "site": pl.Utf8,
            "amount": pl.Decimal(18, 2),
        },
        orient="row",
    )
    description = (
        "The company variance bridge mixes every site's sales and is not shown in a site pack. "
        "These are the bridge's parts that belong to the sites' work centres (labor, energy, "
        "overhead, volume, scrap; favourable +), with their sum."
    )
    return Section(
        "variances",
        title,
        description,
        table,
        SITE_VARIANCE_COLUMNS,
        "No variance of this month belongs to these sites' work centres.",
    )


# ------------------------------------------------------------------------------------------ alerts
ALERT_COLUMNS = (
    Column("severity", "Severity", "status"),
    Column("kind", "Kind"),
    Column("kpi", "KPI"),
    Column("scope", "Scope"),
    Column("site", "Site"),
    Column("period_start", "From", "date"),
    Column("period_end", "To", "date"),
    Column("value", "Value", "unit", unit_column="unit"),
    Column("expected", "Expected", "unit", unit_column="unit"),
    Column("bound", "Bound", "unit", unit_column="unit"),
    Column("unit", "Unit"),
    Column("owner", "Owner"),
    Column("explanation", "Explanation", wide=True),
    Column("id", "Alert id"),
)
ALERT_SCHEMA = {
    "severity": pl.Utf8,
    "kind": pl.Utf8,
    "kpi": pl.Utf8,
    "scope": pl.Utf8,
    "site": pl.Utf8,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "value": pl.Float64,
    "expected": pl.Float64,
    "bound": pl.Float64,
    "unit": pl.Utf8,
    "owner": pl.Utf8,
    "explanation": pl.Utf8,
    "id": pl.Utf8,
}


def _num(x: float | None) -> float | None:
    return None if x is None or x != x else float(x)  # NaN → empty


def alert_section(ws, first: dt.date, last: dt.date, scope: tuple[str, ...] | None, site_map: SiteMap) -> Section:
    """The alerts whose run overlaps the month (guardrail breaches and anomalies), stop first."""
    from ..runs.alerts import run_alerts

    catalog = ws.kpi_catalog()
    rows = []
    for a in run_alerts(ws, catalog, start=first, end=last):
        members = {d: str(v).split(",") for d, v in a.scope.items()}  # a `where` list reads "P1,P2"
        if not site_map.visible(members, scope):
            continue
        unit = catalog[a.kpi].unit if a.kpi in catalog else ""
        rows.append(
            {
                "severity": a.severity,
                "kind": a.kind,
                "kpi": a.kpi,
                "scope": scope_text(a.scope),
                "site": site_map.site_text(members),
                "period_start": a.period_start,
                "period_end": a.period_end,
                "value": _num(a.value),
                "expected": _num(a.expected),
                "bound": _num(a.bound),
                "unit": unit,
                "owner": a.owner,
                "explanation": a.explanation,
                "id": a.id,
            }
        )
    rows.sort(key=lambda r: SEVERITY_ORDER.get(r["severity"], 9))  # stable: the engine's order within
    return Section(
        "alerts",
        "Alerts",
        "Guardrail breaches and anomalies whose periods overlap the month "
        "(model/guardrails.yaml, model/detection.yaml), most severe first.",
        pl.DataFrame(rows, schema=ALERT_SCHEMA, orient="row"),
        ALERT_COLUMNS,
        "No alert in this month.",
    )


# ------------------------------------------------------------------------------------------ actions
ACTION_COLUMNS = (
    Column("id", "Action", "integer"),
    Column("title", "Title"),
    Column("owner", "Owner"),
    Column("due", "Due", "date"),
    Column("status", "Status"),
    Column("overdue", "Overdue", "status"),
    Column("expected_impact", "Expected impact", "money"),
    Column("site", "Site"),
    Column("subject", "Prompted by"),
    Column("description", "Description"),
)
ACTION_SCHEMA = {
    "id": pl.Int64,
    "title": pl.Utf8,
    "owner": pl.Utf8,
    "due": pl.Date,
    "status": pl.Utf8,
    "overdue": pl.Utf8,
    "expected_impact": pl.Decimal(18, 2),
    "site": pl.Utf8,
    "subject": pl.Utf8,
    "description": pl.Utf8,
}


def action_section(ws, today: dt.date, scope: tuple[str, ...] | None, app_db=None) -> Section:
    """Actions still open or in progress in the app database (`app_db`, default the workspace's), overdue
    as of `today`; a site pack holds only the actions of its sites (company-level actions name no site)."""
    if app_db is None:
        from ..appdb import open_app_db

        app_db = open_app_db(ws)
    rows = []
    for a in app_db.list_actions():
        if a["status"] not in OPEN_STATUSES or (scope is not None and a.get("site") not in scope):
            continue
        subject = f"{a['subject_type']} {a['subject_id']}" if a.get("subject_type") else ""
        impact = a.get("expected_impact")
        rows.append(
            {
                "id": a["id"],
                "title": a["title"],
                "owner": a["owner"],
                "due": a["due"],
                "status": a["status"],
                "overdue": "overdue" if a["due"] and a["due"] < today else "",
                "expected_impact": None if impact is None else Decimal(impact),
                "site": a.get("site"),
                "subject": subject,
                "description": a.get("description") or "",
            }
        )
    rows.sort(key=lambda r: (r["due"] or dt.date.max, r["id"]))
    return Section(
        "actions",
        "Actions",
        f"Actions open or in progress in the app database; overdue as of {today.isoformat()}.",
        pl.DataFrame(rows, schema=ACTION_SCHEMA, orient="row"),
        ACTION_COLUMNS,
        "No open actions recorded.",
    )
