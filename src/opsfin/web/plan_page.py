"""What the Plan page shows (docs/web.md "Plan"), gathered for one caller: the versions with the approval
steps the caller may take, and for the version shown its P&L against the budget, the actuals and the latest
rolling forecast, the utilization of each work centre, and the balances and cash.

Every figure comes from the plan tables as `opsfin plan show` reads them (runs/plan_show.py), the P&L of a
budget without stored rows and the books' P&L as `plan show --vs` computes them (runs/planning.compute_pnl),
and the demand forecast's P10–P90 band as the Forecast page reads it (runs/forecast_accuracy.py).

Site scope: a P&L row, a work centre and a forecast member are kept when their site is visible (the grant's
sites, or the site filter); rows without a site (opex of company cost centres, work in process) and the
balances and cash (company-wide, no site) are for users who see every site, with a note for the others."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from ..appdb.plans import CHECKERS, WRITERS
from ..canonical.tables import PLAN_PNL_LINES
from ..planning.balances import ROLES as BALANCE_ROLES
from ..planning.volumes import ACTUAL

CHART_LINES = ("revenue", "gross_margin", "opex", "operating_income")
VOLUMES_OPTION = re.compile(r"--volumes (\S+)")


@dataclass
class PlanFigures:
    """The numbers of one version as the caller may see them; `notes` say what was left out and why."""

    budget: str | None = None
    forecast: str | None = None
    demand: str | None = None
    pnl_lines: list[dict[str, Any]] = field(default_factory=list)
    pnl_months: list[dict[str, Any]] = field(default_factory=list)
    budget_months: list[dt.date] = field(default_factory=list)
    series: dict[str, dict[str, list[tuple[dt.date, Decimal]]]] = field(default_factory=dict)
    band: list[dict[str, Any]] = field(default_factory=list)
    capacity: pl.DataFrame | None = None
    balances: list[dict[str, Any]] = field(default_factory=list)
    cash: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- versions and the steps a user may take
def allowed_steps(user: Any, row: dict[str, Any]) -> list[str]:
    """The approval steps `user` may take on version `row` now, as appdb/plans.py decides them: a viewer
    and a site-scoped user none; the submitter is not offered approve (maker-checker)."""
    if user is None or getattr(user, "sites", None) is not None or getattr(user, "disabled", False):
        return []
    status, role = row["status"], user.role
    steps = []
    if status == "draft" and role in WRITERS:
        steps.append("submit")
    if status == "submitted" and role in CHECKERS:
        if row.get("submitted_by") != user.name:
            steps.append("approve")
        steps.append("reject")
    if status == "approved" and role in CHECKERS:
        steps.append("archive")
    return steps


def with_plan_rows(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in versions if "plan_pnl" in v["tables"]]


def default_version(versions: list[dict[str, Any]]) -> str | None:
    """The version `/plan` shows: the latest created that holds plan rows (by name when none was created)."""
    built = with_plan_rows(versions)
    if not built:
        return None
    return max(built, key=lambda v: (str(v["created_at"] or ""), v["name"]))["name"]


def budget_candidates(version: dict[str, Any], versions: list[dict[str, Any]]) -> list[str]:
    """The budgets `version` may be compared with, best first: its `based_on` when that is a budget holding
    plan rows or volumes; then the budget-kind versions (not itself) that are approved, then built, then newest by name.
    The page takes the first that covers one of the version's months."""
    by_name = {v["name"]: v for v in versions}
    base = by_name.get(version.get("based_on") or "")
    first = (
        [base["name"]]
        if base and base["kind"] == "budget" and {"plan_pnl", "volume_plan"} & set(base["tables"])
        else []
    )  # a rolling forecast is based on its demand forecast, which is no budget
    candidates = [
        v
        for v in versions
        if v["kind"] == "budget" and v["name"] != version["name"] and {"plan_pnl", "volume_plan"} & set(v["tables"])
    ]
    ranked = sorted(
        candidates, key=lambda v: (v["status"] == "approved", "plan_pnl" in v["tables"], v["name"]), reverse=True
    )
    return first + [v["name"] for v in ranked if v["name"] not in first]


def latest_forecast(versions: list[dict[str, Any]]) -> str | None:
    """The newest forecast-kind version with plan rows (by as_of, then name: fc-2025-06 after fc-2025-05)."""
    forecasts = [v for v in with_plan_rows(versions) if v["kind"] == "forecast"]
    if not forecasts:
        return None
    return max(forecasts, key=lambda v: (v["as_of"] or dt.date.min, v["name"]))["name"]


def demand_of(load_sources: list[str]) -> str | None:
    """The volumes a plan version was built from, as its load's source names them (`--volumes NAME`)."""
    for source in load_sources:
        found = VOLUMES_OPTION.search(source or "")
        if found and found.group(1) != ACTUAL:
            return found.group(1)
    return None


# ---------------------------------------------------------------- site scope
def visible_pnl(frame: pl.DataFrame, sites: list[str] | None) -> pl.DataFrame:
    """P&L rows by site limited to `sites` (None: every row, the rows without a site included)."""
    if sites is None or frame.is_empty():
        return frame
    return frame.filter(pl.col("site_id").is_in(sites))


