"""The Predict page (docs/web.md "Predict") on a copy of the tiny company: the machines' risk and money equal
to the runs layer's (`opsfin predict maintenance`) and consistent on the page (ranked by expected failure
cost, `maintain now` exactly when it exceeds the planned maintenance cost), the drill to a machine's sensor
trend (daily means and breakdowns worked from the readings and events), the defect drivers equal to
`opsfin predict defects`, the roster behind its button (coverage worked from the grid's cells, the cost
against the baseline), bad input as a 400 naming the parameter, and site scope."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from decimal import Decimal

import pytest

from opsfin.runs.predict import predict_maintenance
from opsfin.runs.predict_defects import predict_defects
from opsfin.web.pages import money, number
from web_support import bearer, figure, table, web_env

AS_OF = dt.date(2024, 4, 30)  # the last day of the tiny company's machine readings: the page's default


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    with web_env(tiny_demo, tmp_path_factory.mktemp("web_predict"), own_app_db=True) as env:
        yield env


@pytest.fixture(scope="module")
def site_machines(env) -> dict[str, set[str]]:
    """The machines with sensor readings by site, from the warehouse: those the page ranks (a station without
    sensors, such as transport or inspection, has no risk to learn)."""
    got = env["ws"].sql(
        "SELECT DISTINCT w.site_id, m.machine_id FROM machines m JOIN work_centers w USING (work_center_id)"
        " WHERE m.machine_id IN (SELECT machine_id FROM machine_readings)"
    )
    out: dict[str, set[str]] = {}
    for site, machine in got.iter_rows():
        out.setdefault(site, set()).add(machine)
    assert set(out) == {"P1", "P2"}
    return out


@pytest.fixture(scope="module")
def risk(env) -> dict:
    """The runs layer's result, as `opsfin predict maintenance --as-of AS_OF` computes it."""
    return predict_maintenance(env["ws"], AS_OF, 14)


@pytest.fixture(scope="module")
def drivers(env) -> dict:
    """The runs layer's result, as `opsfin predict defects --to AS_OF` computes it."""
    return predict_defects(env["ws"], None, AS_OF.isoformat())


def page(env, path: str, name: str = "ada", status: int = 200) -> str:
    response = env["client"].get(path, headers=bearer(env["tokens"][name]))
    assert response.status_code == status, response.text[-2000:]
    return response.text


