"""Canonical model v1: every warehouse table, as docs/data-model.md lists it.

This module is the single declaration of the warehouse contract. `docs/data-model.md`
is generated from it (`python -m opsfin.canonical.docs`), and a test fails when the two differ.
"""

from __future__ import annotations

from .types import MONEY, PRICE, RATE, Column, Table, col, fk

MODEL_VERSION = "1"

CURRENCY = r"^[A-Z]{3}$"
#: The roles of the standard-cost variance accounts, in the order the bridge and the KPIs list them.
VARIANCE_ROLES = (
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
ACCOUNT_ROLES = (
    "cash",
    "ar",
    "ap",
    "grni",
    "inventory_raw",
    "inventory_wip",
    "inventory_fg",
    "payroll_liability",
    "tax",
    "equity",
    "revenue",
    "cogs",
    *VARIANCE_ROLES,
    "direct_labor",
    "energy",
    "variable_overhead",
    "fixed_overhead",
    "maintenance",
    "depreciation",
    "payroll",
    "opex",
    "inventory_adjustment",
    "other",
)
PRODUCTION_COST_ROLES = ("direct_labor", "energy", "variable_overhead", "fixed_overhead")
#: The lines of a plan's P&L (`plan_pnl.line`), in the order a statement lists them.
PLAN_PNL_LINES = ("revenue", "cogs", "variances", "gross_margin", "opex", "operating_income")

MASTER = "master data"
OPERATIONS = "operations"
FINANCE = "finance"
PLANS = "plans"


# Buying and selling mirror each other: the order line, what is delivered against it, the invoice, the
# payment and the invoices it settles. One declaration per kind of document, named for each side
# (purchasing: supplier, sales: customer); only the invoice lines differ enough to be written twice.
def _order_lines(name: str, description: str, order_id: str, party: str, due_date: str) -> Table:
    party_id = f"{party}_id"
    return Table(
        name,
        FINANCE,
        description,
        (
            col(order_id),
            col("line", "INTEGER", minimum=1),
            col(party_id),
            col("site_id"),
            col("product_id"),
            col("qty", "DOUBLE", minimum=0),
            col("unit_price", PRICE, minimum=0),
            col("currency", pattern=CURRENCY),
            col("ordered_date", "DATE"),
            col(due_date, "DATE"),
        ),
        (order_id, "line"),
        (fk(party_id, f"{party}s"), fk("site_id", "sites"), fk("product_id", "products")),
    )


def _deliveries(name: str, description: str, delivery_id: str, orders: str, order_id: str, date: str) -> Table:
    return Table(
        name,
        FINANCE,
        description,
        (
            col(delivery_id),
            col(order_id),
            col("line", "INTEGER", minimum=1),
            col("qty", "DOUBLE", minimum=0),
            col(date, "DATE"),
        ),
        (delivery_id,),
        (fk((order_id, "line"), orders),),
    )


def _invoices(name: str, description: str, party: str, reference: str, extra: tuple[Column, ...] = ()) -> Table:
    party_id = f"{party}_id"
    return Table(
        name,
        FINANCE,
        description,
        (
            col("invoice_id"),
            col(party_id),
            col(reference),
            col("kind", allowed=("invoice", "credit_note")),
            col("invoice_date", "DATE"),
            col("due_date", "DATE"),
            col("currency", pattern=CURRENCY),
            col("tax_amount", MONEY),
            col("total", MONEY),
            *extra,
        ),
        ("invoice_id",),
        (fk(party_id, f"{party}s"),),
    )


def _payments(name: str, description: str, payment_id: str, party: str, date: str) -> Table:
    party_id = f"{party}_id"
    return Table(
        name,
        FINANCE,
        description,
        (
            col(payment_id),
            col(party_id),
            col(date, "DATE"),
            col("amount", MONEY),
            col("currency", pattern=CURRENCY),
            col("reference"),
        ),
        (payment_id,),
        (fk(party_id, f"{party}s"),),
    )


def _allocations(name: str, description: str, payments: str, payment_id: str, invoices: str) -> Table:
    return Table(
        name,
        FINANCE,
        description,
        (
            col(payment_id),
            col("invoice_id"),
            col("amount", MONEY),
        ),
        (payment_id, "invoice_id"),
        (fk(payment_id, payments), fk("invoice_id", invoices)),
    )


TABLES: tuple[Table, ...] = (
    # ---------------------------------------------------------------- master data
    Table(
        "sites",
        MASTER,
        "Plants, distribution warehouses and support centres.",
        (
            col("site_id"),
            col("name"),
            col("kind", allowed=("plant", "warehouse", "support")),
            col("region"),
            col("std_energy_price", PRICE, minimum=0, doc="standard energy price per kWh"),
        ),
        ("site_id",),
    ),
    Table(
        "cost_centers",
        MASTER,
        "Cost centres, each in one site.",
        (
            col("cost_center_id"),
            col("site_id"),
            col("name"),
            col("kind", allowed=("production", "service", "support", "warehouse", "admin", "sales")),
            col("owner"),
        ),
        ("cost_center_id",),
        (fk("site_id", "sites"),),
    ),
    Table(
        "work_centers",
        MASTER,
        "Lines, cells and teams, with their standard rates.",
        (
            col("work_center_id"),
            col("site_id"),
            col("cost_center_id"),
            col("name"),
            col("kind", allowed=("line", "cell", "team")),
            col("std_labor_rate", PRICE, minimum=0, doc="per labor hour"),
            col("std_variable_overhead_rate", PRICE, minimum=0, doc="per machine hour"),
            col("std_fixed_overhead_rate", PRICE, minimum=0, doc="per machine hour"),
        ),
        ("work_center_id",),
        (fk("site_id", "sites"), fk("cost_center_id", "cost_centers")),
    ),
    Table(
        "machines",
        MASTER,
        "Machines, each in one work centre.",
        (
            col("machine_id"),
            col("work_center_id"),
            col("name"),
            col("ideal_cycle_seconds", "DOUBLE", minimum=0),
            col("rated_kw", "DOUBLE", minimum=0),
        ),
        ("machine_id",),
        (fk("work_center_id", "work_centers"),),
    ),
    Table(
        "shifts",
        MASTER,
        "Shift patterns of a site.",
        (
            col("shift_id"),
            col("site_id"),
            col("name"),
            col("start_time", "TIME"),
            col("hours", "DOUBLE", minimum=0, maximum=24),
        ),
        ("shift_id",),
        (fk("site_id", "sites"),),
    ),
    Table(
        "employees",
        MASTER,
        "Employees and their pay.",
        (
            col("employee_id"),
            col("site_id"),
            col("cost_center_id"),
            col("work_center_id", null=True),
            col("role"),
            col("hourly_rate", PRICE, minimum=0),
            col("overtime_multiplier", "DOUBLE", minimum=1),
        ),
        ("employee_id",),
        (
            fk("site_id", "sites"),
            fk("cost_center_id", "cost_centers"),
            fk("work_center_id", "work_centers"),
        ),
    ),
    Table(
        "products",
        MASTER,
        "Finished goods, components and raw materials. `std_unit_cost` is the "
        "standard purchase price for bought items and the rolled-up standard cost for made items.",
        (
            col("product_id"),
            col("name"),
            col("family"),
            col("kind", allowed=("finished", "component", "raw")),
            col("uom"),
            col("list_price", PRICE, minimum=0),
            col("std_unit_cost", PRICE, minimum=0),
        ),
        ("product_id",),
    ),
    Table(
        "bom",
        MASTER,
        "Bills of materials: quantity of each component per unit of product.",
        (
            col("product_id"),
            col("component_id"),
            col("qty_per", "DOUBLE", minimum=0),
        ),
        ("product_id", "component_id"),
        (fk("product_id", "products"), fk("component_id", "products", "product_id")),
    ),
    Table(
        "routings",
        MASTER,
        "Routing steps with their standard times and energy.",
        (
            col("product_id"),
            col("step", "INTEGER", minimum=1),
            col("work_center_id"),
            col("std_setup_minutes", "DOUBLE", minimum=0),
            col("std_run_minutes_per_unit", "DOUBLE", minimum=0),
            col("std_labor_minutes_per_unit", "DOUBLE", minimum=0),
            col("std_kwh_per_unit", "DOUBLE", minimum=0),
            col("value_added", "BOOLEAN"),
        ),
        ("product_id", "step"),
        (fk("product_id", "products"), fk("work_center_id", "work_centers")),
    ),
    Table(
        "suppliers",
        MASTER,
        "Suppliers with their terms.",
        (
            col("supplier_id"),
            col("name"),
            col("country"),
            col("currency", pattern=CURRENCY),
            col("payment_terms_days", "INTEGER", minimum=0),
            col("lead_time_days", "INTEGER", minimum=0),
            col(
                "discount_pct",
                PRICE,
                null=True,
                minimum=0,
                maximum=100,
                doc="early-payment discount in percent (2 in 2/10 net 30)",
            ),
            col(
                "discount_days",
                "INTEGER",
                null=True,
                minimum=0,
                doc="days from the invoice within which the discount applies (10 in 2/10 net 30)",
            ),
        ),
        ("supplier_id",),
    ),
    Table(
        "customers",
        MASTER,
        "Customers with their terms and credit limit.",
        (
            col("customer_id"),
            col("name"),
            col("segment"),
            col("country"),
            col("currency", pattern=CURRENCY),
            col("payment_terms_days", "INTEGER", minimum=0),
            col("credit_limit", MONEY, minimum=0),
        ),
        ("customer_id",),
    ),
    Table(
        "accounts",
        MASTER,
        "Chart of accounts. `role` says what an account holds (docs/accounting-rules.md).",
        (
            col("account_id"),
            col("name"),
            col("type", allowed=("asset", "liability", "equity", "revenue", "expense")),
            col("role", allowed=ACCOUNT_ROLES),
        ),
        ("account_id",),
    ),
    Table(
        "activities",
        MASTER,
        "Activities for activity-based costing.",
        (
            col("activity_id"),
            col("name"),
            col("cost_driver"),
        ),
        ("activity_id",),
    ),
    Table(
        "fx_rates",
        MASTER,
        "Daily rates to the base currency. The base currency's rate is 1.",
        (
            col("rate_date", "DATE"),
            col("currency", pattern=CURRENCY),
            col("rate_to_base", RATE, minimum=0),
        ),
        ("rate_date", "currency"),
    ),
    # ---------------------------------------------------------------- operations
    Table(
        "production_orders",
        OPERATIONS,
        "Production orders. `released_at` is null while an order is open.",
        (
            col("order_id"),
            col("site_id"),
            col("product_id"),
            col("planned_qty", "DOUBLE", minimum=0),
            col("created_date", "DATE"),
            col("due_date", "DATE"),
            col("released_at", "TIMESTAMP", null=True),
            col("completed_at", "TIMESTAMP", null=True),
            col("closed_date", "DATE", null=True),
            col("status", allowed=("open", "released", "completed", "closed")),
        ),
        ("order_id",),
        (fk("site_id", "sites"), fk("product_id", "products")),
    ),
    Table(
        "operations",
        OPERATIONS,
        "Executed routing steps. `wait_minutes` is the time queued before the start.",
        (
            col("operation_id"),
            col("order_id"),
            col("step", "INTEGER", minimum=1),
            col("work_center_id"),
            col("machine_id", null=True),
            col("shift_id"),
            col("start_at", "TIMESTAMP"),
            col("end_at", "TIMESTAMP"),
            col("setup_minutes", "DOUBLE", minimum=0),
            col("run_minutes", "DOUBLE", minimum=0),
            col("labor_minutes", "DOUBLE", minimum=0),
            col("qty_good", "DOUBLE", minimum=0),
            col("qty_scrap", "DOUBLE", minimum=0),
            col("wait_minutes", "DOUBLE", minimum=0),
        ),
        ("operation_id",),
        (
            fk("order_id", "production_orders"),
            fk("work_center_id", "work_centers"),
            fk("machine_id", "machines"),
            fk("shift_id", "shifts"),
        ),
    ),
    Table(
        "machine_readings",
        OPERATIONS,
        "Hourly machine readings. `planned_minutes` is planned production time "
        "(0 outside staffed shifts and in planned maintenance).",
        (
            col("machine_id"),
            col("hour_start", "TIMESTAMP"),
            col("planned_minutes", "DOUBLE", minimum=0, maximum=60),
            col("run_minutes", "DOUBLE", minimum=0, maximum=60),
            col("units_total", "DOUBLE", minimum=0),
            col("units_good", "DOUBLE", minimum=0),
            col("kwh", "DOUBLE", minimum=0),
            col("temperature_c", "DOUBLE"),
            col("vibration_mm_s", "DOUBLE", minimum=0),
        ),
        ("machine_id", "hour_start"),
        (fk("machine_id", "machines"),),
    ),
    Table(
        "downtime_events",
        OPERATIONS,
        "Machine stops, planned or not.",
        (
            col("machine_id"),
            col("start_at", "TIMESTAMP"),
            col("end_at", "TIMESTAMP"),
            col("reason"),
            col("planned", "BOOLEAN"),
        ),
        ("machine_id", "start_at"),
        (fk("machine_id", "machines"),),
    ),
    Table(
        "maintenance_events",
        OPERATIONS,
        "Planned and breakdown maintenance with parts and labor.",
        (
            col("event_id"),
            col("machine_id"),
            col("kind", allowed=("planned", "breakdown")),
            col("start_at", "TIMESTAMP"),
            col("end_at", "TIMESTAMP"),
            col("parts_cost", MONEY, minimum=0),
            col("labor_hours", "DOUBLE", minimum=0),
        ),
        ("event_id",),
        (fk("machine_id", "machines"),),
    ),
    Table(
        "quality_inspections",
        OPERATIONS,
        "Inspections of operations' output.",
        (
            col("inspection_id"),
            col("order_id"),
            col("operation_id", null=True),
            col("inspected_at", "TIMESTAMP"),
            col("qty_inspected", "DOUBLE", minimum=0),
            col("qty_defective", "DOUBLE", minimum=0),
            col("defect_code", null=True),
        ),
        ("inspection_id",),
        (fk("order_id", "production_orders"), fk("operation_id", "operations")),
    ),
    Table(
        "timesheets",
        OPERATIONS,
        "Hours worked per employee and day.",
        (
            col("timesheet_id"),
            col("employee_id"),
            col("work_date", "DATE"),
            col("shift_id"),
            col("work_center_id", null=True),
            col("cost_center_id"),
            col("activity_id", null=True),
            col("regular_hours", "DOUBLE", minimum=0, maximum=24),
            col("overtime_hours", "DOUBLE", minimum=0, maximum=24),
        ),
        ("timesheet_id",),
        (
            fk("employee_id", "employees"),
            fk("shift_id", "shifts"),
            fk("work_center_id", "work_centers"),
            fk("cost_center_id", "cost_centers"),
            fk("activity_id", "activities"),
        ),
    ),
    Table(
        "warehouse_tasks",
        OPERATIONS,
        "Warehouse work: receive, put away, pick, pack, load.",
        (
            col("task_id"),
            col("site_id"),
            col("employee_id"),
            col("kind", allowed=("receive", "putaway", "pick", "pack", "load")),
            col("started_at", "TIMESTAMP"),
            col("finished_at", "TIMESTAMP"),
            col("order_ref", null=True),
            col("lines", "INTEGER", minimum=0),
            col("units", "DOUBLE", minimum=0),
        ),
        ("task_id",),
        (fk("site_id", "sites"), fk("employee_id", "employees")),
    ),
    Table(
        "support_tickets",
        OPERATIONS,
        "Service-desk tickets.",
        (
            col("ticket_id"),
            col("cost_center_id"),
            col("customer_id", null=True),
            col("opened_at", "TIMESTAMP"),
            col("closed_at", "TIMESTAMP", null=True),
            col("handling_minutes", "DOUBLE", minimum=0),
            col("csat", "INTEGER", null=True, minimum=1, maximum=5),
        ),
        ("ticket_id",),
        (fk("cost_center_id", "cost_centers"), fk("customer_id", "customers")),
    ),
    Table(
        "inventory_movements",
        OPERATIONS,
        "Signed stock movements at standard unit cost.",
        (
            col("movement_id"),
            col("moved_at", "TIMESTAMP"),
            col("site_id"),
            col("product_id"),
            col("qty", "DOUBLE", doc="signed: + into stock, − out of stock"),
            col("unit_cost", PRICE, minimum=0),
            col(
                "kind",
                allowed=(
                    "receipt",
                    "issue",
                    "production",
                    "shipment",
                    "adjustment",
                    "scrap",
                    "transfer",
                ),
            ),
            col("ref_doc"),
        ),
        ("movement_id",),
        (fk("site_id", "sites"), fk("product_id", "products")),
    ),
    # ---------------------------------------------------------------- finance
    Table(
        "gl_entries",
        FINANCE,
        "General-ledger lines in base currency: debit +, credit −. Every `journal_id` sums to 0.",
        (
            col("entry_id"),
            col("journal_id"),
            col("posting_date", "DATE"),
            col("account_id"),
            col("cost_center_id", null=True),
            col("amount", MONEY),
            col("currency", pattern=CURRENCY),
            col("description"),
            col("source_doc"),
        ),
        ("entry_id",),
        (fk("account_id", "accounts"), fk("cost_center_id", "cost_centers")),
    ),
    _order_lines("purchase_orders", "Purchase-order lines.", "po_id", "supplier", due_date="expected_date"),
    _deliveries(
        "goods_receipts",
        "Goods received against purchase-order lines.",
        "receipt_id",
        "purchase_orders",
        "po_id",
        date="received_date",
    ),
    _invoices(
        "ap_invoices",
        "Supplier invoices and credit notes. `total` = Σ line amounts + `tax_amount`; "
        "credit notes carry negative amounts.",
        "supplier",
        reference="supplier_ref",
    ),
    Table(
        "ap_invoice_lines",
        FINANCE,
        "Supplier invoice lines.",
        (
            col("invoice_id"),
            col("line", "INTEGER", minimum=1),
            col("po_id", null=True),
            col("po_line", "INTEGER", null=True),
            col("product_id", null=True),
            col("qty", "DOUBLE"),
            col("unit_price", PRICE),
            col("amount", MONEY),
        ),
        ("invoice_id", "line"),
        (
            fk("invoice_id", "ap_invoices"),
            fk(("po_id", "po_line"), "purchase_orders", ("po_id", "line")),
            fk("product_id", "products"),
        ),
    ),
    _payments("ap_payments", "Payments to suppliers.", "payment_id", "supplier", date="paid_date"),
    _allocations(
        "ap_payment_allocations",
        "Which invoices a supplier payment settles.",
        "ap_payments",
        "payment_id",
        invoices="ap_invoices",
    ),
    _order_lines("sales_orders", "Sales-order lines.", "so_id", "customer", due_date="promised_date"),
    _deliveries(
        "shipments",
        "Quantities shipped against sales-order lines.",
        "shipment_id",
        "sales_orders",
        "so_id",
        date="shipped_date",
    ),
    _invoices(
        "ar_invoices",
        "Customer invoices and credit notes, dated on the shipment date.",
        "customer",
        reference="so_id",
        extra=(
            col("disputed", "BOOLEAN", null=True, doc="the customer disputed the invoice; null: not known"),
            col("paperless", "BOOLEAN", null=True, doc="billed electronically (true) or on paper; null: not known"),
        ),
    ),
    Table(
        "ar_invoice_lines",
        FINANCE,
        "Customer invoice lines.",
        (
            col("invoice_id"),
            col("line", "INTEGER", minimum=1),
            col("product_id"),
            col("qty", "DOUBLE"),
            col("unit_price", PRICE),
            col("amount", MONEY),
        ),
        ("invoice_id", "line"),
        (fk("invoice_id", "ar_invoices"), fk("product_id", "products")),
    ),
    _payments(
        "ar_receipts",
        "Money received from customers.",
        "receipt_id",
        "customer",
        date="received_date",
    ),
    _allocations(
        "ar_receipt_allocations",
        "Which invoices a customer receipt settles.",
        "ar_receipts",
        "receipt_id",
        invoices="ar_invoices",
    ),
    Table(
        "bank_statements",
        FINANCE,
        "Bank statements with opening and closing balances.",
        (
            col("statement_id"),
            col("bank_account"),
            col("statement_date", "DATE"),
            col("currency", pattern=CURRENCY),
            col("opening_balance", MONEY),
            col("closing_balance", MONEY),
        ),
        ("statement_id",),
    ),
    Table(
        "bank_transactions",
        FINANCE,
        "Bank lines: + money in, − money out.",
        (
            col("bank_txn_id"),
            col("statement_id", null=True),
            col("bank_account"),
            col("booking_date", "DATE"),
            col("value_date", "DATE"),
            col("amount", MONEY),
            col("currency", pattern=CURRENCY),
            col("counterparty", null=True),
            col("reference", null=True),
            col("description", null=True),
        ),
        ("bank_txn_id",),
        (fk("statement_id", "bank_statements"),),
    ),
    # ---------------------------------------------------------------- plans
    Table(
        "budget_lines",
        PLANS,
        "Cost and revenue budget per month, cost centre and account.",
        (
            col("version"),
            col("period", "DATE", doc="first of month"),
            col("cost_center_id"),
            col("account_id"),
            col("amount", MONEY),
        ),
        ("version", "period", "cost_center_id", "account_id"),
        (fk("cost_center_id", "cost_centers"), fk("account_id", "accounts")),
    ),
    Table(
        "volume_plan",
        PLANS,
        "Planned sales volume and price per finished product and month (base currency).",
        (
            col("version"),
            col("period", "DATE", doc="first of month"),
            col("product_id"),
            col("qty", "DOUBLE", minimum=0),
            col("unit_price", PRICE, minimum=0),
        ),
        ("version", "period", "product_id"),
        (fk("product_id", "products"),),
    ),
    Table(
        "forecast_versions",
        PLANS,
        "One row per demand-forecast version (`opsfin forecast demand`, docs/forecasting.md): the last month "
        "of history it saw, how far it looks and how it was made.",
        (
            col("version"),
            col("as_of", "DATE", doc="first of the last month of history read"),
            col("horizon", "INTEGER", minimum=1, doc="months forecast after `as_of`"),
            col("level", "INTEGER", minimum=1, maximum=99, doc="interval level in %: p10 … p90 at 80"),
            col("models", doc="the models asked for (`auto` or names)"),
            col("reconciler", doc="how the levels were made to add up (MinTrace ols, or BottomUp)"),
            col("created_at", "TIMESTAMP"),
        ),
        ("version",),
    ),
    Table(
        "forecast_values",
        PLANS,
        "Forecast shipped quantity per version, month and hierarchy member. `key`: `total`, the family, "
        "site_id, product_id or `product_id/site_id`; p50 adds up exactly from product_site to every level.",
        (
            col("version"),
            col("period", "DATE", doc="first of month"),
            col("level", allowed=("total", "family", "site", "product", "product_site")),
            col("key"),
            col("p10", "DOUBLE", minimum=0, doc="lower end of the interval (units)"),
            col("p50", "DOUBLE", minimum=0, doc="median forecast (units)"),
            col("p90", "DOUBLE", minimum=0, doc="upper end of the interval (units)"),
            col("model", doc="the base model of this member's own series"),
        ),
        ("version", "period", "level", "key"),
        (fk("version", "forecast_versions"),),
    ),
    Table(
        "plan_pnl",
        PLANS,
        "The P&L of a plan version per month and site (`opsfin plan build`, docs/planning.md). No total rows: "
        "a total is the sum. Built from actual volumes, revenue and cogs equal the GL roles to the cent.",
        (
            col("version"),
            col("period", "DATE", doc="first of month"),
            col("site_id", null=True, doc="null where the line has no site (costs of cost centres without one)"),
            col("line", allowed=PLAN_PNL_LINES),
            col("amount", MONEY, doc="base currency; revenue positive, costs positive, margins signed"),
        ),
        ("version", "period", "site_id", "line"),
    ),
    Table(
        "plan_capacity",
        PLANS,
        "Hours a plan version needs per work centre and month against the hours available.",
        (
            col("version"),
            col("period", "DATE", doc="first of month"),
            col("work_center_id"),
            col("required_hours", "DOUBLE", minimum=0),
            col("available_hours", "DOUBLE", minimum=0),
            col("utilization", "DOUBLE", minimum=0, doc="required ÷ available (1.0 = full)"),
            col("overtime_hours", "DOUBLE", minimum=0, doc="hours needed beyond the available"),
        ),
        ("version", "period", "work_center_id"),
        (fk("work_center_id", "work_centers"),),
    ),
    Table(
        "plan_balances",
        PLANS,
        "Month-end balances (AR, inventory, AP) and cash-flow lines of a plan version, by role.",
        (
            col("version"),
            col("period", "DATE", doc="first of month"),
            col("role", doc="`ar`, `inventory`, `ap`, `cash_in`, `cash_out`, `net_cash_flow`, … (docs/planning.md)"),
            col("amount", MONEY),
        ),
        ("version", "period", "role"),
    ),
)

# tables an engine fills (a forecast or plan version), not a source: the demo generator leaves them empty
DERIVED_TABLES: tuple[str, ...] = (
    "forecast_versions",
    "forecast_values",
    "plan_pnl",
    "plan_capacity",
    "plan_balances",
)

# ---------------------------------------------------------------- system tables (not part of the model)
SYSTEM = "system"
SYSTEM_TABLES: tuple[Table, ...] = (
    Table(
        "loads",
        SYSTEM,
        "One row per ingest or generator load.",
        (
            col("load_id"),
            col("table_name"),
            col("source"),
            col("sha256"),
            col("rows_read", "BIGINT"),
            col("rows_accepted", "BIGINT"),
            col("rows_quarantined", "BIGINT"),
            col("started_at", "TIMESTAMP"),
            col("finished_at", "TIMESTAMP"),
            col("status", allowed=("loaded", "replaced", "superseded")),
        ),
        ("load_id", "table_name"),
        lineage=False,
    ),
    Table(
        "quarantine",
        SYSTEM,
        "Rows an ingest refused, with the reason. Never dropped.",
        (
            col("load_id"),
            col("table_name"),
            col("source"),
            col("source_row", "BIGINT"),
            col("column_name", null=True),
            col("reason"),
            col("raw_record", doc="JSON"),
        ),
        ("load_id", "table_name", "source_row", "reason"),
        lineage=False,
    ),
    Table(
        "closed_periods",
        SYSTEM,
        "Closed accounting periods: nothing posts into them.",
        (
            col("period", "DATE", doc="first of month"),
            col("closed_at", "TIMESTAMP"),
            col("closed_by"),
        ),
        ("period",),
        lineage=False,
    ),
)

TABLE_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES + SYSTEM_TABLES}
MODEL_TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)


def table(name: str) -> Table:
    """The declaration of table `name`; a KeyError lists the known names."""
    try:
        return TABLE_BY_NAME[name]
    except KeyError:
        known = ", ".join(MODEL_TABLE_NAMES)
        raise KeyError(f"unknown table {name!r}; the canonical tables are: {known}") from None
