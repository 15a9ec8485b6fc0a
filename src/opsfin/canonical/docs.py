"""Render `docs/data-model.md` from the canonical declarations.

    python -m opsfin.canonical.docs          # (re)write docs/data-model.md
    python -m opsfin.canonical.docs --check  # exit 1 if docs/data-model.md is out of date

The page is generated, never edited by hand: `tests/test_data_model_docs.py` fails when it
differs from `render_data_model()`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .tables import MODEL_VERSION, SYSTEM_TABLES, TABLES
from .types import Column, Table

DOC_RELPATH = Path("docs") / "data-model.md"

GROUPS = ("master data", "operations", "finance", "plans", "system")

# Columns the canonical model v1 itself marks NULL.
MODEL_MARKED_NULL: frozenset[tuple[str, str]] = frozenset(
    {
        ("employees", "work_center_id"),
        ("production_orders", "completed_at"),
        ("production_orders", "closed_date"),
        ("quality_inspections", "defect_code"),
        ("timesheets", "work_center_id"),
        ("timesheets", "activity_id"),
        ("support_tickets", "customer_id"),
        ("support_tickets", "closed_at"),
        ("support_tickets", "csat"),
        ("gl_entries", "cost_center_id"),
        ("ap_invoice_lines", "po_id"),
        ("ap_invoice_lines", "po_line"),
        ("ap_invoice_lines", "product_id"),
        ("bank_transactions", "statement_id"),
    }
)

# Columns the code declares nullable although the canonical model v1 does not mark them NULL, and why.
# Written by hand from the declarations; a test checks this list is complete.
NULLABLE_CLARIFICATIONS: dict[tuple[str, str], str] = {
    ("production_orders", "released_at"): "null while the order is still `open` (not yet released)",
    ("operations", "machine_id"): "work centres of kind `team` work without machines",
    (
        "quality_inspections",
        "operation_id",
    ): "an inspection may cover the whole order (final inspection) rather than one operation",
    (
        "warehouse_tasks",
        "order_ref",
    ): "some tasks (put-away, replenishment) serve no customer or purchase order",
    (
        "bank_transactions",
        "counterparty",
    ): "real statements (CAMT.053, MT940, CSV exports) may omit it",
    ("bank_transactions", "reference"): "real statements may omit it",
    ("bank_transactions", "description"): "real statements may omit it",
    ("plan_pnl", "site_id"): "a plan line without a site (costs of cost centres that belong to none)",
    ("ar_invoices", "disputed"): "not every source knows it (receivables exports often do, the demo does not)",
    ("ar_invoices", "paperless"): "not every source knows it (receivables exports often do, the demo does not)",
    ("suppliers", "discount_pct"): "only suppliers that offer an early-payment discount have one",
    ("suppliers", "discount_days"): "only suppliers that offer an early-payment discount have one",
}

OTHER_CLARIFICATIONS: tuple[str, ...] = (
    "Columns the canonical model lists without a type get: `*_at` `TIMESTAMP`, `*_date` `DATE`, quantities, minutes, "
    "hours and other physical measures `DOUBLE`, `line` / `po_line` / `lines` `INTEGER`, payment and allocation `amount` "
    "`DECIMAL(18,2)`, everything else `VARCHAR`.",
    "Ranges: quantities, times, rates and prices are ≥ 0, except the signed ones: "
    "`inventory_movements.qty`; invoice-line `qty`, `unit_price` and `amount` and invoice `tax_amount` "
    "and `total` (negative on credit notes); GL, payment, allocation, bank and budget amounts. Minutes "
    "per hourly reading are ≤ 60, hours per shift or timesheet ≤ 24, `overtime_multiplier` ≥ 1, "
    "`csat` 1 … 5, steps and line numbers ≥ 1.",
    "Every `currency` column holds an ISO 4217 code, three capital letters (`^[A-Z]{3}$`).",
    "`ar_invoices.so_id` is not declared as a foreign key: sales orders are keyed by `(so_id, line)`, "
    "so `so_id` alone references no key.",
    "`bom.component_id` references `products.product_id`.",
    "`plan_pnl`'s key includes `site_id`, which may be null: null counts as one value of the key (the "
    "line without a site), as `opsfin check` groups it.",
    "The system tables `loads`, `quarantine` and `closed_periods` (lineage, refused rows, closed periods) "
    "are not part of the canonical model; they carry no `_load_id`.",
)


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _rule(c: Column) -> str:
    parts: list[str] = []
    if c.allowed is not None:
        parts.append(", ".join(f"`{v}`" for v in c.allowed))
    if c.minimum is not None and c.maximum is not None:
        parts.append(f"{_fmt_number(c.minimum)} … {_fmt_number(c.maximum)}")
    elif c.minimum is not None:
        parts.append(f"≥ {_fmt_number(c.minimum)}")
    elif c.maximum is not None:
        parts.append(f"≤ {_fmt_number(c.maximum)}")
    if c.pattern is not None:
        parts.append(f"pattern `{c.pattern}`")
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _keys(cols: tuple[str, ...]) -> str:
    return ", ".join(f"`{c}`" for c in cols)


def _render_table(t: Table) -> list[str]:
    out = [f"### `{t.name}`", "", t.description, ""]
    out.append(f"- **Primary key:** ({_keys(t.primary_key)})")
    if t.foreign_keys:
        refs = "; ".join(
            f"({_keys(f.columns)}) → [`{f.ref_table}`](#{f.ref_table}) ({_keys(f.ref_columns)})" for f in t.foreign_keys
        )
        out.append(f"- **Foreign keys:** {refs}")
    else:
        out.append("- **Foreign keys:** none")
    out += [
        "",
        "| column | type | null | allowed values / range / pattern | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in t.columns:
        null = "yes" if c.nullable else "no"
        out.append(f"| `{c.name}` | {c.type} | {null} | {_cell(_rule(c))} | {_cell(c.description)} |")
    if t.lineage:
        out.append("| `_load_id` | VARCHAR | yes |  | lineage: the load that brought the row (`loads.load_id`) |")
    out.append("")
    return out


def _intro() -> list[str]:
    n_model = len(TABLES)
    return [
        f"# Data model (canonical model v{MODEL_VERSION})",
        "",
        "<!-- Generated by `python -m opsfin.canonical.docs` from src/opsfin/canonical/tables.py. "
        "Do not edit by hand. -->",
        "",
        f"This page lists every warehouse table: the {n_model} tables of the canonical model "
        f"v{MODEL_VERSION} (the warehouse contract; see also [architecture.md](architecture.md)) and {len(SYSTEM_TABLES)} system tables. "
        "It is generated from `opsfin.canonical`, the single declaration that the warehouse DDL, ingest "
        "validation, `opsfin check` and the demo generator all use.",
        "",
        "## Conventions",
        "",
        "- Types are DuckDB names.",
        "- IDs are `VARCHAR` keys from the source system.",
        "- `DATE` and `TIMESTAMP` values are naive, in the site's local time.",
        "- Money is `DECIMAL(18,2)` in the document's `currency`; unit prices and rates are "
        "`DECIMAL(18,4)`; `fx_rates.rate_to_base` is `DECIMAL(18,8)`. Converting to the base currency "
        "(`opsfin.yaml: base_currency`) uses the latest `fx_rates` row with `rate_date` ≤ the document's "
        "date; the base currency's rate is 1.",
        "- Physical quantities (hours, minutes, kWh, units) are `DOUBLE`.",
        "- GL amounts are in base currency and signed: debit +, credit −. Every `journal_id` sums to 0.",
        "- Every model table carries `_load_id VARCHAR`, the load that brought the row (lineage).",
        "- Primary and foreign keys, nullability and allowed values are enforced by ingest validation and "
        "reported by `opsfin check` — not by database constraints, which would make bulk loads far "
        "slower. Only `NOT NULL` is part of the DDL. Null foreign-key values are not checked.",
        "- The model grows by adding tables or nullable columns; a rename is a migration with a version bump.",
        "",
    ]


def _contents(all_tables: tuple[Table, ...]) -> list[str]:
    out = ["## Contents", ""]
    for g in GROUPS:
        names = [t.name for t in all_tables if t.group == g]
        out.append(f"- **{g}:** " + ", ".join(f"[`{n}`](#{n})" for n in names))
    out.append("- [Clarifications to the canonical model v1](#clarifications-to-the-canonical-model-v1)")
    out.append("")
    return out


def _clarifications(all_tables: tuple[Table, ...]) -> list[str]:
    out = [
        "## Clarifications to the canonical model v1",
        "",
        "Where the code had to be more precise than the model as first written.",
        "",
        "### Nullable columns beyond those the model marks NULL",
        "",
        "The model marks NULL: "
        + ", ".join(f"`{t}.{c}`" for t, c in sorted(MODEL_MARKED_NULL))
        + ". The code also allows null in:",
        "",
        "| column | why |",
        "| --- | --- |",
    ]
    for (t, c), why in NULLABLE_CLARIFICATIONS.items():
        out.append(f"| `{t}.{c}` | {_cell(why)} |")
    out += [
        "",
        "### Primary keys",
        "",
        "The model names no keys. These are the ones chosen; each is unique per table (checked by `opsfin check`).",
        "",
        "| table | primary key |",
        "| --- | --- |",
    ]
    for t in all_tables:
        out.append(f"| `{t.name}` | ({_keys(t.primary_key)}) |")
    out += ["", "### Other precisions", ""]
    out += [f"- {item}" for item in OTHER_CLARIFICATIONS]
    out.append("")
    return out


def render_data_model() -> str:
    """The Markdown text of docs/data-model.md."""
    all_tables = TABLES + SYSTEM_TABLES
    lines = _intro() + _contents(all_tables)
    for g in GROUPS:
        lines += [f"## {g[0].upper()}{g[1:]}", ""]
        if g == "system":
            lines += ["Bookkeeping of the warehouse itself; not part of the canonical model.", ""]
        for t in all_tables:
            if t.group == g:
                lines += _render_table(t)
    lines += _clarifications(all_tables)
    return "\n".join(lines).rstrip("\n") + "\n"


def repo_root() -> Path:
    """The repository root: the folder holding pyproject.toml above this module (src layout)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists():
            return parent
    raise FileNotFoundError(f"no pyproject.toml above {here}; run from a source checkout")


def doc_path() -> Path:
    return repo_root() / DOC_RELPATH


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opsfin.canonical.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/data-model.md is out of date")
    args = parser.parse_args(argv)
    path = doc_path()
    text = render_data_model()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            print(f"{path} is out of date; run `python -m opsfin.canonical.docs`", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
