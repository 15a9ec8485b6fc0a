"""Column types that behave the same on SQLite and PostgreSQL: exact money and UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from .errors import AppDbError

CENT = Decimal("0.01")
MONEY_LIMIT = Decimal(10) ** 16  # NUMERIC(18,2): 16 digits before the point


def row_fields(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The `names` attributes of an ORM row, as a dict in that order (the row shapes the API returns)."""
    return {n: getattr(row, n) for n in names}


def to_money(value: Any, what: str = "expected_impact") -> Decimal:
    """An amount as a Decimal with 2 places; AppDbError for floats, non-finite values or sub-cent digits."""
    if isinstance(value, bool) or isinstance(value, float):
        raise AppDbError(f"{what}: give an exact amount (Decimal or text such as '1250.00'), not {value!r}")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise AppDbError(f"{what}: {value!r} is not an amount") from None
    if not amount.is_finite():
        raise AppDbError(f"{what}: {value!r} is not a finite amount")
    if abs(amount) >= MONEY_LIMIT:  # before quantize, which cannot hold 1e308 in 28 digits
        raise AppDbError(f"{what}: {value!r} is too large (at most 16 digits before the point)")
    if amount != amount.quantize(CENT):
        raise AppDbError(f"{what}: {value!r} has more than 2 decimals")
    return amount.quantize(CENT)


class Money(TypeDecorator[Decimal]):
    """NUMERIC(18,2) on PostgreSQL; TEXT on SQLite, whose NUMERIC is a float. Round-trips exactly."""

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = to_money(value)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(CENT)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp. SQLite stores it naive (in UTC); PostgreSQL as timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise AppDbError(f"timestamp {value!r} must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    """Now, in UTC, to the microsecond (what both databases store)."""
    return datetime.now(UTC)
