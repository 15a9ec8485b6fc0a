"""What the Predict page shows (docs/web.md "Predict"), gathered for one caller: the machines ranked by
breakdown risk with their expected failure cost, planned maintenance cost and recommendation; one machine's
sensor trend with its breakdowns; the defect drivers with the cost they explain; and the roster as a grid by
employee and day with its coverage against demand and its cost against the baseline.

Every figure comes from the runs layer the CLI calls — `runs.predict.predict_maintenance` (`opsfin predict
maintenance`), `runs.predict.read_history` (the daily readings and maintenance events those models learn
from), `runs.predict_defects.predict_defects` (`opsfin predict defects`) and `runs.staffing.plan_staffing`
(`opsfin plan staffing`) — cached per warehouse load (web/cache.py). This module only picks rows and lays
them out.

Site scope: a machine's site is its work centre's; a roster row's site is its work centre's or team's (cost
centre); coverage rows carry their site. The defect model and the roster's cost are the company's (one model
over every inspection, one cost over every work centre), so they are shown to users who see every site."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..core.periods import parse_day
from ..errors import UserError
from . import charts

HORIZON_DAYS = 14  # as `opsfin predict maintenance`
ROSTER_WEEKS = 4  # as `opsfin plan staffing`
MAX_ROSTER_WEEKS = 8  # what `plan_staffing` accepts
WEB_TIME_LIMIT_S = 15.0  # the roster's CP-SAT time limit on the web (the CLI's default is 40 s)
TREND_DAYS = 90
BREAKDOWN = "#c62828"
PLANNED = "#2e7d32"
COST_KEYS = ("total", "regular", "overtime", "uncovered_hours", "idle_hours")


@dataclass(frozen=True)
class PredictForm:
    """The page's inputs, checked: the as-of day, the risk horizon and the roster's weeks."""

    as_of: dt.date
    horizon_days: int = HORIZON_DAYS
    weeks: int = ROSTER_WEEKS

    @property
    def roster_from(self) -> dt.date:
        """The roster starts the day after the as-of day."""
        return self.as_of + dt.timedelta(days=1)

    def params(self, **extra: Any) -> dict[str, Any]:
        """The query parameters that show this view again (for links and hidden form fields)."""
        base = {"as_of": self.as_of.isoformat(), "horizon_days": self.horizon_days, "weeks": self.weeks}
        return base | extra


def _count(query: dict[str, str | None], param: str, default: int, most: int, what: str) -> int:
    """A whole number of `what` from 1 to `most` (blank: `default`); a UserError naming `param` otherwise."""
    text = (query.get(param) or "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise UserError("{param} " + f"{text!r}: a whole number of {what}, 1 to {most}", param=param, value=text)
    if not 1 <= int(text) <= most:
        raise UserError("{param} " + f"{int(text)}: choose 1 to {most} {what}", param=param, value=text)
    return int(text)


def read_form(results: Any, query: dict[str, str | None]) -> PredictForm:
    """The page's form from the query string; the as-of day defaults to the last day of the machine
    readings and must lie within them. A malformed value is a UserError naming its parameter (400)."""
    from ..runs.predict import MAX_HORIZON_DAYS

    first, last = reading_span_of(results)
    as_of = parse_day(query.get("as_of") or None, "--as-of") or last
    if not first <= as_of <= last:
        raise UserError(
            "{param} " + f"{as_of}: outside the machine readings ({first} … {last})",
            param="as_of",
            value=str(as_of),
        )
    horizon = _count(query, "horizon_days", HORIZON_DAYS, MAX_HORIZON_DAYS, "days")
    return PredictForm(as_of, horizon, _count(query, "weeks", ROSTER_WEEKS, MAX_ROSTER_WEEKS, "weeks"))


# ---------------------------------------------------------------- the runs layer, cached
def reading_span_of(results: Any) -> tuple[dt.date, dt.date]:
    from ..runs.predict import reading_span

    return results.cache.get(("predict", "reading_span"), lambda: reading_span(results.ws))


def risk_of(results: Any, form: PredictForm) -> dict[str, Any]:
    """`opsfin predict maintenance --as-of … --horizon-days …` (its JSON as a dict)."""
    from ..runs.predict import predict_maintenance

    key = ("predict", "maintenance", form.as_of, form.horizon_days)
    return results.cache.get(key, lambda: predict_maintenance(results.ws, form.as_of, form.horizon_days))


def defects_of(results: Any, form: PredictForm) -> dict[str, Any]:
    """`opsfin predict defects --to AS_OF`: the drivers learned from every inspection up to the as-of day."""
    from ..runs.predict_defects import predict_defects

    key = ("predict", "defects", form.as_of)
    return results.cache.get(key, lambda: predict_defects(results.ws, None, form.as_of.isoformat()))


def roster_of(results: Any, form: PredictForm) -> dict[str, Any]:
    """`opsfin plan staffing --from AS_OF+1 --weeks … --time-limit 15` (its JSON as a dict)."""
    from ..runs.staffing import plan_staffing

    key = ("predict", "staffing", form.roster_from, form.weeks)
    start = form.roster_from.isoformat()
    return results.cache.get(key, lambda: plan_staffing(results.ws, start, form.weeks, None, WEB_TIME_LIMIT_S))


def history_of(results: Any, as_of: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(daily readings, maintenance events) up to the end of `as_of`, as the risk model reads them."""
    from ..runs.predict import read_history

    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    return results.cache.get(("predict", "history", as_of), lambda: read_history(results.ws, cutoff))


