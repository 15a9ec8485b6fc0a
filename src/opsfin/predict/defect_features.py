"""What was known about each inspected piece of work when it was done (docs/predict.md "Quality defects").

One row per inspection of an operation: `qty_inspected`, `qty_defective`, `cost_per_defect` and the
columns of DRIVERS. The I/O layer reads the categorical columns (work centre, machine, shift, product,
the supplier and lot of the product's main material received last before the work) and the crew's tenure
(days since each employee's first timesheet) and the machine's temperature and vibration at full load;
`with_machine_condition` adds the machine's days since its last planned maintenance on the day before the
work from the maintenance panel (opsfin.predict.maintenance_features); `with_lot_history` adds the lot's
defect rate so far from the inspections themselves."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

# column -> (group, meaning); a categorical column is one feature (LightGBM's own categorical splits)
CATEGORICAL: dict[str, tuple[str, str]] = {
    "work_center_id": ("work centre", "the work centre"),
    "machine_id": ("machine", "the machine"),
    "shift_id": ("shift", "the shift"),
    "product_id": ("product", "the product made"),
    "supplier_id": ("material", "the supplier of the main material"),
}
NUMERIC: dict[str, tuple[str, str]] = {
    "operator_tenure_days": ("operator", "the crew's mean days since their first timesheet"),
    "newest_operator_days": (
        "operator",
        "the newest crew member's days since their first timesheet, among those who joined after the "
        "timesheets began (empty when the whole crew was there from the start)",
    ),
    "machine_temperature_7d": ("machine condition", "the machine's temperature at full load, 7 days before"),
    "machine_vibration_7d": ("machine condition", "the machine's vibration at full load, 7 days before"),
    "machine_days_since_maintenance": ("machine condition", "days since the machine's last planned maintenance"),
    "lot_defect_rate": (
        "material",
        "the defect rate so far of earlier work on the same lot of the main material (inspected before the "
        "work began; empty for a lot's first work)",
    ),
}
DRIVERS = {**CATEGORICAL, **NUMERIC}
# group of numeric columns -> the categorical columns its effect is located over (a numeric driver's "where",
# opsfin.predict.defects): the material's lots come from a supplier, the machine's condition is a machine's,
# and the crew is the timesheets' crew of a work centre and shift
WHERE: dict[str, tuple[str, ...]] = {
    "material": ("supplier_id",),
    "machine condition": ("machine_id",),
    "operator": ("work_center_id", "shift_id"),
}
CONDITION = {"machine_days_since_maintenance": "days_since_maintenance"}


def with_machine_condition(inspections: pl.DataFrame, panel: pl.DataFrame) -> pl.DataFrame:
    """`inspections` (with machine_id, work_day) with the machine's condition at the end of the day before
    the work; null for work without a machine or before its first reading."""
    condition = panel.select(
        "machine_id",
        work_day=pl.col("day") + dt.timedelta(days=1),
        **{ours: pl.col(theirs) for ours, theirs in CONDITION.items()},
    )
    return inspections.join(condition, on=["machine_id", "work_day"], how="left")


def with_lot_history(inspections: pl.DataFrame) -> pl.DataFrame:
    """`inspections` (with lot_id, worked_at, inspected_at, qty_inspected, qty_defective) with
    `lot_defect_rate`: Σ qty_defective ÷ Σ qty_inspected of the inspections of the same lot inspected
    strictly before this work began (what was known when it was done); null without a lot or earlier ones."""
    so_far = (
        inspections.drop_nulls("lot_id")
        .group_by("lot_id", "inspected_at")
        .agg(pl.col("qty_inspected").sum(), pl.col("qty_defective").sum())
        .sort("inspected_at", "lot_id")
        .select(
            "lot_id",
            "inspected_at",
            inspected=pl.col("qty_inspected").cum_sum().over("lot_id"),
            defective=pl.col("qty_defective").cum_sum().over("lot_id"),
        )
    )
    known = (
        inspections.select("inspection_id", "lot_id", "worked_at")
        .sort("worked_at")
        .join_asof(
            so_far,
            left_on="worked_at",
            right_on="inspected_at",
            by="lot_id",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .select(
            "inspection_id",
            lot_defect_rate=pl.when(pl.col("inspected") > 0).then(pl.col("defective") / pl.col("inspected")),
        )
    )
    return inspections.join(known, on="inspection_id", how="left", maintain_order="left")


def encode(
    frame: pl.DataFrame, categories: dict[str, list[str]] | None = None
) -> tuple[np.ndarray, dict[str, list[str]]]:
    """The model matrix in DRIVERS order: a categorical column as its code in `categories` (its sorted
    values when None; NaN for null or unseen), a numeric one as a float. Returns the matrix and the
    categories used."""
    categories = categories or {c: sorted(str(v) for v in frame[c].drop_nulls().unique()) for c in CATEGORICAL}
    columns = []
    for name in DRIVERS:
        if name in CATEGORICAL:
            index = {v: float(i) for i, v in enumerate(categories[name])}
            columns.append(np.array([index.get(v, np.nan) if v is not None else np.nan for v in frame[name]]))
        else:
            columns.append(frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy())
    return np.column_stack(columns), categories
