"""What the Scenarios page shows (docs/web.md "Scenarios"), gathered for one caller: the scenarios of
`model/scenarios.yaml`, the form rows of one, its run against its base, its simulation and the driver
tornado.

Every figure comes from the scenario engine as the CLI runs it: the run is `opsfin scenario run` without
storing the version (runs.scenarios.base_case, scenarios.engine.run_scenario and compare), the simulation
is `opsfin scenario simulate` (runs.scenario_sim.simulate_scenario), the tornado ranks `opsfin drivers`'
nodes (runs.drivers.driver_report, scenarios.drivers.tornado). This module only selects and sums the
engine's rows for display; results are cached (web/cache.py: the model files are part of the key).

Site scope: the P&L rows are kept when their site is visible; the month-end cash, the lost sales (by
product, for the company) and the simulation are company figures, shown only to users who see every site."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from ..canonical.tables import PLAN_PNL_LINES
from ..scenarios.config import SCOPE_KEYS, SIZE_UNITS, Scenario, Shock

KINDS = tuple(SCOPE_KEYS)
SCOPE_DIMS = ("products", "families", "sites", "suppliers", "customers", "work_centers", "currencies")
SCOPE_PAIRS = 2  # dimension + members pairs per shock row of the form
BLANK_ROWS = 3  # empty shock rows offered below the scenario's own
#: the P&L lines that walk from the base's operating income to the scenario's, with their sign
BRIDGE = (("revenue", 1), ("cogs", -1), ("variances", -1), ("opex", -1))
SIM_MEASURES = ("revenue", "operating_income", "cash")
WEB_DRAWS, MAX_WEB_DRAWS = 1000, 10000


# ---------------------------------------------------------------- the form
def form_rows(scenario: Scenario | None) -> list[dict[str, Any]]:
    """The shock rows of the form: the scenario's shocks, then BLANK_ROWS empty ones."""
    return shock_rows(scenario.shocks if scenario else [])


def shock_rows(shocks: Sequence[Shock]) -> list[dict[str, Any]]:
    """Form rows for `shocks` (a scenario's, an investment case's effects), then BLANK_ROWS empty ones."""
    rows = []
    for shock in shocks:
        given = list(shock.scope.given().items())
        pairs = [(dim, ", ".join(members)) for dim, members in given[:SCOPE_PAIRS]]
        rows.append(
            {
                "kind": shock.kind,
                "pairs": pairs + [("", "")] * (SCOPE_PAIRS - len(pairs)),
                "start": f"{shock.start:%Y-%m}",
                "end": f"{shock.end:%Y-%m}" if shock.end else "",
                "size": format(shock.size, "f"),
                "more": len(given) > SCOPE_PAIRS,
            }
        )
    return rows + [blank_row() for _ in range(BLANK_ROWS)]


def blank_row() -> dict[str, Any]:
    return {"kind": "", "pairs": [("", "")] * SCOPE_PAIRS, "start": "", "end": "", "size": "", "more": False}


def _size(text: str) -> Any:
    """The size as a number when it reads as one; else the text, which the parser refuses by name."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return text
    return value if value.is_finite() else text


def posted_rows(fields: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The form's shock rows as posted (kind, dim_a/members_a, dim_b/members_b, start, end, size per row),
    in form order; rows left empty are dropped."""
    count = max((len(v) for v in fields.values()), default=0)

    def at(name: str, i: int) -> str:
        values = fields.get(name) or []
        return values[i].strip() if i < len(values) and values[i] is not None else ""

    rows = []
    for i in range(count):
        pairs = [(at(f"dim_{p}", i), at(f"members_{p}", i)) for p in "ab"[:SCOPE_PAIRS]]
        row: dict[str, Any] = {"kind": at("kind", i), "pairs": pairs, "start": at("start", i), "end": at("end", i)}
        row |= {"size": at("size", i), "more": False}
        if row["kind"] or row["start"] or row["size"] or any(m for _, m in pairs):
            rows.append(row)
    return rows


