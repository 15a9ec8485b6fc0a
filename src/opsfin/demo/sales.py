"""Sales: customer orders, shipments from the distribution centre, AR invoices at the
shipment date (revenue at actual price, COGS at standard); customer payments are receipts.py's."""

from __future__ import annotations

import datetime as dt

from . import costing, receipts
from .demand import spare_part_orders
from .master import ACCOUNT, BASE
from .people import warehouse_task
from .state import Sim

VAT_PCT = 20
EXPRESS_SHARE = 0.1  # orders wanted the same day; those taken after the DC's cut-off (half) ship the next day


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
    # most customers accept 4-8 days; an express order wants its goods shipped today, and misses it when it
    # comes after the distribution centre's cut-off (or the goods are out of stock)
    if rng.random() < EXPRESS_SHARE:
        promised = day
        if rng.random() < 0.5:
            sim.ship_from[so] = day + dt.timedelta(days=1)
    else:
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
    receipts.ask_prepayment(sim, day, so, cust)  # some orders ship only once paid on account


def ship(sim: Sim, day: dt.date) -> None:
    """Ship whole order lines, earliest promise first, from distribution-centre stock."""
    c = sim.c
    ws = c.warehouse_site
    if day.weekday() >= 6:
        return
    sim.backlog.sort(key=lambda ln: (ln[3], ln[0], ln[1]))
    sim.ship_from = {so: first for so, first in sim.ship_from.items() if first > day}
    shipped: dict[str, list] = {}
    keep = []
    for ln in sim.backlog:
        so, line, cust, _promised, pid, qty, price, ccy = ln
        if sim.stock[(ws, pid)] >= qty and so not in sim.held_orders and so not in sim.ship_from:
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
    c = sim.c
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
    sim.rows["ar_invoices"].append((inv, cust, so, "invoice", day, due, ccy, tax, total, None, None))
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
    # when will the customer pay? (receipts.py: the payment and what its bank line says)
    receipts.schedule(sim, day, inv, cust, so, due)
