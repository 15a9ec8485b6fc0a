"""The cash forecast, its backtest and the working-capital levers on a workspace (docs/cash.md): open the
warehouse tables, choose the plan version, call the pure engines of `opsfin.cash`.

Without `--version`, future sales come from the latest approved budget or forecast whose plan covers the
most months of the forecast's weeks (a later name wins a tie); `chosen_version` says which and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from ..cash.forecast import CashForecast, cash_forecast
from ..cash.forecast_reads import has_table
from ..core.periods import month_start, parse_day
from ..errors import UserError
from .plan_versions import list_versions
from .tables import reading_tables

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

PLAN_KINDS = ("budget", "forecast")
SALES_TABLES = ("plan_pnl", "volume_plan")
SUPPLIER_COLUMNS = ("supplier_id", "name", "payment_terms_days", "discount_pct", "discount_days")


@dataclass(frozen=True)
class ChosenVersion:
    """The plan version the future sales come from (None: none), and a sentence saying why."""

    name: str | None
    note: str


def check_weeks(weeks: int) -> int:
    if not 1 <= weeks <= 53:
        raise UserError("{param} " + f"{weeks}: choose 1 to 53 weeks", param="weeks", value=str(weeks))
    return weeks


def as_of_day(text: str | dt.date) -> dt.date:
    """`--as-of` as a day (YYYY-MM-DD); a UserError naming the value otherwise."""
    day = parse_day(text, "--as-of")
    assert day is not None
    return day


def forecast_cash(
    ws: WorkspaceFolder, as_of: str | dt.date, weeks: int = 13, version: str | None = None
) -> tuple[CashForecast, ChosenVersion]:
    """The daily forecast of `weeks` weeks after `as_of` on the workspace, and the plan version used."""
    day = as_of_day(as_of)
    check_weeks(weeks)
    last = day + dt.timedelta(days=weeks * 7)
    with reading_tables(ws) as t:
        if version is not None and not _plan_months(t, version):
            raise UserError(
                "{param} " + f"{version!r} has no plan_pnl or volume_plan rows", param="version", value=version
            )
        chosen = ChosenVersion(version, f"future sales from plan version {version} (--version)") if version else None
        chosen = chosen or choose_version(ws, t, day, last)
        return cash_forecast(t, day, weeks, chosen.name), chosen


def choose_version(ws: WorkspaceFolder, t: Any, as_of: dt.date, last: dt.date) -> ChosenVersion:
    """The latest approved budget or forecast covering the most months of (as_of, last]; a forecast rolled
    as of a later month than `as_of`'s is not known yet on that day (a backtest must not read it)."""
    months = _months(as_of + dt.timedelta(days=1), last)
    best: tuple[int, str] | None = None
    for row in list_versions(ws):
        if row["status"] != "approved" or row["kind"] not in PLAN_KINDS:
            continue
        if not set(row["tables"] or ()) & set(SALES_TABLES):
            continue
        if row.get("as_of") is not None and month_start(_day(row["as_of"])) > month_start(as_of):
            continue
        covered = len(months & _plan_months(t, row["name"]))
        if covered and (best is None or (covered, row["name"]) > best):
            best = (covered, row["name"])
    if best is None:
        return ChosenVersion(None, "no approved budget or forecast covers these weeks: no planned sales or purchases")
    covered, name = best
    span = f"{covered} of the {len(months)} months" if covered < len(months) else f"all {len(months)} months"
    return ChosenVersion(name, f"future sales from plan version {name}, the latest approved plan covering {span}")


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _months(first: dt.date, last: dt.date) -> set[dt.date]:
    out, day = set(), first
    while day <= last:
        out.add(month_start(day))
        day += dt.timedelta(days=1)
    return out


def _plan_months(t: Any, version: str) -> set[dt.date]:
    found: set[dt.date] = set()
    for name in SALES_TABLES:
        if has_table(t, name):
            rel = t(name)
            rel = rel.filter(rel.version == version)
            found.update(r for r in rel.select(p=rel.period.cast("date")).distinct().to_pyarrow()["p"].to_pylist())
    return found


