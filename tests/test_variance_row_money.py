"""Each source row's money in a variance drill-down: on the tiny demo the rows of every category add up to
the bridge's category amount to the cent, drilled into a member to the member's amount in the split, and
single rows are worked by hand (docs/variances.md "Drill-down")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from opsfin.costing.variance import CATEGORIES, UNASSIGNED, Piece, source_rows_money
from opsfin.costing.variance.row_money import _apportion_rows
from opsfin.errors import UserError
from web_support import logged_in_client

MONTH = "2024-03"


_IN_MONTH = "received_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'"


def _one_row(ws, query: str, *args) -> tuple:
    with ws.connect(read_only=True) as con:
        return con.execute(query, list(args)).fetchone()


def _receipt_by_hand(ws, receipt: str) -> Decimal:
    """−(unit price × the rate to EUR on or before the receipt day − standard unit cost) × qty, to the cent."""
    qty, price, ccy, std, day = _one_row(
        ws,
        "SELECT r.qty, o.unit_price, o.currency, p.std_unit_cost, r.received_date FROM goods_receipts r "
        "JOIN purchase_orders o USING (po_id, line) JOIN products p ON p.product_id = o.product_id "
        "WHERE r.receipt_id = ?",
        receipt,
    )
    rate = Decimal(1)
    if ccy != "EUR":
        (rate,) = _one_row(
            ws,
            "SELECT rate_to_base FROM fx_rates WHERE currency = ? AND rate_date <= ? ORDER BY rate_date DESC",
            ccy,
            day,
        )
    return -((price * rate - std) * Decimal(str(qty))).quantize(Decimal("0.01"))


@pytest.fixture(scope="module")
def money(tiny_demo):
    """Every category's rows with their money over the tiny demo's whole period (2024-01…04), and the
    bridge of that period."""
    bridge = {r["category"]: r["amount"] for r in tiny_demo.variance().to_dicts()}
    with tiny_demo.engine_tables() as t:
        return bridge, {c: source_rows_money(t, c) for c in CATEGORIES}


@pytest.mark.parametrize("category", CATEGORIES)
def test_the_rows_of_every_category_add_up_to_its_bar_in_the_bridge(money, category):
    bridge, rows = money
    got = rows[category]
    total = sum(got.rows["contribution"].to_list(), Decimal(0))
    assert got.amount == bridge[category]
    assert got.unplaced == 0  # on the tiny demo every cent of every category is on a source row
    assert total == bridge[category]
    assert got.rows.height > 0


def test_a_category_with_real_money_spreads_it_over_many_rows(money):
    _bridge, rows = money
    labor = rows["labor_efficiency"].rows["contribution"].to_list()
    assert sum(1 for c in labor if c != 0) > len(labor) // 2  # not dumped on one row


def test_hand_worked_rows(tiny_demo, money):
    with tiny_demo.engine_tables() as t:
        receipts = source_rows_money(t, "material_price", MONTH, MONTH).rows
        timesheets = source_rows_money(t, "labor_rate", MONTH, MONTH).rows
        operations = source_rows_money(t, "var_overhead_efficiency", MONTH, MONTH).rows

    def one(frame, key, value) -> Decimal:
        (row,) = frame.filter(frame[key] == value).to_dicts()
        return row["contribution"]

    def sql(query: str, *args) -> tuple:
        return _one_row(tiny_demo, query, *args)

    cent = Decimal("0.01")
    # a receipt: −(unit price × the rate to EUR on or before the receipt day − standard cost) × qty, to the
    # cent: the month's first receipt, and the first receipt bought in a foreign currency (over the period)
    (receipt,) = sql(f"SELECT min(receipt_id) FROM goods_receipts WHERE {_IN_MONTH}")
    assert receipt is not None and one(receipts, "receipt_id", receipt) == _receipt_by_hand(tiny_demo, receipt)
    (foreign,) = sql(
        "SELECT min(r.receipt_id) FROM goods_receipts r JOIN purchase_orders o USING (po_id, line) "
        "WHERE o.currency <> 'EUR'"
    )
    expected = _receipt_by_hand(tiny_demo, foreign)
    assert expected != 0 and one(money[1]["material_price"].rows, "receipt_id", foreign) == expected, foreign

    # a timesheet without overtime: −(hours × the employee's rate − hours × the work centre's standard rate),
    # its exact share of the month's cents (± the leftover cent of the largest-remainder rounding)
    (sheet,) = sql(
        "SELECT min(s.timesheet_id) FROM timesheets s JOIN work_centers w USING (work_center_id) "
        "WHERE s.work_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31' AND s.overtime_hours = 0"
    )
    hours, pay_rate, std_rate = sql(
        "SELECT s.regular_hours, e.hourly_rate, w.std_labor_rate FROM timesheets s JOIN employees e "
        "USING (employee_id) JOIN work_centers w ON w.work_center_id = s.work_center_id WHERE s.timesheet_id = ?",
        sheet,
    )
    h = Decimal(str(hours))
    expected = -((h * pay_rate).quantize(cent) - h * std_rate)
    assert pay_rate != std_rate and abs(one(timesheets, "timesheet_id", sheet) - expected) <= cent, sheet

    # an operation: −(run minutes − (good + scrap) × standard run minutes) / 60 × the variable overhead rate
    # (± the leftover cent)
    operation = sorted(operations.filter(operations["operation_id"].is_not_null())["operation_id"])[0]
    run, units, std_run, vr = sql(
        "SELECT o.run_minutes, o.qty_good + o.qty_scrap, r.std_run_minutes_per_unit, w.std_variable_overhead_rate "
        "FROM operations o JOIN production_orders po USING (order_id) JOIN routings r "
        "ON r.product_id = po.product_id AND r.step = o.step JOIN work_centers w "
        "ON w.work_center_id = o.work_center_id WHERE o.operation_id = ?",
        operation,
    )
    expected = -(Decimal(str(run)) - Decimal(str(units)) * Decimal(str(std_run))) / 60 * vr
    assert expected != 0 and abs(one(operations, "operation_id", operation) - expected) <= cent, operation


@pytest.mark.parametrize(
    ("category", "by"),
    [("labor_efficiency", "shift"), ("sales_mix", "product"), ("energy_usage", "machine"), ("scrap", "product")],
)
def test_drilled_into_a_member_the_rows_add_up_to_the_members_amount(tiny_demo, category, by):
    split = {
        r[by]: r["amount"]
        for r in tiny_demo.variance(MONTH, MONTH, by=by).to_dicts()
        if r["category"] == category and r[by] != UNASSIGNED
    }
    assert split
    with tiny_demo.engine_tables() as t:
        for member, amount in split.items():
            got = source_rows_money(t, category, MONTH, MONTH, by=by, member=member)
            assert got.amount == amount
            assert sum(got.rows["contribution"].to_list(), Decimal(0)) + got.unplaced == amount
            assert set(got.rows[{"shift": "shift_id", "product": "product_id", "machine": "machine_id"}[by]]) == {
                member
            }


def test_sales_price_by_member_leaves_the_cogs_rounding_unplaced(tiny_demo):
    # the split puts the GL's COGS rounding under (unassigned): a product's rows add up to its split
    # amount exactly, and the (unassigned) member's cents are on no row
    split = {
        r["product"]: r["amount"]
        for r in tiny_demo.variance(MONTH, MONTH, by="product").to_dicts()
        if r["category"] == "sales_price"
    }
    with tiny_demo.engine_tables() as t:
        product = next(p for p in split if p != UNASSIGNED)
        got = source_rows_money(t, "sales_price", MONTH, MONTH, by="product", member=product)
        assert got.unplaced == 0 and sum(got.rows["contribution"].to_list(), Decimal(0)) == split[product]
        if UNASSIGNED in split:
            rest = source_rows_money(t, "sales_price", MONTH, MONTH, by="product", member=UNASSIGNED)
            assert rest.rows.height == 0 and rest.unplaced == split[UNASSIGNED]


def test_a_piece_without_rows_is_unplaced_and_rows_share_by_largest_remainder():
    m = dt.date(2024, 3, 1)
    pieces = {(m, "WC-A"): Piece("labor_efficiency", m, 100), (m, "WC-B"): Piece("labor_efficiency", m, -7)}
    keys = [(m, "WC-A")] * 3
    # 100 cents over three exact shares of 33⅓: 33 each, the cent left over to the first row (equal
    # remainders, equal shares: the first by name) → 34, 33, 33; WC-B has no row: its −7 is unplaced
    cents, amount, unplaced = _apportion_rows(pieces, keys, [Fraction(100, 3)] * 3, [True] * 3, lambda p: p.target)
    assert cents == [34, 33, 33] and amount == 93 and unplaced == -7


def test_total_and_unknown_categories_are_refused(tiny_demo):
    with tiny_demo.engine_tables() as t:
        with pytest.raises(UserError, match="no money per source row"):
            source_rows_money(t, "total", MONTH, MONTH)
        with pytest.raises(UserError, match="do not carry"):
            source_rows_money(t, "labor_rate", MONTH, MONTH, by="product", member="FG-001")


@pytest.fixture(scope="module")
def client(tiny_demo, tmp_path_factory):
    with logged_in_client(tiny_demo, tmp_path_factory.mktemp("row_money_web")) as c:
        yield c


def test_the_rows_page_shows_each_rows_money_footed_to_the_category(client, tiny_demo):
    amount = {r["category"]: r["amount"] for r in tiny_demo.variance(MONTH, MONTH).to_dicts()}["material_price"]
    page = client.get(f"/variances/rows?period={MONTH}&category=material_price")
    assert page.status_code == 200
    html = page.text
    assert "contribution (EUR)" in html
    assert f'data-amount="{amount}"' in html and f'data-total="{amount}"' in html
    (receipt,) = _one_row(tiny_demo, f"SELECT min(receipt_id) FROM goods_receipts WHERE {_IN_MONTH}")
    by_hand = _receipt_by_hand(tiny_demo, receipt)  # the month's first receipt, worked as above
    shown = {f"{by_hand}", f"{by_hand:,}"}
    assert by_hand != 0 and any(x in html or x.replace("-", "−") in html for x in shown)
    assert "data-unplaced" not in html


def test_a_members_rows_page_is_footed_to_the_members_amount(client, tiny_demo):
    split = {
        r["shift"]: r["amount"]
        for r in tiny_demo.variance(MONTH, MONTH, by="shift").to_dicts()
        if r["category"] == "labor_efficiency" and r["shift"] != UNASSIGNED
    }
    shift, amount = sorted(split.items())[0]
    html = client.get(f"/variances/rows?period={MONTH}&category=labor_efficiency&by=shift&member={shift}").text
    assert f'data-amount="{amount}"' in html and f'data-total="{amount}"' in html
    # the bridge's `total` has no money per row: its GL lines are listed without a contribution
    total = client.get(f"/variances/rows?period={MONTH}&category=total")
    assert total.status_code == 200 and "contribution" not in total.text and "data-amount" not in total.text
