"""The learned payment dates on IBM's public accounts-receivable sample, against two baselines.

    python benchmarks/bench_cash_ibm.py                         # ../shared/data/receivables/... by default
    python benchmarks/bench_cash_ibm.py --csv PATH              # or OPSFIN_IBM_AR_CSV=PATH
    python benchmarks/bench_cash_ibm.py --first 2012-06-01 --last 2013-06-01

The file becomes the canonical tables in an in-memory DuckDB warehouse (customers, ar_invoices, and for
settled rows an ar_receipt with its allocation), and `opsfin.cash.payments.predict_payment_dates` — the
code `opsfin cash predict` runs — is called at each monthly cut date c on the WHOLE warehouse: the model
reads nothing after c, so at c it learns only from what was known then. Its expected dates for the
invoices open at c are compared with their real SettledDate. Baselines at the same cuts:
- pay on the due date (or tomorrow, if already overdue);
- the customer's median days to settle over its invoices settled by c (everyone's when it has none),
  from the invoice date (or tomorrow, if that day has passed).
Errors are pooled over the cuts. Target: MAE ≤ 0.65 × pay-on-due and below the customer median."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import ibis
import polars as pl

from opsfin import warehouse
from opsfin.canonical import table
from opsfin.cash.payments import PaymentModelConfig, predict_payment_dates
from opsfin.kpis.engine import Tables

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CSV = "../shared/data/receivables/ibm-accounts-receivable.csv"
ENV_CSV = "OPSFIN_IBM_AR_CSV"
CURRENCY = "USD"


def csv_path(given: str | None = None) -> Path:
    """The IBM file: `given`, else $OPSFIN_IBM_AR_CSV, else the default relative to the repository root."""
    path = Path(given or os.environ.get(ENV_CSV) or DEFAULT_CSV)
    return path if path.is_absolute() else REPO / path


def read_ibm(path: Path) -> pl.DataFrame:
    """The file's rows: `invoice_id, customer_id, country, invoice_date, due_date, amount` (Decimal),
    `settled_date` (null when empty: an open invoice), `disputed`, `paperless` (booleans)."""
    raw = pl.read_csv(path, infer_schema_length=0)
    day = {
        c: pl.col(c).str.strip_chars().str.to_date("%m/%d/%Y", strict=False)
        for c in ("InvoiceDate", "DueDate", "SettledDate")
    }
    return raw.select(
        invoice_id=pl.col("invoiceNumber"),
        customer_id=pl.col("customerID"),
        country=pl.col("countryCode"),
        invoice_date=day["InvoiceDate"],
        due_date=day["DueDate"],
        amount=pl.col("InvoiceAmount").cast(pl.Decimal(18, 2)),
        settled_date=day["SettledDate"],
        disputed=pl.col("Disputed").str.strip_chars() == "Yes",
        paperless=pl.col("PaperlessBill").str.strip_chars() == "Electronic",
    )


def ibm_tables(rows: pl.DataFrame) -> Tables:
    """The rows as canonical warehouse tables in an in-memory DuckDB (base currency USD)."""
    con = duckdb.connect()
    warehouse.create_schema(con)
    first = rows.group_by("customer_id").agg(pl.col("country").first()).sort("customer_id")
    paid = rows.filter(pl.col("settled_date").is_not_null())
    frames = {
        "customers": first.select(
            "customer_id",
            name=pl.col("customer_id"),
            segment=pl.lit("-"),
            country=pl.col("country"),
            currency=pl.lit(CURRENCY),
            payment_terms_days=pl.lit(30, dtype=pl.Int32),
            credit_limit=pl.lit(Decimal(0), dtype=pl.Decimal(18, 2)),
        ),
        "ar_invoices": rows.select(
            "invoice_id",
            "customer_id",
            so_id=pl.col("invoice_id"),
            kind=pl.lit("invoice"),
            invoice_date="invoice_date",
            due_date="due_date",
            currency=pl.lit(CURRENCY),
            tax_amount=pl.lit(Decimal(0), dtype=pl.Decimal(18, 2)),
            total="amount",
            disputed="disputed",
            paperless="paperless",
        ),
        "ar_receipts": paid.select(
            receipt_id=pl.lit("R") + pl.col("invoice_id"),
            customer_id="customer_id",
            received_date="settled_date",
            amount="amount",
            currency=pl.lit(CURRENCY),
            reference="invoice_id",
        ),
        "ar_receipt_allocations": paid.select(
            receipt_id=pl.lit("R") + pl.col("invoice_id"), invoice_id="invoice_id", amount="amount"
        ),
    }
    for name, frame in frames.items():
        warehouse.insert_arrow(con, table(name), frame.to_arrow())
    return Tables(ibis.duckdb.from_connection(con), CURRENCY)


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    out, day = [], first.replace(day=1)
    while day <= last:
        out.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return out


def baselines(rows: pl.DataFrame, open_docs: pl.DataFrame, cut: dt.date) -> pl.DataFrame:
    """`doc_id, on_due, customer_median`: the two baselines' expected dates at `cut`."""
    tomorrow = pl.lit(cut + dt.timedelta(days=1), dtype=pl.Date)
    settled = rows.filter(pl.col("settled_date") <= cut).with_columns(
        days=(pl.col("settled_date") - pl.col("invoice_date")).dt.total_days()
    )
    everyone = settled.get_column("days").median() if settled.height else 30
    medians = settled.group_by("customer_id").agg(median_days=pl.col("days").median())
    docs = open_docs.join(rows.select("invoice_id", "customer_id"), left_on="doc_id", right_on="invoice_id")
    docs = docs.join(medians, on="customer_id", how="left")
    shift = pl.duration(days=pl.col("median_days").fill_null(everyone).round().cast(pl.Int64))
    return docs.select(
        "doc_id",
        on_due=pl.max_horizontal("due_date", tomorrow),
        customer_median=pl.max_horizontal(pl.col("doc_date") + shift, tomorrow),
    )


