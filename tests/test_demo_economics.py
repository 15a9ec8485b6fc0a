"""The demo company's economics are those of a mid-size discrete manufacturer and distributor
(docs/demo-company.md, "Economics"). Each figure is recomputed here with plain SQL over the canonical
tables, not through opsfin's KPI engine: the test is a second, independent reading of the warehouse."""

from __future__ import annotations

import duckdb
import pytest

# written out here, not imported from the code, so that a wrong list in the code cannot pass unnoticed
COGS_ROLES = (
    "cogs",
    "variance_material_price",
    "variance_invoice_price",
    "variance_material_usage",
    "variance_scrap",
    "variance_labor_rate",
    "variance_labor_efficiency",
    "variance_energy",
    "variance_overhead",
    "variance_volume",
)

# (figure, low, high): the ranges a controller of a mid-size manufacturer and distributor expects
TARGETS = [
    ("revenue_per_employee", 150_000, 400_000),
    ("gross_margin", 0.25, 0.45),
    ("opex_share", 0.12, 0.30),
    ("operating_margin", 0.03, 0.15),
    ("oee", 0.55, 0.80),
    ("availability", 0.80, 0.95),
    ("first_pass_yield", 0.95, 0.995),
    ("on_time_delivery", 0.85, 0.98),
    ("dso", 35, 65),
    ("dio", 30, 90),
    ("dpo", 30, 60),
    ("warehouse_cost_per_line", 0.50, 5.00),
]


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    value = con.execute(sql).fetchone()[0]
    return float(value or 0)


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join(f"'{r}'" for r in roles)


def _working_capital(con: duckdb.DuckDBPyConnection, roles: tuple[str, ...], sign: int, flow: str) -> float:
    """Σ over months 2..N of avg balance · days, over Σ of the flow in those months (the ratio of sums; the
    first month has no opening balance to average with). avg balance = (previous month end + month end) / 2."""
    return _one(
        con,
        f"""
        with months as (
            select distinct date_trunc('month', posting_date)::date as m from gl_entries
        ), b as (
            select m, last_day(m) as me, (last_day(m) - m + 1) as d,
              (select coalesce(sum(g.amount), 0) from gl_entries g join accounts a using (account_id)
                where a.role in ({_roles(roles)}) and g.posting_date <= last_day(m)) * {sign} as bal,
              (select coalesce(sum(g.amount), 0) from gl_entries g join accounts a using (account_id)
                where a.role in ({_roles(COGS_ROLES)}) and date_trunc('month', g.posting_date) = m) as cogs,
              (select coalesce(-sum(g.amount), 0) from gl_entries g join accounts a using (account_id)
                where a.role = 'revenue' and date_trunc('month', g.posting_date) = m) as revenue
            from months
        ), w as (
            select m, d, {flow} as flow, (bal + lag(bal) over (order by m)) / 2 as avg_bal from b
        )
        select sum(avg_bal * d) / sum(flow) from w where avg_bal is not null
        """,
    )


def economics(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Every figure of TARGETS, from the canonical tables of a demo warehouse."""
    gl = "gl_entries g join accounts a using (account_id)"
    revenue = _one(con, f"select -sum(amount) from {gl} where a.role = 'revenue'")
    cogs = _one(con, f"select sum(amount) from {gl} where a.role in ({_roles(COGS_ROLES)})")
    opex = _one(con, f"select sum(amount) from {gl} where a.type = 'expense' and a.role not in ({_roles(COGS_ROLES)})")
    days = _one(con, "select count(distinct hour_start::date) from machine_readings")
    # Headcount at the end of the history: a leaver (whose timesheets stop before the last 30 days) has been
    # replaced by a new hire, so counting every row ever written would count both.
    employees = _one(
        con,
        """select count(*) from employees e where not exists (
               select 1 from (select employee_id, max(work_date) as last_day from timesheets group by 1) t
               where t.employee_id = e.employee_id
                 and t.last_day < (select max(work_date) from timesheets) - interval 30 day)""",
    )
    readings = "machine_readings r join machines m using (machine_id)"
    planned = _one(con, f"select sum(planned_minutes) from {readings}")
    warehouse_cost = _one(
        con,
        f"""select sum(amount) from {gl} join cost_centers c using (cost_center_id)
            where a.type = 'expense' and c.kind = 'warehouse'""",
    )
    return {
        "revenue_per_employee": revenue * 365 / days / employees,
        "gross_margin": (revenue - cogs) / revenue,
        "opex_share": opex / revenue,
        "operating_margin": (revenue - cogs - opex) / revenue,
        "oee": _one(con, f"select sum(m.ideal_cycle_seconds * r.units_good) from {readings}") / (planned * 60),
        "availability": _one(con, f"select sum(run_minutes) from {readings}") / planned,
        "first_pass_yield": _one(
            con, "select sum(qty_inspected - qty_defective) / sum(qty_inspected) from quality_inspections"
        ),
        "on_time_delivery": _one(
            con,
            """select sum(case when s.shipped_date <= o.promised_date then s.qty else 0 end) / sum(s.qty)
               from shipments s join sales_orders o on o.so_id = s.so_id and o.line = s.line""",
        ),
        "dso": _working_capital(con, ("ar",), 1, "revenue"),
        "dio": _working_capital(con, ("inventory_raw", "inventory_wip", "inventory_fg"), 1, "cogs"),
        "dpo": _working_capital(con, ("ap",), -1, "cogs"),
        "warehouse_cost_per_line": warehouse_cost
        / _one(con, "select sum(lines) from warehouse_tasks where kind = 'pick'"),
    }


def _figures(ws) -> dict[str, float]:
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        return economics(con)
    finally:
        con.close()


def _out_of_range(figures: dict[str, float]) -> list[str]:
    return [
        f"{name} = {figures[name]:.4g} not in [{lo}, {hi}]" for name, lo, hi in TARGETS if not lo <= figures[name] <= hi
    ]


def test_tiny_company_economics(tiny_demo):
    assert _out_of_range(_figures(tiny_demo)) == []


@pytest.mark.slow
def test_demo_company_economics(demo_company):
    assert _out_of_range(_figures(demo_company)) == []
