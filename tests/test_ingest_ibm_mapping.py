"""The `tables:` mapping (docs/ingest.md, "Several tables from one file"): filters, derived and recoded
columns, master rows, the same rows from a SQL query, and mistakes in a mapping as one-line errors."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from opsfin import ingest
from opsfin.errors import UserError

CSV = (
    "cust,inv,day,due,amount,paid,channel\n"
    "K1,I1,2024-01-01,2024-01-31,10.00,2024-01-20,web\n"
    "K1,I2,2024-02-01,2024-03-17,20.00,,web\n"  # 45 days, open
    "K2,I3,2024-02-01,2024-02-15,5.50,2024-02-10,shop\n"
    "K1,I4,2024-03-01,2024-03-31,7.25,2024-04-02,post\n"  # 'post' is no channel: recode leaves it, BOOLEAN refuses it
)


def _mapping(**changes) -> dict:
    tables = [
        {
            "table": "customers",
            "distinct": True,
            "rename": {"cust": "customer_id"},
            "derive": {"name": "Customer {cust}", "payment_terms_days": {"days_between": ["day", "due"]}},
            "constants": {"segment": "s", "country": "DE", "currency": "EUR", "credit_limit": 0},
        },
        {
            "table": "ar_invoices",
            "rename": {
                "inv": "invoice_id",
                "cust": "customer_id",
                "day": "invoice_date",
                "due": "due_date",
                "amount": "total",
            },
            "derive": {"so_id": "SO-{inv}"},
            "recode": {"paperless": {"web": "yes", "shop": "no"}},
            "constants": {"kind": "invoice", "currency": "EUR", "tax_amount": 0},
        },
        {
            "table": "ar_receipts",
            "when": {"paid": "not_empty"},
            "rename": {"cust": "customer_id", "paid": "received_date", "amount": "amount"},
            "derive": {"receipt_id": "R{inv}", "reference": "{inv}"},
            "constants": {"currency": "EUR"},
        },
    ]
    for index, entry in changes.pop("entries", {}).items():
        tables[index] = {**tables[index], **entry}
    return {"tables": tables, **changes}


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "ar.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def _rows(ws, sql):
    con = ws.connect(read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_filters_derived_recoded_and_master_rows(workspace, source):
    mapping = _mapping(entries={1: {"rename": {**_mapping()["tables"][1]["rename"], "channel": "paperless"}}})
    result = ingest.ingest_file(workspace, source, mapping=mapping)
    counts = {t.table: (t.rows_read, t.rows_accepted, t.rows_quarantined) for t in result.tables}
    # worked by hand: K1 (3 rows) and K2 collapse to 2 customers; I4's channel 'post' is refused; 3 rows paid
    assert counts == {"customers": (2, 2, 0), "ar_invoices": (4, 3, 1), "ar_receipts": (3, 3, 0)}
    assert _rows(workspace, "SELECT customer_id, name, payment_terms_days FROM customers ORDER BY 1") == [
        ("K1", "Customer K1", 30),  # 30, 45, 30: the most frequent
        ("K2", "Customer K2", 14),
    ]
    assert _rows(workspace, "SELECT invoice_id, so_id, paperless FROM ar_invoices ORDER BY 1") == [
        ("I1", "SO-I1", True),
        ("I2", "SO-I2", True),
        ("I3", "SO-I3", False),
    ]
    assert _rows(workspace, "SELECT receipt_id, reference, amount FROM ar_receipts ORDER BY 1") == [
        ("RI1", "I1", Decimal("10.00")),
        ("RI3", "I3", Decimal("5.50")),
        ("RI4", "I4", Decimal("7.25")),
    ]
    [(row, column, reason)] = _rows(workspace, "SELECT source_row, column_name, reason FROM quarantine")
    assert (row, column) == (5, "paperless") and "'post'" in reason


def test_ties_keep_the_earliest_row_and_a_refused_row_stays_counted(workspace, tmp_path):
    path = tmp_path / "tie.csv"
    path.write_text(
        "cust,inv,day,due,amount,paid,channel\n"
        "K9,J1,2024-01-01,2024-01-15,1.00,,web\n"  # 14 days
        "K9,J2,2024-01-01,2024-01-31,1.00,,web\n"  # 30 days: a tie, the earliest (14) wins
        "K9,J3,2024-01-01,2024-13-01,1.00,,web\n",  # a bad due date: refused in customers and ar_invoices
        encoding="utf-8",
    )
    result = ingest.ingest_file(workspace, path, mapping=_mapping())
    counts = {t.table: (t.rows_read, t.rows_accepted, t.rows_quarantined) for t in result.tables}
    assert counts == {"customers": (2, 1, 1), "ar_invoices": (3, 2, 1), "ar_receipts": (0, 0, 0)}
    assert _rows(workspace, "SELECT payment_terms_days FROM customers") == [(14,)]
    refused = _rows(workspace, "SELECT table_name, source_row, column_name, reason FROM quarantine ORDER BY 1")
    assert [r[:3] for r in refused] == [("ar_invoices", 4, "due_date"), ("customers", 4, "payment_terms_days")]
    assert "days from day to due" in refused[1][3] and "2024-13-01" in refused[1][3]


def test_the_same_mapping_reads_a_sql_query(workspace, tmp_path):
    db = tmp_path / "erp.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE ar (cust TEXT, inv TEXT, day TEXT, due TEXT, amount TEXT, paid TEXT, channel TEXT)")
    con.executemany(
        "INSERT INTO ar VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            ("K1", "I1", "2024-01-01", "2024-01-31", "10.00", "2024-01-20", "web"),
            ("K1", "I2", "2024-02-01", "2024-03-02", "3.00", None, "web"),
        ],
    )
    con.commit()
    con.close()
    result = ingest.ingest_sql(workspace, "SELECT * FROM ar", f"sqlite:///{db}", None, mapping=_mapping())
    counts = {t.table: (t.rows_read, t.rows_accepted, t.rows_quarantined) for t in result.tables}
    assert counts == {"customers": (1, 1, 0), "ar_invoices": (2, 2, 0), "ar_receipts": (1, 1, 0)}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"entries": {0: {"renam": {}}}}, "key 'tables.0.renam': unknown key; known keys: table, rename"),
        ({"rename": {"cust": "customer_id"}}, "give table, rename and constants in each entry"),
        (
            {"entries": {2: {"when": {"settled": "not_empty"}}}},
            "(tables.2): key 'when.settled': the source has no column 'settled'",
        ),
        ({"entries": {2: {"when": {"paid": "filled"}}}}, "key 'tables.2.when.paid'"),
        (
            {"entries": {1: {"derive": {"so_id": "SO-{invoice}"}}}},
            "(tables.1): key 'derive.so_id': the source has no column 'invoice'",
        ),
        (
            {"entries": {1: {"derive": {"order": "{inv}"}}}},
            "key 'derive.order': 'order' is not a column of ar_invoices",
        ),
        (
            {"entries": {1: {"recode": {"paid": {"a": "b"}}}}},
            "key 'recode.paid': 'paid' is not a column of ar_invoices",
        ),
        ({"entries": {1: {"table": "customers"}}}, "key 'tables.1.table': customers is filled by an earlier entry"),
        ({"entries": {1: {"table": "invoices"}}}, "key 'tables.1.table': unknown table 'invoices'"),
        (
            {"entries": {1: {"derive": {"so_id": {"days": ["day", "due"]}}}}},
            "key 'tables.1.derive': so_id: a derived column is",
        ),
        ({"entries": {1: {"derive": {"so_id": "SO-{inv"}}}}, "so_id: the template 'SO-{inv' cannot be read"),
        (
            {"entries": {1: {"recode": {"paperless": {True: "yes"}}}}},
            "paperless: True is not a text; quote the source texts",
        ),
        ({"date_formats": {"paid_date": "%Y-%m-%d"}}, "key 'date_formats.paid_date': none of the tables has a column"),
    ],
)
def test_mapping_mistakes_are_one_line_errors(workspace, source, changes, words):
    with pytest.raises(UserError) as caught:
        ingest.ingest_file(workspace, source, mapping=_mapping(**changes))
    assert words in str(caught.value)
    assert _rows(workspace, "SELECT count(*) FROM loads") == [(0,)]


def test_table_argument_conflicts_with_several_tables(workspace, source):
    with pytest.raises(UserError, match="fills several tables"):
        ingest.ingest_file(workspace, source, table="customers", mapping=_mapping())
