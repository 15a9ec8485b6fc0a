"""Machine failure risk priced in money (docs/predict.md "Maintenance risk"). Pure: the machine-day panel
(maintenance_features.machine_day_panel) and the machines' costs (failure_cost.machine_costs) in; a result
per machine out.

- The model: a LightGBM classifier of "a breakdown starts within the horizon", trained only on the days
  whose horizon ends on or before the as-of date (day + horizon ≤ as-of), so no label reaches past it.
- `risk`: the model's probability for each machine on the as-of date.
- `expected_failure_cost` = risk × the machine's breakdown cost; `planned_maintenance_cost`: its planned
  maintenance cost. `maintain_now` when the expected failure cost is above the planned maintenance cost,
  else `monitor` when the risk is at least `monitor_risk`, else `ok`.
- `drivers`: the features with the largest contributions to that machine's risk (LightGBM's
  `pred_contrib`, in log-odds; positive raises the risk)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from ..core.money import round_cents, to_decimal
from ..errors import UserError
from .maintenance_features import FEATURES

MONITOR_RISK = 0.5  # the stated risk from which a machine not worth maintaining now is watched
TOP_DRIVERS = 3
# Small trees: breakdowns are noisy and a deep model learns the noise. The risk may only rise with the
# breakdowns of the last 30 and 90 days (a tree cannot extrapolate: a machine breaking down more often
# than any seen before would otherwise get the risk of an ordinary one).
ROUNDS = 100
MONOTONE_RISING = ("breakdowns_30d", "breakdowns_90d")
PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_data_in_leaf": 50,
    "monotone_constraints": [1 if name in MONOTONE_RISING else 0 for name in FEATURES],
    "feature_fraction": 0.8,
    "verbose": -1,
    "num_threads": 1,  # one thread: deterministic, and kind to a shared machine
    "seed": 7,
    "deterministic": True,
}
MIN_EVENTS = 5  # breakdown days (and days without) a model needs to learn from


def _matrix(rows: pl.DataFrame) -> np.ndarray:
    return rows.select(pl.col(list(FEATURES)).cast(pl.Float64)).to_numpy()


def training_rows(panel: pl.DataFrame, as_of: dt.date, horizon_days: int) -> pl.DataFrame:
    """The panel's days whose horizon ends on or before `as_of`, with a known label."""
    last = as_of - dt.timedelta(days=horizon_days)
    return panel.filter((pl.col("day") <= last) & pl.col("label").is_not_null())


def fit_risk(panel: pl.DataFrame, as_of: dt.date, horizon_days: int) -> lgb.Booster:
    """The classifier trained on `training_rows`; a UserError when they hold too few breakdowns or too few
    days without one to learn from."""
    rows = training_rows(panel, as_of, horizon_days)
    labels = rows["label"].to_numpy()
    positives = int(labels.sum())
    if positives < MIN_EVENTS or len(labels) - positives < MIN_EVENTS:
        raise UserError(
            f"too little history to learn from before {as_of}: {len(labels)} machine-days whose "
            f"{horizon_days}-day horizon ends by then, {positives} of them followed by a breakdown "
            f"(at least {MIN_EVENTS} of each are needed); choose a later --as-of"
        )
    data = lgb.Dataset(_matrix(rows), labels, feature_name=list(FEATURES), free_raw_data=True)
    return lgb.train(PARAMS, data, num_boost_round=ROUNDS)


def risks(booster: lgb.Booster, rows: pl.DataFrame) -> np.ndarray:
    """The probability of a breakdown within the horizon for each row of the panel."""
    return np.asarray(booster.predict(_matrix(rows)), dtype=float)


def drivers(booster: lgb.Booster, rows: pl.DataFrame, top: int = TOP_DRIVERS) -> list[list[dict[str, Any]]]:
    """Per row, the `top` features by absolute contribution: feature, meaning, value, contribution."""
    names = list(FEATURES)
    contributions = np.asarray(booster.predict(_matrix(rows), pred_contrib=True))[:, :-1]  # last: the bias
    out = []
    for row, got in zip(rows.select(names).to_dicts(), contributions, strict=True):
        strongest = [names[j] for j in np.argsort(-np.abs(got), kind="stable")[:top]]
        out.append([_driver(name, row[name], float(got[names.index(name)])) for name in strongest])
    return out


def _driver(name: str, value: float | None, contribution: float) -> dict[str, Any]:
    shown = None if value is None else round(float(value), 3)
    return {"feature": name, "meaning": FEATURES[name], "value": shown, "contribution": round(contribution, 4)}


def recommendation(
    risk: float, expected_failure_cost: Decimal, planned_cost: Decimal | None, monitor_risk: float
) -> str:
    if planned_cost is not None and expected_failure_cost > planned_cost:
        return "maintain_now"
    return "monitor" if risk >= monitor_risk else "ok"


def priced(risk: float, costs: dict[str, Any]) -> tuple[float, Decimal, Decimal | None]:
    """(risk rounded to 4 places, risk × the breakdown cost in cents, the planned maintenance cost)."""
    shown = round(float(risk), 4)
    failure = costs.get("breakdown_cost")
    expected = round_cents(to_decimal(shown) * failure) if failure is not None else Decimal("0.00")
    return shown, expected, costs.get("planned_maintenance_cost")


def maintenance_risk(
    panel: pl.DataFrame,
    costs: pl.DataFrame,
    as_of: dt.date,
    horizon_days: int,
    monitor_risk: float = MONITOR_RISK,
) -> dict[str, Any]:
    """`{as_of, horizon_days, machines: [{machine_id, risk, expected_failure_cost, planned_maintenance_cost,
    recommendation, drivers}]}`, machines by expected failure cost, highest first."""
    booster = fit_risk(panel, as_of, horizon_days)
    today = panel.filter(pl.col("day") == as_of).sort("machine_id")
    by_machine = {r["machine_id"]: r for r in costs.iter_rows(named=True)}
    machines = []
    for r, risk, why in zip(today.iter_rows(named=True), risks(booster, today), drivers(booster, today), strict=True):
        shown, expected, planned = priced(risk, by_machine.get(r["machine_id"], {}))
        machines.append(
            {
                "machine_id": r["machine_id"],
                "risk": shown,
                "expected_failure_cost": expected,
                "planned_maintenance_cost": planned,
                "recommendation": recommendation(shown, expected, planned, monitor_risk),
                "drivers": why,
            }
        )
    machines.sort(key=lambda m: (-m["expected_failure_cost"], -m["risk"], m["machine_id"]))
    return {"as_of": as_of, "horizon_days": horizon_days, "machines": machines}
