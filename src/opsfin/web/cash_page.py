"""What the Cash page shows (docs/web.md "Cash"), gathered for one caller: the daily cash forecast with its
P10–P90 band and the minimum-cash line, the inflows and outflows by kind and week, the documents behind a
day, the working-capital levers and the cash-aware production schedule against its baseline.

Every figure comes from the runs layer the CLI calls — `runs.cash_forecast.forecast_cash` (`opsfin cash
forecast`), `runs.cash.predict_payments` (`opsfin cash predict`), `runs.cash_forecast.cash_levers` (`opsfin
cash levers`) and `runs.cash_schedule.schedule_cash` (`opsfin cash schedule`) — cached per warehouse load
(web/cache.py). This module only picks rows and lays them out.

Site scope: the balance, the levers and the schedule are company-wide (one bank, one ledger), so the page
is for users who see every site (web/authz.py `company_level`). With a site filter the drill lists only
the documents of that site: an AR invoice's site is its sales order's, an AP invoice's its purchase-order
lines' (`runs.reads.document_sites`); a document reaching no site is left out then."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from ..core.periods import parse_day
from ..errors import UserError
from . import charts

FORECAST_WEEKS = 13
SCHEDULE_WEEKS = 4
MAX_SCHEDULE_WEEKS = 13  # the web's bound on the MILP's size (the CLI takes up to 53)
MAX_AMOUNT = Decimal(10) ** 16  # what DECIMAL(18,2) holds
WEB_TIME_LIMIT_S = 20.0  # the MILP's time limit on the web (the CLI's default is 30 s)
LEVERS = ("dso", "dio", "dpo")
LEVER_DEFAULTS = {"dso": "-5", "dio": "-10%", "dpo": "+10", "rate": "6%"}  # as `opsfin cash levers`
DOC_KINDS = {"receivables": "ar_invoice", "payables": "ap_invoice"}


@dataclass(frozen=True)
class CashForm:
    """The page's inputs, checked: the as-of day, the weeks, the minimum cash (None: none given), the
    levers' moves as typed (a blank lever is left out), the rate and the schedule's weeks."""

    as_of: dt.date
    weeks: int
    min_cash: Decimal | None
    levers: dict[str, str] = field(default_factory=dict)
    rate: str = LEVER_DEFAULTS["rate"]
    schedule_weeks: int = SCHEDULE_WEEKS

    def params(self, **extra: Any) -> dict[str, Any]:
        """The query parameters that show this view again (for links and hidden form fields)."""
        base: dict[str, Any] = {"as_of": self.as_of.isoformat(), "weeks": self.weeks}
        if self.min_cash is not None:
            base["min_cash"] = str(self.min_cash)
        base |= {k: self.levers.get(k, "") for k in LEVERS} | {"rate": self.rate}
        return base | extra


def _whole_number(text: str | None, param: str, default: int) -> int:
    if text is None or not text.strip():
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise UserError("{param} " + f"{text!r}: a whole number of weeks", param=param, value=text) from None


def parse_amount(text: str | None, param: str) -> Decimal | None:
    """An amount typed in a form (`250000`, `-5,000.50`); None when blank; a UserError naming `param`."""
    if text is None or not text.strip():
        return None
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise UserError("{param} " + f"{text!r}: an amount such as 250000 or -5000.50", param=param, value=text)
    return value


def check_finite(text: str, param: str) -> str:
    """`text` (a lever's days or percent, a rate), refused when it names no finite number (`inf`, `NaN`);
    the engine's parser words every other mistake."""
    try:
        value = Decimal(text.strip().rstrip("%").replace("−", "-"))
    except InvalidOperation:
        return text
    if not value.is_finite():
        raise UserError("{param} " + f"{text!r}: a finite number", param=param, value=text)
    return text


def read_form(results: Any, query: dict[str, str | None]) -> CashForm:
    """The page's form from the query string; the as-of day defaults to the last bank statement's date and
    may not be after it. A malformed value is a UserError naming its parameter (the page answers 400)."""
    from ..runs.cash_forecast import check_weeks

    last = default_as_of(results)
    as_of = parse_day(query.get("as_of") or None, "--as-of") or last
    if as_of > last:  # the bank after its last statement is unknown: no opening balance to start from
        raise UserError(
            "{param} " + f"{as_of}: after the last bank statement ({last}); what happened since is not loaded",
            param="as_of",
            value=str(as_of),
        )
    weeks = check_weeks(_whole_number(query.get("weeks"), "weeks", FORECAST_WEEKS))
    schedule_weeks = _whole_number(query.get("schedule_weeks"), "schedule_weeks", SCHEDULE_WEEKS)
    if not 1 <= schedule_weeks <= MAX_SCHEDULE_WEEKS:
        raise UserError(
            "{param} "
            + f"{schedule_weeks}: 1 to {MAX_SCHEDULE_WEEKS} weeks on the web (`opsfin cash schedule` takes more)",
            param="schedule_weeks",
            value=str(schedule_weeks),
        )
    levers = {k: (query.get(k) if query.get(k) is not None else LEVER_DEFAULTS[k]) or "" for k in LEVERS}
    return CashForm(
        as_of,
        weeks,
        parse_amount(query.get("min_cash"), "min_cash"),
        {k: check_finite(v, k).strip() for k, v in levers.items() if v.strip()},
        check_finite(query.get("rate") or LEVER_DEFAULTS["rate"], "rate").strip(),
        schedule_weeks,
    )


# ---------------------------------------------------------------- the runs layer, cached
def default_as_of(results: Any) -> dt.date:
    from ..runs.reads import last_bank_statement

    day = results.cache.get(("cash", "last_statement"), lambda: last_bank_statement(results.ws))
    if day is None:
        raise UserError("no bank statement is loaded: load bank_statements, or give as_of (YYYY-MM-DD)")
    return day


def forecast_of(results: Any, form: CashForm) -> tuple[Any, Any]:
    """(CashForecast, ChosenVersion) of `opsfin cash forecast --as-of … --weeks …`."""
    from ..runs.cash_forecast import forecast_cash

    key = ("cash", "forecast", form.as_of, form.weeks)
    return results.cache.get(key, lambda: forecast_cash(results.ws, form.as_of, form.weeks))


def predicted_of(results: Any, as_of: dt.date) -> Any:
    """The `opsfin cash predict --as-of …` rows (a PaymentPrediction)."""
    from ..runs.cash import predict_payments

    return results.cache.get(("cash", "predict", as_of), lambda: predict_payments(results.ws, as_of))


def levers_of(results: Any, form: CashForm) -> Any:
    """`opsfin cash levers --as-of … --rate …` with the form's moves (a Levers)."""
    from ..runs.cash_forecast import cash_levers

    key = ("cash", "levers", form.as_of, tuple(sorted(form.levers.items())), form.rate)
    return results.cache.get(key, lambda: cash_levers(results.ws, form.levers, form.rate, form.as_of.isoformat()))


def schedule_of(results: Any, form: CashForm) -> Any:
    """`opsfin cash schedule --as-of … --weeks … [--min-cash …]` with the web's time limit (a CashSchedule)."""
    from ..runs.cash_schedule import schedule_cash

    floor = None if form.min_cash is None else str(form.min_cash)
    key = ("cash", "schedule", form.as_of, form.schedule_weeks, floor)
    return results.cache.get(
        key,
        lambda: schedule_cash(results.ws, form.as_of, form.schedule_weeks, floor, time_limit_s=WEB_TIME_LIMIT_S),
    )


def document_sites_of(results: Any) -> dict[tuple[str, str], frozenset[str]]:
    from ..runs.reads import document_sites

    return results.cache.get(("cash", "document_sites"), lambda: document_sites(results.ws))


# ---------------------------------------------------------------- the forecast laid out
def week_ends(as_of: dt.date, weeks: int) -> dict[int, dt.date]:
    """Week n → its last day (week 1 is the 7 days after the as-of day, as the engine counts)."""
    return {w: as_of + dt.timedelta(days=7 * w) for w in range(1, weeks + 1)}


def week_table(by_kind: pl.DataFrame) -> dict[str, Any]:
    """The engine's `by_kind` rows as one row per week with a column per kind (signed: inflows +)."""
    kinds = sorted(set(by_kind["kind"].to_list()))
    amounts = {(w, k): a for w, k, a in by_kind.select("week", "kind", "amount").iter_rows()}
    weeks = sorted(set(by_kind["week"].to_list()))
    return {"kinds": kinds, "rows": [{"week": w, "amounts": {k: amounts.get((w, k)) for k in kinds}} for w in weeks]}


def balance_chart(days: pl.DataFrame, min_cash: Decimal | None, link: Any) -> dict[str, Any]:
    """The daily closing balance inside its P10–P90 band, and the minimum-cash line (the form's value, else
    zero: no overdraft); a click on a day opens its documents (`link(day)`)."""
    x = [d.isoformat() for d in days["date"].to_list()]
    edge = {"type": "scatter", "mode": "lines", "x": x, "line": {"width": 0}, "hoverinfo": "skip"}
    data = [
        edge | {"name": "P90", "y": [float(v) for v in days["closing_p90"]], "showlegend": False},
        edge
        | {
            "name": "P10–P90",
            "y": [float(v) for v in days["closing_p10"]],
            "fill": "tonexty",
            "fillcolor": charts.BAND,
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "closing balance",
            "x": x,
            "y": [float(v) for v in days["closing"]],
            "customdata": [link(d) for d in days["date"].to_list()],
            "line": {"color": charts.TOTAL},
            "marker": {"size": 4},
        },
    ]
    floor = min_cash if min_cash is not None else Decimal(0)
    label = f"minimum cash {floor:,}" if min_cash is not None else "zero (no minimum given)"
    layout = _layout("Daily closing balance, P10–P90", "base currency")
    layout |= minimum_line(floor, label)
    return {"data": data, "layout": layout}


def flows_chart(by_kind: pl.DataFrame, as_of: dt.date, weeks: int) -> dict[str, Any]:
    """Inflows (+) and outflows (−) by kind and week as stacked bars."""
    ends = week_ends(as_of, weeks)
    data = []
    for kind in sorted(set(by_kind["kind"].to_list())):
        part = by_kind.filter(pl.col("kind") == kind).sort("week")
        data.append(
            {
                "type": "bar",
                "name": kind.replace("_", " "),
                "x": [f"w{w} · {ends[w]:%m-%d}" for w in part["week"].to_list()],
                "y": [float(a) for a in part["amount"]],
            }
        )
    layout = _layout("Inflows (+) and outflows (−) by kind and week", "base currency") | {"barmode": "relative"}
    return {"data": data, "layout": layout}


def schedule_cash_chart(schedule: Any, min_cash: Decimal | None) -> dict[str, Any]:
    """The closing cash of the cash-aware schedule and of the EDD baseline, with the minimum cash asked for."""
    curves = {"cash-aware schedule": schedule.cash}
    if schedule.baseline_cash is not None:
        curves["baseline (earliest due date)"] = schedule.baseline_cash
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": [d.isoformat() for d in frame["date"].to_list()],
            "y": [float(v) for v in frame["closing"]],
        }
        for name, frame in curves.items()
    ]
    layout = _layout("Closing cash of the schedule", "base currency")
    if min_cash is not None:
        layout |= minimum_line(min_cash, f"minimum cash {min_cash:,}")
    return {"data": data, "layout": layout}


