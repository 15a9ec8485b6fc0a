"""Variance analysis, exact and additive: the bridge from static budget to flexible budget to actual
gross margin (Horngren, Datar & Rajan, *Cost Accounting*: flexible budget ch. 7, overhead ch. 8,
sales-mix and sales-quantity variances ch. 14).

A pure function of warehouse tables (a DuckDB connection) plus a few settings; it returns a Polars table
`category, [<dim>], amount` whose amounts (DECIMAL, cents) are signed as effects on gross margin:
favourable +, unfavourable −. The parts add to the `total` row exactly.

How each part is computed (docs/variances.md has the full description):

- The bridge is built month by month (the standard-cost ERP closes variances per month and work centre);
  a range of months is the sum of its monthly bridges.
- Sales side, per month, from the GL (actual revenue and COGS at standard) and the volume plan:
  static GM = he(Σ BQ·(BP − SC)); flexible GM = he(Σ AQ·(BP − SC));
  sales_price = (revenue − COGS at standard) − flexible GM (actual price and FX against plan price);
  sales_quantity = he(Σ (AQtot − BQtot)·BMix·BCM); sales_mix = (flexible − static) − sales_quantity.
- Manufacturing side: minus the `variance_*` postings, split into their parts by recomputing each part from
  the operational rows with the ERP's rounding rules (docs/demo-company.md). Whatever the recomputation
  cannot place is `other_manufacturing` (zero on the demo company), so the bridge always ties to the GL.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import duckdb
import polars as pl

from ..errors import UserError

UNASSIGNED = "(unassigned)"
MAX_MONTHS = 1200  # a hundred years: --to 9999-12 is a mistake, not a request
DIMENSIONS = ("product", "work_center", "machine", "shift", "supplier", "customer")

SALES_CATEGORIES = ("sales_price", "sales_mix", "sales_quantity")
MANUFACTURING_CATEGORIES = (
    "material_price", "invoice_price", "material_usage", "labor_rate", "labor_efficiency",
    "energy_price", "energy_usage", "var_overhead_spending", "var_overhead_efficiency",
    "fixed_overhead_spending", "production_volume", "scrap", "other_manufacturing",
)
CATEGORIES = SALES_CATEGORIES + MANUFACTURING_CATEGORIES

#: GL role(s) each manufacturing category explains (the category pair sums to minus the role's postings).
GL_ROLES = {
    "material_price": ("variance_material_price",),
    "invoice_price": ("variance_invoice_price",),
    "material_usage": ("variance_material_usage",),
    "scrap": ("variance_scrap",),
    "labor_rate": ("variance_labor_rate",),
    "labor_efficiency": ("variance_labor_efficiency",),
    "energy_price": ("variance_energy",),
    "energy_usage": ("variance_energy",),
    "var_overhead_spending": ("variance_overhead",),
    "var_overhead_efficiency": ("variance_overhead",),
    "fixed_overhead_spending": ("variance_overhead",),
    "production_volume": ("variance_volume",),
}
VARIANCE_ROLES = (
    "variance_material_price", "variance_invoice_price", "variance_material_usage", "variance_scrap",
    "variance_labor_rate", "variance_labor_efficiency", "variance_energy", "variance_overhead", "variance_volume",
)

#: The dimensions whose members each category's source rows carry (the rest goes to `(unassigned)`).
SPLITS: dict[str, tuple[str, ...]] = {
    "sales_price": ("product", "customer"),
    "sales_mix": ("product",),
    "sales_quantity": ("product",),
    "material_price": ("supplier", "product"),
    "invoice_price": ("supplier", "product"),
    "material_usage": ("product",),
    "scrap": ("product", "work_center", "machine", "shift"),
    "labor_rate": ("work_center", "shift"),
    "labor_efficiency": ("work_center", "shift"),
    "energy_price": ("work_center", "machine"),
    "energy_usage": ("work_center", "machine"),
    "var_overhead_spending": ("work_center",),
    "var_overhead_efficiency": ("work_center", "machine", "shift", "product"),
    "fixed_overhead_spending": ("work_center",),
    "production_volume": ("work_center",),
    "other_manufacturing": (),
}


# ------------------------------------------------------------------------------------------ exact helpers
def he(value: Fraction | int) -> int:
    """Round a Fraction (in cents) to whole cents, half to even."""
    f = Fraction(value)
    q, r = divmod(f.numerator, f.denominator)
    if 2 * r > f.denominator or (2 * r == f.denominator and q % 2 == 1):
        q += 1
    return q


def he_div(numerator: int, denominator: int) -> int:
    return he(Fraction(numerator, denominator))


def _he_sql(n: str, d: int) -> str:
    """SQL: integer `n` / `d` rounded half to even (sign-safe; `n` must be a plain column name)."""
    a = f"abs({n})"
    return (f"(sign({n}) * (({a} // {d}) + CASE WHEN 2 * ({a} % {d}) > {d} "
            f"OR (2 * ({a} % {d}) = {d} AND ({a} // {d}) % 2 = 1) THEN 1 ELSE 0 END))")


def apportion(target: int, parts: dict[Any, Fraction | float | int]) -> dict[Any, int]:
    """Split `target` cents among members so the split sums to `target` exactly.

    `parts` are the members' exact (or very nearly exact) shares in cents. A difference of more than a cent
    between their sum and the target is a part the rows could not place: it goes to `(unassigned)`. The
    remaining rounding cents go by largest remainder (a deficit is taken from the smallest remainders)."""
    fr = {k: Fraction(v) for k, v in parts.items() if v}
    rest = Fraction(target) - sum(fr.values(), Fraction(0))
    if (not fr and rest) or abs(rest) > 1:
        fr[UNASSIGNED] = fr.get(UNASSIGNED, Fraction(0)) + rest
    floors = {k: v.numerator // v.denominator for k, v in fr.items()}
    diff = target - sum(floors.values())
    if diff and floors:
        sign = -1 if diff > 0 else 1  # largest remainders first for a surplus, smallest first for a deficit
        order = sorted(fr, key=lambda k: (sign * (fr[k] - floors[k]), str(k)))
        step = 1 if diff > 0 else -1
        i = 0
        while diff:
            floors[order[i % len(order)]] += step
            diff -= step
            i += 1
    return {k: v for k, v in floors.items() if v}


def _cents(d: Decimal | int | None) -> int:
    return int((Decimal(d or 0) * 100).to_integral_value())


def _to_1e4(d: Decimal | None) -> int:
    return int((Decimal(d or 0) * 10000).to_integral_value())


# ------------------------------------------------------------------------------------------ textbook formulas
def sales_volume_split(budget: dict[Any, tuple[Fraction, Fraction]], actual_qty: dict[Any, Fraction]
                       ) -> tuple[dict[Any, Fraction], dict[Any, Fraction]]:
    """Horngren ch. 14: the sales-volume variance (AQ − BQ)·BCM per product, split into
    sales-quantity (AQtot − BQtot)·BMix·BCM and sales-mix AQtot·(AMix − BMix)·BCM. `budget` maps a product
    to (budgeted quantity, budgeted contribution margin per unit). Signed: favourable +. Exact."""
    bq_tot = sum((Fraction(q) for q, _ in budget.values()), Fraction(0))
    aq_tot = sum((Fraction(q) for q in actual_qty.values()), Fraction(0))
    quantity: dict[Any, Fraction] = {}
    mix: dict[Any, Fraction] = {}
    for p in list(budget) + [p for p in actual_qty if p not in budget]:
        bq, bcm = (Fraction(budget[p][0]), Fraction(budget[p][1])) if p in budget else (Fraction(0), Fraction(0))
        aq = Fraction(actual_qty.get(p, 0))
        if bq_tot:
            bmix = bq / bq_tot
            quantity[p] = (aq_tot - bq_tot) * bmix * bcm
            mix[p] = (aq - aq_tot * bmix) * bcm
        else:  # nothing planned: the whole volume effect is quantity
            quantity[p], mix[p] = aq * bcm, Fraction(0)
    return quantity, mix


def price_efficiency(actual_cost, actual_input, std_price, std_input_allowed) -> tuple[Fraction, Fraction]:
    """Horngren ch. 7 (and ch. 8 for variable overhead spending/efficiency), as effects on margin
    (favourable +): price = −(actual cost − AQ·SP), efficiency = −(AQ·SP − SQ·SP), SQ = standard input
    allowed for the actual output."""
    aq_sp = Fraction(actual_input) * Fraction(std_price)
    return -(Fraction(actual_cost) - aq_sp), -(aq_sp - Fraction(std_input_allowed) * Fraction(std_price))


# ------------------------------------------------------------------------------------------ periods
def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _parse(value: str | dt.date | None, option: str, last: bool) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        if len(value) == 7:  # YYYY-MM
            d = dt.date.fromisoformat(value + "-01")
            return month_end(d) if last else d
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option}: {value!r} is not a date (use YYYY-MM-DD or YYYY-MM)") from None


def resolve_months(con: duckdb.DuckDBPyConnection, start=None, end=None) -> list[dt.date]:
    """The months of the bridge. Variances close per month, so --from/--to must fall on month bounds;
    by default every month with gross-margin postings (revenue, COGS or a variance)."""
    lo, hi = _parse(start, "--from", False), _parse(end, "--to", True)
    if lo is None or hi is None:
        roles = ", ".join(f"'{r}'" for r in ("revenue", "cogs", *VARIANCE_ROLES))
        a, b = con.execute(f"""SELECT min(posting_date), max(posting_date) FROM gl_entries g
                               JOIN accounts a USING (account_id) WHERE a.role IN ({roles})""").fetchall()[0]
        if a is None:
            raise UserError("no revenue, COGS or variance postings in gl_entries: nothing to analyse")
        lo = lo or month_start(a)
        hi = hi or month_end(b)
    if lo != month_start(lo):
        raise UserError(f"--from {lo}: variances close per month; start on the first of a month (or use YYYY-MM)")
    if hi != month_end(hi):
        raise UserError(f"--to {hi}: variances close per month; end on the last day of a month (or use YYYY-MM)")
    if hi < lo:
        raise UserError(f"--to {hi} is before --from {lo}")
    count = (hi.year - lo.year) * 12 + hi.month - lo.month + 1
    if count > MAX_MONTHS:
        raise UserError(f"--from {lo} --to {hi}: {count} months; a bridge covers at most {MAX_MONTHS} months")
    return [dt.date(lo.year + (lo.month - 1 + k) // 12, (lo.month - 1 + k) % 12 + 1, 1) for k in range(count)]


def plan_versions(con: duckdb.DuckDBPyConnection, months: list[dt.date], budget: str | None) -> dict[dt.date, str]:
    """The volume-plan version of each month: --budget, or the only version with rows for the period."""
    have = con.execute("SELECT DISTINCT version, period FROM volume_plan WHERE period BETWEEN ? AND ?",
                       [months[0], months[-1]]).fetchall()
    by_month: dict[dt.date, set[str]] = defaultdict(set)
    for v, p in have:
        by_month[p].add(v)
    if budget is not None:
        missing = [m for m in months if budget not in by_month.get(m, set())]
        if missing:
            known = sorted({v for v, _ in con.execute("SELECT DISTINCT version, 1 FROM volume_plan").fetchall()})
            raise UserError(f"--budget {budget}: volume_plan has no rows for {', '.join(f'{m:%Y-%m}' for m in missing)}"
                            f" (versions: {', '.join(known) or 'none'})")
        return {m: budget for m in months}
    out = {}
    for m in months:
        vs = by_month.get(m, set())
        if not vs:
            raise UserError(f"volume_plan has no rows for {m:%Y-%m}: load a plan, or choose --from/--to within the plan")
        if len(vs) > 1:
            raise UserError(f"several volume_plan versions cover {m:%Y-%m} ({', '.join(sorted(vs))}): "
                            "name one with --budget")
        out[m] = next(iter(vs))
    return out


# ------------------------------------------------------------------------------------------ pieces
@dataclass
class Piece:
    """One category's amount for one month and rounding unit, with its members' exact shares."""
    category: str
    month: dt.date
    target: int                                                   # cents
    parts: dict[str, dict[str, Fraction]] = field(default_factory=dict)  # dim -> member -> exact cents


def _add(parts: dict[str, dict[str, Fraction]], dim: str, member: Any, value: Fraction | int) -> None:
    key = UNASSIGNED if member is None else str(member)
    d = parts.setdefault(dim, {})
    d[key] = d.get(key, Fraction(0)) + Fraction(value)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _month_key(d: dt.date | dt.datetime) -> dt.date:
    return (d.date() if isinstance(d, dt.datetime) else d).replace(day=1)


def _gl_by_month_role(con, lo: dt.date, hi: dt.date) -> dict[tuple[dt.date, str], int]:
    roles = ", ".join(f"'{r}'" for r in ("revenue", "cogs", *VARIANCE_ROLES))
    return {(_month_key(m), role): _cents(s) for m, role, s in _rows(con, f"""
        SELECT date_trunc('month', g.posting_date) m, a.role, sum(g.amount) FROM gl_entries g
        JOIN accounts a USING (account_id)
        WHERE a.role IN ({roles}) AND g.posting_date BETWEEN ? AND ? GROUP BY ALL""", [lo, hi])}


def _sales(con, months: list[dt.date], versions: dict[dt.date, str], gl: dict) -> tuple[list[Piece], dict[dt.date, int]]:
    lo, hi = months[0], month_end(months[-1])
    std = {p: (Decimal(s or 0), Decimal(lp or 0)) for p, s, lp in _rows(
        con, "SELECT product_id, std_unit_cost, list_price FROM products")}
    plan: dict[dt.date, dict[str, tuple[Fraction, Fraction]]] = defaultdict(dict)
    for version, period, product, qty, price in _rows(con, """
            SELECT version, period, product_id, sum(qty), any_value(unit_price) FROM volume_plan
            WHERE period BETWEEN ? AND ? GROUP BY ALL""", [lo, hi]):
        if versions.get(period) == version:
            plan[period][product] = (Fraction(Decimal(str(qty))), Fraction(price))
    # actual: revenue GL per AR invoice, shared over its lines by line amount; quantities from the lines
    lines = _rows(con, """
        WITH rev AS (
            SELECT g.source_doc AS invoice_id, date_trunc('month', g.posting_date) AS m, -sum(g.amount) AS rev
            FROM gl_entries g JOIN accounts a USING (account_id)
            WHERE a.role = 'revenue' AND g.posting_date BETWEEN ? AND ? GROUP BY ALL),
        l AS (SELECT l.invoice_id, l.product_id, l.qty, l.amount, i.customer_id,
                     sum(l.amount) OVER (PARTITION BY l.invoice_id) AS net
              FROM ar_invoice_lines l JOIN ar_invoices i USING (invoice_id)
              WHERE l.invoice_id IN (SELECT invoice_id FROM rev))
        SELECT r.m, l.product_id, l.customer_id, sum(l.qty), sum(l.amount),
               sum(CASE WHEN l.net <> 0 THEN r.rev * l.amount / l.net END)
        FROM rev r JOIN l USING (invoice_id) GROUP BY ALL""", [lo, hi])
    actual: dict[dt.date, list[tuple]] = defaultdict(list)
    for m, product, customer, qty, _amount, rev in lines:
        actual[_month_key(m)].append((product, customer, Fraction(Decimal(str(qty or 0))), Fraction(Decimal(str(rev or 0)))))
    pieces: list[Piece] = []
    static_by_month: dict[dt.date, int] = {}
    for m in months:
        bplan = plan.get(m, {})

        def bp(p: str, bplan: dict = bplan) -> Fraction:
            return bplan[p][1] if p in bplan else Fraction(std.get(p, (0, 0))[1])

        def bcm(p: str) -> Fraction:
            return bp(p) - Fraction(std.get(p, (Decimal(0), 0))[0])

        static = he(sum((q * bcm(p) for p, (q, _) in bplan.items()), Fraction(0)) * 100)
        static_by_month[m] = static
        aq: dict[str, Fraction] = defaultdict(Fraction)
        for product, _c, qty, _r in actual.get(m, []):
            aq[product] += qty
        flexible = he(sum((q * bcm(p) for p, q in aq.items()), Fraction(0)) * 100)
        revenue, cogs = -gl.get((m, "revenue"), 0), gl.get((m, "cogs"), 0)
        price = Piece("sales_price", m, (revenue - cogs) - flexible)
        for product, customer, qty, rev in actual.get(m, []):
            v = (rev - qty * bp(product)) * 100
            _add(price.parts, "product", product, v)
            _add(price.parts, "customer", customer, v)
        budget_cm = {p: (q, bcm(p)) for p, (q, _) in bplan.items()}
        budget_cm.update({p: (Fraction(0), bcm(p)) for p in aq if p not in bplan})
        qty_parts, mix_parts = sales_volume_split(budget_cm, aq)
        quantity = Piece("sales_quantity", m, he(sum(qty_parts.values(), Fraction(0)) * 100))
        for p, v in qty_parts.items():
            _add(quantity.parts, "product", p, v * 100)
        mix = Piece("sales_mix", m, (flexible - static) - quantity.target)
        for p, v in mix_parts.items():
            _add(mix.parts, "product", p, v * 100)
        pieces += [price, mix, quantity]
    return pieces, static_by_month


def _material(con, months: list[dt.date], base: str) -> list[Piece]:
    lo, hi = months[0], month_end(months[-1])
    pieces: dict[tuple[str, dt.date], Piece] = {}

    def piece(cat: str, m: dt.date) -> Piece:
        return pieces.setdefault((cat, m), Piece(cat, m, 0))

    # purchase price variance at goods receipt, per receipt line, half-even
    for m, supplier, product, qty, price, rate, std_cost in _rows(con, f"""
            SELECT r.received_date, o.supplier_id, o.product_id, r.qty, o.unit_price,
                   CASE WHEN o.currency = '{base}' THEN 1 ELSE f.rate_to_base END, p.std_unit_cost
            FROM goods_receipts r JOIN purchase_orders o ON o.po_id = r.po_id AND o.line = r.line
            JOIN products p ON p.product_id = o.product_id
            ASOF LEFT JOIN fx_rates f ON f.currency = o.currency AND f.rate_date <= r.received_date
            WHERE r.received_date BETWEEN ? AND ?""", [lo, hi]):
        if rate is None:
            raise UserError(f"fx_rates: no {base} rate for the PO currency on {m} (goods receipt)")
        ppv = -he((Fraction(price) * Fraction(rate) - Fraction(std_cost)) * Fraction(Decimal(str(qty))) * 100)
        pc = piece("material_price", _month_key(m))
        pc.target += ppv
        _add(pc.parts, "supplier", supplier, ppv)
        _add(pc.parts, "product", product, ppv)
    # invoice price variance: as posted, per supplier invoice; its products are the invoice's lines
    # (an invoice with several products shares its variance by the lines' net amounts)
    ipv = _rows(con, """
            SELECT date_trunc('month', g.posting_date), g.source_doc, i.supplier_id, sum(g.amount)
            FROM gl_entries g JOIN accounts a USING (account_id) LEFT JOIN ap_invoices i ON i.invoice_id = g.source_doc
            WHERE a.role = 'variance_invoice_price' AND g.posting_date BETWEEN ? AND ? GROUP BY ALL""", [lo, hi])
    lines: dict[str, dict[str, Fraction]] = defaultdict(dict)
    for invoice, product, net in _rows(con, """
            SELECT l.invoice_id, l.product_id, sum(abs(l.amount)) FROM ap_invoice_lines l
            WHERE l.invoice_id IN (SELECT g.source_doc FROM gl_entries g JOIN accounts a USING (account_id)
                                   WHERE a.role = 'variance_invoice_price' AND g.posting_date BETWEEN ? AND ?)
              AND l.product_id IS NOT NULL
            GROUP BY ALL""", [lo, hi]):
        lines[invoice][product] = Fraction(net or 0)
    for m, invoice, supplier, amount in ipv:
        pc = piece("invoice_price", _month_key(m))
        pc.target -= _cents(amount)
        _add(pc.parts, "supplier", supplier, -_cents(amount))
        products = lines.get(invoice, {})
        total = sum(products.values())
        for product, net in products.items():
            share = net / total if total else Fraction(1, len(products))
            _add(pc.parts, "product", product, -_cents(amount) * share)
    # usage and scrap at order close: per order and component (usage) or per order (scrap), half-even.
    # Rounded in SQL on exact integers: quantities in 1e-6 units × standards in 1e-4 → cents ÷ 1e8.
    closed = f"""o AS (SELECT order_id, product_id, planned_qty, closed_date FROM production_orders
                     WHERE status = 'closed' AND closed_date BETWEEN DATE '{lo}' AND DATE '{hi}')"""
    for m, product, cents in _rows(con, f"""
        WITH {closed},
        iss AS (SELECT ref_doc AS order_id, product_id AS component_id, -sum(qty) AS issued
                FROM inventory_movements WHERE kind = 'issue' AND ref_doc IN (SELECT order_id FROM o) GROUP BY ALL),
        l AS (SELECT o.closed_date, o.product_id,
                     CAST(round((coalesce(iss.issued, 0) - o.planned_qty * b.qty_per) * 1000000) AS HUGEINT)
                     * CAST(round(c.std_unit_cost * 10000) AS HUGEINT) AS n
              FROM o JOIN bom b ON b.product_id = o.product_id JOIN products c ON c.product_id = b.component_id
              LEFT JOIN iss ON iss.order_id = o.order_id AND iss.component_id = b.component_id)
        SELECT date_trunc('month', closed_date), product_id, sum({_he_sql('n', 100_000_000)}) FROM l GROUP BY ALL"""):
        pc = piece("material_usage", _month_key(m))
        pc.target -= int(cents)
        _add(pc.parts, "product", product, -int(cents))
    for m, product, cents in _rows(con, f"""
        WITH {closed},
        s AS (SELECT order_id, sum(qty_scrap) q FROM operations WHERE order_id IN (SELECT order_id FROM o) GROUP BY 1),
        l AS (SELECT o.closed_date, o.product_id,
                     CAST(round(s.q * 1000000) AS HUGEINT) * CAST(round(p.std_unit_cost * 10000) AS HUGEINT) AS n
              FROM o JOIN s USING (order_id) JOIN products p ON p.product_id = o.product_id)
        SELECT date_trunc('month', closed_date), product_id, sum({_he_sql('n', 100_000_000)}) FROM l GROUP BY ALL"""):
        pc = piece("scrap", _month_key(m))
        pc.target -= int(cents)
        _add(pc.parts, "product", product, -int(cents))
    # the scrapping operations carry work centre, machine and shift: each order's scrap shared by their quantity
    for m, wc, machine, shift, share in _rows(con, f"""
        WITH {closed},
        ops AS (SELECT op.order_id, op.work_center_id, op.machine_id, op.shift_id, op.qty_scrap,
                       sum(op.qty_scrap) OVER (PARTITION BY op.order_id) AS q
                FROM operations op WHERE op.order_id IN (SELECT order_id FROM o) AND op.qty_scrap <> 0),
        l AS (SELECT o.closed_date, ops.*, CAST(round(ops.q * 1000000) AS HUGEINT)
                     * CAST(round(p.std_unit_cost * 10000) AS HUGEINT) AS n
              FROM o JOIN ops USING (order_id) JOIN products p ON p.product_id = o.product_id)
        SELECT date_trunc('month', closed_date), work_center_id, machine_id, shift_id,
               sum(CAST({_he_sql('n', 100_000_000)} AS DOUBLE) * qty_scrap / q) FROM l GROUP BY ALL"""):
        pc = piece("scrap", _month_key(m))
        v = -Fraction(share)
        _add(pc.parts, "work_center", wc, v)
        _add(pc.parts, "machine", machine, v)
        _add(pc.parts, "shift", shift, v)
    return list(pieces.values())


def _conversion(con, months: list[dt.date], versions: dict[dt.date, str]) -> list[Piece]:
    """Labor, energy and overhead per work centre and month, as the demo ERP closes them."""
    lo, hi = months[0], month_end(months[-1])
    wcs = {w: (cc, site, _to_1e4(lr), _to_1e4(vr), _to_1e4(fr), _to_1e4(sp)) for w, cc, site, lr, vr, fr, sp in _rows(con, """
        SELECT w.work_center_id, w.cost_center_id, w.site_id, w.std_labor_rate, w.std_variable_overhead_rate,
               w.std_fixed_overhead_rate, s.std_energy_price FROM work_centers w LEFT JOIN sites s USING (site_id)""")}
    # operations that ended in the month, with their standards (integers: centi-minutes, Wh)
    ops = _rows(con, """
        SELECT date_trunc('month', op.end_at) m, op.work_center_id, op.machine_id, op.shift_id, o.product_id,
               sum(op.qty_good + op.qty_scrap) u,
               sum(CAST(round(op.run_minutes * 100) AS BIGINT)) run_cmin,
               sum((op.qty_good + op.qty_scrap) * CAST(round(r.std_labor_minutes_per_unit * 100) AS BIGINT)) std_lab,
               sum((op.qty_good + op.qty_scrap) * CAST(round(r.std_run_minutes_per_unit * 100) AS BIGINT)) std_run,
               sum((op.qty_good + op.qty_scrap) * CAST(round(r.std_kwh_per_unit * 1000) AS BIGINT)) std_wh
        FROM operations op JOIN production_orders o USING (order_id)
        LEFT JOIN routings r ON r.product_id = o.product_id AND r.step = op.step
        WHERE CAST(op.end_at AS DATE) BETWEEN ? AND ? GROUP BY ALL""", [lo, hi])
    # timesheets booked to a work centre: hours in quarter-hours, pay rounded per row (half-even)
    pay_n = ("(CAST(round(ts.regular_hours * 4) AS BIGINT) * CAST(round(e.hourly_rate * 10000) AS BIGINT) * 4 + "
             "CAST(round(ts.overtime_hours * 4) AS BIGINT) * CAST(round(e.hourly_rate * 10000) AS BIGINT) * "
             "CAST(round(e.overtime_multiplier * 4) AS BIGINT))")
    ts = _rows(con, f"""
        SELECT m, work_center_id, shift_id, sum(qh), sum({_he_sql('n', 1600)})
        FROM (SELECT date_trunc('month', ts.work_date) m, ts.work_center_id, ts.shift_id,
                     CAST(round((ts.regular_hours + ts.overtime_hours) * 4) AS BIGINT) qh, {pay_n} n
              FROM timesheets ts JOIN employees e USING (employee_id)
              WHERE ts.work_center_id IS NOT NULL AND ts.work_date BETWEEN ? AND ?)
        GROUP BY ALL""", [lo, hi])
    readings = _rows(con, """
        SELECT date_trunc('month', r.hour_start) m, mc.work_center_id, r.machine_id,
               sum(CAST(round(r.kwh * 1000) AS BIGINT))
        FROM machine_readings r JOIN machines mc USING (machine_id)
        WHERE r.hour_start >= ? AND r.hour_start < ? GROUP BY ALL""",
                     [dt.datetime.combine(lo, dt.time()), dt.datetime.combine(hi + dt.timedelta(days=1), dt.time())])
    # bills: the month's postings to the conversion cost roles, except the clearing journal itself
    bills = _rows(con, """
        WITH g AS (SELECT g.*, a.role FROM gl_entries g JOIN accounts a USING (account_id)
                   WHERE g.posting_date BETWEEN ? AND ?),
        clearing AS (SELECT DISTINCT journal_id FROM g WHERE role LIKE 'variance_%')
        SELECT date_trunc('month', posting_date), cost_center_id, role, sum(amount) FROM g
        WHERE role IN ('energy', 'variable_overhead', 'fixed_overhead')
          AND journal_id NOT IN (SELECT journal_id FROM clearing)
        GROUP BY ALL""", [lo, hi])
    budgets = _rows(con, """
        SELECT b.version, b.period, b.cost_center_id, sum(b.amount) FROM budget_lines b JOIN accounts a USING (account_id)
        WHERE a.role = 'fixed_overhead' AND b.period BETWEEN ? AND ? GROUP BY ALL""", [lo, hi])

    cc_wc = {cc: w for w, (cc, *_rest) in wcs.items()}
    z = lambda: defaultdict(int)  # noqa: E731
    op_by: dict[tuple, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0, 0]))
    for m, w, machine, shift, product, u, run_cmin, std_lab, std_run, std_wh in ops:
        acc = op_by[(_month_key(m), w)][(machine, shift, product)]
        for i, v in enumerate((u, run_cmin, std_lab, std_run, std_wh)):
            acc[i] += int(round(v or 0))
    ts_by: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for m, w, shift, qh, pay in ts:
        acc = ts_by[(_month_key(m), w)][shift]
        acc[0] += int(qh)
        acc[1] += int(pay)
    wh_by: dict[tuple, dict[str, int]] = defaultdict(z)
    for m, w, machine, wh in readings:
        wh_by[(_month_key(m), w)][machine] += int(wh)
    bill_by: dict[tuple, int] = defaultdict(int)
    for m, cc, role, amount in bills:
        if cc in cc_wc:
            bill_by[(_month_key(m), cc_wc[cc], role)] += _cents(amount)
    budget_by = {(p, cc): _cents(a) for v, p, cc, a in budgets if versions.get(p) == v}

    pieces: list[Piece] = []
    for m in months:
        for w, (cc, _site, lr, vr, fr, sp) in sorted(wcs.items()):
            key = (m, w)
            if key not in op_by and key not in ts_by and key not in wh_by and not any(
                    (m, w, r) in bill_by for r in ("energy", "variable_overhead", "fixed_overhead")):
                continue
            opsx, tsx, whx = op_by.get(key, {}), ts_by.get(key, {}), wh_by.get(key, {})
            run_cmin = sum(v[1] for v in opsx.values())
            std_lab = sum(v[2] for v in opsx.values())
            std_run = sum(v[3] for v in opsx.values())
            std_wh = sum(v[4] for v in opsx.values())
            qh = sum(v[0] for v in tsx.values())
            pay = sum(v[1] for v in tsx.values())
            wh = sum(whx.values())
            energy_bill = bill_by.get((m, w, "energy"), 0)
            voh_bill = bill_by.get((m, w, "variable_overhead"), 0)
            foh_bill = bill_by.get((m, w, "fixed_overhead"), 0)
            budget = budget_by.get((m, cc), 0)
            applied_labor = he_div(std_lab * lr, 600_000)
            ah_sr = he_div(qh * lr, 400)
            akwh_sp = he_div(wh * sp, 100_000)
            applied_energy = he_div(std_wh * sp, 100_000)
            amh_vr = he_div(run_cmin * vr, 600_000)
            applied_voh = he_div(std_run * vr, 600_000)
            applied_foh = he_div(std_run * fr, 600_000)

            def mk(cat: str, target: int, m: dt.date = m, w: str = w) -> Piece:
                p = Piece(cat, m, target)
                _add(p.parts, "work_center", w, target)
                pieces.append(p)
                return p

            p = mk("labor_rate", -(pay - ah_sr))
            for shift, (q, pp) in tsx.items():
                _add(p.parts, "shift", shift, -(Fraction(pp) - Fraction(q * lr, 400)))
            p = mk("labor_efficiency", -(ah_sr - applied_labor))
            for shift, (q, _pp) in tsx.items():
                _add(p.parts, "shift", shift, -Fraction(q * lr, 400))
            for (_machine, shift, _product), v in opsx.items():
                _add(p.parts, "shift", shift, Fraction(v[2] * lr, 600_000))
            p = mk("energy_price", -(energy_bill - akwh_sp))
            for machine, x in whx.items():
                bill_share = Fraction(energy_bill * x, wh) if wh else Fraction(0)
                _add(p.parts, "machine", machine, -(bill_share - Fraction(x * sp, 100_000)))
            p = mk("energy_usage", -(akwh_sp - applied_energy))
            for machine, x in whx.items():
                _add(p.parts, "machine", machine, -Fraction(x * sp, 100_000))
            for (machine, _shift, _product), v in opsx.items():
                _add(p.parts, "machine", machine, Fraction(v[4] * sp, 100_000))
            mk("var_overhead_spending", -(voh_bill - amh_vr))
            p = mk("var_overhead_efficiency", -(amh_vr - applied_voh))
            for (machine, shift, product), v in opsx.items():
                part = -Fraction((v[1] - v[3]) * vr, 600_000)
                _add(p.parts, "machine", machine, part)
                _add(p.parts, "shift", shift, part)
                _add(p.parts, "product", product, part)
            mk("fixed_overhead_spending", -(foh_bill - budget))
            mk("production_volume", -(budget - applied_foh))
    return pieces


# ------------------------------------------------------------------------------------------ the engine
@dataclass
class Bridge:
    months: list[dt.date]
    versions: dict[dt.date, str]
    pieces: list[Piece]
    static: dict[dt.date, int]
    actual_gm: dict[dt.date, int]


def build_bridge(con: duckdb.DuckDBPyConnection, start=None, end=None, budget: str | None = None,
                 base_currency: str = "EUR") -> Bridge:
    months = resolve_months(con, start, end)
    versions = plan_versions(con, months, budget)
    gl = _gl_by_month_role(con, months[0], month_end(months[-1]))
    pieces, static = _sales(con, months, versions, gl)
    pieces += _material(con, months, base_currency)
    pieces += _conversion(con, months, versions)
    actual_gm = {}
    for m in months:
        variances = sum(gl.get((m, r), 0) for r in VARIANCE_ROLES)
        actual_gm[m] = -gl.get((m, "revenue"), 0) - (gl.get((m, "cogs"), 0) + variances)
        placed = sum(p.target for p in pieces if p.month == m and p.category in MANUFACTURING_CATEGORIES)
        pieces.append(Piece("other_manufacturing", m, -variances - placed))
    return Bridge(months, versions, pieces, static, actual_gm)


def _check_dim(by: str | None) -> str | None:
    if by is not None and by not in DIMENSIONS:
        raise UserError(f"--by {by!r}: choose one of {', '.join(DIMENSIONS)}")
    return by


def bridge_table(bridge: Bridge, by: str | None = None, monthly: bool = False) -> pl.DataFrame:
    """`[month], category, [<by>], amount` (Decimal cents), in category order, plus a `total` row."""
    by = _check_dim(by)
    sums: dict[tuple, int] = defaultdict(int)
    seen: set[tuple] = set()
    for p in bridge.pieces:
        mkey = p.month if monthly else None
        if by is None:
            split = {None: p.target}
        elif by in SPLITS.get(p.category, ()) and p.parts.get(by):
            split = apportion(p.target, p.parts[by])
        else:
            split = {UNASSIGNED: p.target}
        seen.add((mkey, p.category))
        for member, cents in split.items():
            sums[(mkey, p.category, member)] += cents
    rows: list[dict[str, Any]] = []
    month_keys = bridge.months if monthly else [None]
    for mk in month_keys:
        for cat in CATEGORIES:
            members = sorted((k[2] for k in sums if k[0] == mk and k[1] == cat),
                             key=lambda x: (x is None, x == UNASSIGNED, str(x)))
            if not members:
                members = [None if by is None else UNASSIGNED]
            for member in members:
                cents = sums.get((mk, cat, member), 0)
                if by is not None and cents == 0 and len(members) > 1:
                    continue
                row: dict[str, Any] = {}
                if monthly:
                    row["month"] = mk
                row["category"] = cat
                if by is not None:
                    row[by] = member
                row["amount"] = Decimal(cents).scaleb(-2)
                rows.append(row)
        months = bridge.months if mk is None else [mk]
        total = sum(bridge.actual_gm[m] - bridge.static[m] for m in months)
        parts = sum(v for k, v in sums.items() if k[0] == mk)
        if parts != total:  # pragma: no cover - guarded by construction; never print a bridge that does not add
            raise AssertionError(f"variance bridge does not add: parts {parts} vs total {total}")
        row = {"month": mk} if monthly else {}
        row["category"] = "total"
        if by is not None:
            row[by] = None
        row["amount"] = Decimal(total).scaleb(-2)
        rows.append(row)
    schema: dict[str, Any] = {}
    if monthly:
        schema["month"] = pl.Date
    schema["category"] = pl.Utf8
    if by is not None:
        schema[by] = pl.Utf8
    schema["amount"] = pl.Decimal(18, 2)
    return pl.DataFrame(rows, schema=schema, orient="row")


def variance(con: duckdb.DuckDBPyConnection, start=None, end=None, budget: str | None = None, by: str | None = None,
             base_currency: str = "EUR", monthly: bool = False) -> pl.DataFrame:
    """The variance bridge for the months in [start, end]: `category, [<by>], amount` plus `total`."""
    _check_dim(by)
    return bridge_table(build_bridge(con, start, end, budget, base_currency), by, monthly)


def summary(bridge: Bridge) -> dict[str, Decimal]:
    """Static-budget GM, flexible-budget GM and actual GM of the bridge's months (Decimal)."""
    static = sum(bridge.static.values())
    actual = sum(bridge.actual_gm.values())
    sales = {c: sum(p.target for p in bridge.pieces if p.category == c) for c in SALES_CATEGORIES}
    flexible = static + sales["sales_mix"] + sales["sales_quantity"]
    return {k: Decimal(v).scaleb(-2) for k, v in
            (("static_budget_gm", static), ("flexible_budget_gm", flexible), ("actual_gm", actual))}


