"""Many KPI series in few queries (kpis/batch.py): every hand-worked case of test_kpis_handworked.py asked in
one batch gives its hand-worked numbers, a part's filter moved into its sums keeps a period without a passing
row out, and what the batch cannot answer is left to the caller."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tests.test_kpis_handworked import CASES, FEB, JAN, _with_custom, close
from tests.test_kpis_handworked import ws as ws  # noqa: F401 - the hand-worked fixture warehouse

from opsfin.kpis.batch import Ask, _parts_summed, compute_many
from opsfin.kpis.engine import compute_one
from opsfin.runs.tables import warehouse_held


def _ask(kpi: str, opts: dict) -> Ask:
    return Ask.of(kpi, opts.get("grain", "month"), opts.get("by", ()), opts.get("where"))


def _row(frame: pl.DataFrame, period: dt.date, dims: dict) -> dict:
    hits = [r for r in frame.to_dicts() if r["period_start"] == period and all(r[k] == v for k, v in dims.items())]
    assert len(hits) == 1, (period, dims, frame)
    return hits[0]


def test_one_batch_gives_every_handworked_number(ws):  # noqa: F811 - the imported fixture
    """All the hand-worked cases in one call: one-part KPIs of a source side by side in one query, the
    two-part ratios (labor productivity, machine load, support utilization…) from their parts' sums, the
    balance KPIs on one read of the ledger."""
    asks = [_ask(kpi, opts) for kpi, opts, *_ in CASES]
    t, catalog = ws.kpi_tables(), ws.kpi_catalog()
    got = compute_many(t, asks, catalog)
    assert set(got) == set(asks)  # nothing left out: every kind of KPI is batched
    for kpi, opts, period, dims, num, den, value in CASES:
        row = _row(got[_ask(kpi, opts)], period, dims)
        assert close(row["numerator"], num), (kpi, opts, row, num)
        assert close(row["denominator"], den), (kpi, opts, row, den)
        assert close(row["value"], value), (kpi, opts, row, value)
    # and the same periods, members and columns as each KPI computed alone (dso shows its own months, not
    # those of the other roles of the shared ledger read)
    for a in asks:
        alone = compute_one(t, catalog[a.kpi], a.grain, list(a.by), a.filters)
        assert_frame_equal(got[a], alone, check_exact=False, rtol=1e-12)


def test_a_filter_in_the_sums_keeps_a_period_without_a_passing_row_out(ws, tmp_path):  # noqa: F811
    """pack_lines and pick_lines share the warehouse tasks' query. Pack tasks: WT3 (50 lines, finished
    2024-01-31) only, so February (WT2, a pick) has no pack row: no February row, as `compute_one` gives."""
    custom = _with_custom(
        ws,
        tmp_path,
        [
            {"id": "pack_lines", "source": "warehouse_tasks", "numerator": "lines", "filter": "kind == 'pack'"},
            {"id": "pick_lines", "source": "warehouse_tasks", "numerator": "lines", "filter": "kind == 'pick'"},
        ],
    )
    t, catalog = custom.kpi_tables(), custom.kpi_catalog()
    got = compute_many(t, [Ask("pack_lines"), Ask("pick_lines"), Ask("picks_per_hour")], catalog)
    assert [(r["period_start"], r["value"]) for r in got[Ask("pack_lines")].to_dicts()] == [(JAN, 50.0)]
    # picks: WT1 30 + WT4 12 in January, WT2 15 in February
    assert [(r["period_start"], r["value"]) for r in got[Ask("pick_lines")].to_dicts()] == [(JAN, 42.0), (FEB, 15.0)]
    assert _row(got[Ask("picks_per_hour")], FEB, {})["value"] == pytest.approx(10.0)  # 15 lines in 1.5 h
    for kpi in ("pack_lines", "pick_lines"):
        assert got[Ask(kpi)].equals(compute_one(t, catalog[kpi]))


def test_what_the_batch_cannot_answer_is_left_out(ws, tmp_path):  # noqa: F811
    """A dimension the KPI's rows do not carry, an unknown KPI and a KPI whose query fails are not answered
    (the caller computes them alone, which reports the error); the other asks are."""
    custom = _with_custom(ws, tmp_path, [{"id": "broken", "source": "maintenance_events", "numerator": "parts_cost"}])
    catalog = dict(custom.kpi_catalog())
    broken = catalog["broken"]
    catalog["broken"] = replace(broken, parts=(replace(broken.parts[0], prepare=_fails),))
    asks = [Ask("dso", by=("site",)), Ask("no_such_kpi"), Ask("broken"), Ask("csat"), Ask("revenue")]
    got = compute_many(custom.kpi_tables(), asks, catalog)
    assert set(got) == {Ask("csat"), Ask("revenue")}
    assert _row(got[Ask("csat")], JAN, {})["value"] == 4.5  # TK1 4 and TK5 5


def _fails(t, rel):
    raise RuntimeError("a query that fails")


def test_parts_are_added_as_sql_sums_their_union():
    """Σ over the union of two parts' rows: a member only one part has keeps that part's sums; null only
    where every part's sum is null (SQL's sum of nulls), 0 + x = x otherwise."""
    keys = ["period_start", "site"]
    a = pl.DataFrame(
        {"period_start": [JAN, JAN, FEB], "site": ["P1", "P2", "P1"], "numerator": [6.0, None, None]},
    ).with_columns(denominator=pl.lit(0.0))
    b = pl.DataFrame(
        {"period_start": [JAN, FEB], "site": ["P1", "W1"], "numerator": [0.0, 0.0], "denominator": [3.0, 2.0]}
    )
    got = _parts_summed([a, b], keys).sort(keys).to_dicts()
    assert got == [
        {"period_start": JAN, "site": "P1", "numerator": 6.0, "denominator": 3.0},
        {"period_start": JAN, "site": "P2", "numerator": None, "denominator": 0.0},
        {"period_start": FEB, "site": "P1", "numerator": None, "denominator": 0.0},
        {"period_start": FEB, "site": "W1", "numerator": 0.0, "denominator": 2.0},
    ]


def test_balance_kpis_share_the_ledger_read_but_show_their_own_months(ws, tmp_path):  # noqa: F811
    """dso and dio on one read of the ledger. Stock moved to cogs on 2024-04-10 (10.00): dio (inventory and
    cogs roles) runs to April; dso (receivables and revenue, last posted in February) still ends in February."""
    dest = _with_custom(ws, tmp_path, [])
    with dest.connect() as con:
        con.execute(
            "INSERT INTO gl_entries VALUES ('E90', 'J90', '2024-04-10', '5000', NULL, 10.00, 'EUR', 'x', 'x', 'HW'),"
            " ('E91', 'J90', '2024-04-10', '1220', NULL, -10.00, 'EUR', 'x', 'x', 'HW')"
        )
    got = compute_many(dest.kpi_tables(), [Ask("dso"), Ask("dio")], dest.kpi_catalog())
    months = [dt.date(2023, 12, 1), JAN, FEB]
    assert got[Ask("dso")]["period_start"].to_list() == months
    assert got[Ask("dio")]["period_start"].to_list() == [*months, dt.date(2024, 3, 1), dt.date(2024, 4, 1)]
    # April: dio's denominator is the month's cogs, the 10.00 moved
    assert _row(got[Ask("dio")], dt.date(2024, 4, 1), {})["denominator"] == 10.0


def test_a_held_warehouse_is_read_and_released(ws, tmp_path):  # noqa: F811
    """The overview holds one read-only connection over its engine calls (runs.tables.warehouse_held): they
    read as without it, and afterwards the warehouse opens for writing again in the same process. Without a
    warehouse nothing is held and nothing fails."""
    dest = _with_custom(ws, tmp_path, [])
    with warehouse_held(dest):
        assert dest.kpi("csat").filter(period_start=JAN)["value"].to_list() == [4.5]
    with dest.connect() as con:
        con.execute("CREATE TABLE written (x INTEGER)")
    dest.warehouse_path.unlink()
    with warehouse_held(dest):
        pass