def by_month_line(frame: pl.DataFrame) -> dict[tuple[dt.date, str], Decimal]:
    """(month, line) -> Σ amount over the sites."""
    out: dict[tuple[dt.date, str], Decimal] = {}
    for period, line, amount in frame.select("period", "line", "amount").iter_rows():
        out[(period, line)] = out.get((period, line), Decimal(0)) + amount
    return out


# ---------------------------------------------------------------- tables
def pnl_line_rows(
    mine: dict[tuple[dt.date, str], Decimal],
    budget: dict[tuple[dt.date, str], Decimal] | None,
    months: list[dt.date],
) -> list[dict[str, Any]]:
    """One row per P&L line over `months`: plan, budget, variance (plan − budget) and variance ÷ |budget|."""
    rows = []
    for line in PLAN_PNL_LINES:
        plan = sum((mine.get((m, line), Decimal(0)) for m in months), Decimal(0))
        row: dict[str, Any] = {"line": line, "plan": plan, "budget": None, "variance": None, "ratio": None}
        if budget is not None:
            planned = sum((budget.get((m, line), Decimal(0)) for m in months), Decimal(0))
            row |= {"budget": planned, "variance": plan - planned}
            row["ratio"] = float((plan - planned) / abs(planned)) if planned else None
        rows.append(row)
    return rows


def pnl_month_rows(mine: dict[tuple[dt.date, str], Decimal], months: list[dt.date]) -> list[dict[str, Any]]:
    """One row per month with a column per P&L line, and a total row (`period` None)."""
    rows = [{"period": m} | {line: mine.get((m, line), Decimal(0)) for line in PLAN_PNL_LINES} for m in months]
    total = {"period": None} | {line: sum((r[line] for r in rows), Decimal(0)) for line in PLAN_PNL_LINES}
    return [*rows, total] if rows else []


def role_rows(frame: pl.DataFrame, total: bool) -> list[dict[str, Any]]:
    """plan_balances rows (period, role, amount) as one row per month with a column per role (the engine's
    order); with `total`, a row (`period` None) summing each role over the months (flows, not balances)."""
    if frame.is_empty():
        return []
    roles = [r for r in BALANCE_ROLES if r in set(frame["role"])]
    roles += sorted(set(frame["role"]) - set(roles))
    months = sorted(set(frame["period"]))
    values = {(p, r): a for p, r, a in frame.select("period", "role", "amount").iter_rows()}
    rows = [{"period": m, "roles": {r: values.get((m, r)) for r in roles}} for m in months]
    if total:
        sums = {r: sum((values.get((m, r)) or Decimal(0) for m in months), Decimal(0)) for r in roles}
        rows.append({"period": None, "roles": sums})
    return rows


def capacity_cells(frame: pl.DataFrame, site_of: dict[str, str | None], sites: list[str] | None) -> pl.DataFrame:
    """plan_capacity rows of the work centres at `sites` (None: all), with their site."""
    if frame.is_empty():
        return frame
    frame = frame.with_columns(site_id=pl.col("work_center_id").replace_strict(site_of, default=None))
    if sites is not None:
        frame = frame.filter(pl.col("site_id").is_in(sites))
    return frame.sort("work_center_id", "period")


def overloads(capacity: pl.DataFrame | None) -> list[dict[str, Any]]:
    """The cells over 100 %: work centre, month, required, available, utilization, overtime."""
    if capacity is None or capacity.is_empty():
        return []
    return capacity.filter(pl.col("utilization") > 1).sort("period", "work_center_id").to_dicts()


# ---------------------------------------------------------------- reading one version's figures
def _cached(results: Any, key: tuple, compute: Any) -> Any:
    return results.cache.get(("plan_page", *key), compute)


def _pnl_of(results: Any, name: str, months: list[dt.date], stored: bool) -> pl.DataFrame:
    """The P&L rows by site of a version: its stored rows, or (a budget never built) computed from its
    volumes over the months it covers, as `opsfin plan show --vs` does."""
    from ..runs.plan_show import stored_rows
    from ..runs.planning import compute_pnl, source_span
    from ..runs.tables import reading_tables

    ws = results.ws
    if stored:
        return _cached(results, ("stored", name, "pnl"), lambda: stored_rows(ws, name, "pnl"))

    def compute() -> pl.DataFrame:
        with reading_tables(ws) as t:
            first, last = source_span(t, name)
        covered = [m for m in months if first <= m <= last]
        return compute_pnl(ws, name, covered) if covered else pl.DataFrame()

    return _cached(results, ("computed", name, tuple(months)), compute)


