"""Master data of the demo company: sites, cost centres, lines, machines, shifts, people,
products with BOMs and routings, suppliers, customers, the chart of accounts and FX rates.

Every standard is an exact decimal (held as integer units) so that the standard-cost
flow and its variances can be recomputed to the cent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from .scales import Scale

BASE = "EUR"

# (account_id, name, type, role)
CHART = [
    ("1000", "Bank — main account", "asset", "cash"),
    ("1100", "Trade receivables", "asset", "ar"),
    ("1200", "Raw materials and components", "asset", "inventory_raw"),
    ("1210", "Work in progress", "asset", "inventory_wip"),
    ("1220", "Finished goods", "asset", "inventory_fg"),
    ("1300", "Input VAT", "asset", "tax"),
    ("1500", "Machinery and equipment", "asset", "other"),
    ("1510", "Accumulated depreciation", "asset", "other"),
    ("2000", "Trade payables", "liability", "ap"),
    ("2100", "Goods received not invoiced", "liability", "grni"),
    ("2200", "Payroll liabilities", "liability", "payroll_liability"),
    ("2300", "Output VAT", "liability", "tax"),
    ("2400", "Customer prepayments", "liability", "other"),
    ("3000", "Share capital", "equity", "equity"),
    ("4000", "Revenue", "revenue", "revenue"),
    ("5000", "Cost of goods sold at standard", "expense", "cogs"),
    ("5100", "Purchase price variance", "expense", "variance_material_price"),
    ("5110", "Invoice price variance", "expense", "variance_invoice_price"),
    ("5120", "Material usage variance", "expense", "variance_material_usage"),
    ("5130", "Scrap variance", "expense", "variance_scrap"),
    ("5140", "Labor rate variance", "expense", "variance_labor_rate"),
    ("5150", "Labor efficiency variance", "expense", "variance_labor_efficiency"),
    ("5160", "Energy variance", "expense", "variance_energy"),
    ("5170", "Overhead spending and efficiency variance", "expense", "variance_overhead"),
    ("5180", "Production volume variance", "expense", "variance_volume"),
    ("6000", "Direct labor", "expense", "direct_labor"),
    ("6100", "Energy", "expense", "energy"),
    ("6200", "Variable manufacturing overhead", "expense", "variable_overhead"),
    ("6300", "Fixed manufacturing overhead", "expense", "fixed_overhead"),
    ("6400", "Maintenance", "expense", "maintenance"),
    ("6500", "Depreciation", "expense", "depreciation"),
    ("6600", "Salaries", "expense", "payroll"),
    ("6700", "Operating expenses", "expense", "opex"),
    ("6800", "Inventory adjustments", "expense", "inventory_adjustment"),
    ("6900", "Exchange differences", "expense", "other"),
    ("6910", "Bank charges", "expense", "other"),
]
ACCOUNT = {role_key: acc for acc, _, _, role_key in CHART if role_key not in ("other", "tax", "cash")}
ACCOUNT.update(
    {
        "cash": "1000",
        "input_vat": "1300",
        "output_vat": "2300",
        "machinery": "1500",
        "accumulated_depreciation": "1510",
        "fx": "6900",
        "bank_charges": "6910",
        "customer_prepayments": "2400",
    }
)

STAGES = [  # flow shop: a finished good passes these work centres in order (code, label, kind, ideal cycle s, value added)
    ("MACH", "Machining line", "line", 400.0, True),
    ("MOVE", "Internal transport", "team", 40.0, False),  # tugger runs from machining to assembly
    ("ASSY", "Assembly line", "line", 440.0, True),
    ("INSP", "Quality inspection", "cell", 60.0, False),
    ("RWK", "Leak test and rework", "cell", 440.0, False),  # cycle set per plant (plans.plan_demand)
    ("PACK", "Packing cell", "cell", 360.0, False),
]
# the support stages run fewer stations than a line: this share of its machines, at least one
STAGE_MACHINE_SHARE = {"MOVE": 0.2, "INSP": 0.2, "RWK": 0.4}
# transport and inspection are run by the plant's logistics clerks and quality inspectors (its indirect staff):
# no operators of their own, no labor standard, and no energy meter (their power is in the plant's overhead)
INDIRECT_STAGES = ("MOVE", "INSP")
REWORK_STAGE = "RWK"
REWORK_FAMILIES = ("Pumps", "Valves")  # pressure parts: leak-tested and reworked; the others skip the stage
CONSTRAINT_STAGE = "ASSY"  # the slowest stage every finished good passes
# the people of a site besides the operators, per operator of the plant: supervisors, planners, quality
# inspectors, logistics and plant administration (a mid-size plant has three for every four operators)
PLANT_STAFF_PER_OPERATOR = 0.75
SALES_STAFF_PER_CUSTOMER = 0.2  # account managers and customer service
ADMIN_STAFF_SHARE = 0.1  # finance, HR and IT, of everyone else
# warehouse minutes per order line: picking, packing and a share of loading, receiving and put-away
WAREHOUSE_MINUTES_PER_LINE = 2.6
MATERIAL_PER_UNIT = 950_000  # 1e-4 EUR: a finished good's mean material standard (EUR 95)
SHIFT_PATTERNS = [  # per plant index: shifts (name, start hour, hours), working weekdays
    ([("Early", 6, 8.0), ("Late", 14, 8.0), ("Night", 22, 8.0)], 5),
    ([("Early", 6, 8.0), ("Late", 14, 8.0)], 6),
]
FAMILIES = ["Pumps", "Valves", "Controllers", "Sensors"]
SPARE_FAMILY = "Spare parts"  # finished goods with intermittent, lumpy demand (demo/demand.py)
CUSTOMER_SEGMENTS = ["OEM", "Distributor", "Retail", "Project"]
COUNTRIES_EUR = ["DE", "FR", "NL", "AT", "BE", "IT", "ES"]


@dataclass
class Supplier:
    """What the simulation knows of a supplier."""

    name: str
    ccy: str
    terms: int  # payment terms, days
    lead: int  # delivery lead time, days


@dataclass
class Customer:
    """What the simulation knows of a customer."""

    name: str
    ccy: str
    terms: int  # payment terms, days
    vat: bool  # invoiced with VAT (a base-currency customer)
    discount: float  # off the list price
    batch_payer: bool = False  # pays several invoices at once, on Fridays


@dataclass
class Company:
    """Master data as rows (for the warehouse) plus lookups (for the simulation)."""

    scale: Scale
    rows: dict[str, list[tuple]] = field(default_factory=dict)
    # lookups
    plants: list[str] = field(default_factory=list)
    wc_ids: list[str] = field(default_factory=list)  # all production work centres
    wc_site: dict[str, str] = field(default_factory=dict)
    wc_cc: dict[str, str] = field(default_factory=dict)
    wc_stage: dict[str, int] = field(default_factory=dict)
    wc_rates: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # labor, var OH, fixed OH (1e-4)
    wc_machines: dict[str, list[str]] = field(default_factory=dict)
    machine_cycle: dict[str, float] = field(default_factory=dict)
    machine_kw: dict[str, float] = field(default_factory=dict)
    site_energy_price: dict[str, int] = field(default_factory=dict)  # 1e-4 EUR per kWh
    site_shifts: dict[str, list[tuple[str, int, float]]] = field(default_factory=dict)  # (shift_id, start h, hours)
    site_workdays: dict[str, int] = field(default_factory=dict)
    finished: list[str] = field(default_factory=list)  # every finished good, the spare parts last
    spares: list[str] = field(default_factory=list)  # the spare-parts family (also in `finished`)
    bought: list[str] = field(default_factory=list)  # raw materials and components
    product_plant: dict[str, str] = field(default_factory=dict)
    product_family: dict[str, str] = field(default_factory=dict)
    list_price: dict[str, int] = field(default_factory=dict)  # 1e-4
    std_cost: dict[str, int] = field(default_factory=dict)  # 1e-4
    bom: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # routing per (product, step): (wc, setup min, run centi-min/unit, labor centi-min/unit, Wh/unit)
    routing: dict[str, list[tuple[str, float, int, int, int]]] = field(default_factory=dict)
    material_std: dict[str, int] = field(default_factory=dict)  # 1e-4 per unit of finished good
    suppliers: list[str] = field(default_factory=list)  # ids, in order
    supplier: dict[str, Supplier] = field(default_factory=dict)  # id -> supplier
    item_supplier: dict[str, str] = field(default_factory=dict)
    customers: list[str] = field(default_factory=list)  # ids, in order
    customer: dict[str, Customer] = field(default_factory=dict)  # id -> customer
    employees: dict[str, list[tuple[str, str, int, float]]] = field(
        default_factory=dict
    )  # group -> (id, cc, rate, mult)
    operators: dict[str, list[str]] = field(default_factory=dict)  # wc -> operator ids
    employee_rate: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (rate 1e-4, mult x4)
    cc_kind: dict[str, str] = field(default_factory=dict)
    cc_site: dict[str, str] = field(default_factory=dict)
    support_ccs: list[str] = field(default_factory=list)
    sales_cc: str = ""
    warehouse_cc: str = ""
    admin_cc: str = ""
    maint_cc: dict[str, str] = field(default_factory=dict)
    warehouse_site: str = "W1"
    support_site: str = "S1"
    opex_monthly: dict[str, int] = field(default_factory=dict)  # cost centre -> operating expenses, cents a month
    depreciation_monthly: dict[str, int] = field(default_factory=dict)  # cost centre -> cents a month
    fx: dict[str, np.ndarray] = field(default_factory=dict)  # currency -> daily rate (1e-8) from scale.start
    days: int = 0

    @property
    def regular(self) -> list[str]:
        """The finished goods of the regular families (all but the spare parts)."""
        return self.finished[: len(self.finished) - len(self.spares)]


def _price(rng: np.random.Generator, lo: float, hi: float) -> int:
    """A price in 1e-4 units, rounded to whole cents (even 1e-4 units keep ×1.5 exact)."""
    return int(round(rng.uniform(lo, hi), 2) * 10_000)


# long: master data built table by table in a fixed random-draw order (the demo is deterministic)
def build_company(scale: Scale, rng: np.random.Generator) -> Company:
    c = Company(scale)
    r = c.rows
    c.days = (scale.end - scale.start).days + 1
    r["sites"], r["cost_centers"], r["work_centers"], r["machines"], r["shifts"] = (
        [],
        [],
        [],
        [],
        [],
    )

    def cost_center(cc_id: str, site: str, name: str, kind: str, owner: str) -> str:
        r["cost_centers"].append((cc_id, site, name, kind, owner))
        c.cc_kind[cc_id], c.cc_site[cc_id] = kind, site
        return cc_id

    cities = [
        "Lyon",
        "Brno",
        "Porto",
        "Graz",
        "Turin",
        "Ghent",
        "Poznan",
        "Leeds",
        "Bilbao",
        "Aarhus",
        "Pilsen",
        "Linz",
    ]
    for p in range(scale.plants):
        site = f"P{p + 1}"
        c.plants.append(site)
        price = _price(rng, 0.14, 0.19)
        c.site_energy_price[site] = price
        r["sites"].append(
            (
                site,
                f"{cities[p % len(cities)]} plant",
                "plant",
                "EU-West" if p % 2 == 0 else "EU-East",
                price,
            )
        )
        shifts, workdays = SHIFT_PATTERNS[p % 2]
        c.site_workdays[site] = workdays
        c.site_shifts[site] = []
        for name, start_h, hours in shifts:
            sid = f"{site}-{name[0]}"
            r["shifts"].append((sid, site, name, dt.time(start_h), hours))
            c.site_shifts[site].append((sid, start_h, hours))
        c.maint_cc[site] = cost_center(
            f"CC-{site}-MNT", site, f"{site} maintenance", "service", f"maint.lead.{site.lower()}"
        )
        cost_center(
            f"CC-{site}-ADM",
            site,
            f"{site} plant administration",
            "admin",
            f"plant.manager.{site.lower()}",
        )
        for k, (code, label, _kind, cycle, _va) in enumerate(STAGES):
            wc = f"{site}-{code}"
            cc = cost_center(
                f"CC-{wc}",
                site,
                f"{site} {label.lower()}",
                "production",
                f"supervisor.{wc.lower()}",
            )
            labor = _price(rng, 30, 38)
            var_oh = _price(rng, 8, 14)
            c.wc_ids.append(wc)
            c.wc_site[wc], c.wc_cc[wc], c.wc_stage[wc] = site, cc, k
            c.wc_rates[wc] = (labor, var_oh, 0)  # fixed OH rate set once volumes are planned
            c.wc_machines[wc] = []
            # the assembly line is the slowest stage: the natural constraint
            base_cycle = cycle * (1.0 + 0.1 * (p % 3))
            # a work centre's machines are one model: the first draw sets the nominal power, the others
            # differ from it by at most ±3% (one draw per machine either way)
            nominal_kw = 0.0
            for mi in range(stage_machines(scale.machines_per_work_center, code)):
                m = f"{wc}-M{mi + 1:02d}"
                c.wc_machines[wc].append(m)
                c.machine_cycle[m] = base_cycle
                draw = float(rng.uniform(18, 45))
                nominal_kw = nominal_kw or draw
                c.machine_kw[m] = round(nominal_kw * (1.0 if mi == 0 else 0.97 + 0.06 * (draw - 18) / 27), 1)
    ws = c.warehouse_site
    r["sites"].append((ws, "Central distribution centre", "warehouse", "EU-West", _price(rng, 0.15, 0.18)))
    r["shifts"].append((f"{ws}-E", ws, "Early", dt.time(6), 8.0))
    r["shifts"].append((f"{ws}-L", ws, "Late", dt.time(14), 8.0))
    c.site_shifts[ws] = [(f"{ws}-E", 6, 8.0), (f"{ws}-L", 14, 8.0)]
    c.site_workdays[ws] = 6
    c.warehouse_cc = cost_center("CC-W1-OPS", ws, "Distribution centre operations", "warehouse", "dc.manager")
    c.sales_cc = cost_center("CC-W1-SAL", ws, "Sales and customer service", "sales", "sales.director")
    ss = c.support_site
    r["sites"].append((ss, "Shared service centre", "support", "EU-West", _price(rng, 0.15, 0.18)))
    r["shifts"].append((f"{ss}-D", ss, "Day", dt.time(8), 8.0))
    c.site_shifts[ss] = [(f"{ss}-D", 8, 8.0)]
    c.site_workdays[ss] = 5
    c.admin_cc = cost_center("CC-S1-FIN", ss, "Finance and administration", "admin", "cfo")
    teams = [
        "Technical support",
        "Order desk",
        "Returns and warranty",
        "Key accounts",
        "Field service desk",
        "Spare parts desk",
        "Digital support",
        "Installer hotline",
    ]
    for t in range(scale.support_teams):
        c.support_ccs.append(
            cost_center(f"CC-S1-SUP{t + 1}", ss, teams[t % len(teams)], "support", f"support.lead{t + 1}")
        )

    # work-centre rows (fixed OH rate filled in later by plans.set_fixed_overhead_rates)
    _products(c, rng)
    _partners(c, rng)
    _people(c, rng)
    r["accounts"] = list(CHART)
    r["activities"] = [
        ("A-SETUP", "Machine setup", "setups"),
        ("A-INSPECT", "Quality inspection", "inspections"),
        ("A-ORDER", "Order handling", "orders"),
        ("A-SHIP", "Shipping", "shipments"),
        ("A-SUPPORT", "Customer support", "tickets"),
        ("A-MAINT", "Maintenance", "machine_hours"),
        ("A-RUN", "Machine running", "machine_hours"),
        ("A-ADMIN", "Administration", "timesheet_hours"),
    ]
    _fx(c, rng)
    return c


def _products(c: Company, rng: np.random.Generator) -> None:
    s, r = c.scale, c.rows
    r["products"], r["bom"], r["routings"], r["machines"] = [], [], [], []
    for i in range(s.raw_materials):
        pid = f"RM-{i + 1:03d}"
        c.bought.append(pid)
        c.std_cost[pid] = _price(rng, 1.5, 25)
        c.list_price[pid] = 0
        r["products"].append([pid, f"Raw material {i + 1}", "Raw materials", "raw", "kg" if i % 3 else "pc"])
    for i in range(s.components):
        pid = f"CP-{i + 1:03d}"
        c.bought.append(pid)
        c.std_cost[pid] = _price(rng, 8, 60)
        c.list_price[pid] = 0
        r["products"].append([pid, f"Bought-in component {i + 1}", "Components", "component", "pc"])
    n = 0
    for _p, site in enumerate(c.plants):
        for _j in range(s.finished_per_plant):
            n += 1
            pid = f"FG-{n:03d}"
            family = FAMILIES[(n - 1) % len(FAMILIES)]
            c.finished.append(pid)
            c.product_plant[pid], c.product_family[pid] = site, family
            k = int(rng.integers(2, 5))
            comps = list(rng.choice(c.bought, size=k, replace=False))
            c.bom[pid] = [(str(cid), int(rng.integers(1, 4))) for cid in comps]
            c.material_std[pid] = sum(q * c.std_cost[cid] for cid, q in c.bom[pid])
            for cid, q in c.bom[pid]:
                r["bom"].append((pid, cid, float(q)))
            steps = []
            for code, _label, kind, _cycle, _va in STAGES:
                if code == REWORK_STAGE and family not in REWORK_FAMILIES:
                    continue
                wc = f"{site}-{code}"
                # a line's changeover is drawn; a transport run or an inspection station is set up in minutes
                setup = float(rng.choice([15.0, 20.0, 30.0, 45.0])) if kind == "line" or code == "PACK" else 5.0
                steps.append(routing_step(c, wc, setup))
            c.routing[pid] = steps
            r["products"].append([pid, f"{family[:-1]} model {n}", family, "finished", "pc"])
    _normalise_material_cost(c)
    for m_wc, machines in c.wc_machines.items():
        for m in machines:
            r["machines"].append((m, m_wc, f"{m_wc} machine {m[-2:]}", c.machine_cycle[m], c.machine_kw[m]))


def stage_machines(per_line: int, code: str) -> int:
    """Machines (stations, tuggers) of a plant's stage: a line's number, fewer at the support stages."""
    share = STAGE_MACHINE_SHARE.get(code)
    return per_line if share is None else max(1, round(per_line * share))


def routing_step(c: Company, wc: str, setup: float) -> tuple[str, float, int, int, int]:
    """A routing step at `wc` from its machines' ideal cycle: (wc, setup min, run centi-min/unit, labor
    centi-min/unit, Wh/unit); the standard allows 8% over the ideal cycle, one operator per machine (none, and
    no metered energy, at the stages the plant's indirect staff runs)."""
    cycle = c.machine_cycle[c.wc_machines[wc][0]]
    run_cmin = int(round(cycle / 60 * 1.08 * 100))
    if wc.split("-")[1] in INDIRECT_STAGES:
        return (wc, setup, run_cmin, 0, 0)
    wh = int(round(c.machine_kw[c.wc_machines[wc][0]] * 0.8 * cycle / 3600 * 1.08 * 1000))
    return (wc, setup, run_cmin, run_cmin, wh)


def _normalise_material_cost(c: Company) -> None:
    """Scale the bought items' standards so a finished good's material costs MATERIAL_PER_UNIT on average:
    a handful of random standards would otherwise make one seed's company twice the size of another's."""
    mean = sum(c.material_std[p] for p in c.finished) / len(c.finished)
    for item in c.bought:
        c.std_cost[item] = max(int(round(c.std_cost[item] * MATERIAL_PER_UNIT / mean / 100)) * 100, 100)
    for p in c.finished:
        c.material_std[p] = sum(q * c.std_cost[cid] for cid, q in c.bom[p])


def early_payment_discount(i: int) -> tuple[int | None, int | None]:
    """(discount_pct in units of 0.0001 %, discount_days) of the i-th supplier (0-based): the second of every
    four offers 2/10, the fourth of every eight 1/10, the others none. Fixed by position, not drawn, so that no
    other number of the demo moves (the demo pays its suppliers on terms either way)."""
    if i % 4 == 1:
        return 20_000, 10
    if i % 8 == 3:
        return 10_000, 10
    return None, None


def _partners(c: Company, rng: np.random.Generator) -> None:
    s, r = c.scale, c.rows
    r["suppliers"], r["customers"] = [], []
    for i in range(s.suppliers):
        sid = f"SUP-{i + 1:03d}"
        ccy = "USD" if i % 5 == 4 else BASE
        c.suppliers.append(sid)
        terms = int(rng.choice([30, 30, 45]))
        lead = int(rng.integers(5, 15))
        name = f"{['Acme', 'Nordic', 'Meridian', 'Vortex', 'Pioneer', 'Atlas', 'Keystone', 'Summit'][i % 8]} {['Metals', 'Polymers', 'Components', 'Industrial', 'Supply'][i % 5]} {'GmbH' if ccy == BASE else 'Inc.'}{'' if i < 8 else f' {i // 8 + 1}'}"
        c.supplier[sid] = Supplier(name, ccy, terms, lead)
        country = "US" if ccy == "USD" else COUNTRIES_EUR[i % 7]
        r["suppliers"].append((sid, name, country, ccy, terms, lead, *early_payment_discount(i)))
    for j, item in enumerate(c.bought):
        c.item_supplier[item] = c.suppliers[j % len(c.suppliers)]
    for i in range(s.customers):
        cid = f"CUS-{i + 1:04d}"
        ccy = "GBP" if i % 10 == 7 else ("USD" if i % 10 == 9 else BASE)
        c.customers.append(cid)
        terms = int(rng.choice([14, 30, 30, 45, 60]))
        discount = float(rng.choice([0.0, 0.03, 0.05, 0.08]))
        seg = CUSTOMER_SEGMENTS[i % 4]
        name = f"{['Bauer', 'Lefevre', 'Van Dijk', 'Rossi', 'Garcia', 'Novak', 'Smith', 'Keller', 'Dubois', 'Jansen'][i % 10]} {seg} {['Solutions', 'Technik', 'Systems', 'Trading', 'Industries'][i % 5]} {i + 1}"
        country = "GB" if ccy == "GBP" else ("US" if ccy == "USD" else COUNTRIES_EUR[i % 7])
        limit = int(rng.choice([50_000, 100_000, 250_000, 500_000])) * 100
        c.customer[cid] = Customer(name, ccy, terms, vat=ccy == BASE, discount=discount)
        r["customers"].append((cid, name, seg, country, ccy, terms, limit))
    for pid in c.finished:
        c.list_price[pid] = 0  # a markup on the rolled-up standard, once it is known (plans.set_prices_and_expenses)


def _people(c: Company, rng: np.random.Generator) -> None:
    r = c.rows
    r["employees"] = []
    n = 0

    def hire(group: str, site: str, cc: str, wc: str | None, role: str, lo: float, hi: float) -> str:
        nonlocal n
        n += 1
        eid = f"E{n:05d}"
        rate = _price(rng, lo, hi)
        mult = 1.5 if role in ("operator", "technician", "warehouse associate") else 1.25
        r["employees"].append((eid, site, cc, wc, role, rate, mult))
        c.employees.setdefault(group, []).append((eid, cc, rate, mult))
        c.employee_rate[eid] = (rate, int(mult * 4))
        return eid

    for wc in c.wc_ids:
        site = c.wc_site[wc]
        c.operators[wc] = []
        if wc.split("-")[1] in INDIRECT_STAGES:
            continue
        for _shift in c.site_shifts[site]:
            for _m in c.wc_machines[wc]:
                c.operators[wc].append(hire(f"op:{wc}", site, c.wc_cc[wc], wc, "operator", 28, 36))
    plant_roles = [("plant controller", 40, 55), ("production supervisor", 34, 44), ("quality inspector", 26, 34)]
    plant_roles += [("production planner", 30, 40), ("logistics clerk", 24, 30)]
    for site in c.plants:
        # a technician, and one more per two machines a work centre
        for _ in range(1 + len(c.wc_machines[f"{site}-MACH"]) // 2):
            hire(f"maint:{site}", site, c.maint_cc[site], None, "technician", 32, 42)
        operators = sum(len(c.operators[wc]) for wc in c.wc_ids if c.wc_site[wc] == site)
        for k in range(max(2, round(operators * PLANT_STAFF_PER_OPERATOR * c.scale.indirect_staff))):
            role, lo, hi = plant_roles[k % len(plant_roles)]
            hire(f"adm:{site}", site, f"CC-{site}-ADM", None, role, lo, hi)
    # a lean distribution centre: its expected order lines' minutes over an associate's 85%-productive day
    lines_per_day = c.scale.orders_per_day * c.scale.lines_per_order
    for _ in range(max(1, round(lines_per_day * WAREHOUSE_MINUTES_PER_LINE / (8 * 60 * 0.85)))):
        hire("wh", c.warehouse_site, c.warehouse_cc, None, "warehouse associate", 20, 26)
    for cc in c.support_ccs:
        for _ in range(int(c.scale.tickets_per_team_day * 35 / (7.5 * 60)) + 1):
            hire(f"sup:{cc}", c.support_site, cc, None, "support agent", 22, 30)
    sales_roles = [("account manager", 35, 50), ("customer service agent", 22, 30)]
    for k in range(max(2, round(c.scale.customers * SALES_STAFF_PER_CUSTOMER * c.scale.indirect_staff))):
        role, lo, hi = sales_roles[k % 2]
        hire("sales", c.warehouse_site, c.sales_cc, None, role, lo, hi)
    admin_roles = [("accountant", 30, 45), ("HR partner", 30, 42), ("IT specialist", 34, 48)]
    for k in range(max(2, round(n * ADMIN_STAFF_SHARE * c.scale.indirect_staff))):
        role, lo, hi = admin_roles[k % 3]
        hire("admin", c.support_site, c.admin_cc, None, role, lo, hi)


def _fx(c: Company, rng: np.random.Generator) -> None:
    days = c.days
    r = c.rows
    r["fx_rates"] = []
    for ccy, level in (("USD", 0.92), ("GBP", 1.16)):
        steps = rng.normal(0, 0.0035, days)
        path = level * np.exp(np.cumsum(steps))
        units = np.round(path, 6) * 1e8
        c.fx[ccy] = units.astype(np.int64)
    c.fx[BASE] = np.full(days, 100_000_000, dtype=np.int64)
