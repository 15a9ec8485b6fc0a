"""The post-investment review (docs/investments.md "Post-investment review").

A case's `review:` names the units that got the investment (`unit`, `treated`), the comparable units
that did not (`control:` or `match: N`, as an experiment's), the `go_live` month and its driver KPIs, each
with the change the case `promised` (in the KPI's unit: −0.3 kWh a unit) and optionally the `unit_value`
of one unit of the KPI's numerator. The realised effect of each KPI is the difference-in-differences of
the treated units against the controls, go-live as the start (opsfin.experiments: the same estimate, the
same interval, the same pre-trend check as a process experiment).

- realised savings so far: the effect ÷ the KPI's scale × the treated units' volume (the KPI's
  denominator) since go-live × the unit value; signed as the KPI moves (a fall in kWh a unit × kWh price is
  a negative cost: `savings` is its opposite when the KPI is lower-is-better).
- realisation: realised ÷ promised of the first KPI with a promise; the NPV is re-estimated on it: the
  case's `effects` run again with every size × realisation (the scenario engine, runs/invest_review.py),
  or a case of explicit `cash_flows` with its money in × realisation.

Pure: the review plan, the KPI rows and the catalog in, a report out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.money import round_cents, to_decimal
from ..experiments.analysis import choose_controls, metric_estimate, window
from ..experiments.config import UnitDimension
from ..experiments.did import Estimate
from ..model_schema import Count, DecimalNumber, Entry, KpiId, Text
from ..scenarios.config import Month, Shock


class ReviewKpi(Entry):
    """A driver KPI of the case, the change promised and what one unit of its numerator is worth."""

    kpi: KpiId
    promised: DecimalNumber
    unit_value: DecimalNumber | None = None
    source: Text = "model/investments.yaml"


class ReviewPlan(Entry):
    """A case's `review:` block (module docstring)."""

    unit: UnitDimension
    treated: list[Text]
    control: list[Text] = []
    match: Count | None = None
    go_live: Month
    before_months: Count = 6
    kpis: list[ReviewKpi]

    def as_experiment(self, name: str) -> Any:
        """The review as a process experiment starting at go-live (for the shared analysis)."""
        from ..experiments.config import Experiment

        return Experiment(
            name=name,
            unit=self.unit,
            treated=list(self.treated),
            control=list(self.control),
            match=self.match,
            start=self.go_live,
            before_months=self.before_months,
            metrics=[k.kpi for k in self.kpis],
        )


@dataclass(frozen=True)
class KpiReview:
    """One driver KPI: the DiD estimate, the promise, the realisation and the savings so far."""

    kpi: str
    estimate: Estimate
    promised: Decimal
    realisation: float | None
    savings: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi,
            "promised": str(self.promised),
            "realised": self.estimate.as_json(),
            "realisation": self.realisation,
            "savings_so_far": self.savings,
        }


def review_kpis(
    name: str, plan: ReviewPlan, panels: Mapping[str, pl.DataFrame], kpis: Mapping[str, Any]
) -> tuple[list[str], list[KpiReview]]:
    """The controls and each driver KPI's review. `panels`: per KPI id, the KPI engine's rows `unit,
    period_start, value, numerator, denominator` of every unit."""
    experiment = plan.as_experiment(name)
    panels = {m: window(experiment, rows) for m, rows in panels.items()}
    controls = choose_controls(experiment, panels)
    out = []
    for item in plan.kpis:
        rows, got = metric_estimate(experiment, controls, panels[item.kpi])
        ratio = got.effect / float(item.promised) if item.promised != 0 else None
        out.append(KpiReview(item.kpi, got, item.promised, ratio, savings_so_far(plan, item, got, rows, kpis)))
    return controls, out


def savings_so_far(
    plan: ReviewPlan, item: ReviewKpi, got: Estimate, rows: pl.DataFrame, kpis: Mapping[str, Any]
) -> dict[str, Any]:
    """Effect × the treated units' volume since go-live × the unit value (module docstring)."""
    kpi = kpis[item.kpi]
    since = rows.filter(pl.col("unit").is_in(plan.treated) & (pl.col("period_start") >= plan.go_live))
    months = since["period_start"].n_unique()
    effect = Decimal(repr(got.effect))
    if kpi.kind == "sum":
        change, volume = effect * months, None
    else:
        volume = to_decimal(since["denominator"].cast(pl.Float64).sum())
        change = effect / Decimal(repr(kpi.scale)) * volume
    out: dict[str, Any] = {
        "months": months,
        "volume": float(volume) if volume is not None else None,
        "volume_source": f"the KPI engine's {item.kpi} denominator of the treated units since go-live",
        "change": float(change),
    }
    if item.unit_value is None:
        return {**out, "amount": None, "reason": f"no `unit_value` for {item.kpi} in the case's review"}
    amount = round_cents(change * item.unit_value)
    if kpi.direction == "lower_is_better":
        amount = -amount
    return {**out, "unit_value": str(item.unit_value), "unit_value_source": item.source, "amount": str(amount)}


def realisation(reviews: Sequence[KpiReview]) -> float | None:
    """Realised ÷ promised of the first KPI with a promise."""
    return next((r.realisation for r in reviews if r.realisation is not None), None)


def scaled_effects(effects: Sequence[Shock], ratio: float) -> list[Shock]:
    """The case's driver changes with every size × `ratio` (the realised share of the promise)."""
    factor = Decimal(repr(ratio))
    return [s.model_copy(update={"size": s.size * factor}) for s in effects]


def scaled_benefits(flows: Sequence[tuple[Any, Decimal]], ratio: float) -> list[tuple[Any, Decimal]]:
    """Explicit cash flows with the money in × `ratio` (the money out, the spend, unchanged)."""
    factor = Decimal(repr(ratio))
    return [(d, round_cents(a * factor) if a > 0 else a) for d, a in flows]