# ---------------------------------------------------------------- site scope
def unit_site(site_map: Any, unit: str | None) -> str | None:
    """The site of a roster's unit: a work centre, or a team's cost centre."""
    return site_map.site_of("work_center", unit) or site_map.site_of("cost_center", unit)


def visible(rows: list[dict[str, Any]], sites: list[str] | None, site_of: Any) -> list[dict[str, Any]]:
    """The rows whose site is among `sites` (None: every row)."""
    if sites is None:
        return rows
    wanted = set(sites)
    return [r for r in rows if site_of(r) in wanted]


# ---------------------------------------------------------------- machines
def machine_rows(risk: dict[str, Any], site_map: Any, sites: list[str] | None) -> list[dict[str, Any]]:
    """The engine's machines in its order (expected failure cost, highest first), of the visible sites,
    each with its site."""
    rows = [m | {"site_id": site_map.site_of("machine", m["machine_id"])} for m in risk["machines"]]
    return visible(rows, sites, lambda r: r["site_id"])


def risk_chart(machines: list[dict[str, Any]], link: Any) -> dict[str, Any]:
    """Expected failure cost beside planned maintenance cost per machine, in the table's order."""
    ids = [m["machine_id"] for m in machines]
    bar = {"type": "bar", "x": ids, "customdata": [link(i) for i in ids]}
    data = [
        bar | {"name": "expected failure cost", "y": [float(m["expected_failure_cost"]) for m in machines]},
        bar
        | {
            "name": "planned maintenance cost",
            "y": [
                None if m["planned_maintenance_cost"] is None else float(m["planned_maintenance_cost"])
                for m in machines
            ],
        },
    ]
    layout = charts._layout(
        "Expected failure cost against planned maintenance cost",
        height=340,
        barmode="group",
        xaxis={"type": "category"},
        yaxis={"title": {"text": "base currency"}, "tickformat": ",.0f"},
        legend={"orientation": "h"},
    )
    return {"data": data, "layout": layout}