def objective_rows(schedule: Any) -> list[dict[str, Any]]:
    """The objective's parts of the schedule beside the baseline's, as the engine reports them."""
    from ..runs.cash_schedule import OBJECTIVE_FIGURES

    return [
        {"figure": k, "schedule": schedule.objective.get(k), "baseline": schedule.baseline.get(k)}
        for k in OBJECTIVE_FIGURES
    ]


def _layout(title: str, unit: str) -> dict[str, Any]:
    """A day- or week-axis figure's layout: the value axis titled with its unit, the legend below."""
    return charts._layout(
        title,
        height=380,
        margin={"l": 90, "r": 20, "t": 40, "b": 90},
        xaxis={"type": "category", "tickangle": -60},
        yaxis={"title": {"text": unit}, "tickformat": ",.0f"},
        legend={"orientation": "h", "x": 0, "y": -0.35, "yanchor": "top"},
    )


def minimum_line(level: Decimal, label: str) -> dict[str, Any]:
    """The minimum-cash line across the chart, dashed and labelled, as a guardrail's bound is drawn."""
    return charts.guardrail_shapes([{"low": level, "label": label}])


# ---------------------------------------------------------------- the drill: the documents behind a day
@dataclass
class DayDrill:
    """One forecast day: its row (inflow, outflow, closing, band), the `cash predict` rows of the documents
    the forecast places on it, the day's other flows (run rate, planned), and how many documents a site
    filter left out."""

    day: dt.date
    figures: dict[str, Any]
    documents: list[dict[str, Any]]
    other_flows: list[dict[str, Any]]
    hidden: int = 0


