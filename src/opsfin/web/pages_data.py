"""What each page shows, gathered from queries.py (engine rows limited to the caller's grant).

A page's filters are a `View`: the month (`period=YYYY-MM`, default the latest month with data) and an
optional site (`site=P1`). Builders return plain dicts for the templates; each section that fails
carries its error message instead of its rows, so a page shows an error state, not a 500."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from ..alerts.model import SEVERITY_ORDER
from ..core.periods import add_months, parse_month
from ..errors import UserError, api_name
from ..present.kpi_figures import part_headers, part_text
from . import charts, kpi_context, names, plant_view, queries
from .authz import Grant
from .problems import Problem
from .results import Results

# which dimension a KPI drills into next (first one the KPI carries)
DRILL_CHAIN = ("site", "work_center", "machine")
# the split a variance category drills into by default (docs/variances.md "Splits")
CATEGORY_SPLIT = {
    "sales_price": "product",
    "sales_mix": "product",
    "sales_quantity": "product",
    "material_price": "supplier",
    "invoice_price": "supplier",
    "material_usage": "product",
    "scrap": "product",
    "labor_rate": "work_center",
    "labor_efficiency": "work_center",
    "energy_price": "work_center",
    "energy_usage": "machine",
    "var_overhead_spending": "work_center",
    "var_overhead_efficiency": "work_center",
    "fixed_overhead_spending": "work_center",
    "production_volume": "work_center",
}
# splits whose members the source rows do not carry (docs/variances.md: scrap's source rows are closed orders,
# invoice price's are invoice GL lines, energy price's are the bills of a work centre): their members link
# to every source row of the category instead of one member's
UNFILTERABLE = {
    ("scrap", "work_center"),
    ("scrap", "machine"),
    ("scrap", "shift"),
    ("invoice_price", "product"),
    ("energy_price", "machine"),
}


@dataclass(frozen=True)
class View:
    period: dt.date  # first day of the month shown
    site: str | None  # the site filter (None: every site the grant allows)
    months: tuple[dt.date, ...]

    @property
    def month(self) -> str:
        return self.period.strftime("%Y-%m")

    @property
    def start(self) -> str:
        return self.period.isoformat()

    @property
    def end(self) -> str:
        return (add_months(self.period, 1) - dt.timedelta(days=1)).isoformat()

    def trailing(self, n: int = 12) -> list[dt.date]:
        return [add_months(self.period, -i) for i in range(n - 1, -1, -1)]

    def query(self, **extra: Any) -> str:
        """The query string of this view plus `extra` (None values dropped), for links that keep filters."""
        params = {"period": self.month, "site": self.site} | extra
        return urlencode({k: v for k, v in params.items() if v not in (None, "")}, doseq=True)


def make_view(results: Results, grant: Grant, period: str | None, site: str | None) -> View:
    """Parse and check the filters; 400 for a malformed month or an unknown site, 403 for a site outside scope."""
    months = tuple(results.months())
    if period:
        try:
            first = parse_month(period)
        except UserError as exc:
            raise Problem(400, str(exc)) from None
        if first.year not in queries.YEARS:
            raise Problem(
                400,
                f"period {period!r} is out of range: give a month in the years {queries.YEARS[0]}–{queries.YEARS[-1]}",
            )
    else:
        first = months[-1] if months else dt.date.today().replace(day=1)
    site = site or None
    if site is not None:
        if site not in results.site_map().sites:
            raise Problem(
                400,
                f"site {site!r}: unknown site; choose one of {', '.join(results.site_map().sites)}",
            )
        grant.site_filter([site])
    return View(first, site, months)


def attempt(fn, *args, **kw) -> tuple[Any, str | None]:
    """(result, None), or (None, the error message) for a user-facing error: a section's error state."""
    try:
        return fn(*args, **kw), None
    except Problem as exc:
        return None, exc.detail
    except UserError as exc:  # worded for the web: parameters as the filters' names (from, to)
        return None, exc.phrase(api_name)


def overlaps(alert: dict, view: View) -> bool:
    return alert["period_start"] <= view.end and alert["period_end"] >= view.start


def link(path: str, view: View, **extra: Any) -> str:
    return f"{path}?{view.query(**extra)}"


