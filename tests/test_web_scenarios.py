"""The Scenarios page (docs/web.md "Scenarios") on a copy of the tiny company with a model/scenarios.yaml:
the list, a scenario's run against its base (the waterfall, the lines, the cash, the lost sales) equal to
the runs layer's report, the simulation, site scope, the form's round trip through model/scenarios.yaml
(valid: written and re-read, the other scenarios and comments kept, audited; invalid: the parser's message,
the file unchanged), CSRF, who may edit, and the driver tornado."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import escape

import pytest
from tests.test_scenario_cli import OUTAGE

from opsfin.runs import drivers as driver_runs
from opsfin.runs.scenario_sim import simulate_scenario
from opsfin.runs.scenarios import base_case, find_scenario, load_scenarios
from opsfin.scenarios.engine import compare, run_scenario
from opsfin.web.pages import money, number
from web_support import PASSWORD, TestClient, bearer, figure, table, web_env

SCENARIOS = (
    "# scenarios of the tiny company (kept by the web editor)\nscenarios:\n"
    + OUTAGE
    + """\
  # a scenario without shocks: the base itself
  - name: quiet
    base: B2024
    distributions:
      demand: {sd_pct: 0}
"""
)


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    def prepare(ws) -> None:
        (ws.model_dir / "scenarios.yaml").write_text(SCENARIOS, encoding="utf-8")

    with web_env(tiny_demo, tmp_path_factory.mktemp("web_scenarios"), prepare) as env:
        yield env


@pytest.fixture(scope="module")
def report(env):
    """The runs layer's report of `outage` (what `opsfin scenario run outage` reports)."""
    ws = env["ws"]
    scenario = find_scenario(ws, "outage")
    with base_case(ws, scenario.base) as base:
        return compare(run_scenario(base, []), run_scenario(base, scenario.shocks), "outage", "B2024")


def page(env, name: str, path: str, status: int = 200) -> str:
    response = env["client"].get(path, headers=bearer(env["tokens"][name]))
    assert response.status_code == status, response.text
    return response.text


def line_cells(html: str, line: str) -> list[str]:
    row = re.search(rf'<tr data-line="{line}"[^>]*>(.*?)</tr>', table(html, "scenario-lines"), re.S).group(1)
    return re.findall(r'<td class="num">([^<]*)</td>', row)


def total(report, line: str, column: str, sites=None) -> Decimal:
    return sum(
        (r[column] for r in report.pnl.to_dicts() if r["line"] == line and (sites is None or r["site_id"] in sites)),
        Decimal(0),
    )


def test_the_list_shows_each_scenario_with_its_base_and_shocks(env):
    html = page(env, "val", "/scenarios")
    assert 'aria-current="page">Scenarios</a>' in html
    rows = table(html, "scenarios")
    assert '<tr data-scenario="outage"' in rows and '<tr data-scenario="quiet"' in rows
    assert "capacity 400 · work_centers: P1-ASSY · 2024-02..2024-02" in rows
    assert "fixed_cost 1000 · sites: P1 · 2024-03..end" in rows
    assert "no shock: the base itself" in rows
    assert 'aria-current="page">Scenarios</a>' in page(env, "val", "/scenarios/nowhere", 404)


