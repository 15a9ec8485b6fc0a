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

import pytest

import opsfin
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
from opsfin.costing.order_costs import assign_conversion
from opsfin.costing.reads import costing_tables, orders
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
