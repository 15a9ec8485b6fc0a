"""The Cash page (docs/web.md "Cash") on a copy of the tiny company: the page's figures against the runs
layer's (`opsfin cash forecast`, `cash predict`, `cash levers`, `cash schedule`) and against identities
worked from the page itself (each day closes at the day before + inflow − outflow; a week's kinds add up to
its days), the drill from a day to its documents (and a site filter on it), the levers form round trip,
the schedule behind its button, bad input as a 400 naming the parameter, and site-scoped users refused."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
from decimal import ROUND_FLOOR, Decimal

import pytest

from opsfin.core.money import round_cents
from opsfin.jsonout import dumps
from opsfin.runs.cash import predict_payments
from opsfin.runs.cash_forecast import cash_levers, forecast_cash
from opsfin.runs.cash_schedule import schedule_cash
from opsfin.web.pages import money
from web_support import bearer, figure, table, web_env

AS_OF = "2024-04-30"  # the last bank statement of the tiny company: the page's default


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    with web_env(tiny_demo, tmp_path_factory.mktemp("web_cash"), own_app_db=True) as env:
        yield env


@pytest.fixture(scope="module")
def forecast(env):
    """The runs layer's forecast, as `opsfin cash forecast --as-of AS_OF` computes it."""
    return forecast_cash(env["ws"], AS_OF, 13)[0]


def get(env, path: str, name: str = "ada", status: int = 200):
    response = env["client"].get(path, headers=bearer(env["tokens"][name]))
    assert response.status_code == status, response.text[-2000:]
    return response


def page(env, path: str, name: str = "ada", status: int = 200) -> str:
    return get(env, path, name, status).text


def amount(cell: str) -> Decimal:
    return Decimal(cell.replace(",", ""))


def day_rows(text: str) -> list[tuple[dt.date, Decimal, Decimal, Decimal]]:
    """(day, inflow, outflow, closing) of the page's table of days."""
    out = []
    for day, cells in re.findall(r'<tr data-day="([^"]+)"[^>]*>(.*?)</tr>', table(text, "cash-days"), re.S):
        numbers = [amount(c) for c in re.findall(r'<td class="num">([^<]*)</td>', cells)]
        out.append((dt.date.fromisoformat(day), numbers[0], numbers[1], numbers[2]))
    return out


def test_the_page_starts_from_the_last_bank_statement(env):
    last = env["ws"].sql("SELECT statement_date FROM bank_statements ORDER BY statement_date DESC LIMIT 1")
    text = page(env, "/cash")
    assert f"<h1>Cash · from {last['statement_date'][0].isoformat()}</h1>" in text
    assert 'href="/cash' in text and 'aria-current="page">Cash</a>' in text
    assert len(day_rows(text)) == 13 * 7


def test_the_figures_are_the_runs_layers(env, forecast):
    text = page(env, f"/cash?as_of={AS_OF}")
    assert f'id="opening-balance">EUR {money(forecast.opening_balance)}</strong>' in text
    chart = figure(text, "cash-balance")
    closing = next(t for t in chart["data"] if t["name"] == "closing balance")
    p10 = next(t for t in chart["data"] if t["name"] == "P10–P90")
    assert closing["y"] == [float(v) for v in forecast.days["closing"]]
    assert p10["y"] == [float(v) for v in forecast.days["closing_p10"]]
    assert chart["layout"]["shapes"][0]["y0"] == 0.0  # no minimum given: the line at zero
    rows = day_rows(text)
    assert [(d, i, o, c) for d, i, o, c in rows] == [
        (r["date"], r["inflow"], r["outflow"], r["closing"]) for r in forecast.days.to_dicts()
    ]
    # worked from the page alone: every day closes at the day before + inflow − outflow
    balance = forecast.opening_balance
    for _, inflow, outflow, close in rows:
        balance = balance + inflow - outflow
        assert close == balance
    # and each week's kinds add up to its seven days' net flow
    weeks = {}
    for week, end, cells in re.findall(
        r'<tr data-week="(\d+)"><td>\d+</td><td>([^<]*)</td>(.*?)</tr>', table(text, "cash-by-kind"), re.S
    ):
        assert dt.date.fromisoformat(end) == dt.date.fromisoformat(AS_OF) + dt.timedelta(days=7 * int(week))
        weeks[int(week)] = sum((amount(c) for c in re.findall(r'<td class="num"[^>]*>([^<]+)</td>', cells)), Decimal(0))
    start = dt.date.fromisoformat(AS_OF)
    for week, net in weeks.items():
        days = [
            r for r in rows if start + dt.timedelta(days=7 * week - 6) <= r[0] <= start + dt.timedelta(days=7 * week)
        ]
        assert len(days) == 7 and net == sum((i - o for _, i, o, _ in days), Decimal(0)), week
    assert sorted(weeks) == list(range(1, 14))
    bars = figure(text, "cash-flows")
    assert {t["name"] for t in bars["data"]} == {k.replace("_", " ") for k in forecast.by_kind["kind"]}
    assert bars["layout"]["barmode"] == "relative"
    assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))", text)  # no inline script (CSP)


