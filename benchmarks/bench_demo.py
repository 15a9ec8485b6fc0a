"""Time the demo generator at each scale and print rows/s.

    python benchmarks/bench_demo.py tiny demo          # targets: tiny ≤ 10 s, demo ≤ 120 s
    python benchmarks/bench_demo.py large              # target: ≥ 300,000 rows/s, memory bounded

Peak memory is the process's maximum resident set size (ru_maxrss)."""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from opsfin.demo import generate

FACT_TABLES = {
    "machine_readings",
    "operations",
    "timesheets",
    "inventory_movements",
    "warehouse_tasks",
    "quality_inspections",
    "support_tickets",
    "downtime_events",
    "maintenance_events",
    "gl_entries",
    "sales_orders",
    "shipments",
    "ar_invoices",
    "ar_invoice_lines",
    "ar_receipts",
    "ar_receipt_allocations",
    "purchase_orders",
    "goods_receipts",
    "ap_invoices",
    "ap_invoice_lines",
    "ap_payments",
    "ap_payment_allocations",
    "bank_transactions",
    "production_orders",
}
TARGET_SECONDS = {"tiny": 10, "demo": 120}


def main(scales: list[str]) -> None:
    for scale in scales or ["tiny", "demo"]:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            result = generate(Path(tmp) / "ws", scale=scale, seed=42)
            seconds = time.perf_counter() - t0
            rows = sum(result.rows.values())
            facts = sum(n for t, n in result.rows.items() if t in FACT_TABLES)
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            target = TARGET_SECONDS.get(scale)
            verdict = (
                f"target ≤ {target} s: {'met' if seconds <= target else 'MISSED'}"
                if target
                else f"target ≥ 300,000 rows/s: {'met' if rows / seconds >= 300_000 else 'MISSED'}"
            )
            print(
                f"{scale:6s} {seconds:8.1f} s  {rows:>12,} rows ({facts:,} fact rows)  "
                f"{rows / seconds:>10,.0f} rows/s  peak RSS {rss_mb:,.0f} MB  {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
