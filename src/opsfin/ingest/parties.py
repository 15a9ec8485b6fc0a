"""Resolving the sellers named in e-invoices (UBL) against the supplier master data.

For each invoice with a `Party`, the supplier is found by `supplier_id` equal to one of the
party's ids (best id first), else by the supplier's name (exact, ignoring case). When found, the
invoice's `supplier_id` is rewritten to it. When not found:
- with `add_missing=True`, a supplier row is created in the same load (supplier_id = the party's
  first id, its name, country or 'XX', currency (else the invoice's), payment terms or 30 days,
  lead time 0);
- otherwise the invoice is refused with a reason naming the party (its lines follow it, because
  they reference a refused invoice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from ..readers import Party

DEFAULT_COUNTRY = "XX"
DEFAULT_PAYMENT_TERMS_DAYS = 30


@dataclass
class PartyResolution:
    new_suppliers: list[dict[str, Any]] = field(default_factory=list)  # supplier rows to add
    new_supplier_locations: list[str] = field(default_factory=list)
    refused_invoices: dict[str, str] = field(default_factory=dict)  # invoice_id -> reason
    matched: dict[str, str] = field(default_factory=dict)  # invoice_id -> supplier_id


def _find_supplier(con: duckdb.DuckDBPyConnection, party: Party) -> str | None:
    for pid in party.ids:
        rows = con.execute("SELECT supplier_id FROM suppliers WHERE supplier_id = ? LIMIT 1", [pid]).fetchall()
        if rows:
            return rows[0][0]
    if party.name:
        rows = con.execute(
            "SELECT supplier_id FROM suppliers WHERE lower(name) = lower(?) ORDER BY supplier_id LIMIT 1",
            [party.name.strip()],
        ).fetchall()
        if rows:
            return rows[0][0]
    return None


def describe_party(party: Party) -> str:
    ids = f" (ids: {', '.join(party.ids)})" if party.ids else " (no ids)"
    return f"supplier {party.name!r}{ids}"


def resolve_parties(
    con: duckdb.DuckDBPyConnection,
    invoices: list[dict[str, Any]],
    parties: dict[str, Party],
    *,
    add_missing: bool,
    base_currency: str,
) -> PartyResolution:
    """Rewrite `supplier_id` of the invoice rows (in place) to known suppliers; see the module doc."""
    result = PartyResolution()
    cache: dict[tuple, str | None] = {}
    for invoice in invoices:
        invoice_id = invoice.get("invoice_id")
        party = parties.get(invoice_id) if invoice_id is not None else None
        if party is None:
            continue
        key = (party.ids, (party.name or "").strip().lower())
        if key not in cache:
            cache[key] = _find_supplier(con, party)
            if cache[key] is None and add_missing:
                supplier_id = party.ids[0] if party.ids else (party.name or "").strip()
                result.new_suppliers.append(
                    {
                        "supplier_id": supplier_id,
                        "name": party.name,
                        "country": party.country or DEFAULT_COUNTRY,
                        "currency": party.currency or invoice.get("currency") or base_currency,
                        "payment_terms_days": (
                            party.payment_terms_days
                            if party.payment_terms_days is not None
                            else DEFAULT_PAYMENT_TERMS_DAYS
                        ),
                        "lead_time_days": 0,
                    }
                )
                result.new_supplier_locations.append(f"seller of invoice {invoice_id}")
                cache[key] = supplier_id
        supplier_id = cache[key]
        if supplier_id is None:
            result.refused_invoices[invoice_id] = (
                f"{describe_party(party)} is not in the supplier master data; "
                "load it first or use --add-missing-parties"
            )
        else:
            invoice["supplier_id"] = supplier_id
            result.matched[invoice_id] = supplier_id
    return result
