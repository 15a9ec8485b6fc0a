"""Validation rules: value parsing, keys, foreign keys, GL journal balance and closed periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from opsfin import ingest
from opsfin.canonical import table
from opsfin.canonical.types import Table, col, fk
from opsfin.errors import UserError
from opsfin.ingest.mapping import Mapping
from opsfin.ingest.validate import Invalid, TableBatch, check_row, validate_load, value_checker


def check(table_name: str, column: str, raw, mapping: Mapping | None = None):
    return value_checker(table(table_name).column(column), mapping)(raw)


# ---------------------------------------------------------------- one value
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1000.5", Decimal("1000.50")),
        (" 12 ", Decimal("12.00")),
        ("0", Decimal("0.00")),
        (7, Decimal("7.00")),
        (Decimal("3.1"), Decimal("3.10")),
        (0.1, Decimal("0.10")),
        (0.1 + 0.2, Decimal("0.30")),
        ("1e3", Decimal("1000.00")),
        ("12.500", Decimal("12.50")),
    ],
)
def test_money_is_exact_decimal(raw, expected):
    value = check("customers", "credit_limit", raw)
    assert value == expected and isinstance(value, Decimal)
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("abc", "'abc' is not a decimal number"),
        ("12.345", "more than 2 decimals"),
        ("1,234.50", "not a decimal number (for 1.234,56"),
        (True, "true/false"),
        ("NaN", "not a decimal number"),
        ("-5", "below the minimum 0"),
        ("1e30", "too large for DECIMAL(18,2)"),
        ("", "a value is required"),
        (None, "a value is required"),
    ],
)
def test_money_refusals(raw, words):
    with pytest.raises(Invalid) as info:
        check("customers", "credit_limit", raw)
    assert str(info.value).startswith("column 'credit_limit': ")
    assert words in str(info.value)


def test_decimal_separators():
    de = Mapping(decimal_separator=",", thousands_separator=".")
    assert check("customers", "credit_limit", "1.234.567,8", de) == Decimal("1234567.80")
    assert check("customers", "credit_limit", "12,5", de) == Decimal("12.50")
    for bad in ("12.50", "1.23,4", "1,2,3"):
        with pytest.raises(Invalid):
            check("customers", "credit_limit", bad, de)
    assert check("customers", "credit_limit", "1'000.25", Mapping(thousands_separator="'")) == Decimal("1000.25")


def test_whole_numbers_and_doubles_read_the_mappings_separators_too():
    de = Mapping(decimal_separator=",", thousands_separator=".")
    assert check("customers", "payment_terms_days", "1.000", de) == 1000
    assert check("machines", "rated_kw", "1.234,5", de) == 1234.5
    with pytest.raises(Invalid, match="not a number"):
        check("machines", "rated_kw", "12.5", de)  # groups of three only: "12.5" is no number here


def test_price_and_rate_scales():
    assert check("products", "list_price", "1.2345") == Decimal("1.2345")
    with pytest.raises(Invalid, match="more than 4 decimals"):
        check("products", "list_price", "1.23456")
    assert check("fx_rates", "rate_to_base", "0.12345678") == Decimal("0.12345678")


@pytest.mark.parametrize(
    ("table_name", "column", "raw", "expected"),
    [
        ("customers", "payment_terms_days", "30", 30),
        ("customers", "payment_terms_days", "30.0", 30),
        ("customers", "payment_terms_days", 45.0, 45),
        ("routings", "value_added", "Yes", True),
        ("routings", "value_added", "0", False),
        ("routings", "value_added", "FALSE", False),
        ("routings", "value_added", 1, True),
        ("machines", "rated_kw", "7.5", 7.5),
        ("shifts", "start_time", "06:00", dt.time(6)),
        ("shifts", "start_time", "22:30:15", dt.time(22, 30, 15)),
        ("fx_rates", "rate_date", "2024-02-29", dt.date(2024, 2, 29)),
        ("fx_rates", "rate_date", "2024-02-29 00:00:00", dt.date(2024, 2, 29)),
        ("fx_rates", "rate_date", dt.datetime(2024, 2, 29), dt.date(2024, 2, 29)),
        ("production_orders", "released_at", "2024-01-05 08:30:00", dt.datetime(2024, 1, 5, 8, 30)),
        ("production_orders", "released_at", "2024-01-05T08:30", dt.datetime(2024, 1, 5, 8, 30)),
        ("production_orders", "released_at", "", None),
        ("customers", "name", "  Acme  ", "Acme"),
        ("customers", "customer_id", 1001.0, "1001"),
    ],
)
def test_types(table_name, column, raw, expected):
    assert check(table_name, column, raw) == expected


@pytest.mark.parametrize(
    ("table_name", "column", "raw", "words"),
    [
        ("customers", "payment_terms_days", "30.5", "not a whole number"),
        ("customers", "payment_terms_days", "3000000000", "too large for INTEGER"),
        ("routings", "value_added", "maybe", "not true/false"),
        ("machines", "rated_kw", "inf", "not a number"),
        ("shifts", "start_time", "25:00", "not a time of day"),
        ("shifts", "hours", "25", "above the maximum 24"),
        ("fx_rates", "rate_date", "05.01.2024", "not a date (YYYY-MM-DD; set date_format"),
        ("fx_rates", "rate_date", "2024-02-30", "not a date"),
        ("fx_rates", "rate_date", "2024-01-05 10:00", "has a time of day"),
        ("production_orders", "released_at", "2024-01-05T08:30:00+01:00", "time zone"),
        ("production_orders", "released_at", "yesterday", "not a timestamp"),
        (
            "sites",
            "kind",
            "Plant",
            "'Plant' is not one of plant, warehouse, support (did you mean 'plant'?)",
        ),
        ("customers", "currency", "eur", "three-letter ISO currency code"),
        ("customers", "name", {"a": 1}, "not text"),
        ("customers", "payment_terms_days", True, "is a true/false value, not a whole number"),
        ("machines", "rated_kw", False, "is a true/false value, not a number"),
    ],
)
def test_type_refusals(table_name, column, raw, words):
    with pytest.raises(Invalid) as info:
        check(table_name, column, raw)
    assert words in str(info.value)


def test_null_values_of_the_mapping():
    mapping = Mapping(null_values=["", "NULL", "n/a"])
    assert check("employees", "work_center_id", "NULL", mapping) is None
    assert check("employees", "work_center_id", "n/a", mapping) is None
    with pytest.raises(Invalid, match="a value is required"):
        check("customers", "name", "NULL", mapping)


# ---------------------------------------------------------------- keys (pure, with a fake warehouse)
class FakeWarehouse:
    def __init__(self, keys=None, closed=()):
        self.keys = keys or {}
        self.closed = set(closed)

    def existing_keys(self, table, columns, keys):
        have = self.keys.get((table.name, columns), set())
        return {k: "L-old" for k in keys if k in have}

    def closed_periods(self):
        return self.closed


PARTS = Table(
    "parts",
    "test",
    "a self-referencing table",
    (col("part_id"), col("parent_id", null=True)),
    ("part_id",),
    (fk("parent_id", "parts", "part_id"),),
)


def batch(decl, rows):
    checkers = {c.name: value_checker(c) for c in decl.columns}
    return TableBatch(decl, [check_row(checkers, r, i + 2, r) for i, r in enumerate(rows)])


def test_self_referencing_master_data_in_one_file():
    rows = [
        {"part_id": "B", "parent_id": "A"},
        {"part_id": "A", "parent_id": None},
        {"part_id": "C", "parent_id": "X"},
        {"part_id": "D", "parent_id": "C"},
        {"part_id": "E", "parent_id": "W"},
    ]
    [b] = validate_load([batch(PARTS, rows)], FakeWarehouse({("parts", ("part_id",)): {("W",)}}))
    assert [c.typed["part_id"] for c in b.accepted] == ["B", "A", "E"]
    reasons = {c.typed["part_id"]: c.problems[0].reason for c in b.quarantined}
    assert reasons["C"] == "parent_id 'X' is not in parts; load it first"
    assert "parent_id 'C' is not in parts" in reasons["D"]  # C itself was refused


def test_duplicate_key_first_valid_row_wins():
    rows = [
        {"part_id": "A", "parent_id": None},
        {"part_id": None, "parent_id": None},
        {"part_id": "A", "parent_id": None},
    ]
    [b] = validate_load([batch(PARTS, rows)], FakeWarehouse())
    assert [c.number for c in b.accepted] == [2]
    assert b.quarantined[1].problems[0].reason == "part_id 'A' duplicates row 2 of this file"


# ---------------------------------------------------------------- against a real warehouse
def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_master(workspace, tmp_path):
    ingest.ingest_file(
        workspace,
        write(
            tmp_path,
            "sites.csv",
            "site_id,name,kind,region,std_energy_price\nS1,Plant,plant,EU,0.15\n",
        ),
        table="sites",
    )
    ingest.ingest_file(
        workspace,
        write(
            tmp_path,
            "cc.csv",
            "cost_center_id,site_id,name,kind,owner\nCC1,S1,Assembly,production,ann\nCC2,S9,Ghost,admin,bob\n",
        ),
        table="cost_centers",
    )
    ingest.ingest_file(
        workspace,
        write(
            tmp_path,
            "acc.csv",
            "account_id,name,type,role\n1000,Bank,asset,cash\n4000,Sales,revenue,revenue\n6000,Opex,expense,opex\n",
        ),
        table="accounts",
    )


def test_foreign_keys_against_master_data(workspace, tmp_path):
    load_master(workspace, tmp_path)
    q = ingest.list_quarantine(workspace, table="cost_centers").to_dicts()
    assert len(q) == 1 and q[0]["column_name"] == "site_id"
    assert q[0]["reason"] == "site_id 'S9' is not in sites; load it first"
    assert workspace.sql("SELECT cost_center_id FROM cost_centers").item() == "CC1"


GL_HEADER = "entry_id,journal_id,posting_date,account_id,cost_center_id,amount,currency,description,source_doc\n"


def test_gl_journal_balance_one_bad_row_quarantines_its_journal(workspace, tmp_path):
    load_master(workspace, tmp_path)
    gl = write(
        tmp_path,
        "gl.csv",
        GL_HEADER + "E1,J1,2024-01-31,1000,,100.00,EUR,sale,INV1\n"
        "E2,J1,2024-01-31,4000,CC1,-100.00,EUR,sale,INV1\n"
        "E3,J2,2024-01-31,1000,,50.00,EUR,sale,INV2\n"
        "E4,J2,2024-01-31,9999,,-30.00,EUR,sale,INV2\n"  # unknown account
        "E5,J2,2024-01-31,4000,,-20.00,EUR,sale,INV2\n"
        "E6,J3,2024-01-31,1000,,10.00,EUR,x,D3\n"
        "E7,J3,2024-01-31,6000,CC1,-9.99,EUR,x,D3\n",
    )  # does not balance
    result = ingest.ingest_file(workspace, gl, table="gl_entries")
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (7, 2, 5)
    assert workspace.sql("SELECT sum(amount) FROM gl_entries").item() == 0
    q = {r["source_row"]: r for r in ingest.list_quarantine(workspace, table="gl_entries").to_dicts()}
    assert sorted(q) == [4, 5, 6, 7, 8]
    assert q[5]["reason"] == "account_id '9999' is not in accounts; load it first"
    for row in (4, 6):
        assert "journal 'J2' is refused as a whole" in q[row]["reason"]
        assert "row 5" in q[row]["reason"] and "sum to 30.00, not 0" in q[row]["reason"]
        assert q[row]["column_name"] == "journal_id"
    for row in (7, 8):
        assert q[row]["reason"] == "journal 'J3' does not balance: its 2 rows sum to 0.01, not 0"


def test_closed_period_quarantines_gl_rows(workspace, tmp_path):
    load_master(workspace, tmp_path)
    closed = ingest.close_period(workspace, "2024-01", "controller")
    assert closed["period"] == "2024-01"
    with pytest.raises(UserError, match="already closed"):
        ingest.close_period(workspace, "2024-01", "someone")
    with pytest.raises(UserError, match="YYYY-MM"):
        ingest.close_period(workspace, "2024-1", "someone")
    assert [p["period"] for p in ingest.list_periods(workspace)] == ["2024-01"]
    gl = write(
        tmp_path,
        "gl.csv",
        GL_HEADER + "E1,J1,2024-01-31,1000,,100.00,EUR,late,INV1\n"
        "E2,J1,2024-02-01,4000,,-100.00,EUR,late,INV1\n"
        "E3,J2,2024-02-01,1000,,5.00,EUR,ok,INV2\n"
        "E4,J2,2024-02-01,4000,,-5.00,EUR,ok,INV2\n",
    )
    result = ingest.ingest_file(workspace, gl, table="gl_entries")
    assert (result.rows_accepted, result.rows_quarantined) == (2, 2)
    q = ingest.list_quarantine(workspace, table="gl_entries").to_dicts()
    assert q[0]["column_name"] == "posting_date"
    assert "posting_date 2024-01-31 is in the closed period 2024-01" in q[0]["reason"]
    assert "journal 'J1' is refused as a whole" in q[1]["reason"]


def run(*args: str) -> int:
    from opsfin.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_period_cli(workspace, capsys):
    ws = str(workspace.path)
    assert run("period", "close", "2024-03", "--by", "ann", "-w", ws) == 0
    assert run("period", "list", "-w", ws, "--format", "csv") == 0
    out = capsys.readouterr().out
    assert "2024-03 closed by ann" in out and out.splitlines()[-1].startswith("2024-03,")
    assert run("period", "close", "2024-03", "-w", ws) == 2
    assert "already closed" in capsys.readouterr().err
    assert run("period", "close", "2024-04", "-w", ws) == 0  # --by defaults to the user name
    assert len(ingest.list_periods(workspace)) == 2
