"""The presentation layer: one formatter per unit kind, labels, tables that fit 80 columns, and errors
worded by each front end from their fields (docs/presentation.md). Expected values are worked by hand."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from cli_support import run_cli
from opsfin.core.numbers import format_number, format_with_unit, plain_text
from opsfin.core.periods import parse_day, range_error
from opsfin.errors import UserError, api_name
from opsfin.kpis.definitions import KPI_BY_ID
from opsfin.present import humanise, kpi_kind, kpi_value_kind, label
from opsfin.web.problems import user_error_problem
from web_support import add_people, assert_problem, bearer


# ------------------------------------------------------------------------------------------ formatters
@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (0.46749422089216364, "ratio", "46.7%"),  # 46.749…% → one decimal
        (Decimal("-1234567.5"), "money", "-1,234,567.50"),  # sign in front, separators, cents
        (Decimal("8.0600"), "money", "8.0600"),  # a 4-place unit price keeps its places
        (1234.5, "money", "1,234.50"),  # a float amount: cents
        (1234567, "count", "1,234,567"),
        (13432.0, "quantity", "13,432"),  # whole units without decimals
        (12.5, "quantity", "12.50"),  # a part unit: two decimals
        (90.57254830917874, "hours", "90.6"),
        (733.1513513513514, "minutes", "733.2"),
        (0.5213, "rate", "0.521"),  # three significant digits
        (1234.4, "rate", "1,234"),
        (4.2, "score", "4.20"),
        (1965938.882999996, "number", "1,965,938.88"),
        (dt.date(2024, 3, 31), "date", "2024-03-31"),
        (dt.datetime(2024, 3, 31, 14, 5, 59), "datetime", "2024-03-31 14:05"),
        (None, "money", ""),
        (float("nan"), "ratio", ""),
        (0.25, "percent", "25.0%"),  # the pack's name for ratio
        (7, "integer", "7"),  # the pack's name for count
    ],
)
def test_one_formatter_per_unit_kind(value, kind, text):
    assert format_number(value, kind) == text


def test_money_with_its_currency_puts_the_code_in_front():
    assert format_number(Decimal("-1234567.5"), "money", currency="EUR") == "EUR -1,234,567.50"


def test_a_sentence_writes_the_catalog_unit_after_the_value():
    assert format_with_unit(0.125, "ratio") == "12.5%"
    assert format_with_unit(48200, "money") == "48,200.00"
    assert format_with_unit(41.26, "days") == "41.3 days"
    assert format_with_unit(0.4, "kWh/unit") == "0.4 kWh/unit"  # a sentence drops 0.400's zeros
    assert format_with_unit(None, "ratio") == "n/a"


def test_plain_text_is_exact_for_csv_cells_and_finding_keys():
    assert plain_text(Decimal("-1234567.5000")) == "-1234567.5000"  # every digit, no separators
    assert plain_text(dt.datetime(2024, 3, 31, 14, 5, 59)) == "2024-03-31T14:05:59"
    assert plain_text(dt.time(6, 0)) == "06:00:00"
    assert plain_text(None) == "" and plain_text(None, none="NULL") == "NULL"
    from opsfin.integrity.findings import fmt_key

    assert fmt_key(("PO-1", 2, None, dt.date(2024, 2, 29))) == "PO-1/2/NULL/2024-02-29"


def test_a_kpis_unit_comes_from_the_catalog():
    assert (
        kpi_kind(KPI_BY_ID, "oee"),
        kpi_kind(KPI_BY_ID, "revenue"),
        kpi_kind(KPI_BY_ID, "dso"),
        kpi_kind(KPI_BY_ID, "energy_per_unit"),
        kpi_kind(KPI_BY_ID, "output_units"),
    ) == ("ratio", "money", "days", "rate", "quantity")
    rows = [
        {"kpi": "oee", "value": 0.46749422089216364},
        {"kpi": "revenue", "value": 1234.5},
        {"kpi": "dso", "value": 41.26},
    ]
    table = humanise(rows, ["kpi", "value"], {"value": kpi_value_kind(KPI_BY_ID)})
    assert [r[1] for r in table.cells] == ["46.7%", "1,234.50", "41.3"]


def test_labels_for_categories_and_columns_and_a_fallback():
    assert label("var_overhead_spending") == "Variable overhead spending"
    assert label("cm_ratio") == "CM ratio"
    assert label("lead_time_hours") == "Lead time (h)"  # fallback: sentence case, unit in brackets
    assert label("supplier_lead_id") == "Supplier lead"  # fallback drops a trailing id
    assert label("po_receipt_kwh") == "PO receipt (kWh)"


# ------------------------------------------------------------------------------------------ tables
UNIT_ECONOMICS = [
    {
        "product_id": "FG-001",
        "units": 13432.0,
        "revenue": Decimal("12345678.90"),
        "material": Decimal("-9876543.21"),
        "unit_cost": Decimal("1234.5678"),
        "contribution_margin": Decimal("-1234567.50"),
        "cm_ratio": 0.46749422089216364,
    },
    {
        "product_id": "FG-002",
        "units": 22568.0,
        "revenue": Decimal("7265487.08"),
        "material": Decimal("3763116.83"),
        "unit_cost": Decimal("171.3817"),
        "contribution_margin": Decimal("3423599.82"),
        "cm_ratio": 0.4712140813551622,
    },
]
# by hand: each figure as the table must show it, whole
SHOWN = {
    "FG-001": ["13,432", "12,345,678.90", "-9,876,543.21", "1,234.5678", "-1,234,567.50", "46.7%"],
    "FG-002": ["22,568", "7,265,487.08", "3,763,116.83", "171.3817", "3,423,599.82", "47.1%"],
}


def _render(width: int):
    from opsfin.cli.output import fit_table

    human = humanise(UNIT_ECONOMICS, list(UNIT_ECONOMICS[0]))
    table, hidden = fit_table(human, width, "Unit economics")
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(table)
    return out.getvalue().splitlines(), hidden


def test_a_seven_column_table_fits_80_columns_with_every_number_whole():
    # narrowest widths: 7 (Product) + 6 + 13 + 13 + 10 + 13 (-1,234,567.50) + 5 (ratio) = 67, + 6 gaps of 2 = 79
    lines, hidden = _render(80)
    assert hidden == 0 and max(len(line) for line in lines) <= 80
    for product, figures in SHOWN.items():
        row = next(line for line in lines if line.startswith(product))
        assert row.split()[1:] == figures


def test_a_narrower_table_leaves_out_the_least_important_columns_not_digits():
    # at 60: 79 > 60; first the rightmost ordinary column (material: 79 - 15 = 64), then units (64 - 8 = 56)
    lines, hidden = _render(60)
    assert hidden == 2 and max(len(line) for line in lines) <= 60
    row = next(line for line in lines if line.startswith("FG-001"))
    assert row.split()[1:] == ["12,345,678.90", "1,234.5678", "-1,234,567.50", "46.7%"]


def test_csv_and_json_keep_every_digit(tmp_path, capsys):
    from opsfin.cli.options import OutputFormat
    from opsfin.cli.output import print_rows

    print_rows(UNIT_ECONOMICS[:1], OutputFormat.csv)
    assert (
        capsys.readouterr().out.splitlines()[1]
        == "FG-001,13432.0,12345678.90,-9876543.21,1234.5678,-1234567.50,0.46749422089216364"
    )
    print_rows(UNIT_ECONOMICS[:1], OutputFormat.json)
    out = capsys.readouterr().out
    assert '"revenue": "12345678.90"' in out and '"cm_ratio": 0.46749422089216364' in out


# ------------------------------------------------------------------------------------------ errors
def test_a_plain_user_error_still_works():
    exc = UserError("no such table")
    assert str(exc) == "no such table" and exc.phrase(api_name) == "no such table" and exc.param is None


def test_an_error_on_start_is_phrased_from_on_the_cli_and_from_in_the_api():
    exc = range_error(dt.date(2024, 5, 1), dt.date(2024, 4, 1))
    assert (exc.param, exc.value) == ("start", dt.date(2024, 5, 1))
    assert str(exc) == "--from 2024-05-01 is after --to 2024-04-01"
    body = user_error_problem(exc).body()
    assert body["detail"] == "from 2024-05-01 is after to 2024-04-01"
    assert (body["status"], body["param"], body["value"]) == (400, "from", "2024-05-01")


def test_a_bad_day_names_the_parameter_each_way():
    with pytest.raises(UserError) as caught:
        parse_day("2024-13-01", "--from")
    assert str(caught.value) == "--from: '2024-13-01' is not a date; use YYYY-MM-DD"
    assert caught.value.phrase(api_name) == "from: '2024-13-01' is not a date; use YYYY-MM-DD"
    assert user_error_problem(caught.value).body()["hint"] == "use YYYY-MM-DD"


def test_the_cli_and_the_api_word_the_same_error(tmp_path, capsys):
    ws = tmp_path / "ws"
    assert run_cli(capsys, "init", str(ws))[0] == 0
    code, _, err = run_cli(capsys, "kpi", "oee", "--from", "2024-05-01", "--to", "2024-04-01", "-w", str(ws))
    assert (code, err) == (2, "error: --from 2024-05-01 is after --to 2024-04-01\n")

    from opsfin.web.app import create_app

    # the same mistake through the real API, authenticated (the API authenticates before it validates)
    db, tokens = add_people(f"sqlite:///{tmp_path}/app.db")
    client = TestClient(create_app(ws, app_db_url=f"sqlite:///{tmp_path}/app.db"))
    response = client.get(
        "/api/v1/kpis/oee",
        params={"from": "2024-05-01", "to": "2024-04-01"},
        headers=bearer(tokens["ada"]),
    )
    db.close()
    body = assert_problem(response, 400, r"^from 2024-05-01 is after to 2024-04-01$")
    assert body["param"] == "from"
