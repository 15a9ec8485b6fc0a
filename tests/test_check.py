"""`opsfin check`: each check finds exactly the defects planted in a small hand-built warehouse.

The clean fixture (base currency EUR) holds two months of books, worked by hand:

AR (control = Σ GL role 'ar'; open = Σ round_half_even(open amount × rate at invoice date, 2))
  AR-EUR   EUR 1210.00 on 2024-01-10, R1 pays 500.00 on 2024-02-05      → open 1210.00, then 710.00
  AR-USD   USD 1000.00 on 2024-01-20 at 0.9123 (rate of 2024-01-15)     → 912.30 in Jan;
           R2 pays USD 400.00 on 2024-02-10 (rate then 0.9250): the GL credits AR with
           912.30 − round(600 × 0.9123) = 912.30 − 547.38 = 364.92, bank +370.00, FX gain −5.08
  AR-USD2  USD 101.00 on 2024-02-01 at 0.9250 = 93.425 → 93.42 (half to even; half away from
           zero would give 93.43 and a finding)
  Jan: GL 1210.00 + 912.30 = 2122.30;      open 1210.00 + 912.30 = 2122.30
  Feb: GL 2122.30 − 500.00 − 364.92 + 93.42 = 1350.80; open 710.00 + 547.38 + 93.42 = 1350.80
AP
  AP1 EUR 300.00 on 2024-01-12, paid by PAY1 on 2024-02-12 → open 300.00 (Jan), 0.00 (Feb);
  GL role 'ap': −300.00 (Jan), then +300.00 → control 300.00, 0.00
Production cost centre CC-PROD, role direct_labor: +800 payroll − 750 applied − 50 to variance = 0
Stock of P1 at S1: +10, −4, −6 → 10, 6, 0
Bank DE01: ST0 (Jan) 1000.00 → 1000.00 no lines; ST1 (Feb 15) 1000.00 + 500 + 370 − 300 = 1570.00;
  ST2 (Feb 29) 1570.00 → 1570.00; one line without a statement (allowed, not summed)
"""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal

import duckdb
import pytest
from typer.testing import CliRunner

import opsfin
from cli_support import run_in_process
from opsfin.cli import app
from opsfin.integrity import CHECK_NAMES, Finding, summary_line
from opsfin.integrity.findings import half_even_div_sql
from opsfin.runs.checks import run_checks