def document_sites(ws) -> dict[tuple[str, str], set[str]]:
    """Each invoice's sites, read here on their own: AR through the sales order, AP through the PO lines."""
    out: dict[tuple[str, str], set[str]] = {}
    ar = ws.sql("SELECT DISTINCT i.invoice_id, o.site_id FROM ar_invoices i, sales_orders o WHERE o.so_id = i.so_id")
    ap = ws.sql(
        "SELECT DISTINCT l.invoice_id, p.site_id FROM ap_invoice_lines l, purchase_orders p "
        "WHERE p.po_id = l.po_id AND p.line = l.po_line"
    )
    for kind, rows in (("ar_invoice", ar), ("ap_invoice", ap)):
        for doc, site in rows.iter_rows():
            out.setdefault((kind, doc), set()).add(site)
    return out


@pytest.fixture(scope="module")
def busy_day(env):
    """The forecast day with the most documents of P1 and of elsewhere, and its documents by (type, id)."""
    rows = predict_payments(env["ws"], AS_OF).rows.to_dicts()
    tomorrow = dt.date.fromisoformat(AS_OF) + dt.timedelta(days=1)
    by_day: dict[dt.date, set[tuple[str, str]]] = {}
    for r in rows:  # as the forecast places them: nothing before the day after the as-of day
        by_day.setdefault(max(r["expected_date"], tomorrow), set()).add((r["doc_type"], r["doc_id"]))
    sites = document_sites(env["ws"])

    def mix(day):
        mine = [k for k in by_day[day] if sites.get(k) == {"P1"}]
        return min(len(mine), len(by_day[day]) - len(mine)), len(by_day[day])

    day = max((d for d in by_day if d <= tomorrow + dt.timedelta(days=90)), key=mix)
    assert mix(day)[0] > 0, "the tiny company should have a day with documents of P1 and of another site"
    return day, by_day[day], sites


def drilled(text: str) -> set[str]:
    return set(re.findall(r'<tr data-doc="([^"]+)">', table(text, "cash-documents")))


def test_a_day_drills_to_its_documents_and_a_site_filter_keeps_that_sites(env, busy_day):
    day, docs, sites = busy_day
    text = page(env, f"/cash?as_of={AS_OF}&day={day}")
    assert drilled(text) == {doc for _, doc in docs}
    assert f'id="drill-day">{day.isoformat()}: inflow' in text
    chart = figure(text, "cash-balance")
    link = next(t for t in chart["data"] if t["name"] == "closing balance")["customdata"][0]
    assert link.startswith("/cash?") and f"as_of={AS_OF}" in link and link.endswith("#cash-day")
    first = dt.date.fromisoformat(AS_OF) + dt.timedelta(days=1)
    assert f"day={first}" in link  # the first point opens the first day
    p1 = page(env, f"/cash?as_of={AS_OF}&day={day}&site=P1")
    kept = {doc for kind, doc in docs if sites.get((kind, doc)) == {"P1"}}
    assert drilled(p1) == kept and kept != {doc for _, doc in docs}
    assert f"{len(docs) - len(kept)} document(s) of other sites, or of no site, are not shown." in p1
    assert 'id="cash-other-flows"' not in p1  # payroll and the like are the company's


