"""Money: half-even rounding, the one cent splitter, and timesheet pay (docs/accounting-rules.md).

Every rounding of money in opsfin is half to even ("banker's rounding"), once, where the docs say so:
0.125 → 0.12, 0.135 → 0.14, −0.125 → −0.12, 2.675 (as an exact decimal) → 2.68. The same rule is offered
for Python `Decimal`s, exact integers and `Fraction`s, SQL text (DuckDB), Ibis expressions and Arrow columns, so an engine
never writes it again.

The cent splitter (`split_cents`, on integers `split_units`, for exact shares `round_shares`) divides an
amount in proportion to weights so that the parts add up to the amount exactly. The rule, in full:

1. every part starts at its exact share rounded toward zero;
2. the cents still missing go one each to the parts with the largest remainders;
3. ties between equal remainders go to the larger share, then to the key that comes first in the given
   order (a dict's insertion order);
4. a negative amount splits like its absolute value, with every part negated: split(−a) = −split(a);
5. a weight of 0 gets 0; weights must not be negative and must not all be 0.

Floats (weights, hours) are read through their shortest decimal form (`repr`), never their binary value,
so 7.9 hours is 7.9 exactly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

K = TypeVar("K")
CENT = Decimal("0.01")
PER_UNIT = Decimal("0.0001")  # unit prices, rates and per-unit costs: DECIMAL(18,4)

Number = Decimal | Fraction | int | float | str


# ------------------------------------------------------------------------------------------ exact values
def to_decimal(value: Number | None) -> Decimal:
    """An exact Decimal: floats through their shortest decimal form (7.9 → 7.9, not 7.9000000000000003…),
    Fractions must be whole or finite decimals; None is 0."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value)


def to_fraction(value: Number | None) -> Fraction:
    """An exact Fraction: floats through their shortest decimal form, like `to_decimal`; None is 0."""
    if value is None:
        return Fraction(0)
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


# ------------------------------------------------------------------------------------------ half-even rounding
def half_even_div(numerator: int, denominator: int) -> int:
    """`numerator / denominator` on integers, rounded half to even (denominator > 0)."""
    q, r = divmod(numerator, denominator)  # floor division: 0 <= r < denominator
    if 2 * r > denominator or (2 * r == denominator and q % 2 == 1):
        q += 1
    return q


def half_even(value: Fraction | int) -> int:
    """A Fraction rounded to a whole number, half to even (5/2 → 2, 7/2 → 4, −5/2 → −2)."""
    f = Fraction(value)
    return half_even_div(f.numerator, f.denominator)


def round_half_even(value: Number, places: int) -> Decimal:
    """`value` rounded half to even to `places` decimals, exactly (floats through their decimal form)."""
    if isinstance(value, Fraction):
        return Decimal(half_even(value * 10**places)).scaleb(-places)
    return to_decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def round_cents(value: Number) -> Decimal:
    """A money amount rounded half to even to the cent: DECIMAL(18,2)."""
    return round_half_even(value, 2)


def round_per_unit(value: Number) -> Decimal:
    """A unit price, rate or per-unit cost rounded half to even to 4 decimals: DECIMAL(18,4)."""
    return round_half_even(value, 4)


def half_even_div_sql(numerator: str, divisor: int) -> str:
    """SQL (DuckDB) for the integer column `numerator` / `divisor`, rounded half to even, as an integer.

    `numerator` must be a plain column name. Works on absolute values so that it does not depend on how
    `//` and `%` treat negatives (DuckDB's ROUND on DECIMAL rounds half away from zero)."""
    a = f"abs({numerator})"
    q = f"({a} // {divisor})"
    r = f"({a} % {divisor})"
    return (
        f"(sign({numerator}) * ({q} + CASE WHEN 2 * {r} > {divisor} "
        f"OR (2 * {r} = {divisor} AND {q} % 2 = 1) THEN 1 ELSE 0 END))"
    )


def half_even_ibis(value: ir.NumericValue, places: int = 2) -> ir.NumericValue:
    """An Ibis expression: the DECIMAL `value` rounded half to even to `places` decimals.

    Cast the result explicitly (e.g. `.cast("decimal(18,2)")`): Ibis rounds decimals silently otherwise.
    `value` should be a DECIMAL; a DOUBLE has no exact halves."""
    # the warehouse layer's library, imported here so that core stays light for everyone else
    import ibis

    scaled = value * 10**places
    floor = scaled.floor()
    remainder = scaled - floor
    half = ibis.literal(Decimal("0.5"))
    up = (remainder > half) | ((remainder == half) & (floor % 2 != 0))  # % keeps the sign of a negative floor
    return (floor + up.ifelse(1, 0)) * ibis.literal(Decimal(1).scaleb(-places))


