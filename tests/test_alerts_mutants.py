"""Alert cases that kill mutants `make mutation` found alive in alerts/ (docs/testing.md, "Mutation testing").

Like test_alerts.py the KPI engine is stubbed with hand-built series, so each expected alert follows from
the numbers written here."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from opsfin.alerts import anomalies, default_scans, guardrails, parse_detection, parse_guardrails, run_alerts
from opsfin.alerts.detect import confirmed, peer_level
from opsfin.errors import UserError
from opsfin.kpis import KPI_BY_ID
from test_alerts import months, noisy, series, weeks

D = dt.date


@pytest.fixture
def engine(monkeypatch):
    """The KPI engine stubbed: `engine.frames[(kpi, grain)]` or else `engine.frames[kpi]` is served (filtered by
    `where` and `start`) when it has the columns asked `by`, else an empty frame; `engine.asked` lists the KPIs asked for, in order."""

    class Stub:
        frames: dict[str, pl.DataFrame] = {}
        asked: list[str] = []

    def fake_compute(t, kpi_ids, grain="month", by=None, where=None, start=None, end=None, catalog=None):
        out = []
        for k in kpi_ids:
            Stub.asked.append(k)
            empty = pl.DataFrame(
                schema={"period_start": pl.Date, **dict.fromkeys(by or [], pl.Utf8), "kpi": pl.Utf8}
                | dict.fromkeys(("value", "numerator", "denominator"), pl.Float64)
            )
            df = Stub.frames.get((k, grain), Stub.frames.get(k, empty))
            df = df if set(by or []) <= set(df.columns) else empty
            for dim, values in (where or {}).items():
                df = df.filter(pl.col(dim).is_in(values))
            if start:
                df = df.filter(pl.col("period_start") >= start)
            out.append(df)
        return out

    Stub.frames, Stub.asked = {}, []
    monkeypatch.setattr(guardrails, "compute", fake_compute)
    monkeypatch.setattr(anomalies, "compute", fake_compute)
    return Stub


# ---------------------------------------------------------------------------- peer confirmation
def test_confirmed_keeps_a_run_only_where_the_member_alone_flags_it_the_same_way():
    flags = np.array(
        [
            [0, 1, 1, 0, -1, -1, 0],  # an up run (1..2) and a down run (4..5)
            [1, 1, 0, 0, 0, 0, 0],  # an up run the member alone never flags
            [-1, -1, 1, 0, 0, 0, 0],  # a down run right before an up run
            [0, 0, 0, 0, 1, 0, 1],  # two up runs split by a quiet period; the last ends the row
            [1, 1, 1, 1, 1, 1, 1],  # flagged throughout
            [0, 0, 0, 0, 0, 1, 1],  # a run of two ending the row
            [1, 1, 0, 0, 0, 0, 0],  # an up run followed by a quiet period
        ],
        dtype=np.int8,
    )
    own = np.array(
        [
            [0, 0, 1, 0, 0, 1, 0],  # up at 2: the up run stands; the down run has only an up (5): dropped
            [0, 0, 0, -1, 0, 0, 0],  # nothing inside the run
            [0, -1, 1, 0, 0, 0, 0],  # down at 1, up at 2: both runs stand
            [0, 0, 0, 0, 0, 0, 1],  # only the last run is confirmed
            [0, 0, 0, 1, 0, 0, 0],  # confirmed in the middle: all of it stands
            [0, 0, 0, 0, 0, 0, 1],  # confirmed on its last period: both periods stand
            [0, 0, 1, 0, 0, 0, 0],  # up just after the run, not inside it: dropped
        ],
        dtype=np.int8,
    )
    assert confirmed(flags, own).tolist() == [
        [0, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
        [-1, -1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [1, 1, 1, 1, 1, 1, 1],
        [0, 0, 0, 0, 0, 1, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ]


# ---------------------------------------------------------------------------- run_alerts: both kinds together
GUARDRAIL = "guardrails:\n  - {kpi: overtime_share, by: site, max: 0.08}"
SCAN = "scan:\n  - {kpi: energy_per_unit, by: machine}"


def _company(engine):
    # overtime share of P1 by month from 2025-01: above 0.08 in March..May and in July
    engine.frames["overtime_share"] = series(
        months(8, D(2025, 1, 1)), {"P1": [0.05, 0.06, 0.10, 0.12, 0.11, 0.05, 0.13, 0.04]}, "site", "overtime_share"
    )
    # energy per unit of M1 by week from 2024-01-01: 0.4, +30% in weeks 50..69 (2024-12-16 .. 2025-05-04)
    energy = noisy(80, 40, 3)
    energy[50:70] *= 1.3
    engine.frames["energy_per_unit"] = series(weeks(80), {"M1": list(energy / 100)}, "machine", "energy_per_unit")


def test_run_alerts_sorts_both_kinds_by_period(engine):
    _company(engine)
    gs, scans = parse_guardrails(GUARDRAIL, catalog=KPI_BY_ID), parse_detection(SCAN, catalog=KPI_BY_ID)
    got = [(a.kind, a.kpi, a.period_start) for a in run_alerts(None, None, gs, scans=scans)]
    assert [g[:2] for g in got] == [
        ("anomaly", "energy_per_unit"),
        ("guardrail", "overtime_share"),
        ("guardrail", "overtime_share"),
    ]
    assert D(2024, 12, 1) < got[0][2] < D(2025, 1, 1)
    assert [g[2] for g in got[1:]] == [D(2025, 3, 1), D(2025, 7, 1)]


def test_run_alerts_keeps_what_reaches_into_from_and_to_given_as_text(engine):
    _company(engine)
    gs, scans = parse_guardrails(GUARDRAIL, catalog=KPI_BY_ID), parse_detection(SCAN, catalog=KPI_BY_ID)
    # from June 2025 the energy run (over by early May) is gone, and of the guardrail only July's breach is left
    got = run_alerts(None, KPI_BY_ID, gs, start="2025-06-01", end="2025-12-31", scans=scans)
    assert [(a.kind, a.period_start, a.period_end) for a in got] == [("guardrail", D(2025, 7, 1), D(2025, 7, 31))]
    # to 2025-07-15: July's breach is cut there
    got = run_alerts(None, KPI_BY_ID, gs, start="2025-06-01", end="2025-07-15", scans=[])
    assert [(a.period_start, a.period_end) for a in got] == [(D(2025, 7, 1), D(2025, 7, 15))]


def test_run_alerts_without_guardrails_or_scans(engine):
    _company(engine)
    del engine.frames["overtime_share"]  # monthly: the built-in overtime scan is weekly
    assert run_alerts(None, scans=[]) == []  # no guardrails and no scans: nothing asked, nothing found
    assert engine.asked == []
    # scans None: the built-in scan list, each of its KPIs asked once; none of them has a series to alert
    # on here (energy per unit is scanned by work centre and machine)
    assert run_alerts(None) == []
    assert engine.asked == [s.kpi for s in default_scans(KPI_BY_ID)]


def test_run_alerts_refuses_from_after_to(engine):
    with pytest.raises(UserError, match="after"):
        run_alerts(None, start="2025-02-01", end="2025-01-31", scans=[])


# ---------------------------------------------------------------------------- what the engine is asked
def _recording(monkeypatch, module, by):
    calls = []

    def fake_compute(t, kpi_ids, grain="month", by=None, where=None, start=None, end=None, catalog=None):
        calls.append((t, kpi_ids, grain, by, where, start, end, catalog))
        schema = {"period_start": pl.Date, **dict.fromkeys(by or [], pl.Utf8), "kpi": pl.Utf8}
        return [pl.DataFrame(schema=schema | dict.fromkeys(("value", "numerator", "denominator"), pl.Float64))]

    monkeypatch.setattr(module, "compute", fake_compute)
    return calls


def test_a_guardrail_asks_the_engine_for_its_series(monkeypatch):
    calls = _recording(monkeypatch, guardrails, ["site"])
    catalog, tables = dict(KPI_BY_ID), object()
    text = "guardrails:\n  - {kpi: overtime_share, by: site, where: {cost_center: [CC-P1]}, max: 0.1, grain: week}"
    gs = parse_guardrails(text, catalog=catalog)
    assert guardrails.check_guardrails(tables, gs, catalog, D(2024, 1, 1), D(2024, 3, 31)) == []
    assert calls == [
        (
            tables,
            ["overtime_share"],
            "week",
            ["site"],
            {"cost_center": ["CC-P1"]},
            D(2024, 1, 1),
            D(2024, 3, 31),
            catalog,
        )
    ]
    assert calls[0][0] is tables and calls[0][7] is catalog


def test_a_scan_asks_the_engine_for_the_whole_history_up_to_to(monkeypatch):
    calls = _recording(monkeypatch, anomalies, ["site"])
    catalog, tables = dict(KPI_BY_ID), object()
    (scan,) = parse_detection("scan:\n  - {kpi: overtime_share, by: site, grain: month}", catalog=catalog)
    assert anomalies.scan_alerts(tables, scan, catalog, D(2024, 1, 1), D(2024, 3, 31)) == []
    assert calls == [(tables, ["overtime_share"], "month", ["site"], None, None, D(2024, 3, 31), catalog)]
    assert calls[0][0] is tables and calls[0][7] is catalog


# ---------------------------------------------------------------------------- scope, JSON numbers, pooling
def test_a_guardrails_filter_on_another_dimension_is_part_of_its_scope(engine):
    # P1's overtime share over cost centres CC-A and CC-B: 0.2 in January, above the 0.1 maximum
    engine.frames["overtime_share"] = series(months(2), {"P1": [0.2, 0.05]}, "site", "overtime_share").with_columns(
        cost_center=pl.lit("CC-A")
    )
    text = "guardrails:\n  - {kpi: overtime_share, by: site, where: {cost_center: [CC-A, CC-B], site: [P1]}, max: 0.1}"
    (a,) = guardrails.check_guardrails(None, parse_guardrails(text, catalog=KPI_BY_ID), KPI_BY_ID)
    # the filter on site, a dimension the alert is split by, leaves the row's own site
    assert a.scope == {"site": "P1", "cost_center": "CC-A,CC-B"}


def test_alert_json_rounds_numbers_to_six_decimals(engine):
    # one month at 0.1234567, above a maximum of 0.1; the other months sit at 0.05, the usual level
    engine.frames["overtime_share"] = series(months(3), {"P1": [0.05, 0.1234567, 0.05]}, "site", "overtime_share")
    text = "guardrails:\n  - {kpi: overtime_share, by: site, max: 0.1}"
    (a,) = guardrails.check_guardrails(None, parse_guardrails(text, catalog=KPI_BY_ID), KPI_BY_ID)
    d = a.to_dict()
    assert (d["value"], d["expected"], d["bound"]) == (0.123457, 0.05, 0.1)


def test_pooling_a_ratio_keeps_a_denominator_of_exactly_one():
    # numerators 1, 2 over denominators 0.5, 0.5, pooled over 2 periods: 1 / 0.5 = 2, then 3 / 1 = 3
    values, num, den = anomalies.pool_periods(
        np.array([[2.0, 4.0]]), np.array([[1.0, 2.0]]), np.array([[0.5, 0.5]]), 2, 1.0
    )
    assert values.tolist() == [[2.0, 3.0]] and num.tolist() == [[1.0, 3.0]] and den.tolist() == [[0.5, 1.0]]


def test_the_built_in_scans_are_checked_against_the_catalog_given():
    catalog = {k: v for k, v in KPI_BY_ID.items() if k != "ppv_rate"}
    with pytest.raises(UserError, match=r"^built-in detection defaults: scan\[\d+\] \(ppv_rate\)"):
        default_scans(catalog)
    with pytest.raises(UserError, match=r"^built-in detection defaults: scan\[\d+\] \(ppv_rate\)"):
        run_alerts(None, catalog)  # the scans run_alerts takes by default: against that catalog too


# ---------------------------------------------------------------------------- a company-level guardrail
def test_a_company_guardrail_with_both_bounds(engine):
    # overtime share of the company, month by month (numerator / denominator):
    # Jan 5/100 = 0.05, Feb 30/200 = 0.15, Mar 10/50 = 0.20, Apr 10/100 = 0.10 (on the maximum: inside),
    # May 2/100 = 0.02, Jun 1/100 = 0.01, Jul 3/100 = 0.03 (on the minimum: inside), Aug 0/0 (no value).
    nums, dens = [5, 30, 10, 10, 2, 1, 3, 0], [100, 200, 50, 100, 100, 100, 100, 0]
    engine.frames["overtime_share"] = pl.DataFrame(
        {
            "period_start": months(8),
            "kpi": ["overtime_share"] * 8,
            "value": [n / d if d else None for n, d in zip(nums, dens, strict=True)],
            "numerator": [float(n) for n in nums],
            "denominator": [float(d) for d in dens],
        }
    )
    text = "guardrails:\n  - {kpi: overtime_share, min: 0.03, max: 0.1}"
    below, above = guardrails.check_guardrails(None, parse_guardrails(text, catalog=KPI_BY_ID), KPI_BY_ID)
    # above: Feb..Mar, the ratio of the sums (30 + 10) / (200 + 50) = 0.16 (not the mean of 0.15 and 0.20);
    # worst the highest, March. The usual level: the median of Jan, Apr and Jul (0.05, 0.10, 0.03) = 0.05.
    assert (above.scope, above.period_start, above.period_end, above.periods) == ({}, D(2024, 2, 1), D(2024, 3, 31), 2)
    assert (above.value, above.expected, above.bound) == (pytest.approx(0.16), pytest.approx(0.05), 0.1)
    assert (above.extra["worst"], above.extra["worst_period"]) == (pytest.approx(0.20), D(2024, 3, 1))
    # below: May..Jun, (2 + 1) / (100 + 100) = 0.015; worst the lowest, June
    assert (below.period_start, below.period_end, below.periods) == (D(2024, 5, 1), D(2024, 6, 30), 2)
    assert (below.value, below.expected, below.bound) == (pytest.approx(0.015), pytest.approx(0.05), 0.03)
    assert (below.extra["worst"], below.extra["worst_period"]) == (pytest.approx(0.01), D(2024, 6, 1))
    assert below.explanation == (
        "Overtime share for the company ran at 1.5% from 2024-05 to 2024-06 (worst 1.0% in 2024-06), "
        "below the minimum of 3.0% its guardrail allows."
    )


def test_guardrail_alerts_carry_their_guardrail_and_distinct_ids(engine):
    # P1 at 0.2 in January 2024, 0.05 in February and March. Four guardrails breach in January: above a
    # maximum of 0.1 (warn, and stop), above 0.09 by quarter (Q1: (20 + 5 + 5) / 300 = 0.1), and below a
    # minimum of 0.3. The first differs from each other one in one part of the id only (severity; grain;
    # side): four alerts, four ids.
    engine.frames["overtime_share"] = series(months(3), {"P1": [0.2, 0.05, 0.05]}, "site", "overtime_share")
    engine.frames["overtime_share", "quarter"] = series([D(2024, 1, 1)], {"P1": [0.1]}, "site", "overtime_share")
    text = (
        "guardrails:\n"
        "  - {kpi: overtime_share, by: site, max: 0.1, severity: warn, owner: ann}\n"
        "  - {kpi: overtime_share, by: site, max: 0.1, severity: stop}\n"
        "  - {kpi: overtime_share, by: site, max: 0.09, grain: quarter}\n"
        "  - {kpi: overtime_share, by: site, min: 0.3, severity: warn}\n"
    )
    gs = parse_guardrails(text, catalog=KPI_BY_ID)
    alerts = guardrails.check_guardrails(None, gs, KPI_BY_ID)
    got = [(a.kpi, a.grain, a.severity, a.owner, a.bound, a.period_start, a.period_end) for a in alerts]
    assert got[:3] == [
        ("overtime_share", "month", "warn", "ann", 0.1, D(2024, 1, 1), D(2024, 1, 31)),
        ("overtime_share", "month", "stop", gs[1].owner, 0.1, D(2024, 1, 1), D(2024, 1, 31)),
        ("overtime_share", "quarter", "warn", gs[2].owner, 0.09, D(2024, 1, 1), D(2024, 3, 31)),
    ]
    # the minimum: January and also February and March (0.05 < 0.3), one run
    assert got[3] == ("overtime_share", "month", "warn", gs[3].owner, 0.3, D(2024, 1, 1), D(2024, 3, 31))
    assert alerts[0].explanation == (
        "Overtime share at site P1 was 20.0% in 2024-01, above the maximum of 10.0% its guardrail allows."
    )
    assert len(alerts) == 4 and len({a.id for a in alerts}) == 4
    # the owner of a guardrail that names none is the KPI's owner
    assert gs[1].owner == KPI_BY_ID["overtime_share"].owner


def test_a_member_always_out_of_bounds_still_alerts_without_a_usual_level(engine):
    # P1 is inside in January (0.05), P2 above the maximum every month: no usual level of its own
    engine.frames["overtime_share"] = series(months(2), {"P1": [0.05, 0.2], "P2": [0.2, 0.3]}, "site", "overtime_share")
    gs = parse_guardrails("guardrails:\n  - {kpi: overtime_share, by: site, max: 0.1}", catalog=KPI_BY_ID)
    got = [(a.scope["site"], a.period_start, a.expected) for a in guardrails.check_guardrails(None, gs, KPI_BY_ID)]
    assert got == [("P1", D(2024, 2, 1), pytest.approx(0.05)), ("P2", D(2024, 1, 1), None)]


# ---------------------------------------------------------------------------- the peers' level
NAN = float("nan")


def test_peer_level_of_a_ratio_is_the_others_sums():
    # groups A (members 0, 2), B (member 1 alone: no peers), C (members 3, 4; member 4 has no data in period 2)
    groups = np.array(["A", "B", "A", "C", "C"])
    num = np.array([[1, 2], [5, 5], [3, 4], [2, 0], [6, NAN]])
    den = np.array([[10, 10], [10, 10], [20, 1], [10, 10], [30, NAN]])
    # member 0: member 2's 3/20, 4/1; member 2: member 0's 1/10, 2/10; member 3: member 4's 6/30 and
    # then nothing (0/0); member 4: member 3's 2/10, 0/10. Scale 100 (a percentage).
    want = [[15, 400], [NAN, NAN], [10, 20], [20, NAN], [20, 0]]
    np.testing.assert_allclose(peer_level(num / den, groups, num, den, 100.0), want)
    np.testing.assert_allclose(peer_level(num / den, groups, num, den), np.array(want) / 100)  # scale 1


def test_peer_level_of_a_sum_is_the_others_median():
    groups = np.array(["A", "B", "A", "C", "C", "C"])
    values = np.array([[1, 2], [9, 9], [3, 5], [4, 4], [5, 6], [7, 1]], dtype=float)
    # A: each the other; C: member 3 the median of 4 and 5: (5 + 7) / 2, (6 + 1) / 2; member 4 of 3 and 5:
    # (4 + 7) / 2, (4 + 1) / 2; member 5 of 3 and 4: (4 + 5) / 2, (4 + 6) / 2
    want = [[3, 5], [NAN, NAN], [1, 2], [6, 3.5], [5.5, 2.5], [4.5, 5]]
    np.testing.assert_allclose(peer_level(values, groups), want)
    # denominators without numerators are no ratio: still the median
    np.testing.assert_allclose(peer_level(values, groups, None, np.ones_like(values)), want)


# ---------------------------------------------------------------------------- the maintenance driver's window
@pytest.fixture(scope="module")
def handworked(tmp_path_factory):
    """The hand-made warehouse of test_kpis_handworked.py (its rows are listed there)."""
    import opsfin
    from test_kpis_handworked import FIXTURE_SQL

    w = opsfin.init(tmp_path_factory.mktemp("alerts_handworked") / "ws")
    with w.connect() as con:
        con.execute(FIXTURE_SQL)
    return opsfin.open(w.path)


def test_the_maintenance_driver_reads_its_window_only(handworked):
    from opsfin.alerts.forecast_maintenance import maintenance_driver

    kpi = KPI_BY_ID["maintenance_cost"]
    # January 2024 alone: maintenance on a cost centre of P1 350.25 (49.75 has no cost centre, so no site;
    # February's 120.00 and March's 30.00 are outside). Operations ending in January: OP1 (WC-A, P1) 200 run
    # + 10 setup minutes, OP3 (WC-B, P1) 120 + 0, OP4 (WC-C, P2) 240 + 20; OP2 ends 02-01 04:00.
    jan = maintenance_driver(handworked.kpi_tables(), kpi, D(2024, 1, 1), 1)
    assert jan.cost == {"P1": pytest.approx(350.25)}
    assert jan.hours == {"P1": pytest.approx(330 / 60), "P2": pytest.approx(260 / 60)}
    assert (jan.months, jan.first, jan.last) == (1, D(2024, 1, 1), D(2024, 1, 1))
    # February alone: 120.00 at P1; OP2 (WC-B, P1, 300 + 5 minutes) ends on 02-01 at 04:00, inside
    feb = maintenance_driver(handworked.kpi_tables(), kpi, D(2024, 2, 1), 1)
    assert feb.cost == {"P1": pytest.approx(120.0)} and feb.hours == {"P1": pytest.approx(305 / 60)}
    # January and February: both
    both = maintenance_driver(handworked.kpi_tables(), kpi, D(2024, 2, 1), 2)
    assert both.cost == {"P1": pytest.approx(470.25)}
    assert both.hours == {"P1": pytest.approx(635 / 60), "P2": pytest.approx(260 / 60)}
    assert (both.first, both.last) == (D(2024, 1, 1), D(2024, 2, 1))


def test_the_maintenance_drivers_window_ends_on_the_reference_months_last_day(handworked, tmp_path):
    import shutil

    import opsfin
    from opsfin.alerts.forecast_maintenance import maintenance_driver

    # 7.00 of maintenance at P1 on 2024-02-01: outside January's window, inside February's
    copy = tmp_path / "ws"
    shutil.copytree(handworked.path, copy)
    later = opsfin.open(copy)
    with later.connect() as con:
        con.execute(
            "INSERT INTO gl_entries VALUES "
            "('E60', 'J20', '2024-02-01', '6000', 'CC-P1M', 7.00, 'EUR', 'x', 'x', 'HW'), "
            "('E61', 'J20', '2024-02-01', '1000', NULL, -7.00, 'EUR', 'x', 'x', 'HW')"
        )
    kpi = KPI_BY_ID["maintenance_cost"]
    assert maintenance_driver(later.kpi_tables(), kpi, D(2024, 1, 1), 1).cost == {"P1": pytest.approx(350.25)}
    assert maintenance_driver(later.kpi_tables(), kpi, D(2024, 2, 1), 1).cost == {"P1": pytest.approx(127.0)}


def test_run_alerts_hands_the_tables_and_both_bounds_to_both_kinds(monkeypatch):
    calls = []

    def fake_compute(t, kpi_ids, grain="month", by=None, where=None, start=None, end=None, catalog=None):
        calls.append((t, kpi_ids[0], start, end))
        schema = {"period_start": pl.Date, **dict.fromkeys(by or [], pl.Utf8), "kpi": pl.Utf8}
        return [pl.DataFrame(schema=schema | dict.fromkeys(("value", "numerator", "denominator"), pl.Float64))]

    monkeypatch.setattr(guardrails, "compute", fake_compute)
    monkeypatch.setattr(anomalies, "compute", fake_compute)
    tables = object()
    gs, scans = parse_guardrails(GUARDRAIL, catalog=KPI_BY_ID), parse_detection(SCAN, catalog=KPI_BY_ID)
    assert run_alerts(tables, KPI_BY_ID, gs, "2025-03-01", "2025-06-30", scans) == []
    # the guardrail's series from --from; the scan's whole history up to --to
    assert calls == [
        (tables, "overtime_share", D(2025, 3, 1), D(2025, 6, 30)),
        (tables, "energy_per_unit", None, D(2025, 6, 30)),
    ]
    assert all(c[0] is tables for c in calls)


def test_run_alerts_names_the_bound_a_bad_date_came_in(engine):
    with pytest.raises(UserError) as err:
        run_alerts(None, start="2025-13-01", scans=[])
    assert err.value.param == "start" and str(err.value).startswith("--from: '2025-13-01' is not a date")
    with pytest.raises(UserError) as err:
        run_alerts(None, end="soon", scans=[])
    assert err.value.param == "end" and str(err.value).startswith("--to: 'soon' is not a date")
    # one day, from and to the same: a range, not an error
    assert run_alerts(None, start="2025-07-01", end="2025-07-01", scans=[]) == []


def test_a_balance_kpis_run_is_the_mean_of_its_periods(engine):
    # DSO of the company: 30 days (3000 / 100) in January, 10 (2000 / 200) in February, both above a
    # maximum of 5; a balance is averaged over the run: (30 + 10) / 2 = 20, not 5000 / 300
    engine.frames["dso"] = pl.DataFrame(
        {
            "period_start": months(2),
            "kpi": ["dso", "dso"],
            "value": [30.0, 10.0],
            "numerator": [3000.0, 2000.0],
            "denominator": [100.0, 200.0],
        }
    )
    gs = parse_guardrails("guardrails:\n  - {kpi: dso, max: 5}", catalog=KPI_BY_ID)
    (a,) = guardrails.check_guardrails(None, gs, KPI_BY_ID)
    assert (a.period_start, a.periods, a.value) == (D(2024, 1, 1), 2, pytest.approx(20.0))
