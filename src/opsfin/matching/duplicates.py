"""Duplicate supplier invoices: the same bill entered twice, often under a reworked reference.

Two invoices (not credit notes) are a duplicate pair when they have the same total in the same
currency, invoice dates at most `window_days` apart, and
- the same supplier and supplier references at least `min_reference_similarity` alike, or
- with `across_suppliers`, different suppliers but one invoice number (likeness at least 0.95: one
  bill booked against the wrong supplier record).

Reference likeness compares the references in upper case, letters and digits only: equal is 1
('001-24-00012', '00124-00012', ' 001-24-00012', '001-24-00012'.lower()); one extended by at most
3 characters is 0.95 ('001-24-00012/1'); the same number of at least 3 digits once leading zeros
are dropped, with the same letters or letters on one side only, is 0.95 ('0004711' = '4711',
'INV-004711' = 'inv 4711', 'INV 4711' = '4711', but not 'RE 4711' = 'GS 4711'); otherwise the
rapidfuzz ratio, but only when both carry the same digits (or none) — '001-24-00012' and
'001-24-00013' are two invoice numbers, as the invoices of a split delivery are, not one number
typed twice.

Of a pair, the later copy (later `invoice_date`, then the higher `invoice_id`) is the duplicate."""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz

from .candidates import reference_key
from .config import Duplicates

ACROSS_SUPPLIERS_LIKENESS = 0.95  # one invoice number under two supplier records (equal, padded or extended)


def reference_likeness(a: str, b: str) -> float:
    """How alike two normalised supplier references are, as one invoice number (see the module docstring)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    short, long_ = sorted((a, b), key=len)
    if long_.startswith(short) and len(long_) - len(short) <= 3:
        return 0.95
    digits_a, digits_b = "".join(filter(str.isdigit, a)), "".join(filter(str.isdigit, b))
    letters_a, letters_b = "".join(filter(str.isalpha, a)), "".join(filter(str.isalpha, b))
    core = digits_a.lstrip("0")
    if len(core) >= 3 and core == digits_b.lstrip("0") and (letters_a == letters_b or not letters_a or not letters_b):
        return 0.95
    if digits_a != digits_b:
        return 0.0
    return fuzz.ratio(a, b) / 100.0


def find_duplicates(invoices: pl.DataFrame, p: Duplicates) -> pl.DataFrame:
    """`invoice_id, duplicate_of, similarity` for each later copy (its earliest original).

    `invoices`: `invoice_id, supplier_id, supplier_ref, kind, invoice_date, currency, total`."""
    schema = {"invoice_id": pl.String, "duplicate_of": pl.String, "similarity": pl.Float64}
    bills = invoices.filter(pl.col("kind") != "credit_note").select(
        "invoice_id",
        "supplier_id",
        "invoice_date",
        "currency",
        "total",
        ref=reference_key(pl.col("supplier_ref")).fill_null(""),
        _day=pl.col("invoice_date").cast(pl.Date).cast(pl.Int32),
    )
    if bills.height < 2:
        return pl.DataFrame(schema=schema)
    pairs = bills.join(bills, on=["currency", "total"], suffix="_later").filter(
        (
            (pl.col("_day_later") > pl.col("_day"))
            | ((pl.col("_day_later") == pl.col("_day")) & (pl.col("invoice_id_later") > pl.col("invoice_id")))
        )
        & (pl.col("_day_later") - pl.col("_day") <= p.window_days)
    )
    if pairs.is_empty():
        return pl.DataFrame(schema=schema)
    sim = [reference_likeness(a, b) for a, b in zip(pairs["ref"].to_list(), pairs["ref_later"].to_list(), strict=True)]
    pairs = pairs.with_columns(similarity=pl.Series(sim, dtype=pl.Float64))
    same_supplier = pl.col("supplier_id") == pl.col("supplier_id_later")
    one_number = pl.col("similarity") >= ACROSS_SUPPLIERS_LIKENESS
    keep = (same_supplier & (pl.col("similarity") >= p.min_reference_similarity)) | (
        pl.lit(p.across_suppliers) & ~same_supplier & one_number
    )
    found = pairs.filter(keep).sort("invoice_id_later", "_day", "invoice_id")
    return (
        found.group_by("invoice_id_later", maintain_order=True)
        .agg(pl.col("invoice_id").first().alias("duplicate_of"), pl.col("similarity").first())
        .rename({"invoice_id_later": "invoice_id"})
        .select(list(schema))
    )
