"""The warehouse reads of the bank reconciliation (matching/candidates.py) on the warehouse Tables, and the
vectorised match ids (matching/ids.py), against values worked by hand.

Open items of the fixture (base currency EUR; USD rates 0.90000000 from 2024-01-01, 0.92500000 from
2024-02-01):
  R1   receipt  USD 101.00 on 2024-02-05: 101.00 × 0.925 =  93.425 → 93.42 (half to even; half up: 93.43)
  P1   payment  USD 103.00 on 2024-02-06, signed −103.00: × 0.925 = −95.275 → −95.28 (7 is odd: up)
  R2   receipt  USD  10.00 on 2023-12-31: no rate on or before → amount_base None
  R3   receipt  EUR  50.00 on 2024-01-10: in the base currency, itself (no rate needed)
  E2   GL cash line of INT-1, EUR 12.34 on 2024-01-20: no receipt or payment stands for it, an open item
  E1   GL cash line of R1 (source_doc R1): the receipt stands for it, so it is left out
  E3   GL line on a non-cash account: not an open item
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import polars as pl
import pytest

import opsfin
from opsfin.matching.candidates import read_bank_lines, read_open_items
from opsfin.matching.ids import bank_match_id, bank_match_ids
from opsfin.runs.tables import reading_tables

FIXTURE = """
INSERT INTO customers VALUES ('C1', 'Alpha', 'retail', 'DE', 'EUR', 30, 10000, 'L0');
INSERT INTO suppliers (supplier_id, name, country, currency, payment_terms_days, lead_time_days, _load_id) VALUES ('SUP1', 'Steelco', 'DE', 'EUR', 30, 10, 'L0');
INSERT INTO accounts VALUES ('1000', 'Bank', 'asset', 'cash', 'L0'), ('6000', 'Office', 'expense', 'opex', 'L0');
INSERT INTO fx_rates VALUES ('2024-01-01', 'USD', 0.90000000, 'L0'), ('2024-02-01', 'USD', 0.92500000, 'L0');
INSERT INTO ar_receipts VALUES ('R1', 'C1', '2024-02-05', 101.00, 'USD', 'INV-1', 'L0'),
                               ('R2', 'C1', '2023-12-31', 10.00, 'USD', 'INV-2', 'L0'),
                               ('R3', 'C1', '2024-01-10', 50.00, 'EUR', 'INV-3', 'L0');
INSERT INTO ap_payments VALUES ('P1', 'SUP1', '2024-02-06', 103.00, 'USD', 'S-1', 'L0');
INSERT INTO gl_entries VALUES
  ('E1', 'J1', '2024-02-05', '1000', NULL, 93.42, 'EUR', 'receipt', 'R1', 'L0'),
  ('E2', 'J2', '2024-01-20', '1000', NULL, 12.34, 'EUR', 'interest', 'INT-1', 'L0'),
  ('E3', 'J2', '2024-01-20', '6000', NULL, -12.34, 'EUR', 'interest', 'INT-1', 'L0');
INSERT INTO bank_transactions VALUES
  ('BT2', NULL, 'DE01', '2024-02-05', '2024-02-05', 93.42, 'EUR', 'Alpha', 'INV-1', NULL, 'L0'),
  ('BT1', NULL, 'DE01', '2024-02-05', '2024-02-05', 50.00, 'EUR', 'Alpha', 'INV-3', NULL, 'L0'),
  ('BT3', NULL, 'DE01', '2024-03-01', '2024-03-01', -95.28, 'EUR', 'Steelco', 'S-1', NULL, 'L0');
"""


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    ws = opsfin.init(tmp_path_factory.mktemp("reads"))
    with ws.connect() as con:
        con.execute(FIXTURE)
    with reading_tables(ws) as t:
        yield t


def test_open_items_convert_half_to_even_and_leave_out_what_a_document_stands_for(tables):
    items = read_open_items(tables, "EUR", None, None)
    got = items.select("doc_type", "doc_id", "amount", "currency", "amount_base", "counterparty").rows()
    assert got == [  # by date, type, id
        ("ar_receipt", "R2", Decimal("10.00"), "USD", None, "Alpha"),
        ("ar_receipt", "R3", Decimal("50.00"), "EUR", Decimal("50.00"), "Alpha"),
        ("gl_entry", "E2", Decimal("12.34"), "EUR", Decimal("12.34"), None),
        ("ar_receipt", "R1", Decimal("101.00"), "USD", Decimal("93.42"), "Alpha"),
        ("ap_payment", "P1", Decimal("-103.00"), "USD", Decimal("-95.28"), "Steelco"),
    ]
    assert items.schema["amount_base"] == pl.Decimal(18, 2)
    assert items.filter(pl.col("doc_id") == "E2").select("reference", "description").rows() == [("INT-1", "interest")]


def test_open_items_and_bank_lines_within_dates(tables):
    items = read_open_items(tables, "EUR", dt.date(2024, 1, 10), dt.date(2024, 2, 5))
    assert items["doc_id"].to_list() == ["R3", "E2", "R1"]
    lines = read_bank_lines(tables, dt.date(2024, 2, 5), None)
    assert lines["bank_txn_id"].to_list() == ["BT1", "BT2", "BT3"]  # by booking date, then id
    assert read_bank_lines(tables, None, dt.date(2024, 2, 4)).is_empty()


def test_bank_match_ids_hash_each_match_once():
    pairs = pl.DataFrame(
        {
            "proposal": [7, 3, 7],
            "bank_txn_id": ["BT9", "BT1", "BT9"],
            "doc_type": ["gl_entry", "ar_receipt", "ar_receipt"],
            "doc_id": ["E5", "R1", "R2"],
        }
    )
    got = dict(bank_match_ids(pairs).rows())
    one = "B" + hashlib.md5(b"BT1|ar_receipt|R1").hexdigest()[:16]
    two = "B" + hashlib.md5(b"BT9|ar_receipt|R2\nBT9|gl_entry|E5").hexdigest()[:16]  # sorted, newline-joined
    assert got == {3: one, 7: two}
    assert two == bank_match_id([("BT9", "gl_entry", "E5"), ("BT9", "ar_receipt", "R2")])
    assert bank_match_ids(pairs.clear()).is_empty()