# ---------------------------------------------------------------- overview
def band_text(guardrails, kpi) -> str:
    from ..alerts.model import fmt_value

    out = []
    for g in guardrails:
        if g.kpi != kpi.id:
            continue
        lo = fmt_value(g.min, kpi.unit) if g.min is not None else None
        hi = fmt_value(g.max, kpi.unit) if g.max is not None else None
        band = f"{lo} – {hi}" if lo and hi else f"≥ {lo}" if lo else f"≤ {hi}"
        per = f" per {', '.join(g.by).replace('_', ' ')}" if g.by else ""
        out.append(band + per)
    return "; ".join(out)


def kpi_text(value: Any, unit: str, currency: str) -> str:
    """A KPI value as the alerts write it (fmt_value), with the base currency on money."""
    from ..alerts.model import fmt_value

    text = fmt_value(None if value is None else float(value), unit)
    return f"{currency} {text}" if unit == "money" and value is not None else text


def tile_kpis(results: Results, grant: Grant, view: View) -> tuple[list[str], tuple]:
    """The KPIs of the overview's tiles and the filter of their series (`Results.prefetch_kpis`)."""
    catalog = results.catalog()
    ids = [e["id"] for e in queries.catalog_rows(results, grant) if not view.site or "site" in catalog[e["id"]].dims]
    return ids, (("site", (view.site,)),) if view.site else ()


def kpi_tiles(results: Results, grant: Grant, view: View, period_alerts: list[dict]) -> list[dict]:
    """A tile per KPI of the catalog the grant sees (one that carries a site when the view has one)."""
    catalog = results.catalog()
    currency = results.ws.settings.base_currency
    guardrails = results.guardrails()
    tiles = []
    # the money KPIs against the budget of the month: the company's, so not in a site's view
    budgets, _budget_error = (
        attempt(results.kpi_budgets, view.period) if not (grant.scoped or view.site) else ({}, None)
    )
    if not grant.scoped:  # every tile's series in few queries (a scoped user's filter is kpi_rows' to set)
        results.prefetch_kpis(*tile_kpis(results, grant, view))
    for entry in queries.catalog_rows(results, grant):
        kpi = catalog[entry["id"]]
        if view.site and "site" not in kpi.dims:
            continue  # a company-level KPI says nothing about one site
        where = {"site": [view.site]} if view.site else {}
        rows, error = attempt(queries.kpi_rows, results, grant, kpi.id, "month", [], where)
        series = {r["period_start"]: r["value"] for r in rows or []}
        value = series.get(view.period)
        severities = sorted((a["severity"] for a in period_alerts if a["kpi"] == kpi.id), key=SEVERITY_ORDER.get)
        band = band_text(guardrails, kpi)
        status = severities[0] if severities else ("ok" if band and value is not None else "none")
        spark = [None if series.get(m) is None else float(series[m]) for m in view.trailing(12)]
        bands = kpi_context.exact_first(kpi_context.applicable(guardrails, kpi.id, where), where)
        tiles.append(
            kpi_context.tile_context(
                kpi, series, view.period, bands, currency, (budgets or {}).get((kpi.id, view.period))
            )
            | {
                "id": kpi.id,
                "name": kpi.name,
                "unit": kpi.unit,
                "direction": kpi.direction,
                "value": value,
                "text": kpi_text(value, kpi.unit, currency),
                "band": band,
                "status": status,
                "alerts": len(severities),
                "error": error,
                "spark": charts.sparkline(spark),
                "url": link(f"/kpis/{kpi.id}", view),
                "no_data": error is None and value is None and all(v is None for v in spark),
            }
        )
    return tiles


