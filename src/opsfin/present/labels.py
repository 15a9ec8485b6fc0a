"""Human labels for the columns, variance categories, KPI fields and statuses the screens show
(docs/presentation.md "Labels"). The data keeps its snake_case names (CSV headers, JSON keys);
only a table, a page or the pack shows the label.

`label("var_overhead_spending")` → "Variable overhead spending". A name without an entry reads in
sentence case with its abbreviations in capitals: `lead_time_hours` → "Lead time (h)", `po_id` → "PO"."""

from __future__ import annotations

LABELS: dict[str, str] = {
    # variance categories (costing/variance.py)
    "sales_price": "Sales price",
    "sales_mix": "Sales mix",
    "sales_quantity": "Sales quantity",
    "material_price": "Material price",
    "invoice_price": "Invoice price",
    "material_usage": "Material usage",
    "labor_rate": "Labor rate",
    "labor_efficiency": "Labor efficiency",
    "energy_price": "Energy price",
    "energy_usage": "Energy usage",
    "var_overhead_spending": "Variable overhead spending",
    "var_overhead_efficiency": "Variable overhead efficiency",
    "fixed_overhead_spending": "Fixed overhead spending",
    "production_volume": "Production volume",
    "scrap": "Scrap",
    "other_manufacturing": "Other manufacturing",
    # KPI rows and the catalog
    "period_start": "Period",
    "period_end": "Until",
    "kpi": "KPI",
    "value": "Value",
    "numerator": "Numerator",
    "denominator": "Denominator",
    "direction": "Direction",
    "dimensions": "Dimensions",
    "higher_is_better": "Higher is better",
    "lower_is_better": "Lower is better",
    # unit economics, order costs, value streams, ABC
    "product_id": "Product",
    "units": "Units",
    "unit_cost": "Unit cost",
    "contribution_margin": "Contribution margin",
    "cm_per_unit": "CM per unit",
    "cm_ratio": "CM ratio",
    "cost_basis": "Cost basis",
    "variable_overhead": "Variable overhead",
    "fixed_overhead": "Fixed overhead",
    "cost_center_id": "Cost centre",
    "site_id": "Site",
    "work_center_id": "Work centre",
    "work_center": "Work centre",
    "cost_center": "Cost centre",
    "lines_picked": "Lines picked",
    "cost_per_line": "Cost per line",
    "tickets_closed": "Tickets closed",
    "cost_per_ticket": "Cost per ticket",
    "pce": "PCE",
    "nva_cost": "NVA cost",
    "largest_nva_step": "Largest NVA step",
    "largest_nva_cost": "Largest NVA cost",
    "value_added": "Value added",
    "cost_per_unit": "Cost per unit",
    "total_cost": "Total cost",
    "qty_good": "Good qty",
    "completion_shift_id": "Completion shift",
    "object_id": "Object",
    "abc_cost": "ABC cost",
    "abc_profit": "ABC profit",
    "cogs": "COGS",
    "gross_margin": "Gross margin",
    "traditional_cost": "Traditional cost",
    "traditional_profit": "Traditional profit",
    "capacity_utilization": "Utilization",
    "mean_wait_minutes": "Mean wait (min)",
    "runner_up": "Runner-up",
    "runner_up_utilization": "Runner-up utilization",
    # matching
    "match_id": "Match",
    "bank_txn_id": "Bank line",
    "booking_date": "Booked",
    "doc_type": "Document type",
    "doc_id": "Document",
    "doc_amount": "Document amount",
    "money_at_stake": "Money at stake",
    "po_id": "PO",
    "po_line": "PO line",
    "po_unit_price": "PO unit price",
    "received_qty": "Received qty",
    "qty": "Qty",
    "supplier_id": "Supplier",
    "invoice_id": "Invoice",
    "run_id": "Run",
    "auto": "Auto",
    "suggested": "Suggested",
    "confirmed": "Confirmed",
    "unmatched": "Unmatched",
    "matched": "Matched",
    "duplicate": "Duplicate",
    "no_po": "No PO",
    "no_receipt": "No receipt",
    "qty_over_received": "Qty over received",
    "price_over_tolerance": "Price over tolerance",
    # data quality, loads
    "check": "Check",
    "table_name": "Table",
    "rows_read": "Rows read",
    "rows_accepted": "Accepted",
    "rows_quarantined": "Quarantined",
    "source_row": "Source row",
    "column_name": "Column",
}
# written in capitals wherever they appear in a name
ABBREVIATIONS = {
    "id": "ID",
    "kpi": "KPI",
    "oee": "OEE",
    "abc": "ABC",
    "po": "PO",
    "so": "SO",
    "gl": "GL",
    "ar": "AR",
    "ap": "AP",
    "fx": "FX",
    "cm": "CM",
    "nva": "NVA",
    "pce": "PCE",
    "ppv": "PPV",
    "kwh": "kWh",
    "dso": "DSO",
    "dio": "DIO",
    "dpo": "DPO",
    "ccc": "CCC",
    "csat": "CSAT",
    "fg": "FG",
    "wip": "WIP",
    "url": "URL",
    "csv": "CSV",
    # forecast accuracy (docs/forecasting.md)
    "wape": "WAPE",
    "mase": "MASE",
    "fva": "FVA",
}
# a unit suffix of a name becomes the unit in brackets
UNIT_SUFFIXES = {"hours": "h", "minutes": "min", "kwh": "kWh", "days": "days", "pct": "%"}


def label(name: str) -> str:
    """The label of a column, category, KPI field or status; a name without an entry in sentence case."""
    if name in LABELS:
        return LABELS[name]
    words = [w for w in name.split("_") if w]
    if not words:
        return name
    unit = UNIT_SUFFIXES.get(words[-1]) if len(words) > 1 else None
    if unit:
        words = words[:-1]
    if words[-1] == "id" and len(words) > 1:
        words = words[:-1]
    text = " ".join(ABBREVIATIONS.get(w.lower(), w) for w in words)
    text = text[:1].upper() + text[1:]
    return f"{text} ({unit})" if unit else text