CLEAN_SQL = """
INSERT INTO sites VALUES ('S1', 'Plant 1', 'plant', 'North', 0.1500, 'L0');
INSERT INTO cost_centers VALUES ('CC-PROD', 'S1', 'Assembly', 'production', 'Ann', 'L0'),
                                ('CC-ADM', 'S1', 'Admin', 'admin', 'Bob', 'L0');
INSERT INTO products VALUES ('P1', 'Steel', 'metal', 'raw', 'kg', 0, 2.5000, 'L0');
INSERT INTO customers VALUES ('C1', 'Alpha', 'retail', 'DE', 'EUR', 30, 10000, 'L0'),
                             ('C2', 'Beta', 'retail', 'US', 'USD', 30, 10000, 'L0');
INSERT INTO suppliers (supplier_id, name, country, currency, payment_terms_days, lead_time_days, _load_id) VALUES ('SUP1', 'Steelco', 'DE', 'EUR', 30, 10, 'L0');
INSERT INTO accounts VALUES
  ('1000', 'Bank', 'asset', 'cash', 'L0'), ('1100', 'Receivables', 'asset', 'ar', 'L0'),
  ('1200', 'Raw materials', 'asset', 'inventory_raw', 'L0'), ('1300', 'WIP', 'asset', 'inventory_wip', 'L0'),
  ('2000', 'Payables', 'liability', 'ap', 'L0'), ('2100', 'VAT', 'liability', 'tax', 'L0'),
  ('2200', 'Payroll liability', 'liability', 'payroll_liability', 'L0'),
  ('4000', 'Sales', 'revenue', 'revenue', 'L0'), ('5100', 'Direct labor', 'expense', 'direct_labor', 'L0'),
  ('5200', 'Labor rate variance', 'expense', 'variance_labor_rate', 'L0'),
  ('6000', 'Office', 'expense', 'opex', 'L0'), ('7000', 'FX result', 'expense', 'other', 'L0');
INSERT INTO fx_rates VALUES ('2024-01-01', 'USD', 0.90000000, 'L0'), ('2024-01-15', 'USD', 0.91230000, 'L0'),
                            ('2024-02-01', 'USD', 0.92500000, 'L0');
INSERT INTO inventory_movements VALUES
  ('M1', '2024-01-03 08:00', 'S1', 'P1', 10, 2.5, 'receipt', 'GR1', 'L0'),
  ('M2', '2024-01-10 08:00', 'S1', 'P1', -4, 2.5, 'issue', 'PO-1', 'L0'),
  ('M3', '2024-01-20 08:00', 'S1', 'P1', -6, 2.5, 'issue', 'PO-2', 'L0');
INSERT INTO ar_invoices (invoice_id, customer_id, so_id, kind, invoice_date, due_date, currency, tax_amount, total, _load_id) VALUES
  ('AR-EUR', 'C1', 'SO1', 'invoice', '2024-01-10', '2024-02-09', 'EUR', 210.00, 1210.00, 'L0'),
  ('AR-USD', 'C2', 'SO2', 'invoice', '2024-01-20', '2024-02-19', 'USD', 0, 1000.00, 'L0'),
  ('AR-USD2', 'C2', 'SO3', 'invoice', '2024-02-01', '2024-03-02', 'USD', 0, 101.00, 'L0');
INSERT INTO ar_receipts VALUES ('R1', 'C1', '2024-02-05', 500.00, 'EUR', 'AR-EUR', 'L0'),
                               ('R2', 'C2', '2024-02-10', 400.00, 'USD', 'AR-USD', 'L0');
INSERT INTO ar_receipt_allocations VALUES ('R1', 'AR-EUR', 500.00, 'L0'), ('R2', 'AR-USD', 400.00, 'L0');
INSERT INTO ap_invoices VALUES ('AP1', 'SUP1', 'S-77', 'invoice', '2024-01-12', '2024-02-11', 'EUR', 0, 300.00, 'L0');
INSERT INTO ap_payments VALUES ('PAY1', 'SUP1', '2024-02-12', 300.00, 'EUR', 'S-77', 'L0');
INSERT INTO ap_payment_allocations VALUES ('PAY1', 'AP1', 300.00, 'L0');
INSERT INTO gl_entries VALUES
  ('E01', 'J-AR-EUR', '2024-01-10', '1100', NULL, 1210.00, 'EUR', 'AR-EUR', 'AR-EUR', 'L0'),
  ('E02', 'J-AR-EUR', '2024-01-10', '4000', NULL, -1000.00, 'EUR', 'AR-EUR', 'AR-EUR', 'L0'),
  ('E03', 'J-AR-EUR', '2024-01-10', '2100', NULL, -210.00, 'EUR', 'AR-EUR', 'AR-EUR', 'L0'),
  ('E04', 'J-AR-USD', '2024-01-20', '1100', NULL, 912.30, 'EUR', 'AR-USD', 'AR-USD', 'L0'),
  ('E05', 'J-AR-USD', '2024-01-20', '4000', NULL, -912.30, 'EUR', 'AR-USD', 'AR-USD', 'L0'),
  ('E06', 'J-AP1', '2024-01-12', '1200', NULL, 300.00, 'EUR', 'AP1', 'AP1', 'L0'),
  ('E07', 'J-AP1', '2024-01-12', '2000', NULL, -300.00, 'EUR', 'AP1', 'AP1', 'L0'),
  ('E08', 'J-PAYROLL', '2024-01-31', '5100', 'CC-PROD', 800.00, 'EUR', 'payroll', 'PR-01', 'L0'),
  ('E09', 'J-PAYROLL', '2024-01-31', '2200', NULL, -800.00, 'EUR', 'payroll', 'PR-01', 'L0'),
  ('E10', 'J-APPLY', '2024-01-31', '1300', NULL, 750.00, 'EUR', 'labor applied', 'WC-01', 'L0'),
  ('E11', 'J-APPLY', '2024-01-31', '5100', 'CC-PROD', -750.00, 'EUR', 'labor applied', 'WC-01', 'L0'),
  ('E12', 'J-VAR', '2024-01-31', '5200', 'CC-PROD', 50.00, 'EUR', 'labor rate variance', 'WC-01', 'L0'),
  ('E13', 'J-VAR', '2024-01-31', '5100', 'CC-PROD', -50.00, 'EUR', 'labor rate variance', 'WC-01', 'L0'),
  ('E14', 'J-R1', '2024-02-05', '1000', NULL, 500.00, 'EUR', 'R1', 'R1', 'L0'),
  ('E15', 'J-R1', '2024-02-05', '1100', NULL, -500.00, 'EUR', 'R1', 'R1', 'L0'),
  ('E16', 'J-R2', '2024-02-10', '1000', NULL, 370.00, 'EUR', 'R2', 'R2', 'L0'),
  ('E17', 'J-R2', '2024-02-10', '1100', NULL, -364.92, 'EUR', 'R2', 'R2', 'L0'),
  ('E18', 'J-R2', '2024-02-10', '7000', NULL, -5.08, 'EUR', 'R2 fx gain', 'R2', 'L0'),
  ('E19', 'J-AR-USD2', '2024-02-01', '1100', NULL, 93.42, 'EUR', 'AR-USD2', 'AR-USD2', 'L0'),
  ('E20', 'J-AR-USD2', '2024-02-01', '4000', NULL, -93.42, 'EUR', 'AR-USD2', 'AR-USD2', 'L0'),
  ('E21', 'J-PAY1', '2024-02-12', '2000', NULL, 300.00, 'EUR', 'PAY1', 'PAY1', 'L0'),
  ('E22', 'J-PAY1', '2024-02-12', '1000', NULL, -300.00, 'EUR', 'PAY1', 'PAY1', 'L0');
INSERT INTO bank_statements VALUES
  ('ST0', 'DE01', '2024-01-31', 'EUR', 1000.00, 1000.00, 'L0'),
  ('ST1', 'DE01', '2024-02-15', 'EUR', 1000.00, 1570.00, 'L0'),
  ('ST2', 'DE01', '2024-02-29', 'EUR', 1570.00, 1570.00, 'L0');
INSERT INTO bank_transactions VALUES
  ('BT1', 'ST1', 'DE01', '2024-02-05', '2024-02-05', 500.00, 'EUR', 'Alpha', 'AR-EUR', NULL, 'L0'),
  ('BT2', 'ST1', 'DE01', '2024-02-10', '2024-02-10', 370.00, 'EUR', 'Beta', NULL, NULL, 'L0'),
  ('BT3', 'ST1', 'DE01', '2024-02-12', '2024-02-12', -300.00, 'EUR', 'Steelco', 'S-77', NULL, 'L0'),
  ('BT4', NULL, 'DE01', '2024-03-01', '2024-03-01', 99.00, 'EUR', NULL, NULL, 'pending', 'L0');
"""