def test_site_scoped_users_are_refused(env, busy_day):
    day = busy_day[0]
    text = page(env, f"/cash?as_of={AS_OF}&day={day}", "pia", 403)
    assert "mixes every site's data" in htmllib.unescape(text)
    assert get(env, f"/api/v1/cash/forecast?as_of={AS_OF}", "wes", 403).json()["status"] == 403
    assert 'href="/cash' not in page(env, "/plan", "pia")  # no link to a page they may not see
    assert 'href="/cash' in page(env, "/plan", "val")  # a viewer of every site reads it
    page(env, f"/cash?as_of={AS_OF}&day={day}&site=P2", "pia", 403)


def lever_cells(text: str) -> dict[str, list[str]]:
    rows = re.findall(r'<tr data-lever="(\w+)">(.*?)</tr>', table(text, "levers"), re.S)
    return {lever: re.findall(r'<td class="num">([^<]*)</td>', cells) for lever, cells in rows}


def test_the_levers_form_round_trip(env):
    text = page(env, f"/cash?as_of={AS_OF}&dso=-7&dio=&dpo=%2B12&rate=5%25")
    form = text[text.index('id="levers-form"') : text.index("</form>", text.index('id="levers-form"'))]
    assert 'name="dso" value="-7"' in form and 'name="dio" value=""' in form
    assert 'name="dpo" value="+12"' in form and 'name="rate" value="5%"' in form
    assert f'<input type="hidden" name="as_of" value="{AS_OF}">' in form  # the view comes back with it
    cells = lever_cells(text)
    assert set(cells) == {"dso", "dpo"}  # a blank lever is left out
    runs = {r["lever"]: r for r in cash_levers(env["ws"], {"dso": "-7", "dpo": "+12"}, "5%", AS_OF).levers}
    for lever, values in cells.items():
        current, target, released, value = (amount(v) for v in values)
        assert released == runs[lever]["cash_released"] and current == runs[lever]["current_days"]
        assert target == current + (-7 if lever == "dso" else 12)  # the days moved as typed
        assert value == round_cents(released * Decimal("0.05"))  # a year's financing at 5 %
    bad = page(env, f"/cash?as_of={AS_OF}&dso=abc")
    assert "dso &#39;abc&#39;: use days (-5, +10) or a percent (-10%)" in bad
    assert 'name="dso" value="abc"' in bad and 'id="cash-balance"' in bad  # the rest of the page still shows


def hidden_fields(text: str, form_id: str) -> dict[str, str]:
    start = text.index(f'id="{form_id}"')
    form = text[start : text.index("</form>", start)]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))


def test_each_form_keeps_the_view_and_the_other_inputs_but_its_own(env):
    text = page(env, f"/cash?as_of={AS_OF}&weeks=3&dso=-7&dio=&site=P1&period=2024-04")
    view = {"site": "P1", "period": "2024-04"}
    assert hidden_fields(text, "levers-form") == {"as_of": AS_OF, "weeks": "3"} | view
    levers = {"dso": "-7", "dio": "", "dpo": "+10", "rate": "6%"}  # dpo and rate: the CLI's defaults
    assert hidden_fields(text, "schedule-form") == {"as_of": AS_OF, "weeks": "3"} | levers | view | {"schedule": "1"}


