"""The scenario engine on the tiny company (docs/scenarios.md): a scenario without shocks (or with shocks
of size 0) is its base in every line; a material price, a demand and a capacity shock move the plan by
amounts worked by hand from the base's own volumes, BOMs, routings and standards (read here with SQL, never
from the engine's output).

The base is budget B2024 (Jan..Apr 2024) planned with no finished-goods cover and no setups, so that each
month's production is its shipments: the hand-worked sums stay short."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from opsfin.core.money import round_cents, to_decimal
from opsfin.planning.config import PlanningConfig
from opsfin.planning.inputs import PlanInputs
from opsfin.planning.operations_config import OperationsConfig
from opsfin.planning.volumes import volumes_for
from opsfin.runs.planning import compute_plan, plan_months
from opsfin.runs.tables import reading_tables
from opsfin.scenarios.config import Shock
from opsfin.scenarios.engine import compare, prepare_base, run_scenario

BASE = "B2024"
FEB, MAR, APR = dt.date(2024, 2, 1), dt.date(2024, 3, 1), dt.date(2024, 4, 1)
SIMPLE = PlanningConfig(operations=OperationsConfig(days_of_cover=0.0, setup_per_order=False))
SHARE = 0.14  # the overtime guardrail
#: the kinds whose scope may be empty
ANY_SCOPE = (
    "demand",
    "price",
    "material_price",
    "energy_price",
    "wage",
    "supplier_delay",
    "payment_delay",
    "fixed_cost",
    "unit_cost",
)


@pytest.fixture(scope="module")
def base(tiny_demo):
    with reading_tables(tiny_demo) as t:
        months = plan_months(t, BASE, None, None)
        volumes = volumes_for(t, BASE, months, tiny_demo.settings.base_currency, SIMPLE.site_mix_months)
        yield prepare_base(PlanInputs(t, volumes, months, SIMPLE, (BASE,)), overtime_share=SHARE, name=BASE)


def _sql(ws, query: str) -> list[dict]:
    return ws.sql(query).to_dicts()


def _gross_margin(plan, month: dt.date) -> Decimal:
    rows = plan.pnl.filter((pl.col("period") == month) & (pl.col("line") == "gross_margin"))
    return sum((to_decimal(a) for a in rows["amount"].to_list()), Decimal(0))


def _role(plan, role: str, month: dt.date) -> Decimal:
    rows = plan.balances.filter((pl.col("role") == role) & (pl.col("period") == month))
    return sum((to_decimal(a) for a in rows["amount"].to_list()), Decimal(0))


def _site_line(plan, site: str, line: str, month: dt.date) -> Decimal:
    rows = plan.pnl.filter((pl.col("period") == month) & (pl.col("site_id") == site) & (pl.col("line") == line))
    return sum((to_decimal(a) for a in rows["amount"].to_list()), Decimal(0))


def _line(plan, line: str, month: dt.date) -> Decimal:
    rows = plan.pnl.filter((pl.col("period") == month) & (pl.col("line") == line))
    return sum((to_decimal(a) for a in rows["amount"].to_list()), Decimal(0))


# ------------------------------------------------------------------------------------------ exactness
def test_no_shock_is_the_base_plan_and_the_base_is_the_plan_engines(base, tiny_demo):
    run = run_scenario(base, [])
    assert run.plan.pnl.equals(base.plan.pnl)
    assert run.lost_sales.is_empty()
    # the base itself is what `plan build` computes from the same volumes with the default config
    with reading_tables(tiny_demo) as t:
        months = plan_months(t, BASE, None, None)
        volumes = volumes_for(t, BASE, months, tiny_demo.settings.base_currency, 12)
        default = prepare_base(PlanInputs(t, volumes, months, PlanningConfig(), (BASE,)))
    _months, built = compute_plan(tiny_demo, BASE, budgets=(BASE,))
    for frame in ("pnl", "capacity", "balances"):
        assert getattr(default.plan, frame).equals(getattr(built, frame)), frame


def test_shocks_of_size_zero_change_no_line(base):
    """Every kind goes through its hook (the plan engine runs again) and changes nothing."""
    scopes = {"capacity": {"work_centers": ["P1-ASSY"]}, "fx": {"currencies": ["USD"]}}
    shocks = [Shock(kind=k, scope=scopes.get(k, {}), start="2024-01", size=0) for k in (*ANY_SCOPE, "capacity", "fx")]
    run = run_scenario(base, shocks)
    assert run.plan is not base.plan  # built again
    report = compare(run_scenario(base, []), run)
    for part in (report.pnl, report.capacity, report.cash):
        assert part.filter(pl.col("delta") != 0).is_empty()
    assert run.plan.balances.equals(base.plan.balances)
    assert run.lost_sales.is_empty()


# ------------------------------------------------------------------------------------------ material price
def _bought(ws, shipped: pl.DataFrame, item: str, month: dt.date) -> dict[str, Decimal]:
    """The planned purchases of `item` for `month`'s production per production site, worked from the BOM,
    the routings' sites and the standard cost: round(Σ shipped qty × qty_per × std) (production =
    shipments: no cover, no finished stock before the plan)."""
    bom = {r["product_id"]: r["qty_per"] for r in _sql(ws, f"SELECT * FROM bom WHERE component_id = '{item}'")}
    plant = {
        r["product_id"]: r["site_id"]
        for r in _sql(
            ws,
            "SELECT r.product_id, w.site_id FROM routings r JOIN work_centers w USING (work_center_id) WHERE r.step = 1",
        )
    }
    std = to_decimal(_sql(ws, f"SELECT std_unit_cost FROM products WHERE product_id = '{item}'")[0]["std_unit_cost"])
    need: dict[str, Decimal] = {}
    for r in shipped.filter(pl.col("period") == month).iter_rows(named=True):
        if r["product_id"] in bom:
            site = plant[r["product_id"]]
            need[site] = need.get(site, Decimal(0)) + to_decimal(r["qty"]) * to_decimal(bom[r["product_id"]])
    return {site: round_cents(q * std) for site, q in need.items()}


def test_material_price_changes_gross_margin_by_minus_ten_percent_of_its_purchases(base, tiny_demo):
    """RM-001 +10 % in Feb..Mar: each month's gross margin falls by 10 % of the RM-001 bought for that
    month's production (received on its first day): Σ per production site of round(0.1 × round(need × std))."""
    opening = _sql(
        tiny_demo,
        "SELECT coalesce(sum(m.qty), 0) AS q FROM inventory_movements m JOIN products p USING (product_id) "
        "WHERE p.kind = 'finished' AND m.moved_at < DATE '2024-01-01'",
    )
    assert opening[0]["q"] == 0  # no finished stock before the plan: production = shipments (no cover)
    shipped = base.volumes.shipments  # the plan's own volumes: volume_plan split over the selling sites
    shock = Shock(kind="material_price", scope={"products": ["RM-001"]}, start="2024-02", end="2024-03", size=10)
    run = run_scenario(base, [shock])
    for month in (FEB, MAR, APR):
        purchases = _bought(tiny_demo, shipped, "RM-001", month)
        expected = sum((round_cents(p * Decimal("0.1")) for p in purchases.values()), Decimal(0))
        if month == APR:
            expected = Decimal(0)  # after the shock
        assert expected == 0 or expected > Decimal(100)  # real money moved, not a rounding cent
        assert _gross_margin(base.plan, month) - _gross_margin(run.plan, month) == expected, month
        assert _line(run.plan, "revenue", month) == _line(base.plan, "revenue", month)
        assert _line(run.plan, "cogs", month) == _line(base.plan, "cogs", month)


