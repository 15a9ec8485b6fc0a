"""core/dimensions.py: the `where` filter, the declared paths to each dimension and `SiteMap` on a tiny
hand-made master data set (expected sites worked out from the rows below by hand)."""

from __future__ import annotations

import datetime as dt

import ibis
import polars as pl
import pytest

from opsfin.canonical import table
from opsfin.core.dimension_joins import reach
from opsfin.core.dimensions import (
    DIMENSIONS,
    MACHINE_WORK_CENTER,
    ORDER_PRODUCT,
    PRODUCT_FAMILY,
    REACH,
    SITE_DIMS,
    SITE_SHIFT_BY_CLOCK,
    WORK_CENTER_SITE,
    SiteMap,
    dims_of,
    hops_for,
    parse_by,
    parse_where,
    supported_dims,
)
from opsfin.errors import UserError, api_name


# ------------------------------------------------------------------------------------------ where
def test_where_collects_members_per_dimension():
    assert parse_where(["site=P1, P2", "machine=M1", "site=P3"]) == {"site": ["P1", "P2", "P3"], "machine": ["M1"]}
    assert parse_where(None) == {}
    assert parse_where([" shift = EARLY "]) == {"shift": ["EARLY"]}


@pytest.mark.parametrize(
    "item", ["site='P1'", 'site="P1"', "site IN ('P1', 'P2')", "site == P1", "site!=P1", "site=('P1')"]
)
def test_sql_style_where_is_refused_with_the_right_form(item):
    with pytest.raises(UserError) as caught:
        parse_where([item])
    message = str(caught.value)
    assert repr(item) in message and "without quotes or SQL" in message
    assert "--where site=P1,P2" in message


@pytest.mark.parametrize("item", ["site", "site=", "=P1", "site= , ", " =P1"])
def test_where_without_dim_and_value_is_refused(item):
    with pytest.raises(UserError) as caught:
        parse_where(["site=P1", item])
    assert str(caught.value) == f"--where {item!r}: use DIM=VALUE (e.g. --where site=P1); repeat for several"


def test_where_errors_name_the_query_parameter_in_the_api():
    with pytest.raises(UserError) as caught:
        parse_where(["site"])
    assert caught.value.phrase(api_name).startswith("where 'site': use DIM=VALUE")
    assert caught.value.param == "where"


# ------------------------------------------------------------------------------------------ paths
def test_each_source_reaches_the_dimensions_docs_list():
    assert dims_of("machine_readings") == {"machine", "work_center", "site", "shift"}
    assert dims_of("gl_entries") == {"cost_center", "site"}
    assert dims_of("receipt_allocations") == {"customer"}
    assert all(set(paths) <= set(DIMENSIONS) for paths in REACH.values())
    assert set(SITE_DIMS) == {"site", "work_center", "machine", "cost_center", "shift"}


def test_hops_come_once_and_after_the_hops_they_need():
    assert hops_for("machine_readings", {"shift"}) == [MACHINE_WORK_CENTER, WORK_CENTER_SITE, SITE_SHIFT_BY_CLOCK]
    assert hops_for("machine_readings", {"site", "work_center"}) == [MACHINE_WORK_CENTER, WORK_CENTER_SITE]
    assert hops_for("operations", {"family", "product", "site"}) == [WORK_CENTER_SITE, ORDER_PRODUCT, PRODUCT_FAMILY]
    assert hops_for("operations", {"machine", "shift"}) == []  # its own columns
    assert hops_for("warehouse_tasks", {"customer"}) == []  # not carried: the engine refuses it earlier


def test_every_hop_joins_real_canonical_columns():
    for paths in REACH.values():
        for hop in {h for path in paths.values() for h in path}:
            names = table(hop.table).column_names
            assert hop.key in names and hop.column in names, hop


# ------------------------------------------------------------------------------------------ SiteMap
def master_frames() -> dict[str, pl.DataFrame]:
    return {
        "sites": pl.DataFrame({"site_id": ["P2", "P1"], "name": ["Plant Two", "Plant One"]}),
        "work_centers": pl.DataFrame({"work_center_id": ["WC1", "WC2"], "site_id": ["P1", "P2"]}),
        "machines": pl.DataFrame({"machine_id": ["M1", "M2", "M9"], "work_center_id": ["WC1", "WC2", "WC-GONE"]}),
        "cost_centers": pl.DataFrame({"cost_center_id": ["CC1"], "site_id": ["P2"]}),
        "shifts": pl.DataFrame({"shift_id": ["S1"], "site_id": ["P1"], "name": ["Early"]}),
    }


@pytest.fixture
def sites() -> SiteMap:
    return SiteMap.from_frames(master_frames())


