"""Engine results for the web, through the Workspace methods and the result cache.

Nothing here computes a figure: each method calls the engine the CLI calls (`ws.kpi`, `ws.variance`,
`runs.alerts.run_alerts`…) once per warehouse signature and hands out the rows. Site scope is applied by the
callers (queries.py), after the cache, so one cached result serves every user."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..core.dimensions import SITE_MAP_TABLES, SiteMap
from ..runs.reads import load_history, months_with_data
from .cache import ResultCache


class Results:
    """Cached engine calls over one workspace."""

    def __init__(self, ws):
        self.ws = ws
        self.cache = ResultCache(ws)

    # -- model and master data
    def catalog(self):
        return self.cache.get(("catalog",), self.ws.kpi_catalog)

    def guardrails(self):
        from ..runs.model import load_guardrails

        return self.cache.get(("guardrails",), lambda: load_guardrails(self.ws.model_dir, self.catalog()))

    def site_map(self) -> SiteMap:
        def build() -> SiteMap:
            frames = {name: self.ws.table(name) for name in SITE_MAP_TABLES}
            frames["sites"] = frames["sites"].sort("site_id")
            return SiteMap.from_frames(frames)

        return self.cache.get(("site_map",), build)

    def months(self) -> list[dt.date]:
        """First days of the months that hold GL postings or machine readings, oldest first."""
        return self.cache.get(("months",), lambda: months_with_data(self.ws))

    # -- engines
    def kpi(
        self,
        kpi: str,
        grain: str = "month",
        by: tuple[str, ...] = (),
        where: tuple[tuple[str, tuple[str, ...]], ...] = (),
        start: str | None = None,
        end: str | None = None,
    ) -> list[dict]:
        """The rows of `opsfin kpi KPI … --format json` (one KPI)."""

        def build() -> list[dict]:
            frame = self.ws.kpi([kpi], grain, list(by), {d: list(v) for d, v in where}, start, end)
            return frame.to_dicts()

        return self.cache.get(("kpi", kpi, grain, by, where, start, end), build)

    def prefetch_kpis(self, kpis: list[str], where: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> None:
        """Fill the cache entries of `kpi(k, "month", (), where)` for every KPI of `kpis` not cached yet, on one
        warehouse connection (the overview's tiles: one connection instead of one per KPI). Each entry holds
        what `ws.kpi([k], …)` returns; a KPI that fails is left out, so its own call reports the error."""
        from ..kpis import combine, compute

        keys = {k: ("kpi", k, "month", (), where, None, None) for k in kpis}
        todo = [k for k in kpis if not self.cache.holds(keys[k])]
        if not todo:
            return
        filters = {d: list(v) for d, v in where}
        with self.ws.engine_tables() as t:
            for k in todo:
                try:
                    rows = combine(compute(t, [k], "month", [], filters, catalog=self.catalog())).to_dicts()
                except Exception:  # noqa: BLE001, S112 - the KPI's own call computes it again and reports the error
                    continue
                self.cache.get(keys[k], lambda rows=rows: rows)

    def alerts(self, start: str | None = None, end: str | None = None) -> list:
        from ..runs.alerts import run_alerts

        return self.cache.get(
            ("alerts", start, end),
            lambda: run_alerts(self.ws, self.catalog(), start=start, end=end),
        )

    def bottlenecks(self, grain: str = "month", start: str | None = None, end: str | None = None) -> list[dict]:
        return self.cache.get(
            ("bottlenecks", grain, start, end),
            lambda: self.ws.bottlenecks(grain, start, end).to_dicts(),
        )

    def variance(self, **query: Any) -> list[dict]:
        """`ws.variance(**query)` as rows: the bridge, a split of it or a drill's source rows."""
        return self.cache.get(("variance", *sorted(query.items())), lambda: self.ws.variance(**query).to_dicts())

    def kpi_budgets(self, month: dt.date) -> dict:
        """(kpi, month) → (budget version, value) of the money KPIs in `month` (`runs.kpi_budget`)."""

        def build() -> dict:
            from ..runs.kpi_budget import kpi_budgets

            with self.ws.engine_tables() as t:
                return kpi_budgets(t, [month])

        return self.cache.get(("kpi_budgets", month), build)

    def variance_row_money(self, **query: Any) -> dict:
        """A drill's source rows with each row's money (`contribution`), the amount they explain and the part
        no row carries (`opsfin.costing.variance.source_rows_money`, docs/variances.md "Drill-down")."""

        def build() -> dict:
            from ..costing.variance import source_rows_money

            with self.ws.engine_tables() as t:
                money = source_rows_money(t, base_currency=self.ws.settings.base_currency, **query)
            return {"rows": money.rows.to_dicts(), "amount": money.amount, "unplaced": money.unplaced}

        return self.cache.get(("variance_row_money", *sorted(query.items())), build)

    def variance_summary(self, start: str | None = None, end: str | None = None, budget: str | None = None) -> dict:
        """The ends of the bridge: static-budget, flexible-budget and actual gross margin."""
        return self.cache.get(
            ("variance_summary", start, end, budget),
            lambda: self.ws.variance_summary(start, end, budget).to_dicts()[0],
        )

    def unit_economics(
        self,
        by: str | None = None,
        start: str | None = None,
        end: str | None = None,
        scope: str = "product",
    ) -> list[dict]:
        return self.cache.get(
            ("unit_economics", by, start, end, scope),
            lambda: self.ws.unit_economics(by=by, start=start, end=end, scope=scope).to_dicts(),
        )

    def loads(self) -> list[dict]:
        return self.cache.get(("loads",), lambda: load_history(self.ws).to_dicts())

    def quarantine(self, load: str | None = None, table: str | None = None) -> list[dict]:
        """Quarantined rows with their raw record parsed and the site it names (`site`, or None)."""
        from ..ingest import list_quarantine

        def build() -> list[dict]:
            sites = self.site_map()
            out = []
            for r in list_quarantine(self.ws, load_id=load, table=table).to_dicts():
                try:
                    raw = json.loads(r["raw_record"]) if r["raw_record"] else None
                except ValueError:
                    raw = None
                r["raw_record"] = raw if raw is not None else r["raw_record"]
                named = sites.sites_of_record(raw if isinstance(raw, dict) else None)
                r["site"] = next(iter(named)) if named else None
                out.append(r)
            return out

        return self.cache.get(("quarantine", load, table), build)