def test_a_late_supplier_holds_its_days_of_need_in_stock(base, tiny_demo):
    """RM-001 delivered 10 days late in February: 10/29 of February's RM-001 purchases are held in stock at
    each plant at the end of February, none after; the P&L does not move."""
    shock = Shock(kind="supplier_delay", scope={"products": ["RM-001"]}, start="2024-02", end="2024-02", size=10)
    run = run_scenario(base, [shock])
    held = sum(
        (round_cents(a * 10 / 29) for a in _bought(tiny_demo, base.volumes.shipments, "RM-001", FEB).values()),
        Decimal(0),
    )
    assert _role(run.plan, "inventory", FEB) - _role(base.plan, "inventory", FEB) == held > 0
    assert _role(run.plan, "inventory", MAR) == _role(base.plan, "inventory", MAR)
    assert run.plan.pnl.equals(base.plan.pnl)


def test_energy_labour_unit_and_fixed_costs_by_hand(base, tiny_demo):
    """On FG-004 (made at P2) in March: energy +20 % costs 20 % of its kWh × P2's energy price per unit,
    labour minutes +10 % cost 10 % of its labour minutes × each work centre's rate, a levy of 1.50 a unit;
    and 2,000 a month of fixed cost at P2. Each unit made = each unit shipped (no cover)."""
    month = "2024-03"
    shocks = [
        Shock(kind="energy_price", scope={"products": ["FG-004"]}, start=month, end=month, size=20),
        Shock(kind="labor_productivity", scope={"products": ["FG-004"]}, start=month, end=month, size=10),
        Shock(kind="unit_cost", scope={"products": ["FG-004"]}, start=month, end=month, size=Decimal("1.50")),
        Shock(kind="fixed_cost", scope={"sites": ["P2"]}, start=month, end=month, size=2000),
    ]
    run = run_scenario(base, shocks)
    steps = _sql(
        tiny_demo,
        "SELECT r.std_kwh_per_unit AS kwh, r.std_labor_minutes_per_unit AS minutes, w.std_labor_rate AS rate, "
        "s.std_energy_price AS price FROM routings r JOIN work_centers w USING (work_center_id) "
        "JOIN sites s ON s.site_id = w.site_id WHERE r.product_id = 'FG-004'",
    )
    energy = sum((to_decimal(r["kwh"]) * to_decimal(r["price"]) for r in steps), Decimal(0))
    labour = sum((to_decimal(r["minutes"]) / 60 * to_decimal(r["rate"]) for r in steps), Decimal(0))
    qty = sum(
        (
            to_decimal(q)
            for q in base.volumes.shipments.filter((pl.col("period") == MAR) & (pl.col("product_id") == "FG-004"))[
                "qty"
            ]
        ),
        Decimal(0),
    )
    expected = round_cents(qty * (energy * Decimal("0.2") + labour * Decimal("0.1") + Decimal("1.5")))

    def at(plan, line):
        rows = plan.pnl.filter((pl.col("period") == MAR) & (pl.col("site_id") == "P2") & (pl.col("line") == line))
        return to_decimal(rows["amount"][0])

    assert at(run.plan, "variances") - at(base.plan, "variances") == expected
    assert at(run.plan, "opex") - at(base.plan, "opex") == Decimal(2000)
    assert _line(run.plan, "operating_income", FEB) == _line(base.plan, "operating_income", FEB)
    assert _line(base.plan, "operating_income", MAR) - _line(run.plan, "operating_income", MAR) == expected + 2000


