"""The budget of the money KPIs per month, from `budget_lines` (docs/web.md "Pages", the overview's tiles):
what a tile of revenue, cost of goods sold, gross margin or operating expenses is read against.

Per KPI, the budget lines of the roles the KPI counts in the GL, with its sign (docs/kpis.md): `revenue` −Σ
revenue; `cogs` Σ cogs (a budget has no variance lines); `gross_margin` budget revenue − budget COGS; `opex`
the expense roles outside cost of sales and outside the production cost roles (direct labor, energy,
variable and fixed overhead: absorbed into inventory at standard, as docs/planning.md's P&L counts opex).
The version of a month is the demo's budget of the month's year (`B2024` for 2024-03) when it has lines for
that month, else the only version with lines for it; with several and no such budget, there is none."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import ibis

from ..canonical.tables import PRODUCTION_COST_ROLES, VARIANCE_ROLES
from ..costing.reads import MONEY_SUM_T, fetch

#: the money KPIs with a budget
BUDGET_KPIS = ("revenue", "cogs", "gross_margin", "opex")
_NOT_OPEX = ("cogs", *VARIANCE_ROLES, *PRODUCTION_COST_ROLES)


def budget_rows(t: Any, months: list[dt.date]) -> list[dict[str, Any]]:
    """Σ budget_lines per version, month and bucket (`revenue`, `cogs`, `opex`) in `months`, GL sign."""
    b = t("budget_lines")
    b = b.filter(b.period.cast("date").isin(months))
    a = t("accounts").select(_a="account_id", _role="role", _type="type")
    j = b.join(a, b.account_id == a._a)
    opex = (j._type == "expense") & ~j._role.isin(list(_NOT_OPEX))
    none = ibis.null("string")
    j = j.mutate(
        bucket=ibis.ifelse(
            j._role == "revenue",
            "revenue",
            ibis.ifelse(j._role == "cogs", "cogs", ibis.ifelse(opex, "opex", none)),
        )
    )
    j = j.filter(j.bucket.notnull())
    return fetch(
        j.group_by(["version", j.period.cast("date").name("month"), "bucket"]).aggregate(
            amount=j.amount.sum().cast(MONEY_SUM_T)
        )
    )


def kpi_budgets(t: Any, months: list[dt.date]) -> dict[tuple[str, dt.date], tuple[str, Decimal]]:
    """(kpi, month) → (budget version, budgeted value) for the money KPIs of `BUDGET_KPIS` in `months`."""
    sums: dict[tuple[dt.date, str], dict[str, Decimal]] = defaultdict(dict)
    for r in budget_rows(t, months):
        sums[(r["month"], r["version"])][r["bucket"]] = Decimal(r["amount"])
    out: dict[tuple[str, dt.date], tuple[str, Decimal]] = {}
    for month in months:
        versions = sorted(v for (m, v) in sums if m == month)
        version = f"B{month.year}" if f"B{month.year}" in versions else versions[0] if len(versions) == 1 else None
        if version is None:
            continue
        s = sums[(month, version)]
        revenue, cogs = -s.get("revenue", Decimal(0)), s.get("cogs", Decimal(0))
        values = {"revenue": revenue, "cogs": cogs, "gross_margin": revenue - cogs, "opex": s.get("opex")}
        for kpi in BUDGET_KPIS:
            if kpi == "revenue" and "revenue" not in s or kpi == "cogs" and "cogs" not in s:
                continue
            if kpi == "gross_margin" and not ("revenue" in s and "cogs" in s):
                continue
            if values[kpi] is not None:
                out[(kpi, month)] = (version, values[kpi])  # type: ignore[assignment]
    return out
