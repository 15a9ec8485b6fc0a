"""`opsfin forecast demand`: shipped quantity per product × site × month forecast, reconciled over the
hierarchy and stored as a plan version (docs/forecasting.md "Demand forecasts from the warehouse").

The tiny demo company has 4 months of shipments (2024-01 … 2024-04), six finished goods in four
families, all shipped from W1. Forecasts use `--models Naive`: the model does not matter to what is
checked here (sums, isolation from later data, what is stored)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd
import pytest

import opsfin
from cli_support import run_cli
from opsfin.forecast import hierarchy
from opsfin.forecast.hierarchy import aggregate, reconcile, structure

AS_OF = "2024-03"
ROW_KEYS = {"period", "level", "key", "p10", "p50", "p90", "model"}


def _copy(tiny_demo, dest):
    shutil.copytree(tiny_demo.path, dest)
    return opsfin.open(dest)


def _demand(capsys, ws, version, *extra, as_of=AS_OF, horizon="2"):
    return run_cli(
        capsys,
        "forecast",
        "demand",
        "--as-of",
        as_of,
        "--horizon",
        horizon,
        "--version",
        version,
        "--models",
        "Naive",
        "-w",
        str(ws.path),
        *extra,
    )


def _main(*args: str) -> str:
    """The CLI's standard output, for a fixture that outlives one test's capsys."""
    import contextlib
    import io

    from opsfin.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            if exc.code:
                raise AssertionError(err.getvalue()) from exc
    return out.getvalue()


@pytest.fixture(scope="module")
def stored(tiny_demo, tmp_path_factory):
    """A copy of the tiny company with version F1 stored (as of 2024-03, 2 months), and its JSON."""
    ws = _copy(tiny_demo, tmp_path_factory.mktemp("fc") / "ws")
    args = ("--as-of", AS_OF, "--horizon", "2", "--version", "F1", "--models", "Naive", "--format", "json")
    return ws, json.loads(_main("forecast", "demand", *args, "-w", str(ws.path)))


def _d(x: float) -> Decimal:
    """A stored quantity as the decimal it was written from (its shortest repr)."""
    return Decimal(repr(x))


# ------------------------------------------------------------------------------------------ JSON and sums
def test_json_shape(stored):
    _, doc = stored
    assert set(doc) == {"version", "as_of", "rows"}
    assert doc["version"] == "F1" and doc["as_of"] == "2024-03"
    assert all(set(r) == ROW_KEYS for r in doc["rows"])
    assert {r["period"] for r in doc["rows"]} == {"2024-04-01", "2024-05-01"}
    levels = {(r["level"], r["key"]) for r in doc["rows"]}
    # the six regular products, and the spare part SP-001, which ships once (2024-02-22) before the as-of month
    products = {f"FG-00{i}" for i in range(1, 7)} | {"SP-001"}
    assert levels == (
        {("total", "total"), ("site", "W1")}
        | {("family", f) for f in ("Pumps", "Valves", "Controllers", "Sensors", "Spare parts")}
        | {("product", p) for p in products}
        | {("product_site", f"{p}/W1") for p in products}
    )
    assert len(doc["rows"]) == 2 * (1 + 1 + 5 + 7 + 7)


def test_every_level_adds_up_exactly_every_month(stored):
    ws, doc = stored
    families = dict(ws.sql("SELECT product_id, family FROM products").iter_rows())
    p50 = {(r["period"], r["level"], r["key"]): _d(r["p50"]) for r in doc["rows"]}
    for month in ("2024-04-01", "2024-05-01"):
        cells = {k: v for (m, lv, k), v in p50.items() if m == month and lv == "product_site"}
        total = p50[(month, "total", "total")]
        assert sum(cells.values()) == total
        assert sum(v for (m, lv, _), v in p50.items() if m == month and lv == "family") == total
        assert sum(v for (m, lv, _), v in p50.items() if m == month and lv == "site") == total
        for product in {k.split("/")[0] for k in cells}:
            assert p50[(month, "product", product)] == sum(v for k, v in cells.items() if k.startswith(product + "/"))
        for family in set(families.values()) & {k for (m, lv, k) in p50 if lv == "family"}:
            members = [k for k in cells if families[k.split("/")[0]] == family]
            assert p50[(month, "family", family)] == sum(cells[k] for k in members)
        assert p50[(month, "site", "W1")] == sum(cells.values())
    for r in doc["rows"]:
        assert 0 <= r["p10"] <= r["p50"] <= r["p90"]


def test_what_is_stored(stored):
    ws, doc = stored
    versions = ws.sql("SELECT * FROM forecast_versions").to_dicts()
    assert len(versions) == 1
    v = versions[0]
    assert (v["version"], v["as_of"], v["horizon"], v["level"], v["models"]) == (
        "F1",
        dt.date(2024, 3, 1),
        2,
        80,
        "Naive",
    )
    assert v["reconciler"] in hierarchy.RECONCILERS
    values = ws.sql("SELECT count(*) AS n FROM forecast_values WHERE version = 'F1'").item()
    assert values == len(doc["rows"])
    loads = ws.sql("SELECT table_name, rows_accepted FROM loads WHERE load_id = 'FORECAST-F1' ORDER BY 1").rows()
    # volume_plan: 7 products × 2 months
    assert loads == [("forecast_values", len(doc["rows"])), ("forecast_versions", 1), ("volume_plan", 14)]
    from opsfin.appdb import open_app_db

    entries = [e for e in open_app_db(ws).audit_entries() if e["action"] == "forecast.demand"]
    assert [e["object_id"] for e in entries] == ["F1"]


def test_volume_plan_rows_with_the_latest_actual_price(stored, tiny_demo, tmp_path):
    ws, doc = stored
    plan = {
        (r["period"], r["product_id"]): r for r in ws.sql("SELECT * FROM volume_plan WHERE version = 'F1'").to_dicts()
    }
    products = {r["key"] for r in doc["rows"] if r["level"] == "product"}
    assert len(plan) == len(products) * 2  # every forecast product × 2 months
    for r in doc["rows"]:
        if r["level"] == "product":
            assert plan[(dt.date.fromisoformat(r["period"]), r["key"])]["qty"] == r["p50"]
    # on a copy whose 2024-03 invoices are all in the base currency (EUR; the others removed), a product's
    # price is Σ amount ÷ Σ qty of its invoice lines of 2024-03, the as-of month, half-even to 4 places
    eur = _copy(tiny_demo, tmp_path / "eur")
    march = "SELECT invoice_id FROM ar_invoices WHERE invoice_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'"
    with eur.connect() as con:
        con.execute(f"DELETE FROM ar_invoice_lines WHERE invoice_id IN ({march} AND currency <> 'EUR')")
        con.execute(f"DELETE FROM ar_invoices WHERE invoice_id IN ({march} AND currency <> 'EUR')")
    _main("forecast", "demand", "--as-of", AS_OF, "--horizon", "2", "--version", "F1", "--models", "Naive",
          "-w", str(eur.path))  # fmt: skip
    lines = eur.sql(
        "SELECT l.product_id, sum(l.amount) AS amount, sum(l.qty) AS qty FROM ar_invoice_lines l "
        f"WHERE l.invoice_id IN ({march}) GROUP BY 1 HAVING sum(l.qty) > 0 ORDER BY 1"
    ).rows()
    assert len(lines) >= 3, "the tiny company sells several products in 2024-03"
    prices = {
        (r["period"], r["product_id"]): r["unit_price"]
        for r in eur.sql("SELECT * FROM volume_plan WHERE version = 'F1'").to_dicts()
    }
    for product, amount, qty in lines:
        expected = (amount / Decimal(repr(qty))).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
        for month in (dt.date(2024, 4, 1), dt.date(2024, 5, 1)):
            assert prices[(month, product)] == expected, product


def test_an_existing_version_is_refused_and_nothing_changes(stored, capsys):
    ws, _ = stored
    before = ws.row_counts()
    for name in ("F1", "B2024"):  # B2024: the demo's budget version in volume_plan
        code, out, err = _demand(capsys, ws, name)
        assert code == 2, err
        assert f"--version '{name}' already exists" in err and "choose another name" in err
        assert "Traceback" not in err and out == ""
    assert ws.row_counts() == before


def test_variance_runs_on_the_version(stored, capsys):
    ws, _ = stored
    code, out, err = run_cli(
        capsys,
        "variance",
        "--from",
        "2024-04",
        "--to",
        "2024-04",
        "--budget",
        "F1",
        "--format",
        "json",
        "-w",
        str(ws.path),
    )
    assert code == 0, err
    bridge = {r["category"]: Decimal(str(r["amount"])) for r in json.loads(out)}
    assert "sales_quantity" in bridge and "total" in bridge
    assert sum(v for k, v in bridge.items() if k != "total") == bridge["total"]


def test_the_budget_stays_the_default_beside_a_stored_forecast(tiny_demo, stored, capsys):
    """F1 covers 2024-04 beside the demo's budget: plain `opsfin variance` still compares with the budget,
    exactly as it did before F1 was stored (the tiny company without F1)."""
    ws, _ = stored

    def bridge(path, *extra):
        code, out, err = run_cli(
            capsys, "variance", "--from", "2024-04", "--to", "2024-04", "--format", "json", "-w", str(path), *extra
        )
        assert code == 0, err
        return {r["category"]: r["amount"] for r in json.loads(out)}

    before = bridge(tiny_demo.path)
    assert bridge(ws.path) == before
    assert bridge(ws.path, "--budget", "F1") != before


# ------------------------------------------------------------------------------------------ as-of
def test_nothing_after_the_as_of_month_is_read(tiny_demo, stored, tmp_path, capsys):
    """A huge shipment and an absurd invoice price planted after the as-of month change nothing."""
    _, doc = stored
    ws = _copy(tiny_demo, tmp_path / "ws")
    with ws.connect() as con:
        con.execute(
            "INSERT INTO sales_orders SELECT 'SO-LATE', 1, customer_id, site_id, 'FG-001', 1e9, unit_price, currency, "
            "DATE '2024-04-02', DATE '2024-04-20', 'x' FROM sales_orders WHERE product_id = 'FG-001' LIMIT 1"
        )
        con.execute("INSERT INTO shipments VALUES ('SH-LATE', 'SO-LATE', 1, 1e9, DATE '2024-04-15', 'x')")
        con.execute(
            "INSERT INTO ar_invoices (invoice_id, customer_id, so_id, kind, invoice_date, due_date, currency, tax_amount, total, _load_id) VALUES ('INV-LATE', (SELECT min(customer_id) FROM customers), 'SO-LATE', "
            "'invoice', DATE '2024-04-15', DATE '2024-05-15', 'EUR', 0, 99999999.00, 'x')"
        )
        con.execute("INSERT INTO ar_invoice_lines VALUES ('INV-LATE', 1, 'FG-005', 1, 99999999.0, 99999999.00, 'x')")
    code, out, err = _demand(capsys, ws, "F1", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == doc
    query = "SELECT product_id, unit_price FROM volume_plan WHERE version = 'F1' ORDER BY 1, period"
    assert ws.sql(query).rows() == stored[0].sql(query).rows()


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2024-05", "--as-of 2024-05 is after the last month with shipments (2024-04)"),
        ("2024-02", "a forecast needs at least 3"),
        ("2024-3", "give a month as YYYY-MM"),
    ],
)
def test_as_of_out_of_range_is_a_user_error(stored, capsys, as_of, expected):
    ws, _ = stored
    code, out, err = _demand(capsys, ws, "F-new", as_of=as_of)
    assert code == 2
    assert expected in err and "Traceback" not in err


def test_bad_version_name_is_refused(stored, capsys):
    ws, _ = stored
    code, _, err = _demand(capsys, ws, "no spaces")
    assert code == 2 and "--version" in err


def test_nothing_is_written_when_a_write_fails(tiny_demo, tmp_path, monkeypatch):
    from opsfin import warehouse

    ws = _copy(tiny_demo, tmp_path / "ws")
    before = ws.row_counts()
    real = warehouse.insert_arrow

    def failing(con, table, data):
        if table.name == "volume_plan":
            raise OSError("disk full")
        return real(con, table, data)

    monkeypatch.setattr(warehouse, "insert_arrow", failing)
    with pytest.raises(OSError):
        ws.forecast_demand(AS_OF, "F-broken", horizon=1, models="Naive")
    after = ws.row_counts()
    assert {k: v for k, v in after.items() if k in before} == before
    assert after.get("forecast_values", 0) == 0 and after.get("forecast_versions", 0) == 0


def test_table_output_fits_80_columns(tiny_demo, tmp_path, capsys, monkeypatch):
    from opsfin.cli import output

    ws = _copy(tiny_demo, tmp_path / "ws")
    monkeypatch.setattr(output.console, "_width", 80)
    code, out, err = _demand(capsys, ws, "F-table", horizon="3", as_of="2024-04")
    assert code == 0, err
    assert "Demand forecast F-table" in out and "2024-07-01" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "stored version F-table" in err


# ------------------------------------------------------------------------------------------ the engine, by hand
FAMILIES = {"P1": "A", "P2": "A", "P3": "B"}


def _bottom() -> pd.DataFrame:
    ds = pd.to_datetime(["2024-01-01", "2024-02-01"])
    rows = [
        ("P1", "S1", ds[0], 1.0),
        ("P1", "S1", ds[1], 2.0),
        ("P1", "S2", ds[0], 10.0),
        ("P1", "S2", ds[1], 20.0),
        ("P3", "S1", ds[0], 100.0),
        ("P3", "S1", ds[1], 0.0),
    ]
    return pd.DataFrame(rows, columns=["product_id", "site_id", "ds", "y"])


def test_aggregate_sums_each_level_by_hand():
    out = aggregate(_bottom(), FAMILIES)
    got = {(r.level, r.key, f"{r.ds:%m}"): r.y for r in out.itertuples()}
    assert got[("total", "total", "01")] == 111.0 and got[("total", "total", "02")] == 22.0
    assert got[("family", "A", "01")] == 11.0 and got[("family", "B", "02")] == 0.0
    assert got[("site", "S1", "01")] == 101.0 and got[("site", "S2", "02")] == 20.0
    assert got[("product", "P1", "02")] == 22.0
    assert got[("product_site", "P1/S2", "01")] == 10.0
    assert ("family", "(none)", "01") not in got
    assert list(dict.fromkeys(out["level"])) == list(hierarchy.LEVELS)
    assert len(out) == 2 * (1 + 2 + 2 + 2 + 3)


def _base(values: dict[tuple[str, str], float], dates) -> pd.DataFrame:
    rows = [(lv, k, d, v, v - 1.0, v + 1.0, "Naive") for (lv, k), v in values.items() for d in dates]
    return pd.DataFrame(rows, columns=["level", "key", "ds", "yhat", "lo", "hi", "model"])


# base forecasts of two products of family A at site S1: the aggregates say 10, the cells 5 + 4 = 9
TWO_PRODUCTS_BASE = {
    ("total", "total"): 10.0,
    ("family", "A"): 10.0,
    ("site", "S1"): 10.0,
    ("product", "P1"): 5.0,
    ("product", "P2"): 4.0,
    ("product_site", "P1/S1"): 5.0,
    ("product_site", "P2/S1"): 4.0,
}


def test_mintrace_ols_by_hand():
    """Two products of one family at one site. S rows: total, A, S1 = [1 1]; P1, P1/S1 = [1 0]; P2, P2/S1
    = [0 1]. Base 10, 10, 10, 5, 5, 4, 4: S'S = [[5 3] [3 5]], S'y = [40 38], so the bottom is
    (S'S)⁻¹S'y = [86 70] / 16 = [5.375 4.375] and every aggregate is 9.75."""
    shape = structure([("P1", "S1"), ("P2", "S1")], {"P1": "A", "P2": "A"})
    base = TWO_PRODUCTS_BASE
    done = reconcile(_base(base, pd.to_datetime(["2024-05-01"])), shape, 80)
    assert done.reconciler == "MinTrace(ols)" and done.problems == []
    p50 = {(r.level, r.key): r.p50 for r in done.values.itertuples()}
    assert p50[("product_site", "P1/S1")] == 5.375 and p50[("product_site", "P2/S1")] == 4.375
    assert p50[("product", "P1")] == 5.375
    assert p50[("total", "total")] == p50[("family", "A")] == p50[("site", "S1")] == 9.75


def test_bottom_up_when_mintrace_fails(monkeypatch):
    import hierarchicalforecast.methods as methods

    class Broken(methods.MinTrace):
        def fit_predict(self, *args, **kwargs):
            raise np.linalg.LinAlgError("singular")

    monkeypatch.setattr(methods, "MinTrace", Broken)
    shape = structure([("P1", "S1"), ("P2", "S1")], {"P1": "A", "P2": "A"})
    base = {
        ("total", "total"): 100.0,
        ("family", "A"): 50.0,
        ("site", "S1"): 10.0,
        ("product", "P1"): 5.0,
        ("product", "P2"): 4.0,
        ("product_site", "P1/S1"): 2.0004,
        ("product_site", "P2/S1"): 3.0,
    }
    done = reconcile(_base(base, pd.to_datetime(["2024-05-01", "2024-06-01"])), shape, 80)
    assert done.reconciler == "BottomUp"
    assert "MinTrace(ols) failed" in done.problems[0]
    p50 = {(r.level, r.key, f"{r.ds:%m}"): r.p50 for r in done.values.itertuples()}
    # the bottom forecasts as they are (to a thousandth), and every aggregate their sum
    assert p50[("product_site", "P1/S1", "06")] == 2.0
    assert p50[("product", "P2", "05")] == 3.0
    assert p50[("total", "total", "05")] == p50[("family", "A", "06")] == 5.0


def test_wls_var_moves_the_volatile_member_more_than_the_steady_one():
    """With the members' history, MinTrace weighs each member by the variance of its last-value errors:
    the mismatch (aggregates say 10, cells 5 + 4 = 9) goes mostly to the volatile cell P2, while OLS
    (test above) splits it equally (+0.375 each). P1's history barely moves (errors ±0.1), P2's swings
    by 6–7 a month."""
    shape = structure([("P1", "S1"), ("P2", "S1")], {"P1": "A", "P2": "A"})
    base = TWO_PRODUCTS_BASE
    months = pd.date_range("2023-11-01", periods=6, freq="MS")
    p1, p2 = [5.0, 5.1, 5.0, 5.1, 5.0, 5.1], [1.0, 8.0, 2.0, 9.0, 1.0, 7.0]
    bottom = pd.DataFrame(
        [("P1", "S1", d, v) for d, v in zip(months, p1, strict=True)]
        + [("P2", "S1", d, v) for d, v in zip(months, p2, strict=True)],
        columns=["product_id", "site_id", "ds", "y"],
    )
    history = aggregate(bottom, {"P1": "A", "P2": "A"})
    done = reconcile(_base(base, pd.to_datetime(["2024-05-01"])), shape, 80, history=history)
    assert done.reconciler == "MinTrace(wls_var)" and done.problems == []
    p50 = {(r.level, r.key): r.p50 for r in done.values.itertuples()}
    moved_p1 = abs(p50[("product_site", "P1/S1")] - 5.0)
    moved_p2 = abs(p50[("product_site", "P2/S1")] - 4.0)
    assert moved_p1 < 0.05 < 0.375 < moved_p2
    assert p50[("total", "total")] == p50[("product_site", "P1/S1")] + p50[("product_site", "P2/S1")]
