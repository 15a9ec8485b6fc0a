"""What the bank reconciliation compares: bank lines and open items, their matching keys, and the
candidate pairs of a rule (hash joins on keys, limited to a date window).

- *Bank lines* come from `bank_transactions`.
- *Open items* are the documents a bank line can settle: AR receipts (money in), AP payments (money out,
  so negative) and GL cash lines (role `cash`) that no receipt or payment stands for. Each carries its
  amount in its own currency and, converted with the latest `fx_rates` row on or before its date
  (rounded half-even to the cent), in the base currency.

The two reads are Ibis expressions over the warehouse `Tables` (DuckDB or Spark, docs/scale.md); the
backend filters and joins, and the exact conversion to the base currency (Decimal × rate, rounded half
to even) happens on the Arrow result. Amounts are compared as exact integer cents (`cents`), never as
floats; the Decimal columns travel alongside for the output. Dates are compared as day numbers."""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ..core.frames import polars_frame
from ..core.money import half_even_arrow
from ..core.periods import in_range
from ..errors import UserError
from ..kpis.engine import Tables

MONEY_T = "decimal(18, 2)"
RATE_T = "decimal(18, 8)"

LINE_COLUMNS = (
    "bank_txn_id",
    "booking_date",
    "amount",
    "currency",
    "counterparty",
    "reference",
    "description",
)
ITEM_COLUMNS = (
    "doc_type",
    "doc_id",
    "doc_date",
    "amount",
    "currency",
    "counterparty",
    "reference",
    "description",
)
DOC_TYPES = ("ar_receipt", "ap_payment", "gl_entry")

# Legal-form words that say nothing about who paid: "ACME GmbH" and "Acme" are one counterparty.
_LEGAL_FORMS = r"\b(GMBH|MBH|AG|KG|OHG|UG|LTD|LIMITED|INC|LLC|LLP|PLC|SA|SAS|SARL|SRL|SPA|BV|NV|CO|CORP|OY|AB|AS)\b"


# ------------------------------------------------------------------ reading the warehouse


