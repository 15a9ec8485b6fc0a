"""The KPI engine (docs/kpis.md): catalog, engine, bottlenecks."""

from .definitions import KPI_BY_ID, KPIS, Kpi
from .engine import Tables, combine, compute
from .sources import DIMENSIONS

__all__ = ["DIMENSIONS", "KPIS", "KPI_BY_ID", "Kpi", "Tables", "combine", "compute"]