def forecast_day(forecast: Any, day: dt.date) -> dict[str, Any]:
    """The forecast's row of `day`; a UserError naming `day` when the forecast has no such day."""
    found = forecast.days.filter(pl.col("date") == day)
    if found.is_empty():
        first, last = forecast.days["date"].min(), forecast.days["date"].max()
        raise UserError(
            "{param} " + f"{day}: not a day of this forecast ({first} … {last})", param="day", value=str(day)
        )
    return found.to_dicts()[0]


def day_drill(
    forecast: Any,
    prediction: Any,
    day: dt.date,
    sites: list[str] | None,
    doc_sites: dict[tuple[str, str], frozenset[str]],
) -> DayDrill:
    """The documents behind `day`: the forecast's document flows on that day (an overdue document is placed
    on the day after the as-of day, as the engine places it), shown as their `cash predict` rows; with
    `sites`, only the documents whose sites are all among them."""
    found = forecast_day(forecast, day)
    flows = forecast.flows.filter(pl.col("date") == day)
    docs = flows.filter(pl.col("kind").is_in(list(DOC_KINDS)))
    keys = {(DOC_KINDS[k], ref) for k, ref in docs.select("kind", "ref").iter_rows()}
    rows = [r for r in prediction.rows.to_dicts() if (r["doc_type"], r["doc_id"]) in keys]
    kept = rows
    if sites is not None:
        wanted = set(sites)
        kept = [r for r in rows if (s := doc_sites.get((r["doc_type"], r["doc_id"]))) and s <= wanted]
    for r in kept:
        r["sites"] = ", ".join(sorted(doc_sites.get((r["doc_type"], r["doc_id"]), ())))
    kept.sort(key=lambda r: (r["doc_type"], r["doc_id"]))
    others = flows.filter(~pl.col("kind").is_in(list(DOC_KINDS))).sort("kind", "ref").to_dicts()
    return DayDrill(day, found, kept, others if sites is None else [], len(rows) - len(kept))