def test_a_bad_date_or_amount_is_a_clear_400(env):
    for query, words in (
        ("as_of=2024-02-30", "as_of: &#39;2024-02-30&#39; is not a date; use YYYY-MM-DD"),
        ("as_of=2030-01-01", "as_of 2030-01-01: after the last bank statement (2024-04-30)"),
        ("weeks=many", "weeks &#39;many&#39;: a whole number of weeks"),
        ("weeks=60", "weeks 60: choose 1 to 53 weeks"),
        ("min_cash=lots", "min_cash &#39;lots&#39;: an amount"),
        ("min_cash=1e40", "min_cash &#39;1e40&#39;: an amount"),  # more than DECIMAL(18,2) holds
        ("dso=Infinity", "dso &#39;Infinity&#39;: a finite number"),
        ("schedule=1&schedule_weeks=14", "schedule_weeks 14: 1 to 13 weeks on the web"),
    ):
        assert words in page(env, f"/cash?{query}", status=400), query
    problem = get(env, "/api/v1/cash/forecast?as_of=31.12.2024", status=400).json()
    assert problem["param"] == "as_of" and "YYYY-MM-DD" in problem["detail"]
    early = page(env, "/cash?as_of=1999-01-04&weeks=1")  # the engines refuse it: error boxes, not a 500
    assert "no bank statement on or before 1999-01-04" in htmllib.unescape(early)
    outside = page(env, f"/cash?as_of={AS_OF}&day=2030-01-01")
    assert "day 2030-01-01: not a day of this forecast (2024-05-01 … 2024-07-30)" in htmllib.unescape(outside)


def test_the_schedule_is_behind_a_button_and_set_against_its_baseline(env, forecast):
    assert 'id="objective"' not in page(env, f"/cash?as_of={AS_OF}")
    # the floor: the forecast's low point rounded down to ten thousand, plus ten thousand (old demo: low
    # point 5,383,035.03 → 5,390,000), so the low days sit under the line and the rest above it
    low = min(forecast.days["closing"])
    floor = str((low / 10000).to_integral_value(ROUND_FLOOR) * 10000 + 10000)
    text = page(env, f"/cash?as_of={AS_OF}&min_cash={floor}&schedule=1&schedule_weeks=2")
    runs = schedule_cash(env["ws"], AS_OF, 2, floor, time_limit_s=20)
    rows = dict(re.findall(r'<tr data-figure="(\w+)"><td>[^<]*</td>\s*(.*?)</tr>', table(text, "objective"), re.S))
    cells = {k: re.findall(r'<td class="num">([^<]*)</td>', v) for k, v in rows.items()}
    for key in ("total", "lateness_cost", "financing_cost", "holding_cost", "cash_low_point"):
        assert cells[key] == [money(runs.objective[key]), money(runs.baseline[key])], key
    for column in (0, 1):  # the parts add up to the total on the page
        parts = sum(amount(cells[k][column]) for k in ("lateness_cost", "financing_cost", "holding_cost"))
        assert parts == amount(cells["total"][column])
    curves = {t["name"]: t for t in figure(text, "schedule-cash")["data"]}
    assert curves["cash-aware schedule"]["y"] == [float(v) for v in runs.cash["closing"]]
    assert curves["baseline (earliest due date)"]["y"] == [float(v) for v in runs.baseline_cash["closing"]]
    assert figure(text, "cash-balance")["layout"]["shapes"][0]["y0"] == float(floor)  # the minimum-cash line
    below = set(re.findall(r'<tr data-day="([^"]+)" class="below-min', text))
    expected = {r["date"].isoformat() for r in forecast.days.to_dicts() if r["closing"] < Decimal(floor)}
    assert below == expected and 0 < len(expected) < 91  # the days under the line are marked
    assert text.count("<tr><td>PO-") == runs.orders.height


def test_the_api_returns_the_clis_json(env, forecast):
    body = get(env, f"/api/v1/cash/forecast?as_of={AS_OF}").json()
    assert body == json.loads(dumps(forecast.as_dict()))  # the CLI's encoder
    levers = get(env, f"/api/v1/cash/levers?as_of={AS_OF}&dso=-7&dio=&dpo=%2B12&rate=5%25").json()
    assert [r["lever"] for r in levers["levers"]] == ["dso", "dpo"] and levers["rate"] == "0.05"
