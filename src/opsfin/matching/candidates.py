"""What the bank reconciliation compares: bank lines and open items, their matching keys, and the
candidate pairs of a rule (hash joins on keys, limited to a date window).

- *Bank lines* come from `bank_transactions`.
- *Open items* are the documents a bank line can settle: AR receipts (money in), AP payments (money out,
  so negative) and GL cash lines (role `cash`) that no receipt or payment stands for. Each carries its
  amount in its own currency and, converted with the latest `fx_rates` row on or before its date
  (rounded half-even to the cent), in the base currency.

Amounts are compared as exact integer cents (`cents`), never as floats; the Decimal columns travel
alongside for the output. Dates are compared as day numbers."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from ..errors import UserError

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


def read_bank_lines(con: duckdb.DuckDBPyConnection, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
    """Bank transactions booked in [start, end] (either bound optional)."""
    where, params = _between("booking_date", start, end)
    sql = (
        f"SELECT bank_txn_id, bank_account, booking_date, value_date, amount, currency, counterparty, reference, "
        f"description FROM bank_transactions {where} ORDER BY booking_date, bank_txn_id"
    )
    return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())  # type: ignore[return-value]


def read_open_items(
    con: duckdb.DuckDBPyConnection, base_currency: str, start: dt.date | None, end: dt.date | None
) -> pl.DataFrame:
    """Open items dated in [start, end] (either bound optional), with `amount_base` in the base currency.

    Amounts are signed as the bank sees them: + money in (receipts), − money out (payments)."""
    where, params = _between("doc_date", start, end)
    # n = amount in cents x rate in 1e-8; base cents = n / 1e8 rounded half-even (HUGEINT: no overflow)
    sql = f"""
    WITH docs AS (
        SELECT 'ar_receipt' AS doc_type, r.receipt_id AS doc_id, r.received_date AS doc_date, r.amount,
               r.currency, c.name AS counterparty, r.reference, CAST(NULL AS VARCHAR) AS description
        FROM ar_receipts r LEFT JOIN customers c USING (customer_id)
        UNION ALL
        SELECT 'ap_payment', p.payment_id, p.paid_date, -p.amount, p.currency, s.name, p.reference, NULL
        FROM ap_payments p LEFT JOIN suppliers s USING (supplier_id)
        UNION ALL
        SELECT 'gl_entry', g.entry_id, g.posting_date, g.amount, g.currency, NULL, g.source_doc, g.description
        FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id AND a.role = 'cash'
        WHERE g.source_doc IS NULL OR (g.source_doc NOT IN (SELECT receipt_id FROM ar_receipts)
                                       AND g.source_doc NOT IN (SELECT payment_id FROM ap_payments))
    ), dated AS (SELECT * FROM docs {where}
    ), converted AS (
        SELECT d.*, abs(CAST(d.amount * 100 AS HUGEINT) * CAST(f.rate_to_base * 100000000 AS HUGEINT)) AS n,
               sign(d.amount) AS s
        FROM dated d ASOF LEFT JOIN fx_rates f ON f.currency = d.currency AND d.doc_date >= f.rate_date
    ), rounded AS (
        SELECT *, n // 100000000 AS q, n % 100000000 AS r FROM converted
    )
    SELECT doc_type, doc_id, doc_date, amount, currency,
           CASE WHEN currency = $base THEN amount
                WHEN n IS NULL THEN NULL
                ELSE CAST(CAST(s * (q + CASE WHEN 2 * r > 100000000 OR (2 * r = 100000000 AND q % 2 = 1)
                                             THEN 1 ELSE 0 END) AS DECIMAL(20,0)) * 0.01 AS DECIMAL(18,2))
           END AS amount_base,
           counterparty, reference, description
    FROM rounded
    ORDER BY doc_date, doc_type, doc_id
    """
    return pl.from_arrow(con.sql(sql, params={"base": base_currency, **params}).to_arrow_table())  # type: ignore[return-value]


def _between(column: str, start: dt.date | None, end: dt.date | None) -> tuple[str, dict]:
    conds, params = [], {}
    if start is not None:
        conds.append(f"{column} >= $start")
        params["start"] = start
    if end is not None:
        conds.append(f"{column} <= $end")
        params["end"] = end
    return ("WHERE " + " AND ".join(conds)) if conds else "", params


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
