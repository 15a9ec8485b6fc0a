"""Sizes of the demo company. `tiny` is for tests, `demo` the default, `large` for benchmarks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    start: dt.date
    months: int
    plants: int
    machines_per_work_center: int
    finished_per_plant: int
    raw_materials: int
    components: int
    customers: int
    suppliers: int
    support_teams: int
    orders_per_day: float  # sales-order arrivals per working day
    lines_per_order: float
    tickets_per_team_day: float
    anomaly_instances: int  # instances of each anomaly kind
    spares_per_plant: int = 2  # finished spare parts per plant, with intermittent demand
    indirect_staff: float = 1.0  # indirect staff (plant, sales, administration) relative to a mid-size company

    @property
    def end(self) -> dt.date:
        y, m = divmod(self.start.month - 1 + self.months, 12)
        return dt.date(self.start.year + y, m + 1, 1) - dt.timedelta(days=1)


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", dt.date(2024, 1, 1), 4, 2, 1, 3, 6, 2, 12, 5, 2, 16, 5.0, 3, 1, 1, 0.7),
    "demo": Scale("demo", dt.date(2023, 1, 1), 36, 3, 5, 8, 20, 6, 300, 16, 4, 90, 3.0, 24, 3),
    "large": Scale("large", dt.date(2021, 1, 1), 60, 12, 32, 8, 40, 8, 2000, 60, 8, 150, 5.0, 40, 3),
}
