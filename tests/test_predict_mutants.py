"""Predict cases that kill mutants a sampled `make mutation` found alive in predict/ (docs/testing.md,
"Mutation testing"): the direction of a numeric defect driver, a machine without a priced breakdown, the
recommendation at its threshold and an unreadable model file. Hand-made inputs, expected values worked in
the comments."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import numpy as np
import polars as pl
import pytest

from opsfin.errors import UserError
from opsfin.predict.defects import _worst
from opsfin.predict.fit import MODEL_FORMAT, load_model
from opsfin.predict.maintenance import priced, recommendation


def test_a_numeric_driver_whose_high_values_lower_the_rate_is_lower_values():
    # temperature up, contribution down: the correlation is -1, so lower values raise the rate
    values = pl.Series("machine_temperature_7d", [60.0, 70.0, 80.0])
    assert _worst("machine_temperature_7d", values, np.array([0.02, 0.0, -0.02]), np.ones(3)) == "lower values"
    assert _worst("machine_temperature_7d", values, np.array([-0.02, 0.0, 0.02]), np.ones(3)) == "higher values"


def test_two_known_values_are_enough_for_a_direction():
    values = pl.Series("machine_temperature_7d", [60.0, None, 80.0])
    assert _worst("machine_temperature_7d", values, np.array([-0.01, 0.5, 0.01]), np.ones(3)) == "higher values"
    one = pl.Series("machine_temperature_7d", [60.0, None, None])
    assert _worst("machine_temperature_7d", one, np.array([-0.01, 0.5, 0.01]), np.ones(3)) is None


def test_a_machine_without_a_breakdown_cost_expects_nothing():
    assert priced(0.123456, {}) == (0.1235, Decimal("0.00"), None)
    # 0.1235 × 1,000.00 = 123.50; the planned cost is passed through
    assert priced(0.123456, {"breakdown_cost": Decimal("1000.00"), "planned_maintenance_cost": Decimal("80.00")}) == (
        0.1235,
        Decimal("123.50"),
        Decimal("80.00"),
    )


def test_a_risk_at_the_monitor_threshold_is_monitored():
    assert recommendation(0.5, Decimal("10.00"), Decimal("20.00"), 0.5) == "monitor"
    assert recommendation(0.4999, Decimal("10.00"), Decimal("20.00"), 0.5) == "ok"
    assert recommendation(0.1, Decimal("20.01"), Decimal("20.00"), 0.5) == "maintain_now"


def test_a_model_that_cannot_be_read_names_its_file():
    text = "not a LightGBM model"
    sidecar = {"format": MODEL_FORMAT, "model_sha256": hashlib.sha256(text.encode()).hexdigest(), "columns": []}
    with pytest.raises(UserError, match=r"^risk\.model: the model cannot be read \("):
        load_model(text, sidecar, "risk.model")  # no "derived" in the sidecar: a KeyError, worded
