"""The Investments and Experiments pages (docs/web.md "Investments", "Experiments") on a copy of the tiny
company with the shipped example examples/investments/investments.yaml in its model/ and a two-unit
experiment: the cases ranked with the runs layer's figures (the two-IRR mine and its NPV worked by hand),
each case's cash-flow chart, the portfolio against a budget beside the greedy ranking (worked by hand), the
form's round trip through model/investments.yaml (valid: written, re-read and audited, the other cases and
the comments kept; invalid: the parser's message, the file unchanged), CSRF, who may edit, and the
experiment's effect, interval and series equal to the runs layer's and to the KPI by hand."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from tests.test_experiment_cli import PAIR
from tests.test_invest_review_cli import FLOWS_ONLY

from opsfin.runs.experiments import analyze_named
from opsfin.runs.invest import evaluate, load_investments
from opsfin.web.pages import money, number
from web_support import PASSWORD, TestClient, bearer, figure, table, web_env

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "investments" / "investments.yaml"
EXPERIMENTS = "experiments:\n" + PAIR
# a case reviewed after go-live, appended to the example (its spend is in 2024: the portfolio test gives 2024
# a budget of 0 so the example's hand-worked choice stays as it is)
REVIEWED = FLOWS_ONLY


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    def prepare(ws) -> None:
        shutil.copyfile(EXAMPLE, ws.model_dir / "investments.yaml")
        with (ws.model_dir / "investments.yaml").open("a", encoding="utf-8") as file:
            file.write(REVIEWED)
        (ws.model_dir / "experiments.yaml").write_text(EXPERIMENTS, encoding="utf-8")

    with web_env(tiny_demo, tmp_path_factory.mktemp("web_invest"), prepare) as env:
        yield env


def page(env, name: str, path: str, status: int = 200) -> str:
    response = env["client"].get(path, headers=bearer(env["tokens"][name]))
    assert response.status_code == status, response.text
    return response.text


def cells(html: str, table_id: str, attr: str, key: str) -> list[str]:
    row = re.search(rf'<tr {attr}="{key}"[^>]*>(.*?)</tr>', table(html, table_id), re.S).group(1)
    return [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_the_cases_are_ranked_with_the_runs_layers_figures(env):
    html = page(env, "carl", "/investments")
    assert 'aria-current="page">Investments</a>' in html
    rows = table(html, "cases")
    order = re.findall(r'<tr data-case="([^"]+)"', rows)
    expected = evaluate(env["ws"])  # at the file's 9 %
    npv = {e.case.name: e.worth.npv for e in expected}
    assert order == sorted(npv, key=lambda n: -npv[n])
    assert order[0] == "press_retrofit" and order[-1] == "mine_reclaim"
    assert 'aria-current="page">Investments</a>' in page(env, "carl", "/investments?edit=nope", 404)
    for e in expected:
        row = cells(html, "cases", "data-case", e.case.name)
        assert row[2] == money(e.worth.npv)
        assert row[7] == (number(e.worth.profitability_index) if e.worth.profitability_index is not None else "")
    # the textbook mine by hand: −1,600, +10,000 a year later, −10,000 two years later, at 9 %
    mine = -Decimal(1600) + Decimal(10000) / Decimal("1.09") - Decimal(10000) / Decimal("1.09") ** 2
    assert cells(html, "cases", "data-case", "mine_reclaim")[2] == money(mine.quantize(Decimal("0.01")))
    assert cells(html, "cases", "data-case", "mine_reclaim")[3] == "25.0%, 400.0%"
    # another rate from the form: NPVs at 0 % are the plain sums of the flows
    at_zero = page(env, "carl", "/investments?rate=0")
    assert cells(at_zero, "cases", "data-case", "smed_line2")[2] == money(Decimal("3000.00"))
    bad = page(env, "carl", "/investments?rate=abc")  # the runs layer's message in the cases' place
    assert "&#39;abc&#39;: use a percent (6%) or a fraction (0.06)" in bad and 'id="cases"' not in bad


def test_each_case_has_its_cash_flow_chart(env):
    html = page(env, "ada", "/investments")
    chart = figure(html, "chart-smed_line2")
    bars, line = chart["data"]
    assert bars["x"] == ["2026-01-01", "2026-03-01", "2026-10-30", "2027-02-15", "2027-04-01"]
    assert bars["y"] == [-10000, 2750, 4250, 3250, 2750]
    assert line["y"] == [-10000, -7250, -3000, 250, 3000]  # the running total by hand


def test_the_portfolio_against_the_budget_beside_the_greedy_ranking(env):
    html = page(env, "carl", "/investments?budget=2024:0,2026:250000")
    assert "<strong>OPTIMAL</strong>" in html
    # by hand: the press alone spends the 250,000; the tooling needs it (290,000); the roof excludes it.
    best = re.findall(r'<tr data-case="([^"]+)"', table(html, "portfolio-best"))
    greedy = re.findall(r'<tr data-case="([^"]+)"', table(html, "portfolio-greedy_by_pi"))
    assert best == ["press_retrofit"]
    # greedy by PI: the tooling (with the press) does not fit, the line-2 tooling does, then the press
    # no longer fits, then the roof; the mine's PI is below 1
    assert greedy == ["smed_line2", "solar_roof"]
    npv = {e.case.name: e.worth.npv for e in evaluate(env["ws"])}
    left = npv["press_retrofit"] - npv["smed_line2"] - npv["solar_roof"]
    assert re.search(r'id="left-on-table">([^<]+)<', html).group(1) == money(left)
    assert cells(html, "spend-greedy_by_pi", "data-year", "2026")[1:] == [
        money(Decimal(190000)),
        money(Decimal(250000)),
    ]
    bad = page(env, "carl", "/investments?budget=2026-lots")
    assert "expected YEAR:AMOUNT" in bad and 'id="cases"' in bad


def test_site_scoped_users_are_refused(env):
    page(env, "pia", "/investments", 403)
    page(env, "pia", "/experiments", 403)
    assert ">Investments</a>" not in page(env, "pia", "/scenarios")


def log_in(client: TestClient, name: str) -> str:
    client.cookies.clear()
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/investments").text).group(1)


def case_form(flows, **values) -> dict:
    form = {"original": "", "name": "", "owner": "", "description": "", "requires": "", "excludes": ""} | values
    return form | {"flow_date": [d for d, _ in flows] + [""], "flow_amount": [a for _, a in flows] + [""]}


def file_text(env) -> str:
    return (env["ws"].model_dir / "investments.yaml").read_text(encoding="utf-8")


def test_csrf_is_checked_and_the_form_round_trips(env):
    client = TestClient(env["client"].app)
    csrf = log_in(client, "carl")
    forklift = case_form([("2026-01-01", "-5000"), ("2027-01-01", "6000.50")], name="forklift", owner="logistics")
    before = file_text(env)
    refused = client.post("/investments", data=forklift | {"csrf_token": "wrong"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert file_text(env) == before
    done = client.post("/investments", data=forklift | {"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/investments?saved=forklift"
    assert file_text(env).startswith(before)  # appended: the others and the comment as they were
    case = load_investments(env["ws"].model_dir).get("forklift")
    assert [(f.date.isoformat(), f.amount) for f in case.cash_flows] == [
        ("2026-01-01", Decimal(-5000)),
        ("2027-01-01", Decimal("6000.50")),
    ]
    html = client.get(done.headers["location"]).text
    assert "Case forklift saved" in html
    # by hand: −5,000 + 6,000.50 / 1.09 a year later
    npv = (Decimal(-5000) + Decimal("6000.50") / Decimal("1.09")).quantize(Decimal("0.01"))
    assert cells(html, "cases", "data-case", "forklift")[2] == money(npv)
    added = [e for e in env["db"].audit_entries() if e["action"] == "investment.add" and e["object_id"] == "forklift"]
    assert added and added[0]["actor"] == "carl" and added[0]["payload"]["before"] is None
    # edit the press in place: a new flow; its capex, life, salvage and tax kept as written
    form = client.get("/investments?edit=press_retrofit").text
    assert 'value="2027-03-01"' in form and 'name="original" value="press_retrofit"' in form
    flows = [(f"{y}-03-01", "60000") for y in range(2027, 2032)] + [("2031-06-01", "1000")]
    press = case_form(flows, original="press_retrofit", name="press_retrofit", owner="maintenance lead")
    done = client.post("/investments", data=press | {"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303, done.text
    found = load_investments(env["ws"].model_dir)
    edited = found.get("press_retrofit")
    assert edited.cash_flows[-1].amount == Decimal(1000) and len(edited.cash_flows) == 6
    assert (edited.life_years, edited.salvage, edited.tax_rate) == (5, Decimal(25000), 0.25)
    assert [(c.month.isoformat(), c.amount) for c in edited.capex] == [("2026-03-01", Decimal(250000))]
    assert "# Investment cases for `opsfin invest`" in file_text(env)
    assert found.get("solar_roof").excludes == ["press_retrofit"]
    change = [e for e in env["db"].audit_entries() if e["action"] == "investment.change"]
    assert change and len(change[-1]["payload"]["before"]["cash_flows"]) == 5


@pytest.mark.parametrize(
    ("flows", "message"),
    [
        (
            [("2026-13-01", "-100"), ("2027-01-01", "200")],
            "field &#39;cash_flows[1].date&#39;: expected a date YYYY-MM-DD, got &#39;2026-13-01&#39;",
        ),
        ([("2026-01-01", "-100"), ("2027-01-01", "lots")], "field &#39;cash_flows[2].amount&#39;: expected a number"),
    ],
)
def test_an_invalid_case_is_refused_with_the_parsers_message(env, flows, message):
    before = file_text(env)
    response = env["client"].post(
        "/investments", data=case_form(flows, name="bad"), headers=bearer(env["tokens"]["ada"])
    )
    assert response.status_code == 400, response.text
    assert 'id="invest-error"' in response.text and message in response.text
    assert "investments[" in response.text and "(bad)" in response.text  # the case named
    assert 'value="bad"' in response.text  # the posted values come back
    assert file_text(env) == before


def test_who_may_edit(env):
    before = file_text(env)
    form = case_form([("2026-01-01", "-1"), ("2027-01-01", "2")], name="mine2")
    for name in ("val", "ann"):  # a viewer, an analyst
        response = env["client"].post("/investments", data=form, headers=bearer(env["tokens"][name]))
        assert response.status_code == 403 and "may not edit investment cases" in response.text
        assert 'id="invest-form"' not in page(env, name, "/investments")
    response = env["client"].post("/investments", data=form, headers=bearer(env["tokens"]["pia"]))
    assert response.status_code == 403
    assert file_text(env) == before
    assert 'id="invest-form"' in page(env, "carl", "/investments")


def _energy_per_unit(ws) -> dict[tuple[str, int], float]:
    """(work centre, month) → kWh per good unit, from machine_readings by hand."""
    rows = ws.sql(
        "SELECT m.work_center_id AS wc, month(r.hour_start) AS mo, sum(r.kwh) AS kwh, sum(r.units_good) AS units "
        "FROM machine_readings r JOIN machines m USING (machine_id) GROUP BY 1, 2"
    ).to_dicts()
    return {(r["wc"], r["mo"]): float(r["kwh"]) / float(r["units"]) for r in rows}


def test_the_experiment_is_the_runs_layers_with_its_series(env, tiny_demo):
    html = page(env, "val", "/experiments")
    assert 'aria-current="page">Experiments</a>' in html
    report = analyze_named(env["ws"], "pair").as_json()
    (m,) = report["metrics"]
    row = cells(html, "effects-pair", "data-metric", "energy_per_unit")
    assert row[1:4] == [number(m["effect"]), number(m["ci_low"]), number(m["ci_high"])]
    assert row[7] == money(Decimal(m["money"]["amount"]))
    # the textbook difference-in-differences by hand: months 1–2 before, 3–4 after
    kpi = _energy_per_unit(tiny_demo)
    change = {wc: (kpi[(wc, 3)] + kpi[(wc, 4)] - kpi[(wc, 1)] - kpi[(wc, 2)]) / 2 for wc in ("P1-ASSY", "P2-ASSY")}
    assert m["effect"] == pytest.approx(change["P1-ASSY"] - change["P2-ASSY"], rel=1e-9, abs=1e-12)
    chart = figure(html, "series-pair-energy_per_unit")
    treated, control = chart["data"]
    assert treated["name"] == "P1-ASSY (treated)" and control["name"] == "P2-ASSY (control)"
    assert treated["x"] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert treated["y"] == pytest.approx([kpi[("P1-ASSY", mo)] for mo in (1, 2, 3, 4)], rel=1e-12)
    assert control["y"] == pytest.approx([kpi[("P2-ASSY", mo)] for mo in (1, 2, 3, 4)], rel=1e-12)
    assert chart["layout"]["shapes"][0]["x0"] == "2024-03"


def test_the_review_sets_the_promise_against_the_realised_effect(env, tiny_demo):
    from opsfin.runs.invest_review import review_named

    html = page(env, "carl", "/investments")
    review = review_named(env["ws"], "flows_only").as_json()
    (k,) = review["kpis"]
    row = cells(html, "review-flows_only", "data-kpi", "energy_per_unit")
    assert row[1] == "0.1" and row[2] == number(k["realised"]["effect"])
    assert row[5] == number(k["realisation"], "ratio") and row[6] == money(Decimal(k["savings_so_far"]["amount"]))
    kpi = _energy_per_unit(tiny_demo)
    change = {wc: (kpi[(wc, 3)] + kpi[(wc, 4)] - kpi[(wc, 1)] - kpi[(wc, 2)]) / 2 for wc in ("P1-ASSY", "P2-ASSY")}
    assert k["realised"]["effect"] == pytest.approx(change["P1-ASSY"] - change["P2-ASSY"], rel=1e-9)
    # the promise by hand: −10,000, then 6,000 after 365 and 730 days, at the file's 9 %
    promised = Decimal(-10000) + Decimal(6000) / Decimal("1.09") + Decimal(6000) / Decimal("1.09") ** 2
    section = html[html.index('id="invest-reviews"') :]
    assert f"NPV promised {money(promised.quantize(Decimal('0.01')))}" in section
    assert f"re-estimated on the realised effect\n  {money(Decimal(review['npv']['realised']))}" in section