# ------------------------------------------------------------------------------------------ drill-down
_DRILL_SQL: dict[str, str] = {
    "sales": """
        SELECT i.invoice_date, i.invoice_id, i.customer_id, i.currency, l.line, l.product_id, l.qty, l.unit_price,
               l.amount, v.version, v.qty AS planned_qty, v.unit_price AS planned_price, p.std_unit_cost
        FROM ar_invoice_lines l JOIN ar_invoices i USING (invoice_id) JOIN products p USING (product_id)
        LEFT JOIN volume_plan v ON v.product_id = l.product_id AND v.period = date_trunc('month', i.invoice_date)
             AND v.version = ANY($versions)
        WHERE i.invoice_date BETWEEN $lo AND $hi ORDER BY i.invoice_date, i.invoice_id, l.line""",
    "material_price": """
        SELECT r.receipt_id, r.received_date, r.po_id, r.line, o.supplier_id, o.product_id, r.qty, o.unit_price,
               o.currency, CASE WHEN o.currency = $base THEN 1 ELSE f.rate_to_base END AS rate_to_base,
               p.std_unit_cost
        FROM goods_receipts r JOIN purchase_orders o ON o.po_id = r.po_id AND o.line = r.line
        JOIN products p ON p.product_id = o.product_id
        ASOF LEFT JOIN fx_rates f ON f.currency = o.currency AND f.rate_date <= r.received_date
        WHERE r.received_date BETWEEN $lo AND $hi ORDER BY r.received_date, r.receipt_id""",
    "invoice_price": """
        SELECT g.posting_date, g.journal_id, g.source_doc AS invoice_id, i.supplier_id, i.supplier_ref, g.amount
        FROM gl_entries g JOIN accounts a USING (account_id) LEFT JOIN ap_invoices i ON i.invoice_id = g.source_doc
        WHERE a.role = 'variance_invoice_price' AND g.posting_date BETWEEN $lo AND $hi ORDER BY g.posting_date""",
    "orders": """
        SELECT o.*, (SELECT sum(qty_scrap) FROM operations op WHERE op.order_id = o.order_id) AS qty_scrap
        FROM production_orders o WHERE o.status = 'closed' AND o.closed_date BETWEEN $lo AND $hi
        ORDER BY o.closed_date, o.order_id""",
    "timesheets": """
        SELECT ts.*, e.hourly_rate, e.overtime_multiplier, w.std_labor_rate FROM timesheets ts
        JOIN employees e USING (employee_id) JOIN work_centers w ON w.work_center_id = ts.work_center_id
        WHERE ts.work_date BETWEEN $lo AND $hi ORDER BY ts.work_date, ts.timesheet_id""",
    "operations": """
        SELECT op.*, o.product_id, r.std_run_minutes_per_unit, r.std_labor_minutes_per_unit, r.std_kwh_per_unit
        FROM operations op JOIN production_orders o USING (order_id)
        LEFT JOIN routings r ON r.product_id = o.product_id AND r.step = op.step
        WHERE CAST(op.end_at AS DATE) BETWEEN $lo AND $hi ORDER BY op.end_at, op.operation_id""",
    "readings": """
        SELECT mc.work_center_id, r.* FROM machine_readings r JOIN machines mc USING (machine_id)
        WHERE r.hour_start >= $lo AND r.hour_start < $hi + INTERVAL 1 DAY ORDER BY r.machine_id, r.hour_start""",
    "bills": """
        SELECT g.posting_date, g.journal_id, g.source_doc, g.cost_center_id, w.work_center_id, a.role, g.amount
        FROM gl_entries g JOIN accounts a USING (account_id) JOIN work_centers w ON w.cost_center_id = g.cost_center_id
        WHERE a.role = ANY($roles) AND g.posting_date BETWEEN $lo AND $hi
          AND g.journal_id NOT IN (SELECT journal_id FROM gl_entries g2 JOIN accounts a2 USING (account_id)
                                   WHERE a2.role LIKE 'variance_%' AND g2.posting_date BETWEEN $lo AND $hi)
        ORDER BY g.posting_date, g.cost_center_id""",
    "fixed_budget": """
        SELECT b.*, w.work_center_id FROM budget_lines b JOIN accounts a USING (account_id)
        JOIN work_centers w ON w.cost_center_id = b.cost_center_id
        WHERE a.role = 'fixed_overhead' AND b.period BETWEEN $lo AND $hi AND b.version = ANY($versions)""",
    "gl": """
        SELECT g.*, a.role FROM gl_entries g JOIN accounts a USING (account_id)
        WHERE a.role = ANY($roles) AND g.posting_date BETWEEN $lo AND $hi ORDER BY g.posting_date, g.entry_id""",
}

