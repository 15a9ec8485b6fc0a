"""docs/data-model.md is generated from opsfin.canonical, and the declarations are self-consistent."""

from __future__ import annotations

import duckdb
import pytest

from opsfin import warehouse
from opsfin.canonical import MODEL_TABLE_NAMES, SYSTEM_TABLES, TABLE_BY_NAME, TABLES
from opsfin.canonical.docs import (
    MODEL_MARKED_NULL,
    NULLABLE_CLARIFICATIONS,
    doc_path,
    render_data_model,
)
from opsfin.canonical.types import _ARROW_TYPES

ALL_TABLES = TABLES + SYSTEM_TABLES

# The tables of the canonical model v1 (docs/data-model.md), in its order.
DESIGN_TABLES = (
    # master data
    "sites",
    "cost_centers",
    "work_centers",
    "machines",
    "shifts",
    "employees",
    "products",
    "bom",
    "routings",
    "suppliers",
    "customers",
    "accounts",
    "activities",
    "fx_rates",
    # operations
    "production_orders",
    "operations",
    "machine_readings",
    "downtime_events",
    "maintenance_events",
    "quality_inspections",
    "timesheets",
    "warehouse_tasks",
    "support_tickets",
    "inventory_movements",
    # finance
    "gl_entries",
    "purchase_orders",
    "goods_receipts",
    "ap_invoices",
    "ap_invoice_lines",
    "ap_payments",
    "ap_payment_allocations",
    "sales_orders",
    "shipments",
    "ar_invoices",
    "ar_invoice_lines",
    "ar_receipts",
    "ar_receipt_allocations",
    "bank_statements",
    "bank_transactions",
    # plans
    "budget_lines",
    "volume_plan",
    "forecast_versions",
    "forecast_values",
    "plan_pnl",
    "plan_capacity",
    "plan_balances",
)
# key columns that may be null (null is one value of the key; docs/data-model.md says why)
NULL_IN_KEY = {("plan_pnl", "site_id")}


def test_docs_up_to_date():
    path = doc_path()
    assert path.exists(), f"{path} is missing; run `python -m opsfin.canonical.docs`"
    assert path.read_text(encoding="utf-8") == render_data_model(), (
        f"{path} differs from the canonical declarations; run `python -m opsfin.canonical.docs`"
    )


def test_table_set_equals_design():
    assert len(DESIGN_TABLES) == 46
    assert MODEL_TABLE_NAMES == DESIGN_TABLES
    assert {t.name for t in SYSTEM_TABLES} == {"loads", "quarantine", "closed_periods"}
    assert len(TABLE_BY_NAME) == len(ALL_TABLES)  # no name declared twice


@pytest.mark.parametrize("t", ALL_TABLES, ids=lambda t: t.name)
def test_primary_key_columns_exist_and_are_not_null(t):
    assert t.primary_key, f"{t.name} has no primary key"
    assert len(set(t.primary_key)) == len(t.primary_key)
    for c in t.primary_key:
        assert not t.column(c).nullable or (t.name, c) in NULL_IN_KEY, (
            f"{t.name}.{c} is in the primary key but nullable"
        )


@pytest.mark.parametrize("t", ALL_TABLES, ids=lambda t: t.name)
def test_foreign_keys_reference_existing_tables_and_columns(t):
    for f in t.foreign_keys:
        assert f.ref_table in TABLE_BY_NAME, f"{t.name}: unknown table {f.ref_table}"
        parent = TABLE_BY_NAME[f.ref_table]
        assert len(f.columns) == len(f.ref_columns)
        for c, r in zip(f.columns, f.ref_columns, strict=True):
            child_col, parent_col = t.column(c), parent.column(r)
            assert child_col.type == parent_col.type, f"{t.name}.{c} vs {parent.name}.{r}"
        # a reference must point at a key, or the check "has a parent" is ambiguous
        assert set(f.ref_columns) == set(parent.primary_key), f"{t.name} -> {parent.name}: not its key"


@pytest.mark.parametrize("t", ALL_TABLES, ids=lambda t: t.name)
def test_column_declarations_are_sound(t):
    names = t.column_names
    assert len(set(names)) == len(names), f"{t.name}: duplicate column"
    assert "_load_id" not in names
    for c in t.columns:
        assert c.type in _ARROW_TYPES, f"{t.name}.{c.name}: unknown type {c.type}"
        if c.allowed is not None:
            assert c.type == "VARCHAR" and c.allowed
        if c.pattern is not None:
            assert c.type == "VARCHAR"
        if c.minimum is not None or c.maximum is not None:
            assert c.type not in ("VARCHAR", "BOOLEAN", "DATE", "TIMESTAMP", "TIME")
        if c.minimum is not None and c.maximum is not None:
            assert c.minimum <= c.maximum


def test_ddl_creates_every_table_in_fresh_duckdb():
    con = duckdb.connect()
    warehouse.create_schema(con)
    warehouse.create_schema(con)  # idempotent
    found = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert found == set(TABLE_BY_NAME)
    for t in ALL_TABLES:
        cols = con.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [t.name],
        ).fetchall()
        assert [c[0] for c in cols] == t.all_column_names
        for (name, dtype, nullable), c in zip(cols, t.columns, strict=False):
            assert dtype == c.type, f"{t.name}.{name}"
            assert (nullable == "YES") == c.nullable, f"{t.name}.{name}"


def test_nullable_clarifications_are_complete():
    nullable = {(t.name, c.name) for t in TABLES for c in t.columns if c.nullable}
    assert MODEL_MARKED_NULL <= nullable, "a column the canonical model marks NULL is declared NOT NULL"
    assert nullable - MODEL_MARKED_NULL == set(NULLABLE_CLARIFICATIONS), (
        "update NULLABLE_CLARIFICATIONS in opsfin/canonical/docs.py"
    )


def test_check_mode(tmp_path, monkeypatch, capsys):
    from opsfin.canonical import docs

    target = tmp_path / "docs" / "data-model.md"
    monkeypatch.setattr(docs, "doc_path", lambda: target)
    assert docs.main(["--check"]) == 1
    assert docs.main([]) == 0
    assert docs.main(["--check"]) == 0
    target.write_text(target.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    assert docs.main(["--check"]) == 1
    assert "python -m opsfin.canonical.docs" in capsys.readouterr().err
