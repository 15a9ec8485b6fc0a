"""The learned payment dates on a slice of IBM's public receivables sample (../shared/data/receivables):
the model beats paying on the due date, measured as benchmarks/bench_cash_ibm.py measures it."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import polars as pl
import pytest

from services import shared_file

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_cash_ibm.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_cash_ibm", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _bench()


def test_the_file_becomes_canonical_rows(bench):
    rows = bench.read_ibm(shared_file("receivables/ibm-accounts-receivable.csv"))
    # the file's first row: 0379-NEVHP, invoice 0000611365 of 1/2/2013, due 2/1/2013, 55.94, settled 1/15/2013
    first = rows.filter(pl.col("invoice_id") == "0000611365").to_dicts()[0]
    assert (first["customer_id"], first["invoice_date"], first["due_date"], first["settled_date"]) == (
        "0379-NEVHP",
        dt.date(2013, 1, 2),
        dt.date(2013, 2, 1),
        dt.date(2013, 1, 15),
    )
    assert (first["disputed"], first["paperless"]) == (False, False)
    assert rows.height == 2466


def test_the_model_beats_paying_on_the_due_date_on_a_slice(bench):
    rows = bench.read_ibm(shared_file("receivables/ibm-accounts-receivable.csv"))
    rows = rows.filter(pl.col("invoice_date") < dt.date(2013, 1, 1))  # 2012's invoices
    cuts = [dt.date(2012, 9, 1), dt.date(2012, 11, 1)]
    results = bench.evaluate(rows, bench.ibm_tables(rows), cuts)
    scores = bench.scores(results)
    assert scores["documents"] > 100
    assert set(results["method"]) == {"learned"}
    assert scores["mae_model"] < 0.8 * scores["mae_on_due"]
    assert scores["mae_model"] < scores["mae_customer_median"]
    # every expected date after the cut it was made at, inside its own P10–P90 range
    assert results.filter(pl.col("expected_date") <= pl.col("cut")).height == 0
    assert (
        results.filter(
            (pl.col("p10_date") > pl.col("expected_date")) | (pl.col("expected_date") > pl.col("p90_date"))
        ).height
        == 0
    )
