"""An experiment analysed (docs/experiments.md): the controls chosen by matching when asked, then per metric
the DiD estimate (did.py) and the annualised money at the current volume.

Matching (`match: N`): each untreated unit's before-period months are compared with the treated units'
mean month by month; the distance is the mean squared gap, each metric's divided by the variance of its
before-period values over all units (so a kWh and a share weigh alike), summed over the metrics. Only units
with values of every metric both before and after the start can be controls (a unit without a metric, such
as an inspection station's energy, would otherwise look close by missing a term). The N closest units are
the controls (ties by name).

Money at the current volume: a ratio KPI's effect (value = scale × numerator / denominator) changes the
numerator by effect ÷ scale per unit of denominator; times the treated units' denominator over the last
12 months observed (the current volume, from the same KPI rows) it is the numerator saved or added a year,
times the value of one numerator unit (`money:` in the file, its source stated). A sum KPI's effect is per
month: × 12. The money is signed as the KPI moves (a fall in energy per unit is a negative amount of kWh:
a saving shows as a negative change of cost). Pure: frames and the config in, a report out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.money import round_cents, to_decimal
from ..core.periods import add_months
from ..errors import UserError
from .config import Experiment
from .did import Estimate, estimate

YEAR = 12


@dataclass(frozen=True)
class MetricResult:
    """One metric's estimate and money."""

    metric: str
    unit: str
    estimate: Estimate
    money: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "unit": self.unit, **self.estimate.as_json(), "money": self.money}


@dataclass(frozen=True)
class ExperimentReport:
    """`opsfin experiment analyze`'s JSON."""

    experiment: Experiment
    controls: list[str]
    matched: bool
    metrics: list[MetricResult] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        e = self.experiment
        return {
            "name": e.name,
            "unit": e.unit,
            "start": f"{e.start:%Y-%m}",
            "treated": list(e.treated),
            "control": self.controls,
            "control_chosen_by": "matching on the before period" if self.matched else "given",
            "metrics": [m.as_json() for m in self.metrics],
        }


def window(experiment: Experiment, rows: pl.DataFrame) -> pl.DataFrame:
    """The rows of `period_start` inside the experiment's before/after months."""
    first = add_months(experiment.start, -experiment.before_months)
    keep = pl.col("period_start") >= first
    if experiment.after_months is not None:
        keep &= pl.col("period_start") < add_months(experiment.start, experiment.after_months)
    return rows.filter(keep)


def choose_controls(experiment: Experiment, panels: Mapping[str, pl.DataFrame]) -> list[str]:
    """The given controls, or the `match` closest untreated units on the before period (module docstring).
    `panels`: per metric, rows `unit, period_start, value` of every unit."""
    if experiment.control:
        return list(experiment.control)
    n = experiment.match or 0
    treated = set(experiment.treated)
    distance: dict[str, float] = {}
    eligible: set[str] | None = None
    for rows in panels.values():
        valued = rows.filter(pl.col("value").is_not_null())
        sides = valued.group_by("unit").agg(
            (pl.col("period_start") < experiment.start).any().alias("_before"),
            (pl.col("period_start") >= experiment.start).any().alias("_after"),
        )
        both = set(sides.filter(pl.col("_before") & pl.col("_after"))["unit"].to_list())
        eligible = both if eligible is None else eligible & both
        before = valued.filter(pl.col("period_start") < experiment.start)
        spread = before["value"].var()
        scale = float(spread) if isinstance(spread, float) and spread > 0 else 1.0
        mean = (
            before.filter(pl.col("unit").is_in(sorted(treated))).group_by("period_start").agg(_t=pl.col("value").mean())
        )
        gaps = before.filter(~pl.col("unit").is_in(sorted(treated))).join(mean, on="period_start")
        per_unit = gaps.group_by("unit").agg(((pl.col("value") - pl.col("_t")) ** 2).mean().alias("_d"))
        for unit, d in per_unit.iter_rows():
            distance[unit] = distance.get(unit, 0.0) + float(d) / scale
    ranked = sorted((u for u in distance if u in (eligible or set())), key=lambda u: (distance[u], u))
    if len(ranked) < n:
        raise UserError(
            f"experiment {experiment.name!r}: `match: {n}` asks for {n} control units; only {len(ranked)} "
            "untreated unit(s) have values of every metric before and after the start"
        )
    return ranked[:n]


def analyze(experiment: Experiment, panels: Mapping[str, pl.DataFrame], kpis: Mapping[str, Any]) -> ExperimentReport:
    """Per metric the DiD estimate and its money. `panels`: per metric id, the KPI engine's rows
    `unit, period_start, value, numerator, denominator` of every unit (treated, controls, candidates);
    `kpis`: metric id → its catalog entry (kind, scale, unit)."""
    panels = {m: window(experiment, rows) for m, rows in panels.items()}
    controls = choose_controls(experiment, panels)
    results = []
    for metric in experiment.metrics:
        rows, got = metric_estimate(experiment, controls, panels[metric])
        kpi = kpis[metric]
        money = annual_money(experiment, metric, got.effect, rows, kpi)
        results.append(MetricResult(metric, kpi.unit, got, money))
    return ExperimentReport(experiment, controls, experiment.control == [], results)


def metric_estimate(experiment: Experiment, controls: list[str], rows: pl.DataFrame) -> tuple[pl.DataFrame, Estimate]:
    """The rows of the treated units and the controls, and the DiD estimate on them."""
    rows = rows.filter(pl.col("unit").is_in([*experiment.treated, *controls]))
    panel = rows.select(
        "unit", period="period_start", value="value", treated=pl.col("unit").is_in(list(experiment.treated))
    )
    return rows, estimate(panel, experiment.start)


def annual_money(experiment: Experiment, metric: str, effect: float, rows: pl.DataFrame, kpi: Any) -> dict[str, Any]:
    """The effect a year at the treated units' current volume, valued (module docstring), with the source
    of each factor."""
    treated = rows.filter(pl.col("unit").is_in(list(experiment.treated)))
    months = sorted(set(treated["period_start"].to_list()))[-YEAR:]
    recent = treated.filter(pl.col("period_start").is_in(months))
    if kpi.kind == "sum":
        per_year, volume, what = Decimal(repr(effect)) * YEAR, None, f"{metric} a month × 12"
    else:
        volume = to_decimal(recent["denominator"].cast(pl.Float64).sum()) * YEAR / max(len(months), 1)
        per_year, what = Decimal(repr(effect)) / Decimal(repr(kpi.scale)) * volume, "numerator a year"
    out: dict[str, Any] = {
        "effect": effect,
        "effect_source": "difference-in-differences above",
        "volume_per_year": float(volume) if volume is not None else None,
        "volume_source": f"the KPI engine's {metric} denominator of the treated units, last {len(months)} "
        "month(s) observed, scaled to 12",
        "change_per_year": float(per_year),
        "change_per_year_is": what,
    }
    value = experiment.money.get(metric)
    if value is None:
        return {**out, "amount": None, "reason": f"no `money: {metric}: unit_value` in model/experiments.yaml"}
    return {
        **out,
        "unit_value": str(value.unit_value),
        "unit_value_source": value.source,
        "amount": str(round_cents(per_year * value.unit_value)),
    }
