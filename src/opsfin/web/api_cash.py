"""REST API of cash (docs/cash.md "The Cash page"): the JSON of `opsfin cash forecast`, `opsfin cash levers` and
`opsfin cash schedule` (`--format json`), through the same runs-layer calls and the same cache as the Cash page.

Cash is company-wide (one bank, one ledger): site-scoped users get a 403 (web/authz.py `company_level`).
Without `as_of`, everything starts from the last bank statement's date; a later `as_of` is a 400."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from . import cash_page as cp
from .api import grant_for, json_rows, optional_day, results
from .problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1/cash", tags=["read"], responses=PROBLEM_RESPONSES)

# empty means "not given" (the page's form sends empty fields), so the patterns allow the empty string
AsOf = Annotated[str | None, optional_day("YYYY-MM-DD (default: the last bank statement's date)")]
Weeks = Annotated[str | None, Query(json_schema_extra={"pattern": r"^([0-9]{1,2})?$"}, description="weeks, 1 to 53")]
Change = Annotated[str | None, Query(description="days (-5, +10) or a percent of the current days (-10%)")]


def _form(request: Request, **query: str | None) -> cp.CashForm:
    grant_for(request, company_level=True)
    return cp.read_form(results(request), query)


@router.get("/forecast", summary="The daily cash forecast (opsfin cash forecast)")
def cash_forecast(request: Request, as_of: AsOf = None, weeks: Weeks = None) -> Response:
    """`{as_of, opening_balance, days: [{date, inflow, outflow, closing, closing_p10, closing_p90}], by_kind:
    [{week, kind, amount}]}`; future sales from the plan version `opsfin cash forecast` would choose."""
    form = _form(request, as_of=as_of, weeks=weeks)
    forecast, _ = cp.forecast_of(results(request), form)
    return json_rows(forecast.as_dict())


@router.get("/levers", summary="Working-capital levers (opsfin cash levers)")
def cash_levers(
    request: Request,
    as_of: AsOf = None,
    dso: Change = None,
    dio: Change = None,
    dpo: Change = None,
    rate: Annotated[str | None, Query(description="yearly cost of funds, 6% or 0.06")] = None,
) -> Response:
    """`{from, to, rate, levers: [...], discounts: [...]}`: the cash each lever releases and its yearly
    financing value, and each supplier's early-payment discount against the rate. A lever not given takes
    the CLI's default (dso -5, dio -10%, dpo +10); an empty one is left out."""
    form = _form(request, as_of=as_of, dso=dso, dio=dio, dpo=dpo, rate=rate)
    return json_rows(cp.levers_of(results(request), form).as_dict())


@router.get("/schedule", summary="Production scheduled around cash (opsfin cash schedule)")
def cash_schedule(
    request: Request,
    as_of: AsOf = None,
    weeks: Weeks = None,
    min_cash: Annotated[str | None, Query(description="keep the closing cash at least this (base currency)")] = None,
) -> Response:
    """`{orders, load, cash, objective, baseline}`: a MILP with a 20 s time limit, against earliest due date;
    1 to 13 weeks (the CLI takes more)."""
    form = _form(request, as_of=as_of, schedule_weeks=weeks, min_cash=min_cash)
    return json_rows(cp.schedule_of(results(request), form).as_dict())
