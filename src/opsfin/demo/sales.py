"""Sales: customer orders, shipments from the distribution centre, AR invoices at the
shipment date (revenue at actual price, COGS at standard), and customer payments."""

from __future__ import annotations

import datetime as dt

from . import costing
from .demand import spare_part_orders
from .master import ACCOUNT, BASE
from .people import warehouse_task
from .state import Sim

VAT_PCT = 20


def take_orders(sim: Sim, day: dt.date) -> None:
    """The day's customer orders: order lines of the regular families, sized by each product's demand rate
    (its family's trend and season, the injected shift, a promotion, a bottleneck surge), and the rare,
    lumpy orders of the spare parts."""
    c, rng = sim.c, sim.rng
    if day.weekday() >= 5:
        return
    regular = c.regular
    lines_per_product_day = c.scale.orders_per_day * c.scale.lines_per_order / len(regular)
    for _ in range(int(rng.poisson(c.scale.orders_per_day))):
        cust = c.customers[int(rng.zipf(1.6)) % len(c.customers)]
        lines = 1 + int(rng.poisson(c.scale.lines_per_order - 1))
        wanted = []
        for pid in rng.choice(regular, size=min(lines, len(regular)), replace=False):
            pid = str(pid)
            surge = sim.plan.demand_surge(c.product_plant[pid], day)
            mean_qty = sim.demand_rate(pid, day) * 7 / 5 / lines_per_product_day
            wanted.append((pid, max(1, round(float(rng.gamma(2.0, mean_qty * surge / 2.0))))))
        _order(sim, day, cust, wanted)
    if sim.demand is not None:
        for pid, qty in spare_part_orders(c, sim.demand):
            _order(sim, day, c.customers[int(sim.demand.rng.zipf(1.6)) % len(c.customers)], [(pid, qty)])


def _order(sim: Sim, day: dt.date, cust: str, wanted: list[tuple[str, int]]) -> None:
    """One sales order: its lines at the customer's price (list less discount, less any promotion's cut)."""
    c, rng = sim.c, sim.rng
    so = sim.next_id("SO", 7)
    ccy = c.customer[cust].ccy
    promised = day + dt.timedelta(days=int(rng.integers(4, 9)))
    for ln, (pid, qty) in enumerate(wanted, start=1):
        promo = sim.demand.promotion(pid, day) if sim.demand is not None else None
        cut = promo.price_cut if promo else 0.0
        price_eur = c.list_price[pid] * (1 - c.customer[cust].discount) * (1 - cut) * rng.uniform(0.97, 1.02)
        price = price_eur if ccy == BASE else price_eur * 100_000_000 / sim.rate(ccy, day)
        price_1e4 = int(round(price / 100)) * 100
        sim.rows["sales_orders"].append(
            (so, ln, cust, c.warehouse_site, pid, float(qty), price_1e4, ccy, day, promised)
        )
        sim.backlog.append([so, ln, cust, promised, pid, qty, price_1e4, ccy])


def ship(sim: Sim, day: dt.date) -> None:
    """Ship whole order lines, earliest promise first, from distribution-centre stock."""
    c = sim.c
    ws = c.warehouse_site
    if day.weekday() >= 6:
        return
    sim.backlog.sort(key=lambda ln: (ln[3], ln[0], ln[1]))
    shipped: dict[str, list] = {}
    keep = []
    for ln in sim.backlog:
        so, line, cust, _promised, pid, qty, price, ccy = ln
        if sim.stock[(ws, pid)] >= qty:
            shp = sim.next_id("SH", 8)
            sim.rows["shipments"].append((shp, so, line, float(qty), day))
            sim.move(dt.datetime.combine(day, dt.time(15, 0)), ws, pid, -qty, "shipment", shp)
            shipped.setdefault(so, []).append(ln)
        else:
            keep.append(ln)
    sim.backlog = keep
    month = day.replace(day=1)
    if sim.shipped_to[0] != month:
        sim.shipped_to = (month, [])
    for so, lines in shipped.items():
        sim.shipped_to[1].append(lines[0][2])
        _invoice(sim, day, so, lines)