@dataclass(frozen=True)
class Levers:
    """What each working-capital lever releases (`lever_rows`) and the suppliers' discounts
    (`discount_rows`), measured over `first` .. `last`."""

    first: dt.date
    last: dt.date
    rate: Decimal
    levers: list[dict[str, Any]]
    discounts: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first,
            "to": self.last,
            "rate": self.rate,
            "levers": self.levers,
            "discounts": self.discounts,
        }


def cash_levers(
    ws: WorkspaceFolder,
    changes: dict[str, str],
    rate: str = "6%",
    as_of: str | None = None,
    trailing_days: int = 90,
) -> Levers:
    """The levers `changes` ({"dso": "-5", "dpo": "+10", "dio": "-10%"}) measured over the `trailing_days`
    up to `as_of` (default: the last day of the ledger), valued at `rate`."""
    from ..cash.documents import open_documents
    from ..cash.forecast_reads import invoicing
    from ..cash.levers import current_days, discount_rows, lever_rows, parse_change, parse_rate

    parsed = {k: parse_change(v, k) for k, v in changes.items()}
    yearly = parse_rate(rate)
    if trailing_days < 28:
        raise UserError("{param} " + f"{trailing_days}: at least 28 days", param="days", value=str(trailing_days))
    with reading_tables(ws) as t:
        last = as_of_day(as_of) if as_of else _last_posting(t)
        first = last - dt.timedelta(days=trailing_days - 1)
        current = current_days(t, first, last)
        invoiced = invoicing(t, first, last)
        suppliers = _suppliers(t)
        customers = _frame(t("customers").select(party_id="customer_id", payment_terms_days="payment_terms_days"))
        docs = open_documents(t, last)
    overdue = docs.filter((pl.col("doc_type") == "ar_invoice") & (pl.col("due_date") < last))
    context = {
        "overdue_ar": Decimal(overdue["open_amount_base"].sum() or 0),
        "customer_terms": _weighted_terms(invoiced, "customer", customers),
        "supplier_terms": _weighted_terms(invoiced, "supplier", suppliers.rename({"supplier_id": "party_id"})),
    }
    per_year = Decimal(365) / Decimal(trailing_days)
    purchases = {
        r["party_id"]: Decimal(repr(r["gross"])) * per_year
        for r in invoiced.filter(pl.col("party_type") == "supplier").to_dicts()
    }
    return Levers(
        first, last, yearly, lever_rows(current, parsed, yearly, context), discount_rows(suppliers, purchases, yearly)
    )


def _last_posting(t: Any) -> dt.date:
    g = t("gl_entries")
    day = g.posting_date.max().to_pyarrow().as_py()
    if day is None:
        raise UserError("the ledger is empty: no working capital to measure")
    return day


def _suppliers(t: Any) -> pl.DataFrame:
    """The suppliers with their terms and discounts (a warehouse made before the discount columns: none)."""
    s = t("suppliers")
    rows = pl.from_arrow(s.select(*(c for c in SUPPLIER_COLUMNS if c in s.columns)).to_pyarrow())
    assert isinstance(rows, pl.DataFrame)
    for c in ("discount_pct", "discount_days"):
        if c not in rows.columns:
            rows = rows.with_columns(
                pl.lit(None, dtype=pl.Decimal(18, 4) if c == "discount_pct" else pl.Int32).alias(c)
            )
    return rows


def _weighted_terms(invoiced: pl.DataFrame, party_type: str, terms: pl.DataFrame) -> Decimal:
    """The parties' payment terms weighted by their invoicing (0 without any)."""
    j = invoiced.filter(pl.col("party_type") == party_type).join(terms, on="party_id")
    weight = float(j["gross"].sum())
    weighted = float((j["gross"] * j["payment_terms_days"]).sum())
    return Decimal(repr(weighted / weight)) if weight else Decimal(0)


def _frame(expr: Any) -> pl.DataFrame:
    out = pl.from_arrow(expr.to_pyarrow())
    assert isinstance(out, pl.DataFrame)
    return out
