"""Guardrails and anomaly alerts on hand-built KPI series (no warehouse: the KPI engine is stubbed).

Covers: guardrails.yaml / detection.yaml validation, merging breaching periods into one alert per
run, stable ids, and the detector (a lasting shift is caught, a one-period blip is not unless
`spike` is set, only the bad direction alerts, peers absorb what moves every member)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from opsfin.alerts import anomalies, guardrails
from opsfin.alerts.defaults import default_detection_yaml, default_guardrails_yaml
from opsfin.alerts.detect import detect_matrix
from opsfin.alerts.guardrails import check_guardrails, parse_guardrails
from opsfin.alerts.runs import merge_runs
from opsfin.alerts.scan import Settings, parse_detection
from opsfin.core.periods import next_period
from opsfin.demo.anomalies import KPI_KINDS
from opsfin.errors import UserError
from opsfin.kpis import KPI_BY_ID


# ------------------------------------------------------------------ helpers
def months(n: int, first: dt.date = dt.date(2024, 1, 1)) -> list[dt.date]:
    out = [first]
    while len(out) < n:
        out.append(next_period(out[-1], "month"))
    return out


def weeks(n: int, first: dt.date = dt.date(2024, 1, 1)) -> list[dt.date]:
    return [first + dt.timedelta(days=7 * i) for i in range(n)]


def series(periods: list[dt.date], values: dict[str, list[float]], by: str | None, kpi: str) -> pl.DataFrame:
    """A KPI frame as the engine returns it (ratio: numerator = value × 100, denominator = 100)."""
    rows = []
    for member, vals in values.items():
        for p, v in zip(periods, vals, strict=True):
            row = {
                "period_start": p,
                "kpi": kpi,
                "value": v,
                "numerator": v * 100.0,
                "denominator": 100.0,
            }
            if by:
                row[by] = member
            rows.append(row)
    cols = ["period_start", *([by] if by else []), "kpi", "value", "numerator", "denominator"]
    return pl.DataFrame(rows).select(cols)


@pytest.fixture
def stub_engine(monkeypatch):
    """Replace the KPI engine with hand-built frames: stub_engine[kpi] = frame."""
    frames: dict[str, pl.DataFrame] = {}

    def fake_compute(t, kpi_ids, grain="month", by=None, where=None, start=None, end=None, catalog=None):
        out = []
        for k in kpi_ids:
            df = frames[k]
            for dim, values in (where or {}).items():
                df = df.filter(pl.col(dim).is_in(values))
            if start:
                df = df.filter(pl.col("period_start") >= start)
            out.append(df)
        return out

    monkeypatch.setattr(guardrails, "compute", fake_compute)
    monkeypatch.setattr(anomalies, "compute", fake_compute)
    return frames


# ------------------------------------------------------------------ guardrails.yaml validation
@pytest.mark.parametrize(
    "text, message",
    [
        ("guardrails: [", "not valid YAML"),
        ("guardrails: {kpi: oee}", "top-level 'guardrails:' list"),
        (
            "guardrails:\n  - kpi: no_such_kpi\n    max: 1",
            "guardrails[1] (no_such_kpi): field 'kpi': unknown KPI",
        ),
        (
            "guardrails:\n  - kpi: oee\n    max: 1\n  - kpi: oee",
            "guardrails[2] (oee): give 'min', 'max' or both",
        ),
        ("guardrails:\n  - kpi: oee\n    min: 0.9\n    max: 0.5", "min 0.9 is above max 0.5"),
        (
            "guardrails:\n  - kpi: overtime_share\n    max: 8%",
            "guardrails[1] (overtime_share): field 'max': expected a number, got '8%'",
        ),
        (
            "guardrails:\n  - kpi: oee\n    min: 0.3\n    severity: urgent",
            "field 'severity': expected one of 'info', 'warn' or 'stop', got 'urgent'",
        ),
        (
            "guardrails:\n  - kpi: oee\n    min: 0.3\n    grain: fortnight",
            "field 'grain': expected one of 'day', 'week', 'month', 'quarter' or 'year', got 'fortnight'",
        ),
        ("guardrails:\n  - kpi: oee\n    min: 0.3\n    colour: red", "unknown key 'colour'"),
        (
            "guardrails:\n  - kpi: oee\n    min: 0.3\n    where: P1",
            "field 'where': expected a mapping",
        ),
        ("guardrails:\n  - kpi: dso\n    max: 50\n    by: site", "cannot be split by site"),
        (
            "guardrails:\n  - kpi: oee\n    min: 0.3\n    where: {planet: mars}",
            "unknown dimension planet",
        ),
        (
            "guardrails:\n  - just a string",
            "guardrails[1]: expected a mapping, got 'just a string'",
        ),
        ("guardrails:\n  - kpi: oee\n    min: .inf", "field 'min': expected a finite number"),
        (
            "guardrails:\n  - kpi: oee\n    min: 0.3\n    by: [site, site]",
            "by: site is named twice",
        ),
        (
            "guardrails:\n  - kpi: oee\n    max: 1\n  - kpi: oee\n    max: true",
            "model/guardrails.yaml: guardrails[2] (oee): field 'max': expected a number, got true",
        ),
    ],
)
def test_guardrail_parse_errors_name_file_and_entry(text, message):
    with pytest.raises(UserError) as err:
        parse_guardrails(text, "model/guardrails.yaml", KPI_BY_ID)
    assert "model/guardrails.yaml" in str(err.value)
    assert message in str(err.value)


def test_guardrail_parse_defaults_and_lists():
    (g,) = parse_guardrails(
        "guardrails:\n  - {kpi: overtime_share, by: site, where: {site: [P1, P2]}, max: 0.1}",
        catalog=KPI_BY_ID,
    )
    assert (g.grain, g.severity, g.by, g.where, g.min, g.max) == (
        "month",
        "warn",
        ("site",),
        {"site": ["P1", "P2"]},
        None,
        0.1,
    )
    assert g.owner == KPI_BY_ID["overtime_share"].owner  # the KPI's owner unless given
    assert parse_guardrails("") == [] and parse_guardrails("guardrails:") == []


def test_default_model_files_are_valid():
    gs = parse_guardrails(default_guardrails_yaml(), catalog=KPI_BY_ID)
    assert {g.kpi for g in gs} == {
        "overtime_share",
        "dio",
        "maintenance_cost",
        "oee",
        "support_utilization",
        "dso",
        "capacity_utilization",
        "gross_margin",
        "on_time_delivery",
    }
    scans = parse_detection(default_detection_yaml(), catalog=KPI_BY_ID)
    natural = {(s.kpi, s.by[-1] if s.by else None) for s in scans}
    # every kind of anomaly the demo injects is scanned on its KPI, per its kind of entity
    assert set(KPI_KINDS.values()) <= natural
    assert KPI_KINDS["bottleneck_line"] == ("wait_time", "work_center")
    monthly = next(s for s in scans if s.kpi == "days_to_pay").settings
    assert (monthly.grain, monthly.baseline, monthly.min_history) == ("month", 12, 6)


@pytest.mark.parametrize(
    "text, message",
    [
        ("scan:\n  - {kpi: oee, by: site, colour: red}", "scan[1] (oee): unknown key 'colour'"),
        (
            "scan:\n  - {kpi: oee, by: site, alert_on: sideways}",
            "field 'alert_on': expected one of 'worse', 'higher', 'lower' or 'both'",
        ),
        (
            "scan:\n  - {kpi: oee, by: site, peers: machine}",
            "peers is 'all' or one of the 'by' dimensions",
        ),
        (
            "scan:\n  - {kpi: oee, by: site, confirm: true}",
            "confirm is true or false, and needs peers",
        ),
        (
            "scan:\n  - {kpi: oee, by: site, members: constraint}",
            "members is 'all', or 'constraint'",
        ),
        ("scan:\n  - {kpi: dso, by: site}", "cannot be split by site"),
        (
            "scan:\n  - {kpi: oee, by: site, threshold: -1}",
            "scan[1] (oee): field 'threshold': expected a number ≥ 0, got -1",
        ),
        ("scan:\n  - {kpi: oee, by: site, baseline: 4, min_history: 6}", "min_history ≤ baseline"),
        ("settings: {speed: 3}\nscan: []", "field 'settings': unknown key 'speed'"),
        ("scan:\n  - oee", "scan[1]: expected a mapping, got 'oee'"),
        (
            "scan:\n  - {kpi: oee, by: site}\n  - {kpi: oee, threshold: true}",
            "scan[2] (oee): field 'threshold': expected a number, got true",
        ),
    ],
)
def test_detection_parse_errors(text, message):
    with pytest.raises(UserError) as err:
        parse_detection(text, "model/detection.yaml", KPI_BY_ID)
    assert "model/detection.yaml" in str(err.value) and message in str(err.value)


# ------------------------------------------------------------------ runs and guardrail alerts
def test_breach_run_is_one_alert_with_the_right_span(stub_engine):
    periods = months(8)
    stub_engine["overtime_share"] = series(
        periods,
        {"P1": [0.05, 0.06, 0.10, 0.12, 0.11, 0.05, 0.13, 0.04], "P2": [0.05] * 8},
        "site",
        "overtime_share",
    )
    g = parse_guardrails(
        "guardrails:\n  - {kpi: overtime_share, by: site, max: 0.08, severity: stop}",
        catalog=KPI_BY_ID,
    )
    alerts = check_guardrails(None, g, KPI_BY_ID)
    assert [(a.period_start, a.period_end, a.periods) for a in alerts] == [
        (dt.date(2024, 3, 1), dt.date(2024, 5, 31), 3),
        (dt.date(2024, 7, 1), dt.date(2024, 7, 31), 1),
    ]
    first = alerts[0]
    assert first.kind == "guardrail" and first.scope == {"site": "P1"} and first.severity == "stop"
    assert first.value == pytest.approx(0.11)  # Σ numerator / Σ denominator over the run
    assert first.bound == 0.08 and first.expected == pytest.approx(0.05)  # median of the periods inside
    assert first.extra["worst"] == pytest.approx(0.12) and first.extra["worst_period"] == dt.date(2024, 4, 1)
    assert first.explanation == (
        "Overtime share at site P1 ran at 11.0% from 2024-03 to 2024-05 (worst 12.0% in "
        "2024-04), above the maximum of 8.0% its guardrail allows."
    )
    d = first.to_dict()
    assert list(d) == [
        "id",
        "kind",
        "kpi",
        "scope",
        "period_start",
        "period_end",
        "value",
        "expected",
        "bound",
        "severity",
        "explanation",
    ]
    assert d["period_start"] == "2024-03-01" and d["period_end"] == "2024-05-31"


def test_guardrail_min_side_where_filter_and_clipped_end(stub_engine):
    stub_engine["support_utilization"] = series(
        months(4),
        {"CC-A": [0.7, 0.4, 0.3, 0.7], "CC-B": [0.2] * 4},
        "cost_center",
        "support_utilization",
    )
    g = parse_guardrails(
        "guardrails:\n  - {kpi: support_utilization, by: cost_center, where: {cost_center: CC-A}, min: 0.5}",
        catalog=KPI_BY_ID,
    )
    (a,) = check_guardrails(None, g, KPI_BY_ID, end=dt.date(2024, 3, 20))
    assert a.scope == {"cost_center": "CC-A"} and a.period_start == dt.date(2024, 2, 1)
    assert a.period_end == dt.date(2024, 3, 20)  # clipped by --to
    assert "below the minimum of 50.0%" in a.explanation


def test_ids_are_stable_and_distinct(stub_engine):
    stub_engine["overtime_share"] = series(months(6), {"P1": [0.1, 0.2, 0.2, 0.1, 0.2, 0.1]}, "site", "overtime_share")
    g = parse_guardrails("guardrails:\n  - {kpi: overtime_share, by: site, max: 0.15}", catalog=KPI_BY_ID)
    first = [a.id for a in check_guardrails(None, g, KPI_BY_ID)]
    second = [a.id for a in check_guardrails(None, g, KPI_BY_ID)]
    assert first == second and len(set(first)) == 2 and all(i.startswith("AL-") for i in first)


def test_missing_period_breaks_a_run():
    rows = pl.DataFrame(
        {
            "site": ["P1"] * 3,
            "period_start": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 4, 1)],
            "value": [1.0, 2.0, 3.0],
            "numerator": [1.0, 2.0, 3.0],
            "denominator": [1.0] * 3,
        }
    )
    runs = merge_runs(rows, ["site"], "month", 1.0)
    assert runs["periods"].to_list() == [2, 1]


# ------------------------------------------------------------------ the detector
SETTINGS = Settings(grain="week", baseline=26, min_history=8, relearn=39)


def noisy(n: int, level: float = 100.0, seed: int = 0) -> np.ndarray:
    return level * (1 + np.random.default_rng(seed).normal(0, 0.02, n))  # 2% noise


def test_lasting_shift_is_caught_from_its_start():
    x = noisy(80)
    x[50:70] *= 1.15  # +15% for 20 weeks, then back
    flags, base, _ = detect_matrix(x[None, :], None, SETTINGS)
    up = np.nonzero(flags[0] == 1)[0]
    assert up.min() in (50, 51) and 66 <= up.max() <= 69  # one run spanning the shift
    assert np.all(np.diff(up) == 1)
    assert base[0, 60] == pytest.approx(100, abs=2)  # the baseline stays at the old level


def test_single_blip_is_ignored_unless_spike_is_set():
    x = noisy(60)
    x[40] *= 1.5
    flags, _, _ = detect_matrix(x[None, :], None, SETTINGS)
    assert not flags.any()
    flags, _, _ = detect_matrix(x[None, :], None, Settings(**{**SETTINGS.__dict__, "spike": 6.0}))
    assert np.nonzero(flags[0])[0].tolist() == [40]


def test_immaterial_shift_and_short_history_do_not_alert():
    x = noisy(60)
    x[30:] += 4  # 2 sd but only 4%: below min_change 10%
    assert not detect_matrix(x[None, :], None, SETTINGS)[0].any()
    y = noisy(20)
    y[3:] *= 1.5  # too little history before the shift
    assert not detect_matrix(y[None, :], None, SETTINGS)[0].any()


def _scan_alerts(stub_engine, values: dict[str, list[float]], spec: str, kpi: str, by: str = "machine"):
    periods = weeks(len(next(iter(values.values()))))
    stub_engine[kpi] = series(periods, values, by, kpi)
    (scan,) = parse_detection("scan:\n  - " + spec, catalog=KPI_BY_ID)
    return anomalies.scan_alerts(None, scan, KPI_BY_ID)


def test_only_the_bad_direction_alerts(stub_engine):
    up, down = noisy(80, 40, 1), noisy(80, 40, 2)
    up[50:70] *= 1.3
    down[50:70] *= 0.7
    alerts = _scan_alerts(
        stub_engine,
        {"M1": list(up / 100), "M2": list(down / 100)},
        "{kpi: energy_per_unit, by: machine}",
        "energy_per_unit",
    )
    assert [a.scope for a in alerts] == [{"machine": "M1"}]  # energy per unit: lower is better
    a = alerts[0]
    assert a.kind == "anomaly" and a.period_start == weeks(80)[50] and a.value > a.bound > a.expected
    assert a.explanation.startswith("Energy per unit at machine M1 rose to 0.5")
    assert f"from the week of {weeks(80)[50]} to the week of" in a.explanation
    assert a.explanation.endswith("above its usual 0.4 kWh/unit.")
    # availability is higher-is-better: the drop alerts, the rise (and the return from it) does not
    alerts = _scan_alerts(
        stub_engine,
        {"M1": list(up / 100), "M2": list(down / 100)},
        "{kpi: availability, by: machine}",
        "availability",
    )
    assert [a.scope for a in alerts] == [{"machine": "M2"}]
    assert "fell to" in alerts[0].explanation and "points below its usual" in alerts[0].explanation


def test_peers_absorb_what_moves_every_member(stub_engine):
    common = np.where((np.arange(104) >= 40) & (np.arange(104) < 60), 1.4, 1.0)  # e.g. a busy season
    values = {f"S{i}": list(noisy(104, 10, i) / 100 * common) for i in range(4)}
    alone = np.array(values["S3"])
    alone[70:90] *= 1.4
    values["S3"] = list(alone)
    spec = "{kpi: overtime_share, by: site, peers: all}"
    alerts = _scan_alerts(stub_engine, values, spec, "overtime_share", by="site")
    assert [a.scope for a in alerts] == [{"site": "S3"}]
    assert weeks(104)[69] <= alerts[0].period_start <= weeks(104)[72]
    assert "expected from the other sites" in alerts[0].explanation
    # without peers the common movement is a lasting shift of every site
    alone_scan = _scan_alerts(stub_engine, values, "{kpi: overtime_share, by: site}", "overtime_share", by="site")
    assert {a.scope["site"] for a in alone_scan} == {"S0", "S1", "S2", "S3"}


def test_anomaly_ids_are_stable(stub_engine):
    x = noisy(80, 40, 3)
    x[50:70] *= 1.3
    first = _scan_alerts(stub_engine, {"M1": list(x / 100)}, "{kpi: energy_per_unit, by: machine}", "energy_per_unit")
    again = _scan_alerts(stub_engine, {"M1": list(x / 100)}, "{kpi: energy_per_unit, by: machine}", "energy_per_unit")
    assert [a.id for a in first] == [a.id for a in again] and len(first) == 1
