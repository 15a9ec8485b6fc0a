"""The Cash page (`/cash`; docs/web.md "Cash"): the daily cash forecast from an as-of day (default: the last
bank statement's date) with its P10–P90 band and the minimum-cash line, the inflows and outflows by kind
and week, a drill from a day to the documents behind it (`day=`), the working-capital levers as a form and,
behind a button (`schedule=1`, a MILP with a 20 s limit), the cash-aware schedule against its baseline.

Every input is in the query string (a GET form: nothing is written), so a link shows the same view. A
malformed as-of day, weeks or amount is a 400 page naming the parameter; an engine refusing the input (no
bank statement by the as-of day, a lever that is not a number of days) shows an error box in that part.
The page is company-wide: site-scoped users get a 403 (web/authz.py `company_level`); see cash_page.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..core.periods import parse_day
from . import cash_page as cp
from .pages import Period, SiteQ, page_scope, render, state
from .pages_data import attempt

router = APIRouter(include_in_schema=False)

FORM_FIELDS = ("as_of", "weeks", "min_cash", "dso", "dio", "dpo", "rate", "schedule_weeks")


def drill_part(results: Any, form: cp.CashForm, forecast: Any, day: str | None, sites: list[str] | None) -> Any:
    """The documents behind `day` (None: no drill asked for)."""
    chosen = parse_day(day or None, "--day")
    if chosen is None or forecast is None:
        return None
    cp.forecast_day(forecast, chosen)  # a day outside the forecast is refused before the documents are read
    prediction = cp.predicted_of(results, form.as_of)
    return cp.day_drill(forecast, prediction, chosen, sites, cp.document_sites_of(results))


@router.get("/cash", response_class=HTMLResponse)
def cash_page(request: Request, period: Period = None, site: SiteQ = None) -> Response:
    grant, view, sites = page_scope(request, period, site, company_level=True)
    query = {k: request.query_params.get(k) for k in (*FORM_FIELDS, "day", "schedule")}
    results = state(request).results
    form = cp.read_form(results, query)
    found, forecast_error = attempt(cp.forecast_of, results, form)
    forecast, chosen = found if found else (None, None)
    drill, drill_error = attempt(drill_part, results, form, forecast, query["day"], sites)
    levers, levers_error = attempt(cp.levers_of, results, form)
    schedule, schedule_error = (None, None)
    if query["schedule"]:
        schedule, schedule_error = attempt(cp.schedule_of, results, form)

    def day_link(day) -> str:
        return f"/cash?{view.query(**form.params(day=day.isoformat()))}#cash-day"

    return render(
        request,
        "cash.html",
        grant,
        view,
        "cash",
        form=form,
        params=form.params(),
        forecast=forecast,
        chosen=chosen,
        forecast_error=forecast_error,
        balance=cp.balance_chart(forecast.days, form.min_cash, day_link) if forecast else None,
        flows=cp.flows_chart(forecast.by_kind, form.as_of, form.weeks) if forecast else None,
        weeks_table=cp.week_table(forecast.by_kind) if forecast else None,
        week_ends=cp.week_ends(form.as_of, form.weeks),
        day_link=day_link,
        drill=drill,
        drill_error=drill_error,
        levers=levers,
        levers_error=levers_error,
        schedule=schedule,
        schedule_error=schedule_error,
        objective=cp.objective_rows(schedule) if schedule else [],
        schedule_chart=cp.schedule_cash_chart(schedule, form.min_cash) if schedule else None,
        time_limit=cp.WEB_TIME_LIMIT_S,
        site_filtered=sites is not None,
    )