def test_customers_paying_later_hold_cash_in_receivables(base):
    """Every customer pays 15 days later in March: AR rises, cash falls by the same amount, income does not."""
    run = run_scenario(base, [Shock(kind="payment_delay", start="2024-03", end="2024-03", size=15)])
    more_ar = _role(run.plan, "ar", MAR) - _role(base.plan, "ar", MAR)
    assert more_ar > 0
    cash = {r["period"]: r["amount"] for r in run.cash.iter_rows(named=True)}
    cash0 = {r["period"]: r["amount"] for r in run_scenario(base, []).cash.iter_rows(named=True)}
    assert cash0[MAR] - cash[MAR] == more_ar
    assert cash0[APR] == cash[APR] and _role(run.plan, "ar", APR) == _role(base.plan, "ar", APR)
    assert run.plan.pnl.equals(base.plan.pnl)


def test_material_price_is_paid_on_the_suppliers_terms(base):
    """The dearer RM-001 of February is a payable (suppliers' terms 30..45 days): AP holds it at the end
    of February, so February's cash is the base's; by April it is paid, and the cash is lower by exactly
    the variance."""
    shock = Shock(kind="material_price", scope={"products": ["RM-001"]}, start="2024-02", end="2024-02", size=10)
    run = run_scenario(base, [shock])
    variance = _line(run.plan, "variances", FEB) - _line(base.plan, "variances", FEB)
    assert variance > 0
    ap = {r["period"]: r["amount"] for r in run.plan.balances.filter(pl.col("role") == "ap").iter_rows(named=True)}
    ap0 = {r["period"]: r["amount"] for r in base.plan.balances.filter(pl.col("role") == "ap").iter_rows(named=True)}
    assert ap[FEB] - ap0[FEB] == variance
    assert ap[APR] == ap0[APR]
    base_cash = {r["period"]: r["amount"] for r in run_scenario(base, []).cash.iter_rows(named=True)}
    cash = {r["period"]: r["amount"] for r in run.cash.iter_rows(named=True)}
    assert cash[FEB] == base_cash[FEB]
    assert base_cash[APR] - cash[APR] == variance