@pytest.fixture(scope="module")
def clean_template(tmp_path_factory):
    ws = opsfin.init(tmp_path_factory.mktemp("clean"))
    with ws.connect() as con:
        con.execute(CLEAN_SQL)
    return ws.path


@pytest.fixture
def ws(clean_template, tmp_path):
    """A fresh copy of the clean warehouse, to plant defects in."""
    dest = tmp_path / "ws"
    shutil.copytree(clean_template, dest)
    return opsfin.open(dest)


def plant(ws, sql: str) -> None:
    with ws.connect() as con:
        con.execute(sql)


def keys(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.check, f.table, f.key) for f in findings}


def test_clean_fixture_has_no_findings(ws):
    assert run_checks(ws) == []


def test_empty_warehouse_has_no_findings(tmp_path):
    assert run_checks(opsfin.init(tmp_path)) == []


def test_unbalanced_journal(ws):
    plant(
        ws,
        """INSERT INTO gl_entries VALUES
        ('X1', 'J-BAD', '2024-02-20', '6000', 'CC-ADM', 10.00, 'EUR', 'stationery', 'INV-9', 'L1'),
        ('X2', 'J-BAD', '2024-02-20', '1000', NULL, -9.99, 'EUR', 'stationery', 'INV-9', 'L1')""",
    )
    found = run_checks(ws)
    assert keys(found) == {("unbalanced_journal", "gl_entries", "J-BAD")}
    assert found[0].severity == "stop" and found[0].amount == Decimal("0.01")
    assert "J-BAD" in found[0].message and "0.01" in found[0].message


def test_ar_invoice_posted_for_wrong_amount(ws):
    # AR-X is 100.00 but the GL books 110.00: the AR control exceeds open AR by 10.00 at 2024-02-29.
    plant(
        ws,
        """
        INSERT INTO ar_invoices (invoice_id, customer_id, so_id, kind, invoice_date, due_date, currency, tax_amount, total, _load_id) VALUES ('AR-X', 'C1', 'SO9', 'invoice', '2024-02-15', '2024-03-15', 'EUR', 0, 100.00, 'L1');
        INSERT INTO gl_entries VALUES
          ('X1', 'J-AR-X', '2024-02-15', '1100', NULL, 110.00, 'EUR', 'AR-X', 'AR-X', 'L1'),
          ('X2', 'J-AR-X', '2024-02-15', '4000', NULL, -110.00, 'EUR', 'AR-X', 'AR-X', 'L1')""",
    )
    found = run_checks(ws)
    assert keys(found) == {("subledger_ar", "ar_invoices", "2024-02-29")}
    assert found[0].amount == Decimal("10.00")
    # control 1350.80 + 110.00 = 1460.80; open 1350.80 + 100.00 = 1450.80
    assert "1460.80" in found[0].message and "1450.80" in found[0].message


