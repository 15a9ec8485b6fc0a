"""Small warehouse reads the front ends need beside the engines: which months (and days) hold data, the
load history, the site of each purchase-order line (an invoice line's site), the last bank statement's date
and the sites of AR and AP invoices (the Cash page). The web and the pack
call these instead of sending SQL of their own (docs/web.md)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from ..workspace_folder import WorkspaceFolder


def months_with_data(ws: WorkspaceFolder) -> list[dt.date]:
    """First days of the months that hold GL postings or machine readings, oldest first."""
    rows = ws.sql(
        "SELECT DISTINCT m FROM (SELECT date_trunc('month', posting_date) AS m FROM gl_entries "
        "UNION SELECT date_trunc('month', hour_start) FROM machine_readings) WHERE m IS NOT NULL ORDER BY m"
    )
    return [v.date() if isinstance(v, dt.datetime) else v for v in rows.to_series().to_list()]


def load_history(ws: WorkspaceFolder) -> pl.DataFrame:
    """Every load, newest first: load_id, table_name, source, rows read / accepted / quarantined, times, status."""
    return ws.sql(
        "SELECT load_id, table_name, source, rows_read, rows_accepted, rows_quarantined, started_at, "
        "finished_at, status FROM loads ORDER BY started_at DESC, load_id, table_name"
    )


def po_line_sites(ws: WorkspaceFolder) -> dict[tuple[str, int | None], str]:
    """(po_id, line) -> site of the PO line; (po_id, None) -> the PO's site when all its lines share one."""
    out: dict[tuple[str, int | None], str] = {}
    per_po: dict[str, set[str]] = {}
    for po, line, site in ws.sql("SELECT po_id, line, site_id FROM purchase_orders").iter_rows():
        out[(po, line)] = site
        per_po.setdefault(po, set()).add(site)
    out |= {(po, None): next(iter(s)) for po, s in per_po.items() if len(s) == 1}
    return out


def data_rows_between(ws: WorkspaceFolder, first: dt.date, last: dt.date) -> int:
    """How many GL postings and machine readings fall on the days [first, last]."""
    counts = ws.sql(
        "SELECT (SELECT count(*) FROM gl_entries WHERE posting_date BETWEEN ? AND ?) "
        "+ (SELECT count(*) FROM machine_readings WHERE CAST(hour_start AS DATE) BETWEEN ? AND ?) AS n",
        [first, last, first, last],
    )
    return int(counts["n"][0])


def data_span(ws: WorkspaceFolder) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day holding GL postings or machine readings (None, None when empty)."""
    span = ws.sql(
        "SELECT min(d) AS lo, max(d) AS hi FROM (SELECT posting_date AS d FROM gl_entries "
        "UNION ALL SELECT CAST(hour_start AS DATE) FROM machine_readings)"
    )
    return span["lo"][0], span["hi"][0]


def loads_signature(ws: WorkspaceFolder) -> tuple[str, ...]:
    """What changes with every ingest, replace, rebuild or supersede: how many loads, the latest load id
    and finish time, how many loads were superseded (the web's result cache keys on it)."""
    with ws.connect(read_only=True) as con:
        loads = con.execute(
            "SELECT count(*), max(load_id), max(finished_at), count(*) FILTER (WHERE status = 'superseded') FROM loads"
        ).fetchone()
    return tuple(str(x) for x in loads or ())


def last_bank_statement(ws: WorkspaceFolder) -> dt.date | None:
    """The latest bank statement's date (None without statements): the Cash page's default as-of day."""
    return ws.sql("SELECT max(statement_date) AS d FROM bank_statements")["d"][0]


def document_sites(ws: WorkspaceFolder) -> dict[tuple[str, str], frozenset[str]]:
    """(doc_type, doc_id) -> the sites of an open-item document: an AR invoice's are its sales order's lines'
    sites, an AP invoice's its lines' purchase-order lines' sites; a document reaching no site is left out."""
    rows = ws.sql(
        "SELECT 'ar_invoice' AS doc_type, i.invoice_id AS doc_id, s.site_id FROM ar_invoices i "
        "JOIN sales_orders s ON s.so_id = i.so_id UNION SELECT 'ap_invoice', l.invoice_id, p.site_id "
        "FROM ap_invoice_lines l JOIN purchase_orders p ON p.po_id = l.po_id AND p.line = l.po_line"
    )
    out: dict[tuple[str, str], set[str]] = {}
    for doc_type, doc_id, site in rows.iter_rows():
        if site is not None:
            out.setdefault((doc_type, doc_id), set()).add(site)
    return {key: frozenset(sites) for key, sites in out.items()}