# ------------------------------------------------------------------------------------------ demand
def test_demand_on_one_product_changes_revenue_and_hours_by_hand(base, tiny_demo):
    """FG-004 +10 % from March: revenue rises by 10 % of its planned revenue (volume_plan qty × price), to
    a cent per selling site; its work centres need 10 % of its run hours more (routings)."""
    shock = Shock(kind="demand", scope={"products": ["FG-004"]}, start="2024-03", size=10)
    run = run_scenario(base, [shock])
    planned = {
        r["period"]: to_decimal(r["qty"]) * to_decimal(r["unit_price"])
        for r in _sql(
            tiny_demo,
            f"SELECT period, qty, unit_price FROM volume_plan WHERE version = '{BASE}' AND product_id = 'FG-004'",
        )
    }
    qty = {
        r["period"]: float(r["qty"])
        for r in _sql(
            tiny_demo, f"SELECT period, qty FROM volume_plan WHERE version = '{BASE}' AND product_id = 'FG-004'"
        )
    }
    sites = base.volumes.shipments.filter(pl.col("product_id") == "FG-004")["site_id"].n_unique()
    minutes = {
        r["work_center_id"]: float(r["std_run_minutes_per_unit"])
        for r in _sql(tiny_demo, "SELECT * FROM routings WHERE product_id = 'FG-004'")
    }
    report = compare(run_scenario(base, []), run)
    for month in (FEB, MAR, APR):
        delta = _line(run.plan, "revenue", month) - _line(base.plan, "revenue", month)
        expected = planned[month] * Decimal("0.1") if month >= MAR else Decimal(0)
        assert abs(delta - expected) <= Decimal("0.01") * sites, month
        hours = report.capacity.filter(pl.col("period") == month)
        for wc, per_unit in minutes.items():
            got = hours.filter(pl.col("work_center_id") == wc)["delta"][0]
            want = 0.1 * qty[month] * per_unit / 60 if month >= MAR else 0.0
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (month, wc)
    assert run.lost_sales.is_empty()  # P2 has room for it