def sensor_trend(
    daily: pl.DataFrame, events: pl.DataFrame, machine_id: str, as_of: dt.date, days: int = TREND_DAYS
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The machine's daily temperature and vibration over the `days` up to `as_of` (a line each, vibration on
    the right axis), its breakdowns marked as red dashed lines and planned maintenance as green dotted
    ones; and those events, oldest first."""
    first = as_of - dt.timedelta(days=days - 1)
    mine = daily.filter((pl.col("machine_id") == machine_id) & pl.col("day").is_between(first, as_of)).sort("day")
    start = dt.datetime.combine(first, dt.time())
    marked = events.filter((pl.col("machine_id") == machine_id) & (pl.col("start_at") >= start)).sort("start_at")
    x = [d.isoformat() for d in mine["day"].to_list()]
    data = [
        {"type": "scatter", "mode": "lines", "name": "temperature (°C)", "x": x, "y": mine["temperature_c"].to_list()},
        {
            "type": "scatter",
            "mode": "lines",
            "name": "vibration (mm/s)",
            "x": x,
            "y": mine["vibration_mm_s"].to_list(),
            "yaxis": "y2",
        },
    ]
    shapes = [
        {
            "type": "line", "xref": "x", "yref": "paper", "y0": 0, "y1": 1,
            "x0": e["start_at"].isoformat(), "x1": e["start_at"].isoformat(),
            "line": {"color": BREAKDOWN if e["kind"] == "breakdown" else PLANNED, "width": 1.5,
                     "dash": "dash" if e["kind"] == "breakdown" else "dot"},
        }
        for e in marked.iter_rows(named=True)
    ]  # fmt: skip
    layout = charts._layout(
        f"{machine_id}: daily mean while running, {days} days to {as_of.isoformat()}",
        height=380,
        xaxis={"type": "date"},
        yaxis={"title": {"text": "temperature (°C)"}},
        yaxis2={"title": {"text": "vibration (mm/s)"}, "overlaying": "y", "side": "right"},
        legend={"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top"},
        margin={"l": 60, "r": 70, "t": 40, "b": 60},
        shapes=shapes,
    )
    return {"data": data, "layout": layout}, marked.to_dicts()


# ---------------------------------------------------------------- defects
def drivers_chart(drivers: list[dict[str, Any]]) -> dict[str, Any]:
    """The cost each driver explains, highest first (the engine's order)."""
    labels = [d["driver"].replace("_", " ") for d in drivers]
    figure = charts.bars(
        "Scrap and rework cost explained by each driver",
        labels,
        [d["cost_explained"] for d in drivers],
        [""] * len(drivers),
        unit="base currency",
    )
    figure["layout"]["margin"] |= {"l": 240}  # room for the longest driver's name
    return figure


# ---------------------------------------------------------------- the roster
def roster_grid(roster: list[dict[str, Any]], days: list[dt.date]) -> list[dict[str, Any]]:
    """One row per employee (by unit, then id), a cell per day: the roster rows of that day (one, or none)."""
    by_employee: dict[tuple[str, str], dict[dt.date, list[dict[str, Any]]]] = {}
    for r in roster:
        by_employee.setdefault((r["work_center_id"], r["employee_id"]), {}).setdefault(r["date"], []).append(r)
    return [
        {"employee_id": emp, "unit": unit, "cells": [cells.get(d, []) for d in days]}
        for (unit, emp), cells in sorted(by_employee.items())
    ]


def coverage_grid(coverage: list[dict[str, Any]], days: list[dt.date]) -> list[dict[str, Any]]:
    """One row per work centre (or team) and shift, a cell per day: its coverage row or None."""
    by_unit: dict[tuple[str, str, str], dict[dt.date, dict[str, Any]]] = {}
    for r in coverage:
        by_unit.setdefault((r["site_id"], r["work_center_id"], r["shift_id"]), {})[r["date"]] = r
    return [
        {"site_id": site, "unit": unit, "shift_id": shift, "cells": [cells.get(d) for d in days]}
        for (site, unit, shift), cells in sorted(by_unit.items())
    ]


def roster_days(roster: dict[str, Any]) -> list[dt.date]:
    first, last = roster["from"], roster["to"]
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def cost_rows(roster: dict[str, Any]) -> list[dict[str, Any]]:
    """The roster's cost beside the baseline's, as the runs layer reports them."""
    return [{"figure": k, "roster": roster["cost"][k], "baseline": roster["baseline"][k]} for k in COST_KEYS]
