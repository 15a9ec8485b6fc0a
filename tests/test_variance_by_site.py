"""The variance bridge of some sites (costing/variance_by_site.py), worked by hand.

The web's variance page for a plant manager and the pack of a site both show this one result."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from opsfin.costing.variance_by_site import site_bridge

D = Decimal
SITE_OF = {"WC-A": "P1", "WC-B": "P2", "WC-C": "P1"}
SPLIT = pl.DataFrame(
    [
        ("labor_rate", "WC-A", D("10.00")),
        ("labor_rate", "WC-B", D("-3.00")),
        ("energy", "WC-A", D("-2.50")),
        ("energy", "WC-C", D("1.25")),
        ("energy", "WC-X", D("7.00")),  # WC-X: a member of no known site
        ("scrap", "(unassigned)", D("4.00")),
        ("total", None, D("16.75")),
    ],
    schema={"category": pl.Utf8, "work_center": pl.Utf8, "amount": pl.Decimal(18, 2)},
    orient="row",
)


def test_one_site_keeps_its_members_and_sums_them_per_category():
    bridge = site_bridge(SPLIT, "work_center", SITE_OF.get, {"P1"})
    assert bridge.members.rows() == [
        ("labor_rate", "WC-A", "P1", D("10.00")),
        ("energy", "WC-A", "P1", D("-2.50")),
        ("energy", "WC-C", "P1", D("1.25")),
    ]
    # labor_rate 10.00; energy -2.50 + 1.25 = -1.25; in the order the bridge lists them
    assert list(bridge.categories.items()) == [("labor_rate", D("10.00")), ("energy", D("-1.25"))]
    assert bridge.total == D("8.75")


def test_two_sites_and_rows_as_dicts_give_the_same_figures():
    frame = site_bridge(SPLIT, "work_center", SITE_OF.get, {"P1", "P2"})
    rows = site_bridge(SPLIT.to_dicts(), "work_center", SITE_OF.get, ["P2", "P1"])
    for bridge in (frame, rows):
        assert bridge.categories == {"labor_rate": D("7.00"), "energy": D("-1.25")}  # 10.00 − 3.00
        assert bridge.total == D("5.75")
    assert frame.members.equals(rows.members)


def test_no_part_of_the_sites_has_no_total():
    bridge = site_bridge(SPLIT, "work_center", SITE_OF.get, {"P9"})
    assert bridge.members.is_empty() and bridge.categories == {} and bridge.total is None
    assert bridge.members.schema["amount"] == pl.Decimal(18, 2)


def test_only_splits_that_belong_to_a_site():
    with pytest.raises(ValueError, match="work_center or machine"):
        site_bridge(SPLIT.rename({"work_center": "product"}), "product", SITE_OF.get, {"P1"})
