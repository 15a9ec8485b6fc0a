"""The drivers of quality defects, each priced (docs/predict.md "Quality defects"). Pure: one row per
inspection (defect_features) in; the drivers ranked by the scrap and rework cost they explain out.

- The model: LightGBM regression of the defect rate (qty_defective ÷ qty_inspected) per inspection,
  weighted by qty_inspected, on DRIVERS (categorical columns with LightGBM's own splits).
- Attribution: `pred_contrib` splits each inspection's predicted rate into the average rate plus one
  contribution per column, in rate units. A column's defects explained = Σ over inspections of
  qty_inspected × its contribution where that contribution is positive: the defects above the average
  rate that it causes where it raises the rate. Its cost = Σ those defects × the cost of a defective unit
  of the inspected product (its standard unit cost: a scrapped unit, or the rework a unit is worth at
  most). The average rate explains the rest, so the columns' figures do not add up to all defects.
- `worst`: for a categorical column, the member with the highest mean contribution (weighted by
  qty_inspected); for a numeric one, whether its lower or higher values raise the rate.
- `where` (numeric columns only): over the categorical columns its group is located over
  (defect_features.WHERE: the material's supplier, the machine, the crew's work centre and shift), the
  member whose share of the column's defects explained most exceeds its share of the units inspected: the
  highest lift (the one share ÷ the other) above WHERE_MIN_LIFT, among the members with at least
  MIN_IN_LEAF inspections (the model's least per leaf: no leaf can be a smaller member's own, too little to
  say) and WHERE_MIN_SHARE of the defects explained (less is not where the effect sits, whatever the lift);
  null when no member qualifies. It says which supplier's lots, which machines, which crews a numeric
  driver's effect is on, which its `worst` ("higher values") cannot.
- Groups: the columns that measure one thing (the machine's condition: temperature, vibration, days since
  maintenance; the crew: mean and newest tenure) split its effect between them, so each group is also
  priced as one driver: per inspection the sum of its columns' contributions (SHAP contributions add up),
  then the same positive part × qty_inspected."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from ..core.money import round_cents, to_decimal
from ..errors import UserError
from .defect_features import CATEGORICAL, DRIVERS, WHERE, encode

MIN_INSPECTIONS = 50
ROUNDS = 100
MIN_IN_LEAF = 50  # inspections
PARAMS = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": MIN_IN_LEAF,
    "cat_smooth": 10,
    "verbose": -1,
    "num_threads": 1,
    "seed": 7,
    "deterministic": True,
}
WHERE_MIN_LIFT = 1.5  # a member's share of the defects explained at least half as much again as of the units
WHERE_MIN_SHARE = 0.05  # and at least one in twenty of the defects explained


def fit_defect_rate(inspections: pl.DataFrame) -> tuple[lgb.Booster, np.ndarray]:
    """The model and its matrix; a UserError when there are too few inspections or no defect at all."""
    if inspections.height < MIN_INSPECTIONS or inspections["qty_defective"].sum() == 0:
        raise UserError(
            f"too few inspections to learn defect drivers from: {inspections.height} inspections with "
            f"{inspections['qty_defective'].sum():g} defects (at least {MIN_INSPECTIONS} and one defect needed)"
        )
    matrix, _ = encode(inspections)
    rate = (inspections["qty_defective"] / inspections["qty_inspected"]).to_numpy()
    categorical = [j for j, name in enumerate(DRIVERS) if name in CATEGORICAL]
    data = lgb.Dataset(
        matrix, rate, weight=inspections["qty_inspected"].to_numpy(), feature_name=list(DRIVERS),
        categorical_feature=categorical, free_raw_data=True,
    )  # fmt: skip
    return lgb.train(PARAMS, data, num_boost_round=ROUNDS), matrix


def _worst(name: str, values: pl.Series, contribution: np.ndarray, qty: np.ndarray) -> str | None:
    if name in CATEGORICAL:
        frame = pl.DataFrame({"v": values.cast(pl.Utf8), "c": contribution * qty, "q": qty}).drop_nulls("v")
        by = (
            frame.group_by("v")
            .agg(mean=pl.col("c").sum() / pl.col("q").sum())
            .sort("mean", "v", descending=[True, False])
        )
        return str(by["v"][0]) if by.height else None
    numbers = values.cast(pl.Float64).to_numpy()
    known = ~np.isnan(numbers)
    if known.sum() < 2 or np.std(numbers[known]) == 0 or np.std(contribution[known]) == 0:
        return None
    return "higher values" if np.corrcoef(numbers[known], contribution[known])[0, 1] > 0 else "lower values"


def _where(members: pl.DataFrame, contribution: np.ndarray, qty: np.ndarray) -> dict[str, Any] | None:
    """`{column, member, share_of_explained, share_of_inspected}`: over the columns of `members` (one row
    per inspection), the member where a numeric column's positive contributions sit (module docstring);
    None when no member qualifies."""
    explained = qty * np.maximum(contribution, 0.0)
    if explained.sum() <= 0:
        return None
    best: dict[str, Any] | None = None
    for column in members.columns:
        by = (
            pl.DataFrame({"member": members[column].cast(pl.Utf8), "e": explained, "q": qty})
            .drop_nulls("member")
            .group_by("member")
            .agg(pl.col("e").sum() / explained.sum(), pl.col("q").sum() / qty.sum(), inspections=pl.len())
            .filter(
                (pl.col("inspections") >= MIN_IN_LEAF)
                & (pl.col("e") >= WHERE_MIN_SHARE)
                & (pl.col("e") > WHERE_MIN_LIFT * pl.col("q"))
            )
            .sort(pl.col("e") / pl.col("q"), "member", descending=[True, False])
        )
        if by.height and (best is None or by["e"][0] / by["q"][0] > best["lift"]):
            best = {"column": column, "member": by["member"][0], "e": by["e"][0], "q": by["q"][0]}
            best["lift"] = best["e"] / best["q"]
    if best is None:
        return None
    return {
        "column": best["column"],
        "member": best["member"],
        "share_of_explained": round(best["e"], 4),
        "share_of_inspected": round(best["q"], 4),
    }


def _cost(defects: np.ndarray, cost_per_defect: pl.Series) -> Decimal:
    """Σ defects × cost per defect, summed per cost (per product), in cents."""
    by = pl.DataFrame({"d": defects, "cost": cost_per_defect}).group_by("cost").agg(pl.col("d").sum())
    return round_cents(sum((to_decimal(d) * to_decimal(c) for c, d in by.iter_rows() if c is not None), Decimal(0)))


def _explained(contribution: np.ndarray, qty: np.ndarray, defects: float, cost: pl.Series) -> dict[str, Any]:
    """The defects a contribution (rate units, per inspection) explains where positive, their share and cost."""
    explained = qty * np.maximum(contribution, 0.0)
    return {
        "defects_explained": round(float(explained.sum()), 1),
        "share_of_defects": round(float(explained.sum()) / defects, 4),
        "cost_explained": _cost(explained, cost),
    }


def _groups(contributions: np.ndarray, qty: np.ndarray, defects: float, cost: pl.Series) -> list[dict[str, Any]]:
    """Each group of DRIVERS priced as one driver, ranked by cost explained."""
    members: dict[str, list[int]] = {}
    for j, (_name, (group, _meaning)) in enumerate(DRIVERS.items()):
        members.setdefault(group, []).append(j)
    rows = [
        {
            "group": group,
            "drivers": [list(DRIVERS)[j] for j in columns],
            **_explained(contributions[:, columns].sum(axis=1), qty, defects, cost),
        }
        for group, columns in members.items()
    ]
    rows.sort(key=lambda r: (-r["cost_explained"], -r["defects_explained"], r["group"]))
    return [{"rank": i + 1, **r} for i, r in enumerate(rows)]


def defect_drivers(inspections: pl.DataFrame) -> dict[str, Any]:
    """`{inspections, defects, defect_rate, cost_of_defects, drivers: [{rank, driver, group, meaning, worst,
    where, defects_explained, share_of_defects, cost_explained}], groups: [{rank, group, drivers, defects_explained,
    share_of_defects, cost_explained}]}`, drivers and groups by cost explained, highest first."""
    booster, matrix = fit_defect_rate(inspections)
    contributions = np.asarray(booster.predict(matrix, pred_contrib=True))[:, :-1]
    qty = inspections["qty_inspected"].cast(pl.Float64).to_numpy()
    defects = float(inspections["qty_defective"].sum())
    rows: list[dict[str, Any]] = []
    for j, (name, (group, meaning)) in enumerate(DRIVERS.items()):
        rows.append(
            {
                "driver": name,
                "group": group,
                "meaning": meaning,
                "worst": _worst(name, inspections[name], contributions[:, j], qty),
                "where": None
                if name in CATEGORICAL
                else _where(inspections.select(WHERE.get(group, ())), contributions[:, j], qty),
                **_explained(contributions[:, j], qty, defects, inspections["cost_per_defect"]),
            }
        )
    rows.sort(key=lambda r: (-r["cost_explained"], -r["defects_explained"], r["driver"]))
    return {
        "inspections": inspections.height,
        "defects": defects,
        "defect_rate": round(defects / float(qty.sum()), 5),
        "cost_of_defects": _cost(
            inspections["qty_defective"].cast(pl.Float64).to_numpy(), inspections["cost_per_defect"]
        ),
        "drivers": [{"rank": i + 1, **r} for i, r in enumerate(rows)],
        "groups": _groups(contributions, qty, defects, inspections["cost_per_defect"]),
    }