def overview(results: Results, grant: Grant, view: View, db, today: dt.date | None = None) -> dict:
    _prefetch_series(results, grant, view)
    alerts, alerts_error = attempt(queries.alert_rows, results, grant, None, None, view.site)
    period_alerts = [a for a in alerts or [] if overlaps(a, view)]
    top = sorted(period_alerts, key=lambda a: (SEVERITY_ORDER.get(a["severity"], 9), a["period_start"]))[:8]
    overdue = queries.visible_actions(grant, db.overdue_actions(today or dt.date.today()))
    if view.site:
        overdue = [a for a in overdue if a.get("site") == view.site]
    tiles = kpi_tiles(results, grant, view, period_alerts)
    # a plant without sales is shown what applies to a plant instead of a gross margin (web/plant_view.py)
    plant = None
    if plant_view.plant_sites(grant, view) and any(t["id"] == "revenue" and t["no_data"] for t in tiles):
        tiles = [t for t in tiles if t["id"] not in plant_view.SALES_TILES]
        plant = {"sites": plant_view.plant_sites(grant, view), "url": link("/plant", view)}  # its own page: costing
    # a KPI without a value in the last twelve months at the view's sites (a plant has no sales, no picks)
    # is named in one line instead of an empty tile
    return {
        "plant": plant,
        "tiles": [t for t in tiles if not t["no_data"]],
        "no_data": [t for t in tiles if t["no_data"]],
        "alerts": top,
        "alert_count": len(period_alerts),
        "alerts_error": alerts_error,
        "overdue": overdue,
    }


def _prefetch_series(results: Results, grant: Grant, view: View) -> None:
    """The KPI series the alerts and the tiles read, in one batch (kpis/batch.py): a source read by both (the
    general ledger, shipments, machine readings…) is read once per grain and split. A failure is left to the
    sections, which compute their series again and show their own error."""
    from ..kpis.batch import Ask

    try:
        asks = list(results.alert_asks())
        if not grant.scoped:
            ids, where = tile_kpis(results, grant, view)
            asks += [Ask(k, "month", (), where) for k in ids]
        results.kpi_series(asks)
    except Exception:  # noqa: BLE001 - an accelerator only: the sections compute again and show their own error
        return


def warm_overview(results: Results) -> None:
    """Fill the cache with what the overview and the main pages of the latest month need (every site)."""
    from types import SimpleNamespace

    grant = Grant(SimpleNamespace(name="warm-up", role="admin", sites=None), "read", None)
    with results.warehouse_held():
        view = make_view(results, grant, None, None)
        overview(results, grant, view, SimpleNamespace(overdue_actions=lambda today: []))
        operations(results, grant, view)
        variances(results, grant, view)
        unit_economics(results, grant, view, "product")


# ---------------------------------------------------------------- KPI drill-down
def kpi_detail(
    results: Results,
    grant: Grant,
    view: View,
    kpi_id: str,
    by: str | None,
    where: dict[str, list[str]],
) -> dict:

    kpi = queries.kpi_definition(results, kpi_id)
    where = dict(where)
    # the view's site, or a one-site user's plant: the split starts below the site level
    one_site = view.site or (next(iter(grant.sites)) if grant.sites is not None and len(grant.sites) == 1 else None)
    if one_site and "site" in kpi.dims:
        where.setdefault("site", [one_site])
    chain = [d for d in DRILL_CHAIN if d in kpi.dims]
    if by is None:  # the next level of the drill chain, else any dimension not yet filtered (a cost centre…)
        by = next((d for d in chain if d not in where), None) or next(
            (d for d in sorted(kpi.dims) if d not in where), None
        )
    trend_rows, trend_error = attempt(queries.kpi_rows, results, grant, kpi.id, "month", [], where)
    split_rows, split_error = ([], None)
    if by:
        split_rows, split_error = attempt(
            queries.kpi_rows, results, grant, kpi.id, "month", [by], where, view.start, view.end
        )
    nxt = None
    if by in chain and chain.index(by) + 1 < len(chain):
        nxt = chain[chain.index(by) + 1]
    members = []
    for r in split_rows or []:
        member = r[by]
        drill_where = [f"{d}={','.join(v)}" for d, v in where.items() if d != by] + [f"{by}={member}"]
        url = link(f"/kpis/{kpi.id}", view, by=nxt, where=drill_where) if nxt else None
        members.append(
            {
                "member": member,
                "value": r["value"],
                "numerator": r["numerator"],
                "denominator": r["denominator"],
                "numerator_text": part_text(kpi.id, "numerator", r["numerator"]),
                "denominator_text": part_text(kpi.id, "denominator", r["denominator"]),
                "text": kpi_text(r["value"], kpi.unit, results.ws.settings.base_currency),
                "url": url,
            }
        )
    months = set(view.trailing(24))
    trend = [(r["period_start"], r["value"]) for r in trend_rows or [] if r["period_start"] in months]
    unit = results.ws.settings.base_currency if kpi.unit == "money" else "" if kpi.unit == "ratio" else kpi.unit
    bands = kpi_context.applicable(results.guardrails(), kpi.id, where)
    chart = (
        charts.lines(
            f"{kpi.name} by month",
            {kpi.name: trend},
            percent=kpi.unit == "ratio",
            unit=unit,
            bands=kpi_context.chart_bands(bands, kpi.unit),
        )
        if trend
        else None
    )
    other_dims = sorted(d for d in kpi.dims if d != by and d not in where)
    numerator_header, denominator_header = part_headers(kpi.id, results.ws.settings.base_currency)
    return {
        "numerator_header": numerator_header,
        "denominator_header": denominator_header,
        "kpi": kpi,
        "by": by,
        "where": where,
        "members": members,
        "chart": chart,
        "next": nxt,
        "trend_error": trend_error,
        "split_error": split_error,
        "other_dims": other_dims,
    }


