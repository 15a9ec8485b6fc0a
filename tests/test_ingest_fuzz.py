"""Fuzz suite: hostile files of every input format through the real CLI (in process).

For every case, generated here by code from a fixed corpus of hostile values and structural
damage plus seeded random byte damage of a sound file:
- the exit code is 0 or 2, never a traceback (any other exception fails the test);
- exit 0: accepted + quarantined = read, per table and in total, and the warehouse grew by
  exactly the accepted rows and the quarantined rows;
- exit 2: one `error:` line, and the warehouse is exactly as before;
- a decimal that was accepted is stored exactly as written (never rounded).
Formats: CSV, TSV, JSON Lines, Parquet, XLSX, camt.053, MT940, UBL. Runs in well under a minute.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.sax.saxutils import escape

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
import xlsxwriter

import opsfin
import opsfin.cli as cli_module
from cli_support import run_cli
from opsfin.cli import root

HOSTILE = [
    "",
    " ",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e309",
    "1e-400",
    "1e999999999",
    "9" * 5000,
    "-" + "9" * 30,
    "1.005",
    "0.001",
    "12.345678901",
    "0,001",
    "1,234.5",
    "1_000",
    "0x10",
    "+",
    ".",
    "1e",
    "--1",
    "١٢",
    "²",
    "１２",
    "12\x00",
    "2024-01-01\x00",
    "2024-01-01 10:00:00\x00",
    "2024-02-30",
    "0000-01-01",
    "9999-12-31T23:59:59.9999999",
    "2024-01-01T10:00:00+01:00",
    "99:99",
    "\ud800x",
    "x" * 20000,
    "true",
    "null",
    "💥",
    "\u202e",
    "' OR 1=1 --",
    '"',
    ",",
    "a\nb",
    "\r",
    "\t",
    "\ufeff",
    "EUR\x07",
]
CUSTOMER = {
    "customer_id": "C",
    "name": "Good",
    "segment": "retail",
    "country": "DE",
    "currency": "EUR",
    "payment_terms_days": "30",
    "credit_limit": "10.50",
}
TICKET = {
    "ticket_id": "T",
    "cost_center_id": "CC1",
    "customer_id": "",
    "opened_at": "2024-01-01 08:00:00",
    "closed_at": "2024-01-01 09:00:00",
    "handling_minutes": "12.5",
    "csat": "4",
}
RATE = {"rate_date": "2024-01-31", "currency": "USD", "rate_to_base": "1.08000000"}
TABLES = {"customers": CUSTOMER, "support_tickets": TICKET, "fx_rates": RATE}
SEED = 20251205


# ---------------------------------------------------------------- running one case
@pytest.fixture(scope="module")
def ws(tmp_path_factory, cli):
    return opsfin.init(tmp_path_factory.mktemp("fuzz") / "ws")


WATCHED = (
    "customers",
    "suppliers",
    "fx_rates",
    "support_tickets",
    "bank_statements",
    "bank_transactions",
    "ap_invoices",
    "ap_invoice_lines",
    "quarantine",
    "loads",
)


def row_counts(ws) -> dict[str, int]:
    """Rows of every table a case can fill, and the newest load (one query: the suite stays fast)."""
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*)::VARCHAR FROM \"{t}\"" for t in WATCHED)
    with ws.connect(read_only=True) as con:
        rows = con.execute(sql + " UNION ALL SELECT 'last_load', coalesce(max(load_id), '') FROM loads").fetchall()
    return {name: (value if name == "last_load" else int(value)) for name, value in rows}


@pytest.fixture(scope="module")
def cli(monkeypatch_module):
    """`run_cli` with the Typer app built once: building it is half the time of a small ingest."""
    command = typer.main.get_command(root.app)
    monkeypatch_module.setattr(cli_module, "app", lambda args: command.main(args=args, prog_name="opsfin"))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def run_case(capsys, ws, path: Path, *args: str) -> tuple[int, dict | None]:
    """Ingest one file and check the invariants; returns the exit code and the JSON result."""
    before = row_counts(ws)
    code, out, err = run_cli(capsys, "ingest", str(path), *args, "-w", str(ws.path), "-o", "json")
    after = row_counts(ws)
    assert code in (0, 2), (path.name, code, err[-2000:])
    if code == 2:
        assert err.startswith("error: ") and "Traceback" not in err, (path.name, err[-2000:])
        assert after == before, (path.name, "a refused file changed the warehouse")
        return code, None
    result = json.loads(out)
    assert result["rows_accepted"] + result["rows_quarantined"] == result["rows_read"], path.name
    for t in result["tables"]:
        assert t["rows_accepted"] + t["rows_quarantined"] == t["rows_read"], (path.name, t)
        if t["table"] in after:
            assert after[t["table"]] - before[t["table"]] == t["rows_accepted"], (path.name, t)
    assert after["quarantine"] - before["quarantine"] == result["rows_quarantined"], path.name
    return code, result


def matrix_rows(base: dict[str, str], prefix: str) -> list[dict[str, str]]:
    """One row per (hostile value, column): the base row with that column replaced; unique ids."""
    key = next(iter(base))
    rows = []
    for i, value in enumerate(HOSTILE):
        for column in base:
            row = {**base, key: f"{prefix}{i}-{column}"}
            if column != key or i % 3 == 0:
                row[column] = value
            rows.append(row)
    return rows


def safe_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def assert_decimals_exact(ws, table: str, column: str, key: str, rows: list[dict[str, str]]) -> None:
    """Every accepted decimal equals the number its text writes: nothing was rounded."""
    written = {r[key]: r[column] for r in rows}
    for ident, stored in ws.sql(f'SELECT "{key}", "{column}" FROM "{table}"').rows():
        text = written.get(ident)
        if text is None or stored is None:
            continue
        try:
            assert Decimal(str(stored)) == Decimal(text.strip()), (ident, text, stored)
        except InvalidOperation:
            pytest.fail(f"{ident}: accepted {text!r} as {stored}")


# ---------------------------------------------------------------- tabular formats
def write_delimited(path: Path, rows: list[dict[str, str]], delimiter: str) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(r for r in rows if all(safe_text(v) and "\x00" not in v for v in r.values()))
    path.write_text(buf.getvalue(), encoding="utf-8")


@pytest.mark.parametrize("kind", ["csv", "tsv"])
def test_delimited_value_matrix(ws, tmp_path, capsys, kind):
    for table, base in TABLES.items():
        rows = matrix_rows(base, f"{kind}-")
        path = tmp_path / f"{table}.{kind}"
        write_delimited(path, rows, "," if kind == "csv" else "\t")
        code, result = run_case(capsys, ws, path, "-t", table)
        assert code == 0 and result["rows_quarantined"] > 0
    assert_decimals_exact(ws, "customers", "credit_limit", "customer_id", matrix_rows(CUSTOMER, f"{kind}-"))


def delimited_damage() -> dict[str, bytes]:
    header = ",".join(CUSTOMER).encode()
    good = ",".join(CUSTOMER.values()).encode()
    return {
        "empty": b"",
        "only-blank": b"\n\n \n",
        "header-only": header + b"\n",
        "nul": header + b"\n" + good + b"\x00\n",
        "surrogate-bytes": header + b"\n" + good.replace(b"Good", b"\xed\xa0\x80") + b"\n",
        "latin-1": header + b"\n" + good.replace(b"Good", b"G\xf6od") + b"\n",
        "ragged": header + b"\n" + good + b",extra\nC9\n",
        "quote-open": header + b'\n"C1,Good\n',
        "duplicate-header": header + b",name\n" + good + b",x\n",
        "binary": bytes(range(256)) * 4,
        "bom-only": b"\xef\xbb\xbf",
        "utf16": (",".join(CUSTOMER) + "\n").encode("utf-16"),
        "huge-field": header + b"\n" + good.replace(b"Good", b"G" * 200_000) + b"\n",
    }


def test_delimited_damage(ws, tmp_path, capsys):
    for name, content in delimited_damage().items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(content)
        run_case(capsys, ws, path, "-t", "customers")


def test_jsonl_value_matrix_and_damage(ws, tmp_path, capsys):
    lines = []
    for table, base in TABLES.items():
        rows = matrix_rows(base, "jl-")
        path = tmp_path / f"{table}.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
        code, result = run_case(capsys, ws, path, "-t", table)
        assert code == 0 and result["rows_quarantined"] > 0
    good = json.dumps({**CUSTOMER, "customer_id": "J-good"})
    raw_values = [
        "1e999",
        "-1e999",
        "9" * 5000,
        "1" + "0" * 4400 + ".5",
        "[" * 5000 + "]" * 5000,
        '"\\ud800"',
        '"\\udfff\\ud800"',
        '"\\u0000"',
        '{"a": ' * 200 + "1" + "}" * 200,
        "true",
        "null",
        "1E400",
        "-0",
        "0.000000000000000000000000000001",
        '"' + "x" * 100_000 + '"',
    ]
    for i, raw in enumerate(raw_values):
        for column in ("customer_id", "name", "payment_terms_days", "credit_limit"):
            key = f'"J{i}-{column}"' if column != "customer_id" else raw
            lines.append(
                f'{{"customer_id": {key}, "{column}": {raw}}}'
                if column != "customer_id"
                else f'{{"customer_id": {raw}}}'
            )
    lines += [
        "[1, 2]",
        '"text"',
        "{",
        "}",
        '{"\\ud800": 1}',
        "{" * 3000,
        "\x00",
        '{"a": 1} trailing',
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text(good + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    code, result = run_case(capsys, ws, path, "-t", "customers")
    assert code == 0 and result["rows_read"] == len(lines) + 1
    for name, content in {
        "binary.jsonl": bytes(range(256)),
        "latin.jsonl": b'{"name": "G\xf6od"}\n',
        "empty.jsonl": b"",
    }.items():
        (tmp_path / name).write_bytes(content)
        run_case(capsys, ws, tmp_path / name, "-t", "customers")


def parquet_tables() -> dict[str, pa.Table]:
    n = 6
    ids = [f"PQ{i}" for i in range(n)]
    base = {
        "customer_id": ids,
        "name": ["N"] * n,
        "segment": ["retail"] * n,
        "country": ["DE"] * n,
        "currency": ["EUR"] * n,
        "payment_terms_days": [30] * n,
    }
    return {
        "floats": pa.table({**base, "credit_limit": [1.0, float("nan"), float("inf"), 1e300, 0.1 + 0.2, 1.005]}),
        "decimal256": pa.table(
            {
                **base,
                "credit_limit": pa.array(
                    [
                        Decimal("1.5"),
                        Decimal("1.005"),
                        Decimal("1e40"),
                        None,
                        Decimal("-0.01"),
                        Decimal("12345678901234567"),
                    ],
                    pa.decimal256(60, 3),
                ),
            }
        ),
        "ints": pa.table(
            {
                **base,
                "credit_limit": pa.array([2**63 - 1, -(2**63), 0, 1, 2, 3], pa.int64()),
                "payment_terms_days": pa.array([2**63 - 1, -1, 0, 2**31, 30, None], pa.int64()),
            }
        ),
        "nested": pa.table({**base, "credit_limit": [1] * n, "name": pa.array([[1, 2]] * n)}),
        "binary": pa.table({**base, "credit_limit": [1] * n, "name": pa.array([b"\x00\xff"] * n)}),
        "strings": pa.table(
            {
                **base,
                "credit_limit": ["1", "1.001", "١", "1e5", " 2 ", "x"],
                "name": ["a\x00b", "\u202e", "", " ", "💥", "x" * 10000],
            }
        ),
        "dates": pa.table(
            {
                "rate_date": pa.array([0, -719_162, 2**31 - 1, -(2**31), 2_932_896, 19753], pa.int32()).cast(
                    pa.date32()
                ),
                "currency": ["USD"] * n,
                "rate_to_base": [1.0] * n,
            }
        ),
        "stamps": pa.table(
            {
                "ticket_id": ids,
                "cost_center_id": ["CC1"] * n,
                "handling_minutes": [1.0] * n,
                "opened_at": pa.array([0, 2**62, -(2**62), 1_700_000_000_123_456_789, 1, -1], pa.int64()).cast(
                    pa.timestamp("ns")
                ),
                "closed_at": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * n),
            }
        ),
        "dictionary": pa.table(
            {
                **base,
                "credit_limit": ["1.00"] * n,
                "segment": pa.array(["retail", "x"] * 3).dictionary_encode(),
            }
        ),
    }


def test_parquet_values_and_damage(ws, tmp_path, capsys):
    tables = parquet_tables()
    for name, data in tables.items():
        path = tmp_path / f"{name}.parquet"
        pq.write_table(data, path)
        table = {"dates": "fx_rates", "stamps": "support_tickets"}.get(name, "customers")
        run_case(capsys, ws, path, "-t", table)
    sound = tmp_path / "sound.parquet"
    pq.write_table(
        pa.table({"customer_id": [f"PZ{i}" for i in range(3000)], "name": ["A" * 40] * 3000}),
        sound,
        compression="snappy",
    )
    damage_bytes(capsys, ws, tmp_path, sound, "-t", "customers")


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date:UserWarning")
def test_xlsx_values_and_damage(ws, tmp_path, capsys):
    path = tmp_path / "matrix.xlsx"
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "nan_inf_to_errors": True})
    sheet = book.add_worksheet()
    rows = [r for r in matrix_rows(CUSTOMER, "xl-") if all(safe_text(v) and len(v) < 32767 for v in r.values())]
    sheet.write_row(0, 0, list(CUSTOMER))
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, list(row.values()))
    extra = [1e308, -1e-308, float("nan"), float("inf"), 2**53 + 1, True, dt.datetime(9999, 12, 31)]
    for j, value in enumerate(extra, start=len(rows) + 1):
        sheet.write_row(j, 0, [f"xl-extra{j}", "N", "retail", "DE", "EUR", 30])
        try:
            sheet.write(j, 6, value)
        except (TypeError, ValueError):
            sheet.write(j, 6, str(value))
        sheet.write(j, 5, value if isinstance(value, float | int) and not isinstance(value, bool) else 30)
    date_cell = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_number(len(rows) + len(extra) + 1, 5, 1e12, date_cell)  # a date past year 9999
    book.close()
    run_case(capsys, ws, path, "-t", "customers")
    for member, change in [
        ("xl/worksheets/sheet1.xml", b"<!DOCTYPE worksheet>"),
        ("xl/sharedStrings.xml", b"<x"),
        ("xl/workbook.xml", b""),
        ("xl/styles.xml", b"<<"),
    ]:
        bad = tmp_path / f"bad-{member.replace('/', '_')}.xlsx"
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == member:
                    data = change + data if change.startswith(b"<!") else change + data[: len(data) // 2]
                dst.writestr(item, data)
        run_case(capsys, ws, bad, "-t", "customers")
    damage_bytes(capsys, ws, tmp_path, path, "-t", "customers")


# ---------------------------------------------------------------- documents
CAMT = """<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>
<Stmt><Id>{id}</Id><CreDtTm>{created}</CreDtTm><Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{ccy}</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2024-02-29</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">11.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>{closing_date}</Dt></Dt></Bal>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><BookgDt><Dt>{booked}</Dt></BookgDt>
<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>{party}</Nm></Dbtr></RltdPties></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>"""
CAMT_SOUND = {
    "id": "S",
    "created": "2024-03-01T10:00:00",
    "iban": "DE89370400440532013000",
    "ccy": "EUR",
    "opening": "10.00",
    "closing_date": "2024-03-01",
    "amount": "1.00",
    "ind": "CRDT",
    "booked": "2024-03-01",
    "party": "Customer",
}
MT940 = (
    ":20:{ref}\n:25:{account}\n:28C:1\n:60F:C{date}EUR{opening}\n:61:{date}{entry}C{amount}NTRF{ref61}\n"
    ":86:{details}\n:62F:C{date}EUR11,00\n-\n"
)
MT940_SOUND = {
    "ref": "R",
    "account": "ACC",
    "date": "240301",
    "opening": "10,00",
    "entry": "0301",
    "amount": "1,00",
    "ref61": "NONREF//B",
    "details": "166?00GUTSCHRIFT?20EREF+E1?32Name",
}
UBL = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:ID>{id}</cbc:ID><cbc:IssueDate>{issued}</cbc:IssueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
<cbc:DocumentCurrencyCode>{ccy}</cbc:DocumentCurrencyCode>
<cac:AccountingSupplierParty><cac:Party><cbc:EndpointID>{seller}</cbc:EndpointID>
<cac:PartyName><cbc:Name>Acme</cbc:Name></cac:PartyName></cac:Party></cac:AccountingSupplierParty>
<cac:PaymentTerms><cac:SettlementPeriod><cbc:DurationMeasure unitCode="DAY">{days}</cbc:DurationMeasure>
</cac:SettlementPeriod></cac:PaymentTerms>
<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount></cac:TaxTotal>
<cac:LegalMonetaryTotal><cbc:TaxInclusiveAmount currencyID="EUR">{total}</cbc:TaxInclusiveAmount></cac:LegalMonetaryTotal>
<cac:InvoiceLine><cbc:ID>{line}</cbc:ID><cbc:InvoicedQuantity unitCode="C62">{qty}</cbc:InvoicedQuantity>
<cbc:LineExtensionAmount currencyID="EUR">{amount}</cbc:LineExtensionAmount><cac:Item><cbc:Name>W</cbc:Name></cac:Item>
<cac:Price><cbc:PriceAmount currencyID="EUR">{price}</cbc:PriceAmount><cbc:BaseQuantity>{base}</cbc:BaseQuantity></cac:Price>
</cac:InvoiceLine></Invoice>"""
UBL_SOUND = {
    "id": "I",
    "issued": "2024-01-16",
    "ccy": "EUR",
    "seller": "S1",
    "days": "30",
    "tax": "0.00",
    "total": "30.00",
    "line": "1",
    "qty": "3",
    "amount": "30.00",
    "price": "10",
    "base": "1",
}
DOCUMENTS = {
    "camt053": (CAMT, CAMT_SOUND, True),
    "mt940": (MT940, MT940_SOUND, False),
    "ubl": (UBL, UBL_SOUND, True),
}


