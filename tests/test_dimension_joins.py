"""core/dimension_joins.py and the `--by` choices of costing: engines take their dimension names and
their joins to master data from the one declaration in core/dimensions.py. Expected rows are worked out
by hand from the tiny tables below."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import ibis.expr.types as ir
import pytest

from opsfin.core.dimension_joins import reach
from opsfin.core.dimensions import (
    DIMENSIONS,
    PRODUCT_FAMILY,
    hops_for,
    parse_by,
    supported_dims,
)
from opsfin.costing import reads
from opsfin.costing.unit_economics import BY, DIMS
from opsfin.costing.unit_economics import parse_by as unit_economics_by
from opsfin.costing.variance import DIMENSIONS as BRIDGE_DIMS
from opsfin.costing.variance.bridge import _check_dim
from opsfin.errors import UserError

PRODUCTS = {"product_id": ["FG-1", "FG-2"], "family": ["Valves", "Pumps"]}


def tables(**frames: dict) -> Callable[[str], ir.Table]:
    """A reader of in-memory tables by name, as the engines read the warehouse."""
    con = ibis.duckdb.connect()
    made = {name: con.create_table(name, ibis.memtable(rows)) for name, rows in frames.items()}
    return lambda name: made[name]


# ------------------------------------------------------------------------------------------ --by choices
def test_engines_split_by_subsets_of_the_declared_dimensions():
    assert set(BY) <= set(DIMENSIONS) and set(BRIDGE_DIMS) <= set(DIMENSIONS)
    assert DIMS == {
        "product": "product_id",
        "family": "family",
        "site": "site_id",
        "customer": "customer_id",
        "shift": "shift_id",
    }
    with pytest.raises(ValueError, match="colour"):
        supported_dims("product", "colour")


def test_by_is_parsed_and_refused_with_one_wording():
    assert unit_economics_by(None) == ["product"]
    assert unit_economics_by(" family , site ,") == ["family", "site"]
    assert parse_by(["customer"], ("customer",), "x") == ["customer"] and parse_by(None, ("site",), "x") == []
    with pytest.raises(UserError) as ue:
        unit_economics_by("product,machine")  # a dimension, but not one unit economics splits by
    assert str(ue.value) == (
        "--by 'machine': choose one of product, family, site, customer, shift (the dimensions unit economics splits by)"
    )
    with pytest.raises(UserError) as vb:
        _check_dim("family")
    assert str(vb.value) == (
        "--by 'family': choose one of product, work_center, machine, shift, supplier, "
        "customer (the dimensions the variance bridge splits by)"
    )
    with pytest.raises(UserError, match="site,site: a dimension is named twice"):
        unit_economics_by("site,site")


# ------------------------------------------------------------------------------------------ joins
def test_costing_sources_reach_family_through_the_product():
    assert hops_for("production_orders", {"family", "site"}) == [PRODUCT_FAMILY]
    assert hops_for("ar_invoice_lines", {"family", "customer", "product"}) == [PRODUCT_FAMILY]


def test_reach_drops_an_unknown_product_unless_rows_are_kept():
    t = tables(products=PRODUCTS, rows={"product": ["FG-1", "FG-9", "FG-2"], "qty": [1, 2, 3]})
    rel = t("rows")
    inner = reach(t, rel, "shipments", {"family"}).to_pyarrow().to_pylist()
    kept = reach(t, rel, "shipments", {"family"}, keep_rows=True).to_pyarrow().to_pylist()
    assert sorted((r["product"], r["family"]) for r in inner) == [
        ("FG-1", "Valves"),
        ("FG-2", "Pumps"),
    ]
    assert sorted((r["product"], r["family"] or "") for r in kept) == [
        ("FG-1", "Valves"),
        ("FG-2", "Pumps"),
        ("FG-9", ""),
    ]


def test_an_order_of_an_unknown_product_keeps_its_row_without_a_family():
    t = tables(
        products=PRODUCTS,
        production_orders={
            "order_id": ["O1", "O2"],
            "site_id": ["P1", "P2"],
            "product_id": ["FG-2", "FG-9"],
            "status": ["closed", "closed"],
            "released_at": [dt.datetime(2024, 1, 2, 6), dt.datetime(2024, 1, 3, 6)],
            "completed_at": [dt.datetime(2024, 1, 2, 20), dt.datetime(2024, 1, 3, 20)],
        },
        inventory_movements={
            "kind": ["production", "production"],
            "ref_doc": ["O1", "O1"],
            "qty": [5.0, 7.0],
        },
        operations={
            "order_id": ["O1", "O2"],
            "step": [10, 10],
            "operation_id": ["OP1", "OP2"],
            "end_at": [dt.datetime(2024, 1, 2, 19), dt.datetime(2024, 1, 3, 19)],
            "qty_good": [12.0, 4.0],
            "shift_id": ["P1-E", "P2-L"],
        },
    )
    rows = reads.orders(t, t("production_orders"))
    # O1: Σ production movements 5 + 7; O2: no movements, the last step's good quantity 4
    assert [(r["order_id"], r["family"], r["qty_good"], r["completion_shift_id"]) for r in rows] == [
        ("O1", "Pumps", 12.0, "P1-E"),
        ("O2", None, 4.0, "P2-L"),
    ]