def test_ar_rounding_is_half_to_even(ws):
    # Booking AR-USD2 at 93.43 (93.425 rounded half away from zero) leaves 0.01 unexplained.
    plant(
        ws,
        "UPDATE gl_entries SET amount = 93.43 WHERE entry_id = 'E19';"
        "UPDATE gl_entries SET amount = -93.43 WHERE entry_id = 'E20'",
    )
    found = run_checks(ws)
    assert keys(found) == {("subledger_ar", "ar_invoices", "2024-02-29")}
    assert found[0].amount == Decimal("0.01")


def test_ap_invoice_missing_from_gl(ws):
    plant(
        ws,
        "INSERT INTO ap_invoices VALUES "
        "('AP2', 'SUP1', 'S-78', 'invoice', '2024-02-20', '2024-03-20', 'EUR', 0, 250.00, 'L1')",
    )
    found = run_checks(ws)
    assert keys(found) == {("subledger_ap", "ap_invoices", "2024-02-29")}
    assert found[0].amount == Decimal("-250.00")  # control 0.00 − open 250.00


def test_missing_fx_rate(ws):
    plant(
        ws,
        """
        INSERT INTO ar_invoices (invoice_id, customer_id, so_id, kind, invoice_date, due_date, currency, tax_amount, total, _load_id) VALUES ('AR-GBP', 'C1', 'SO8', 'invoice', '2024-02-10', '2024-03-10', 'GBP', 0, 50.00, 'L1');
        INSERT INTO gl_entries VALUES
          ('X1', 'J-AR-GBP', '2024-02-10', '1100', NULL, 58.00, 'EUR', 'AR-GBP', 'AR-GBP', 'L1'),
          ('X2', 'J-AR-GBP', '2024-02-10', '4000', NULL, -58.00, 'EUR', 'AR-GBP', 'AR-GBP', 'L1')""",
    )
    found = run_checks(ws)
    assert keys(found) == {
        ("fx_rate_missing", "ar_invoices", "GBP"),
        ("subledger_ar", "ar_invoices", "2024-02-29"),
    }
    assert [f.amount for f in found if f.check == "subledger_ar"] == [Decimal("58.00")]


def test_negative_stock(ws):
    # +10 (01-03), −4 (01-10), −1 (01-15), −6 (01-20): 10, 6, 5, −1 → negative from 2024-01-20 (M3).
    plant(
        ws,
        "INSERT INTO inventory_movements VALUES ('M4', '2024-01-15 08:00', 'S1', 'P1', -1, 2.5, 'scrap', 'PO-1', 'L1')",
    )
    found = run_checks(ws)
    assert keys(found) == {("negative_stock", "inventory_movements", "S1/P1")}
    assert "2024-01-20" in found[0].message and "M3" in found[0].message


def test_orphan_foreign_keys(ws):
    plant(
        ws,
        """
        INSERT INTO machines VALUES ('MX', 'WC-NONE', 'Press', 1.0, 10.0, 'L1');
        INSERT INTO goods_receipts VALUES ('GR9', 'PO9', 1, 5, '2024-01-05', 'L1')""",
    )
    found = run_checks(ws)
    assert keys(found) == {
        ("orphan_fk", "machines", "WC-NONE"),
        ("orphan_fk", "goods_receipts", "PO9/1"),
    }
    assert all(f.severity == "stop" for f in found)


def test_duplicate_primary_key(ws):
    plant(ws, "INSERT INTO products VALUES ('P1', 'Steel again', 'metal', 'raw', 'kg', 0, 2.5, 'L1')")
    found = run_checks(ws)
    assert keys(found) == {("duplicate_pk", "products", "P1")}


def test_statement_that_does_not_add_up(ws):
    plant(ws, "UPDATE bank_statements SET closing_balance = 1580.00 WHERE statement_id = 'ST2'")
    found = run_checks(ws)
    assert keys(found) == {("bank_statement_balance", "bank_statements", "ST2")}
    assert found[0].severity == "stop" and found[0].amount == Decimal("10.00")