# ---------------------------------------------------------------- operations
def operations(results: Results, grant: Grant, view: View) -> dict:
    sites = results.site_map()
    where = {"site": [view.site]} if view.site else {}
    heat: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for kpi in ("oee", "capacity_utilization"):
        rows, error = attempt(queries.kpi_rows, results, grant, kpi, "month", ["work_center", "shift"], where)
        if error:
            errors[kpi] = error
            continue
        rows = [r for r in rows if r["period_start"] == view.period]
        lines_ = sorted({r["work_center"] for r in rows})
        shifts = sorted(
            {sites.shift_names.get(r["shift"], r["shift"]) for r in rows},
            key=lambda s: ["Early", "Day", "Late", "Night"].index(s) if s in ("Early", "Day", "Late", "Night") else 9,
        )
        values, links = {}, {}
        for r in rows:
            cell = (r["work_center"], sites.shift_names.get(r["shift"], r["shift"]))
            values[cell] = None if r["value"] is None else float(r["value"])
            links[cell] = link(
                f"/kpis/{kpi}",
                view,
                by="machine",
                where=[f"work_center={r['work_center']}", f"shift={r['shift']}"],
            )
        title = "OEE" if kpi == "oee" else "Capacity utilization"
        heat[kpi] = (
            charts.heatmap(f"{title} by line and shift, {view.month}", lines_, shifts, values, links) if rows else None
        )
    bottlenecks, b_error = attempt(queries.bottleneck_rows, results, grant, "month", None, None, view.site)

    def machines(work_center: str | None) -> str | None:
        return (
            link(
                "/kpis/capacity_utilization",
                view,
                by="machine",
                where=[f"work_center={work_center}"],
            )
            if work_center
            else None
        )

    bottlenecks = [
        dict(
            b,
            url=link("/kpis/capacity_utilization", view, by="work_center", where=[f"site={b['site']}"]),
            wc_url=machines(b["work_center"]),
            runner_up_url=machines(b.get("runner_up")),
        )
        for b in bottlenecks or []
        if b["period_start"] == view.period
    ]
    trend_rows, t_error = attempt(queries.kpi_rows, results, grant, "throughput_per_hour", "month", ["site"], where)
    months = set(view.trailing(12))
    series: dict[str, list] = {}
    for r in trend_rows or []:
        if r["period_start"] in months:
            series.setdefault(r["site"], []).append((r["period_start"], r["value"]))
    trend = (
        charts.lines(
            "Throughput (good units per run hour) by site",
            series,
            {s: link("/kpis/throughput_per_hour", view, by="work_center", where=[f"site={s}"]) for s in series},
            unit="units/h",
        )
        if series
        else None
    )
    return {
        "heat": heat,
        "errors": errors,
        "bottlenecks": bottlenecks,
        "bottleneck_error": b_error,
        "trend": trend,
        "trend_error": t_error,
    }


# ---------------------------------------------------------------- unit economics
UE_LABELS = {
    "product_id": "product",
    "site_id": "selling site",
    "shift_id": "shift",
    "customer_id": "customer",
    "variable_overhead": "variable overhead",
    "fixed_overhead": "fixed overhead",
    "unit_cost": "unit cost",
    "contribution_margin": "contribution margin",
    "cm_per_unit": "CM per unit",
    "cm_ratio": "CM ratio",
}
UE_MONEY = {
    "revenue",
    "material",
    "labor",
    "energy",
    "variable_overhead",
    "fixed_overhead",
    "unit_cost",
    "contribution_margin",
    "cm_per_unit",
}