def _demand_band(results: Any, demand: str, months: list[dt.date], sites: list[str] | None) -> list[dict[str, Any]]:
    """The demand forecast's P10–P90 band on units shipped, with the actual shipments: the company total
    for a user who sees every site, else one series per visible site (a sum of P10s is no P10)."""
    from ..runs.forecast_accuracy import arrived, stored_forecasts, within_sites

    ws = results.ws
    values = _cached(results, ("forecast_values", demand), lambda: stored_forecasts(ws, [demand]))
    data = _cached(results, ("arrived",), lambda: arrived(ws))
    level = "total" if sites is None else "site"
    mine = within_sites(values[values["level"] == level], sites)
    seen = within_sites(data.actuals[data.actuals["level"] == level], sites)
    first = months[0] if months else dt.date.min
    out = []
    for key, part in mine.groupby("key", sort=True):
        shipped = seen[seen["key"] == key]
        out.append(
            {
                "key": "all sites" if level == "total" else key,
                "actuals": [
                    (d.date().replace(day=1), float(y))
                    for d, y in zip(shipped["ds"], shipped["y"], strict=True)
                    if d.date() >= first
                ],
                "forecast": [
                    (r.ds.date().replace(day=1), float(r.p10), float(r.p50), float(r.p90))
                    for r in part.sort_values("ds").itertuples(index=False)
                ],
            }
        )
    return out


def _pick_budget(
    results: Any, version: dict[str, Any], versions: list[dict[str, Any]], months: list[dt.date]
) -> tuple[str | None, pl.DataFrame, list[dt.date]]:
    """The first of `budget_candidates` that covers one of `months`, with its P&L rows by site and the months
    it covers (else the first candidate, covering none; None without a candidate)."""
    by_name = {v["name"]: v for v in versions}
    chosen: tuple[str | None, pl.DataFrame, list[dt.date]] = (None, pl.DataFrame(), [])
    for candidate in budget_candidates(version, versions):
        rows = _pnl_of(results, candidate, months, "plan_pnl" in by_name[candidate]["tables"])
        covered = sorted(set(rows["period"]) & set(months)) if not rows.is_empty() else []
        if covered:
            return candidate, rows, covered
        if chosen[0] is None:
            chosen = (candidate, rows, [])
    return chosen


def plan_figures(
    results: Any, version: dict[str, Any], versions: list[dict[str, Any]], sites: list[str] | None
) -> PlanFigures:
    """The figures of `version` for a caller limited to `sites` (None: every site; module docstring)."""
    from ..runs.plan_show import stored_rows
    from ..runs.reads import load_history

    ws, name = results.ws, version["name"]
    out = PlanFigures(forecast=latest_forecast(versions))
    by_name = {v["name"]: v for v in versions}
    mine = visible_pnl(_pnl_of(results, name, [], True), sites)
    months = sorted(set(mine["period"])) if not mine.is_empty() else []
    plan = by_month_line(mine)
    budget = None
    out.budget, budget_rows, out.budget_months = _pick_budget(results, version, versions, months)
    budget_rows = visible_pnl(budget_rows, sites)
    if out.budget_months:  # a budget of other sites only counts 0 at the caller's
        budget = by_month_line(budget_rows) if not budget_rows.is_empty() else {}
    out.pnl_lines = pnl_line_rows(plan, budget, out.budget_months if budget is not None else months)
    out.pnl_months = pnl_month_rows(plan, months)
    closed = [m for m in months if m in set(results.months())]
    actual = visible_pnl(_pnl_of(results, ACTUAL, closed, False), sites) if closed else pl.DataFrame()
    forecast = (
        visible_pnl(_pnl_of(results, out.forecast, [], True), sites)
        if out.forecast and out.forecast != name
        else pl.DataFrame()
    )
    out.series = _series(
        {"actual": actual, f"budget {out.budget}": budget_rows}
        | {f"plan {name}": mine, f"latest forecast {out.forecast}": forecast}
    )
    if out.forecast:
        history = _cached(results, ("loads",), lambda: load_history(ws))
        sources = history.filter(pl.col("load_id").str.starts_with(f"PLAN-{out.forecast}-"))["source"].to_list()
        out.demand = demand_of(sources)
        if out.demand and "forecast_versions" in by_name.get(out.demand, {}).get("tables", []):
            out.band = _demand_band(results, out.demand, months, sites)
    site_of = results.site_map().members.get("work_center", {})
    capacity = _cached(results, ("stored", name, "capacity"), lambda: stored_rows(ws, name, "capacity"))
    out.capacity = capacity_cells(capacity, site_of, sites)
    if sites is None:
        for what in ("balances", "cash"):
            rows = _cached(results, ("stored", name, what), lambda what=what: stored_rows(ws, name, what))
            setattr(out, what, role_rows(rows, total=what == "cash"))
    return out


def _series(frames: dict[str, pl.DataFrame]) -> dict[str, dict[str, list[tuple[dt.date, Decimal]]]]:
    """line -> series name -> [(month, amount)], for the lines drawn per month; empty frames are left out."""
    out: dict[str, dict[str, list[tuple[dt.date, Decimal]]]] = {line: {} for line in CHART_LINES}
    for series, frame in frames.items():
        if frame.is_empty():
            continue
        values = by_month_line(frame)
        for line in CHART_LINES:
            points = sorted((m, a) for (m, ln), a in values.items() if ln == line)
            if points:
                out[line][series] = points
    return out
