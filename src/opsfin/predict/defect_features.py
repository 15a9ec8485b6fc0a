"""What was known about each inspected piece of work when it was done (docs/predict.md "Quality defects").

One row per inspection of an operation: `qty_inspected`, `qty_defective`, `cost_per_defect` and the
columns of DRIVERS. The I/O layer reads the categorical columns (work centre, machine, shift, product,
the supplier and lot of the product's main material received last before the work) and the crew's tenure
(days since each employee's first timesheet) and the machine's temperature and vibration at full load;
`with_machine_condition` adds the machine's days since its last planned maintenance on the day before the
work from the maintenance panel (opsfin.predict.maintenance_features)."""

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
}
DRIVERS = {**CATEGORICAL, **NUMERIC}
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
