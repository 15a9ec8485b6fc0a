"""How a number reads: one formatter per unit kind (docs/presentation.md).

It sits in core so that the alert texts an engine writes and every front end (CLI tables, web pages,
the pack) spell a value the same way. Which kind a column or a KPI has is the presentation layer's
business (opsfin.present.units); here a kind only says how its values are written:

- ratio → percentage with one decimal: 0.46749 → `46.7%`
- money → thousands separators and 2 decimals (more if the Decimal carries them: a unit price of 4
  places keeps them), minus sign in front: `-1,234,567.50`; with a currency, `EUR -1,234,567.50`
- count → integer with separators: `1,234`
- quantity → units: integer when whole, else 2 decimals
- hours, minutes, kwh, days → one decimal: `90.6`
- rate (units/h, kWh/unit, turns/year) → three significant digits, never scientific: `0.520`, `12.3`,
  `1,234` (a sentence drops trailing zeros: `0.4 kWh/unit`)
- score → two decimals
- number → two decimals (a plain figure of no better-known unit)
- date → ISO `2024-03-31`; datetime → `2024-03-31 14:05`

`plain_text` is the other way to write a value: exact, for a machine or a key rather than a reader
(every digit, no separators, dates and times in full ISO 8601).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

# kind → Excel number format (the pack writes numbers as numbers and lets Excel show them this way)
EXCEL_FORMATS = {
    "ratio": "0.0%",
    "money": "#,##0.00",
    "count": "#,##0",
    "quantity": "#,##0.00",
    "hours": "#,##0.0",
    "minutes": "#,##0.0",
    "kwh": "#,##0.0",
    "days": "#,##0.0",
    "rate": "#,##0.0##",
    "score": "0.00",
    "number": "#,##0.00",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
KINDS = (*EXCEL_FORMATS, "text")
NUMERIC_KINDS = tuple(k for k in EXCEL_FORMATS if k not in ("date", "datetime"))
ONE_DECIMAL = ("hours", "minutes", "kwh", "days")
# other names of the same kinds (the pack's column kinds)
ALIASES = {"percent": "ratio", "integer": "count"}

# the unit written after a standalone value ("41.3 days"), by the unit name the KPI catalog uses
_NO_SUFFIX = ("ratio", "money", "")


def kind_of_unit(unit: str) -> str:
    """The kind of a KPI catalog unit: `ratio`, `money`, `days`, `units` → quantity, `kWh` → kwh,
    any `x/y` (units/h, kWh/unit, turns/year) → rate, `score …` → score, anything else → number."""
    unit = (unit or "").strip()
    if unit in KINDS:
        return unit
    if unit in ALIASES:
        return ALIASES[unit]
    low = unit.lower()
    if low in ("units", "unit", "pieces", "lines", "tickets"):
        return "quantity"
    if low == "kwh":
        return "kwh"
    if low in ("h", "hours"):
        return "hours"
    if low in ("min", "minutes"):
        return "minutes"
    if "/" in low:
        return "rate"
    if low.startswith("score"):
        return "score"
    return "number"


def format_number(value: Any, kind: str, *, currency: str | None = None) -> str:
    """`value` written as its kind says (see the module's docstring); None and NaN → ``."""
    kind = ALIASES.get(kind, kind)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if not isinstance(value, int | float | Decimal) or kind not in NUMERIC_KINDS:
        return str(value)
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if kind == "money":
        text = _money(value)
        return f"{currency} {text}" if currency else text
    if kind == "ratio":
        return f"{float(value):.1%}"
    if kind == "count":
        return f"{round(value):,}"
    if kind == "quantity":
        return f"{round(value):,}" if value == int(value) else f"{float(value):,.2f}"
    if kind in ONE_DECIMAL:
        return f"{float(value):,.1f}"
    if kind == "rate":
        return _significant(float(value), 3)
    if kind == "score":
        return f"{float(value):.2f}"
    return f"{value:,.2f}"


def plain_text(value: Any, none: str = "") -> str:
    """`value` as exact text (a CSV cell, a key in a message): every digit as it is, dates and times ISO
    8601 (`2024-03-31T14:05:00`), None → `none`."""
    if value is None:
        return none
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _money(value: int | float | Decimal) -> str:
    """Cents always; an exact Decimal keeps the places it has beyond cents (a 4-place unit price)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        places = max(2, -int(value.as_tuple().exponent))
        return f"{value:,.{places}f}"
    return f"{Decimal(str(value)):,.2f}"


def _significant(x: float, digits: int) -> str:
    """`x` to `digits` significant digits in fixed notation, thousands separated: 0.5213 → 0.521."""
    if x == 0:
        return "0"
    places = max(0, min(6, digits - 1 - math.floor(math.log10(abs(x)))))
    return f"{x:,.{places}f}"


def format_with_unit(value: Any, unit: str) -> str:
    """A standalone value with its catalog unit, as a sentence writes it: `12.5%`, `48,200.00`,
    `41.3 days`, `0.520 kWh/unit`, `n/a` when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    kind = kind_of_unit(unit)
    text = format_number(value, kind)
    if kind in ("rate", "score") and "." in text:  # a sentence drops the zeros a column keeps: 0.400 → 0.4
        text = text.rstrip("0").rstrip(".")
    return text if unit in _NO_SUFFIX else f"{text} {unit}"