def read_bank_lines(t: Tables, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
    """Bank transactions booked in [start, end] (either bound optional), by booking date and id."""
    b = t("bank_transactions")
    b = b.filter(in_range(b.booking_date, start, end))
    expr = b.select(
        "bank_txn_id",
        "bank_account",
        "booking_date",
        "value_date",
        amount=b.amount.cast(MONEY_T),
        currency="currency",
        counterparty="counterparty",
        reference="reference",
        description="description",
    )
    return polars_frame(expr).sort("booking_date", "bank_txn_id", nulls_last=True)


def read_open_items(t: Tables, base_currency: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
    """Open items dated in [start, end] (either bound optional), with `amount_base` in the base currency,
    by date, type and id.

    Amounts are signed as the bank sees them: + money in (receipts), − money out (payments).
    `amount_base` is the amount itself in the base currency, else amount × the latest rate on or before
    the document's date rounded half to even to the cent (exact: Decimal in Arrow), None without a rate."""
    docs = _documents(t)
    docs = docs.filter(in_range(docs.doc_date, start, end))
    rates = _rates_on(t, docs)
    j = docs.left_join(rates, (docs.currency == rates._ccy) & (docs.doc_date == rates._day))
    expr = j.select(*ITEM_COLUMNS[:5], "counterparty", "reference", "description", _rate=j._rate)
    arrow = expr.to_pyarrow()
    converted = half_even_arrow(pc.multiply(arrow["amount"], arrow["_rate"]), 2).cast(pa.decimal128(18, 2))
    own = pc.equal(arrow["currency"], pa.scalar(base_currency))
    amount_base = pc.if_else(pc.fill_null(own, False), arrow["amount"], converted)
    arrow = arrow.drop_columns(["_rate"]).add_column(5, "amount_base", amount_base)
    frame: pl.DataFrame = pl.from_arrow(arrow)  # type: ignore[assignment]
    return frame.sort("doc_date", "doc_type", "doc_id", nulls_last=True)


def _documents(t: Tables) -> ir.Table:
    """AR receipts, AP payments (negated) and the GL cash lines no receipt or payment stands for, as
    `doc_type, doc_id, doc_date, amount, currency, counterparty, reference, description`."""
    r, p = t("ar_receipts"), t("ap_payments")
    no_text = ibis.literal(None, type="string")
    receipts, payments = (_party_documents(t, *spec) for spec in _PARTY_DOCUMENTS)
    g = t("gl_entries")
    cash = t("accounts").filter(lambda a: a.role == "cash").select(_acc="account_id")
    gj = g.join(cash, g.account_id == cash._acc)
    gj = gj.filter(gj.source_doc.isnull() | (~gj.source_doc.isin(r.receipt_id) & ~gj.source_doc.isin(p.payment_id)))
    gl = gj.select(
        doc_type=ibis.literal("gl_entry"),
        doc_id=gj.entry_id,
        doc_date=gj.posting_date,
        amount=gj.amount.cast(MONEY_T),
        currency=gj.currency,
        counterparty=no_text,
        reference=gj.source_doc,
        description=gj.description,
    )
    return ibis.union(receipts, payments, gl, distinct=False)


#: the open items of a business partner: (doc_type, table, id, date, partner table, partner key, money out)
_PARTY_DOCUMENTS = (
    ("ar_receipt", "ar_receipts", "receipt_id", "received_date", "customers", "customer_id", False),
    ("ap_payment", "ap_payments", "payment_id", "paid_date", "suppliers", "supplier_id", True),
)


def _party_documents(
    t: Tables, doc_type: str, table: str, id_col: str, date_col: str, parties: str, party_key: str, out: bool
) -> ir.Table:
    """The documents of `table` as open items, with the partner's name as counterparty; money out negated."""
    d = t(table)
    names = t(parties).select(_pid=party_key, _name="name")
    j = d.left_join(names, d[party_key] == names._pid)
    return j.select(
        doc_type=ibis.literal(doc_type),
        doc_id=j[id_col],
        doc_date=j[date_col],
        amount=(-j.amount if out else j.amount).cast(MONEY_T),
        currency=j.currency,
        counterparty=j._name,
        reference=j.reference,
        description=ibis.literal(None, type="string"),
    )


def _rates_on(t: Tables, docs: ir.Table) -> ir.Table:
    """`_ccy, _day, _rate`: per currency and date of `docs`, the rate of the latest fx_rates row dated on
    or before it (the greatest rate of that date, should the warehouse hold two)."""
    fx = t("fx_rates")
    fx = fx.group_by(_ccy="currency", _rd="rate_date").aggregate(_rate=fx.rate_to_base.max().cast(RATE_T))
    keys = docs.select(_kc=docs.currency, _kd=docs.doc_date).distinct()
    cand = keys.join(fx, (keys._kc == fx._ccy) & (fx._rd <= keys._kd))
    latest = cand.group_by(["_kc", "_kd"]).aggregate(_last=cand._rd.max())
    j = latest.join(fx, (latest._kc == fx._ccy) & (latest._last == fx._rd))
    return j.select(_ccy=j._kc, _day=j._kd, _rate=j._rate)


# ------------------------------------------------------------------ keys


def reference_key(expr: pl.Expr) -> pl.Expr:
    """Upper case, letters and digits only: 'inv-001 ' and 'INV001' are one reference. Empty -> null."""
    key = expr.str.to_uppercase().str.replace_all(r"[^\p{L}\p{N}]", "")
    return pl.when(key.str.len_chars() > 0).then(key).otherwise(None)


def digits_key(expr: pl.Expr) -> pl.Expr:
    """The digits of a reference without leading zeros ('ARI-0000259' -> '259'); null under 3 digits."""
    key = expr.str.replace_all(r"\D", "").str.strip_chars_start("0")
    return pl.when(key.str.len_chars() >= 3).then(key).otherwise(None)


def party_key(expr: pl.Expr) -> pl.Expr:
    """A counterparty name without case, punctuation or legal form ('Acme GmbH' -> 'ACME'). Empty -> null."""
    words = expr.str.to_uppercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.replace_all(_LEGAL_FORMS, "")
    key = words.str.replace_all(r"\s+", "")
    return pl.when(key.str.len_chars() > 0).then(key).otherwise(None)


def _days(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Date).cast(pl.Int32)


def _cents(expr: pl.Expr) -> pl.Expr:
    return (expr.cast(pl.Decimal(38, 2)) * 100).cast(pl.Int64)


def _require(df: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UserError(f"{what}: missing column(s) {', '.join(missing)}")


def prepare_lines(bank: pl.DataFrame) -> pl.DataFrame:
    """Bank lines with an integer `line` index, `day`, `cents` and the matching keys."""
    _require(bank, LINE_COLUMNS, "bank lines")
    return bank.with_row_index("line").with_columns(
        pl.col("line").cast(pl.Int64),
        day=_days(pl.col("booking_date")),
        cur=pl.col("currency"),
        cents=_cents(pl.col("amount")),
        ref_key=reference_key(pl.col("reference")),
        cp_key=party_key(pl.col("counterparty")),
    )


def line_texts(lines: pl.DataFrame) -> pl.DataFrame:
    """`line, ref_digits, ref_text, party_text` for the fuzzy comparison (computed only for the lines
    that reach it): the reference's digits, reference and description run together (letters and digits
    only), and the counterparty (else the description) in upper case."""
    party = pl.coalesce(pl.col("counterparty"), pl.col("description"))
    return lines.select(
        "line",
        ref_digits=digits_key(pl.col("reference")),
        ref_text=reference_key(
            pl.concat_str(
                [pl.col("reference").fill_null(""), pl.col("description").fill_null("")],
                separator=" ",
            )
        ),
        party_text=party.str.to_uppercase(),
    )


def item_texts(docs: pl.DataFrame) -> pl.DataFrame:
    """`item, doc_digits, doc_party` of the given documents, like `line_texts`."""
    return docs.select(
        "item",
        doc_digits=digits_key(pl.col("reference")),
        doc_party=pl.coalesce(pl.col("counterparty"), pl.col("description")).str.to_uppercase(),
    )


def prepare_items(items: pl.DataFrame, base_currency: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(documents, comparable rows).

    `documents` has one row per document with an integer `item` index. `comparable` has one row per
    document and currency it can be compared in: its own currency, and the base currency when it
    converts (a USD receipt meets a EUR bank line at its EUR value, and a USD bank line at its USD
    value). Both carry the matching keys; `comparable` has `cur` and `cents` for the joins."""
    _require(items, ITEM_COLUMNS, "open items")
    if "amount_base" not in items.columns:
        items = items.with_columns(
            amount_base=pl.when(pl.col("currency") == base_currency).then(pl.col("amount")).otherwise(None)
        )
    docs = items.with_row_index("item").with_columns(
        pl.col("item").cast(pl.Int64),
        day=_days(pl.col("doc_date")),
        ref_key=reference_key(pl.col("reference")),
        cp_key=party_key(pl.col("counterparty")),
    )
    keys = ["item", "day", "ref_key", "cp_key"]
    own = docs.select(*keys, cur=pl.col("currency"), cents=_cents(pl.col("amount")))
    base = docs.filter((pl.col("currency") != base_currency) & pl.col("amount_base").is_not_null()).select(
        *keys, cur=pl.lit(base_currency), cents=_cents(pl.col("amount_base"))
    )
    return docs, pl.concat([own, base])


# ------------------------------------------------------------------ candidate pairs


def window_pairs(
    lines: pl.DataFrame,
    comparable: pl.DataFrame,
    on: list[str],
    days_before: int,
    days_after: int,
    line_cols: tuple[str, ...] = (),
    item_cols: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Pairs (line, item, days) that agree on the columns `on` (as `cur`/`cents`/keys of both sides)
    with booking day − document day within [-days_before, +days_after]. Null keys never join.

    A hash join on `on` plus a day bucket of the window's width, so a line meets only the items of
    at most two buckets instead of every item sharing its key."""
    width = days_before + days_after + 1
    left = (
        lines.select("line", "day", *on, *line_cols)
        .drop_nulls(on)
        .with_columns(
            _b=pl.concat_list(
                [(pl.col("day") - days_after) // width, (pl.col("day") + days_before) // width]
            ).list.unique()
        )
        .explode("_b")
    )
    right = (
        comparable.select("item", pl.col("day").alias("_item_day"), *on, *item_cols)
        .drop_nulls(on)
        .with_columns(_b=pl.col("_item_day") // width)
    )
    pairs = left.join(right, on=[*on, "_b"], how="inner", suffix="_item")
    pairs = pairs.with_columns(days=pl.col("day") - pl.col("_item_day")).filter(
        (pl.col("days") >= -days_before) & (pl.col("days") <= days_after)
    )
    return pairs.drop("_b", "_item_day")
