"""Stable match ids, so that a decision taken on one run applies to every later run.

A bank match id is `B` + the first 16 hex digits of the MD5 of its sorted pairs
`bank_txn_id|doc_type|doc_id` joined by newlines; an invoice-line id is `I` + the same of
`invoice_id|line`. The same pairs always give the same id, whatever rule found them."""

from __future__ import annotations

import hashlib

import polars as pl


def bank_match_id(pairs: list[tuple[str, str, str]]) -> str:
    keys = sorted(f"{b}|{t}|{d}" for b, t, d in pairs)
    return "B" + hashlib.md5("\n".join(keys).encode("utf-8")).hexdigest()[:16]


def invoice_match_id(invoice_id: str, line: int) -> str:
    return "I" + hashlib.md5(f"{invoice_id}|{line}".encode()).hexdigest()[:16]


def bank_match_ids(pairs: pl.DataFrame) -> pl.DataFrame:
    """`proposal, match_id` for pairs `proposal, bank_txn_id, doc_type, doc_id`, by proposal (identical to
    `bank_match_id`: the sorted keys of a proposal joined by newlines, hashed once per proposal)."""
    if pairs.is_empty():
        return pl.DataFrame(schema={"proposal": pl.Int64, "match_id": pl.String})
    keyed = pairs.select(
        "proposal",
        k=pl.concat_str("bank_txn_id", "doc_type", "doc_id", separator="|"),
        n=pl.len().over("proposal"),
    )
    # one pair (nearly all): hash the key as it is; several: hash the sorted keys joined by newlines
    single = keyed.filter(pl.col("n") == 1).select("proposal", "k")
    multi = (  # a group keeps the order of its rows
        keyed.filter(pl.col("n") > 1)
        .sort("proposal", "k")
        .group_by("proposal", maintain_order=True)
        .agg(pl.col("k").str.join("\n"))
    )
    joined = pl.concat([single, multi]).sort("proposal")
    ids = ["B" + hashlib.md5(k.encode("utf-8")).hexdigest()[:16] for k in joined["k"].to_list()]
    return pl.DataFrame({"proposal": joined["proposal"].cast(pl.Int64), "match_id": pl.Series(ids, dtype=pl.String)})


def invoice_match_ids(lines: pl.DataFrame) -> pl.Series:
    """Ids for rows `invoice_id, line`, identical to `invoice_match_id`."""
    return pl.Series(
        "match_id",
        [
            invoice_match_id(i, int(n))
            for i, n in zip(lines["invoice_id"].to_list(), lines["line"].to_list(), strict=True)
        ],
        dtype=pl.String,
    )