def half_even_arrow(values: pa.Array | pa.ChunkedArray, places: int = 2) -> pa.Array | pa.ChunkedArray:
    """An Arrow decimal column rounded half to even to `places` decimals, at scale `places` (nulls stay
    null): the same rule for frames that never leave Arrow or Polars (`pl.Series.to_arrow()`).
    Floats are refused: a DOUBLE has no exact halves."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_decimal(values.type):
        raise TypeError(f"half_even_arrow rounds decimal columns, not {values.type}")
    rounded = pc.round(values, ndigits=places, round_mode="half_to_even")
    return rounded.cast(pa.decimal128(values.type.precision, places))


# ------------------------------------------------------------------------------------------ the cent splitter
def round_shares(total: int, shares: Iterable[tuple[K, Fraction]]) -> dict[K, int]:
    """Round exact `shares` (in whole units, e.g. cents) to integers that add up to `total` exactly.

    The module's rule: each share, read as sign(total) × share, is rounded down (toward zero when all
    shares have the sign of `total`), and the result is negated back; the units still missing go one each to the
    largest remainders, ties to the larger share and then to the earlier key. If the shares do not add up
    to `total`, the difference is spread the same way (a surplus is taken back from the smallest
    remainders first), so the result always adds up to `total`. Keys appear in the result in input order."""
    items = [(k, Fraction(s)) for k, s in shares]
    if not items:
        if total:
            raise ValueError(f"cannot place {total} on no shares")
        return {}
    sign = -1 if total < 0 else 1
    mags = [sign * s for _, s in items]
    parts = [m.numerator // m.denominator for m in mags]
    missing = abs(total) - sum(parts)
    if missing:
        rank = sorted(range(len(items)), key=lambda i: (-(mags[i] - parts[i]), -mags[i], i))
        if missing < 0:  # shares above the total: take back from the smallest remainders first
            rank.reverse()
        step = 1 if missing > 0 else -1
        for n in range(abs(missing)):
            parts[rank[n % len(rank)]] += step
    return {k: sign * p for (k, _), p in zip(items, parts, strict=True)}


def exact_ratio(value: Any) -> tuple[int, int]:
    """An exact weight as (numerator, denominator > 0), as `to_fraction` reads it, without building a Fraction
    for the common whole-number float."""
    if isinstance(value, float):
        return (int(value), 1) if value.is_integer() else _float_ratio(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value, 1
    f = to_fraction(value)
    return f.numerator, f.denominator


@functools.lru_cache(maxsize=1 << 16)
def _float_ratio(value: float) -> tuple[int, int]:
    """A float's shortest decimal form (`repr`) as (numerator, denominator); weights repeat, so it is cached."""
    return Decimal(repr(value)).as_integer_ratio()


def split_units(total: int, weights: Mapping[K, Any] | Sequence[tuple[K, Any]]) -> dict[K, int]:
    """Split the integer `total` (e.g. cents) in proportion to `weights` ({key: weight} or [(key, weight)]),
    by the module's rule; the parts add up to `total` exactly.

    The same result as `round_shares(total, [(k, total × w / Σw)])`, in integers: the weights are brought to
    one common denominator, so each share is |total| × w / Σw with whole w, its floor and remainder come
    from one `divmod`, and remainders compare as integers over the same Σw."""
    pairs = list(weights.items()) if isinstance(weights, Mapping) else list(weights)
    ratios = [exact_ratio(w) for _, w in pairs]
    if any(n < 0 for n, _ in ratios):
        raise ValueError("split weights must not be negative")
    common = math.lcm(*(d for _, d in ratios)) if ratios else 1
    whole = [n * (common // d) for n, d in ratios]
    w_sum = sum(whole)
    if w_sum == 0:
        raise ValueError("split weights sum to 0")
    sign, amount = (-1, -total) if total < 0 else (1, total)
    mags = [amount * w for w in whole]
    floors, rems = [], []
    for m in mags:
        q, r = divmod(m, w_sum)
        floors.append(q)
        rems.append(r)
    missing = amount - sum(floors)  # 0 <= missing < len(whole): the shares add up to `amount` exactly
    if missing:
        rank = sorted(range(len(whole)), key=lambda i: (-rems[i], -mags[i], i))
        for i in rank[:missing]:
            floors[i] += 1
    return {k: sign * p for (k, _), p in zip(pairs, floors, strict=True)}


def split_cents(total: Number, weights: Mapping[K, Any] | Sequence[tuple[K, Any]]) -> dict[K, Decimal]:
    """Split the money amount `total` (rounded half-even to the cent first) in proportion to `weights`,
    to the cent, by the module's rule: 100.00 over 1:1:1 → 33.34, 33.33, 33.33."""
    units = int(round_cents(total).scaleb(2))
    return {k: Decimal(v).scaleb(-2) for k, v in split_units(units, weights).items()}


# ------------------------------------------------------------------------------------------ timesheet pay
def timesheet_pay(
    regular_hours: Number | None,
    overtime_hours: Number | None,
    hourly_rate: Number | None,
    overtime_multiplier: Number | None = 1,
) -> Decimal:
    """Pay of one timesheet row: regular h × rate + overtime h × rate × multiplier, on the hours as booked
    (no rounding to quarter-hours), rounded half-even to the cent once (docs/accounting-rules.md).
    7.9 h + 1.3 h overtime at 20.00 × 1.5 → 158.00 + 39.00 = 197.00. Missing hours count 0, a missing
    multiplier 1."""
    rate = to_fraction(hourly_rate)
    multiplier = Fraction(1) if overtime_multiplier is None else to_fraction(overtime_multiplier)
    exact = to_fraction(regular_hours) * rate + to_fraction(overtime_hours) * rate * multiplier
    return round_cents(exact)