def cells(row: str) -> list[str]:
    return [htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def machine_rows(text: str) -> dict[str, list[str]]:
    rows = re.findall(r'<tr data-machine="([^"]+)">(.*?)</tr>', table(text, "machines"), re.S)
    return {m: cells(r) for m, r in rows}


def test_machines_are_the_runs_layers_ranked_by_their_money(env, risk, site_machines):
    text = page(env, "/predict")
    assert f'value="{AS_OF.isoformat()}"' in text  # the default as-of day: the last reading
    expected = risk["machines"]
    shown = machine_rows(text)
    assert list(shown) == [m["machine_id"] for m in expected]
    assert set(shown) == site_machines["P1"] | site_machines["P2"]
    for m in expected:
        _, site, risk, failure, planned, advice, _ = shown[m["machine_id"]]
        assert site == m["machine_id"][:2]  # P1-… machines stand at site P1
        assert risk == number(m["risk"], "ratio")
        assert amount(failure) == m["expected_failure_cost"] and failure == money(m["expected_failure_cost"])
        assert amount(planned) == m["planned_maintenance_cost"]
        assert advice == m["recommendation"].replace("_", " ")
    failures = [amount(r[3]) for r in shown.values()]
    assert failures == sorted(failures, reverse=True)  # highest expected failure cost first
    for _, _, _, failure, planned, advice, _ in shown.values():  # the rule worked from the page's own figures
        assert (advice == "maintain now") == (amount(failure) > amount(planned))
    chart = figure(text, "predict-risk")
    assert chart["data"][0]["x"] == list(shown)
    assert chart["data"][0]["y"] == [float(amount(r[3])) for r in shown.values()]
    assert chart["data"][0]["customdata"][0].startswith(f"/predict/machines/{next(iter(shown))}?")


def test_a_machine_drills_to_its_sensor_trend_and_breakdowns(env, risk):
    ws, machine = env["ws"], "P1-ASSY-M01"
    text = page(env, f"/predict/machines/{machine}?as_of=2024-04-30&horizon_days=14")
    chart = figure(text, "machine-sensors")
    temperature, vibration = chart["data"]
    first = AS_OF - dt.timedelta(days=89)
    assert temperature["x"][0] >= first.isoformat() and temperature["x"][-1] == AS_OF.isoformat()
    worked = ws.sql(  # each day's mean over the hours the machine ran, straight from the readings
        "SELECT CAST(hour_start AS DATE) AS day, avg(temperature_c) AS t, avg(vibration_mm_s) AS v "
        "FROM machine_readings WHERE machine_id = ? AND run_minutes > 0 AND hour_start >= ? AND hour_start < ? "
        "GROUP BY ALL ORDER BY day",
        [machine, first, AS_OF + dt.timedelta(days=1)],
    )
    assert worked.height > 60  # it ran on most of those days
    for day, t, v in worked.iter_rows():
        at = temperature["x"].index(day.isoformat())
        assert temperature["y"][at] == pytest.approx(t) and vibration["y"][at] == pytest.approx(v), day
    assert vibration["yaxis"] == "y2"
    breakdowns = ws.sql(
        "SELECT start_at FROM maintenance_events WHERE machine_id = ? AND kind = 'breakdown' "
        "AND start_at >= ? AND start_at < ? ORDER BY start_at",
        [machine, first, AS_OF + dt.timedelta(days=1)],
    )["start_at"].to_list()
    assert breakdowns, "the tiny company's machine breaks down in these 90 days"
    red = [s["x0"] for s in chart["layout"]["shapes"] if s["line"]["dash"] == "dash"]
    assert red == [b.isoformat() for b in breakdowns]
    assert text.count('data-kind="breakdown"') == len(breakdowns)
    mine = next(m for m in risk["machines"] if m["machine_id"] == machine)
    figures = cells(table(text, "machine-figures").split("<tbody>")[1])
    assert figures[0] == number(mine["risk"], "ratio") and amount(figures[1]) == mine["expected_failure_cost"]
    features = re.findall(r'<tr data-feature="([^"]+)">', table(text, "machine-drivers"))
    assert features == [d["feature"] for d in mine["drivers"]]
    assert page(env, "/predict/machines/NO-SUCH-M01", status=404)


def test_defect_drivers_and_their_cost_are_the_runs_layers(env, drivers):
    text = page(env, "/predict")
    expected = drivers
    rows = re.findall(r'<tr data-driver="([^"]+)">(.*?)</tr>', table(text, "drivers"), re.S)
    assert [d for d, _ in rows] == [d["driver"] for d in expected["drivers"]]
    costs = [amount(cells(r)[-1]) for _, r in rows]
    assert costs == [d["cost_explained"] for d in expected["drivers"]]
    assert costs == sorted(costs, reverse=True)
    assert sum(costs) > 0
    assert htmllib.unescape(text).count(money(expected["cost_of_defects"])) >= 1
    chart = figure(text, "predict-drivers")
    assert chart["data"][0]["x"] == [float(c) for c in costs]


def test_the_roster_is_behind_its_button_with_coverage_worked_from_its_cells(env):
    assert 'id="roster-grid"' not in page(env, "/predict")
    text = page(env, "/predict?roster=1&weeks=1")
    grid = table(text, "roster-grid")
    staffed: dict[tuple[str, str, str], Decimal] = {}
    for row in re.findall(r'<tr data-employee="[^"]+">(.*?)</tr>', grid, re.S):
        days = re.findall(r'<td data-date="([^"]+)">(.*?)</td>', row, re.S)
        assert len({d for d, _ in days}) == len(days)  # one shift a day
        for day, cell in days:
            shift, unit, hours = (p.strip() for p in re.sub(r"<[^>]+>.*", "", cell, flags=re.S).split("·"))
            overtime = re.search(r"\+OT ([\d.,]+) h", cell)
            total = amount(hours.removesuffix(" h")) + (amount(overtime.group(1)) if overtime else 0)
            staffed[(unit, shift, day)] = staffed.get((unit, shift, day), Decimal(0)) + total
    assert staffed and len(re.findall(r"<tr data-employee=", grid)) > 0
    covered = set()
    for unit, shift, row in re.findall(r'<tr data-unit="([^"]+)" data-shift="([^"]+)">(.*?)</tr>', text, re.S):
        for day, cell in re.findall(r'<td class="num" data-date="([^"]+)">(.*?)</td>', row, re.S):
            planned, required = (amount(x.strip()) for x in re.sub(r"<[^>]+>.*", "", cell, flags=re.S).split("/"))
            assert planned == staffed.get((unit, shift, day), Decimal(0)), (unit, shift, day)
            assert ("▼" in cell) == (planned < required)
            covered.add((unit, shift, day))
    assert set(staffed) <= covered  # every staffed shift has its coverage cell
    costs = {
        f: [amount(c) for c in cells(r)[1:]] for f, r in re.findall(r'<tr data-figure="(\w+)">(.*?)</tr>', text, re.S)
    }
    assert costs["total"][0] == costs["regular"][0] + costs["overtime"][0]
    assert costs["total"][1] == costs["regular"][1] + costs["overtime"][1]
    assert costs["total"][0] <= costs["total"][1]  # no dearer than staffing as the timesheets do
    saving = re.search(r"Saving [A-Z]{3} <strong>([^<]+)</strong>", text)
    assert saving and amount(saving.group(1)) == costs["total"][1] - costs["total"][0]


def test_a_bad_date_or_number_is_a_clear_400(env):
    for query, words in (
        ("as_of=2024-02-30", "as_of: '2024-02-30' is not a date; use YYYY-MM-DD"),
        ("as_of=2030-01-01", "as_of 2030-01-01: outside the machine readings (2024-01-01 … 2024-04-30)"),
        ("horizon_days=0", "horizon_days 0: choose 1 to 90 days"),
        ("horizon_days=two", "horizon_days 'two': a whole number of days"),
        ("roster=1&weeks=9", "weeks 9: choose 1 to 8 weeks"),
    ):
        assert words in htmllib.unescape(page(env, f"/predict?{query}", status=400)), query
    early = htmllib.unescape(page(env, "/predict?as_of=2024-01-05"))  # too little history: error boxes
    assert "too little history to learn from before 2024-01-05" in early
    assert "Could not show this part." in early and 'id="machines"' not in early


def test_a_site_scoped_user_sees_only_their_sites(env, site_machines):
    text = page(env, "/predict?roster=1&weeks=1", name="pia")  # the plant manager of P1
    assert set(machine_rows(text)) == site_machines["P1"]
    assert 'id="drivers"' not in text and 'id="defects-company"' in text  # the company's defect model
    assert 'id="roster-cost"' not in text and 'id="roster-company"' in text
    sites = dict(env["ws"].sql("SELECT employee_id, site_id FROM employees").iter_rows())
    employees = re.findall(r'<tr data-employee="([^"]+)">', table(text, "roster-grid"))
    assert employees and {sites[e] for e in employees} == {"P1"}
    units = re.findall(r'<tr data-unit="[^"]+" data-shift="[^"]+"><td>([^<]+)</td>', table(text, "roster-coverage"))
    assert units and set(units) == {"P1"}
    everyone = page(env, "/predict?roster=1&weeks=1")
    assert {sites[e] for e in re.findall(r'<tr data-employee="([^"]+)">', table(everyone, "roster-grid"))} > {"P1"}
    page(env, "/predict/machines/P2-ASSY-M01", name="pia", status=403)
    assert "P1-ASSY-M01" in page(env, "/predict/machines/P1-ASSY-M01", name="pia")
    page(env, "/predict?site=P2", name="pia", status=403)
    assert set(machine_rows(page(env, "/predict?site=P2"))) == site_machines["P2"]  # an unscoped user's site filter
    assert 'href="/predict' in text  # the navigation links the page


def test_the_api_gives_the_commands_json_within_the_callers_scope(env, risk, drivers, site_machines):
    client, tokens = env["client"], env["tokens"]
    everyone = client.get("/api/v1/predict/maintenance?as_of=2024-04-30&horizon_days=14", headers=bearer(tokens["ada"]))
    assert everyone.status_code == 200
    expected = risk
    body = everyone.json()
    assert body["as_of"] == "2024-04-30" and body["horizon_days"] == 14
    assert [m["machine_id"] for m in body["machines"]] == [m["machine_id"] for m in expected["machines"]]
    assert [Decimal(m["expected_failure_cost"]) for m in body["machines"]] == [
        m["expected_failure_cost"] for m in expected["machines"]
    ]
    scoped = client.get("/api/v1/predict/maintenance", headers=bearer(tokens["pia"])).json()
    assert {m["machine_id"] for m in scoped["machines"]} == site_machines["P1"]
    bad = client.get("/api/v1/predict/maintenance?as_of=2030-01-01", headers=bearer(tokens["ada"]))
    assert bad.status_code == 400 and bad.json()["param"] == "as_of"
    defects = client.get("/api/v1/predict/defects?as_of=2024-04-30", headers=bearer(tokens["ada"])).json()
    worked = drivers
    assert [Decimal(d["cost_explained"]) for d in defects["drivers"]] == [
        d["cost_explained"] for d in worked["drivers"]
    ]
    assert client.get("/api/v1/predict/defects", headers=bearer(tokens["pia"])).status_code == 403


def test_an_unknown_machine_keeps_predict_marked_in_the_navigation(env):
    missing = page(env, "/predict/machines/NO-SUCH-M01", status=404)
    nav = missing.split("<nav")[1].split("</nav>")[0]
    assert re.findall(r'aria-current="page"[^>]*>([^<]+)<', nav) == ["Predict"]