#: Which source rows explain each category (and, for GL-based ones, which roles).
DRILL: dict[str, tuple[str, tuple[str, ...]]] = {
    "sales_price": ("sales", ()), "sales_mix": ("sales", ()), "sales_quantity": ("sales", ()),
    "material_price": ("material_price", ()), "invoice_price": ("invoice_price", ()),
    "material_usage": ("orders", ()), "scrap": ("orders", ()),
    "labor_rate": ("timesheets", ()), "labor_efficiency": ("timesheets", ()),
    "energy_price": ("bills", ("energy",)), "energy_usage": ("readings", ()),
    "var_overhead_spending": ("bills", ("variable_overhead",)), "var_overhead_efficiency": ("operations", ()),
    "fixed_overhead_spending": ("bills", ("fixed_overhead",)), "production_volume": ("fixed_budget", ()),
    "other_manufacturing": ("gl", VARIANCE_ROLES), "total": ("gl", ("revenue", "cogs", *VARIANCE_ROLES)),
}

_DRILL_FILTER = {  # the column that carries each dimension in a drill table
    "product": "product_id", "work_center": "work_center_id", "machine": "machine_id", "shift": "shift_id",
    "supplier": "supplier_id", "customer": "customer_id",
}


def source_rows(con: duckdb.DuckDBPyConnection, category: str, start=None, end=None, budget: str | None = None,
                by: str | None = None, member: str | None = None, base_currency: str = "EUR") -> pl.DataFrame:
    """The source rows behind a category of the bridge (receipts, orders, timesheets, readings, bills, …),
    optionally only those of one member of a dimension."""
    if category not in DRILL:
        raise UserError(f"unknown variance category {category!r}: choose one of {', '.join(DRILL)}")
    months = resolve_months(con, start, end)
    lo, hi = months[0], month_end(months[-1])
    kind, roles = DRILL[category]
    params: dict[str, Any] = {"lo": lo, "hi": hi}
    sql = _DRILL_SQL[kind]
    if "$versions" in sql:
        params["versions"] = sorted(set(plan_versions(con, months, budget).values()))
    if "$roles" in sql:
        params["roles"] = list(roles)
    if "$base" in sql:
        params["base"] = base_currency
    if kind == "readings":
        params["lo"] = dt.datetime.combine(lo, dt.time())
        params["hi"] = dt.datetime.combine(hi, dt.time())
    out: pl.DataFrame = pl.from_arrow(con.sql(sql, params=params).to_arrow_table())  # type: ignore[assignment]
    if by is not None and member is not None:
        col = _DRILL_FILTER[_check_dim(by)]  # type: ignore[index]
        if col not in out.columns:
            raise UserError(f"{category}: its source rows do not carry {by}; drill without --by/member")
        out = out.filter(pl.col(col) == member)
    return out


def categories() -> Iterable[str]:
    return CATEGORIES
