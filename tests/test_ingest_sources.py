"""Every source kind (CSV, TSV, Parquet, Excel, JSON Lines, SQL) and the mapping YAML."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
import xlsxwriter

from opsfin import ingest
from opsfin.errors import UserError
from opsfin.ingest.mapping import load_mapping

COLUMNS = [
    "customer_id",
    "name",
    "segment",
    "country",
    "currency",
    "payment_terms_days",
    "credit_limit",
]
ROWS = [
    ["C1", "Acme GmbH", "retail", "DE", "EUR", 30, "1000.50"],
    ["C2", "Beta SA", "wholesale", "FR", "EUR", 45, "99.99"],
    ["C3", "Gamma", "retail", "GB", "GBP", "x", "1"],  # bad payment_terms_days
]


def expect_two_good(workspace, result):
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 2, 1)
    limits = dict(workspace.sql("SELECT customer_id, credit_limit FROM customers").rows())
    assert limits == {"C1": Decimal("1000.50"), "C2": Decimal("99.99")}
    reason = ingest.list_quarantine(workspace)["reason"].item()
    assert "'x' is not a whole number" in reason


def test_csv(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("\n".join(",".join(map(str, r)) for r in [COLUMNS, *ROWS]) + "\n", encoding="utf-8")
    expect_two_good(workspace, ingest.ingest_file(workspace, path, table="customers"))


def test_tsv(workspace, tmp_path):
    path = tmp_path / "c.tsv"
    path.write_text("\n".join("\t".join(map(str, r)) for r in [COLUMNS, *ROWS]) + "\n", encoding="utf-8")
    result = ingest.ingest_file(workspace, path, table="customers")
    assert result.format == "tsv"
    expect_two_good(workspace, result)


def test_parquet_keeps_decimals(workspace, tmp_path):
    path = tmp_path / "c.parquet"
    data = {c: [r[i] for r in ROWS] for i, c in enumerate(COLUMNS)}
    data["payment_terms_days"] = ["30", "45", "x"]
    data["credit_limit"] = [Decimal("1000.50"), Decimal("99.99"), Decimal("1.00")]
    pq.write_table(pa.table(data), path)
    result = ingest.ingest_file(workspace, path, table="customers")
    assert result.format == "parquet"
    expect_two_good(workspace, result)
    assert ingest.list_quarantine(workspace)["source_row"].item() == 3


def test_xlsx_written_by_xlsxwriter_with_sheet(workspace, tmp_path):
    path = tmp_path / "c.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Notes").write(0, 0, "nothing here")
    sheet = book.add_worksheet("Customers")
    for r, row in enumerate([COLUMNS, *ROWS]):
        for c, value in enumerate(row):
            if c == 6 and r > 0:
                sheet.write_number(r, c, float(value))  # Excel stores numbers as doubles
            else:
                sheet.write(r, c, value)
    book.close()
    result = ingest.ingest_file(workspace, path, table="customers", sheet="Customers")
    assert result.format == "xlsx" and result.source.endswith("#Customers")
    expect_two_good(workspace, result)
    assert ingest.list_quarantine(workspace)["source_row"].item() == 4  # the Excel row number
    with pytest.raises(UserError, match="no sheet 'Nope'; its sheets are: Notes, Customers"):
        ingest.ingest_file(workspace, path, table="customers", sheet="Nope")


def test_xlsx_written_by_openpyxl_first_sheet_dates(workspace, tmp_path):
    path = tmp_path / "fx.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["rate_date", "currency", "rate_to_base"])
    sheet.append([dt.datetime(2024, 1, 2), "USD", 0.9123])
    sheet.append([dt.date(2024, 1, 3), "USD", "0.91234567"])
    sheet.append([None, None, None])  # empty rows are skipped
    book.save(path)
    result = ingest.ingest_file(workspace, path, table="fx_rates")
    assert (result.rows_read, result.rows_accepted) == (2, 2)
    rates = workspace.sql("SELECT rate_date, rate_to_base FROM fx_rates ORDER BY 1").rows()
    assert rates == [
        (dt.date(2024, 1, 2), Decimal("0.91230000")),
        (dt.date(2024, 1, 3), Decimal("0.91234567")),
    ]


def test_excel_sheets_of_one_file_are_separate_loads(workspace, tmp_path):
    path = tmp_path / "two.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name, row in (("A", ROWS[0]), ("B", ROWS[1])):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, COLUMNS)
        sheet.write_row(1, 0, row)
    book.close()
    a = ingest.ingest_file(workspace, path, table="customers")
    b = ingest.ingest_file(workspace, path, table="customers", sheet="B")
    assert not b.already_loaded and a.sha256 != b.sha256
    assert ingest.ingest_file(workspace, path, table="customers", sheet="A").already_loaded


def test_jsonl_exact_decimals_and_bad_lines(workspace, tmp_path):
    path = tmp_path / "c.jsonl"
    lines = [json.dumps(dict(zip(COLUMNS, r, strict=True))) for r in ROWS]
    lines[1] = lines[1].replace('"99.99"', "99.99")  # a JSON number: read as an exact decimal
    lines.insert(2, "{not json")
    lines.insert(3, "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest.ingest_file(workspace, path, table="customers")
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (4, 2, 2)
    q = ingest.list_quarantine(workspace).to_dicts()
    assert [r["source_row"] for r in q] == [3, 5]
    assert "not valid JSON" in q[0]["reason"] and json.loads(q[0]["raw_record"]) == {"_line": "{not json"}
    assert workspace.sql("SELECT credit_limit FROM customers WHERE customer_id = 'C2'").item() == Decimal("99.99")


def test_sql_from_sqlite(workspace, tmp_path):
    url = f"sqlite:///{tmp_path / 'erp.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE kunden (kd TEXT, name TEXT, seg TEXT, land TEXT, cur TEXT, terms INTEGER, lim TEXT)"
        )
        for r in ROWS:
            conn.exec_driver_sql("INSERT INTO kunden VALUES (?,?,?,?,?,?,?)", tuple(r))
    engine.dispose()
    sql = (
        "SELECT kd AS customer_id, name, seg AS segment, land AS country, cur AS currency, "
        "terms AS payment_terms_days, lim AS credit_limit FROM kunden ORDER BY kd"
    )
    result = ingest.ingest_sql(workspace, sql, url, "customers")
    assert result.format == "sql" and result.source.startswith("sqlite:///")
    expect_two_good(workspace, result)
    assert ingest.ingest_sql(workspace, sql, url, "customers").already_loaded
    with pytest.raises(UserError, match="query failed"):
        ingest.ingest_sql(workspace, "SELECT * FROM nope", url, "customers")
    with pytest.raises(UserError, match="not a database URL"):
        ingest.ingest_sql(workspace, sql, "::nope::", "customers")


def test_sql_url_password_is_not_recorded(workspace, tmp_path):
    from opsfin.ingest.sources import redact_url

    assert "s3cret" not in redact_url("postgresql://user:s3cret@db.example.com/erp")


# ---------------------------------------------------------------- mapping
MAPPING_YAML = """
table: customers
rename:
  Kunde: customer_id
  Name: name
  Kreditlimit: credit_limit
  Zahlungsziel: payment_terms_days
