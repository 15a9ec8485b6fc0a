"""Authorization as a matrix: role × site scope × endpoint (status), and the rows a site-scoped user gets.

People (tests/web_support.py): ada admin, carl controller, ann analyst, val viewer — every site; pia a
controller limited to plant P1; wes a viewer limited to the distribution centre W1. A scoped user's rows
must be exactly the unscoped rows of their sites, by the rules of docs/web.md, written out here."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from opsfin.web import create_app
from opsfin.web.authz import authorize
from opsfin.web.problems import Problem
from web_support import PEOPLE, TestClient, add_people, add_quarantine, bearer, copy_workspace

PERIOD = "2024-04"
UNSCOPED = ("ada", "carl", "ann", "val")
SCOPED = ("pia", "wes")
EVERYONE = UNSCOPED + SCOPED


def statuses(default: int, **overrides: int) -> dict[str, int]:
    return {name: overrides.get(name, default) for name in EVERYONE}


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web_authz")
    ws = copy_workspace(tiny_demo, folder / "ws")
    add_quarantine(ws, folder / "bad")
    with (ws.model_dir / "guardrails.yaml").open("a", encoding="utf-8") as f:  # alerts at every plant
        f.write("\n  - kpi: oee\n    by: site\n    min: 0.99\n    severity: info\n    owner: test\n")
    url = f"sqlite:///{folder}/app.db"
    db, tokens = add_people(url)
    far = dt.date.today() + dt.timedelta(days=30)
    seeds = {}
    for site in ("P1", "P2", None):
        db.add_comment("ann", "kpi", "oee", f"comment at {site}", site=site)
        seeds[site] = db.add_action("carl", f"action at {site}", "someone", far, Decimal("100.00"), site=site)["id"]
    client = TestClient(create_app(ws.path, app_db_url=url))
    sites = {
        "work_center": dict(ws.sql("SELECT work_center_id, site_id FROM work_centers").iter_rows()),
        "machine": dict(
            ws.sql("SELECT machine_id, site_id FROM machines JOIN work_centers USING (work_center_id)").iter_rows()
        ),
        "cost_center": dict(ws.sql("SELECT cost_center_id, site_id FROM cost_centers").iter_rows()),
        "shift": dict(ws.sql("SELECT shift_id, site_id FROM shifts").iter_rows()),
    }
    yield {"client": client, "tokens": tokens, "db": db, "actions": seeds, "sites": sites}
    db.close()


def scope_of(name: str) -> set[str] | None:
    sites = PEOPLE[name][1]
    return set(sites) if sites else None


# ---------------------------------------------------------------- the authorization function itself
class _U:
    def __init__(self, role, sites=None, disabled=False):
        self.name, self.role, self.sites, self.disabled = "u", role, sites, disabled


@pytest.mark.parametrize(
    "role,permission,allowed",
    [
        ("viewer", "read", True),
        ("viewer", "comment", False),
        ("analyst", "comment", True),
        ("analyst", "manage_actions", False),
        ("controller", "manage_actions", True),
        ("controller", "edit_guardrails", True),
        ("controller", "decide_matches", True),
        ("controller", "manage_users", False),
        ("admin", "manage_users", True),
        ("admin", "read_audit", True),
        ("controller", "read_audit", False),
        ("nonsense", "read", False),
    ],
)
def test_role_permissions(role, permission, allowed):
    if allowed:
        assert authorize(_U(role), permission).permission == permission
    else:
        with pytest.raises(Problem) as exc:
            authorize(_U(role), permission)
        assert exc.value.status == 403


def test_site_scope_decisions():
    scoped = _U("controller", ("P1",))
    assert authorize(scoped, "read", site="P1").sites == frozenset({"P1"})
    for site in ("P2", None, ["P1", "P2"]):  # another site, no site, or a row mixing sites
        with pytest.raises(Problem) as exc:
            authorize(scoped, "read", site=site)
        assert exc.value.status == 403
    with pytest.raises(Problem):
        authorize(scoped, "read", company_level=True)
    assert authorize(_U("viewer"), "read", site=None, company_level=True).sites is None
    for nobody in (None, _U("admin", disabled=True)):
        with pytest.raises(Problem) as exc:
            authorize(nobody, "read")
        assert exc.value.status == 401


# ---------------------------------------------------------------- reads: status matrix and rows
def rows_for(env, name: str, path: str):
    return env["client"].get(path, headers=bearer(env["tokens"][name]))


READS = {
    "/api/v1/kpis": statuses(200),
    "/api/v1/kpis/oee?by=site": statuses(200),
    "/api/v1/kpis/oee": statuses(200),
    "/api/v1/kpis/overtime_share?by=work_center": statuses(200),
    "/api/v1/kpis/dso": statuses(200, pia=403, wes=403),
    "/api/v1/kpis/oee?by=site&where=site=P2": statuses(200, pia=403, wes=403),
    "/api/v1/alerts": statuses(200),
    "/api/v1/bottlenecks": statuses(200),
    "/api/v1/variances": statuses(200, pia=403, wes=403),
    "/api/v1/variances?by=product": statuses(200, pia=403, wes=403),
    f"/api/v1/variances?by=work_center&from={PERIOD}&to={PERIOD}": statuses(200),
    f"/api/v1/variances?by=machine&from={PERIOD}&to={PERIOD}&drill=energy_usage&member=P1-ASSY-M01": statuses(
        200, wes=403
    ),
    f"/api/v1/variances?by=machine&from={PERIOD}&to={PERIOD}&drill=energy_usage": statuses(200, pia=403, wes=403),
    "/api/v1/unit-economics?by=product": statuses(200),
    "/api/v1/loads": statuses(200),
    "/api/v1/quarantine": statuses(200),
    "/api/v1/comments": statuses(200),
    "/api/v1/actions": statuses(200),
    "/api/v1/audit": statuses(403, ada=200),
    "/api/v1/guardrails": statuses(200),
    f"/api/v1/export/pack?period={PERIOD}&format=html": statuses(200),
}


@pytest.mark.parametrize("name", EVERYONE)
@pytest.mark.parametrize("path", list(READS))
def test_read_status(env, path, name):
    response = rows_for(env, name, path)
    assert response.status_code == READS[path][name], response.text[:300]
    if response.status_code == 403:
        assert response.headers["content-type"].startswith("application/problem+json")


def expected_rows(env, path: str, scope: set[str], unscoped: list[dict]) -> list[dict]:
    """What a user limited to `scope` must get, derived from the unscoped rows (docs/web.md rules)."""
    s = env["sites"]
    if path.startswith("/api/v1/kpis/oee?by=site") or path == "/api/v1/bottlenecks":
        return [r for r in unscoped if r["site"] in scope]
    if path.startswith("/api/v1/kpis/overtime_share?by=work_center"):
        # the forced filter site=P1 also keeps P1's timesheets booked to no work centre (work_center None)
        assert all(s["work_center"][r["work_center"]] in scope for r in unscoped if r["work_center"])
        return unscoped
    if path == "/api/v1/alerts":

        def alert_sites(a):
            named = set()
            for dim, value in a["scope"].items():
                if dim == "site":
                    named |= set(value.split(","))
                elif dim in s:
                    named |= {s[dim].get(v) for v in value.split(",")}
                else:
                    continue
            return named

        return [a for a in unscoped if alert_sites(a) and alert_sites(a) <= scope]
    if path.startswith("/api/v1/variances?by=work_center"):
        return [r for r in unscoped if r["category"] != "total" and s["work_center"].get(r["work_center"]) in scope]
    if path == "/api/v1/quarantine":
        return [q for q in unscoped if q["raw_record"].get("site_id") in scope]
    if path in ("/api/v1/comments", "/api/v1/actions"):
        return [r for r in unscoped if r["site"] in scope]
    if path == "/api/v1/loads":
        return []
    raise AssertionError(path)


SCOPED_ROWS = [
    "/api/v1/kpis/oee?by=site",
    "/api/v1/kpis/overtime_share?by=work_center",
    "/api/v1/alerts",
    "/api/v1/bottlenecks",
    f"/api/v1/variances?by=work_center&from={PERIOD}&to={PERIOD}",
    "/api/v1/quarantine",
    "/api/v1/comments",
    "/api/v1/actions",
    "/api/v1/loads",
]


@pytest.mark.parametrize("path", SCOPED_ROWS)
def test_scoped_rows_are_the_unscoped_rows_of_their_sites(env, path):
    everything = rows_for(env, "ada", path).json()
    mine = rows_for(env, "pia", path).json()
    if path.startswith("/api/v1/kpis/overtime_share"):
        p1 = rows_for(env, "ada", path + "&where=site=P1").json()
        assert mine == expected_rows(env, path, {"P1"}, p1)
        assert any(r["work_center"] is None for r in mine) and any(r["work_center"] for r in mine)
        assert any(r["work_center"] and r["work_center"].startswith("P2") for r in everything)
        return
    assert mine == expected_rows(env, path, {"P1"}, everything)
    if path != "/api/v1/loads":
        assert mine, f"{path}: P1 has rows, so the check above can fail"
        assert len(mine) < len(everything), f"{path}: other sites' rows exist, so the filter is tested"
    else:
        assert everything, "loads exist; a scoped user just does not see them"


def test_scoped_kpi_without_site_split_is_their_sites_figure(env):
    mine = rows_for(env, "pia", "/api/v1/kpis/oee").json()
    assert mine == rows_for(env, "ada", "/api/v1/kpis/oee?where=site=P1").json()
    assert mine != rows_for(env, "ada", "/api/v1/kpis/oee").json()


def test_scoped_catalog_hides_company_level_kpis(env):
    ids = {k["id"] for k in rows_for(env, "pia", "/api/v1/kpis").json()}
    assert "oee" in ids and not ids & {"dso", "dio", "dpo", "ccc", "inventory_turns"}
    assert {"dso", "ccc"} <= {k["id"] for k in rows_for(env, "val", "/api/v1/kpis").json()}


def test_unit_economics_for_the_selling_site(env):
    everything = rows_for(env, "ada", "/api/v1/unit-economics?by=product,site").json()
    assert {r["site_id"] for r in everything} == {"W1"}  # the demo sells from its distribution centre
    assert rows_for(env, "wes", "/api/v1/unit-economics?by=product").json() == everything
    assert rows_for(env, "pia", "/api/v1/unit-economics?by=product").json() == []


def test_scoped_pack_leaves_out_company_figures(env):
    company = rows_for(env, "val", f"/api/v1/export/pack?period={PERIOD}&format=html").text
    plant = rows_for(env, "pia", f"/api/v1/export/pack?period={PERIOD}&format=html").text
    assert "Days sales outstanding" in company and "Days sales outstanding" not in plant


# ---------------------------------------------------------------- writes
def comment(site):
    return {
        "subject_type": "kpi",
        "subject_id": "oee",
        "body": "b",
        **({"site": site} if site else {}),
    }


def action(site):
    return {"title": "t", "owner": "o", "due": "2030-01-01", "expected_impact": "10", "site": site}


WRITES = [
    ("post", "/api/v1/comments", comment("P1"), statuses(201, val=403, wes=403)),
    ("post", "/api/v1/comments", comment("P2"), statuses(201, val=403, pia=403, wes=403)),
    (
        "post",
        "/api/v1/comments",
        {"subject_type": "kpi", "subject_id": "dso", "body": "b"},
        statuses(201, val=403, pia=403, wes=403),
    ),
    (
        "post",
        "/api/v1/comments",
        {"subject_type": "variance", "subject_id": f"variance:{PERIOD}:sales_mix", "body": "b"},
        statuses(201, val=403, pia=403, wes=403),
    ),
    (
        "post",
        "/api/v1/comments",
        {
            "subject_type": "variance",
            "subject_id": f"variance:{PERIOD}:scrap:work_center=P1-ASSY",
            "body": "b",
        },
        statuses(201, val=403, wes=403),
    ),
    ("post", "/api/v1/actions", action("P1"), statuses(201, ann=403, val=403, wes=403)),
    ("post", "/api/v1/actions", action("P2"), statuses(201, ann=403, val=403, pia=403, wes=403)),
    (
        "post",
        "/api/v1/actions",
        action(None),
        statuses(201, ann=403, val=403, wes=403),
    ),  # pia: defaults to P1
    (
        "patch",
        "/api/v1/actions/{P1}",
        {"status": "in_progress"},
        statuses(200, ann=403, val=403, wes=403),
    ),
    (
        "patch",
        "/api/v1/actions/{P2}",
        {"status": "in_progress"},
        statuses(200, ann=403, val=403, pia=403, wes=403),
    ),
    (
        "patch",
        "/api/v1/actions/{company}",
        {"owner": "x"},
        statuses(200, ann=403, val=403, pia=403, wes=403),
    ),
    (
        "put",
        "/api/v1/guardrails/0",
        {"owner": "HR"},
        statuses(200, ann=403, val=403, pia=403, wes=403),
    ),
    ("get", "/api/v1/actions/{P2}", None, statuses(200, pia=403, wes=403)),
    ("get", "/api/v1/actions/{company}", None, statuses(200, pia=403, wes=403)),
]


@pytest.mark.parametrize("name", EVERYONE)
@pytest.mark.parametrize("method,path,body,expected", WRITES, ids=[f"{m} {p} {b}"[:80] for m, p, b, _ in WRITES])
def test_write_status(env, method, path, body, expected, name):
    ids = env["actions"]
    url = path.format(P1=ids["P1"], P2=ids["P2"], company=ids[None])
    kwargs = {"json": body} if body is not None else {}
    response = getattr(env["client"], method)(url, headers=bearer(env["tokens"][name]), **kwargs)
    assert response.status_code == expected[name], response.text[:300]
    if response.status_code == 201 and "site" in response.json():
        scope = scope_of(name)
        assert scope is None or response.json()["site"] in scope


# ---------------------------------------------------------------- pages apply the same function
def page(env, name: str, path: str):
    client = TestClient(env["client"].app)
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    client.post("/login", data={"name": name, "password": "correct horse battery", "csrf_token": token})
    return client.get(path)


@pytest.mark.parametrize(
    "name,path,status",
    [
        ("pia", "/", 200),
        ("pia", "/kpis/dso", 403),
        ("pia", "/kpis/oee?site=P2", 403),
        ("pia", "/admin", 403),
        ("val", "/admin", 403),
        ("ada", "/admin", 200),
        ("pia", "/variances", 200),
        ("pia", "/data", 200),
        ("wes", "/unit-economics", 200),
        ("pia", "/actions/{P2}", 403),
        ("val", "/variances", 200),
    ],
)
def test_page_status(env, name, path, status):
    url = path.format(P2=env["actions"]["P2"])
    response = page(env, name, url)
    assert response.status_code == status
    if status == 403:
        assert 'class="error-state"' in response.text


def test_scoped_pages_show_only_their_site(env):
    overview = page(env, "pia", f"/?period={PERIOD}").text
    assert "Overall equipment effectiveness" in overview or "OEE" in overview
    assert "Days sales outstanding" not in overview
    variances = page(env, "pia", f"/variances?period={PERIOD}").text
    assert "Manufacturing variances of P1" in variances and "static budget" not in variances
    assert "P2-ASSY" not in variances
    data = page(env, "pia", "/data").text
    assert "P1-NEW" in data and "P2-NEW" not in data and "FG-NEW" not in data
    everything = page(env, "ada", "/data").text
    assert all(x in everything for x in ("P1-NEW", "P2-NEW", "FG-NEW"))


# ---------------------------------------------------------------- found by review (R5): what a plant manager sees
def test_a_plant_manager_sees_useful_tiles_and_names_the_empty_ones(env):
    ws = env["client"].app.state.opsfin.ws
    months = {dt.date(2024, m, 1) for m in range(1, 5)}  # the tiny company's months, all inside the 12 shown
    empty = set()
    for kpi in ws.kpi_catalog().values():
        if "site" in kpi.dims:
            rows = ws.kpi([kpi.id], "month", [], {"site": ["P1"]}).to_dicts()
            if not any(r["value"] is not None for r in rows if r["period_start"] in months):
                empty.add(kpi.name)
    assert empty and "OEE" not in empty  # a plant sells nothing and picks nothing: such KPIs exist
    overview = page(env, "pia", f"/?period={PERIOD}").text
    tiles = set(re.findall(r'class="tile-name">([^<]+)<', overview))
    named = set(
        re.findall(
            r'<a href="/kpis/[^"]+">([^<]+)</a>',
            re.search(r'id="no-data">(.*?)</p>', overview, re.S).group(1),
        )
    )
    assert named == empty and not tiles & empty and "OEE" in tiles


def test_a_one_site_user_drills_from_their_work_centres(env):
    plant = page(env, "pia", f"/kpis/oee?period={PERIOD}").text
    assert "By work center, 2024-04" in plant
    members = re.findall(
        r'<tr><td><a href="[^"]+">([^<]+)</a></td>',
        re.search(r'id="kpi-split">(.*?)</table>', plant, re.S).group(1),
    )
    assert members and all(env["sites"]["work_center"][m] == "P1" for m in members)
    assert "By site, 2024-04" in page(env, "ada", f"/kpis/oee?period={PERIOD}").text


def test_guardrails_that_apply_at_their_sites_are_shown_read_only(env):
    mine = rows_for(env, "pia", "/api/v1/guardrails?kpi=oee").json()
    everyone = rows_for(env, "ada", "/api/v1/guardrails?kpi=oee").json()
    assert mine == everyone and mine and all(g["sites"] is None for g in mine)  # per-site bands, shown to pia
    assert rows_for(env, "pia", "/api/v1/guardrails?kpi=dso").json() == []  # a company-level KPI's band is not
    assert rows_for(env, "ada", "/api/v1/guardrails?kpi=dso").json()
    kpi_page = page(env, "pia", f"/kpis/oee?period={PERIOD}").text
    assert 'id="guardrails"' in kpi_page and "company-wide" in kpi_page and 'action="/guardrails/' not in kpi_page


def test_the_pack_of_one_site(env):
    one = rows_for(env, "ada", f"/api/v1/export/pack?period={PERIOD}&format=html&site=P1")
    assert one.status_code == 200 and "Days sales outstanding" not in one.text and "P1" in one.text
    assert rows_for(env, "pia", f"/api/v1/export/pack?period={PERIOD}&format=html&site=P2").status_code == 403
    overview = page(env, "pia", f"/?period={PERIOD}").text
    assert f'href="/api/v1/export/pack?period={PERIOD}&amp;format=xlsx"' in overview
    assert (
        f'href="/api/v1/export/pack?period={PERIOD}&amp;site=P1&amp;format=xlsx"'
        in page(env, "ada", f"/?period={PERIOD}&site=P1").text
    )


def test_a_scoped_user_sees_when_the_data_were_loaded(env):
    data = page(env, "pia", "/data").text
    assert 'id="latest-load"' in data and 'id="loads"' not in data  # the time, not the other sites' loads


def test_a_kpi_without_site_levels_below_the_site_still_splits(env):
    """Found by review: maintenance cost at one site (dimensions site and cost centre) said it was a
    company-level KPI with nothing to drill into."""
    ws = env["client"].app.state.opsfin.ws
    assert ws.kpi_catalog()["maintenance_cost"].dims == {"site", "cost_center"}
    text = page(env, "ada", f"/kpis/maintenance_cost?period={PERIOD}&site=P1").text
    assert "company-level KPI" not in text and "By cost center, 2024-04" in text
    rows = ws.kpi(["maintenance_cost"], "month", ["cost_center"], {"site": ["P1"]}, "2024-04-01", "2024-04-30")
    members = re.findall(r"<tr><td>([^<]+)</td>", re.search(r'id="kpi-split">(.*?)</table>', text, re.S).group(1))
    assert sorted(members) == sorted(rows.get_column("cost_center").to_list()) and members