def test_the_run_is_the_runs_layers_report(env, report):
    html = page(env, "ada", "/scenarios/outage")
    for line in ("revenue", "cogs", "variances", "opex", "operating_income"):
        expected = [total(report, line, c) for c in ("base", "scenario", "delta")]
        assert line_cells(html, line) == [money(x) for x in expected]
    # the fixed cost by hand: 1,000 a month at P1 in March and April
    assert line_cells(html, "opex")[2] == money(Decimal("2000.00"))
    # the waterfall walks from the base's operating income to the scenario's, one bar per line
    bars = figure(html, "waterfall")["data"][0]
    assert bars["measure"] == ["absolute", "relative", "relative", "relative", "relative", "total"]
    base_oi, scen_oi = total(report, "operating_income", "base"), total(report, "operating_income", "scenario")
    assert bars["y"][0] == pytest.approx(float(base_oi)) and bars["y"][-1] == pytest.approx(float(scen_oi))
    effects = [total(report, "revenue", "delta")] + [-total(report, x, "delta") for x in ("cogs", "variances", "opex")]
    assert bars["y"][1:5] == pytest.approx([float(x) for x in effects])
    assert base_oi + sum(effects) == scen_oi  # the bars add up exactly
    assert bars["y"][4] == pytest.approx(-2000.0)
    # the cash curve and table: the report's month-end cash of both
    cash = table(html, "scenario-cash")
    for r in report.cash.to_dicts():
        row = re.search(rf'<tr data-period="{r["period"]:%Y-%m}">(.*?)</tr>', cash, re.S).group(1)
        assert re.findall(r'<td class="num">([^<]*)</td>', row) == [money(r[c]) for c in ("base", "scenario", "delta")]
    curve = figure(html, "cash-curve")
    assert [t["name"] for t in curve["data"]] == ["base B2024", "scenario outage"]
    assert curve["data"][1]["y"] == pytest.approx([float(x) for x in report.cash["scenario"]])
    # the lost sales: the outage gives up volume at the bottleneck in February
    lost = table(html, "lost-sales")
    assert report.lost_sales.height and lost.count("<tr><td>2024-02</td>") == report.lost_sales.height
    assert "capacity P1-ASSY (bottleneck)" in lost


def test_site_scope_keeps_the_sites_rows(env, report):
    # P1's controller: P1's rows only (a plant sells nothing), no cash, lost sales or simulation
    html = page(env, "pia", "/scenarios/outage?simulate=1")
    assert line_cells(html, "revenue") == [money(Decimal(0))] * 3
    assert line_cells(html, "opex") == [money(total(report, "opex", c, {"P1"})) for c in ("base", "scenario", "delta")]
    assert line_cells(html, "opex")[2] == money(Decimal("2000.00"))
    assert 'id="company-hidden"' in html
    assert 'id="scenario-cash"' not in html and 'id="lost-sales"' not in html and 'id="simulate-form"' not in html
    # W1's viewer: the selling site's revenue, none of P1's fixed cost
    html = page(env, "wes", "/scenarios/outage")
    assert line_cells(html, "revenue")[2] == money(total(report, "revenue", "delta", {"W1"}))
    assert line_cells(html, "opex")[2] == money(Decimal(0))
    # an unscoped user filtering on P2
    html = page(env, "ada", "/scenarios/outage?site=P2")
    assert line_cells(html, "opex") == [money(total(report, "opex", c, {"P2"})) for c in ("base", "scenario", "delta")]


def test_the_simulation_is_the_runs_layers(env):
    html = page(env, "ada", "/scenarios/outage?simulate=1&draws=200&seed=3")
    done = simulate_scenario(env["ws"], "outage", 200, 3).simulation
    breaches = table(html, "breaches")
    for b in done.breaches.to_dicts():
        assert (
            f'<tr><td>{escape(b["guardrail"])}</td><td class="num">{number(b["probability"], "ratio")}</td>' in breaches
        )
    assert "cash &gt;= 0" in breaches  # the minimum cash is always a guardrail
    fan = figure(html, "fan-operating_income")
    p50 = done.months.filter(done.months["measure"] == "operating_income").sort("period")
    assert fan["data"][2]["name"] == "P50" and fan["data"][2]["y"] == pytest.approx([float(x) for x in p50["p50"]])
    assert fan["data"][0]["y"] == pytest.approx([float(x) for x in p50["p90"]])
    too_many = page(env, "ada", "/scenarios/outage?simulate=1&draws=20000")
    assert "draws must be between 1 and 10,000" in too_many and 'id="breaches"' not in too_many


