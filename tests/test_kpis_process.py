"""The process KPIs (kpis/definitions_process.py) worked out by hand on the fixture warehouse of
test_kpis_handworked.py, plus a few ledger rows on the support cost centre (EXTRA_SQL) so the cost of a
ticket has a numerator. Each expected number is derived in the comments from the fixture's rows.

Operations (dated by end_at): OP1 WC-A/M1/P1-D Jan (setup 10, run 200, good 95, scrap 5, wait 30);
OP2 WC-B/M2/P1-N Feb (5, 300, 90, 10, 60); OP3 WC-B/M2/P1-D Jan (0, 120, 60, 0, 90);
OP4 WC-C/M3/P2-D Jan (20, 240, 200, 50, 10). O1, O3 make FG1 (pumps), O2 FG2 (valves)."""

from __future__ import annotations

import pytest
from tests.test_kpis_handworked import FEB, FIXTURE_SQL, JAN, close, pick, run

import opsfin

EXTRA_SQL = """
INSERT INTO gl_entries VALUES
  -- support payroll in January, on the support desk
  ('E53', 'J17', '2024-01-31', '6200', 'CC-S1', 1200.00, 'EUR', 'x', 'x', 'HW'),
  ('E54', 'J17', '2024-01-31', '1000', NULL,   -1200.00, 'EUR', 'x', 'x', 'HW'),
  -- a cash row carrying the support cost centre: not an expense, not a cost
  ('E55', 'J18', '2024-01-15', '1000', 'CC-S1',   99.00, 'EUR', 'x', 'x', 'HW'),
  ('E56', 'J18', '2024-01-15', '3000', NULL,     -99.00, 'EUR', 'x', 'x', 'HW'),
  -- office costs of the support desk in February
  ('E57', 'J19', '2024-02-10', '6100', 'CC-S1',   45.50, 'EUR', 'x', 'x', 'HW'),
  ('E58', 'J19', '2024-02-10', '1000', NULL,     -45.50, 'EUR', 'x', 'x', 'HW');
"""

# (kpi, options, period_start, dims, numerator, denominator, value), as test_kpis_handworked.CASES
CASES = [
    # ----------------------------------------------------------------- setup_time: minutes per setup
    # Jan: OP1 10 + OP4 20 over 2 setups (OP3 had none: not a setup) = 15
    ("setup_time", {}, JAN, {}, 30, 2, 15.0),
    ("setup_time", {"by": ["site"]}, JAN, {"site": "P1"}, 10, 1, 10.0),
    ("setup_time", {"by": ["work_center"]}, FEB, {"work_center": "WC-B"}, 5, 1, 5.0),
    # ----------------------------------------------------------------- cycle_time: minutes per unit processed
    # Jan: (10+200) + (0+120) + (20+240) = 590 over (95+5) + (60+0) + (200+50) = 410
    ("cycle_time", {}, JAN, {}, 590, 410, 590 / 410),
    ("cycle_time", {"by": ["work_center"]}, JAN, {"work_center": "WC-B"}, 120, 60, 2.0),
    # Feb: OP2 (5+300) / (90+10)
    ("cycle_time", {}, FEB, {}, 305, 100, 3.05),
    # pumps Jan: OP1 + OP4 = 470 / 350
    ("cycle_time", {"by": ["family"]}, JAN, {"family": "pumps"}, 470, 350, 470 / 350),
    # ----------------------------------------------------------------- wait_time: minutes per operation
    # Jan: 30 + 90 + 10 over 3 operations
    ("wait_time", {}, JAN, {}, 130, 3, 130 / 3),
    # P1-D Jan: OP1 30 + OP3 90 over 2
    ("wait_time", {"by": ["shift"]}, JAN, {"shift": "P1-D"}, 120, 2, 60.0),
    ("wait_time", {"by": ["machine"]}, FEB, {"machine": "M2"}, 60, 1, 60.0),
    # ----------------------------------------------------------------- cost_per_ticket
    # Jan: expenses on support cost centres: E53 1200.00 (E55 is cash; E29 is on the admin centre, E30 on
    # production) over the tickets closed in January: TK1, TK3, TK5 (TK4 is open, TK2 closes in Feb)
    ("cost_per_ticket", {}, JAN, {}, 1200, 3, 400.0),
    ("cost_per_ticket", {"by": ["site"]}, JAN, {"site": "S1"}, 1200, 3, 400.0),
    # Feb: E57 45.50 over TK2
    ("cost_per_ticket", {"by": ["cost_center"]}, FEB, {"cost_center": "CC-S1"}, 45.5, 1, 45.5),
    # ----------------------------------------------------------------- contribution_margin_per_unit
    # Jan shipments, (price in EUR − std) × qty: SH1 FG1 (100 − 50)·10 = 500; SH2 FG2 (40 − 20)·15 = 300;
    # SH3 FG2 (40 − 20)·5 = 100; SH4 FG1 USD 120 at the rate of 01-10 (0.95) = 114: (114 − 50)·5 = 320
    # → 1220 over 35 units
    ("contribution_margin_per_unit", {}, JAN, {}, 1220, 35, 1220 / 35),
    ("contribution_margin_per_unit", {"by": ["customer"]}, JAN, {"customer": "C2"}, 320, 5, 64.0),
    ("contribution_margin_per_unit", {"by": ["product"]}, JAN, {"product": "FG2"}, 400, 20, 20.0),
    # Feb: SH5 FG1 (100 − 50)·8
    ("contribution_margin_per_unit", {}, FEB, {}, 400, 8, 50.0),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    w = opsfin.init(tmp_path_factory.mktemp("process_kpis") / "ws")
    with w.connect() as con:
        con.execute(FIXTURE_SQL)
        con.execute(EXTRA_SQL)
    return opsfin.open(w.path)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]:%Y%m}-{'-'.join(c[3].values()) or 'co'}")
def test_handworked(ws, case):
    kpi, opts, period, dims, num, den, value = case
    row = pick(run(ws, kpi, **opts), period, **dims)
    assert close(row["numerator"], num), (row, num)
    assert close(row["denominator"], den), (row, den)
    assert close(row["value"], value), (row, value)


def test_a_step_without_setup_is_no_setup(ws):
    # WC-B in January ran only OP3, whose setup is 0: no setup, so no row (not a zero)
    rows = run(ws, "setup_time", by=["work_center"])
    assert [r["work_center"] for r in rows if r["period_start"] == JAN] == ["WC-A", "WC-C"]


def test_cost_per_ticket_has_no_customer_split(ws):
    from opsfin.errors import UserError

    with pytest.raises(UserError, match="cannot be split by customer"):
        run(ws, "cost_per_ticket", by=["customer"])