def test_site_map_follows_master_data_to_each_site(sites):
    assert sites.members["machine"] == {"M1": "P1", "M2": "P2"}  # M9's work centre is unknown: no site
    assert sites.members["work_center"] == {"WC1": "P1", "WC2": "P2"}
    assert sites.site_of("cost_center", "CC1") == "P2"
    assert sites.site_of("shift", "S1") == "P1"
    assert sites.site_of("machine", "M9") is None
    assert sites.site_of("site", "P1") == "P1"
    assert sites.site_of("customer", "C1") is None
    assert sites.sites == {"P2": "Plant Two", "P1": "Plant One"} and list(sites.sites) == ["P2", "P1"]
    assert sites.shift_names == {"S1": "Early"}


def test_site_map_from_arrow_and_from_a_reader(sites):
    frames = master_frames()
    assert SiteMap.from_frames({n: f.to_arrow() for n, f in frames.items()}) == sites
    assert SiteMap.read(frames.__getitem__) == sites


def test_rows_visible_in_a_site_scope(sites):
    assert sites.sites_of({"machine": ["M1"], "cost_center": ["CC1"]}) == {"P1", "P2"}
    assert sites.visible({"machine": ["M1"]}, ("P1",))
    assert not sites.visible({"machine": ["M1"]}, ("P2",))
    assert not sites.visible({"machine": ["M1", "M2"]}, ("P1",))  # mixes another site
    assert not sites.visible({"machine": ["M9"]}, ("P1",))  # a member no site owns
    assert not sites.visible({"customer": ["C1"]}, ("P1",))  # cross-site: company level only
    assert not sites.visible({}, ("P1",))
    assert sites.visible({"customer": ["C1"]}, None)
    assert sites.site_text({"machine": ["M2", "M1"]}) == "P1,P2"
    assert sites.site_text({"customer": ["C1"]}) is None


def test_sites_of_alert_scopes_and_raw_records(sites):
    assert sites.sites_of_scope({"machine": "M1, M2", "customer": "C1"}) == frozenset({"P1", "P2"})
    assert sites.sites_of_scope({"machine": "M1,M9"}) is None  # M9: not provably anyone's
    assert sites.sites_of_scope({"customer": "C1"}) is None
    assert sites.sites_of_record({"machine_id": "M2", "qty": 3}) == frozenset({"P2"})
    assert sites.sites_of_record({"site_id": "", "shift_id": "S1"}) == frozenset({"P1"})
    assert sites.sites_of_record({"customer_id": "C1"}) is None
    assert sites.sites_of_record(None) is None


def test_check_scope(sites):
    assert sites.check_scope(None) is None
    assert sites.check_scope(["P1", " P1", "P2"]) == ("P1", "P2")
    with pytest.raises(UserError, match="unknown site P9; the sites are P2, P1"):
        sites.check_scope(["P1", "P9"])
    with pytest.raises(UserError, match="name at least one site"):
        sites.check_scope([" "])


def test_site_map_fills_gaps_in_master_data():
    frames = master_frames()
    frames["sites"] = pl.DataFrame({"site_id": ["P1", "P3"], "name": ["Plant One", None]})
    frames["work_centers"] = pl.DataFrame({"work_center_id": ["WC1", "WC3"], "site_id": ["P1", None]})
    frames["shifts"] = pl.DataFrame({"shift_id": ["S1", "S2"], "site_id": ["P1", "P3"], "name": ["Early", None]})
    gaps = SiteMap.from_frames(frames)
    assert gaps.sites == {"P1": "Plant One", "P3": "P3"}  # a site without a name is called by its id
    assert gaps.members["site"] == {"P1": "P1", "P3": "P3"}  # each site is its own
    assert gaps.members["work_center"] == {"WC1": "P1"}  # WC3 names no site: it has none
    assert gaps.site_of("work_center", "WC3") is None
    assert gaps.shift_names == {"S1": "Early"}  # S2 has no name to show
    assert gaps.site_of("site", "P9") == "P9"  # a site is its own, listed or not


def test_scope_errors_word_the_sites_option(sites):
    with pytest.raises(UserError) as caught:
        sites.check_scope([" ", ""])
    assert str(caught.value) == "--sites: name at least one site (or leave it out for the company pack)"
    with pytest.raises(UserError) as caught:
        sites.check_scope(["P9", "P1", "P8"])
    assert str(caught.value) == "--sites: unknown site P9, P8; the sites are P2, P1"
    assert caught.value.param == "sites"
    with pytest.raises(UserError) as caught:
        SiteMap({"site": {}}, {}, {}).check_scope(["P1"])
    assert str(caught.value) == "--sites: unknown site P1; the sites are none (load the sites table)"


