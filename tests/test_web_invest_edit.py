"""The Investments page's form edits every field of a case (docs/web.md "Investments", docs/investments.md
"The Investments page"), on a copy of the tiny company with the shipped example examples/investments/
investments.yaml in its model/: a new case with capital spend, a life, salvage, a tax rate and a
driver-change effect on the budget B2024 (its flows and NPV worked by hand), each kind of field changed and
read back by the parser, a case removed (the file as it was before the case came; a removal that leaves
another case's `requires` dangling refused), a bad value refused with the parser's message naming the case
and field and the file unchanged, the audit rows, who may edit, and the text edit that removes a list's
last entry."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal

import pytest
from tests.test_web_invest import EXAMPLE, cells, file_text, log_in, page

from opsfin.runs.invest import load_investments
from opsfin.web import scenario_file
from opsfin.web.pages import money
from web_support import TestClient, bearer, figure, web_env

#: a new case: 20,000 spent in January 2024, one year's life, 2,000 salvage, 25 % tax, and two fewer
#: operators at P2 (a fixed cost of −3,000 a month from February) run through the scenario engine on B2024
CREW = {
    "original": "",
    "name": "crew",
    "owner": "plant manager",
    "description": "two fewer operators, a new handling robot",
    "capex_month": ["2024-01", ""],
    "capex_amount": ["20000", ""],
    "life_years": "1",
    "salvage": "2000",
    "depreciation": "straight_line",
    "tax_rate": "25%",
    "flow_date": ["", ""],
    "flow_amount": ["", ""],
    "base": "B2024",
    "kind": ["fixed_cost", ""],
    "dim_a": ["sites", ""],
    "members_a": ["P2", ""],
    "dim_b": ["", ""],
    "members_b": ["", ""],
    "start": ["2024-02", ""],
    "end": ["", ""],
    "size": ["-3000", ""],
    "requires": "",
    "excludes": "mine_reclaim",
}


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    def prepare(ws) -> None:
        shutil.copyfile(EXAMPLE, ws.model_dir / "investments.yaml")

    with web_env(tiny_demo, tmp_path_factory.mktemp("web_invest_edit"), prepare) as env:
        yield env


def post(env, form: dict, who: str = "carl", path: str = "/investments"):
    return env["client"].post(path, data=form, headers=bearer(env["tokens"][who]), follow_redirects=False)


def error_of(html: str) -> str:
    found = re.search(r'id="invest-error"><strong>Not saved.</strong> (.*?)</div>', html, re.S)
    assert found, "no error shown"
    return found.group(1)


def audits(env, action: str, name: str) -> list[dict]:
    return [e for e in env["db"].audit_entries() if e["action"] == action and e["object_id"] == name]


@pytest.fixture
def crew(env):
    """The case CREW, saved when it is not there yet."""
    if load_investments(env["ws"].model_dir).get("crew") is None:
        assert post(env, CREW).status_code == 303
    return env


def test_a_new_case_with_capex_life_salvage_tax_and_effects(env):
    before = file_text(env)
    done = post(env, CREW)
    assert done.status_code == 303, error_of(done.text)
    assert done.headers["location"] == "/investments?saved=crew"
    text = file_text(env)
    assert text.startswith(before)  # appended: the other cases and the comment as they were
    assert "      - {month: 2024-01, amount: 20000}\n" in text
    assert "      - {kind: fixed_cost, scope: {sites: [P2]}, start: 2024-02, size: -3000}\n" in text
    case = load_investments(env["ws"].model_dir).get("crew")
    assert (case.owner, case.description) == ("plant manager", "two fewer operators, a new handling robot")
    assert [(c.month, c.amount) for c in case.capex] == [(dt.date(2024, 1, 1), Decimal(20000))]
    assert (case.life_years, case.salvage, case.depreciation, case.tax_rate) == (
        1,
        Decimal(2000),
        "straight_line",
        0.25,
    )
    assert (case.base, case.excludes, case.requires, case.cash_flows) == ("B2024", ["mine_reclaim"], [], [])
    (shock,) = case.effects
    assert (shock.kind, shock.scope.given(), shock.start, shock.size) == (
        "fixed_cost",
        {"sites": ["P2"]},
        dt.date(2024, 2, 1),
        Decimal(-3000),
    )
    # by hand: −20,000 on 2024-01-01; the fixed cost saves 3,000 a month before tax, 2,250 after 25 %, for the
    # 12 months of the life from February (the plan's April extended flat after it); on the first
    # anniversary 2025-01-01 the tax saved by a year's straight-line depreciation, 25 % × (20,000 − 2,000),
    # and the salvage 2,000 come on top of January's 2,250
    html = page(env, "carl", "/investments?rate=0")
    chart = figure(html, "chart-crew")["data"][0]
    assert chart["x"] == ["2024-01-01"] + [f"2024-{m:02d}-01" for m in range(2, 13)] + ["2025-01-01"]
    assert chart["y"] == [-20000] + [2250] * 11 + [2250 + 4500 + 2000]
    assert cells(html, "cases", "data-case", "crew")[2] == money(Decimal("13500.00"))
    (added,) = audits(env, "investment.add", "crew")
    assert added["actor"] == "carl" and added["payload"]["before"] is None
    assert added["payload"]["after"]["capex"] == [{"month": "2024-01-01", "amount": "20000"}]
    assert added["payload"]["after"]["effects"][0]["size"] == "-3000"


def test_the_form_is_filled_with_every_field_of_a_case(crew):
    html = page(crew, "carl", "/investments?edit=crew")
    form = html[html.index('id="invest-form"') :]
    for name, value in [("owner", "plant manager"), ("life_years", "1"), ("salvage", "2000"), ("tax_rate", "0.25")]:
        assert f'name="{name}"' in form and re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', form), name
    assert re.search(r'name="capex_month" type="month" value="2024-01"', form)
    assert re.search(r'name="capex_amount"[^>]*value="20000"', form)
    assert '<option value="straight_line" selected>' in form and '<option value="B2024" selected>' in form
    effect = form[form.index('id="effect-rows"') :]
    assert '<option value="fixed_cost" selected>' in effect and '<option value="sites" selected>' in effect
    assert 'name="members_a" value="P2"' in effect and 'name="size" value="-3000"' in effect
    assert 'name="excludes" value="mine_reclaim"' in form
    assert 'action="/investments/crew/remove"' in html


FLOWS_ONLY = {"flow_date": ["2024-01-15", "2025-01-15"], "flow_amount": ["-900", "1000.10"]}
NO_EFFECTS = {"kind": [""], "dim_a": [""], "members_a": [""], "dim_b": [""], "members_b": [""], "start": [""]}
NO_EFFECTS |= {"end": [""], "size": [""], "base": "", "capex_month": [""], "capex_amount": [""]}
NO_EFFECTS |= {"life_years": "", "salvage": "", "tax_rate": ""}


@pytest.mark.parametrize(
    ("change", "read", "expected"),
    [
        ({"owner": "maintenance lead"}, lambda c: c.owner, "maintenance lead"),
        ({"description": "robot: phase 1"}, lambda c: c.description, "robot: phase 1"),
        (
            {"capex_month": ["2024-01", "2024-03"], "capex_amount": ["15000", "5000.55"]},
            lambda c: [(c.month, c.amount) for c in c.capex],
            [(dt.date(2024, 1, 1), Decimal(15000)), (dt.date(2024, 3, 1), Decimal("5000.55"))],
        ),
        ({"life_years": "3"}, lambda c: c.life_years, 3),
        ({"salvage": "1500.25"}, lambda c: c.salvage, Decimal("1500.25")),
        ({"depreciation": "declining_balance"}, lambda c: c.depreciation, "declining_balance"),
        ({"depreciation": "none", "salvage": ""}, lambda c: (c.depreciation, c.salvage), ("none", Decimal(0))),
        ({"tax_rate": "0.3"}, lambda c: c.tax_rate, 0.3),
        (
            {"flow_date": ["2024-06-30"], "flow_amount": ["-250.75"]},
            lambda c: [(f.date, f.amount) for f in c.cash_flows],
            [(dt.date(2024, 6, 30), Decimal("-250.75"))],
        ),
        (
            {
                "kind": ["fixed_cost", "price"],
                "dim_a": ["sites", "products"],
                "members_a": ["P2", "FG-004, FG-001"],
                "end": ["2024-03", ""],
                "size": ["-2500", "5"],
                "start": ["2024-02", "2024-04"],
            },
            lambda c: [(s.kind, s.scope.given(), s.start, s.end, s.size) for s in c.effects],
            [
                ("fixed_cost", {"sites": ["P2"]}, dt.date(2024, 2, 1), dt.date(2024, 3, 1), Decimal(-2500)),
                ("price", {"products": ["FG-004", "FG-001"]}, dt.date(2024, 4, 1), None, Decimal(5)),
            ],
        ),
        ({"requires": "smed_line2", "excludes": ""}, lambda c: (c.requires, c.excludes), (["smed_line2"], [])),
        (  # from driver changes to explicit cash flows: the capex, life, tax, effects and base cleared
            FLOWS_ONLY | NO_EFFECTS,
            lambda c: (c.capex, c.life_years, c.effects, c.base, [(f.date, f.amount) for f in c.cash_flows]),
            ([], None, [], None, [(dt.date(2024, 1, 15), Decimal(-900)), (dt.date(2025, 1, 15), Decimal("1000.10"))]),
        ),
    ],
)
def test_each_kind_of_field_is_changed(crew, change, read, expected):
    env = crew
    others = {c.name: c for c in load_investments(env["ws"].model_dir).investments if c.name != "crew"}
    done = post(env, CREW | {"original": "crew"} | change)
    assert done.status_code == 303, error_of(done.text)
    found = load_investments(env["ws"].model_dir)
    assert read(found.get("crew")) == expected
    assert {c.name: c for c in found.investments if c.name != "crew"} == others  # the others as they were
    assert "# Investment cases for `opsfin invest`" in file_text(env)  # the comment kept
    change_row = audits(env, "investment.change", "crew")[0]
    assert change_row["payload"]["before"]["name"] == "crew" and change_row["payload"]["after"]["name"] == "crew"


MONTH = "expected a month YYYY-MM"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"life_years": "0"}, "field &#39;life_years&#39;: expected a number ≥ 1, got 0"),
        ({"salvage": "lots"}, "field &#39;salvage&#39;: expected a number, got &#39;lots&#39;"),
        ({"depreciation": "sum_of_digits"}, "field &#39;depreciation&#39;: expected one of"),
        ({"tax_rate": "1.5"}, "field &#39;tax_rate&#39;: expected a number &lt; 1, got 1.5"),
        ({"capex_amount": ["-5", ""]}, "field &#39;capex[1]&#39;: `amount` -5: capital spend is a positive amount"),
        ({"start": ["2024-13", ""]}, f"field &#39;effects[1].start&#39;: {MONTH}"),
        ({"base": "NOPE"}, "field &#39;base&#39;: &#39;NOPE&#39; has no volume_plan rows; choose one of B2024"),
        ({"members_a": ["P9", ""]}, "field &#39;effects[1].scope.sites&#39;: unknown site &#39;P9&#39;"),
        (
            NO_EFFECTS | {"salvage": "", "flow_date": [""], "flow_amount": [""]},
            "a case needs `cash_flows`, or `capex` with `effects`",
        ),
        (
            {"flow_date": ["2024-02-30", ""], "flow_amount": ["5", ""]},
            "field &#39;cash_flows[1].date&#39;: expected a date",
        ),
    ],
)
def test_a_bad_value_is_refused_with_the_parsers_message(env, change, message):
    before = file_text(env)
    count = len(load_investments(env["ws"].model_dir).investments)
    response = post(env, CREW | {"name": "bad"} | change)
    assert response.status_code == 400, response.text
    error = error_of(response.text)
    assert error.startswith(f"model/investments.yaml: investments[{count + 1}] (bad): ") and message in error, error
    assert 'name="name" required maxlength="100" pattern="[A-Za-z0-9_.\\-]+" value="bad"' in response.text
    assert file_text(env) == before
    assert audits(env, "investment.add", "bad") == []


def test_a_case_is_removed_and_audited(crew):
    env = crew
    client = TestClient(env["client"].app)
    csrf = log_in(client, "carl")
    before = file_text(env)
    scrap = CREW | FLOWS_ONLY | NO_EFFECTS | {"name": "scrap_me", "excludes": "", "csrf_token": csrf}
    assert client.post("/investments", data=scrap, follow_redirects=False).status_code == 303
    assert load_investments(env["ws"].model_dir).get("scrap_me") is not None
    refused = client.post("/investments/scrap_me/remove", data={"csrf_token": "wrong"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    done = client.post("/investments/scrap_me/remove", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/investments?removed=scrap_me"
    assert file_text(env) == before  # the file exactly as it was before the case came
    assert "Case scrap_me removed" in client.get(done.headers["location"]).text
    (removed,) = audits(env, "investment.remove", "scrap_me")
    assert removed["actor"] == "carl" and removed["payload"]["after"] is None
    assert removed["payload"]["before"]["cash_flows"][1]["date"] == "2025-01-15"
    assert Decimal(removed["payload"]["before"]["cash_flows"][1]["amount"]) == Decimal("1000.10")
    # the tooling requires the press (and the roof excludes it): removing it would leave them naming a case
    # that is gone
    refused = client.post("/investments/press_retrofit/remove", data={"csrf_token": csrf})
    assert refused.status_code == 400
    assert "case &#39;press_tooling&#39;: requires/excludes an unknown case &#39;press_retrofit&#39;" in error_of(
        refused.text
    )
    assert file_text(env) == before
    assert client.post("/investments/nope/remove", data={"csrf_token": csrf}).status_code == 404


def test_read_only_and_site_scoped_users_are_refused(crew):
    env = crew
    before = file_text(env)
    for name in ("val", "ann", "pia"):  # a viewer, an analyst, a controller scoped to P1
        for path, form in (("/investments", CREW | {"name": "other"}), ("/investments/crew/remove", {})):
            response = post(env, form, name, path)
            assert response.status_code == 403, (name, path)
            if name != "pia":  # a site-scoped user is refused the whole page
                assert "may not edit investment cases" in response.text
    html = page(env, "val", "/investments")
    assert 'id="invest-form"' not in html and "/remove" not in html
    assert file_text(env) == before


FILE_OF_ONE = """# the cases
discount_rate: 0.1
investments:   # one case
  - name: a
    cash_flows:
      - {date: 2026-01-01, amount: -1}
      - {date: 2027-01-01, amount: 2}
