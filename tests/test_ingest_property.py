"""Property: for any mix of good and bad rows, every row is accepted or quarantined (never lost,
never both), nothing crashes, and the accepted rows are exactly the good ones."""

from __future__ import annotations

import csv
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import opsfin
from opsfin import ingest
from opsfin.canonical import TABLES, table
from opsfin.ingest.mapping import Mapping
from opsfin.ingest.validate import Invalid, value_checker

COLUMNS = [
    "customer_id",
    "name",
    "segment",
    "country",
    "currency",
    "payment_terms_days",
    "credit_limit",
]

# Each cell is (text, is_good). Bad texts break exactly the rule named beside them.
IDS = st.sampled_from(["C1", "C2", "C3", "C4", "C5", "C6"])  # few ids, so duplicates happen
GOOD_NAME = st.text(st.characters(codec="utf-8", categories=("L", "N", "Zs")), min_size=1, max_size=12).filter(
    lambda s: s.strip() != ""
)
CELLS = {
    "customer_id": st.one_of(IDS.map(lambda v: (v, True)), st.just(("", False))),  # null
    "name": st.one_of(GOOD_NAME.map(lambda v: (v, True)), st.just(("  ", False))),  # blank
    "segment": st.sampled_from([("retail", True), ("wholesale", True)]),
    "country": st.sampled_from([("DE", True), ("FR", True)]),
    "currency": st.sampled_from([("EUR", True), ("USD", True), ("eur", False), ("EURO", False), ("", False)]),
    "payment_terms_days": st.one_of(
        st.integers(0, 365).map(lambda v: (str(v), True)),
        st.sampled_from([("-1", False), ("abc", False), ("1.5", False)]),
    ),
    "credit_limit": st.one_of(
        st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False).map(lambda v: (str(v), True)),
        st.sampled_from([("12.345", False), ("x", False), ("-0.01", False), ("1e40", False), ("NaN", False)]),
    ),
}
ROW = st.fixed_dictionaries(CELLS)


def expected_accepted(rows: list[dict]) -> list[dict]:
    """Good rows, of which the first with a given customer_id wins."""
    seen: set[str] = set()
    accepted = []
    for row in rows:
        if all(ok for _, ok in row.values()) and row["customer_id"][0] not in seen:
            seen.add(row["customer_id"][0])
            accepted.append(row)
    return accepted


@pytest.fixture(scope="module")
def empty_workspace(tmp_path_factory) -> Path:
    """A fresh empty workspace, made once: each example loads into its own copy (the same files as a new
    `opsfin.init`, whose paths are relative to the folder, at a fraction of the cost)."""
    return opsfin.init(tmp_path_factory.mktemp("empty") / "ws").path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, max_size=25))
def test_every_row_accepted_or_quarantined(empty_workspace, rows):
    with tempfile.TemporaryDirectory() as tmp:
        ws = opsfin.open(shutil.copytree(empty_workspace, Path(tmp) / "ws"))
        path = Path(tmp) / "customers.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for row in rows:
                writer.writerow([row[c][0] for c in COLUMNS])
        result = ingest.ingest_file(ws, path, table="customers")

        assert result.rows_read == len(rows)
        assert result.rows_accepted + result.rows_quarantined == result.rows_read
        with duckdb.connect(str(ws.warehouse_path), read_only=True) as con:
            got = con.execute(
                "SELECT customer_id, name, currency, payment_terms_days, credit_limit "
                "FROM customers ORDER BY customer_id"
            ).fetchall()
            quarantined = con.execute("SELECT count(*), count(DISTINCT source_row) FROM quarantine").fetchall()[0]
        want = sorted(
            (
                r["customer_id"][0],
                r["name"][0].strip(),
                r["currency"][0],
                int(r["payment_terms_days"][0]),
                Decimal(r["credit_limit"][0]).quantize(Decimal("0.01")),
            )
            for r in expected_accepted(rows)
        )
        assert got == want
        assert quarantined == (result.rows_quarantined, result.rows_quarantined)


COLUMNS_OF_EVERY_TYPE = sorted((t.name, c.name) for t in TABLES for c in t.columns)
RAW = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.decimals(allow_nan=True),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.sampled_from(["1.234,56", "1e999999", "-0", "0x1F", "١٢", "2024-02-30", "24:00", "yes"]),
)


@settings(max_examples=300, deadline=None)
@given(column=st.sampled_from(COLUMNS_OF_EVERY_TYPE), raw=RAW, decimal_comma=st.booleans())
def test_value_checker_accepts_or_explains(column, raw, decimal_comma):
    """Any raw value of any column is converted or refused with a reason; nothing else escapes."""
    decl = table(column[0]).column(column[1])
    mapping = Mapping(decimal_separator=",", thousands_separator=".") if decimal_comma else Mapping()
    try:
        value = value_checker(decl, mapping)(raw)
    except Invalid as exc:
        assert str(exc).startswith(f"column '{decl.name}': ")
        return
    if value is None:
        assert decl.nullable
    elif decl.decimal_scale is not None:
        assert isinstance(value, Decimal) and value.as_tuple().exponent == -decl.decimal_scale
