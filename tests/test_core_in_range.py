"""`core.periods.in_range`: the one date-range filter of the warehouse reads (costing, matching)."""

from __future__ import annotations

import datetime as dt

import ibis

from opsfin.core.periods import in_range

D = dt.date


def _kept(start: dt.date | None, end: dt.date | None) -> list[str]:
    t = ibis.memtable(
        {
            "id": ["a", "b", "c", "d"],
            "day": [D(2024, 2, 29), D(2024, 3, 1), D(2024, 3, 31), D(2024, 4, 1)],
        }
    )
    con = ibis.duckdb.connect()
    return sorted(con.execute(t.filter(in_range(t.day, start, end)))["id"].to_list())


def test_both_bounds_are_inclusive():
    assert _kept(D(2024, 3, 1), D(2024, 3, 31)) == ["b", "c"]


def test_an_open_side_is_not_checked():
    assert _kept(None, D(2024, 3, 1)) == ["a", "b"]
    assert _kept(D(2024, 3, 31), None) == ["c", "d"]
    assert _kept(None, None) == ["a", "b", "c", "d"]


def test_a_timestamp_counts_by_its_date():
    t = ibis.memtable({"at": [dt.datetime(2024, 3, 31, 23, 59), dt.datetime(2024, 4, 1, 0, 0)]})
    con = ibis.duckdb.connect()
    got = con.execute(t.filter(in_range(t.at, None, D(2024, 3, 31))))["at"].to_list()
    assert [x.date() for x in got] == [D(2024, 3, 31)]
