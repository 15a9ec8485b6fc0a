"""`opsfin check`: the integrity report of a warehouse.

Each check is a pure function `(tables, base_currency) -> list[Finding]` of the warehouse `Tables`
(Ibis expressions, so DuckDB or Spark; docs/scale.md). Problems come back as data (Beancount style),
never as exceptions; `run_all` runs them all (on a workspace: `opsfin.runs.checks.run_checks`, which
opens its warehouse read-only).
docs/check.md describes what each check verifies.
"""

from __future__ import annotations

from collections.abc import Callable

from ..kpis.engine import Tables
from .bank import BANK_STATEMENT_BALANCE, BANK_STATEMENT_CHAIN, check_bank_statements
from .columns import COLUMN_VALUES, check_column_values
from .findings import SEVERITIES, Finding, Severity, count_by_severity, summary_line
from .journals import (
    PRODUCTION_CC_BALANCE,
    UNBALANCED_JOURNAL,
    check_journals,
    check_production_cost_centers,
)
from .keys import DUPLICATE_PK, ORPHAN_FK, check_orphans, check_primary_keys
from .stock import NEGATIVE_STOCK, check_negative_stock
from .subledgers import (
    FX_RATE_MISSING,
    SUBLEDGER_AP,
    SUBLEDGER_AR,
    check_ap_subledger,
    check_ar_subledger,
)

Check = Callable[[Tables, str], list[Finding]]

CHECKS: tuple[Check, ...] = (
    check_journals,
    check_ar_subledger,
    check_ap_subledger,
    check_negative_stock,
    check_orphans,
    check_primary_keys,
    check_bank_statements,
    check_production_cost_centers,
    check_column_values,
)

CHECK_NAMES: tuple[str, ...] = (
    UNBALANCED_JOURNAL,
    SUBLEDGER_AR,
    SUBLEDGER_AP,
    FX_RATE_MISSING,
    NEGATIVE_STOCK,
    ORPHAN_FK,
    DUPLICATE_PK,
    BANK_STATEMENT_BALANCE,
    BANK_STATEMENT_CHAIN,
    PRODUCTION_CC_BALANCE,
    COLUMN_VALUES,
)


def run_all(t: Tables, base_currency: str) -> list[Finding]:
    """Every check on the warehouse tables `t`, in the order of CHECKS."""
    return [f for check in CHECKS for f in check(t, base_currency)]


__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "SEVERITIES",
    "Finding",
    "Severity",
    "count_by_severity",
    "run_all",
    "summary_line",
]