def test_the_api_returns_the_runs_layers_json(env, report):
    from opsfin.jsonout import dumps

    client, tokens = env["client"], env["tokens"]
    listed = client.get("/api/v1/scenarios", headers=bearer(tokens["val"])).json()
    assert [s["name"] for s in listed][:2] == ["outage", "quiet"]
    assert listed[0]["shocks"][0] == {
        "kind": "capacity",
        "scope": {
            "products": [],
            "families": [],
            "sites": [],
            "suppliers": [],
            "customers": [],
            "work_centers": ["P1-ASSY"],
            "currencies": [],
        },
        "start": "2024-02-01",
        "end": "2024-02-01",
        "size": "400",
    }
    ran = client.get("/api/v1/scenarios/outage/run", headers=bearer(tokens["ada"]))
    assert ran.status_code == 200 and ran.json() == json.loads(dumps(report.as_json()))
    mine = client.get("/api/v1/scenarios/outage/run", headers=bearer(tokens["pia"])).json()
    assert mine["pnl"] and {r["site_id"] for r in mine["pnl"]} == {"P1"}
    assert mine["capacity"] and all(r["work_center_id"].startswith("P1-") for r in mine["capacity"])
    assert mine["cash"] is None and mine["lost_sales"] is None
    opex = sum(Decimal(r["delta"]) for r in mine["pnl"] if r["line"] == "opex")
    assert opex == Decimal("2000.00")
    sim = client.get("/api/v1/scenarios/outage/simulate?draws=200&seed=3", headers=bearer(tokens["carl"])).json()
    assert (sim["scenario"], sim["draws"], sim["seed"]) == ("outage", 200, 3)
    assert sim["breaches"][0]["guardrail"] == "cash >= 0"
    assert client.get("/api/v1/scenarios/outage/simulate", headers=bearer(tokens["pia"])).status_code == 403
    assert client.get("/api/v1/scenarios/nowhere/run", headers=bearer(tokens["ada"])).status_code == 404
    assert client.get("/api/v1/scenarios/outage/simulate?draws=0", headers=bearer(tokens["ada"])).status_code == 422


def log_in(client: TestClient, name: str) -> str:
    """A session for `name` (the login form); returns the session's CSRF token."""
    client.cookies.clear()
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    html = client.get("/scenarios").text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def shock_form(**values) -> dict:
    """A form with one shock row (and a blank one, as the page posts it)."""
    row = {"kind": "", "dim_a": "", "members_a": "", "dim_b": "", "members_b": "", "start": "", "end": "", "size": ""}
    first = row | values.pop("shock", {})
    return values | {k: [first[k], row[k]] for k in row}


def file_text(env) -> str:
    return (env["ws"].model_dir / "scenarios.yaml").read_text(encoding="utf-8")


