"""Variance analysis: textbook examples with their published answers, and the tiny demo
company, month by month, against independent recomputations from the warehouse rows."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli_support import run_in_process
from opsfin.costing.variance import (
    CATEGORIES,
    GL_ROLES,
    MANUFACTURING_CATEGORIES,
    SPLITS,
    UNASSIGNED,
    _he_sql,
    apportion,
    he,
    month_end,
    plan_versions,
    price_efficiency,
    sales_volume_split,
)
from opsfin.errors import UserError

CENT = Decimal("0.01")
DIMS = ("product", "work_center", "machine", "shift", "supplier", "customer")


def q2(x) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_EVEN)


# ------------------------------------------------------------------------------------------ textbook
def test_webb_company_textbook_formulas_horngren_ch7_ch8():
    """Horngren, Datar & Rajan, Cost Accounting, ch. 7 and 8: Webb Company, April. Budget 12,000 jackets,
    contribution margin $32 each; actual 10,000. Standards: 2 sq yd cloth at $30, 0.8 labor-h at $20, 0.40
    machine-h at $30 variable overhead. Actual: 22,200 sq yd at $28, 9,000 labor-h at $22, 4,500 machine-h,
    variable overhead $130,500. Published: sales-volume $64,000 U (contribution-margin basis); DM price
    $44,400 F, efficiency $66,000 U; DL price $18,000 U, efficiency $20,000 U; variable overhead spending
    $4,500 F, efficiency $15,000 U. The whole bridge, selling price and fixed overhead included, is run on
    Webb's rows through the real engine in tests/test_variance_webb.py."""
    quantity, mix = sales_volume_split({"jacket": (Fraction(12_000), Fraction(32))}, {"jacket": Fraction(10_000)})
    assert (quantity, mix) == ({"jacket": -64_000}, {"jacket": 0})  # one product: no mix effect
    assert price_efficiency(22_200 * 28, 22_200, 30, 10_000 * 2) == (44_400, -66_000)
    assert price_efficiency(9_000 * 22, 9_000, 20, 10_000 * Fraction(8, 10)) == (-18_000, -20_000)
    assert price_efficiency(130_500, 4_500, 30, 10_000 * Fraction(4, 10)) == (4_500, -15_000)


def test_jinwa_sales_mix_and_quantity_horngren_ch14():
    """Horngren ch. 14 (exercise 14-24, Jinwa Corporation): Plain and Chic wine glasses, budget 2,000 units at
    an 80/20 mix and CM $2/$6; actual 1,500 units at 60/40. Published: sales-quantity $1,400 U (Plain $800 U,
    Chic $600 U); sales-mix $1,200 F (Plain $600 U, Chic $1,800 F); sales-volume $200 U."""
    quantity, mix = sales_volume_split(
        {"plain": (Fraction(1600), Fraction(2)), "chic": (Fraction(400), Fraction(6))},
        {"plain": Fraction(900), "chic": Fraction(600)},
    )
    assert quantity == {"plain": -800, "chic": -600}
    assert mix == {"plain": -600, "chic": 1800}
    assert sum(quantity.values()) + sum(mix.values()) == -200


def test_kola_limor_orlem_sales_mix_and_quantity_horngren_13e():
    """Horngren et al., 13th ed. pp. 517-519: budget Kola 400,000 ($2.00), Limor 600,000 ($1.20), Orlem
    1,500,000 ($2.50); actual 480,000 / 900,000 / 1,620,000. Published: sales-volume $820,000 F, sales-quantity
    $1,054,000 F, sales-mix $234,000 U (Kola 0, Limor $216,000 F, Orlem $450,000 U)."""
    budget = {
        "kola": (Fraction(400_000), Fraction(2)),
        "limor": (Fraction(600_000), Fraction(12, 10)),
        "orlem": (Fraction(1_500_000), Fraction(5, 2)),
    }
    quantity, mix = sales_volume_split(budget, {"kola": 480_000, "limor": 900_000, "orlem": 1_620_000})
    assert quantity == {"kola": 160_000, "limor": 144_000, "orlem": 750_000}
    assert mix == {"kola": 0, "limor": 216_000, "orlem": -450_000}
    assert sum(quantity.values()) == 1_054_000 and sum(mix.values()) == -234_000


