"""`opsfin eval cash` on a workspace (docs/cash.md, "Backtest"): choose the origins, the plan version of
each, the late-paying customers of the demo's ground truth, and call the pure backtest."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..cash.backtest import Backtest, backtest
from ..core.periods import add_months, month_end
from ..errors import UserError
from .cash_forecast import check_weeks, choose_version
from .model import TRUTH_FILE, load_truth
from .tables import reading_tables

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

HISTORY_MONTHS = 2  # whole months of books before the first origin


def backtest_cash(ws: WorkspaceFolder, origins: int = 6, weeks: int = 13) -> Backtest:
    """Forecast from `origins` month ends, the last one `weeks` weeks before the last bank statement, and
    compare with what followed."""
    check_weeks(weeks)
    if origins < 1:
        raise UserError("{param} " + f"{origins}: at least 1", param="origins", value=str(origins))
    truth = load_truth(ws.truth_dir) if (ws.truth_dir / TRUTH_FILE).exists() else []
    late = [(a.entity_id, a.start, a.end) for a in truth if a.kind == "late_paying_customer"]
    with reading_tables(ws) as t:
        st = t("bank_statements")
        span = st.aggregate(first=st.statement_date.min(), last=st.statement_date.max()).to_pyarrow().to_pylist()[0]
        if span["first"] is None:
            raise UserError("no bank statements: nothing to backtest the cash forecast against")
        days = _origins(span["first"], span["last"], origins, weeks)
        versions = {d: choose_version(ws, t, d, d + dt.timedelta(days=7 * weeks)).name for d in days}
        return backtest(t, days, weeks, versions.__getitem__, late)


def _origins(first: dt.date, last: dt.date, n: int, weeks: int) -> list[dt.date]:
    latest = month_end(add_months(last - dt.timedelta(days=7 * weeks), -1))
    earliest = month_end(add_months(first, HISTORY_MONTHS - 1))
    out = [month_end(add_months(latest, -i)) for i in range(n)]
    out = sorted(d for d in out if d >= earliest)
    if not out:
        raise UserError(f"the bank statements from {first} to {last} are too short to backtest {weeks} weeks")
    return out
