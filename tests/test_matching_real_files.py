"""Real bank statements (../shared/data/bank: the OCA camt.053 test file, the betterplace MT940 corpus),
read by the existing readers and run through the same engine as the warehouse.

There are no ERP documents for these statements, so the checks are ones that need none, or that use
documents derived from the statements themselves:
- with no documents, every line is unmatched exactly once, with a reason, and the amounts the engine
  reports add up to the statement totals as read;
- "mirror" documents (one per line: same amount, reference and counterparty, dated two days
  earlier) must come back as matches of their own line and of no other — on real references,
  counterparty names, reversals (+204.88 / −204.88) and repeated amounts. A line is only owed its
  mirror when its (amount, reference) is unique in the file: twins are genuinely ambiguous;
- the same holds when the mirrors' references are re-typed (case, spaces, dashes), when the bank
  wraps them in a longer reference, or when the amounts are a bank fee apart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from bank_frames import ITEM_SCHEMA
from opsfin.matching import default_config, reconcile
from opsfin.matching.candidates import reference_key
from opsfin.readers import read_document
from services import shared_file

FILES = ["bank/camt053-oca-test.xml", "bank/mt940-betterplace-sepa.sta"]


@pytest.fixture(scope="module", params=FILES)
def statement(request) -> tuple[pl.DataFrame, pl.DataFrame]:
    doc = read_document(shared_file(request.param))
    return pl.from_arrow(doc.tables["bank_transactions"]), pl.from_arrow(doc.tables["bank_statements"])


def no_documents() -> pl.DataFrame:
    return pl.DataFrame(schema=ITEM_SCHEMA)


def mirrors(lines: pl.DataFrame, reference=None, amount_shift: Decimal = Decimal(0)) -> pl.DataFrame:
    ref = pl.col("reference") if reference is None else reference
    return lines.select(
        doc_type=pl.when(pl.col("amount") > 0).then(pl.lit("ar_receipt")).otherwise(pl.lit("ap_payment")),
        doc_id="M:" + pl.col("bank_txn_id"),
        doc_date=pl.col("booking_date") - dt.timedelta(days=2),
        amount=(pl.col("amount") + amount_shift).cast(pl.Decimal(18, 2)),
        currency="currency",
        counterparty="counterparty",
        reference=ref,
        description="description",
    )


def owed(lines: pl.DataFrame) -> set[str]:
    """Lines with a reference whose (amount, reference) no other line of the file shares."""
    keyed = lines.with_columns(k=reference_key(pl.col("reference"))).filter(pl.col("k").is_not_null())
    unique = keyed.filter(pl.len().over("amount", "k") == 1)
    return set(unique["bank_txn_id"])


def statuses(result) -> dict[str, str]:
    out = {b: "unmatched" for b in result.exceptions["bank_txn_id"]}
    for b, s in result.matches.select("bank_txn_id", "status").unique().iter_rows():
        assert b not in out, f"{b} has two statuses"
        out[b] = s
    return out


def test_without_documents_every_line_is_an_exception_and_totals_are_kept(statement):
    lines, statements = statement
    result = reconcile(lines, no_documents(), default_config().bank, "EUR")
    assert result.matches.is_empty()
    assert lines.height > 0 and sorted(result.exceptions["bank_txn_id"]) == sorted(lines["bank_txn_id"])
    assert all(result.exceptions["reason"].str.starts_with("no open item"))
    per_statement = (
        result.exceptions.join(lines.select("bank_txn_id", "statement_id"), on="bank_txn_id")
        .group_by("statement_id")
        .agg(pl.col("amount").sum().alias("moved"))
    )
    read = lines.group_by("statement_id").agg(pl.col("amount").sum().alias("moved"))
    assert sorted(per_statement.iter_rows()) == sorted(read.iter_rows())
    assert per_statement.height == statements.height


@pytest.mark.parametrize("variant", ["as_read", "retyped_reference", "wrapped_reference", "bank_fee"])
def test_each_line_finds_its_own_mirror_and_no_other(statement, variant):
    lines, _ = statement
    if variant == "as_read":
        docs = mirrors(lines)
    elif variant == "retyped_reference":
        docs = mirrors(lines, reference=pl.col("reference").str.to_lowercase().str.replace_all("-", " "))
    elif variant == "wrapped_reference":  # the bank line carries the document's reference inside a longer one
        lines = lines.with_columns(reference="/ROC/" + pl.col("reference") + "/EREF")
        docs = mirrors(lines, reference=pl.col("reference").str.slice(5).str.head(-5))
    else:
        docs = mirrors(lines, amount_shift=Decimal("1.00"))
    result = reconcile(lines, docs, default_config().bank, "EUR")
    status = statuses(result)
    assert set(status) == set(lines["bank_txn_id"])  # every line exactly one status
    auto = result.matches.filter(pl.col("status") == "auto")
    assert all(d == "M:" + b for b, d in auto.select("bank_txn_id", "doc_id").iter_rows())  # never another's
    must = owed(lines)
    if variant == "wrapped_reference":  # found inside a longer text only from 6 characters on
        must &= set(lines.filter(reference_key(pl.col("reference")).str.len_chars() >= 6 + 7)["bank_txn_id"])
    assert must  # the files do carry usable references
    missed = {b for b in must if status[b] != "auto"}
    assert not missed, missed


def test_a_later_statement_repeating_the_payments_leaves_the_first_matches_alone(statement):
    """The bank repeats every transfer six days later with the bare reference (an exact-reference match
    for the repeat), while the first booking wrapped it in a longer one (found by the fuzzy rule): the
    repeats must not take the documents of the lines that paid them, and are exceptions naming them."""
    lines, _ = statement
    first = lines.with_columns(reference="/ROC/" + pl.col("reference") + "/EREF")
    docs = mirrors(first, reference=pl.col("reference").str.slice(5).str.head(-5))
    before = reconcile(first, docs, default_config().bank, "EUR")
    repeats = lines.with_columns(
        bank_txn_id="R:" + pl.col("bank_txn_id"),
        booking_date=pl.col("booking_date") + dt.timedelta(days=6),
    )
    after = reconcile(pl.concat([first, repeats]), docs, default_config().bank, "EUR")
    auto = before.matches.filter(pl.col("status") == "auto").select("match_id", "bank_txn_id", "doc_id")
    assert not auto.is_empty()
    kept = after.matches.filter(pl.col("status") == "auto").select("match_id", "bank_txn_id", "doc_id")
    assert auto.join(kept, on=["match_id", "bank_txn_id", "doc_id"], how="anti").is_empty()  # all kept as they were
    repeated = after.exceptions.filter(pl.col("bank_txn_id").str.starts_with("R:"))
    owners = dict(auto.select("doc_id", "bank_txn_id").iter_rows())
    for b, reason in repeated.select("bank_txn_id", "reason").iter_rows():
        original = b[2:]
        if "M:" + original in owners:  # the repeat of a line that was auto-matched to its mirror
            assert reason.endswith(f"already matched to bank line {original}"), (b, reason)
    assert set(kept["bank_txn_id"]) == set(auto["bank_txn_id"])  # no repeat matched auto