# ------------------------------------------------------------------------------------------ capacity
def test_an_outage_beyond_overtime_gives_up_the_lowest_margin_per_bottleneck_hour_first(base, tiny_demo):
    """P1-ASSY loses hours in February beyond what overtime covers: the product with the least contribution
    (price − standard cost) per P1-ASSY hour loses exactly the hours missing ÷ its hours per unit."""
    minutes = {
        r["product_id"]: float(r["std_run_minutes_per_unit"])
        for r in _sql(tiny_demo, "SELECT * FROM routings WHERE work_center_id = 'P1-ASSY'")
    }
    plan = {
        r["product_id"]: r
        for r in _sql(
            tiny_demo,
            f"SELECT v.product_id, v.qty, v.unit_price, p.std_unit_cost FROM volume_plan v JOIN products p USING (product_id) "
            f"WHERE v.version = '{BASE}' AND v.period = DATE '2024-02-01'",
        )
    }
    per_hour = {
        p: (float(plan[p]["unit_price"]) - float(plan[p]["std_unit_cost"])) / (m / 60)
        for p, m in minutes.items()
        if p in plan and plan[p]["qty"] > 0
    }
    ranked = sorted(per_hour, key=per_hour.get)
    required = sum(float(plan[p]["qty"]) * minutes[p] / 60 for p in per_hour)
    row = base.plan.capacity.filter((pl.col("period") == FEB) & (pl.col("work_center_id") == "P1-ASSY")).row(
        0, named=True
    )
    assert row["required_hours"] == pytest.approx(required, rel=1e-9)  # the plan's hours are the routings'
    available = row["available_hours"]
    lowest = ranked[0]
    lowest_hours = float(plan[lowest]["qty"]) * minutes[lowest] / 60
    # lose enough hours that, after overtime, half the lowest product's hours are missing
    allowed = SHARE / (1 - SHARE)
    missing = lowest_hours / 2
    lost = (available * (1 + allowed) - required + missing) / (1 + allowed)
    assert 0 < lost < available
    shock = Shock(
        kind="capacity", scope={"work_centers": ["P1-ASSY"]}, start="2024-02", end="2024-02", size=round(lost, 6)
    )
    run = run_scenario(base, [shock])
    lost_sales = run.lost_sales
    assert lost_sales["product_id"].to_list() == [lowest]
    got = lost_sales.row(0, named=True)
    expected_qty = missing / (minutes[lowest] / 60)
    assert got["qty"] == pytest.approx(expected_qty, abs=2e-3)
    assert got["period"] == FEB
    assert got["reason"].startswith("capacity P1-ASSY (bottleneck), contribution EUR ")
    assert f"{per_hour[lowest]:,.2f} per bottleneck hour" in got["reason"]
    unit = to_decimal(plan[lowest]["unit_price"]) - to_decimal(plan[lowest]["std_unit_cost"])
    assert abs(to_decimal(got["contribution"]) - unit * to_decimal(expected_qty)) < Decimal("0.5")
    # the volume given up leaves the P&L: revenue falls by its price × qty
    drop = _line(base.plan, "revenue", FEB) - _line(run.plan, "revenue", FEB)
    assert abs(drop - to_decimal(plan[lowest]["unit_price"]) * to_decimal(expected_qty)) < Decimal(1)


def test_a_demand_shock_beyond_capacity_gives_up_the_lowest_margin_per_bottleneck_hour(base, tiny_demo):
    """Demand at P1 +110 % in February: P1-ASSY (the most minutes a unit) needs more than its hours plus
    the 14 % overtime share allows. Worked greedily by hand: the products in rising contribution per
    P1-ASSY hour give up their hours until the load fits."""
    minutes = {
        r["product_id"]: float(r["std_run_minutes_per_unit"])
        for r in _sql(tiny_demo, "SELECT * FROM routings WHERE work_center_id = 'P1-ASSY'")
    }
    plan = {
        r["product_id"]: r
        for r in _sql(
            tiny_demo,
            "SELECT v.product_id, v.qty, v.unit_price, p.std_unit_cost FROM volume_plan v JOIN products p "
            f"USING (product_id) WHERE v.version = '{BASE}' AND v.period = DATE '2024-02-01' AND v.qty > 0",
        )
    }
    p1 = [p for p in minutes if p in plan]
    demand = {p: float(plan[p]["qty"]) * 2.1 for p in p1}
    per_hour = {p: (float(plan[p]["unit_price"]) - float(plan[p]["std_unit_cost"])) / (minutes[p] / 60) for p in p1}
    available = base.plan.capacity.filter((pl.col("period") == FEB) & (pl.col("work_center_id") == "P1-ASSY"))[
        "available_hours"
    ][0]
    excess = sum(demand[p] * minutes[p] / 60 for p in p1) - available * (1 + SHARE / (1 - SHARE))
    assert excess > 0
    expected = {}
    for p in sorted(p1, key=per_hour.get):
        if excess <= 0:
            break
        hours = min(excess, demand[p] * minutes[p] / 60)
        expected[p] = hours / (minutes[p] / 60)
        excess -= hours
    shock = Shock(kind="demand", scope={"sites": ["W1"], "products": p1}, start="2024-02", end="2024-02", size=110)
    run = run_scenario(base, [shock])
    got = {r["product_id"]: r["qty"] for r in run.lost_sales.iter_rows(named=True)}
    assert set(got) == set(expected)
    for p, qty in expected.items():
        assert got[p] == pytest.approx(qty, abs=2e-3), p
    assert all(r["period"] == FEB for r in run.lost_sales.iter_rows(named=True))


