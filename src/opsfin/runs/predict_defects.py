"""`opsfin predict defects` on a workspace (docs/predict.md "Quality defects"): read each inspected
operation with what was known when it was done, and call the pure engine (opsfin.predict.defects).

Per inspection of an operation whose work started in [from, to]: its work centre, machine, shift and the
order's product; the supplier of the product's main material (the bill-of-materials component with the
largest qty_per × standard cost) on the last goods receipt of it on or before the work day, that receipt
being the work's lot (the canonical model has no lot numbers), and the lot's defect rate so far (inspections
of work on it inspected before this work began: opsfin.predict.defect_features.with_lot_history); the crew of
that work centre, shift and day in the timesheets and their days since their first timesheet (the newest
one's only among those who joined after the timesheets' first week: for the staff there from the start the
timesheets do not say how long they have been there); the machine's temperature and vibration at full load
(the mean of its hours run at least 55 minutes, in the 7 days up to its last such day before the work: the
sensors compared at one load, so what moves them is the machine's condition) and its days since its last
planned maintenance on the day before; and the cost of a defective unit (the product's standard cost)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

from ..core.periods import parse_day, range_error
from ..errors import UserError
from ..predict.defect_features import with_lot_history, with_machine_condition
from ..predict.defects import defect_drivers
from ..predict.maintenance_features import machine_day_panel
from .predict import read_history

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

INSPECTIONS_SQL = """
WITH main AS (
  SELECT b.product_id, arg_max(b.component_id, b.qty_per * p.std_unit_cost) AS component_id
  FROM bom b JOIN products p ON p.product_id = b.component_id GROUP BY ALL
), lots AS (
  SELECT po.product_id AS component_id, po.supplier_id, g.receipt_id AS lot_id, g.received_date
  FROM goods_receipts g JOIN purchase_orders po ON po.po_id = g.po_id AND po.line = g.line
), firsts AS (
  SELECT employee_id, min(work_date) AS first_day,
         min(work_date) > (SELECT min(work_date) FROM timesheets) + INTERVAL 7 DAY AS joined
  FROM timesheets GROUP BY ALL
), crews AS (
  SELECT t.work_date, t.shift_id, t.work_center_id,
         avg(datediff('day', f.first_day, t.work_date)) AS operator_tenure_days,
         min(datediff('day', f.first_day, t.work_date)) FILTER (WHERE f.joined) AS newest_operator_days
  FROM timesheets t JOIN firsts f USING (employee_id) WHERE t.work_center_id IS NOT NULL GROUP BY ALL
), running AS (  -- the machine's full-load hours: the sensors at the same load, day by day
  SELECT machine_id, CAST(hour_start AS DATE) AS day, avg(temperature_c) AS t, avg(vibration_mm_s) AS v
  FROM machine_readings WHERE run_minutes >= 55 GROUP BY ALL
), condition AS (
  SELECT machine_id, day,
         avg(t) OVER week AS machine_temperature_7d, avg(v) OVER week AS machine_vibration_7d
  FROM running
  WINDOW week AS (PARTITION BY machine_id ORDER BY day RANGE BETWEEN INTERVAL 6 DAY PRECEDING AND CURRENT ROW)
), work AS (
  SELECT q.inspection_id, q.qty_inspected, q.qty_defective, o.work_center_id, o.machine_id, o.shift_id,
         po.product_id, CAST(o.start_at AS DATE) AS work_day, o.start_at AS worked_at,
         q.inspected_at, p.std_unit_cost AS cost_per_defect, m.component_id
  FROM quality_inspections q
  JOIN operations o ON o.operation_id = q.operation_id
  JOIN production_orders po ON po.order_id = o.order_id
  JOIN products p ON p.product_id = po.product_id
  LEFT JOIN main m ON m.product_id = po.product_id
  WHERE q.qty_inspected > 0 AND CAST(o.start_at AS DATE) BETWEEN ? AND ?
)
SELECT w.*, l.supplier_id, l.lot_id, c.operator_tenure_days, c.newest_operator_days, k.machine_temperature_7d,
       k.machine_vibration_7d
FROM work w
ASOF LEFT JOIN lots l ON l.component_id = w.component_id AND w.work_day >= l.received_date
ASOF LEFT JOIN condition k ON k.machine_id = w.machine_id AND w.work_day > k.day
LEFT JOIN crews c ON c.work_date = w.work_day AND c.shift_id = w.shift_id AND c.work_center_id = w.work_center_id
ORDER BY w.inspection_id
"""


def _span(ws: WorkspaceFolder, start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    got = ws.sql("SELECT CAST(min(o.start_at) AS DATE) AS f, CAST(max(o.start_at) AS DATE) AS l FROM operations o")
    first = parse_day(start, "--from") or got["f"][0]
    last = parse_day(end, "--to") or got["l"][0]
    if first is None or last is None:
        raise UserError("the workspace has no operations to learn defect drivers from")
    if first > last:
        raise range_error(first, last)
    return first, last


def read_inspections(ws: WorkspaceFolder, first: dt.date, last: dt.date) -> pl.DataFrame:
    """One row per inspection of an operation started in [first, last], with what was known then."""
    inspections = ws.sql(INSPECTIONS_SQL, [first, last])
    daily, events = read_history(ws, dt.datetime.combine(last, dt.time()))
    if daily.is_empty():
        panel = pl.DataFrame(schema={"machine_id": pl.Utf8, "day": pl.Date, "temperature_7d": pl.Float64,
                                     "vibration_7d": pl.Float64, "days_since_maintenance": pl.Int64})  # fmt: skip
    else:
        panel = machine_day_panel(daily, events, last - dt.timedelta(days=1), 1)
    return with_lot_history(with_machine_condition(inspections, panel))


def predict_defects(ws: WorkspaceFolder, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """`{from, to, inspections, defects, defect_rate, cost_of_defects, drivers}` (opsfin.predict.defects)."""
    first, last = _span(ws, start, end)
    return {"from": first, "to": last, **defect_drivers(read_inspections(ws, first, last))}
