"""Purchasing: reorder-point MRP for bought items per plant, goods receipts with purchase
price variance, supplier invoices with invoice price variance (and the injected invoice
issues), and weekly supplier payment runs."""

from __future__ import annotations

import datetime as dt

from . import costing
from .master import ACCOUNT, BASE
from .state import Sim

VAT_PCT = 20
RAW_SAFETY_DAYS = 24  # reorder when stock and open orders cover less than the lead time and this
RAW_ORDER_DAYS = 25  # a purchase order covers this many days of usage (bought in lots, with volume discounts)


def usage_per_day(sim: Sim, day: dt.date | None = None) -> dict[tuple[str, str], float]:
    """Bought items used per day and plant, with a 35 % margin: at the mean demand, or at the demand the
    planner expects on `day` (the month's trend, season, shift and promotions)."""
    c = sim.c
    use: dict[tuple[str, str], float] = {}
    for pid in c.finished:
        rate = sim.daily_demand[pid] if day is None else sim.demand_rate(pid, day)
        for comp, q in c.bom[pid]:
            key = (c.product_plant[pid], comp)
            use[key] = use.get(key, 0.0) + rate * q * 1.35
    return use


def reorder(sim: Sim, day: dt.date, usage: dict[tuple[str, str], float]) -> None:
    c, rng = sim.c, sim.rng
    if day.weekday() >= 5:
        return
    for (site, item), per_day in usage.items():
        sup = c.item_supplier[item]
        lead = c.supplier[sup].lead
        position = sim.stock[(site, item)] + sim.on_order[(site, item)]
        if position >= per_day * (lead + RAW_SAFETY_DAYS):
            continue
        qty = int(-(-per_day * RAW_ORDER_DAYS // 10) * 10)
        po = sim.next_id("PO-", 7)
        ccy = c.supplier[sup].ccy
        std = c.std_cost[item]
        # contract prices: within ±1% of standard, before any injected rise (and FX for foreign suppliers)
        price_eur = std * rng.uniform(0.99, 1.01) * sim.plan.price_factor(item, day)
        price = price_eur if ccy == BASE else price_eur * 100_000_000 / sim.rate(ccy, day)
        price_1e4 = int(round(price / 100)) * 100
        expected = day + dt.timedelta(days=lead)
        sim.rows["purchase_orders"].append((po, 1, sup, site, item, float(qty), price_1e4, ccy, day, expected))
        sim.on_order[(site, item)] += qty
        delay = int(rng.choice([-2, -1, 0, 1, 2], p=[0.1, 0.25, 0.5, 0.1, 0.05])) + sim.plan.supplier_delay_days(
            sup, day
        )
        arrival = max(expected + dt.timedelta(days=delay), day + dt.timedelta(days=1))
        line = {
            "po": po,
            "line": 1,
            "supplier": sup,
            "site": site,
            "item": item,
            "qty": qty,
            "price": price_1e4,
            "ccy": ccy,
        }
        if rng.random() < 0.08:  # split delivery
            first = qty // 2
            sim.due_receipts[arrival].append({**line, "rqty": first})
            sim.due_receipts[arrival + dt.timedelta(days=int(rng.integers(2, 6)))].append({**line, "rqty": qty - first})
        else:
            sim.due_receipts[arrival].append({**line, "rqty": qty})
        if rng.random() < _issue_rate(sim, "no_receipt"):
            _unreceived_invoice(sim, day, line)


def _issue_rate(sim: Sim, kind: str) -> float:
    return {
        "duplicate": 0.012,
        "price_over_tolerance": 0.012,
        "qty_over_received": 0.010,
        "no_receipt": 0.006,
    }[kind] * (4 if sim.c.scale.name == "tiny" else 1)


def receive(sim: Sim, day: dt.date) -> None:
    c, rng = sim.c, sim.rng
    for ln in sim.due_receipts.pop(day, []):
        gr = sim.next_id("GR-", 7)
        qty = ln["rqty"]
        sim.rows["goods_receipts"].append((gr, ln["po"], ln["line"], float(qty), day))
        sim.move(dt.datetime.combine(day, dt.time(5, 30)), ln["site"], ln["item"], qty, "receipt", gr)
        sim.on_order[(ln["site"], ln["item"])] -= qty
        sim.wear.received(ln["item"], ln["supplier"])
        std = c.std_cost[ln["item"]]
        rate = sim.rate(ln["ccy"], day)
        inventory = costing.value_at_standard(qty, std)
        ppv = costing.ppv_cents(qty, ln["price"], rate, std)
        grni = inventory + ppv
        sim.ledger.post(
            day,
            f"Goods receipt {gr} for {ln['po']}",
            gr,
            [
                (ACCOUNT["inventory_raw"], None, inventory),
                (ACCOUNT["variance_material_price"], None, ppv),
                (ACCOUNT["grni"], None, -grni),
            ],
        )
        sim.due_invoices[day + dt.timedelta(days=int(rng.integers(0, 5)))].append(
            {**ln, "gr": gr, "qty": qty, "grni": grni}
        )


def book_invoices(sim: Sim, day: dt.date) -> None:
    rng = sim.rng
    for ln in sim.due_invoices.pop(day, []):
        kind = None
        r = rng.random()
        qty, price = ln["qty"], ln["price"]
        if r < _issue_rate(sim, "price_over_tolerance"):
            kind, price = (
                "price_over_tolerance",
                int(round(price * rng.uniform(1.08, 1.15) / 100)) * 100,
            )
        elif r < _issue_rate(sim, "price_over_tolerance") + _issue_rate(sim, "qty_over_received"):
            kind, qty = "qty_over_received", qty + max(1, int(qty * rng.uniform(0.1, 0.25)))
        inv = _post_invoice(sim, day, ln, qty, price, ln["grni"], blocked=kind is not None)
        if kind:
            sim.invoice_truth.append((inv["invoice_id"], 1, kind))
            sim.plan.add_matching(
                "over_billed_invoice" if kind == "price_over_tolerance" else "over_quantity_invoice",
                "supplier",
                ln["supplier"],
                day,
                f"Invoice {inv['invoice_id']} bills more than the PO/receipt ({kind}).",
            )
        elif rng.random() < _issue_rate(sim, "duplicate"):
            later = day + dt.timedelta(days=int(rng.integers(3, 21)))
            sim.due_invoices.setdefault(later, []).append({**ln, "duplicate_of": inv})


def _post_invoice(
    sim: Sim,
    day: dt.date,
    ln: dict,
    qty: int,
    price: int,
    grni: int,
    blocked: bool,
    ref: str | None = None,
) -> dict:
    c = sim.c
    sup, ccy = ln["supplier"], ln["ccy"]
    inv_id = sim.next_id("SINV-", 7)
    ref = ref or f"{sup[-3:]}-{day:%y}-{sim.counters['ref:' + sup] + 1:05d}"
    sim.counters["ref:" + sup] += 1
    net = costing.value_at_standard(qty, price)
    tax = costing.half_even_int(net * VAT_PCT, 100) if ccy == BASE else 0
    total = net + tax
    due = day + dt.timedelta(days=c.supplier[sup].terms)
    sim.rows["ap_invoices"].append((inv_id, sup, ref, "invoice", day, due, ccy, tax, total))
    sim.rows["ap_invoice_lines"].append((inv_id, 1, ln["po"], ln["line"], ln["item"], float(qty), price, net))
    base = costing.to_base(total, sim.rate(ccy, day))
    net_base = base - tax
    lines = [(ACCOUNT["input_vat"], None, tax), (ACCOUNT["ap"], None, -base)]
    if grni is None:  # nothing received: the invoice waits in GRNI for its goods
        lines.append((ACCOUNT["grni"], None, net_base))
    else:
        lines += [
            (ACCOUNT["grni"], None, grni),
            (ACCOUNT["variance_invoice_price"], None, net_base - grni),
        ]
    sim.ledger.post(day, f"Supplier invoice {ref} from {sup}", inv_id, lines)
    sim.month_vat[1] += tax
    rec = {
        "invoice_id": inv_id,
        "supplier": sup,
        "ccy": ccy,
        "total": total,
        "base": base,
        "due": due,
        "ref": ref,
    }
    if not blocked:
        sim.open_ap[inv_id] = rec
    return rec


def book_duplicates(sim: Sim, day: dt.date) -> None:
    """Duplicates were queued with `duplicate_of`; they post with a reworked reference and stay blocked."""
    rng = sim.rng
    todays = [ln for ln in sim.due_invoices.get(day, []) if "duplicate_of" in ln]
    sim.due_invoices[day] = [ln for ln in sim.due_invoices.get(day, []) if "duplicate_of" not in ln]
    for ln in todays:
        orig = ln.pop("duplicate_of")
        variants = [
            orig["ref"].replace("-", ""),
            orig["ref"].lower(),
            orig["ref"] + "/1",
            " " + orig["ref"],
        ]
        ref = variants[int(rng.integers(0, len(variants)))]
        inv = _post_invoice(sim, day, ln, ln["qty"], ln["price"], None, blocked=True, ref=ref)
        sim.invoice_truth.append((inv["invoice_id"], 1, "duplicate"))
        sim.plan.add_matching(
            "duplicate_invoice",
            "supplier",
            ln["supplier"],
            day,
            f"Invoice {inv['invoice_id']} duplicates {orig['invoice_id']} ({orig['ref']!r}).",
        )


def _unreceived_invoice(sim: Sim, day: dt.date, line: dict) -> None:
    """An extra PO line that is never delivered, but invoiced."""
    c, rng = sim.c, sim.rng
    po = sim.next_id("PO-", 7)
    qty = line["qty"] // 4 or 1
    expected = day + dt.timedelta(days=c.supplier[line["supplier"]].lead)
    sim.rows["purchase_orders"].append(
        (
            po,
            1,
            line["supplier"],
            line["site"],
            line["item"],
            float(qty),
            line["price"],
            line["ccy"],
            day,
            expected,
        )
    )
    when = expected + dt.timedelta(days=int(rng.integers(0, 4)))
    sim.due_invoices[when].append({**line, "po": po, "qty": qty, "unreceived": True, "grni": None})


def book_unreceived(sim: Sim, day: dt.date) -> None:
    todays = [ln for ln in sim.due_invoices.get(day, []) if ln.get("unreceived")]
    sim.due_invoices[day] = [ln for ln in sim.due_invoices.get(day, []) if not ln.get("unreceived")]
    for ln in todays:
        inv = _post_invoice(sim, day, ln, ln["qty"], ln["price"], None, blocked=True)
        sim.invoice_truth.append((inv["invoice_id"], 1, "no_receipt"))
        sim.plan.add_matching(
            "unreceived_invoice",
            "supplier",
            ln["supplier"],
            day,
            f"Invoice {inv['invoice_id']} bills {ln['po']}, which was never received.",
        )


def payment_run(sim: Sim, day: dt.date) -> None:
    """Fridays: pay every approved invoice due within a week; one payment per supplier."""
    c, rng = sim.c, sim.rng
    if day.weekday() != 4:
        return
    horizon = day + dt.timedelta(days=7)
    by_supplier: dict[str, list[dict]] = {}
    for inv in list(sim.open_ap.values()):
        if inv["due"] <= horizon:
            by_supplier.setdefault(inv["supplier"], []).append(inv)
    for sup, invs in sorted(by_supplier.items()):
        ccy = c.supplier[sup].ccy
        pay = sim.next_id("PAY-", 7)
        amount = sum(i["total"] for i in invs)
        reference = f"{pay} " + " ".join(i["ref"] for i in invs[:3]) + (" ..." if len(invs) > 3 else "")
        sim.rows["ap_payments"].append((pay, sup, day, amount, ccy, reference))
        for i in invs:
            sim.rows["ap_payment_allocations"].append((pay, i["invoice_id"], i["total"]))
            del sim.open_ap[i["invoice_id"]]
        cleared = sum(i["base"] for i in invs)
        bank_cents = amount if ccy == BASE else costing.to_base(amount, sim.rate(ccy, day))
        sim.ledger.post(
            day,
            f"Payment {pay} to {sup}",
            pay,
            [
                (ACCOUNT["ap"], None, cleared),
                (ACCOUNT["cash"], None, -bank_cents),
                (ACCOUNT["fx"], None, bank_cents - cleared),
            ],
        )
        booking = day + dt.timedelta(days=3 if rng.random() < 0.3 else 0)  # Friday runs may book on Monday
        sim.bank(
            booking,
            -bank_cents,
            c.supplier[sup].name,
            reference,
            "SEPA CREDIT TRANSFER OUT",
            "ap_payment",
            pay,
            value=booking,
        )
