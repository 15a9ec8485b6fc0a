"""Simulating a named scenario on a workspace (docs/scenarios.md "Monte Carlo simulation"): read the scenario
and its base (opsfin.runs.scenarios), run it once through the scenario engine, linearise the run
(opsfin.scenarios.linearise) and draw (opsfin.scenarios.simulate). Nothing is stored.

The guardrails a draw can breach: the minimum cash (the scenario's `distributions.min_cash`, else 0: cash
below zero), and each guardrail of model/guardrails.yaml on a measure the simulation draws (`revenue`,
`gross_margin`) that is company-wide (no `by`, no `where`) and monthly."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import UserError
from ..scenarios.distributions import Distributions
from ..scenarios.linearise import MEASURES, Run, linearise
from ..scenarios.simulate import Band, Simulation, simulate

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

Progress = Callable[[str], None]
#: the guardrail KPIs a simulation draws (the KPI id is the measure's name)
GUARDED = frozenset(MEASURES) - {"cash"}


@dataclass(frozen=True)
class SimulatedScenario:
    """A simulation of `scenario` on `base`, the draws' summary, where the demand's spread came from, and the
    seconds of the deterministic run (base, scenario, linearisation) and of the draws."""

    scenario: str
    base: str
    simulation: Simulation
    demand_source: str
    run_seconds: float
    draw_seconds: float
    problems: list[str]

    def as_json(self) -> dict[str, Any]:
        """`{"scenario", "draws", "seed", "months": [{"period", "measure", "p10", "p50", "p90"}], "breaches":
        [{"guardrail", "probability"}]}`; periods as YYYY-MM, money as exact text."""
        months = [{**r, "period": f"{r['period']:%Y-%m}"} for r in self.simulation.months.to_dicts()]
        return {
            "scenario": self.scenario,
            "draws": self.simulation.draws,
            "seed": self.simulation.seed,
            "months": months,
            "breaches": self.simulation.breaches.to_dicts(),
        }


def simulate_scenario(
    ws: WorkspaceFolder, name: str, draws: int, seed: int, progress: Progress | None = None
) -> SimulatedScenario:
    """`draws` draws of scenario `name` of model/scenarios.yaml, from numpy's PCG64(`seed`)."""
    from ..scenarios.config import ScenarioFile
    from ..scenarios.engine import run_scenario
    from .planning import load_planning_config
    from .scenarios import base_case, check_members, find_scenario
    from .tables import reading_tables

    say = progress or (lambda _text: None)
    if draws < 1:
        raise UserError("{param} must be at least 1", param="draws", value=draws)
    if seed < 0:
        raise UserError("{param} must be 0 or more", param="seed", value=seed)
    scenario = find_scenario(ws, name)
    with reading_tables(ws) as t:
        check_members(t, ScenarioFile(scenarios=[scenario]))
    dists = scenario.distributions or Distributions()
    bands = guardrail_bands(ws, dists)
    config = load_planning_config(ws.model_dir)
    started = time.perf_counter()
    with base_case(ws, scenario.base, progress) as base:
        say(f"scenario {name}: {len(scenario.shocks)} shock(s) on {scenario.base}")
        run = run_scenario(base, scenario.shocks)
        months = list(base.months)
        prices = unit_prices(base.tables, scenario.base, months)
        shipped = Run(months, run.plan.pnl, run.plan.capacity, run.cash, base.volumes.shipments, prices)
        plan = linearise(base.tables, shipped, scenario.base, config.balances.dso_months, ws.settings.base_currency)
    ran = time.perf_counter()
    say(f"{draws} draws over {len(plan.months)} months")
    simulation = simulate(plan, dists, bands, draws, seed)
    done = time.perf_counter()
    return SimulatedScenario(
        name, scenario.base, simulation, plan.demand_source, ran - started, done - ran, list(run.problems)
    )


def unit_prices(tables: Any, version: str, months: list[dt.date]) -> pl.DataFrame:
    """period, product_id, unit_price of the version's volume_plan; the products' list prices in every month
    for a base without one (`actual`)."""
    vp = tables("volume_plan")
    vp = vp.filter(vp.version == version)
    expr = vp.select(period=vp.period.cast("date"), product_id="product_id", unit_price=vp.unit_price.cast("float64"))
    frame = pl.from_arrow(expr.to_pyarrow())
    assert isinstance(frame, pl.DataFrame)
    if not frame.is_empty():
        return frame
    p = tables("products")
    listed = pl.from_arrow(p.select("product_id", unit_price=p.list_price.cast("float64")).to_pyarrow())
    assert isinstance(listed, pl.DataFrame)
    every = pl.DataFrame({"period": months}, schema={"period": pl.Date})
    return every.join(listed, how="cross").select("period", "product_id", "unit_price")


def guardrail_bands(ws: WorkspaceFolder, dists: Distributions) -> list[Band]:
    """The minimum cash and the company-wide monthly guardrails of model/guardrails.yaml on a drawn measure
    (module docstring)."""
    from .model import load_catalog, load_guardrails

    floor = dists.min_cash if dists.min_cash is not None else Decimal(0)
    bands = [Band(f"cash >= {floor}", "cash", min=float(floor))]
    for g in load_guardrails(ws.model_dir, load_catalog(ws.model_dir)):
        if g.kpi in GUARDED and not g.by and not g.where and g.grain == "month":
            band = " and ".join(
                [f"{g.kpi} >= {_number(g.min)}"] * (g.min is not None)
                + [f"{g.kpi} <= {_number(g.max)}"] * (g.max is not None)
            )
            bands.append(Band(band, g.kpi, g.min, g.max))
    return bands


def _number(value: float | None) -> str:
    return f"{value:g}" if value is not None else ""
