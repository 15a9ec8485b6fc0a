"""The Plan page (docs/web.md "Plan") on a copy of the tiny company with plans built by the runs/ functions:
the approval buttons each role is offered, the steps taken through the page's forms (maker-checker refused
on the page), site scope, the utilization heatmap's overload marks, the P&L against the budget, the
forecast band, the balances and cash."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from opsfin.runs.plan_roll import roll_forecast
from opsfin.runs.planning import build_plan_version
from opsfin.web import charts, create_app
from opsfin.web.pages import money
from opsfin.web.plan_page import budget_candidates, demand_of
from web_support import PASSWORD, TestClient, add_people, bearer, copy_workspace, figure, table

BUDGET, FORECAST, OVERLOADED = "B2024-plan", "fc-2024-03", "OVER"


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web_plan")
    ws = copy_workspace(tiny_demo, folder / "ws")
    url = f"sqlite:///{ws.path}/app.db"  # the workspace's own: the builds register their versions there
    db, tokens = add_people(url)
    build_plan_version(ws, BUDGET, "B2024", kind="budget", actor="ann")
    roll_forecast(ws, "2024-03", actor="ann", models="Naive", horizon=4)
    planning = ws.model_dir / "planning.yaml"
    default = planning.read_text(encoding="utf-8")
    # 90 days of cover builds three months of stock in January: more hours than the plants have
    planning.write_text("operations:\n  days_of_cover: 90\n", encoding="utf-8")
    build_plan_version(ws, OVERLOADED, "B2024", kind="scenario", actor="ann")
    planning.write_text(default, encoding="utf-8")
    db.submit_plan_version(BUDGET, "ann")
    db.approve_plan_version(BUDGET, "carl")
    for name in ("S-draft", "S-carl", "S-ann"):
        db.create_plan_version(name, "scenario", "ann")
    db.submit_plan_version("S-carl", "carl")
    db.submit_plan_version("S-ann", "ann")
    client = TestClient(create_app(ws.path, app_db_url=url))
    yield {"ws": ws, "db": db, "client": client, "tokens": tokens}
    db.close()


def page(env, name: str, path: str = "/plan", status: int = 200) -> str:
    response = env["client"].get(path, headers=bearer(env["tokens"][name]))
    assert response.status_code == status, response.text
    return response.text


def steps_offered(html: str) -> set[tuple[str, str]]:
    return set(re.findall(r'<form method="post" action="/plan/([^/"]+)/(\w+)"', html))


def test_the_page_is_in_the_nav_and_renders_for_every_role(env):
    for name in ("ada", "carl", "ann", "val", "pia", "wes"):
        html = page(env, name)
        assert 'href="/plan' in html and 'id="versions"' in html
    assert page(env, "val", "/plan/no-such-version", 404)
    assert "This version has no plan rows yet" in page(env, "ada", "/plan/S-draft")


def test_each_role_is_offered_the_steps_it_may_take(env):
    # ann (analyst) submits drafts; approves nothing
    ann = steps_offered(page(env, "ann"))
    assert ("S-draft", "submit") in ann and (FORECAST, "submit") in ann
    assert not {s for _, s in ann} & {"approve", "reject", "archive"}
    # carl (controller) submitted S-carl: he may reject it (a withdrawal) but not approve it
    carl = steps_offered(page(env, "carl"))
    assert ("S-carl", "reject") in carl and ("S-carl", "approve") not in carl
    assert ("S-ann", "approve") in carl and (BUDGET, "archive") in carl
    # ada (admin) approves both submissions
    ada = steps_offered(page(env, "ada"))
    assert {("S-carl", "approve"), ("S-ann", "approve"), ("S-ann", "reject")} <= ada
    # a viewer, and a controller limited to P1, are offered nothing: a version covers every site
    assert steps_offered(page(env, "val")) == set()
    assert steps_offered(page(env, "pia")) == set()


def test_approving_ones_own_submission_is_refused_on_the_page(env):
    response = env["client"].post("/plan/S-carl/approve", headers=bearer(env["tokens"]["carl"]))
    assert response.status_code == 403
    assert 'id="plan-error"' in response.text and "may not approve it too" in response.text
    assert env["db"].plan_version("S-carl")["status"] == "submitted"
    assert not [e for e in env["db"].audit_entries() if e["action"] == "plan.approve" and e["object_id"] == "S-carl"]


def test_a_viewer_posting_a_step_is_refused_on_the_page(env):
    response = env["client"].post("/plan/S-draft/submit", headers=bearer(env["tokens"]["val"]))
    assert response.status_code == 403 and "role viewer may not submit plans" in response.text
    assert env["db"].plan_version("S-draft")["status"] == "draft"


def log_in(client: TestClient, name: str) -> str:
    """A session for `name` in `client` (the login form); returns the session's CSRF token."""
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    html = client.get("/plan").text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_forms_take_the_steps_with_the_csrf_token(env):
    client = TestClient(env["client"].app)
    csrf = log_in(client, "ada")
    refused = client.post("/plan/S-ann/approve", data={"csrf_token": "wrong"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert env["db"].plan_version("S-ann")["status"] == "submitted"
    blank = client.post("/plan/S-ann/reject", data={"csrf_token": csrf, "reason": "  "})
    assert blank.status_code == 400 and "needs a reason" in blank.text
    done = client.post("/plan/S-ann/approve", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/plan/S-ann?done=approve"
    html = client.get(done.headers["location"]).text
    assert "Plan version S-ann is approved (approved by ada)." in html
    assert env["db"].plan_version("S-ann")["approved_by"] == "ada"
    again = client.post("/plan/S-ann/approve", data={"csrf_token": csrf})
    assert again.status_code == 409 and "is approved; only a version that is submitted" in again.text


def test_the_pnl_against_the_budget_is_worked_from_the_stored_rows(env):
    ws = env["ws"]
    html = page(env, "ada", f"/plan/{FORECAST}")
    assert f"against {BUDGET} over the 4 month(s)" in html  # the approved budget, January to April
    sums = ws.sql(
        "SELECT version, line, sum(amount) AS amount FROM plan_pnl WHERE version IN (?, ?) "
        "AND period <= DATE '2024-04-01' GROUP BY 1, 2",
        [FORECAST, BUDGET],
    )
    amount = {(v, line): a for v, line, a in sums.iter_rows()}
    rows = table(html, "pnl-variance")
    for line in ("revenue", "opex", "operating_income"):
        plan, budget = amount[(FORECAST, line)], amount[(BUDGET, line)]
        cells = re.search(rf'<tr data-line="{line}"[^>]*>(.*?)</tr>', rows, re.S).group(1)
        numbers = re.findall(r'<td class="num">([^<]*)</td>', cells)
        assert numbers[:3] == [money(plan), money(budget), money(plan - budget)]
    # the monthly table's total row is the sum over the version's seven months
    revenue = ws.sql("SELECT sum(amount) AS a FROM plan_pnl WHERE version = ? AND line = 'revenue'", [FORECAST])
    total = re.search(r'<tr class="total"><td>total</td>\s*<td class="num">([^<]*)</td>', table(html, "pnl-months"))
    assert total.group(1) == money(revenue["a"][0])


def test_the_forecast_band_is_on_units_shipped_from_the_demand_version(env):
    ws = env["ws"]
    html = page(env, "ada", f"/plan/{FORECAST}")
    assert "The P10–P90 band is on <strong>units shipped</strong>" in html
    band = figure(html, "band-0")
    assert band["layout"]["title"]["text"] == f"Units shipped · all sites · {FORECAST}-demand P10–P90"
    total = ws.sql(
        "SELECT p10, p90 FROM forecast_values WHERE version = ? AND level = 'total' ORDER BY period",
        [f"{FORECAST}-demand"],
    )
    assert band["data"][0]["y"] == pytest.approx(total["p90"].to_list())
    assert band["data"][1]["y"] == pytest.approx(total["p10"].to_list())
    assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))", html)  # no inline script (CSP)
    revenue = figure(html, "pnl-revenue")
    assert {t["name"] for t in revenue["data"]} == {"actual", f"budget {BUDGET}", f"plan {FORECAST}"}


def test_the_heatmap_marks_the_overloaded_cells(env):
    ws = env["ws"]
    html = page(env, "ada", f"/plan/{OVERLOADED}")
    heat = figure(html, "utilization")
    trace = heat["data"][0]
    assert trace["colorscale"] == "Cividis"
    over = ws.sql(
        "SELECT work_center_id, strftime(period, '%Y-%m') AS m FROM plan_capacity WHERE version = ? AND utilization > 1",
        [OVERLOADED],
    )
    expected = set(over.iter_rows())
    assert expected  # 90 days of cover overloads the plants in January
    marked = {
        (trace["y"][j], trace["x"][i])
        for j, line in enumerate(trace["text"])
        for i, text in enumerate(line)
        if text.startswith("▲")
    }
    assert marked == expected
    outlined = {(trace["y"][int(s["y0"] + 0.5)], trace["x"][int(s["x0"] + 0.5)]) for s in heat["layout"]["shapes"]}
    assert outlined == expected
    rows = table(html, "overloads")
    assert rows.count('<tr class="overload">') == len(expected)
    assert 'id="overloads"' not in page(env, "ada", f"/plan/{BUDGET}")  # no cell over 100 % there


def test_an_empty_cell_is_labelled():
    heat = charts.utilization_heatmap("u", ["WC-1", "WC-2"], ["2024-01", "2024-02"], {("WC-1", "2024-01"): 1.25})
    trace = heat["data"][0]
    assert trace["text"] == [["▲ 125.0%", "no plan"], ["no plan", "no plan"]]
    assert len(heat["layout"]["annotations"]) == 3 and len(heat["layout"]["shapes"]) == 1


def test_a_p1_user_sees_no_p2_rows(env):
    ws = env["ws"]
    html = page(env, "pia", f"/plan/{OVERLOADED}")
    heat = figure(html, "utilization")
    assert heat["data"][0]["y"] and all(wc.startswith("P1-") for wc in heat["data"][0]["y"])
    assert "P2-" not in table(html, "overloads")
    assert 'id="balances"' not in html and 'id="cash"' not in html and 'id="company-hidden"' in html
    # the P&L is P1's rows only: no revenue (sold at W1), P1's own opex
    opex = ws.sql(
        "SELECT sum(amount) AS a FROM plan_pnl WHERE version = ? AND line = 'opex' AND site_id = 'P1'", [OVERLOADED]
    )["a"][0]
    rows = table(html, "pnl-variance")
    cells = re.search(r'<tr data-line="opex"[^>]*>(.*?)</tr>', rows, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', cells)[0] == money(opex)
    revenue = re.search(r'<tr data-line="revenue"[^>]*>(.*?)</tr>', rows, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', revenue)[0] == money(Decimal(0))
    # an unscoped user filtering on P2 sees P2's work centres only
    other = figure(page(env, "ada", f"/plan/{OVERLOADED}?site=P2"), "utilization")
    assert all(wc.startswith("P2-") for wc in other["data"][0]["y"])


def test_balances_and_cash_with_a_total_row_for_unscoped_users(env):
    ws = env["ws"]
    html = page(env, "ada", f"/plan/{BUDGET}")
    cash = table(html, "cash")
    net = ws.sql("SELECT sum(amount) AS a FROM plan_balances WHERE version = ? AND role = 'net_cash_flow'", [BUDGET])[
        "a"
    ][0]
    total = re.search(r'<tr class="total"><td>total</td>(.*?)</tr>', cash, re.S).group(1)
    assert money(net) in re.findall(r'<td class="num">([^<]*)</td>', total)
    assert 'class="total"' not in table(html, "balances")  # month-end balances do not add up over months


def test_the_excel_links_for_those_who_may_write(env):
    assert f'href="/plans/{BUDGET}/export.xlsx"' in page(env, "ann", f"/plan/{BUDGET}")
    assert "/export.xlsx" not in page(env, "val", f"/plan/{BUDGET}")
    assert "/export.xlsx" not in page(env, "pia", f"/plan/{BUDGET}")


def version(name, kind="budget", status="draft", tables=("volume_plan",), based_on=None):
    return {"name": name, "kind": kind, "status": status, "tables": list(tables), "based_on": based_on}


def test_the_budget_candidates_in_order():
    versions = [
        version("B2023", status="approved"),
        version("B2024", status="approved"),
        version("B2024-plan", tables=("plan_pnl",)),
        version("B2025-rev1"),
        version("fc-2024-06", kind="forecast", tables=("plan_pnl",)),
        version("B-empty", tables=()),
    ]
    fc = version("fc-2024-06", kind="forecast", tables=("plan_pnl",))
    # approved first (newest name first), then built, then the rest; never itself, a forecast or an empty one
    assert budget_candidates(fc, versions) == ["B2024", "B2023", "B2024-plan", "B2025-rev1"]
    based = version("S1", kind="scenario", based_on="B2025-rev1")
    assert budget_candidates(based, versions)[0] == "B2025-rev1"
    assert budget_candidates(version("B2024"), versions)[:2] == ["B2023", "B2024-plan"]


def test_the_demand_a_forecast_was_built_from_is_read_from_its_load():
    sources = ["opsfin plan build --version fc-2025-06 --volumes fc-2025-06-demand --from 2025-01 --to 2026-12"]
    assert demand_of(sources) == "fc-2025-06-demand"
    assert demand_of(["opsfin plan build --version A --volumes actual --from 2024-01 --to 2024-04"]) is None
    assert demand_of([]) is None
