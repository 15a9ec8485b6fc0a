"""The material side of the bridge: purchase price (at goods receipt), invoice price (as posted), material
usage and scrap (at order close), each rounded as the standard-cost ERP rounds it (docs/variances.md)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from ...core.periods import month_end
from ...errors import UserError
from ...kpis.engine import Tables
from .common import Piece, _add, _cents, _month_key, he, he_div
from .reads import (
    invoice_price_lines,
    invoice_price_postings,
    receipts,
    scrap_operations,
    scrap_orders,
    usage_lines,
)

Pieces = dict[tuple[str, dt.date], Piece]


def _piece(pieces: Pieces, cat: str, m: dt.date) -> Piece:
    return pieces.setdefault((cat, m), Piece(cat, m, 0))


def _material(t: Tables, months: list[dt.date], base: str) -> list[Piece]:
    lo, hi = months[0], month_end(months[-1])
    pieces: Pieces = {}
    _purchase_price(t, lo, hi, base, pieces)
    _invoice_price(t, lo, hi, pieces)
    _usage_and_scrap(t, lo, hi, pieces)
    return list(pieces.values())


def _purchase_price(t: Tables, lo: dt.date, hi: dt.date, base: str, pieces: Pieces) -> None:
    # purchase price variance at goods receipt, per receipt line, half-even
    for r in receipts(t, lo, hi, base):
        if r["rate"] is None:
            raise UserError(f"fx_rates: no {base} rate for the PO currency on {r['received_date']} (goods receipt)")
        qty = Fraction(Decimal(str(r["qty"])))
        ppv = -he((Fraction(r["unit_price"]) * Fraction(r["rate"]) - Fraction(r["std_unit_cost"])) * qty * 100)
        ppv *= r["n"]
        pc = _piece(pieces, "material_price", _month_key(r["received_date"]))
        pc.target += ppv
        _add(pc.parts, "supplier", r["supplier_id"], ppv)
        _add(pc.parts, "product", r["product_id"], ppv)


def _invoice_price(t: Tables, lo: dt.date, hi: dt.date, pieces: Pieces) -> None:
    # invoice price variance: as posted, per supplier invoice; its products are the invoice's lines
    # (an invoice with several products shares its variance by the lines' net amounts)
    lines: dict[str, dict[str, Fraction]] = defaultdict(dict)
    for r in invoice_price_lines(t, lo, hi):
        lines[r["invoice_id"]][r["product_id"]] = Fraction(r["net"] or 0)
    for r in invoice_price_postings(t, lo, hi):
        cents = _cents(r["amount"])
        pc = _piece(pieces, "invoice_price", _month_key(r["month"]))
        pc.target -= cents
        _add(pc.parts, "supplier", r["supplier_id"], -cents)
        products = lines.get(r["invoice_id"], {})
        total = sum(products.values())
        for product, net in products.items():
            share = net / total if total else Fraction(1, len(products))
            _add(pc.parts, "product", product, -cents * share)


def _usage_and_scrap(t: Tables, lo: dt.date, hi: dt.date, pieces: Pieces) -> None:
    # usage and scrap at order close: per order and component (usage) or per order (scrap), half-even,
    # on exact integers: quantities in 1e-6 units × standards in 1e-4 → cents ÷ 1e8
    usage: dict[tuple[dt.date, str], int] = defaultdict(int)
    for r in usage_lines(t, lo, hi):
        usage[(_month_key(r["month"]), r["product_id"])] += he_div(r["qty_e6"] * r["cost_e4"], 100_000_000) * r["n"]
    scrap: dict[tuple[dt.date, str], int] = defaultdict(int)
    order_cents: dict[str, tuple[dt.date, int]] = {}
    for r in scrap_orders(t, lo, hi):
        if r["qty_e6"] is not None:
            m, cents = _month_key(r["month"]), he_div(r["qty_e6"] * r["cost_e4"], 100_000_000)
            order_cents[r["order_id"]] = (m, cents)
            scrap[(m, r["product_id"])] += cents
    for cat, by_product in (("material_usage", usage), ("scrap", scrap)):
        for (m, product), cents in by_product.items():
            pc = _piece(pieces, cat, m)
            pc.target -= cents
            _add(pc.parts, "product", product, -cents)
    # the scrapping operations carry work centre, machine and shift: each order's scrap shared by their
    # quantity (as a double, as the ERP shares it)
    shares: dict[tuple, float] = defaultdict(float)
    for r in sorted(scrap_operations(t, lo, hi), key=lambda r: r["operation_id"]):
        m, cents = order_cents[r["order_id"]]
        shares[(m, r["work_center_id"], r["machine_id"], r["shift_id"])] += float(cents) * r["qty_scrap"] / r["q"]
    for (m, wc, machine, shift), share in shares.items():
        pc = _piece(pieces, "scrap", m)
        v = -Fraction(share)
        _add(pc.parts, "work_center", wc, v)
        _add(pc.parts, "machine", machine, v)
        _add(pc.parts, "shift", shift, v)