# Documents are refused whole at their first bad value, so each file carries one hostile value,
# put into the slots of its kind in turn.
DOC_HOSTILE = {
    "number": [
        "",
        "NaN",
        "1e309",
        "9" * 5000,
        "1.005",
        "0,001",
        "١٢",
        "²",
        "１２",
        "12\x00",
        "-" + "9" * 30,
        "1e-400",
        "--1",
        "1E+30",
        "0.00001",
    ],
    "date": [
        "",
        "2024-01-01\x00",
        "2024-02-30",
        "0000-01-01",
        "9999-12-31T23:59:59.9999999",
        "٢٠٢٤-01-01",
        "2024-01-01T10:00:00+01:00",
        "991231",
        "1301",
    ],
    "text": ["", "\ud800x", "x" * 20000, "💥", "\u202e", "a\nb", "EUR\x07", "' OR 1=1 --", "CRDT "],
}
DOC_SLOTS = {
    "camt053": {
        "number": ["amount", "opening"],
        "date": ["booked", "closing_date", "created"],
        "text": ["ind", "party", "id", "iban", "ccy"],
    },
    "mt940": {
        "number": ["amount", "opening"],
        "date": ["date", "entry"],
        "text": ["details", "ref", "account", "ref61"],
    },
    "ubl": {
        "number": ["price", "amount", "base", "qty", "days", "tax", "total", "line"],
        "date": ["issued"],
        "text": ["id", "ccy", "seller"],
    },
}