# the end
"""


def test_removing_the_last_entry_leaves_an_empty_list_and_the_comments():
    entries = scenario_file.raw_entries(FILE_OF_ONE, "investments")
    text = scenario_file.edited_text(FILE_OF_ONE, entries, 0, None, "investments")
    assert text == "# the cases\ndiscount_rate: 0.1\ninvestments: []   # one case\n# the end\n"
    assert scenario_file.whole_text("# head\n", [], "investments") == "# head\ninvestments: []\n"


def test_a_case_that_does_not_parse_is_shown_with_its_message_not_filled_in(env):
    path = env["ws"].model_dir / "investments.yaml"
    before = file_text(env)
    broken = "  - name: broken\n    life_years: 0\n    cash_flows:\n      - {date: 2026-01-01, amount: -1}\n"
    path.write_text(before + broken, encoding="utf-8")
    try:
        count = len(re.findall(r"^  - name: ", before, re.M))
        html = page(env, "carl", "/investments?edit=broken")
        section = html[html.index('id="invest-edit"') :]
        assert f"investments[{count + 1}] (broken): field &#39;life_years&#39;: expected a number ≥ 1" in section
        assert 'name="original" value=""' in section  # a new case's form, not the broken one's
    finally:
        path.write_text(before, encoding="utf-8")
