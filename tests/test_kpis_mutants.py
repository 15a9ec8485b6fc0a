"""KPI cases that kill mutants `make mutation` found alive in kpis/ (docs/testing.md, "Mutation testing").

The same hand-made warehouse as test_kpis_handworked.py (its FIXTURE_SQL; the rows are listed there), and
the same way of asking: each case reaches a dimension, a path or an edge no case there reached, and each
expected figure is worked out in the comments from those rows.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import sys
from pathlib import Path

import polars as pl
import pytest

import opsfin
from opsfin.kpis import compute
from test_kpis_handworked import CASES, FIXTURE_SQL, close, pick, run

D = dt.date
JAN, FEB = D(2024, 1, 1), D(2024, 2, 1)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    w = opsfin.init(tmp_path_factory.mktemp("kpi_mutants") / "ws")
    with w.connect() as con:
        con.execute(FIXTURE_SQL)
    return opsfin.open(w.path)


# ---------------------------------------------------------------------------- dimensions reached by a join
def test_inspections_reach_work_centre_machine_and_shift_through_their_operation(ws):
    # January: QI1 (O1, OP1: WC-A, M1, P1-D) 100 inspected, 4 defective → (100 − 4) / 100;
    # QI2 (O3, OP4: WC-C, M3, P2-D) 250, 15 → 235 / 250. QI3 has no operation and falls in February.
    for dim, first, second in (("work_center", "WC-A", "WC-C"), ("machine", "M1", "M3"), ("shift", "P1-D", "P2-D")):
        rows = run(ws, "first_pass_yield", by=[dim])
        a, b = pick(rows, JAN, **{dim: first}), pick(rows, JAN, **{dim: second})
        assert (a["numerator"], a["denominator"], a["value"]) == (96, 100, 0.96), dim
        assert (b["numerator"], b["denominator"], b["value"]) == (235, 250, 0.94), dim
        assert {r[dim] for r in rows if r["period_start"] == JAN} == {first, second}, dim


def test_shipments_reach_the_product_family(ws):
    # January shipments by family: pumps (FG1) SH1 10 on time + SH4 5 late → 10 / 15;
    # valves (FG2) SH2 15 on time + SH3 5 late → 15 / 20. February: SH5 (FG1, pumps) 8 on time.
    rows = run(ws, "on_time_delivery", by=["family"])
    pumps, valves = pick(rows, JAN, family="pumps"), pick(rows, JAN, family="valves")
    assert (pumps["numerator"], pumps["denominator"], pumps["value"]) == (10, 15, pytest.approx(10 / 15))
    assert (valves["numerator"], valves["denominator"], valves["value"]) == (15, 20, 0.75)
    assert pick(rows, FEB, family="pumps")["value"] == 1.0


# ---------------------------------------------------------------------------- bottlenecks: grain, sites, clipping
def _bottlenecks(ws, **options):
    from opsfin.kpis.bottlenecks import bottlenecks

    rows = bottlenecks(ws.kpi_tables(), **options).to_dicts()
    return {
        (r["period_start"], r["site"]): (
            r["work_center"],
            r["capacity_utilization"],
            r["mean_wait_minutes"],
            r["operations"],
            r["runner_up"],
            r["runner_up_utilization"],
        )
        for r in rows
    }


def test_bottlenecks_of_the_sites_asked_by_month_unless_told(ws):
    # P2 alone, month grain by default: January r8 (M3 on WC-C) ideal 20 s × 150 units = 3000 over
    # 60 planned minutes × 60 = 3600; OP4 (WC-C) ends 01-10 with a 10-minute wait. March's r9 plans 0.
    assert _bottlenecks(ws, sites=["P2"]) == {(JAN, "P2"): ("WC-C", pytest.approx(3000 / 3600), 10.0, 1, None, None)}


def test_bottlenecks_clip_readings_and_operations_to_from_and_to(ws):
    # 2024-01-21..2024-01-31: the one reading inside is r7 (M2 on WC-B, 05:00 on 01-21): 60 s × 25 = 1500
    # over 30 × 60 = 1800; no operation ends inside (OP3 ends 01-20, OP2 on 02-01): none, no mean wait.
    got = _bottlenecks(ws, start=D(2024, 1, 21), end=D(2024, 1, 31))
    assert got == {(JAN, "P1"): ("WC-B", pytest.approx(1500 / 1800), None, 0, None, None)}


def test_bottlenecks_of_a_year_cut_at_to(ws):
    # The year 2024 up to 01-31. P1: WC-A r1..r4 30 s × (90 + 100 + 60 + 0) = 7500 over 180 × 60 = 10800;
    # WC-B r6, r7 60 s × (40 + 25) = 3900 over 90 × 60 = 5400 → WC-B (0.722) ahead of WC-A (0.694).
    # WC-B's operations ending by 01-31: OP3 alone (wait 90; OP2 ends 02-01). P2: WC-C as above.
    # But the ranking is by machine load (busy ÷ paid minutes): WC-A OP1 10 + 200 = 210 over T1's 600 = 0.35;
    # WC-B OP3 0 + 120 = 120 over T2's 480 = 0.25 → WC-A (wait 30, OP1) first, WC-B the runner-up.
    got = _bottlenecks(ws, grain="year", end=D(2024, 1, 31))
    assert got == {
        (JAN, "P1"): ("WC-A", pytest.approx(7500 / 10800), 30.0, 1, "WC-B", pytest.approx(3900 / 5400)),
        (JAN, "P2"): ("WC-C", pytest.approx(3000 / 3600), 10.0, 1, None, None),
    }


def test_bottlenecks_count_operations_ending_on_the_from_and_to_days(ws):
    # From 01-20: r7 (WC-B, 01-21) is P1's only January reading; OP3 (WC-B, wait 90) ends on 01-20 itself.
    got = _bottlenecks(ws, start=D(2024, 1, 20), end=D(2024, 1, 31))
    assert got == {(JAN, "P1"): ("WC-B", pytest.approx(1500 / 1800), 90.0, 1, None, None)}
    # To 01-10 (a year): P2's r8 (WC-C) on 01-10 and OP4 (WC-C, wait 10) ending on 01-10 itself.
    got = _bottlenecks(ws, grain="year", end=D(2024, 1, 10), sites=["P2"])
    assert got == {(JAN, "P2"): ("WC-C", pytest.approx(3000 / 3600), 10.0, 1, None, None)}


def test_no_bottleneck_is_an_empty_frame_with_the_columns(ws):
    from opsfin.kpis.bottlenecks import bottlenecks

    empty = bottlenecks(ws.kpi_tables(), start=D(2025, 1, 1))  # nothing after 2024
    assert empty.is_empty()
    assert dict(empty.schema) == {
        "period_start": pl.Date,
        "site": pl.Utf8,
        "work_center": pl.Utf8,
        "capacity_utilization": pl.Float64,
        "mean_wait_minutes": pl.Float64,
        "operations": pl.Int64,
        "runner_up": pl.Utf8,
        "runner_up_utilization": pl.Float64,
        "machine_load": pl.Float64,
        "runner_up_load": pl.Float64,
    }


def test_bottleneck_ties_go_to_the_first_work_centre_by_id(ws, tmp_path):
    # Two more readings in March 2024 at P1: M1 (WC-A) 30 s × 60 units and M2 (WC-B) 60 s × 30 units, each
    # over 60 planned minutes: 1800 / 3600 = 0.5 both. The tie goes to WC-A; WC-B is the runner-up.
    copy = tmp_path / "ws"
    shutil.copytree(ws.path, copy)
    tied = opsfin.open(copy)
    with tied.connect() as con:
        con.execute(
            "INSERT INTO machine_readings VALUES "
            "('M1', '2024-03-04 10:00:00', 60, 60, 60, 60, 1.0, 40, 1, 'HW'), "
            "('M2', '2024-03-04 10:00:00', 60, 60, 30, 30, 1.0, 40, 1, 'HW')"
        )
    got = _bottlenecks(tied, start=D(2024, 3, 1), sites=["P1"])
    assert got == {(D(2024, 3, 1), "P1"): ("WC-A", 0.5, None, 0, "WC-B", 0.5)}


def test_bottleneck_mean_wait_over_several_operations(ws):
    # The whole year 2024. P1: WC-A adds r5 (February, 30 s × 50 = 1500 over 3600): 9000 / 14400 = 0.625;
    # WC-B 3900 / 5400 = 0.722 leads, with OP3 (wait 90) and OP2 (wait 60): mean (90 + 60) / 2 = 75.
    # P2: WC-C r8 3000 / 3600 plus r9 (nothing planned, nothing made); OP4 wait 10.
    assert _bottlenecks(ws, grain="year") == {
        (JAN, "P1"): ("WC-B", pytest.approx(3900 / 5400), 75.0, 2, "WC-A", pytest.approx(9000 / 14400)),
        (JAN, "P2"): ("WC-C", pytest.approx(3000 / 3600), 10.0, 1, None, None),
    }


# ---------------------------------------------------------------------------- working capital: which rows it reads
def test_working_capital_shows_the_periods_of_the_roles_it_reads(ws, tmp_path):
    # A sale on account in March 2024 (revenue and receivables, 10.00). DSO reads those roles: it runs
    # December 2023 to March 2024. DIO reads inventory and cost of sales only, whose last posting is in
    # February (E37, E38 on 02-09; E48, E49 on 02-03): it ends in February.
    copy = tmp_path / "ws"
    shutil.copytree(ws.path, copy)
    later = opsfin.open(copy)
    with later.connect() as con:
        con.execute(
            "INSERT INTO gl_entries VALUES "
            "('E60', 'J20', '2024-03-20', '1100', NULL, 10.00, 'EUR', 'x', 'x', 'HW'), "
            "('E61', 'J20', '2024-03-20', '4000', NULL, -10.00, 'EUR', 'x', 'x', 'HW')"
        )
    periods = [D(2023, 12, 1), JAN, FEB]
    assert [r["period_start"] for r in run(later, "dso")] == [*periods, D(2024, 3, 1)]
    assert [r["period_start"] for r in run(later, "dio")] == periods


def test_working_capital_of_an_empty_ledger_is_an_empty_frame(tmp_path):
    empty = opsfin.init(tmp_path / "ws")
    (frame,) = compute(empty.kpi_tables(), ["dso"])
    assert frame.is_empty()
    assert dict(frame.schema) == {
        "period_start": pl.Date,
        "kpi": pl.Utf8,
        "value": pl.Float64,
        "numerator": pl.Float64,
        "denominator": pl.Float64,
    }


def test_working_capital_from_a_day_with_postings(ws):
    # --from 2024-01-20 --to 2024-01-31 (d = 12): revenue from 01-20 itself, 1600.10 + 200.20 + 570.33 =
    # 2370.63; AR 1000.00 at 01-19 and 3170.63 at 01-31 → average 2085.315
    (row,) = run(ws, "dso", start="2024-01-20", end="2024-01-31")
    assert row["kpi"] == "dso" and row["period_start"] == JAN
    assert row["numerator"] == pytest.approx(2085.315 * 12) and row["denominator"] == pytest.approx(2370.63)
    assert row["value"] == pytest.approx(2085.315 * 12 / 2370.63)


def test_working_capital_without_any_value_keeps_its_column_types(ws):
    # December 2023 alone: the opening journal, no revenue: one row whose value is null, still a float column
    (frame,) = compute(ws.kpi_tables(), ["dso"], start="2023-12-01", end="2023-12-31")
    assert frame.to_dicts() == [
        {"period_start": D(2023, 12, 1), "kpi": "dso", "value": None, "numerator": 500.0 * 31, "denominator": 0.0}
    ]
    assert frame.schema["value"] == pl.Float64


# ---------------------------------------------------------------------------- the built-in catalog, built again
def _definitions_built_again():
    """definitions.py executed once more, as a fresh module of the same name (the imported one is put back
    after). The built-in catalog is built when the module is imported, before any test runs; a test sees the
    code that builds it (`_kpi`, `_part`) only this way."""
    from opsfin.kpis import definitions

    spec = importlib.util.spec_from_file_location(definitions.__name__, definitions.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules[spec.name] = definitions
    return module


def test_the_built_in_catalog_built_again_gives_every_hand_worked_figure(ws):
    catalog = _definitions_built_again().KPI_BY_ID
    tables = ws.kpi_tables()
    for kpi, opts, period, dims, num, den, value in CASES:
        o = {"grain": "month", "by": None, "where": None, "start": None, "end": None} | opts
        (frame,) = compute(tables, [kpi], o["grain"], o["by"], o["where"], o["start"], o["end"], catalog=catalog)
        row = pick(frame.to_dicts(), period, **dims)
        assert close(row["numerator"], num) and close(row["denominator"], den), (kpi, row, num, den)
        assert close(row["value"], value), (kpi, row, value)


def test_the_built_in_catalog_built_again_matches_docs():
    # docs/kpis.md's catalog table: each KPI's formula, unit, direction and dimensions
    doc = (Path(__file__).resolve().parents[1] / "docs" / "kpis.md").read_text(encoding="utf-8")
    kpis = _definitions_built_again().KPIS
    for k in kpis:
        dims = ", ".join(sorted(k.dims)) or "company only"
        assert f"| `{k.id}` | {k.formula} | {k.unit} | {k.direction} | {dims} |" in doc, k.id
    # what the table does not show, from the hand-worked cases: money KPIs are exact sums, output a plain
    # sum, working capital balances, throughput per hour 60 × units per minute, every other KPI a plain ratio
    money = {"revenue", "cogs", "gross_margin", "opex", "maintenance_cost", "maintenance_parts_cost"}
    balances = {"dso", "dio", "dpo", "ccc", "inventory_turns"}
    for k in kpis:
        kind = "sum" if k.id in money | {"output_units"} else "balance" if k.id in balances else "ratio"
        scale = 60.0 if k.id == "throughput_per_hour" else 1.0
        assert (k.kind, k.money, k.scale) == (kind, k.id in money, scale), k.id
        assert k.name and k.owner and k.description, k.id


# ---------------------------------------------------------------------------- the catalog as listed and as a file
def test_a_catalog_row_lists_the_dimensions_and_whether_company_level():
    from opsfin.kpis import KPI_BY_ID
    from opsfin.kpis.catalog import catalog_row

    # docs/kpis.md: oee splits by machine, shift, site and work centre; dso is company only
    oee, dso = catalog_row(KPI_BY_ID["oee"]), catalog_row(KPI_BY_ID["dso"])
    assert list(oee) == [
        "id",
        "name",
        "description",
        "unit",
        "direction",
        "owner",
        "formula",
        "dimensions",
        "company_level",
    ]
    assert (oee["dimensions"], oee["company_level"]) == (["machine", "shift", "site", "work_center"], False)
    assert (dso["dimensions"], dso["company_level"]) == ([], True)


def test_the_default_catalog_file_reads_back_as_the_catalog():
    import yaml

    from opsfin.kpis import KPIS
    from opsfin.kpis.catalog import default_catalog_yaml

    text = default_catalog_yaml()
    assert text.startswith("# KPI catalog. Edit names, owners, units and descriptions freely.")
    assert "# Add your own KPIs at the end: see docs/kpis.md.\nkpis:\n- id: " in text  # the id first in each entry
    assert "dso + dio − dpo" in text  # written as people read it, not escaped
    entries = yaml.safe_load(text)["kpis"]
    assert [e["id"] for e in entries] == [k.id for k in KPIS]
    ccc = next(e for e in entries if e["id"] == "ccc")
    assert "company_level" not in ccc and ccc["dimensions"] == [] and ccc["formula"] == "dso + dio − dpo"
    # every line is folded at 110 characters, not at PyYAML's default 80: oee's formula (99) stays whole
    oee_formula = "sum(ideal_cycle_seconds * units_good) / sum(planned_minutes * 60) over machine_readings"
    assert f"\n  formula: {oee_formula}\n" in text


def test_the_default_catalog_file_opens_with_its_three_comment_lines():
    from opsfin.kpis.catalog import default_catalog_yaml

    assert default_catalog_yaml().startswith(
        "# KPI catalog. Edit names, owners, units and descriptions freely. `formula` shows what the engine\n"
        "# computes, in the expression language of custom KPIs (editing it changes nothing).\n"
        "# Add your own KPIs at the end: see docs/kpis.md.\nkpis:\n"
    )


# ---------------------------------------------------------------------------- goods receipts by product family
def test_goods_receipts_reach_the_product_family(ws):
    # RM1 and RM2 are both 'metal': by family, the company figures. January on time GR1 100 + GR2 150 +
    # GR5 20 = 270 of 320; February GR4 30 late → 0 of 30. ppv January 230 over 2000 (test_kpis_handworked).
    rows = run(ws, "supplier_on_time", by=["family"])
    assert [(r["period_start"], r["family"], r["numerator"], r["denominator"]) for r in rows] == [
        (JAN, "metal", 270, 320),
        (FEB, "metal", 0, 30),
    ]
    jan = pick(run(ws, "ppv_rate", by=["family"]), JAN, family="metal")
    assert (jan["numerator"], jan["denominator"], jan["value"]) == (230, 2000, pytest.approx(0.115))


# ---------------------------------------------------------------------------- stacking KPIs of mixed types
def test_combine_stacks_a_ratio_a_money_sum_and_a_balance_as_doubles(ws):
    from opsfin.kpis.engine import combine

    # January: on time 25 of 35 shipped; revenue 2370.63 (a Decimal sum, no denominator); dso = average
    # AR 2085.315 × 31 days over revenue 2370.63 (test_kpis_handworked). Mixed: every figure a double.
    frames = compute(ws.kpi_tables(), ["on_time_delivery", "revenue", "dso"], start=JAN, end=D(2024, 1, 31))
    assert frames[1].schema["numerator"] == pl.Decimal(38, 2)  # what combine has to reconcile
    stacked = combine(frames)
    assert [stacked.schema[c] for c in ("value", "numerator", "denominator")] == [pl.Float64] * 3
    rows = [(r["kpi"], r["value"], r["numerator"], r["denominator"]) for r in stacked.to_dicts()]
    assert rows == [
        ("on_time_delivery", pytest.approx(25 / 35), 25.0, 35.0),
        ("revenue", 2370.63, 2370.63, None),
        ("dso", pytest.approx(2085.315 * 31 / 2370.63), pytest.approx(2085.315 * 31), 2370.63),
    ]
    assert all(r["period_start"] == JAN for r in stacked.to_dicts())


def test_combine_keeps_money_exact_when_every_kpi_is_money(ws):
    from decimal import Decimal

    from opsfin.kpis.engine import combine

    # January revenue 2370.63 and cogs 1418.05 stay Decimals
    stacked = combine(compute(ws.kpi_tables(), ["revenue", "cogs"], start=JAN, end=D(2024, 1, 31)))
    assert stacked.schema["value"] == pl.Decimal(38, 2)
    assert stacked["value"].to_list() == [Decimal("2370.63"), Decimal("1418.05")]
    assert combine([]).is_empty()


# ---------------------------------------------------------------------------- custom KPIs: kind, texts of mistakes
def _custom(entry):
    from opsfin.kpis.catalog import custom_kpi

    return custom_kpi({"source": "operations", "numerator": "qty_good"} | entry)


def test_a_custom_kpi_of_kind_sum_with_a_denominator_is_the_sum_of_its_numerator(ws):
    # January operations OP1, OP3, OP4: good 95 + 60 + 200 = 355, run 200 + 120 + 240 = 560 minutes
    kpi = _custom({"id": "good_units", "denominator": "run_minutes", "kind": "sum"})
    (frame,) = compute(ws.kpi_tables(), ["good_units"], start=JAN, end=D(2024, 1, 31), catalog={"good_units": kpi})
    assert frame.select("value", "numerator", "denominator").rows() == [(355.0, 355.0, 560.0)]
    # an empty denominator is none: a sum too
    blank = _custom({"id": "blank_den", "denominator": ""})
    assert (blank.kind, blank.parts[0].den) == ("sum", None)
    (frame,) = compute(ws.kpi_tables(), ["blank_den"], start=JAN, end=D(2024, 1, 31), catalog={"blank_den": blank})
    assert frame.select("value", "numerator", "denominator").rows() == [(355.0, 355.0, None)]


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"id": "nonum", "numerator": None}, "model/kpis.yaml: kpi 'nonum': missing 'numerator'"),
        (
            {"id": "nosrc", "source": "nowhere"},
            "model/kpis.yaml: kpi 'nosrc': unknown source 'nowhere'; sources are machine_readings, operations, "
            "production_output, quality_inspections, timesheets, support_tickets, warehouse_tasks, shipments, "
            "gl_entries, maintenance_events, goods_receipts, receipt_allocations",
        ),
        ({"id": "avg", "kind": "average"}, "model/kpis.yaml: kpi 'avg': kind must be ratio or sum"),
        (
            {"id": "bad_num", "numerator": "qty_good +"},
            "model/kpis.yaml: kpi 'bad_num' numerator: 'qty_good +' is not an expression",
        ),
        (
            {"id": "bad_den", "denominator": "run_minutes *"},
            "model/kpis.yaml: kpi 'bad_den' denominator: 'run_minutes *' is not an expression",
        ),
        (
            {"id": "bad_filter", "filter": "qty_good >"},
            "model/kpis.yaml: kpi 'bad_filter' filter: 'qty_good >' is not an expression",
        ),
    ],
)
def test_a_bad_custom_kpi_names_the_file_the_kpi_and_the_field(entry, message):
    from opsfin.errors import UserError

    with pytest.raises(UserError) as caught:
        _custom(entry)
    assert str(caught.value).startswith(message), str(caught.value)