def evaluate(
    rows: pl.DataFrame, tables: Tables, cuts: list[dt.date], config: PaymentModelConfig | None = None
) -> pl.DataFrame:
    """Per cut and invoice open at it: the model's dates, the baselines' and the real settlement date."""
    actual = rows.select(doc_id="invoice_id", actual="settled_date")
    frames = []
    for cut in cuts:
        pred = predict_payment_dates(tables, cut, config).filter(pl.col("doc_type") == "ar_invoice")
        if pred.height == 0:
            continue
        pred = pred.join(baselines(rows, pred, cut), on="doc_id").join(actual, on="doc_id")
        frames.append(pred.with_columns(cut=pl.lit(cut, dtype=pl.Date)))
    return pl.concat(frames).filter(pl.col("actual").is_not_null())


def scores(results: pl.DataFrame) -> dict[str, float]:
    """The three MAEs in days, the model's ratios to the baselines and its P10–P90 coverage."""

    def mae(col: str) -> float:
        return float(results.select((pl.col(col) - pl.col("actual")).dt.total_days().abs().mean()).item())

    model, on_due, median = mae("expected_date"), mae("on_due"), mae("customer_median")
    inside = (pl.col("p10_date") <= pl.col("actual")) & (pl.col("actual") <= pl.col("p90_date"))
    return {
        "mae_model": model,
        "mae_on_due": on_due,
        "mae_customer_median": median,
        "ratio_to_on_due": model / on_due,
        "ratio_to_customer_median": model / median,
        "coverage_p10_p90": float(results.select(inside.mean()).item()),
        "documents": float(results.height),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help=f"the IBM file (default: ${ENV_CSV}, else {DEFAULT_CSV} from the repo root)")
    parser.add_argument("--first", default="2012-04-01", help="first monthly cut date")
    parser.add_argument("--last", default="2013-12-01", help="last monthly cut date")
    args = parser.parse_args(argv)
    path = csv_path(args.csv)
    if not path.exists():
        print(f"no file {path}: pass --csv or set ${ENV_CSV}", file=sys.stderr)
        return 2
    rows = read_ibm(path)
    cuts = month_starts(dt.date.fromisoformat(args.first), dt.date.fromisoformat(args.last))
    started = time.perf_counter()
    results = evaluate(rows, ibm_tables(rows), cuts)
    seconds = time.perf_counter() - started
    s = scores(results)
    print(
        f"IBM accounts receivable: {rows.height} invoices, {len(cuts)} monthly cuts, {int(s['documents'])} open invoices predicted, {seconds:.1f} s"
    )
    print(f"MAE learned model     {s['mae_model']:6.2f} days")
    print(f"MAE pay-on-due        {s['mae_on_due']:6.2f} days   ratio {s['ratio_to_on_due']:.3f} (target ≤ 0.65)")
    print(
        f"MAE customer median   {s['mae_customer_median']:6.2f} days   ratio {s['ratio_to_customer_median']:.3f} (target < 1)"
    )
    print(f"P10–P90 coverage      {s['coverage_p10_p90']:.3f}")
    for r in results.group_by("method").len().sort("method").to_dicts():
        print(f"  {r['len']:5d} dated by {r['method']}")
    ok = s["ratio_to_on_due"] <= 0.65 and s["ratio_to_customer_median"] < 1
    print("target met" if ok else "target NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