def test_where_errors_carry_the_item_and_the_whole_wording():
    with pytest.raises(UserError) as caught:
        parse_where(["site IN P1"])
    assert str(caught.value) == (
        "--where 'site IN P1': write DIM=VALUE without quotes or SQL, several values "
        "with commas (e.g. --where site=P1,P2)"
    )
    assert caught.value.value == "site IN P1"
    with pytest.raises(UserError) as caught:
        parse_where(["site"])
    assert caught.value.value == "site"


def test_where_splits_at_the_first_equals_sign():
    assert parse_where(["site=P1=P2"]) == {"site": ["P1=P2"]}


def test_a_reading_reaches_the_shift_whose_hours_hold_its_time():
    con = ibis.duckdb.connect()
    made = {
        name: con.create_table(name, ibis.memtable(rows))
        for name, rows in {
            "machines": {"machine_id": ["M1", "M2"], "work_center_id": ["WC1", "WC2"]},
            "work_centers": {"work_center_id": ["WC1", "WC2"], "site_id": ["P1", "P2"]},
            # P1 works three 8-hour shifts, the night one across midnight; P2 one 12-hour day shift
            "shifts": {
                "shift_id": ["E", "L", "N", "D2"],
                "site_id": ["P1", "P1", "P1", "P2"],
                "start_time": [dt.time(6), dt.time(14), dt.time(22), dt.time(6)],
                "hours": [8.0, 8.0, 8.0, 12.0],
            },
        }.items()
    }
    times = [(6, 0), (13, 59), (14, 0), (21, 59), (22, 0), (2, 30), (5, 59)]
    rel = ibis.memtable(
        {
            "machine": ["M1"] * len(times) + ["M2", "M2"],
            "_ts": [dt.datetime(2024, 3, 4, h, m) for h, m in times]
            + [dt.datetime(2024, 3, 4, 6), dt.datetime(2024, 3, 4, 18)],
        }
    )
    got = reach(made.__getitem__, rel, "machine_readings", {"shift"}).to_pyarrow().to_pylist()
    # minutes after the shift's start, modulo a day, below its length: 06:00-13:59 E, 14:00-21:59 L,
    # 22:00-05:59 N (05:59 is 479 minutes after 22:00); P2's readings only see P2's shift, and 18:00 is
    # 720 minutes after 06:00, the first minute after D2
    assert sorted((r["machine"], r["_ts"].strftime("%H:%M"), r["site"], r["shift"]) for r in got) == [
        ("M1", "02:30", "P1", "N"),
        ("M1", "05:59", "P1", "N"),
        ("M1", "06:00", "P1", "E"),
        ("M1", "13:59", "P1", "E"),
        ("M1", "14:00", "P1", "L"),
        ("M1", "21:59", "P1", "L"),
        ("M1", "22:00", "P1", "N"),
        ("M2", "06:00", "P2", "D2"),
    ]
    assert set(got[0]) == {"machine", "_ts", "work_center", "site", "shift"}  # no helper column left


def test_by_skips_blanks_and_words_a_repeat():
    assert parse_by("site, ,", ("site",), "x") == ["site"]
    assert parse_by(["site", " "], ("site",), "x") == ["site"]
    with pytest.raises(UserError) as caught:
        parse_by("site,site", ("site",), "x")
    assert str(caught.value) == "--by site,site: a dimension is named twice" and caught.value.param == "by"
    with pytest.raises(ValueError, match="not dimensions of core/dimensions.py: colour, size"):
        supported_dims("site", "colour", "size")


def test_a_shift_starting_on_the_half_hour():
    con = ibis.duckdb.connect()
    made = {
        name: con.create_table(name, ibis.memtable(rows))
        for name, rows in {
            "machines": {"machine_id": ["M1"], "work_center_id": ["WC1"]},
            "work_centers": {"work_center_id": ["WC1"], "site_id": ["P1"]},
            "shifts": {
                "shift_id": ["A", "B"],
                "site_id": ["P1", "P1"],
                "start_time": [dt.time(6, 30), dt.time(18, 30)],
                "hours": [12.0, 12.0],
            },
        }.items()
    }
    rel = ibis.memtable(
        {"machine": ["M1", "M1"], "_ts": [dt.datetime(2024, 3, 4, 6, 29), dt.datetime(2024, 3, 4, 6, 30)]}
    )
    got = reach(made.__getitem__, rel, "machine_readings", {"shift"}).to_pyarrow().to_pylist()
    # A holds 06:30-18:29, B 18:30-06:29
    assert sorted((r["_ts"].strftime("%H:%M"), r["shift"]) for r in got) == [("06:29", "B"), ("06:30", "A")]