def _invoice(sim: Sim, day: dt.date, so: str, lines: list) -> None:
    c, rng = sim.c, sim.rng
    cust, ccy = lines[0][2], lines[0][7]
    inv = sim.next_id("ARI-", 7)
    net = 0
    cogs = 0
    for i, (_so, _line, _cust, _pr, pid, qty, price, _ccy) in enumerate(lines, start=1):
        amount = costing.value_at_standard(qty, price)
        net += amount
        cogs += costing.value_at_standard(qty, c.std_cost[pid])
        sim.rows["ar_invoice_lines"].append((inv, i, pid, float(qty), price, amount))
    tax = costing.half_even_int(net * VAT_PCT, 100) if c.customer[cust].vat else 0
    total = net + tax
    due = day + dt.timedelta(days=c.customer[cust].terms)
    sim.rows["ar_invoices"].append((inv, cust, so, "invoice", day, due, ccy, tax, total))
    rate = sim.rate(ccy, day)
    net_base, tax_base = costing.to_base(net, rate), tax  # foreign-currency customers carry no VAT
    sim.ar_base[inv] = (ccy, total, net_base + tax_base)
    sim.ledger.post(
        day,
        f"Invoice {inv} to {cust}",
        inv,
        [
            (ACCOUNT["ar"], None, net_base + tax_base),
            (ACCOUNT["revenue"], c.sales_cc, -net_base),
            (ACCOUNT["output_vat"], None, -tax_base),
            (ACCOUNT["cogs"], c.sales_cc, cogs),
            (ACCOUNT["inventory_fg"], None, -cogs),
        ],
    )
    sim.month_vat[0] += tax_base
    warehouse_task(sim, day, "pick", so, len(lines), sum(ln[5] for ln in lines))
    warehouse_task(sim, day, "pack", so, len(lines), sum(ln[5] for ln in lines))
    warehouse_task(sim, day, "load", so, 1, sum(ln[5] for ln in lines))
    # when will the customer pay?
    delay = int(round(rng.normal(2, 4))) + sim.plan.customer_extra_days(cust, day)
    pay_day = max(due + dt.timedelta(days=max(delay, -10)), day + dt.timedelta(days=3))
    if ccy == BASE and total > 200_00 and rng.random() < 0.06:  # partial payments, base currency only
        first = costing.half_even_int(total * 6, 10)
        sim.due_payments[pay_day].append((inv, cust, first))
        sim.due_payments[pay_day + dt.timedelta(days=int(rng.integers(7, 25)))].append((inv, cust, total - first))
    else:
        sim.due_payments[pay_day].append((inv, cust, total))


def collect(sim: Sim, day: dt.date) -> None:
    """Customer receipts due today; batch payers pay all of a week's invoices in one transfer on Fridays."""
    c = sim.c
    todays = sim.due_payments.pop(day, [])
    if day.weekday() >= 5:  # banks book on working days
        sim.due_payments[day + dt.timedelta(days=7 - day.weekday())].extend(todays)
        return
    by_customer: dict[str, list] = {}
    for inv, cust, amount in todays:
        if c.customer[cust].batch_payer and day.weekday() != 4:
            sim.due_payments[day + dt.timedelta(days=4 - day.weekday())].append((inv, cust, amount))
            continue
        by_customer.setdefault(cust, []).append((inv, amount))
    for cust, items in by_customer.items():
        if c.customer[cust].batch_payer and len(items) > 1:
            _receipt(sim, day, cust, items, batch=True)
        else:
            for it in items:
                _receipt(sim, day, cust, [it], batch=False)


def _receipt(sim: Sim, day: dt.date, cust: str, items: list[tuple[str, int]], batch: bool) -> None:
    """Cash application: one ERP receipt per invoice. A batch payer's transfer is one bank line
    covering several receipts (the matching engine's one-to-many case)."""
    c, rng = sim.c, sim.rng
    ccy = c.customer[cust].ccy
    receipts, bank_total = [], 0
    advice = f"PAYMENT ADVICE {cust} {day:%Y%m%d}"
    for inv, amount in items:
        rid = sim.next_id("RCT-", 7)
        reference = advice if batch else inv
        sim.rows["ar_receipts"].append((rid, cust, day, amount, ccy, reference))
        sim.rows["ar_receipt_allocations"].append((rid, inv, amount))
        _ccy, _total, base = sim.ar_base[inv]
        cleared = amount if ccy == BASE else base  # foreign-currency invoices are always paid in full
        bank_cents = amount if ccy == BASE else costing.to_base(amount, sim.rate(ccy, day))
        sim.ledger.post(
            day,
            f"Receipt {rid} from {cust}",
            rid,
            [
                (ACCOUNT["cash"], None, bank_cents),
                (ACCOUNT["ar"], None, -cleared),
                (ACCOUNT["fx"], None, cleared - bank_cents),
            ],
        )
        receipts.append(rid)
        bank_total += bank_cents
    name = c.customer[cust].name
    counterparty = name.upper() if rng.random() < 0.3 else name
    reference = advice if batch else items[0][0]
    if batch:
        sim.plan.add_matching(
            "batch_payment",
            "customer",
            cust,
            day,
            f"{cust} paid {len(items)} invoices in one transfer ({', '.join(receipts)}).",
        )
    elif rng.random() < (0.006 if c.scale.name != "tiny" else 0.08):
        mangled = _mangle(reference, rng)
        sim.plan.add_matching(
            "mangled_reference",
            "customer",
            cust,
            day,
            f"Bank line for {receipts[0]} carries reference {mangled!r} instead of {reference!r}.",
        )
        reference = mangled
    sim.bank(
        day,
        bank_total,
        counterparty,
        reference,
        f"SEPA CREDIT TRANSFER {name[:20]}",
        "ar_receipt",
        receipts,
    )


def _mangle(reference: str, rng) -> str:
    digits = "".join(ch for ch in reference if ch.isdigit())
    choice = int(rng.integers(0, 4))
    if choice == 0:
        return digits.lstrip("0")
    if choice == 1 and len(digits) > 2:
        i = int(rng.integers(0, len(digits) - 1))
        swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
        return f"INV {swapped}" if swapped != digits else f"RF {digits}"
    if choice == 2:
        return f"/ROC/{reference.replace('-', '')}"
    return reference.lower().replace("-", " ")
