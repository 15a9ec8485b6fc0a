"""The post-investment review on a workspace (docs/investments.md "Post-investment review"): the case's
`review:` from model/investments.yaml, its driver KPIs per unit and month from the KPI engine (the rows of
runs/experiments.py), the realised effect by difference-in-differences (opsfin.invest.review), and the
case's NPV on its promise against the NPV re-estimated on the realised share of it (runs/invest.py builds
both cases' flows: the effects through the scenario engine)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..errors import UserError
from ..invest.config import FILE, Case
from ..invest.metrics import worth
from ..invest.review import KpiReview, realisation, review_kpis, scaled_benefits, scaled_effects
from .experiments import check_units, metric_panels
from .invest import discount_rate, flows_of, load_investments, pick_cases
from .model import load_catalog

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder


@dataclass(frozen=True)
class Review:
    """`opsfin invest review`'s JSON."""

    case: Case
    controls: list[str]
    kpis: list[KpiReview]
    realisation: float | None
    promised_npv: Any
    realised_npv: Any
    rate: float
    note: str | None

    def as_json(self) -> dict[str, Any]:
        plan = self.case.review
        assert plan is not None
        out: dict[str, Any] = {
            "name": self.case.name,
            "go_live": f"{plan.go_live:%Y-%m}",
            "unit": plan.unit,
            "treated": list(plan.treated),
            "control": self.controls,
            "control_chosen_by": "given" if plan.control else "matching on the before period",
            "kpis": [k.as_json() for k in self.kpis],
            "realisation": self.realisation,
            "rate": self.rate,
            "npv": {"promised": self.promised_npv, "realised": self.realised_npv},
        }
        if self.note:
            out["note"] = self.note
        return out


def review_named(ws: WorkspaceFolder, name: str, rate: str | None = None) -> Review:
    """Case `name` reviewed (module docstring)."""
    from .tables import reading_tables

    found = load_investments(ws.model_dir)
    (case,) = pick_cases(found, [name])
    plan = case.review
    if plan is None:
        raise UserError(
            f"case {name!r} has no `review:` (the treated units, go-live month and driver KPIs) in model/{FILE}; "
            'see docs/investments.md "Post-investment review"'
        )
    catalog = load_catalog(ws.model_dir)
    unknown = [k.kpi for k in plan.kpis if k.kpi not in catalog]
    if unknown:
        raise UserError(f"case {name!r}: review KPI {unknown[0]!r} is not in the KPI catalog (`opsfin kpi --list`)")
    experiment = plan.as_experiment(name)
    with reading_tables(ws) as t:
        panels = metric_panels(t, experiment, catalog)
    check_units(panels, experiment, f"case {name!r}")
    controls, reviews = review_kpis(name, plan, panels, catalog)
    at = discount_rate(rate, found.discount_rate)
    ratio = realisation(reviews)
    promised, realised, note = _npvs(ws, case, ratio, at)
    return Review(case, controls, reviews, ratio, promised, realised, at, note)


def _npvs(ws: WorkspaceFolder, case: Case, ratio: float | None, rate: float) -> tuple[Any, Any, str | None]:
    """The case's NPV as promised, and re-estimated on `ratio` of its promise."""
    promised = worth(flows_of(ws, case), rate).npv
    if ratio is None:
        return promised, None, "no KPI with a non-zero promise: the NPV is not re-estimated"
    if case.effects:
        try:
            realised_case = case.model_copy(update={"effects": scaled_effects(case.effects, ratio)})
            for shock in realised_case.effects:
                type(shock).model_validate(shock.model_dump())
        except ValidationError as exc:
            raise UserError(
                f"case {case.name!r}: the effects scaled to the realised {ratio:.0%} of the promise are not a "
                f"valid change ({exc.errors()[0]['msg']})"
            ) from None
        flows = flows_of(ws, realised_case)
    else:
        flows = scaled_benefits(flows_of(ws, case), ratio)
    return promised, worth(flows, rate).npv, None
