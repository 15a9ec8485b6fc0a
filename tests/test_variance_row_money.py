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


def test_hand_worked_rows(tiny_demo):
    with tiny_demo.engine_tables() as t:
        receipts = source_rows_money(t, "material_price", MONTH, MONTH).rows
        timesheets = source_rows_money(t, "labor_rate", MONTH, MONTH).rows
        operations = source_rows_money(t, "var_overhead_efficiency", MONTH, MONTH).rows

    def one(frame, key, value) -> Decimal:
        (row,) = frame.filter(frame[key] == value).to_dicts()
        return row["contribution"]

    # GR-0000042: 3,770 units at USD 14.97 × 0.929014 = EUR 13.90733958 against the standard 13.65:
    # 3,770 × 0.25733958 = 970.1702… → −970.17 (unfavourable)
    assert one(receipts, "receipt_id", "GR-0000042") == Decimal("-970.17")
    # GR-0000041: 4,110 units at EUR 13.58 against 13.49 → −369.90
    assert one(receipts, "receipt_id", "GR-0000041") == Decimal("-369.90")
    # TS000001460: pay 8 h × 30.21 = 241.68; 8 h at the standard 33.21 = 265.68 → +24.00
    assert one(timesheets, "timesheet_id", "TS000001460") == Decimal("24.00")
    # OP00000604 (P1-ASSY, VR 9.68/h): 261.73 run minutes against 30 × 7.92 = 237.60 → 24.13 min = 0.40217 h
    # × 9.68 = 3.89297 → −3.89 (or −3.90 where the month's rounding gives it the leftover cent)
    assert one(operations, "operation_id", "OP00000604") in (Decimal("-3.89"), Decimal("-3.90"))


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
    assert "-970.17" in html or "−970.17" in html  # GR-0000042, worked above
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
