"""Engine results for the web, through the Workspace methods and the result cache.

Nothing here computes a figure: each method calls the engine the CLI calls (`ws.kpi`, `ws.variance`,
`runs.alerts.run_alerts`…) once per warehouse signature and hands out the rows. Site scope is applied by the
callers (queries.py), after the cache, so one cached result serves every user."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from ..core.dimensions import SITE_MAP_TABLES, SiteMap
from ..runs.reads import load_history, months_with_data
from .cache import ResultCache

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import polars as pl

    from ..kpis.batch import Ask


def _missing() -> None:
    raise KeyError("not computed")  # the caller computes the series alone


class Results:
    """Cached engine calls over one workspace."""

    def __init__(self, ws):
        self.ws = ws
        self.cache = ResultCache(ws)

    def warehouse_held(self) -> AbstractContextManager[None]:
        """`runs.tables.warehouse_held` for this workspace: a block of many engine calls on one open database."""
        from ..runs.tables import warehouse_held

        return warehouse_held(self.ws)

    def overview_held(self) -> AbstractContextManager[None]:
        """`warehouse_held` while the overview's alerts are not cached yet; nothing once they are (a warm
        overview reads no warehouse, and opening it would cost each request some 20 ms)."""
        return contextlib.nullcontext() if self.cache.holds(("alerts", None, None)) else self.warehouse_held()

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

    def kpi_series(self, asks: list[Ask]) -> dict[Ask, pl.DataFrame]:
        """The KPI series of `asks` (kpis/batch.py), those not cached yet computed together on one warehouse
        connection, a source read once per grain and split; each kept in the cache. An ask the batch leaves
        out (a dimension its rows lack, a query that fails) is missing: its own call computes it and reports its error."""
        from ..kpis.batch import compute_many

        keys = {a: ("series", a) for a in asks}
        todo = [a for a in asks if not self.cache.holds(keys[a])]
        if todo:
            with self.ws.engine_tables() as t:
                done = compute_many(t, todo, self.catalog())
            for a, frame in done.items():
                self.cache.get(keys[a], lambda frame=frame: frame)
        out = {}
        for a in asks:
            try:
                out[a] = self.cache.get(keys[a], _missing)
            except KeyError:  # left out by the batch, or evicted since
                continue
        return out

    def prefetch_kpis(self, kpis: list[str], where: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> None:
        """Fill the cache entries of `kpi(k, "month", (), where)` for every KPI of `kpis` not cached yet: the
        overview's tiles, in few queries (`kpi_series`), and the KPIs that leaves out on one connection. Each
        entry holds what `ws.kpi([k], …)` returns; a KPI that fails is left out, so its own call reports the error."""
        from ..kpis import combine, compute
        from ..kpis.batch import Ask

        keys = {k: ("kpi", k, "month", (), where, None, None) for k in kpis}
        todo = [k for k in kpis if not self.cache.holds(keys[k])]
        if not todo:
            return
        asks = {k: Ask(k, "month", (), where) for k in todo}
        ready = self.kpi_series(list(asks.values()))
        for k in [k for k in todo if asks[k] in ready]:
            rows = combine([ready[asks[k]]]).to_dicts()
            self.cache.get(keys[k], lambda rows=rows: rows)
        alone = [k for k in todo if asks[k] not in ready]
        if not alone:
            return
        filters = {d: list(v) for d, v in where}
        with self.ws.engine_tables() as t:
            for k in alone:
                try:
                    rows = combine(compute(t, [k], "month", [], filters, catalog=self.catalog())).to_dicts()
                except Exception:  # noqa: BLE001, S112 - the KPI's own call computes it again and reports the error
                    continue
                self.cache.get(keys[k], lambda rows=rows: rows)

    def alert_asks(self, start: str | None = None, end: str | None = None) -> list[Ask]:
        """The KPI series `alerts(start, end)` reads (to compute them with others: `kpi_series`)."""
        from ..runs.alerts import kpi_asks

        return self.cache.get(("alert_asks", start, end), lambda: kpi_asks(self.ws, self.catalog(), start, end))

    def alerts(self, start: str | None = None, end: str | None = None) -> list:
        from ..runs.alerts import run_alerts

        def build() -> list:
            ready = self.kpi_series(self.alert_asks(start, end))
            return run_alerts(self.ws, self.catalog(), start=start, end=end, ready=ready)

        return self.cache.get(("alerts", start, end), build)

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