def test_a_price_shock_on_a_family_moves_revenue_and_margin_by_its_share(base, tiny_demo):
    """Pumps +5 % from March: revenue and gross margin rise by 5 % of the pumps' planned revenue
    (volume_plan qty × unit price), to a cent per priced line; COGS and hours do not move."""
    pumps = [r["product_id"] for r in _sql(tiny_demo, "SELECT product_id FROM products WHERE family = 'Pumps'")]
    assert pumps
    run = run_scenario(base, [Shock(kind="price", scope={"families": ["Pumps"]}, start="2024-03", size=5)])
    names = ", ".join(f"'{p}'" for p in pumps)
    planned = {}
    for r in _sql(
        tiny_demo,
        f"SELECT period, qty, unit_price FROM volume_plan WHERE version = '{BASE}' AND product_id IN ({names})",
    ):
        planned[r["period"]] = planned.get(r["period"], Decimal(0)) + to_decimal(r["qty"]) * to_decimal(r["unit_price"])
    lines = base.volumes.lines.filter(pl.col("product_id").is_in(pumps) & (pl.col("period") == MAR)).height
    for month in (FEB, MAR, APR):
        want = planned[month] * Decimal("0.05") if month >= MAR else Decimal(0)
        for line in ("revenue", "gross_margin"):
            delta = _line(run.plan, line, month) - _line(base.plan, line, month)
            assert abs(delta - want) <= Decimal("0.01") * lines, (month, line)
        assert _line(run.plan, "cogs", month) == _line(base.plan, "cogs", month)
    assert run.plan.capacity.equals(base.plan.capacity)


def test_fx_moves_the_revenue_and_the_purchases_in_that_currency(base, tiny_demo):
    """USD +10 % in March: each selling site's revenue rises by 10 % × its share of net invoicing in USD
    (the tiny books start with the plan, so every invoice counts), to a cent per priced line; the bought
    items whose supplier (the one of the latest purchase order at the site) bills in USD cost 10 % more."""
    run = run_scenario(base, [Shock(kind="fx", scope={"currencies": ["USD"]}, start="2024-03", end="2024-03", size=10)])
    mix = _sql(
        tiny_demo,
        "WITH s AS (SELECT so_id, min(site_id) AS site_id FROM sales_orders GROUP BY so_id) "
        "SELECT s.site_id, sum(CASE WHEN i.currency = 'USD' THEN i.total - i.tax_amount ELSE 0 END) / "
        "sum(i.total - i.tax_amount) AS share FROM ar_invoices i JOIN s USING (so_id) GROUP BY s.site_id",
    )
    share = {r["site_id"]: to_decimal(r["share"]) for r in mix}
    assert any(v > 0 for v in share.values())
    for site, part in share.items():
        lines = base.volumes.lines.filter((pl.col("period") == MAR) & (pl.col("site_id") == site)).height
        before, after = _site_line(base.plan, site, "revenue", MAR), _site_line(run.plan, site, "revenue", MAR)
        assert abs(after - before - before * Decimal("0.1") * part) <= Decimal("0.01") * (lines + 1), site
    latest = _sql(
        tiny_demo,
        "SELECT site_id, product_id, arg_max(supplier_id, (ordered_date, po_id)) AS supplier_id "
        "FROM purchase_orders GROUP BY site_id, product_id",
    )
    usd = {r["supplier_id"] for r in _sql(tiny_demo, "SELECT supplier_id FROM suppliers WHERE currency = 'USD'")}
    expected = Decimal(0)
    for item in sorted({r["product_id"] for r in latest}):
        for site, amount in _bought(tiny_demo, base.volumes.shipments, item, MAR).items():
            supplier = next(
                (r["supplier_id"] for r in latest if r["site_id"] == site and r["product_id"] == item), None
            )
            if supplier in usd:
                expected += round_cents(amount * Decimal("0.1"))
    assert expected > 0
    assert _line(run.plan, "variances", MAR) - _line(base.plan, "variances", MAR) == expected
    assert _line(run.plan, "variances", APR) == _line(base.plan, "variances", APR)
