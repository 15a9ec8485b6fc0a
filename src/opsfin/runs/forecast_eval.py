"""`opsfin eval forecast`: the rolling-origin backtest of the demand forecast on the workspace, judged by
`evaluation/forecast.py` (docs/forecasting.md "Evaluation on the demo company").

This module only does the I/O: the backtest through `forecast_accuracy.backtest_report` (it reads the
shipments) and truth/anomalies.json for the injected demand shift. Nothing is written."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..errors import UserError
from ..evaluation.forecast import DemandShift, ForecastEvaluation, demand_shift, evaluate
from .forecast_accuracy import backtest_report, product_families
from .model import TRUTH_FILE, label, read_text

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder


def truth_demand_shift(ws: WorkspaceFolder) -> DemandShift | None:
    """The demand shift of truth/anomalies.json; None when the workspace has no truth/ or no shift in it."""
    path, where = ws.truth_dir / TRUTH_FILE, label(TRUTH_FILE, "truth")
    if not path.exists():
        return None
    try:
        records = json.loads(read_text(path, where))
    except ValueError as exc:
        raise UserError(f"{where}: not a ground-truth file ({exc})") from None
    if not isinstance(records, list):
        raise UserError(f"{where}: not a ground-truth file (a list of anomalies expected)")
    return demand_shift([r for r in records if isinstance(r, dict)])


def forecast_evaluation(
    ws: WorkspaceFolder, origins: int, horizon: int, models: tuple[str, ...] = ("auto",)
) -> ForecastEvaluation:
    """Backtest from the last `origins` as-of months, `horizon` months ahead, and judge it."""
    shift = truth_demand_shift(ws)
    result = backtest_report(ws, origins, horizon, models)
    report = evaluate(
        result.summary, result.forecasts, result.points, product_families(ws), result.origins, horizon, shift
    )
    report.notes = result.notes + report.notes
    return report
