"""Plan formulas a controller checks by hand (docs/planning.md), where the worked company of
test_planning_ops.py / test_planning_balances.py cannot tell a right formula from a wrong one."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from opsfin.planning.materials import explode

MAR = dt.date(2025, 3, 1)


def test_bom_explosion_multiplies_every_level():
    """100 FG need 2 SUB each (made at plant P2, its routing's site) = 200 SUB; each SUB needs 3 RM = 600 RM,
    bought at P2 where the SUB is made; each FG also needs 0.5 PK bought at P1 = 50."""
    production = pl.DataFrame(
        [(MAR, "P1", "FG", 100.0)],
        schema={"period": pl.Date, "site_id": pl.Utf8, "product_id": pl.Utf8, "qty": pl.Float64},
        orient="row",
    )
    bom = {"FG": [("SUB", 2.0), ("PK", 0.5)], "SUB": [("RM", 3.0)]}
    made, bought, problems = explode(production, bom, {"FG": "P1", "SUB": "P2"})
    assert {(r["site_id"], r["product_id"]): r["qty"] for r in made.iter_rows(named=True)} == {
        ("P1", "FG"): pytest.approx(100),
        ("P2", "SUB"): pytest.approx(200),
    }
    assert bought == {(MAR, "P2", "RM"): pytest.approx(600), (MAR, "P1", "PK"): pytest.approx(50)}
    assert problems == []


def test_dso_averages_the_open_ar_of_every_month_end():
    """test_planning_balances' invoices over two months (January and February 2025, 59 days; month ends
    31 Jan and 28 Feb), as the `dso` KPI averages its AR:
    - C1: open 31 000 at 31 Jan (I1 unpaid), 14 000 at 28 Feb (I1 paid, half of I2) → average 22 500;
      invoiced 59 000 → DSO 22 500 / 59 000 × 59 = 22.5 days.
    - C2: open 31 000 at 31 Jan (I4), 45 000 at 28 Feb (I3 and the rest of I4) → 38 000 → 38 days.
    Each invoiced 59 000 net: weight ½."""
    from opsfin.planning.balances import customer_dso
    from opsfin.planning.operations import reader
    from test_planning_balances import tables

    got = customer_dso(reader(tables()), MAR, 2, "EUR")
    assert [(float(w), float(d)) for w, d in got] == [(0.5, pytest.approx(22.5)), (0.5, pytest.approx(38.0))]
