"""What the Investments page shows (docs/web.md "Investments").

Every figure comes from the runs layer (`opsfin.runs.invest`: the cases evaluated, the portfolio;
`opsfin.runs.invest_review`: the review), cached per warehouse load and model files like the other pages.
The form that edits `model/investments.yaml` is web/invest_form.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any


# ---------------------------------------------------------------- figures (runs layer, cached)
def evaluated(results: Any, rate: str | None) -> list[Any]:
    """`opsfin invest evaluate`'s cases at `rate` (the file's rate without it), ranked by NPV."""
    from ..runs.invest import evaluate

    cases = results.cache.get(("invest_evaluate", rate), lambda: evaluate(results.ws, (), rate))
    return sorted(cases, key=lambda e: (-e.worth.npv, e.case.name))


def portfolio(results: Any, budget: str, rate: str | None) -> dict[str, Any]:
    """`opsfin invest portfolio --budget …`'s JSON (runs.invest.portfolio_json)."""
    from ..runs.invest import portfolio as choose
    from ..runs.invest import portfolio_json

    def compute() -> dict[str, Any]:
        return portfolio_json(*choose(results.ws, budget, rate))

    return results.cache.get(("invest_portfolio", budget, rate), compute)


def review(results: Any, name: str, rate: str | None) -> dict[str, Any]:
    """`opsfin invest review NAME`'s JSON."""
    from ..runs.invest_review import review_named

    return results.cache.get(("invest_review", name, rate), lambda: review_named(results.ws, name, rate).as_json())


def flow_chart(name: str, flows: list[tuple[dt.date, Decimal]]) -> dict[str, Any]:
    """A case's flows as bars by date with their running total as a line (exact Decimal sums)."""
    running, total = [], Decimal(0)
    for _, amount in flows:
        total += amount
        running.append(total)
    days = [d.isoformat() for d, _ in flows]
    amounts = [float(a) for _, a in flows]
    bars = {
        "type": "bar",
        "name": "cash flow",
        "x": days,
        "y": amounts,
        "marker": {"color": ["#2e7d32" if a >= 0 else "#c62828" for a in amounts]},
    }
    line = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": "cumulative",
        "x": days,
        "y": [float(v) for v in running],
    }
    layout = {
        "title": {"text": f"{name}: cash flows and their running total"},
        "height": 320,
        "margin": {"l": 80, "r": 20, "t": 40, "b": 50},
        "xaxis": {"type": "date", "title": {"text": "date"}},
        "yaxis": {"title": {"text": "base currency"}, "tickformat": ",.0f"},
        "legend": {"orientation": "h"},
    }
    return {"data": [bars, line], "layout": layout}