def test_statement_chain_gap(ws):
    plant(
        ws,
        "UPDATE bank_statements SET opening_balance = 1575.00, closing_balance = 1575.00 WHERE statement_id = 'ST2'",
    )
    found = run_checks(ws)
    assert keys(found) == {("bank_statement_chain", "bank_statements", "ST2")}
    assert found[0].severity == "warn" and found[0].amount == Decimal("5.00")


def test_production_cost_centre_residual(ws):
    plant(
        ws,
        """INSERT INTO gl_entries VALUES
        ('X1', 'J-RES', '2024-02-20', '5100', 'CC-PROD', 25.00, 'EUR', 'overtime', 'PR-02', 'L1'),
        ('X2', 'J-RES', '2024-02-20', '2200', NULL, -25.00, 'EUR', 'overtime', 'PR-02', 'L1')""",
    )
    found = run_checks(ws)
    assert keys(found) == {("production_cc_balance", "gl_entries", "CC-PROD/direct_labor")}
    assert found[0].severity == "warn" and found[0].amount == Decimal("25.00")
    assert "2024-02-29" in found[0].message


def test_column_values(ws):
    plant(
        ws,
        """
        INSERT INTO sites VALUES ('S2', 'Depot', 'factory', 'South', 0.1, 'L1');
        INSERT INTO suppliers (supplier_id, name, country, currency, payment_terms_days, lead_time_days, _load_id) VALUES ('SUP2', 'Ironco', 'FR', 'eur', 30, 10, 'L1');
        INSERT INTO support_tickets VALUES ('T1', 'CC-ADM', NULL, '2024-01-02 09:00', NULL, 5, 6, 'L1')""",
    )
    found = run_checks(ws)
    assert keys(found) == {
        ("column_values", "sites", "S2"),
        ("column_values", "suppliers", "SUP2"),
        ("column_values", "support_tickets", "T1"),
    }
    msgs = " ".join(f.message for f in found)
    assert "'factory'" in msgs and "'eur'" in msgs and "csat above the maximum 5" in msgs


def test_half_even_sql_matches_python():
    from decimal import ROUND_HALF_EVEN, localcontext

    values = [
        0,
        5,
        15,
        25,
        -5,
        -15,
        -25,
        4,
        6,
        -4,
        -6,
        12345,
        -12345,
        10**30 + 5,
        -(10**30) - 15,
        7,
    ]
    sql = f"SELECT p, {half_even_div_sql('p', 10)} FROM (SELECT unnest($v::HUGEINT[]) AS p)"
    for p, got in duckdb.connect().execute(sql, {"v": values}).fetchall():
        with localcontext(prec=60):
            want = (Decimal(int(p)) / 10).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        assert Decimal(int(got)) == want, p


def test_finding_serialisation():
    f = Finding("unbalanced_journal", "stop", "gl_entries", "J1", "m", Decimal("0.10"))
    assert f.to_dict()["amount"] == "0.10"
    assert summary_line([f]) == "1 stop, 0 warn, 0 info"
    assert "unbalanced_journal" in CHECK_NAMES


def _run_cli(path) -> subprocess.CompletedProcess:
    return run_in_process("check", "-w", str(path), "--format", "json")


def test_cli_exit_codes(ws):
    ok = _run_cli(ws.path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == []
    assert "0 stop, 0 warn, 0 info" in ok.stderr
    plant(
        ws,
        """INSERT INTO gl_entries VALUES
        ('X1', 'J-BAD', '2024-02-20', '6000', 'CC-ADM', 10.00, 'EUR', 'stationery', 'INV-9', 'L1')""",
    )
    bad = _run_cli(ws.path)
    assert bad.returncode == 1, bad.stderr
    rows = json.loads(bad.stdout)
    assert [(r["check"], r["key"], r["amount"]) for r in rows] == [("unbalanced_journal", "J-BAD", "10.00")]
    assert "1 stop, 0 warn, 0 info" in bad.stderr


def test_cli_table_format(ws):
    runner = CliRunner()
    clean = runner.invoke(app, ["check", "-w", str(ws.path)])
    assert clean.exit_code == 0 and "No findings" in clean.output
    plant(
        ws,
        "UPDATE bank_statements SET opening_balance = 1575.00, closing_balance = 1575.00 WHERE statement_id = 'ST2'",
    )
    warned = runner.invoke(app, ["check", "-w", str(ws.path)])
    assert warned.exit_code == 0  # a warning alone does not fail
    assert "bank_statement_chain" in warned.output and "0 stop, 1 warn, 0 info" in warned.output