def entry_from_form(name: str, base: str, description: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The scenario entry the form describes, as it is written to the file (the parser checks it)."""
    from ..errors import UserError

    shocks = []
    for number, row in enumerate(rows, start=1):
        scope: dict[str, list[str]] = {}
        for dim, members in row["pairs"]:
            names = [m.strip() for m in members.split(",") if m.strip()]
            if names and not dim:
                raise UserError(f"shock row {number}: members {members!r} need a scope dimension (products, sites …)")
            if names:
                scope.setdefault(dim, []).extend(names)
        shock: dict[str, Any] = {"kind": row["kind"], "scope": scope, "start": row["start"]}
        if row["end"]:
            shock["end"] = row["end"]
        shock["size"] = _size(row["size"])
        shocks.append(shock)
    entry: dict[str, Any] = {"name": name.strip(), "base": base.strip()}
    if description.strip():
        entry["description"] = description.strip()
    entry["shocks"] = shocks
    return entry


# ---------------------------------------------------------------- the run
@dataclass
class RunFigures:
    """A scenario's run against its base, as the caller may see it."""

    scenario: str
    base: str
    bridge: list[tuple[str, Decimal]] = field(default_factory=list)  # (line, effect on operating income)
    base_income: Decimal = Decimal(0)
    scenario_income: Decimal = Decimal(0)
    lines: list[dict[str, Any]] = field(default_factory=list)  # line, base, scenario, delta over the months
    months: list[dict[str, Any]] = field(default_factory=list)  # period, line -> (base, scenario, delta)
    cash: list[dict[str, Any]] = field(default_factory=list)  # period, base, scenario, delta
    lost_sales: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def run_report(results: Any, scenario: Scenario) -> Any:
    """`opsfin scenario run`'s report of `scenario` (not stored), cached."""

    def compute() -> Any:
        from ..runs.scenarios import base_case, check_members
        from ..runs.tables import reading_tables
        from ..scenarios.config import ScenarioFile
        from ..scenarios.engine import compare, run_scenario

        with reading_tables(results.ws) as t:
            check_members(t, ScenarioFile(scenarios=[scenario]))
        with base_case(results.ws, scenario.base) as base:
            run = run_scenario(base, scenario.shocks)
            return compare(run_scenario(base, []), run, scenario.name, scenario.base)

    return results.cache.get(("scenario_run", scenario.model_dump_json()), compute)


def _sum(frame: pl.DataFrame, column: str) -> Decimal:
    return sum((Decimal(v) for v in frame[column].to_list()), Decimal(0))


def run_figures(report: Any, sites: list[str] | None) -> RunFigures:
    """The report's P&L rows of `sites` (None: every row), summed per line and per month; the bridge from
    the base's operating income to the scenario's, one step per P&L line; the company's month-end cash and
    lost sales for a caller who sees every site."""
    pnl = report.pnl if sites is None else report.pnl.filter(pl.col("site_id").is_in(sites))
    out = RunFigures(report.scenario, report.base, problems=list(report.problems))
    for line in PLAN_PNL_LINES:
        part = pnl.filter(pl.col("line") == line)
        out.lines.append(
            {"line": line, "base": _sum(part, "base"), "scenario": _sum(part, "scenario"), "delta": _sum(part, "delta")}
        )
    by_line = {r["line"]: r for r in out.lines}
    out.base_income = by_line["operating_income"]["base"]
    out.scenario_income = by_line["operating_income"]["scenario"]
    out.bridge = [(line, sign * by_line[line]["delta"]) for line, sign in BRIDGE]
    for period in sorted(set(pnl["period"].to_list())):
        month = pnl.filter(pl.col("period") == period)
        values = {}
        for line in PLAN_PNL_LINES:
            part = month.filter(pl.col("line") == line)
            values[line] = (_sum(part, "base"), _sum(part, "scenario"), _sum(part, "delta"))
        out.months.append({"period": period, "values": values})
    if sites is None:
        out.cash = report.cash.sort("period").to_dicts()
        out.lost_sales = report.lost_sales.sort("period", "contribution", descending=[False, True]).to_dicts()
    return out


def bridge_steps(figures: RunFigures) -> list[tuple[str, Any, str, str]]:
    """The waterfall's steps (charts.waterfall): the base's operating income, each line's effect, the
    scenario's operating income."""
    from ..present.labels import label

    steps: list[tuple[str, Any, str, str]] = [(f"operating income {figures.base}", figures.base_income, "absolute", "")]
    steps += [(label(line), amount, "relative", "") for line, amount in figures.bridge]
    steps.append((f"operating income {figures.scenario}", figures.scenario_income, "total", ""))
    return steps


def cash_series(figures: RunFigures) -> dict[str, list[tuple[Any, float | None]]]:
    """The month-end cash of the base and of the scenario, as the chart draws them."""
    return {
        f"base {figures.base}": [(r["period"], float(r["base"])) for r in figures.cash],
        f"scenario {figures.scenario}": [(r["period"], float(r["scenario"])) for r in figures.cash],
    }


# ---------------------------------------------------------------- the simulation
def draws_and_seed(draws: str | None, seed: str | None) -> tuple[int, int]:
    """The form's draws (1 … MAX_WEB_DRAWS, default WEB_DRAWS) and seed (≥ 0, default 0); a UserError names
    the field."""
    from ..errors import UserError

    def whole(text: str | None, name: str, default: int, low: int, high: int | None) -> int:
        if text is None or not text.strip():
            return default
        try:
            value = int(text.strip())
        except ValueError:
            raise UserError("{param} must be a whole number", param=name, value=text) from None
        if value < low or (high is not None and value > high):
            bound = f"between {low:,} and {high:,}" if high is not None else f"at least {low}"
            raise UserError("{param} must be " + bound + " on the web", param=name, value=text)
        return value

    return whole(draws, "draws", WEB_DRAWS, 1, MAX_WEB_DRAWS), whole(seed, "seed", 0, 0, None)


def simulation(results: Any, name: str, draws: int, seed: int) -> Any:
    """`opsfin scenario simulate NAME --draws D --seed S`, cached."""

    def compute() -> Any:
        from ..runs.scenario_sim import simulate_scenario

        return simulate_scenario(results.ws, name, draws, seed)

    return results.cache.get(("scenario_sim", name, draws, seed), compute)


def fan_rows(sim: Any, report: Any) -> dict[str, dict[str, list[Any]]]:
    """measure -> {"run": [(month, the scenario run's company figure)], "band": [(month, p10, p50, p90)]}:
    the run's revenue and operating income summed over the sites, its month-end cash."""
    months = sim.simulation.months
    run: dict[str, dict[dt.date, Decimal]] = {m: {} for m in SIM_MEASURES}
    for period, line, amount in report.pnl.select("period", "line", "scenario").iter_rows():
        if line in run:
            run[line][period] = run[line].get(period, Decimal(0)) + amount
    for period, amount in report.cash.select("period", "scenario").iter_rows():
        run["cash"][period] = amount
    out: dict[str, dict[str, list[Any]]] = {}
    for measure in SIM_MEASURES:
        part = months.filter(pl.col("measure") == measure).sort("period")
        out[measure] = {
            "run": sorted(run[measure].items()),
            "band": [(r["period"], r["p10"], r["p50"], r["p90"]) for r in part.to_dicts()],
        }
    return out


# ---------------------------------------------------------------- the driver tornado
def driver_nodes(results: Any, period: str | None) -> Any:
    """`opsfin drivers [--period]`'s report, cached (one plan build per driver: seconds to a minute)."""
    from ..runs import drivers

    return results.cache.get(("drivers", period), lambda: drivers.driver_report(results.ws, period))


def driver_ready(results: Any, period: str | None) -> bool:
    return bool(results.cache.holds(("drivers", period)))


def tornado_rows(report: Any, measure: str) -> list[dict[str, Any]]:
    """The drivers ranked by |sensitivity × typical change| (scenarios.drivers.tornado)."""
    from ..scenarios.drivers import tornado

    return tornado(report.nodes, measure)


def size_units() -> dict[str, str]:
    return dict(SIZE_UNITS)