def document_cases(fmt: str) -> list[tuple[str, bytes]]:
    """The sound document, then one file per hostile value, in a slot of its kind."""
    template, sound, is_xml = DOCUMENTS[fmt]
    cases = [("sound", template.format(**sound).encode())]
    key = "id" if is_xml else "ref"  # unique statement / invoice ids per case
    for kind, values in DOC_HOSTILE.items():
        slots = DOC_SLOTS[fmt][kind]
        for i, value in enumerate(values):
            slot = slots[i % len(slots)]
            text = escape(value) if is_xml else value
            content = template.format(**{**sound, key: f"{sound[key]}{kind}{i}", slot: text})
            cases.append((f"{kind}{i}-{slot}", content.encode("utf-8", "surrogatepass")))
    return cases


@pytest.mark.parametrize("fmt", list(DOCUMENTS))
def test_document_value_matrix(ws, tmp_path, capsys, fmt):
    extra = ["--add-missing-parties"] if fmt == "ubl" else []
    outcomes = []
    for name, content in document_cases(fmt):
        path = tmp_path / f"{fmt}-{name}.doc"
        path.write_bytes(content)
        code, _ = run_case(capsys, ws, path, "--doc-format", fmt, *extra)
        outcomes.append(code)
    assert outcomes[0] == 0  # the sound document loads
    assert 2 in outcomes  # and hostile values are refused