# the columns a footing adds up (per-unit figures and the CM ratio do not add)
UE_TOTALS = ("revenue", "material", "labor", "energy", "variable_overhead", "fixed_overhead", "contribution_margin")


def unit_economics(results: Results, grant: Grant, view: View, by: str, product: str | None = None) -> dict:
    rows, error = attempt(queries.unit_economics_rows, results, grant, by, view.start, view.end, "product", view.site)
    rows = rows or []
    if product:
        rows = [r for r in rows if r.get("product_id") == product]
    # the ranking follows "By": the rows of the table, each group named by its members (`FG-001 · Early`)
    keys = [c for c in (rows[0].keys() if rows else []) if c.endswith("_id")]
    every = names.member_names(results) if rows else {}
    known = {k: every.get(names.dimension_of(k) or "", {}) for k in keys}
    top = sorted(rows, key=lambda r: r["contribution_margin"], reverse=True)[:15]
    chart = (
        charts.bars(
            f"Contribution margin ranking by {by.replace(',', ' and ')}, {view.month}",
            [" · ".join(names.with_name(r[k], known.get(k, {}).get(str(r[k]))) for k in keys) for r in top],
            [r["contribution_margin"] for r in top],
            [
                link("/unit-economics", view, by="product,shift", product=r["product_id"])
                if "product_id" in r and "shift_id" not in r
                else ""
                for r in top
            ],
            unit=results.ws.settings.base_currency,
        )
        if top
        else None
    )
    currency = results.ws.settings.base_currency
    columns = [c for c in (rows[0].keys() if rows else []) if c != "cost_basis"]
    labels = {c: UE_LABELS.get(c, c.replace("_", " ")) + (f" ({currency})" if c in UE_MONEY else "") for c in columns}
    totals = {c: sum((r[c] for r in rows if r[c] is not None), Decimal(0)) for c in UE_TOTALS if c in columns}
    if "units" in columns:
        totals["units"] = sum(r["units"] or 0 for r in rows)
    return {"rows": rows, "error": error, "chart": chart, "columns": columns, "labels": labels, "totals": totals}


# ---------------------------------------------------------------- variances
def variances(results: Results, grant: Grant, view: View, category: str | None = None, by: str | None = None) -> dict:
    """The bridge of the month as a waterfall; with `category`, its split by `by`."""
    from ..costing.variance import DRILL

    if category is not None and category not in DRILL:
        raise Problem(
            400,
            f"category {category!r}: unknown variance category; choose one of {', '.join(DRILL)}",
        )
    limited = grant.scoped or view.site is not None
    out: dict[str, Any] = {"limited": limited, "category": category}
    if limited:
        rows, error, steps, title = _site_bridge(results, grant, view, out)
    else:
        rows, error, steps, title = _company_bridge(results, grant, view, out)
    out["error"] = error
    currency = results.ws.settings.base_currency
    out["chart"] = charts.waterfall(title, steps, unit=currency) if rows else None
    if category:
        split_by = by or ("work_center" if limited else CATEGORY_SPLIT.get(category))
        if split_by:
            out |= _category_split(results, grant, view, category, split_by, limited)
        out["rows_url"] = link("/variances/rows", view, category=category)
    return out


def _month_split(results: Results, grant: Grant, view: View, split_by: str) -> tuple[Any, str | None]:
    """The view month's variance rows split by `split_by` (within the view's site), or the error."""
    return attempt(queries.variance_rows, results, grant, view.month, view.month, None, split_by, site=view.site)


