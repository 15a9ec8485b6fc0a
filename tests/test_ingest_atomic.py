"""A load is all or nothing: an error or a killed process midway leaves the warehouse as it was."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from opsfin import ingest, warehouse

HEADER = "customer_id,name,segment,country,currency,payment_terms_days,credit_limit\n"
ROWS = "C1,Acme,retail,DE,EUR,30,10\nC2,Beta,retail,DE,EUR,30,x\n"


def snapshot(ws) -> dict[str, list]:
    return {
        name: sorted(ws.sql(f'SELECT * FROM "{name}"').rows(), key=repr)
        for name in ("customers", "quarantine", "loads")
    }


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    return path


def fail_on_call(monkeypatch, n: int) -> list[str]:
    """Make the n-th warehouse.insert_arrow call raise (after the earlier ones really inserted)."""
    calls: list[str] = []
    real = warehouse.insert_arrow

    def flaky(con, table, data):
        calls.append(table.name)
        if len(calls) == n:
            raise RuntimeError("disk full (simulated)")
        return real(con, table, data)

    monkeypatch.setattr(warehouse, "insert_arrow", flaky)
    return calls


@pytest.mark.parametrize("n", [1, 2, 3])
def test_error_midway_leaves_warehouse_unchanged(workspace, csv_file, monkeypatch, n):
    before = snapshot(workspace)
    calls = fail_on_call(monkeypatch, n)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest.ingest_file(workspace, csv_file, table="customers")
    assert calls[-1] == ["customers", "quarantine", "loads"][n - 1]
    assert snapshot(workspace) == before
    monkeypatch.undo()
    result = ingest.ingest_file(workspace, csv_file, table="customers")  # not "already loaded"
    assert not result.already_loaded and (result.rows_accepted, result.rows_quarantined) == (1, 1)


def test_failed_replace_keeps_the_earlier_load(workspace, csv_file, monkeypatch):
    first = ingest.ingest_file(workspace, csv_file, table="customers")
    before = snapshot(workspace)
    fail_on_call(monkeypatch, 3)
    with pytest.raises(RuntimeError):
        ingest.ingest_file(workspace, csv_file, table="customers", replace=True)
    assert snapshot(workspace) == before
    monkeypatch.undo()
    assert ingest.ingest_file(workspace, csv_file, table="customers").load_id == first.load_id


def test_killed_process_leaves_warehouse_unchanged(workspace, csv_file):
    before = snapshot(workspace)
    script = textwrap.dedent(f"""
        import os
        from opsfin import ingest, warehouse
        real = warehouse.insert_arrow
        def dying(con, table, data):
            real(con, table, data)
            os._exit(9)  # killed right after the first insert, inside the transaction
        warehouse.insert_arrow = dying
        ingest.ingest_file({str(workspace.path)!r}, {str(csv_file)!r}, table="customers")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    assert snapshot(workspace) == before
    assert ingest.ingest_file(workspace, csv_file, table="customers").rows_accepted == 1