def test_csrf_is_checked_and_the_form_round_trips(env):
    client = TestClient(env["client"].app)
    csrf = log_in(client, "carl")
    levy = shock_form(
        name="levy",
        base="B2024",
        description="a levy of 2.50 per pump",
        shock={
            "kind": "unit_cost",
            "dim_a": "products",
            "members_a": "FG-001, FG-002",
            "start": "2024-02",
            "size": "2.5",
        },
    )
    before = file_text(env)
    refused = client.post("/scenarios", data=levy | {"csrf_token": "wrong"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert file_text(env) == before
    done = client.post("/scenarios", data=levy | {"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/scenarios/levy?saved=1"
    found = load_scenarios(env["ws"].model_dir)
    assert [s.name for s in found.scenarios] == ["outage", "quiet", "levy"]
    shock = found.get("levy").shocks[0]
    assert (shock.kind, shock.scope.products, f"{shock.start:%Y-%m}", shock.end, shock.size) == (
        "unit_cost",
        ["FG-001", "FG-002"],
        "2024-02",
        None,
        Decimal("2.5"),
    )
    text = file_text(env)
    assert text.startswith(before)  # appended: the others and every comment as they were
    entry = [e for e in env["db"].audit_entries() if e["action"] == "scenario.add" and e["object_id"] == "levy"]
    assert entry and entry[0]["actor"] == "carl" and entry[0]["payload"]["before"] is None
    assert "Scenario levy saved" in client.get(done.headers["location"]).text
    # edit `quiet` in place: its distributions and the comments around it stay
    quiet = shock_form(
        original="quiet",
        name="quiet",
        base="B2024",
        shock={"kind": "demand", "dim_a": "", "start": "2024-03", "end": "2024-04", "size": "-10"},
    )
    done = client.post("/scenarios", data=quiet | {"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303, done.text
    found = load_scenarios(env["ws"].model_dir)
    edited = found.get("quiet")
    assert [(s.kind, s.scope.given(), s.size) for s in edited.shocks] == [("demand", {}, Decimal("-10"))]
    assert edited.distributions is not None and edited.distributions.demand.sd_pct == 0
    assert "# a scenario without shocks: the base itself" in file_text(env)
    assert "assembly at P1 down for most of February" in file_text(env)
    assert found.get("outage") == load_scenarios_of(SCENARIOS).get("outage")
    change = [e for e in env["db"].audit_entries() if e["action"] == "scenario.change" and e["object_id"] == "quiet"]
    assert change and change[0]["payload"]["before"]["shocks"] == []


def load_scenarios_of(text: str):
    import yaml

    from opsfin.scenarios.config import parse_scenarios

    return parse_scenarios(yaml.safe_load(text))


@pytest.mark.parametrize(
    ("shock", "message"),
    [
        (
            {"kind": "demand", "start": "2024-13", "size": "5"},
            "field &#39;shocks[1].start&#39;: expected a month YYYY-MM, got &#39;2024-13&#39;",
        ),
        (
            {"kind": "capacity", "start": "2024-02", "size": "10"},
            "a capacity shock needs `scope: {work_centers: [...]}`",
        ),
        (
            {"kind": "capacity", "dim_a": "work_centers", "members_a": "P9-NONE", "start": "2024-02", "size": "10"},
            "unknown work center &#39;P9-NONE&#39;",
        ),
        ({"kind": "demand", "start": "2024-02", "size": "lots"}, "field &#39;shocks[1].size&#39;: expected a number"),
    ],
)
def test_an_invalid_scenario_is_refused_with_the_parsers_message(env, shock, message):
    before = file_text(env)
    form = shock_form(name="bad", base="B2024", shock=shock)
    response = env["client"].post("/scenarios", data=form, headers=bearer(env["tokens"]["ada"]))
    assert response.status_code == 400, response.text
    assert 'id="scenario-error"' in response.text and message in response.text
    assert 'value="bad"' in response.text  # the posted values come back in the form
    assert file_text(env) == before


def test_an_unknown_base_is_refused(env):
    before = file_text(env)
    form = shock_form(name="elsewhere", base="B1999", shock={"kind": "demand", "start": "2024-02", "size": "5"})
    response = env["client"].post("/scenarios", data=form, headers=bearer(env["tokens"]["carl"]))
    assert response.status_code == 400 and "base &#39;B1999&#39; has no volume_plan rows" in response.text
    assert file_text(env) == before


def test_who_may_edit(env):
    before = file_text(env)
    form = shock_form(name="mine", base="B2024", shock={"kind": "demand", "start": "2024-02", "size": "5"})
    for name in ("val", "ann", "pia"):  # a viewer, an analyst, a controller limited to P1
        response = env["client"].post("/scenarios", data=form, headers=bearer(env["tokens"][name]))
        assert response.status_code == 403 and "may not edit scenarios" in response.text
        assert 'id="scenario-form"' not in page(env, name, "/scenarios")
    assert file_text(env) == before
    assert 'id="scenario-form"' in page(env, "carl", "/scenarios")


def test_the_tornado_ranks_the_drivers_report(env, monkeypatch):
    nodes = [
        {
            "id": "operating_income",
            "label": "Operating income",
            "unit": "money",
            "vs_prior": Decimal("5"),
            "vs_budget": None,
            "sensitivity_operating_income": None,
            "sensitivity_cash": None,
        },
        {
            "id": "price",
            "label": "Average selling price",
            "unit": "money/unit",
            "vs_prior": Decimal("-2"),
            "vs_budget": None,
            "sensitivity_operating_income": Decimal("4220.00"),
            "sensitivity_cash": Decimal("100"),
        },
        {
            "id": "scrap_rate",
            "label": "Scrap rate",
            "unit": "ratio",
            "vs_prior": 0.03,
            "vs_budget": None,
            "sensitivity_operating_income": Decimal("-3000"),
            "sensitivity_cash": Decimal("-10"),
        },
        {
            "id": "dso",
            "label": "Days sales outstanding",
            "unit": "days",
            "vs_prior": None,
            "vs_budget": None,
            "sensitivity_operating_income": Decimal("0"),
            "sensitivity_cash": Decimal("-28837.88"),
        },
    ]
    import datetime as dt

    asked = []

    def fake_report(ws, period=None, version=None, progress=None):
        asked.append(period)
        return driver_runs.DriverReport(dt.date(2024, 4, 1), "B2024", nodes)

    monkeypatch.setattr(driver_runs, "driver_report", fake_report)
    assert 'id="drivers-not-computed"' in page(env, "ada", "/drivers?period=2024-04")
    html = page(env, "ada", "/drivers?period=2024-04&compute=1")
    assert asked == ["2024-04"]
    # by hand: scrap 3 points × −3,000 = −9,000; price 2 × 4,220 = 8,440; dso has no change to rank it by
    rows = re.findall(r'<tr data-driver="([^"]+)">', table(html, "tornado-rows"))
    assert rows == ["scrap_rate", "price"]
    bars = figure(html, "tornado")["data"][0]
    assert bars["y"] == ["Scrap rate", "Average selling price"] and bars["x"] == [-9000.0, 8440.0]
    cash = page(env, "ada", "/drivers?period=2024-04&measure=cash")  # cached: ranked at once
    assert re.findall(r'<tr data-driver="([^"]+)">', table(cash, "tornado-rows")) == ["price", "scrap_rate"]
    assert asked == ["2024-04"]
    page(env, "pia", "/drivers", 403)  # company figures
    page(env, "ada", "/drivers?measure=ebitda", 400)


def test_the_text_edit_replaces_one_entry_where_it_stands():
    from opsfin.web.scenario_file import edited_text, raw_entries

    entry = {"name": "new", "base": "B2024", "shocks": [{"kind": "price", "scope": {}, "start": "2024-02", "size": 3}]}
    text = edited_text(SCENARIOS, raw_entries(SCENARIOS), 0, entry)
    assert text.splitlines()[:3] == [
        "# scenarios of the tiny company (kept by the web editor)",
        "scenarios:",
        "  - name: new",
    ]
    assert "      - {kind: price, scope: {}, start: 2024-02, size: 3}\n  # a scenario without shocks" in text
    assert text.endswith(SCENARIOS.split("  # a scenario without shocks: the base itself\n")[1])
    # no file yet, and a flow-style list the text edit cannot follow: the list is written whole
    assert edited_text("", [], None, entry) == (
        "scenarios:\n  - name: new\n    base: B2024\n    shocks:\n"
        "      - {kind: price, scope: {}, start: 2024-02, size: 3}\n"
    )
    flow = "# header\nscenarios: [{name: old, base: B2024, shocks: [{kind: demand, start: 2024-02-01, size: 1}]}]\n"
    rewritten = edited_text(flow, raw_entries(flow), None, entry)
    assert rewritten.startswith(
        "# header\nscenarios:\n  - name: old\n    base: B2024\n    shocks:\n"
        "      - {kind: demand, scope: {}, start: 2024-02, size: 1}\n  - name: new\n"
    )
    # a member that YAML would read as something else is quoted
    odd = {
        "name": "odd",
        "base": "B2024",
        "shocks": [{"kind": "demand", "scope": {"products": ["yes", "a b"]}, "start": "2024-02", "size": 1}],
    }
    assert 'scope: {products: ["yes", "a b"]}' in edited_text("", [], None, odd)
