"""Scenario-engine cases that kill mutants a sampled `make mutation` found alive in scenarios/ (docs/testing.md,
"Mutation testing"). Tiny hand-made frames, each expected figure worked in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from opsfin.scenarios.linearise import variance_shares

JAN, FEB, MAR = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)


def test_variance_shares_are_variances_over_cogs_per_month():
    pnl = pl.DataFrame(
        {
            "period": [JAN, JAN, JAN, JAN, FEB, FEB, MAR],
            "site_id": ["P1", "P1", "P2", "P1", "P1", "P1", "P1"],
            "line": ["revenue", "cogs", "cogs", "variances", "cogs", "opex", "variances"],
            "amount": [Decimal(v) for v in ("900", "300", "100", "20", "250", "40", "5")],
        }
    )
    # January: variances 20 over COGS 300 + 100 = 0.05 (the revenue's 900 is no part of it);
    # February: COGS 250 and no variances → 0; March: variances without COGS → 0, not a division by zero
    assert variance_shares(pnl, [JAN, FEB, MAR]).tolist() == pytest.approx([0.05, 0.0, 0.0])
