"""Ingest of a CSV of customers: counts, quarantine, the JSON contract, idempotence and --replace.

The CLI is exercised both in-process (`opsfin.cli.main`) and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from cli_support import run_cli
from opsfin import ingest
from opsfin.errors import UserError

HEADER = "customer_id,name,segment,country,currency,payment_terms_days,credit_limit\n"
GOOD = [
    "C1,Acme GmbH,retail,DE,EUR,30,1000.50\n",
    "C2,Beta SA,wholesale,FR,EUR,45,250000\n",
    "C3,Gamma Ltd,retail,GB,GBP,0,0.00\n",
]
BAD = {  # line number in the file -> (row, column, words of the reason)
    5: ("C4,Delta,retail,DE,EUR,30,abc\n", "credit_limit", "'abc' is not a decimal number"),
    6: ("C5,,retail,DE,EUR,30,10\n", "name", "a value is required"),
    7: ("C6,Eps,retail,DE,euro,30,10\n", "currency", "three-letter ISO currency code"),
    8: (
        "C1,Again,retail,DE,EUR,30,10\n",
        "customer_id",
        "customer_id 'C1' duplicates row 2 of this file",
    ),
    9: ("C7,Zeta,retail,DE,EUR,-1,10\n", "payment_terms_days", "below the minimum 0"),
    10: ("C8,Eta,retail,DE,EUR,30,12.345\n", "credit_limit", "more than 2 decimals"),
}

JSON_KEYS = {
    "load_id",
    "table",
    "source",
    "sha256",
    "rows_read",
    "rows_accepted",
    "rows_quarantined",
    "already_loaded",
    "tables",
}


@pytest.fixture
def customers_csv(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "".join(GOOD) + "".join(row for row, _, _ in BAD.values()), encoding="utf-8")
    return path


def run_subprocess(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "opsfin", *args], capture_output=True, text=True, timeout=120)


def test_good_and_bad_rows(workspace, customers_csv):
    result = ingest.ingest_file(workspace, customers_csv, table="customers")
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (9, 3, 6)
    assert result.rows_accepted + result.rows_quarantined == result.rows_read
    rows = workspace.sql("SELECT customer_id, credit_limit, _load_id FROM customers ORDER BY 1").to_dicts()
    assert [r["customer_id"] for r in rows] == ["C1", "C2", "C3"]
    assert rows[0]["credit_limit"] == Decimal("1000.50")
    assert {r["_load_id"] for r in rows} == {result.load_id}
    assert workspace.sql("SELECT typeof(credit_limit) t FROM customers LIMIT 1").item() == "DECIMAL(18,2)"

    q = ingest.list_quarantine(workspace, load_id=result.load_id)
    assert q.height == len(BAD)  # one quarantine row per bad row
    for rec in q.to_dicts():
        _row, column, words = BAD[rec["source_row"]]
        assert rec["column_name"] == column
        assert words in rec["reason"]
        assert rec["table_name"] == "customers"
        raw = json.loads(rec["raw_record"])
        assert raw["customer_id"] == _row.split(",")[0]

    loads = workspace.sql("SELECT * FROM loads").to_dicts()
    assert len(loads) == 1
    assert loads[0]["status"] == "loaded" and loads[0]["table_name"] == "customers"
    assert (loads[0]["rows_read"], loads[0]["rows_accepted"], loads[0]["rows_quarantined"]) == (
        9,
        3,
        6,
    )
    assert loads[0]["sha256"] == result.sha256 and len(result.sha256) == 64


def test_json_contract_in_process(workspace, customers_csv, capsys):
    code, out, err = run_cli(
        capsys,
        "ingest",
        str(customers_csv),
        "--table",
        "customers",
        "-w",
        str(workspace.path),
        "--format",
        "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert JSON_KEYS <= set(data)
    assert data["table"] == "customers" and data["already_loaded"] is False
    assert (data["rows_read"], data["rows_accepted"], data["rows_quarantined"]) == (9, 3, 6)
    assert data["tables"] == [{"table": "customers", "rows_read": 9, "rows_accepted": 3, "rows_quarantined": 6}]
    assert data["load_id"].startswith("L")

    code, out, _ = run_cli(
        capsys,
        "ingest",
        str(customers_csv),
        "--table",
        "customers",
        "-w",
        str(workspace.path),
        "--output",
        "json",
    )
    again = json.loads(out)
    assert code == 0 and again["already_loaded"] is True and again["load_id"] == data["load_id"]
    assert again["rows_accepted"] == 0


def test_json_contract_subprocess_and_idempotence(workspace, customers_csv):
    args = [
        "ingest",
        str(customers_csv),
        "--table",
        "customers",
        "-w",
        str(workspace.path),
        "--format",
        "json",
    ]
    first = run_subprocess(*args)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    data = json.loads(first.stdout)  # stdout holds only the JSON document
    assert JSON_KEYS <= set(data)
    assert data["rows_accepted"] + data["rows_quarantined"] == data["rows_read"] == 9

    second = run_subprocess(*args)
    again = json.loads(second.stdout)
    assert again["already_loaded"] is True and again["load_id"] == data["load_id"]
    assert workspace.sql("SELECT count(*) FROM customers").item() == 3
    assert workspace.sql("SELECT count(*) FROM quarantine").item() == 6
    assert workspace.sql("SELECT count(*) FROM loads").item() == 1


def test_table_output_names_reasons_and_hint(workspace, customers_csv, capsys):
    code, out, _ = run_cli(capsys, "ingest", str(customers_csv), "-t", "customers", "-w", str(workspace.path))
    assert code == 0
    assert "quarantined" in out and "opsfin quarantine --load L" in out
    assert "is not a decimal number" in out
    code, out, _ = run_cli(capsys, "ingest", str(customers_csv), "-t", "customers", "-w", str(workspace.path))
    assert code == 0 and "Already loaded" in out


def test_replace_reloads_and_supersedes(workspace, customers_csv):
    first = ingest.ingest_file(workspace, customers_csv, table="customers")
    again = ingest.ingest_file(workspace, customers_csv, table="customers")
    assert again.already_loaded and again.load_id == first.load_id
    second = ingest.ingest_file(workspace, customers_csv, table="customers", replace=True)
    assert not second.already_loaded and second.load_id != first.load_id
    assert second.replaced_load_ids == [first.load_id]
    assert second.rows_accepted == 3  # the earlier rows were deleted, so the keys are new again
    assert workspace.sql("SELECT DISTINCT _load_id FROM customers").item() == second.load_id
    assert workspace.sql("SELECT count(*) FROM quarantine").item() == 6
    assert workspace.sql("SELECT DISTINCT load_id FROM quarantine").item() == second.load_id
    status = dict(workspace.sql("SELECT load_id, status FROM loads").rows())
    assert status == {first.load_id: "superseded", second.load_id: "loaded"}
    # and once more without --replace: nothing added
    assert ingest.ingest_file(workspace, customers_csv, table="customers").load_id == second.load_id


def test_changed_file_is_a_new_load_and_keys_clash(workspace, customers_csv, tmp_path):
    ingest.ingest_file(workspace, customers_csv, table="customers")
    other = tmp_path / "more.csv"
    other.write_text(HEADER + "C1,Acme again,retail,DE,EUR,30,1\nC9,New,retail,DE,EUR,30,1\n", encoding="utf-8")
    result = ingest.ingest_file(workspace, other, table="customers")
    assert (result.rows_accepted, result.rows_quarantined) == (1, 1)
    reason = ingest.list_quarantine(workspace, load_id=result.load_id)["reason"].item()
    assert "customer_id 'C1' is already in customers" in reason


def test_quarantine_verb_formats(workspace, customers_csv, capsys):
    result = ingest.ingest_file(workspace, customers_csv, table="customers")
    code, out, _ = run_cli(
        capsys,
        "quarantine",
        "--load",
        result.load_id,
        "-w",
        str(workspace.path),
        "--format",
        "json",
    )
    records = json.loads(out)
    assert code == 0 and len(records) == 6
    assert records[0]["raw_record"]["customer_id"] == "C4"
    code, out, _ = run_cli(capsys, "quarantine", "--table", "customers", "-w", str(workspace.path), "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("load_id,table_name,source_row,column_name,reason")
    assert len(out.splitlines()) == 7
    code, out, _ = run_cli(capsys, "quarantine", "-w", str(workspace.path))
    assert code == 0 and "quarantine" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["ingest", "nothere.csv", "--table", "customers"], "file not found"),
        (
            ["ingest", "{csv}", "--table", "nope"],
            "unknown table 'nope'; the canonical tables are: sites",
        ),
        (["ingest", "{csv}"], "--table"),
        (["ingest", "{csv}", "--table", "loads"], "unknown table 'loads'"),
        (["ingest", "--sql", "SELECT 1", "--table", "customers"], "--source-url"),
        (["ingest", "{csv}", "--table", "customers", "--format", "yaml"], "--format 'yaml'"),
        (
            ["ingest", "{csv}", "--table", "customers", "--format", "json", "--output", "csv"],
            "disagree",
        ),
        (
            ["ingest", "{csv}", "--table", "customers", "--mapping", "nomap.yaml"],
            "mapping file not found",
        ),
        (["ingest", "{csv}", "--table", "customers", "--sheet", "S1"], "--sheet applies to Excel"),
        (["quarantine", "--load", "L-nope"], "no load 'L-nope'"),
        (["period", "close", "2024-13"], "YYYY-MM"),
    ],
)
def test_user_errors_exit_2_in_one_line(workspace, customers_csv, args, words):
    args = [a.replace("{csv}", str(customers_csv)) for a in args]
    proc = run_subprocess(*args, "-w", str(workspace.path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert words in lines[0]
    assert proc.stdout == ""


def test_user_error_in_process(workspace, capsys, tmp_path):
    code, out, err = run_cli(
        capsys,
        "ingest",
        str(tmp_path / "missing.csv"),
        "-t",
        "customers",
        "-w",
        str(workspace.path),
        "--format",
        "json",
    )
    assert code == 2 and out == "" and err.startswith("error: ") and "file not found" in err


def test_missing_required_column_is_a_user_error(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id,name\nC1,Acme\n", encoding="utf-8")
    with pytest.raises(UserError, match="required column.*segment"):
        ingest.ingest_file(workspace, path, table="customers")
    assert workspace.sql("SELECT count(*) FROM loads").item() == 0


def test_wrong_field_count_and_unused_columns(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        HEADER.strip() + ",note\n" + GOOD[0].strip() + ",hello\n" + "C2,Beta,retail\n",
        encoding="utf-8",
    )
    result = ingest.ingest_file(workspace, path, table="customers")
    assert (result.rows_accepted, result.rows_quarantined) == (1, 1)
    assert result.ignored_columns == ["note"]
    assert "row has 3 fields but the header has 8" in result.first_problems[0].reason


def test_semicolon_csv_and_blank_lines(workspace, tmp_path):
    path = tmp_path / "c.csv"
    text = HEADER.replace(",", ";") + "\n" + GOOD[0].replace(",", ";") + "\n\n" + GOOD[1].replace(",", ";")
    path.write_text(text, encoding="utf-8")
    result = ingest.ingest_file(workspace, path, table="customers")
    assert (result.rows_read, result.rows_accepted) == (2, 2)


@pytest.mark.parametrize(
    ("fmt", "doc", "out", "expected"),
    [
        (None, None, None, (None, "table")),
        ("json", None, None, (None, "json")),
        ("CSV", None, None, (None, "csv")),
        ("ubl", None, None, ("ubl", "table")),
        ("mt940", None, "json", ("mt940", "json")),
        ("json", "camt053", None, ("camt053", "json")),
        (None, "ubl", "csv", ("ubl", "csv")),
    ],
)
def test_format_option_takes_both_families(fmt, doc, out, expected):
    from opsfin.cli.ingest_cmds import resolve_formats

    got_doc, got_out = resolve_formats(fmt, doc, out)
    assert (got_doc, got_out.value) == expected


@pytest.mark.parametrize(
    "args",
    [
        ("pdf", None, None),
        ("ubl", "mt940", None),
        (None, "json", None),
        (None, None, "ubl"),
        ("table", None, "json"),
    ],
)
def test_format_option_conflicts(args):
    from opsfin.cli.ingest_cmds import resolve_formats

    with pytest.raises(UserError):
        resolve_formats(*args)