# ------------------------------------------------------------------------------------------ exact helpers
@given(
    st.integers(-(10**6), 10**6),
    st.lists(
        st.fractions(min_value=-(10**5), max_value=10**5, max_denominator=997),
        min_size=1,
        max_size=12,
    ),
)
def test_apportion_sums_exactly(target, values):
    parts = {f"m{i}": v for i, v in enumerate(values)}
    out = apportion(target, parts)
    assert sum(out.values()) == target
    if any(values) and abs(sum(values) - target) <= 1:  # rounding only: each member within a cent of its share
        assert all(abs(out.get(k, 0) - v) < 2 for k, v in parts.items())
        assert UNASSIGNED not in out


def test_apportion_largest_remainder_and_unplaced_part():
    assert apportion(100, {"a": Fraction(100, 3), "b": Fraction(100, 3), "c": Fraction(100, 3)}) == {
        "a": 34,
        "b": 33,
        "c": 33,
    }
    assert apportion(10, {"a": Fraction(5, 2), "b": Fraction(15, 2)}) in (
        {"a": 3, "b": 7},
        {"a": 2, "b": 8},
    )
    assert apportion(500, {"a": 100}) == {"a": 100, UNASSIGNED: 400}


def test_half_even_sql_matches_python():
    con = duckdb.connect()
    for d in (1600, 400, 600_000, 100_000):
        for n in list(range(-5 * d, 5 * d, d // 2)) + [d // 2 + k for k in range(-3, 4)] + [-(d // 2), 3 * d // 2]:
            got = con.execute(f"SELECT {_he_sql('n', d)} FROM (SELECT CAST({n} AS BIGINT) n)").fetchone()[0]
            assert got == he(Fraction(n, d)), (n, d)


def test_plan_version_must_be_unique_or_named():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE volume_plan(version VARCHAR, period DATE, product_id VARCHAR, qty DOUBLE, unit_price DECIMAL(18,4))"
    )
    con.execute(
        "INSERT INTO volume_plan VALUES ('B1', DATE '2024-01-01', 'A', 1, 1), ('B2', DATE '2024-01-01', 'A', 2, 1)"
    )
    with pytest.raises(UserError, match="--budget"):
        plan_versions(con, [dt.date(2024, 1, 1)], None)
    assert plan_versions(con, [dt.date(2024, 1, 1)], "B2") == {dt.date(2024, 1, 1): "B2"}
    with pytest.raises(UserError, match="no rows"):
        plan_versions(con, [dt.date(2024, 2, 1)], None)


# ------------------------------------------------------------------------------------------ tiny demo
def _rows(ws, sql):
    with ws.connect(read_only=True) as con:
        return con.execute(sql).fetchall()


def _months(ws) -> list[dt.date]:
    lo, hi = _rows(ws, "SELECT min(period), max(period) FROM volume_plan")[0]
    out, m = [], lo
    while m <= hi:
        out.append(m)
        m = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def _last(m: dt.date) -> dt.date:
    return (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _amounts(df, dim=None) -> dict:
    if dim is None:
        return {r["category"]: r["amount"] for r in df.to_dicts()}
    out: dict = defaultdict(dict)
    for r in df.to_dicts():
        out[r["category"]][r[dim]] = r["amount"]
    return out


@pytest.fixture(scope="module")
def monthly(tiny_demo):
    return {m: _amounts(tiny_demo.variance(m, _last(m))) for m in _months(tiny_demo)}


def test_every_category_reported_and_parts_add_to_total_each_month(tiny_demo, monthly):
    assert len(monthly) == 4
    nonzero = set()
    for m, a in monthly.items():
        nonzero |= {c for c in CATEGORIES if a[c]}
        assert list(a) == [*CATEGORIES, "total"]
        assert all(isinstance(v, Decimal) and v == v.quantize(CENT) for v in a.values())
        assert sum(v for k, v in a.items() if k != "total") == a["total"], m
        assert a["other_manufacturing"] == 0, m
    assert nonzero == set(CATEGORIES) - {"other_manufacturing"}


def test_total_is_actual_minus_static_gross_margin_recomputed(tiny_demo, monthly):
    for m, a in monthly.items():
        e = _last(m)
        actual = _rows(
            tiny_demo,
            f"""
            SELECT -sum(CASE WHEN a.role = 'revenue' THEN g.amount ELSE 0 END)
                   - sum(CASE WHEN a.role = 'cogs' OR a.role LIKE 'variance\\_%' ESCAPE '\\' THEN g.amount ELSE 0 END)
            FROM gl_entries g JOIN accounts a USING (account_id)
            WHERE g.posting_date BETWEEN DATE '{m}' AND DATE '{e}'""",
        )[0][0]
        plan = _rows(
            tiny_demo,
            f"""SELECT v.qty, v.unit_price, p.std_unit_cost FROM volume_plan v
                                    JOIN products p USING (product_id) WHERE v.period = DATE '{m}'""",
        )
        static = q2(sum((Decimal(str(qty)) * (price - std) for qty, price, std in plan), Decimal(0)))
        assert a["total"] == actual - static, m


def test_manufacturing_categories_tie_to_variance_postings(tiny_demo, monthly):
    for m, a in monthly.items():
        gl = dict(
            _rows(
                tiny_demo,
                f"""
            SELECT a.role, sum(g.amount) FROM gl_entries g JOIN accounts a USING (account_id)
            WHERE a.role LIKE 'variance%' AND g.posting_date BETWEEN DATE '{m}' AND DATE '{_last(m)}' GROUP BY 1""",
            )
        )
        assert len(gl) >= 8  # some months have no supplier invoice with a price difference
        assert sum(a[c] for c in MANUFACTURING_CATEGORIES) == -sum(gl.values()), m
        by_role: dict[str, Decimal] = defaultdict(Decimal)
        for cat, roles in GL_ROLES.items():
            by_role[roles[0]] += a[cat]
        assert {r: -v for r, v in by_role.items() if v or r in gl} == gl, m


def _rate_lookup(ws):
    rates = defaultdict(list)
    for d, ccy, r in _rows(ws, "SELECT rate_date, currency, rate_to_base FROM fx_rates ORDER BY rate_date"):
        rates[ccy].append((d, r))

    def rate(ccy, day):
        if ccy == "EUR":
            return Decimal(1)
        return [r for d, r in rates[ccy] if d <= day][-1]

    return rate


def test_material_price_recomputed_from_receipts(tiny_demo, monthly):
    rate = _rate_lookup(tiny_demo)
    receipts = _rows(
        tiny_demo,
        """SELECT r.received_date, r.qty, o.unit_price, o.currency, p.std_unit_cost, o.supplier_id
        FROM goods_receipts r JOIN purchase_orders o ON o.po_id = r.po_id AND o.line = r.line
        JOIN products p ON p.product_id = o.product_id""",
    )
    foreign = 0
    for m, a in monthly.items():
        mine = [x for x in receipts if m <= x[0] <= _last(m)]
        foreign += sum(1 for x in mine if x[3] != "EUR")
        expected = -sum(
            (q2((price * rate(ccy, d) - std) * Decimal(str(qty))) for d, qty, price, ccy, std, _ in mine),
            Decimal(0),
        )
        assert a["material_price"] == expected, m
    assert foreign > 0  # the FX path is exercised


@pytest.mark.parametrize("dim", DIMS)
def test_every_split_sums_to_the_company_category(tiny_demo, dim):
    company = _amounts(tiny_demo.variance())
    split = _amounts(tiny_demo.variance(by=dim), dim)
    assert set(split) == {*CATEGORIES, "total"}
    for cat in CATEGORIES:
        assert sum(split[cat].values()) == company[cat], (dim, cat)
        if dim not in SPLITS[cat]:
            assert set(split[cat]) == {UNASSIGNED}
    assert split["total"] == {None: company["total"]}


def test_splits_carry_their_members(tiny_demo):
    by_wc = _amounts(tiny_demo.variance(by="work_center"), "work_center")
    # every work centre with labour, booked on a timesheet or in the standard routing; the non-value-added
    # stations (transport, inspection) have no operators and no standard labour: no labour variance there
    wcs = {
        w
        for (w,) in _rows(
            tiny_demo,
            "SELECT work_center_id FROM timesheets WHERE work_center_id IS NOT NULL "
            "UNION SELECT work_center_id FROM routings WHERE std_labor_minutes_per_unit > 0",
        )
    }
    assert len(wcs) > 1 and set(by_wc["labor_efficiency"]) == wcs
    by_supplier = _amounts(tiny_demo.variance(by="supplier"), "supplier")
    assert UNASSIGNED not in by_supplier["material_price"] and len(by_supplier["material_price"]) > 1
    by_product = _amounts(tiny_demo.variance(by="product"), "product")
    finished = {p for (p,) in _rows(tiny_demo, "SELECT product_id FROM products WHERE kind = 'finished'")}
    assert set(by_product["sales_mix"]) <= finished | {UNASSIGNED} and len(by_product["sales_mix"]) > 1
    by_machine = _amounts(tiny_demo.variance(by="machine"), "machine")
    # every machine with a meter: the stations without sensors use no energy at standard or by reading
    machines = {m for (m,) in _rows(tiny_demo, "SELECT DISTINCT machine_id FROM machine_readings")}
    assert len(machines) > 1 and set(by_machine["energy_usage"]) == machines
    # invoice price variance follows the invoice's lines to their products, all of them bought items
    bought = {p for (p,) in _rows(tiny_demo, "SELECT product_id FROM products WHERE kind IN ('raw', 'component')")}
    assert by_product["invoice_price"] and UNASSIGNED not in by_product["invoice_price"]
    assert set(by_product["invoice_price"]) <= bought


def test_drill_down_returns_the_source_rows(tiny_demo):
    m, e = "2024-02", "2024-02"
    receipts = tiny_demo.variance(m, e, drill="material_price")
    rate = _rate_lookup(tiny_demo)
    ppv = -sum(
        (
            q2(
                (r["unit_price"] * rate(r["currency"], r["received_date"]) - r["std_unit_cost"])
                * Decimal(str(r["qty"]))
            )
            for r in receipts.to_dicts()
        ),
        Decimal(0),
    )
    assert ppv == _amounts(tiny_demo.variance(m, e))["material_price"]
    supplier = receipts["supplier_id"][0]
    one = tiny_demo.variance(m, e, by="supplier", drill="material_price", member=supplier)
    assert 0 < one.height < receipts.height and set(one["supplier_id"]) == {supplier}
    orders = tiny_demo.variance(m, e, drill="material_usage")
    assert (
        orders.height
        == _rows(
            tiny_demo,
            """SELECT count(*) FROM production_orders
        WHERE status = 'closed' AND closed_date BETWEEN DATE '2024-02-01' AND DATE '2024-02-29'""",
        )[0][0]
        > 0
    )
    ts = tiny_demo.variance(m, e, drill="labor_efficiency", by="work_center", member="P1-ASSY")
    assert ts.height > 0 and set(ts["work_center_id"]) == {"P1-ASSY"}
    readings = tiny_demo.variance(m, e, drill="energy_usage", by="machine", member="P1-ASSY-M01")
    assert readings.height == 29 * 24
    for cat in CATEGORIES:
        assert tiny_demo.variance(drill=cat).height > 0, cat
    with pytest.raises(UserError, match="do not carry"):
        tiny_demo.variance(m, e, drill="labor_rate", by="supplier", member="SUP-002")


def test_range_is_the_sum_of_its_months(tiny_demo, monthly):
    whole = _amounts(tiny_demo.variance())
    for cat in [*CATEGORIES, "total"]:
        assert whole[cat] == sum(a[cat] for a in monthly.values()), cat


def test_bad_inputs_are_user_errors(tiny_demo):
    with pytest.raises(UserError, match="first of a month"):
        tiny_demo.variance("2024-01-05", "2024-01-31")
    with pytest.raises(UserError, match="last day"):
        tiny_demo.variance("2024-01-01", "2024-01-30")
    with pytest.raises(UserError, match="--budget"):
        tiny_demo.variance(budget="NOPE")
    with pytest.raises(UserError, match="--by"):
        tiny_demo.variance(by="planet")
    with pytest.raises(UserError, match="at most 1200 months"):
        tiny_demo.variance(end="9999-12")
    assert month_end(dt.date(9999, 12, 1)) == dt.date(9999, 12, 31)


def _opsfin(ws, *args: str) -> subprocess.CompletedProcess:
    return run_in_process(*args, "-w", str(ws.path))


def test_cli_json_and_errors(tiny_demo):
    proc = _opsfin(
        tiny_demo,
        "variance",
        "--from",
        "2024-03",
        "--to",
        "2024-03",
        "--by",
        "product",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    total = [r for r in rows if r["category"] == "total"]
    assert len(total) == 1 and set(rows[0]) == {"category", "product", "amount"}
    assert sum(Decimal(r["amount"]) for r in rows if r["category"] != "total") == Decimal(total[0]["amount"])
    proc = _opsfin(tiny_demo, "variance", "--format", "csv")
    assert proc.returncode == 0 and proc.stdout.splitlines()[0] == "category,amount"
    proc = _opsfin(tiny_demo, "variance", "--by", "planet")
    assert proc.returncode == 2 and "choose one of" in proc.stderr and "Traceback" not in proc.stderr
    proc = _opsfin(tiny_demo, "variance", "--drill", "scrap", "--format", "csv")
    assert proc.returncode == 0 and proc.stdout.startswith("order_id,")


def test_summary_gives_the_ends_of_the_bridge(tiny_demo):
    ends = tiny_demo.variance_summary("2024-03", "2024-03").to_dicts()[0]
    total = _amounts(tiny_demo.variance("2024-03", "2024-03"))["total"]
    assert ends["actual_gm"] - ends["static_budget_gm"] == total
    gm = tiny_demo.kpi("gross_margin", start="2024-03-01", end="2024-03-31").to_dicts()[0]["value"]
    assert ends["actual_gm"] == gm
    # recomputed from the rows: the quantities sold on the month's invoiced revenue at budgeted margin
    # (plan price, or list price for a product the plan leaves out, less standard cost), and the plan itself
    std = {p: (lp, sc) for p, lp, sc in _rows(tiny_demo, "SELECT product_id, list_price, std_unit_cost FROM products")}
    plan = {
        p: (Decimal(str(q)), bp)
        for p, q, bp in _rows(
            tiny_demo,
            "SELECT product_id, qty, unit_price FROM volume_plan WHERE period = DATE '2024-03-01'",
        )
    }
    sold = _rows(
        tiny_demo,
        """SELECT product_id, qty FROM ar_invoice_lines WHERE invoice_id IN (
        SELECT g.source_doc FROM gl_entries g JOIN accounts a USING (account_id)
        WHERE a.role = 'revenue' AND g.posting_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31')""",
    )
    assert len(sold) > 10

    def margin(p: str) -> Decimal:
        return (plan[p][1] if p in plan else std[p][0]) - std[p][1]

    assert ends["flexible_budget_gm"] == q2(sum((Decimal(str(q)) * margin(p) for p, q in sold), Decimal(0)))
    assert ends["static_budget_gm"] == q2(sum((q * margin(p) for p, (q, _) in plan.items()), Decimal(0)))
    assert ends["flexible_budget_gm"] != ends["static_budget_gm"]