decimal_separator: ","
thousands_separator: "."
constants:
  segment: retail
  currency: EUR
  country: DE
"""


def test_mapping_rename_decimal_comma_constants(workspace, tmp_path):
    mapping = tmp_path / "kunden.yaml"
    mapping.write_text(MAPPING_YAML, encoding="utf-8")
    path = tmp_path / "kunden.csv"
    path.write_text(
        "Kunde;Name;Kreditlimit;Zahlungsziel;Bemerkung\n"
        "K1;Müller GmbH;1.234,56;30;x\nK2;Schmidt AG;12,5;14;\nK3;Bad;12.50;14;\n",
        encoding="utf-8",
    )
    result = ingest.ingest_file(workspace, path, mapping=mapping)  # the table comes from the mapping
    assert (result.rows_accepted, result.rows_quarantined) == (2, 1)
    assert result.ignored_columns == ["Bemerkung"]
    rows = workspace.sql(
        "SELECT customer_id, credit_limit, segment, currency, country FROM customers ORDER BY 1"
    ).rows()
    assert rows == [
        ("K1", Decimal("1234.56"), "retail", "EUR", "DE"),
        ("K2", Decimal("12.50"), "retail", "EUR", "DE"),
    ]
    assert "'12.50' is not a decimal number" in result.first_problems[0].reason


def test_mapping_found_by_name_in_model_mappings(workspace, tmp_path):
    (workspace.model_dir / "mappings" / "kunden.yaml").write_text(MAPPING_YAML, encoding="utf-8")
    path = tmp_path / "k.csv"
    path.write_text("Kunde;Name;Kreditlimit;Zahlungsziel\nK1;A;1,00;30\n", encoding="utf-8")
    assert ingest.ingest_file(workspace, path, mapping="kunden").rows_accepted == 1


def test_mapping_date_formats(workspace, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,site_id,product_id,planned_qty,created_date,due_date,released_at,status\n"
        "O1,S1,P1,10,05.01.2024,20240131,05.01.2024 08:30,released\n"
        "O2,S1,P1,10,2024-01-05,20240131,,open\n",
        encoding="utf-8",
    )
    for name, text in (
        ("sites", "site_id,name,kind,region,std_energy_price\nS1,Plant,plant,EU,0.1500\n"),
        (
            "products",
            "product_id,name,family,kind,uom,list_price,std_unit_cost\nP1,W,F,finished,pc,10,5\n",
        ),
    ):
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
        assert ingest.ingest_file(workspace, tmp_path / f"{name}.csv", table=name).rows_accepted == 1
    mapping = {
        "date_format": "%d.%m.%Y",
        "date_formats": {"due_date": "%Y%m%d"},
        "timestamp_format": "%d.%m.%Y %H:%M",
    }
    result = ingest.ingest_file(workspace, path, table="production_orders", mapping=mapping)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 1)
    row = workspace.sql("SELECT created_date, due_date, released_at FROM production_orders").row(0)
    assert row == (dt.date(2024, 1, 5), dt.date(2024, 1, 31), dt.datetime(2024, 1, 5, 8, 30))
    assert "'2024-01-05' is not a date (the form %d.%m.%Y)" in result.first_problems[0].reason


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("decimal_separator: ';'\n", "key 'decimal_separator'"),
        (
            "decimal_separator: ','\nthousands_separator: ','\n",
            "thousands_separator and decimal_separator must differ",
        ),
        ("date_format: dd.mm.yyyy\n", "key 'date_format'"),
        ("renam: {a: b}\n", "key 'renam': unknown key"),
        ("rename: [a, b]\n", "key 'rename'"),
        ("- just a list\n", "expected a mapping"),
        ("rename: {a: [\n", "not valid YAML"),
    ],
)
def test_bad_mapping_file_names_the_key(tmp_path, text, words):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match="m.yaml") as info:
        load_mapping(path)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"rename": {"Nope": "customer_id"}}, "key 'rename.Nope'"),
        ({"rename": {"customer_id": "kunde"}}, "'kunde' is not a column of customers"),
        ({"constants": {"currency": "EUR"}}, "key 'constants.currency'"),
        ({"constants": {"bogus": 1}}, "key 'constants.bogus'"),
        ({"date_formats": {"name": "%d"}}, "key 'date_formats.name'"),
        ({"table": "suppliers"}, "differs"),
    ],
)
def test_mapping_that_does_not_fit_the_table(workspace, tmp_path, mapping, words):
    path = tmp_path / "c.csv"
    path.write_text(",".join(COLUMNS) + "\n" + ",".join(map(str, ROWS[0])) + "\n", encoding="utf-8")
    with pytest.raises(UserError) as info:
        ingest.ingest_file(workspace, path, table="customers", mapping=mapping)
    assert words in str(info.value)


def test_bad_constant_value_is_a_user_error(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "customer_id,name,segment,country,payment_terms_days,credit_limit\nC1,A,r,DE,30,1\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError, match="constants.currency.*three-letter"):
        ingest.ingest_file(workspace, path, table="customers", mapping={"constants": {"currency": "euro"}})


def test_unknown_extension_without_table(workspace, tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"\x00\x01")
    with pytest.raises(UserError, match="cannot tell the format"):
        ingest.ingest_file(workspace, path)


def test_not_utf8_needs_an_encoding(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes((",".join(COLUMNS) + "\nC1,Müller,r,DE,EUR,30,1\n").encode("latin-1"))
    with pytest.raises(UserError, match="encoding"):
        ingest.ingest_file(workspace, path, table="customers")
    result = ingest.ingest_file(workspace, path, table="customers", mapping={"encoding": "latin-1"})
    assert result.rows_accepted == 1
    assert workspace.sql("SELECT name FROM customers").item() == "Müller"


@pytest.mark.parametrize(
    ("name", "words"),
    [("bad.xlsx", "not a readable Excel"), ("bad.parquet", "not a readable Parquet")],
)
def test_unreadable_files_are_user_errors(workspace, tmp_path, name, words):
    path = tmp_path / name
    path.write_bytes(b"this is not what the extension says")
    with pytest.raises(UserError, match=words):
        ingest.ingest_file(workspace, path, table="customers")
