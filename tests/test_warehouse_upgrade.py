"""`opsfin init` on a workspace made by an older model adds the new nullable columns and keeps every row."""

import duckdb
import pytest

from opsfin import warehouse
from opsfin.canonical import table
from opsfin.errors import UserError


def test_a_missing_nullable_column_is_added_and_rows_are_kept(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    suppliers = table("suppliers")
    old = [c for c in suppliers.columns if c.name not in ("discount_pct", "discount_days")]
    assert len(old) == len(suppliers.columns) - 2  # the two columns the older model lacked
    con.execute("CREATE TABLE suppliers (" + ", ".join(f'"{c.name}" {c.type}' for c in old) + ', "_load_id" VARCHAR)')
    con.execute("INSERT INTO suppliers (supplier_id, name, country, currency) VALUES ('S1', 'Acme', 'DE', 'EUR')")
    assert warehouse.add_missing_columns(con, suppliers) == ["discount_pct", "discount_days"]
    rows = con.execute("SELECT supplier_id, discount_pct, discount_days FROM suppliers").fetchall()
    assert rows == [("S1", None, None)]
    assert warehouse.add_missing_columns(con, suppliers) == []  # twice is once


def test_a_missing_required_column_is_refused(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE suppliers (name VARCHAR)")
    with pytest.raises(UserError, match="supplier_id"):
        warehouse.add_missing_columns(con, table("suppliers"))
