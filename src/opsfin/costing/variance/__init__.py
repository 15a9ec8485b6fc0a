"""Variance analysis, exact and additive: the bridge from static budget to flexible budget to actual
gross margin (Horngren, Datar & Rajan, *Cost Accounting*: flexible budget ch. 7, overhead ch. 8,
sales-mix and sales-quantity variances ch. 14).

A pure function of the warehouse `Tables` (Ibis tables on DuckDB or Spark; a DuckDB connection is read
through Ibis too) plus a few settings; it returns a Polars table
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

Modules: `common` (categories, GL roles, splits, `Piece`, exact helpers), `textbook` (the formulas),
`months` (period and plan version), `sales`, `material`, `conversion` (labor, energy, overhead), `bridge`
(assembly, table, summary), `drill` (source rows), `row_money` (each source row's money) and `reads`
(the warehouse reads, Ibis expressions that aggregate in the backend; the exact arithmetic stays in Python).
"""

from __future__ import annotations

from ...core.periods import month_end, month_start
from .bridge import Bridge, bridge_table, build_bridge, summary, variance
from .common import (
    CATEGORIES,
    DIMENSIONS,
    GL_ROLES,
    MANUFACTURING_CATEGORIES,
    MAX_MONTHS,
    SALES_CATEGORIES,
    SPLITS,
    UNASSIGNED,
    VARIANCE_ROLES,
    Piece,
    _he_sql,
    apportion,
    he,
    he_div,
)
from .drill import DRILL, categories, source_rows
from .months import plan_versions, resolve_months
from .row_money import RowMoney, source_rows_money
from .textbook import price_efficiency, sales_volume_split

__all__ = [
    "CATEGORIES",
    "DIMENSIONS",
    "DRILL",
    "GL_ROLES",
    "MANUFACTURING_CATEGORIES",
    "MAX_MONTHS",
    "SALES_CATEGORIES",
    "SPLITS",
    "UNASSIGNED",
    "VARIANCE_ROLES",
    "Bridge",
    "Piece",
    "RowMoney",
    "_he_sql",
    "apportion",
    "bridge_table",
    "build_bridge",
    "categories",
    "he",
    "he_div",
    "month_end",
    "month_start",
    "plan_versions",
    "price_efficiency",
    "resolve_months",
    "sales_volume_split",
    "source_rows",
    "source_rows_money",
    "summary",
    "variance",
]
