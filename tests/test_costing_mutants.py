"""Costing cases that kill mutants `make mutation` found alive, or untried for want of a test, in costing/
(docs/testing.md, "Mutation testing").

Tiny hand-made inputs only, each expected figure worked out in the comments. The order-costing warehouse is
the hand-worked one of test_unit_economics.py (its FIXTURE_SQL; its docstring lists the rows and the pools).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from fractions import Fraction

import polars as pl
import pytest

import opsfin
from opsfin.costing.abc import UNASSIGNED, AbcInputs, _activity_pools, object_quantities
from opsfin.costing.allocations import AllocationInputs, run_allocation, sender_weights
from opsfin.costing.costing_config import (
    AbcConfig,
    AllocationConfig,
    AllocationRule,
    ResourceRule,
    Selector,
    parse_abc_config,
    parse_allocation_config,
    parse_selector,
    split_cents,
)
from opsfin.costing.order_costs import assign_conversion, cost_pools
from opsfin.costing.reads import costing_tables, orders
from opsfin.costing.unit_economics import _margin_row
from opsfin.costing.variance.conversion import ConversionInputs, _energy, _overhead
from opsfin.costing.variance.drill import source_rows
from opsfin.costing.variance.textbook import sales_volume_split
from opsfin.costing.variance_by_site import site_bridge
from opsfin.errors import UserError
from test_unit_economics import FIXTURE_SQL, _fix_sales_orders
from test_variance_by_site import SITE_OF, SPLIT

D = Decimal
JAN, FEB = dt.date(2024, 1, 1), dt.date(2024, 2, 1)


# ------------------------------------------------------------------------------------ selectors, allocations
def test_a_selector_is_parsed_from_a_glob_alone_or_a_mapping():
    assert parse_selector("CC-*-MNT", "step_order[0]") == Selector(patterns=("CC-*-MNT",))
    assert parse_selector({"kind": ["service", "admin"], "site": "P1"}, "x") == Selector(
        kinds=("service", "admin"), sites=("P1",)
    )
    with pytest.raises(UserError, match=r"step_order\[2\]") as caught:
        parse_selector({}, "step_order[2]")
    assert "expected a cost-centre selector" in str(caught.value)


def test_an_activity_driver_is_a_name_or_a_mapping_with_a_driver_and_a_mistake_names_its_file():
    resources = [{"match": {"kind": "admin"}, "split": {"A": 100}}]
    config = parse_abc_config({"resources": resources, "activities": {"A": {"driver": "units"}}})
    assert config.activities == {"A": "units"} and config.source == "activities.yaml"
    written = {
        "roles": ["opex"],
        "resources": [*resources, {"match": "CC-WH*", "driver": "timesheet_hours", "fallback": "A"}],
        "activities": {"A": "units"},
        "traditional": "revenue",
    }
    assert parse_abc_config(written, "model/x.yaml") == AbcConfig(
        ("opex",),
        (
            ResourceRule(Selector(kinds=("admin",)), "split", (("A", D(100)),)),
            ResourceRule(Selector(patterns=("CC-WH*",)), "timesheet_hours", (), "A"),
        ),
        {"A": "units"},
        "revenue",
        "model/x.yaml",
    )
    with pytest.raises(UserError, match=r"^model/alloc\.yaml: "):
        parse_allocation_config({"rules": []}, "model/alloc.yaml")
    with pytest.raises(UserError) as caught:
        parse_abc_config({"resources": resources, "activities": {"A": "magic"}}, "model/act.yaml")
    assert str(caught.value) == (
        "model/act.yaml: field 'activities.A': unknown driver 'magic'; drivers are machine_hours, labor_hours, "
        "setups, setup_minutes, inspections, production_orders, sales_orders, shipments, tickets, units, revenue"
    )


def test_allocation_rules_keep_what_was_written_and_hash_it():
    rule = {
        "senders": "CC-*-MNT",
        "driver": ["machine_hours", "headcount"],
        "receivers": {"kind": "production"},
        "same_site": True,
        "weights": {"CC-A": 2},  # weights only count for the fixed driver
    }
    written = {"roles": ["opex"], "rules": [rule], "step_order": ["CC-*-MNT"]}
    config = parse_allocation_config(written, "model/alloc.yaml")
    assert config.roles == ("opex",)
    assert config.rules == (
        AllocationRule(
            Selector(patterns=("CC-*-MNT",)), ("machine_hours", "headcount"), Selector(kinds=("production",)), True
        ),
    )
    assert config.step_order == (Selector(patterns=("CC-*-MNT",)),) and config.source == "model/alloc.yaml"
    assert config.raw == written
    # the hash of the rules as written: keys sorted, no spaces
    text = (
        '{"roles":["opex"],"rules":[{"driver":["machine_hours","headcount"],"receivers":{"kind":"production"},'
        '"same_site":true,"senders":"CC-*-MNT","weights":{"CC-A":2}}],"step_order":["CC-*-MNT"]}'
    )
    assert config.rules_hash() == hashlib.sha256(text.encode()).hexdigest()


def test_split_cents_breaks_ties_by_the_name_of_keys_that_do_not_compare():
    # 0.02 over three equal weights: the two cents go to the first keys by name, "('C1', 'P1')" and
    # "('C1', None)" (a quote sorts before N); the parts come back in the order of the weights
    weights = {("C2", None): 1, ("C1", "P1"): 1, ("C1", None): 1}
    parts = split_cents(D("0.02"), weights)
    assert list(parts.items()) == [(("C2", None), D("0.00")), (("C1", "P1"), D("0.01")), (("C1", None), D("0.01"))]


def test_a_selector_by_site_and_site_kind():
    selector = parse_selector({"site": "P1", "site_kind": "plant"}, "x")
    assert selector == Selector(sites=("P1",), site_kinds=("plant",))
    centre = {"cost_center_id": "CC-1", "kind": "production", "site_id": "P1", "site_kind": "plant"}
    assert selector.matches(centre)
    assert not selector.matches({**centre, "site_id": "P2"})
    assert not selector.matches({**centre, "site_kind": "warehouse"})


def test_the_rules_hash_writes_dates_and_decimals_as_text():
    config = AllocationConfig((), (), (), raw={"w": D("2.5"), "d": dt.date(2024, 1, 31)})
    assert config.rules_hash() == hashlib.sha256(b'{"d":"2024-01-31","w":"2.5"}').hexdigest()


def _fixed_inputs() -> AllocationInputs:
    centres = {
        cc: {"cost_center_id": cc, "kind": kind, "site_id": "S", "site_kind": "plant"}
        for cc, kind in (("SVC", "service"), ("R1", "production"), ("R2", "production"), ("P3", "production"))
    }
    return AllocationInputs(JAN, centres, [("SVC", "6100", "opex", D("100.00"))], {})


def test_the_fixed_driver_weighs_each_receiver_by_the_first_pattern_it_matches():
    config = parse_allocation_config(
        {
            "rules": [
                {
                    "senders": {"ids": ["SVC"]},
                    "driver": "fixed",
                    "receivers": {"kind": "production"},
                    "weights": {"R1": 3, "R*": 1},
                }
            ]
        }
    )
    # R1 matches "R1" first (3), R2 only "R*" (1), P3 no pattern (0: not a receiver)
    weights, used = sender_weights(_fixed_inputs(), config)
    assert weights == {"SVC": {"R1": D(3), "R2": D(1)}} and used == {"SVC": "fixed"}
    # 100.00 × 3/4 = 75.00 and × 1/4 = 25.00
    flows = run_allocation(_fixed_inputs(), config, "direct").flows
    assert flows.select("sender", "receiver", "driver", "amount").rows() == [
        ("SVC", "R1", "fixed", D("75.00")),
        ("SVC", "R2", "fixed", D("25.00")),
    ]


# ------------------------------------------------------------------------------------ conversion assigned
@pytest.fixture(scope="module")
def hw(tmp_path_factory):
    ws = opsfin.init(tmp_path_factory.mktemp("costing_mutants") / "hw")
    with ws.connect() as con:
        con.execute(_fix_sales_orders(FIXTURE_SQL))
    return ws


def test_the_conversion_pools_are_assigned_to_operations(hw):
    with hw.connect(read_only=True) as con:
        assignments, pools = assign_conversion(con, [JAN])
        every_month, _ = assign_conversion(con)
    got = {(a["operation_id"], a["component"]): a for a in assignments}
    # January (test_unit_economics.py): labor 380.00 by labor minutes 60/30/90/20 of 200;
    # energy 15.00, variable 100.00 and fixed overhead 300.00 by run minutes 60/30/60/50 of 200
    expected = {
        "labor": ("114.00", "57.00", "171.00", "38.00"),
        "energy": ("4.50", "2.25", "4.50", "3.75"),
        "variable_overhead": ("30.00", "15.00", "30.00", "25.00"),
        "fixed_overhead": ("90.00", "45.00", "90.00", "75.00"),
    }
    ops = ("O1-1", "O1-2", "O2-1", "O2-2")
    assert len(assignments) == 16
    for component, amounts in expected.items():
        for op, amount in zip(ops, amounts, strict=True):
            a = got[(op, component)]
            assert (a["order_id"], a["month"], a["amount"]) == (op[:2], JAN, D(amount)), (op, component)
    by_component = {p["component"]: p for p in pools}
    assert {c: p["amount"] for c, p in by_component.items()} == {
        "labor": D("380.00"),
        "energy": D("15.00"),
        "variable_overhead": D("100.00"),
        "fixed_overhead": D("300.00"),
    }
    assert all(p["month"] == JAN and p["unassigned"] == 0 for p in pools)
    # every month: February adds O3-1's labor 4 h × 20 = 80.00 and energy 10 kWh × 0.20 = 2.00
    feb = {(a["operation_id"], a["component"]): a["amount"] for a in every_month if a["month"] == FEB}
    assert feb == {("O3-1", "labor"): D("80.00"), ("O3-1", "energy"): D("2.00")}


def test_the_orders_as_rows(hw):
    with hw.connect(read_only=True) as con:
        t = costing_tables(con)
        rows = orders(t, t("production_orders"))
    # O1 100 good, O2 50 good (completed in January); O3 released in February
    assert [(r["order_id"], r["site_id"]) for r in rows] == [("O1", "P1"), ("O2", "P1"), ("O3", "P1")]
    assert (rows[0]["qty_good"], rows[1]["qty_good"]) == (100, 50)


# ------------------------------------------------------------------------------------ variance
def test_a_site_bridge_names_its_split():
    assert site_bridge(SPLIT, "work_center", SITE_OF.get, {"P1"}).by == "work_center"
    with pytest.raises(ValueError) as caught:
        site_bridge(SPLIT, "product", SITE_OF.get, {"P1"})
    assert str(caught.value) == "a site's bridge is split by work_center or machine, not 'product'"


def test_site_bridge_leaves_out_the_total_unassigned_and_memberless_rows_wherever_they_stand():
    rows = [
        {"category": "scrap", "work_center": "(unassigned)", "amount": D("4.00")},
        {"category": "total", "work_center": "WC-A", "amount": D("16.75")},
        {"category": "energy", "work_center": None, "amount": D("9.00")},
        {"category": "energy", "work_center": "WC-A", "amount": D("-2.50")},
    ]
    # every member belongs to P1 here, yet only the energy row of WC-A is a part of the site
    bridge = site_bridge(rows, "work_center", lambda member: "P1", {"P1"})
    assert bridge.members.rows() == [("energy", "WC-A", "P1", D("-2.50"))]
    assert bridge.categories == {"energy": D("-2.50")} and bridge.total == D("-2.50")


def test_sales_volume_of_a_product_budgeted_but_not_sold():
    # budget a 100 at CM 2, c 100 at CM 4 (mix 1/2 each); actual a 150. AQtot 150, BQtot 200:
    # a: quantity (150 − 200)·½·2 = −50, mix (150 − 150·½)·2 = 150; c: quantity −50·½·4 = −100,
    # mix (0 − 75)·4 = −300. Σ −300 = the volume effect (150 − 100)·2 + (0 − 100)·4
    budget = {"a": (Fraction(100), Fraction(2)), "c": (Fraction(100), Fraction(4))}
    quantity, mix = sales_volume_split(budget, {"a": Fraction(150)})
    assert quantity == {"a": -50, "c": -100} and mix == {"a": 150, "c": -300}


def test_sales_volume_of_a_product_sold_but_not_budgeted():
    # budget a: 100 at CM 2; actual a 80, b 40 (b not budgeted: no budgeted CM, so no effect of its own).
    # AQtot 120, BQtot 100, a's budgeted mix 1: quantity (120 − 100)·1·2 = 40; mix (80 − 120·1)·2 = −80
    quantity, mix = sales_volume_split({"a": (Fraction(100), Fraction(2))}, {"a": Fraction(80), "b": Fraction(40)})
    assert quantity == {"a": 40, "b": 0} and mix == {"a": -80, "b": 0}
    assert list(quantity) == ["a", "b"]


def test_sales_volume_with_nothing_planned_is_all_quantity():
    # budgeted quantity 0 (CM 3): no budgeted mix; the volume effect 5 × 3 = 15 is all quantity
    quantity, mix = sales_volume_split({"a": (Fraction(0), Fraction(3))}, {"a": Fraction(5)})
    assert quantity == {"a": 15} and mix == {"a": 0}


# ------------------------------------------------------------------ survivors of the sampled run (seed 1)
def test_driver_quantities_without_a_product_are_bridged_by_units_shipped_and_summed_per_product():
    # tickets name a customer only; units shipped: C1 -> P1 3, P2 1; C2 -> P1 2; C3 none.
    # C1's 8 tickets: P1 8*3/4 = 6, P2 8*1/4 = 2; C2's 4: P1 4*2/2 = 4; C3's 5: unassigned; a ticket row
    # that names P2 itself adds 1 to P2; a credit (-2) carries nothing. P1 6 + 4 = 10, P2 2 + 1 = 3.
    inputs = AbcInputs(
        start=None,
        end=None,
        centres={},
        cost={},
        hours={},
        quantities={
            "units": {("C1", "P1"): 3.0, ("C1", "P2"): 1.0, ("C2", "P1"): 2.0},
            "tickets": {("C1", None): 8.0, ("C2", None): 4.0, ("C3", None): 5.0, ("C1", "P2"): 1.0, ("C4", None): -2.0},
        },
    )
    assert object_quantities(inputs, "tickets", "product") == {"P1": 10, "P2": 3, UNASSIGNED: 5}


def test_a_margin_row_without_units_has_no_per_unit_figures():
    zero = Decimal("0.00")
    costs = dict.fromkeys(("material", "labor", "energy", "variable_overhead", "fixed_overhead"), zero)
    # 4 units, revenue 100.00; variable 30 + 10 + 2 + 3 = 45.00, fixed 5.00: full 50.00 -> 12.5000 a unit;
    # contribution 100 - 45 = 55.00 -> 13.7500 a unit, ratio 0.55
    sold = {**costs, "material": D("30.00"), "labor": D("10.00"), "energy": D("2.00")}
    sold |= {"variable_overhead": D("3.00"), "fixed_overhead": D("5.00")}
    row = _margin_row(["product"], ("P1",), {**sold, "units": 4, "revenue": D("100.00"), "bases": {"order"}})
    assert (row["product_id"], row["unit_cost"], row["contribution_margin"]) == ("P1", D("12.5000"), D("55.00"))
    assert (row["cm_per_unit"], row["cm_ratio"], row["cost_basis"]) == (D("13.7500"), 0.55, "order")
    # no units (revenue 20.00, material 5.00): contribution 15.00, ratio 0.75, nothing per unit
    g = {**costs, "material": D("5.00"), "units": 0, "revenue": D("20.00"), "bases": set()}
    row = _margin_row(["product"], ("P2",), g)
    assert (row["unit_cost"], row["contribution_margin"], row["cm_per_unit"]) == (None, D("15.00"), None)
    assert (row["cm_ratio"], row["cost_basis"]) == (0.75, "none")


def test_the_energy_variances_are_shared_per_machine():
    # SP 0.1500 EUR/kWh (1500 in 1e-4); M1 2,000 Wh, M2 6,000 Wh; bill 150 cents.
    # actual kWh at SP: 8,000 * 1500 / 100,000 = 120 cents -> price -(150 - 120) = -30 cents, by machine
    # -(bill share - own Wh at SP): M1 -(150 * 2/8 - 30) = -7.5, M2 -(112.5 - 90) = -22.5.
    # standard Wh 1,800 (M1) + 6,400 (M2) -> applied 8,200 * 1500 / 100,000 = 123 cents -> usage
    # -(120 - 123) = 3 cents: M1 -30 + 27 = -3, M2 -90 + 96 = 6
    inputs = ConversionInputs(
        work_centres={"WC": ("CC", "P1", 0, 0, 0, 1500)},
        operations={(JAN, "WC"): {("M1", "S1", "A"): [1, 0, 0, 0, 1800], ("M2", "S1", "A"): [1, 0, 0, 0, 6400]}},
        timesheets={},
        energy_wh={(JAN, "WC"): {"M1": 2000, "M2": 6000}},
        bills={(JAN, "WC", "energy"): 150},
        fixed_budget={},
    )
    price, usage = _energy(JAN, "WC", inputs)
    assert (price.category, price.target, usage.category, usage.target) == ("energy_price", -30, "energy_usage", 3)
    assert price.parts == {"work_center": {"WC": -30}, "machine": {"M1": Fraction(-15, 2), "M2": Fraction(-45, 2)}}
    assert usage.parts == {"work_center": {"WC": 3}, "machine": {"M1": -3, "M2": 6}}


def test_value_stream_columns_keep_their_documented_types(hw):
    # per-unit figures carry 4 decimals, money 2 (docs/unit-economics.md): DECIMAL(18,4) and DECIMAL(18,2)
    schema = hw.value_stream(by="family").schema
    assert (schema["cost_per_unit"], schema["nva_cost"]) == (pl.Decimal(18, 4), pl.Decimal(18, 2))


def test_a_value_stream_with_every_step_value_added_has_no_largest_waste(tmp_path):
    ws = opsfin.init(tmp_path / "all_value_added")
    with ws.connect() as con:
        con.execute(_fix_sales_orders(FIXTURE_SQL))
        con.execute("UPDATE routings SET value_added = TRUE")
    r = ws.value_stream(by="family").row(0, named=True)
    # test_value_stream.py's orders: step 1 runs 120 min, step 2 80 min, both value added now: 200 min over
    # 2 orders = 100 min = 5/3 h each; lead time 24 + 12 = 36 h -> PCE 200 / 2160 = 5/54; no waste step
    assert r["value_added_hours"] == pytest.approx(5 / 3) and r["pce"] == pytest.approx(5 / 54)
    assert (r["nva_cost"], r["largest_nva_step"], r["largest_nva_cost"]) == (D("0.00"), None, None)


def test_the_pools_table_names_what_was_assigned(hw):
    # January's four pools (above) are wholly assigned to operations: assigned = amount, unassigned 0
    with hw.connect(read_only=True) as con:
        pools = cost_pools(con, [JAN])
    assert pools.columns == ["month", "component", "pool_type", "pool_id", "amount", "assigned", "unassigned", "basis"]
    assert sorted(zip(pools["component"], pools["assigned"], pools["unassigned"], strict=True)) == [
        ("energy", D("15.00"), D("0.00")),
        ("fixed_overhead", D("300.00"), D("0.00")),
        ("labor", D("380.00"), D("0.00")),
        ("variable_overhead", D("100.00"), D("0.00")),
    ]


def test_each_activity_pool_row_says_how_its_centre_was_split():
    # CC-ADM 100.00 split 60/40 by the rule; CC-WH1 20.00 by timesheet hours A 3, B 1 -> 15.00 and 5.00
    config = parse_abc_config(
        {
            "resources": [
                {"match": {"kind": "admin"}, "split": {"A": 60, "B": 40}},
                {"match": "CC-WH*", "driver": "timesheet_hours", "fallback": "A"},
            ],
            "activities": {"A": "units", "B": "units"},
        }
    )
    centres = {"CC-ADM": {"cost_center_id": "CC-ADM", "kind": "admin", "site_id": None}}
    inputs = AbcInputs(
        start=None,
        end=None,
        centres=centres,
        cost={"CC-ADM": D("100.00"), "CC-WH1": D("20.00")},
        hours={("CC-WH1", "A"): 3.0, ("CC-WH1", "B"): 1.0},
        quantities={},
    )
    pools, rows = _activity_pools(inputs, config)
    assert pools == {"A": D("75.00"), "B": D("45.00")}
    assert [(r["cost_center_id"], r["activity_id"], r["resource_driver"], r["amount"]) for r in rows] == [
        ("CC-ADM", "A", "split", D("60.00")),
        ("CC-ADM", "B", "split", D("40.00")),
        ("CC-WH1", "A", "timesheet_hours", D("15.00")),
        ("CC-WH1", "B", "timesheet_hours", D("5.00")),
    ]


def test_the_overhead_variances_and_the_efficiency_parts_by_machine_shift_and_product():
    # VR 30.00/h, FR 60.00/h (1e-4); M1/S1/A ran 2 h (12,000 cmin) against a standard 1.5 h, M2/S2/B 1 h
    # against 1 h. Actual hours at VR: 3 h x 30 = 90.00; applied 2.5 h x 30 = 75.00.
    # spending -(95.00 billed - 90.00) = -5.00; efficiency -(90 - 75) = -15.00, all of it M1/S1/A's half hour
    # fixed: spending -(155.00 billed - 160.00 budget) = 5.00; volume -(160.00 - 2.5 h x 60) = -10.00
    inputs = ConversionInputs(
        work_centres={"WC": ("CC", "P1", 0, 300_000, 600_000, 0)},
        operations={
            (JAN, "WC"): {("M1", "S1", "A"): [1, 12_000, 0, 9_000, 0], ("M2", "S2", "B"): [1, 6_000, 0, 6_000, 0]}
        },
        timesheets={},
        energy_wh={},
        bills={(JAN, "WC", "variable_overhead"): 9_500, (JAN, "WC", "fixed_overhead"): 15_500},
        fixed_budget={(JAN, "CC"): 16_000},
    )
    spending, efficiency, fixed, volume = _overhead(JAN, "WC", inputs)
    assert [(p.category, p.target) for p in (spending, efficiency, fixed, volume)] == [
        ("var_overhead_spending", -500),
        ("var_overhead_efficiency", -1500),
        ("fixed_overhead_spending", 500),
        ("production_volume", -1000),
    ]
    assert efficiency.parts == {
        "work_center": {"WC": -1500},
        "machine": {"M1": -1500, "M2": 0},
        "shift": {"S1": -1500, "S2": 0},
        "product": {"A": -1500, "B": 0},
    }


def test_the_sales_drill_lists_each_invoice_line_with_its_price_and_the_plan(tmp_path):
    ws = opsfin.init(tmp_path / "drill")
    with ws.connect() as con:
        con.execute(_fix_sales_orders(FIXTURE_SQL))
        con.execute(
            "INSERT INTO volume_plan (version, period, product_id, qty, unit_price, _load_id) "
            "VALUES ('B', DATE '2024-01-01', 'FG-1', 100, 12.5000, 'HW')"
        )
    with ws.connect(read_only=True) as con:
        rows = source_rows(con, "sales_price", "2024-01-01", "2024-01-31")
    # test_unit_economics.py's invoice lines: I1 60 at 10.0000 = 600.00, I2 30 at 20.0000 = 600.00; plan B
    cols = ["invoice_id", "qty", "unit_price", "amount", "version", "planned_qty", "planned_price"]
    assert rows.select(cols).rows() == [
        ("I1", 60.0, D("10.0000"), D("600.00"), "B", 100.0, D("12.5000")),
        ("I2", 30.0, D("20.0000"), D("600.00"), "B", 100.0, D("12.5000")),
    ]
