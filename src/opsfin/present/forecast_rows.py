"""The row shapes of forecast accuracy and backtests, as `opsfin forecast accuracy|backtest --format json`
and the REST API give them (docs/forecasting.md "Accuracy and backtests"): one definition for both.

Measures are fractions at full precision (WAPE 0.1333 = 13.33 %; FVA 0.2 = 20 points); a measure that is
undefined (MASE of a series without a season of history) is null, and so is `months_ahead` on the row
that covers every month ahead."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported by whoever made the frame; the CLI starts faster without it
    import pandas as pd

# the unit kind of each measure in a table or on a page (fractions read as percentages)
MEASURE_KINDS = {
    "wape": "ratio",
    "bias": "ratio",
    "coverage": "ratio",
    "wape_naive": "ratio",
    "fva": "ratio",
    "mase": "number",
    "points": "count",
    "origins": "count",
    "actual": "quantity",
}


def plain(value: Any) -> Any:
    """NaN and missing values as None, numpy numbers as Python numbers."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of an accuracy or backtest frame as plain dicts."""
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def accuracy_json(report) -> dict[str, Any]:
    """`{versions, rows, notes}` of a `runs.forecast_accuracy.AccuracyReport`."""
    return {"versions": list(report.versions), "rows": records(report.rows), "notes": list(report.notes)}


def backtest_json(result, horizon: int) -> dict[str, Any]:
    """`{origins (YYYY-MM), horizon, rows, notes}` of a `forecast.backtest.BacktestResult`."""
    return {
        "origins": [f"{o:%Y-%m}" for o in result.origins],
        "horizon": horizon,
        "rows": records(result.summary),
        "notes": list(result.notes),
    }