def _site_bridge(results: Results, grant: Grant, view: View, out: dict[str, Any]) -> tuple:
    """The site's part of the bridge: the work-centre split of every category, summed per category.
    Fills `out` (bridge, site_total); returns (rows, error, waterfall steps, title)."""
    from ..costing.variance_by_site import site_bridge

    rows, error = _month_split(results, grant, view, "work_center")
    sites = results.site_map() if rows else None
    wanted = grant.site_filter([view.site] if view.site else None) if rows else None
    part = site_bridge(
        rows or [],
        "work_center",
        lambda member: sites.site_of("work_center", member),
        wanted or (),
    )
    steps: list[tuple[str, Any, str, str]] = [
        (c, a, "relative", link("/variances", view, category=c, by="work_center")) for c, a in part.categories.items()
    ]
    steps.append(("site total", part.total, "total", ""))
    title = f"Manufacturing variances of {view.site or ', '.join(sorted(grant.sites or []))}, {view.month}"
    out["bridge"] = [{"category": c, "amount": a, "url": u} for c, a, _, u in steps[:-1]]
    out["site_total"] = part.total
    return rows, error, steps, title


def _company_bridge(results: Results, grant: Grant, view: View, out: dict[str, Any]) -> tuple:
    """The company's gross margin bridge, static budget GM → the variance categories → actual GM.
    Fills `out` (bridge, total, budget, actual); returns (rows, error, waterfall steps, title)."""
    rows, error = attempt(queries.variance_rows, results, grant, view.month, view.month)
    bridge = [r for r in rows or [] if r["category"] != "total"]
    total = next((r["amount"] for r in rows or [] if r["category"] == "total"), None)
    ends, _ = attempt(results.variance_summary, view.month, view.month) if rows else (None, None)
    actual = ends["actual_gm"] if ends else None
    budget = ends["static_budget_gm"] if ends else None
    parts = [
        {
            "category": r["category"],
            "amount": r["amount"],
            "url": link("/variances", view, category=r["category"], by=CATEGORY_SPLIT.get(r["category"])),
        }
        for r in bridge
    ]
    steps = [("static budget GM", budget, "absolute", "")] if budget is not None else []
    steps += [(p["category"], p["amount"], "relative", p["url"]) for p in parts]
    if budget is not None:
        steps.append(("actual GM", actual, "total", link("/kpis/gross_margin", view)))
    title = f"Gross margin bridge, budget → actual, {view.month}"
    out |= {"bridge": parts, "total": total, "budget": budget, "actual": actual}
    return rows, error, steps, title


def _category_split(
    results: Results, grant: Grant, view: View, category: str, split_by: str, limited: bool
) -> dict[str, Any]:
    """A category's members by `split_by`, smallest amount first, each linked to its source rows."""
    split, split_error = _month_split(results, grant, view, split_by)
    members = [r for r in split or [] if r["category"] == category]
    members.sort(key=lambda r: r["amount"])
    for r in members:
        if (category, split_by) not in UNFILTERABLE:
            r["url"] = link("/variances/rows", view, category=category, by=split_by, member=r[split_by])
        else:  # a site-limited view may not see every row of the category
            r["url"] = None if limited else link("/variances/rows", view, category=category)
    return {
        "split_by": split_by,
        "members": members,
        # the footing of the table: the members add up to the category (docs/variances.md "Splits")
        "split_total": sum((r["amount"] for r in members), Decimal(0)) if members else None,
        "split_error": split_error,
        "split_chart": charts.bars(
            f"{category} by {split_by}, {view.month}",
            [str(r[split_by]) for r in members[:25]],
            [r["amount"] for r in members[:25]],
            [r["url"] or "" for r in members[:25]],
            unit=results.ws.settings.base_currency,
        )
        if members
        else None,
    }


def variance_source_rows(
    results: Results,
    grant: Grant,
    view: View,
    category: str,
    by: str | None,
    member: str | None,
    limit: int = 200,
) -> dict:
    month = view.month
    from ..costing.variance import CATEGORIES

    rows, error = attempt(
        queries.variance_rows, results, grant, month, month, by=by, drill=category, member=member, site=view.site
    )
    money = None
    if rows is not None and category in CATEGORIES:  # each row's money, footed to the category (or member)
        money, error = attempt(
            results.variance_row_money, category=category, start=month, end=month, by=by, member=member
        )
        rows = money["rows"] if money else None
    rows = rows or []
    return {
        "rows": rows[:limit],
        "all_rows": rows,  # for the download (downloads.py)
        "count": len(rows),
        "error": error,
        "columns": list(rows[0].keys()) if rows else [],
        "row_amount": money["amount"] if money else None,
        "unplaced": money["unplaced"] if money else None,
        "rows_total": sum((r["contribution"] for r in rows), Decimal(0)) if money else None,
    }
