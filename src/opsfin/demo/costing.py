"""The demo ERP's standard-cost arithmetic. Each rounding is half-even, once, where stated.

Units: money in cents, prices and rates in 1e-4, times in centi-minutes (1/100 min),
energy in Wh, FX rates in 1e-8. These are the rounding rules documented in
docs/demo-company.md; the GL the demo writes follows them exactly."""

from __future__ import annotations

from fractions import Fraction

from .money import half_even_int


def value_at_standard(qty: int, unit_cost_1e4: int) -> int:
    """qty × standard unit cost, in cents."""
    return half_even_int(qty * unit_cost_1e4, 100)


def to_base(cents: int, rate_1e8: int) -> int:
    """A document-currency amount in base currency (cents)."""
    return half_even_int(cents * rate_1e8, 100_000_000)


def ppv_cents(qty: int, po_price_1e4: int, rate_1e8: int, std_1e4: int) -> int:
    """Purchase price variance of one receipt line: (PO price in base − standard) × qty, rounded once."""
    return half_even_int((po_price_1e4 * rate_1e8 - std_1e4 * 100_000_000) * qty, 100 * 100_000_000)


def hours_cost(centi_minutes: int, rate_1e4: int) -> int:
    """Cost of a time (centi-minutes) at an hourly rate, in cents."""
    return half_even_int(centi_minutes * rate_1e4, 600_000)  # cmin→min ×100, min→h ×60, 1e-4→cents ×100


def energy_cost(wh: int, price_1e4: int) -> int:
    return half_even_int(wh * price_1e4, 100_000)


def timesheet_cost(regular_qh: int, overtime_qh: int, rate_1e4: int, multiplier_x4: int) -> int:
    """Pay of one timesheet row, in cents: core/money's `timesheet_pay` (the hours as booked, rounded once) on
    integers, for speed: the demo books whole quarter-hours and multipliers in quarters, so
    regular_qh/4 h × rate + overtime_qh/4 h × rate × multiplier_x4/4 is this one division, exactly
    (tests/test_core_money.py checks the two agree)."""
    return half_even_int(regular_qh * rate_1e4 * 4 + overtime_qh * rate_1e4 * multiplier_x4, 1600)


def rolled_up_cost(material_1e4: int, steps: list[tuple[int, int, int, int, int, int, int]]) -> int:
    """Standard unit cost (1e-4): material + Σ steps (labor, variable and fixed overhead per run hour,
    energy at the site's standard price), rounded once.
    Each step is (labor_cmin, run_cmin, wh, labor_rate, var_oh_rate, fixed_oh_rate, energy_price)."""
    total = Fraction(material_1e4)
    for labor_cmin, run_cmin, wh, lr, vr, fr, ep in steps:
        total += Fraction(labor_cmin * lr, 6000) + Fraction(run_cmin * (vr + fr), 6000) + Fraction(wh * ep, 1000)
    return half_even_int(total.numerator, total.denominator)