@pytest.mark.parametrize("fmt", list(DOCUMENTS))
def test_document_damage(ws, tmp_path, capsys, fmt):
    template, sound, is_xml = DOCUMENTS[fmt]
    path = tmp_path / f"sound-{fmt}.doc"
    path.write_bytes(template.format(**{**sound, "id" if is_xml else "ref": f"DMG-{fmt}"}).encode())
    extra = ["--add-missing-parties"] if fmt == "ubl" else []
    if is_xml:
        text = path.read_text()
        head, _, body = text.partition("?>")
        for name, content in {
            "doctype-laugh": head + '?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + body,
            "doctype-external": head + '?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///nonexistent/secret.txt">]>' + body,
            "deep": text.replace("<Nm>Customer</Nm>", "<a>" * 50_000 + "</a>" * 50_000).replace(
                "<cbc:Name>W</cbc:Name>", "<a>" * 50_000 + "</a>" * 50_000
            ),
            "utf16": text.replace('encoding="UTF-8"', 'encoding="UTF-16"'),
        }.items():
            bad = tmp_path / f"{fmt}-{name}.doc"
            bad.write_bytes(content.encode("utf-16") if name == "utf16" else content.encode())
            run_case(capsys, ws, bad, "--doc-format", fmt, *extra)
    damage_bytes(capsys, ws, tmp_path, path, "--doc-format", fmt, *extra)


# ---------------------------------------------------------------- seeded random damage
def damage_bytes(capsys, ws, tmp_path: Path, sound: Path, *args: str, count: int = 8) -> None:
    """`count` damaged copies of a sound file: flipped bytes, a cut, a repeated or a dropped span."""
    rng = random.Random(f"{SEED}-{sound.name}")
    data = sound.read_bytes()
    for n in range(count):
        damaged = bytearray(data)
        how = n % 4
        at = rng.randrange(len(damaged))
        if how == 0:
            for i in rng.sample(range(len(damaged)), k=min(len(damaged), 1 + rng.randrange(20))):
                damaged[i] ^= 1 << rng.randrange(8)
        elif how == 1:
            del damaged[at:]
        elif how == 2:
            damaged[at:at] = damaged[at : at + rng.randrange(1, 200)]
        else:
            del damaged[at : at + rng.randrange(1, 200)]
        path = tmp_path / f"{sound.stem}-damaged{n}{sound.suffix}"
        path.write_bytes(bytes(damaged))
        run_case(capsys, ws, path, *args)
