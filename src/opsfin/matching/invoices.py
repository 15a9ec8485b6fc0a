"""Three-way match: every supplier invoice line against its PO line and the goods received.

    three_way_match(tables, config, as_of) -> InvoiceMatch

Per line, the issues found (all of them, in `issues`) and the status, the first issue in the order
`duplicate`, `no_po`, `no_receipt`, `qty_over_received`, `price_over_tolerance` (else `matched`):

- `duplicate`: the invoice is the later copy of another (`duplicates.py`).
- `no_po`: the line names no PO line, or one that does not exist.
- `no_receipt`: nothing was received on its PO line up to `as_of`.
- `qty_over_received`: the line bills more than the receipts left for it, beyond the tolerance
  (`qty_tolerance` units or `qty_tolerance_percent` of the line, the larger). Receipts up to `as_of`
  are shared among the PO line's invoice lines (duplicates excluded) in invoice order: a receipt of
  exactly a line's quantity goes to that line first, the rest first come, first served. Credit-note
  lines give their quantity back.
- `price_over_tolerance`: the unit price exceeds the PO price by more than `price_tolerance_percent`
  (billed lines only: a credit note at a higher price than the PO's is in the buyer's favour).

Credit-note lines (kind `credit_note`, negative quantity) are never `duplicate`, `no_receipt`,
`qty_over_received` or `price_over_tolerance`; one without a PO line is `no_po` (it still needs tying
to what it credits), with no money at stake.

Money at stake (in the invoice currency, rounded half-even to the cent, never negative): the line
amount for `duplicate`, `no_po` and `no_receipt`; else the quantity billed beyond the receipts at the invoice
price, plus the price excess on the received quantity when the price is over tolerance; 0 when matched.
Decimal throughout; quantities are DOUBLE in the model and compared as such."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import ibis.expr.types as ir
import polars as pl

from ..core.frames import polars_frame
from ..core.money import round_cents
from ..kpis.engine import Tables
from .config import InvoiceConfig
from .duplicates import find_duplicates
from .ids import invoice_match_ids

STATUS_ORDER = ("duplicate", "no_po", "no_receipt", "qty_over_received", "price_over_tolerance")
STATUSES = ("matched", *STATUS_ORDER)
CENT = Decimal("0.01")

#: an invoice line of the match: which line and its verdict (`LINE_HEAD`), then what the verdict rests on
#: (`LINE_DETAILS`); present/matching_rows.py nests the details in the JSON rows
LINE_HEAD = ("match_id", "invoice_id", "line", "status", "issues")
LINE_DETAILS = (
    "supplier_id",
    "supplier_ref",
    "invoice_date",
    "currency",
    "po_id",
    "po_line",
    "qty",
    "received_qty",
    "po_qty",
    "unit_price",
    "po_unit_price",
    "amount",
    "money_at_stake",
    "duplicate_of",
    "decision",
)
LINE_COLUMNS = (*LINE_HEAD, *LINE_DETAILS)


@dataclass
class InvoiceTables:
    """The warehouse tables the three-way match reads (Polars, canonical columns)."""

    invoices: pl.DataFrame  # ap_invoices
    lines: pl.DataFrame  # ap_invoice_lines
    po_lines: pl.DataFrame  # purchase_orders
    receipts: pl.DataFrame  # goods_receipts


@dataclass
class InvoiceMatch:
    """`lines`: one row per invoice line: `match_id, invoice_id, line, status, issues (list), supplier_id,
    supplier_ref, invoice_date, currency, po_id, po_line, qty, received_qty, po_qty, unit_price,
    po_unit_price, amount, money_at_stake, duplicate_of`. `summary`: counts and money at stake."""

    lines: pl.DataFrame
    summary: dict


def read_invoice_tables(t: Tables, as_of: dt.date | None) -> InvoiceTables:
    """The tables of the three-way match (Ibis reads of the warehouse `Tables`); goods receipts only up to
    `as_of` (all when None)."""

    def q(table: ir.Table, *columns: str) -> pl.DataFrame:
        return polars_frame(table.select(*columns))

    receipts = t("goods_receipts")
    if as_of:
        receipts = receipts.filter(receipts.received_date <= as_of)
    return InvoiceTables(
        q(t("ap_invoices"), "invoice_id", "supplier_id", "supplier_ref", "kind", "invoice_date", "currency", "total"),
        q(t("ap_invoice_lines"), "invoice_id", "line", "po_id", "po_line", "product_id", "qty", "unit_price", "amount"),
        q(t("purchase_orders"), "po_id", "line", "supplier_id", "qty", "unit_price", "currency"),
        q(receipts, "receipt_id", "po_id", "line", "qty", "received_date"),
    )


def _allocate(lines: list[dict], receipts: list[float]) -> dict[tuple[str, int], float]:
    """Received quantity per invoice line of one PO line (see the module docstring)."""
    got: dict[tuple[str, int], float] = defaultdict(float)
    pool = list(receipts)
    bills = [ln for ln in lines if ln["qty"] > 0]
    returned = sum(-ln["qty"] for ln in lines if ln["qty"] < 0)  # credit notes give quantity back
    waiting = []
    for ln in bills:
        if ln["qty"] in pool:
            pool.remove(ln["qty"])
            got[(ln["invoice_id"], ln["line"])] = ln["qty"]
        else:
            waiting.append(ln)
    left = sum(pool) + returned
    for ln in waiting:
        take = min(ln["qty"], left)
        got[(ln["invoice_id"], ln["line"])] = take
        left -= take
    return got


def _received_per_line(lines: pl.DataFrame, receipts: pl.DataFrame) -> pl.DataFrame:
    """`invoice_id, line, received_qty, po_received` for lines with a PO line (duplicates get none)."""
    received = receipts.group_by("po_id", "line").agg(
        pl.col("qty").sort_by("received_date").alias("_rq"),
        pl.col("qty").sum().alias("po_received"),
    )
    eligible = lines.filter(pl.col("has_po") & ~pl.col("is_duplicate")).sort("invoice_date", "invoice_id", "line")
    groups = eligible.group_by("po_id", "po_line", maintain_order=True).agg(
        pl.struct("invoice_id", "line", "qty").alias("_bills")
    )
    groups = groups.join(received, left_on=["po_id", "po_line"], right_on=["po_id", "line"], how="left")
    rows: list[tuple[str, int, float]] = []
    for bills, rq in zip(groups["_bills"].to_list(), groups["_rq"].to_list(), strict=True):
        got = _allocate(bills, rq or [])
        rows.extend((k[0], k[1], v) for k, v in got.items())
    per_line = pl.DataFrame(
        rows,
        orient="row",
        schema={"invoice_id": pl.String, "line": lines.schema["line"], "received_qty": pl.Float64},
    )
    po_received = (
        lines.select("invoice_id", "line", "po_id", "po_line")
        .join(
            received.select("po_id", "line", "po_received"),
            left_on=["po_id", "po_line"],
            right_on=["po_id", "line"],
            how="left",
        )
        .select("invoice_id", "line", pl.col("po_received").fill_null(0.0))
    )
    return po_received.join(per_line, on=["invoice_id", "line"], how="left")


def _money_at_stake(
    status: str,
    qty: float,
    received: float | None,
    price: Decimal,
    po_price: Decimal | None,
    amount: Decimal,
    price_over: bool,
) -> Decimal:
    """What the line could cost if paid as it is; never negative (a credit note returns money)."""
    if status in ("duplicate", "no_po", "no_receipt"):
        return max(amount, Decimal("0.00"))
    if status == "matched" or qty <= 0:
        return Decimal("0.00")
    accepted = min(qty, received or 0.0)
    over = Decimal(repr(qty - accepted)) * price
    if price_over and po_price is not None:
        over += Decimal(repr(accepted)) * (price - po_price)
    return round_cents(over)


# long: the statuses in their documented priority order; to split next
def three_way_match(
    tables: InvoiceTables, config: InvoiceConfig, decisions: dict[str, dict] | None = None
) -> InvoiceMatch:
    """Status, issues and money at stake for every supplier invoice line (see the module docstring).
    `decisions`: match_id -> {decision, actor, at} from earlier confirm/reject (shown, never recomputed)."""
    dups = find_duplicates(tables.invoices, config.duplicates)
    po = tables.po_lines.select("po_id", pl.col("line").alias("po_line"), po_qty="qty", po_unit_price="unit_price")
    lines = (
        tables.lines.join(
            tables.invoices.select("invoice_id", "supplier_id", "supplier_ref", "kind", "invoice_date", "currency"),
            on="invoice_id",
            how="left",
        )
        .join(dups.select("invoice_id", "duplicate_of"), on="invoice_id", how="left")
        .join(po.with_columns(_po=pl.lit(True)), on=["po_id", "po_line"], how="left")
        .with_columns(has_po=pl.col("_po").fill_null(False), is_duplicate=pl.col("duplicate_of").is_not_null())
        .drop("_po")
    )
    lines = lines.join(_received_per_line(lines, tables.receipts), on=["invoice_id", "line"], how="left")
    bp = int(round(config.price_tolerance_percent * 100))
    qty_tol = pl.max_horizontal(pl.lit(config.qty_tolerance), pl.col("qty") * config.qty_tolerance_percent / 100)
    billing = pl.col("kind") != "credit_note"
    price_1e4 = (pl.col("unit_price").cast(pl.Decimal(38, 4)) * 10_000).cast(pl.Int64)
    po_1e4 = (pl.col("po_unit_price").cast(pl.Decimal(38, 4)) * 10_000).cast(pl.Int64)
    flags = {
        "duplicate": pl.col("is_duplicate"),
        "no_po": ~pl.col("has_po"),
        "no_receipt": pl.col("has_po") & billing & (pl.col("qty") > 0) & (pl.col("po_received") <= 0),
        "qty_over_received": pl.col("has_po")
        & billing
        & ~pl.col("is_duplicate")
        & (pl.col("po_received") > 0)
        & (pl.col("qty") - pl.col("received_qty").fill_null(0.0) > qty_tol),
        "price_over_tolerance": pl.col("has_po")
        & billing
        & (pl.col("qty") > 0)
        & (price_1e4 * 10_000 > po_1e4 * (10_000 + bp)),
    }
    lines = lines.with_columns(**{f"_{k}": v.fill_null(False) for k, v in flags.items()})
    lines = lines.with_columns(
        issues=pl.concat_list(
            [pl.when(pl.col(f"_{k}")).then(pl.lit(k)).otherwise(None) for k in STATUS_ORDER]
        ).list.drop_nulls(),
    ).with_columns(status=pl.col("issues").list.first().fill_null("matched"))
    stake = [
        _money_at_stake(s, q, r, p, pp, a, po_)
        for s, q, r, p, pp, a, po_ in lines.select(
            "status",
            "qty",
            "received_qty",
            "unit_price",
            "po_unit_price",
            "amount",
            "_price_over_tolerance",
        ).iter_rows()
    ]
    lines = lines.with_columns(money_at_stake=pl.Series(stake, dtype=pl.Decimal(18, 2)))
    lines = lines.with_columns(match_id=invoice_match_ids(lines))
    decided = decisions or {}
    lines = lines.with_columns(
        decision=pl.Series([decided.get(m, {}).get("decision") for m in lines["match_id"]], dtype=pl.String)
    )
    out = lines.select(*LINE_COLUMNS).sort("invoice_date", "invoice_id", "line")
    return InvoiceMatch(out, invoice_summary(out))


def invoice_summary(lines: pl.DataFrame) -> dict:
    counts = dict(lines.group_by("status").len().iter_rows())
    flagged = lines.filter(pl.col("status") != "matched")
    stake = flagged.group_by("currency").agg(pl.col("money_at_stake").sum()).sort("currency")
    return {
        "lines": lines.height,
        **{s: int(counts.get(s, 0)) for s in STATUSES},
        "money_at_stake": {c: v for c, v in stake.iter_rows()},
    }


def exception_queue(result: InvoiceMatch) -> pl.DataFrame:
    """Invoice lines not matched and not confirmed, the most money at stake first."""
    return (
        result.lines.filter((pl.col("status") != "matched") | (pl.col("decision") == "rejected"))
        .filter(pl.col("decision").fill_null("") != "confirmed")
        .sort("money_at_stake", "invoice_id", "line", descending=[True, False, False])
    )
