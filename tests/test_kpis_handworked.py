"""Every KPI of docs/kpis.md, worked out by hand on a small fixture warehouse.

The fixture is a handful of rows per table, inserted with SQL into a fresh workspace. Each expected
number below is derived in the comments from those rows, so a failure points at one formula, one
dimension path, one dating rule or one FX lookup.

Calendar: 2024-01-01 is a Monday; 2024 is a leap year (February has 29 days).
Base currency EUR. USD rates: 2024-01-01 0.90, 2024-01-10 0.95, 2024-02-01 0.80.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest
import yaml

import opsfin
from opsfin.errors import UserError
from opsfin.kpis import KPIS, compute

D = dt.date
JAN, FEB, MAR = D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1)

FIXTURE_SQL = """
-- ------------------------------------------------------------------ master data
INSERT INTO sites VALUES
  ('P1', 'Plant one', 'plant', 'EU', 0.1500, 'HW'), ('P2', 'Plant two', 'plant', 'EU', 0.1400, 'HW'),
  ('W1', 'Warehouse', 'warehouse', 'EU', 0.1600, 'HW'), ('S1', 'Service centre', 'support', 'EU', 0.1500, 'HW');
INSERT INTO cost_centers VALUES
  ('CC-P1', 'P1', 'Assembly P1', 'production', 'ann', 'HW'),
  ('CC-P2', 'P2', 'Assembly P2', 'production', 'bob', 'HW'),
  ('CC-P1M', 'P1', 'Maintenance P1', 'service', 'cid', 'HW'),
  ('CC-W1', 'W1', 'Warehouse', 'warehouse', 'dan', 'HW'),
  ('CC-S1', 'S1', 'Support desk', 'support', 'eve', 'HW'),
  ('CC-ADM', 'S1', 'Admin', 'admin', 'fay', 'HW');
INSERT INTO work_centers VALUES
  ('WC-A', 'P1', 'CC-P1', 'Line A', 'line', 30, 10, 5, 'HW'),
  ('WC-B', 'P1', 'CC-P1', 'Cell B', 'cell', 30, 10, 5, 'HW'),
  ('WC-C', 'P2', 'CC-P2', 'Line C', 'line', 30, 10, 5, 'HW');
INSERT INTO machines VALUES
  ('M1', 'WC-A', 'Press 1', 30.0, 10.0, 'HW'),
  ('M2', 'WC-B', 'Mill 2', 60.0, 10.0, 'HW'),
  ('M3', 'WC-C', 'Press 3', 20.0, 10.0, 'HW');
-- P1-N crosses midnight: [22:00, 06:00)
INSERT INTO shifts VALUES
  ('P1-D', 'P1', 'Day', '06:00:00', 8.0, 'HW'), ('P1-N', 'P1', 'Night', '22:00:00', 8.0, 'HW'),
  ('P2-D', 'P2', 'Day', '08:00:00', 8.0, 'HW'), ('W1-D', 'W1', 'Day', '06:00:00', 8.0, 'HW'),
  ('S1-D', 'S1', 'Day', '08:00:00', 8.0, 'HW');
INSERT INTO employees VALUES
  ('E1', 'P1', 'CC-P1', 'WC-A', 'operator', 30, 1.5, 'HW'),
  ('E2', 'P1', 'CC-P1', 'WC-B', 'operator', 30, 1.5, 'HW'),
  ('E3', 'P2', 'CC-P2', 'WC-C', 'operator', 30, 1.5, 'HW'),
  ('E4', 'W1', 'CC-W1', NULL, 'picker', 25, 1.5, 'HW'),
  ('E5', 'S1', 'CC-S1', NULL, 'agent', 25, 1.5, 'HW'),
  ('E6', 'P1', 'CC-P1M', NULL, 'technician', 35, 1.5, 'HW');
INSERT INTO products VALUES
  ('FG1', 'Pump', 'pumps', 'finished', 'pc', 100, 50.0000, 'HW'),
  ('FG2', 'Valve', 'valves', 'finished', 'pc', 40, 20.0000, 'HW'),
  ('RM1', 'Steel', 'metal', 'raw', 'kg', 0, 10.0000, 'HW'),
  ('RM2', 'Brass', 'metal', 'raw', 'kg', 0, 4.0000, 'HW');
INSERT INTO suppliers (supplier_id, name, country, currency, payment_terms_days, lead_time_days, _load_id) VALUES ('SUP-EU', 'Euro steel', 'DE', 'EUR', 30, 10, 'HW'),
                             ('SUP-US', 'US metals', 'US', 'USD', 30, 20, 'HW');
INSERT INTO customers VALUES ('C1', 'Alpha', 'retail', 'FR', 'EUR', 30, 100000, 'HW'),
                             ('C2', 'Beta', 'oem', 'US', 'USD', 30, 100000, 'HW');
INSERT INTO accounts VALUES
  ('1000', 'Bank', 'asset', 'cash', 'HW'), ('1100', 'Receivables', 'asset', 'ar', 'HW'),
  ('1200', 'Raw materials', 'asset', 'inventory_raw', 'HW'), ('1210', 'WIP', 'asset', 'inventory_wip', 'HW'),
  ('1220', 'Finished goods', 'asset', 'inventory_fg', 'HW'), ('2000', 'Payables', 'liability', 'ap', 'HW'),
  ('3000', 'Equity', 'equity', 'equity', 'HW'), ('4000', 'Sales', 'revenue', 'revenue', 'HW'),
  ('5000', 'COGS', 'expense', 'cogs', 'HW'), ('5100', 'PPV', 'expense', 'variance_material_price', 'HW'),
  ('5200', 'Scrap variance', 'expense', 'variance_scrap', 'HW'),
  ('6000', 'Maintenance', 'expense', 'maintenance', 'HW'), ('6100', 'Office', 'expense', 'opex', 'HW'),
  ('6200', 'Salaries', 'expense', 'payroll', 'HW'),
  ('6300', 'Stock count', 'expense', 'inventory_adjustment', 'HW'),
  ('7000', 'FX result', 'expense', 'other', 'HW');
INSERT INTO fx_rates VALUES ('2024-01-01', 'USD', 0.90000000, 'HW'), ('2024-01-10', 'USD', 0.95000000, 'HW'),
                            ('2024-02-01', 'USD', 0.80000000, 'HW');

-- ------------------------------------------------------------------ machine readings (hourly)
-- machine, hour_start, planned, run, units_total, units_good, kwh, temperature, vibration
INSERT INTO machine_readings VALUES
  ('M1', '2024-01-15 06:00:00', 60, 50,  90,  85,  9.0, 40, 1, 'HW'),  -- r1 P1-D (start boundary)
  ('M1', '2024-01-15 22:00:00', 60, 60, 100, 100, 10.0, 40, 1, 'HW'),  -- r2 P1-N (start boundary)
  ('M1', '2024-01-16 03:00:00', 60, 40,  60,  54,  7.0, 40, 1, 'HW'),  -- r3 P1-N (after midnight)
  ('M1', '2024-01-16 14:00:00',  0,  0,   0,   0,  0.5, 40, 1, 'HW'),  -- r4 no shift (P1-D ends 14:00)
  ('M1', '2024-02-05 10:00:00', 60, 30,  50,  40,  6.0, 40, 1, 'HW'),  -- r5 P1-D, February
  ('M2', '2024-01-15 08:00:00', 60, 45,  40,  38, 12.0, 40, 1, 'HW'),  -- r6 P1-D
  ('M2', '2024-01-21 05:00:00', 30, 30,  25,  25,  5.0, 40, 1, 'HW'),  -- r7 P1-N, a Sunday
  ('M3', '2024-01-10 09:00:00', 60, 60, 150, 140, 20.0, 40, 1, 'HW'),  -- r8 P2-D
  ('M3', '2024-03-01 10:00:00',  0,  0,   0,   0,  1.0, 40, 1, 'HW');  -- r9 P2, March: all zero

-- ------------------------------------------------------------------ production
INSERT INTO production_orders VALUES
  ('O1', 'P1', 'FG1', 100, '2024-01-02', '2024-02-01', '2024-01-14 00:00:00', NULL, NULL, 'released', 'HW'),
  ('O2', 'P1', 'FG2',  60, '2024-01-02', '2024-02-01', '2024-01-19 00:00:00', NULL, NULL, 'released', 'HW'),
  ('O3', 'P2', 'FG1', 250, '2024-01-02', '2024-02-01', '2024-01-09 00:00:00', NULL, NULL, 'released', 'HW');
-- id, order, step, wc, machine, shift, start, end, setup, run, labor, good, scrap, wait
INSERT INTO operations VALUES
  ('OP1', 'O1', 1, 'WC-A', 'M1', 'P1-D', '2024-01-15 06:00:00', '2024-01-15 10:00:00', 10, 200, 210,  95,  5, 30, 'HW'),
  ('OP2', 'O1', 2, 'WC-B', 'M2', 'P1-N', '2024-01-31 22:00:00', '2024-02-01 04:00:00',  5, 300, 300,  90, 10, 60, 'HW'),
  ('OP3', 'O2', 1, 'WC-B', 'M2', 'P1-D', '2024-01-20 06:00:00', '2024-01-20 12:00:00',  0, 120, 120,  60,  0, 90, 'HW'),
  ('OP4', 'O3', 1, 'WC-C', 'M3', 'P2-D', '2024-01-10 08:00:00', '2024-01-10 14:00:00', 20, 240, 260, 200, 50, 10, 'HW');
INSERT INTO quality_inspections VALUES
  ('QI1', 'O1', 'OP1', '2024-01-15 11:00:00', 100,  4, 'D1', 'HW'),
  ('QI2', 'O3', 'OP4', '2024-01-10 15:00:00', 250, 15, 'D2', 'HW'),
  ('QI3', 'O2', NULL,  '2024-02-02 09:00:00',  50,  5, 'D1', 'HW');
INSERT INTO inventory_movements VALUES
  ('IM1', '2024-01-15 12:00:00', 'P1', 'FG1',   95, 50, 'production', 'O1', 'HW'),
  ('IM2', '2024-01-20 13:00:00', 'P1', 'FG2',   60, 20, 'production', 'O2', 'HW'),
  ('IM3', '2024-01-10 15:00:00', 'P2', 'FG1',  200, 50, 'production', 'O3', 'HW'),
  ('IM4', '2024-02-01 05:00:00', 'P1', 'FG1',   90, 50, 'production', 'O1', 'HW'),
  ('IM5', '2024-01-12 09:00:00', 'P1', 'RM1',  500, 10, 'receipt', 'GR1', 'HW'),
  ('IM6', '2024-01-15 06:00:00', 'P1', 'RM1', -100, 10, 'issue', 'O1', 'HW'),
  ('IM7', '2024-01-25 10:00:00', 'W1', 'FG1',  -30, 50, 'shipment', 'SH1', 'HW');
INSERT INTO maintenance_events VALUES
  ('ME1', 'M1', 'breakdown', '2024-01-31 20:00:00', '2024-02-01 02:00:00', 150.10, 6, 'HW'),
  ('ME2', 'M2', 'planned',   '2024-01-10 08:00:00', '2024-01-10 12:00:00',  80.20, 4, 'HW'),
  ('ME3', 'M3', 'breakdown', '2024-01-22 10:00:00', '2024-01-22 11:00:00',  19.95, 1, 'HW');

-- ------------------------------------------------------------------ people
-- id, employee, work_date, shift, work_center, cost_center, activity, regular, overtime
INSERT INTO timesheets VALUES
  ('T1', 'E1', '2024-01-15', 'P1-D', 'WC-A', 'CC-P1',  NULL, 8, 2, 'HW'),
  ('T2', 'E2', '2024-01-15', 'P1-N', 'WC-B', 'CC-P1',  NULL, 8, 0, 'HW'),
  ('T3', 'E3', '2024-01-10', 'P2-D', 'WC-C', 'CC-P2',  NULL, 8, 1, 'HW'),
  ('T4', 'E4', '2024-01-31', 'W1-D', NULL,   'CC-W1',  NULL, 8, 4, 'HW'),
  ('T5', 'E5', '2024-01-16', 'S1-D', NULL,   'CC-S1',  NULL, 8, 0, 'HW'),
  ('T6', 'E5', '2024-01-17', 'S1-D', NULL,   'CC-S1',  NULL, 6, 0, 'HW'),
  ('T7', 'E6', '2024-01-15', 'P1-D', NULL,   'CC-P1M', NULL, 7, 1, 'HW'),
  ('T8', 'E1', '2024-02-05', 'P1-D', 'WC-A', 'CC-P1',  NULL, 8, 0, 'HW');
INSERT INTO support_tickets VALUES
  ('TK1', 'CC-S1', 'C1', '2024-01-14 10:00:00', '2024-01-16 09:00:00', 120, 4,    'HW'),
  ('TK2', 'CC-S1', 'C2', '2024-01-30 10:00:00', '2024-02-01 10:00:00',  60, 2,    'HW'),
  ('TK3', 'CC-S1', NULL, '2024-01-17 09:00:00', '2024-01-17 15:00:00', 180, NULL, 'HW'),
  ('TK4', 'CC-S1', 'C1', '2024-01-20 09:00:00', NULL,                   45, NULL, 'HW'),
  ('TK5', 'CC-S1', 'C2', '2024-01-05 09:00:00', '2024-01-31 23:30:00', 300, 5,    'HW');
INSERT INTO warehouse_tasks VALUES
  ('WT1', 'W1', 'E4', 'pick', '2024-01-31 10:00:00', '2024-01-31 11:30:00', 'SO1', 30, 100, 'HW'),
  ('WT2', 'W1', 'E4', 'pick', '2024-01-31 23:00:00', '2024-02-01 00:30:00', 'SO2', 15,  40, 'HW'),
  ('WT3', 'W1', 'E4', 'pack', '2024-01-31 12:00:00', '2024-01-31 14:00:00', 'SO1', 50, 100, 'HW'),
  ('WT4', 'W1', 'E4', 'pick', '2024-01-10 08:00:00', '2024-01-10 08:30:00', 'SO3', 12,  30, 'HW');

-- ------------------------------------------------------------------ sales
INSERT INTO sales_orders VALUES
  ('SO1', 1, 'C1', 'W1', 'FG1', 10, 100.0000, 'EUR', '2024-01-05', '2024-01-20', 'HW'),
  ('SO1', 2, 'C1', 'W1', 'FG2', 20,  40.0000, 'EUR', '2024-01-05', '2024-01-20', 'HW'),
  ('SO2', 1, 'C2', 'W1', 'FG1',  5, 120.0000, 'USD', '2024-01-06', '2024-01-25', 'HW'),
  ('SO3', 1, 'C1', 'P2', 'FG1',  8, 100.0000, 'EUR', '2024-01-07', '2024-02-10', 'HW');
INSERT INTO shipments VALUES
  ('SH1', 'SO1', 1, 10, '2024-01-20', 'HW'),  -- on the promised day: on time
  ('SH2', 'SO1', 2, 15, '2024-01-18', 'HW'),  -- early: on time
  ('SH3', 'SO1', 2,  5, '2024-01-22', 'HW'),  -- late
  ('SH4', 'SO2', 1,  5, '2024-01-26', 'HW'),  -- late
  ('SH5', 'SO3', 1,  8, '2024-02-09', 'HW');  -- on time
INSERT INTO ar_invoices (invoice_id, customer_id, so_id, kind, invoice_date, due_date, currency, tax_amount, total, _load_id) VALUES
  ('INV1', 'C1', 'SO1', 'invoice', '2024-01-20', '2024-02-19', 'EUR', 0, 1000.00, 'HW'),
  ('INV2', 'C1', 'SO1', 'invoice', '2024-01-18', '2024-02-17', 'EUR', 0,  800.00, 'HW'),
  ('INV3', 'C2', 'SO2', 'invoice', '2024-01-26', '2024-02-25', 'USD', 0,  600.00, 'HW');
INSERT INTO ar_receipts VALUES
  ('RC1', 'C1', '2024-02-04', 1000.00, 'EUR', 'INV1', 'HW'),
  ('RC2', 'C1', '2024-02-07',  600.00, 'EUR', 'INV2', 'HW'),
  ('RC3', 'C2', '2024-02-05',  600.00, 'USD', 'INV3', 'HW'),
  ('RC4', 'C1', '2024-01-28',  200.00, 'EUR', 'INV2', 'HW');
INSERT INTO ar_receipt_allocations VALUES
  ('RC1', 'INV1', 1000.00, 'HW'), ('RC2', 'INV2', 600.00, 'HW'), ('RC3', 'INV3', 600.00, 'HW'),
  ('RC4', 'INV2', 200.00, 'HW');

-- ------------------------------------------------------------------ purchasing
INSERT INTO purchase_orders VALUES
  ('PO1', 1, 'SUP-EU', 'P1', 'RM1', 100, 11.0000, 'EUR', '2024-01-02', '2024-01-12', 'HW'),
  ('PO2', 1, 'SUP-US', 'P1', 'RM2', 200,  5.0000, 'USD', '2024-01-03', '2024-01-15', 'HW'),
  ('PO2', 2, 'SUP-US', 'P2', 'RM1',  50, 10.0000, 'USD', '2024-01-03', '2024-01-20', 'HW');
INSERT INTO goods_receipts VALUES
  ('GR1', 'PO1', 1, 100, '2024-01-12', 'HW'),  -- EUR, on the expected day
  ('GR2', 'PO2', 1, 150, '2024-01-10', 'HW'),  -- USD rate of 2024-01-10 itself (0.95), on time
  ('GR3', 'PO2', 1,  50, '2024-01-20', 'HW'),  -- USD latest earlier rate 2024-01-10 (0.95), late
  ('GR5', 'PO2', 2,  20, '2024-01-09', 'HW'),  -- USD latest earlier rate 2024-01-01 (0.90), on time
  ('GR4', 'PO2', 2,  30, '2024-02-03', 'HW');  -- USD latest earlier rate 2024-02-01 (0.80), late

-- ------------------------------------------------------------------ general ledger (base currency)
INSERT INTO gl_entries VALUES
  -- J0 opening balances
  ('E01', 'J0', '2023-12-31', '1100', NULL,  1000.00, 'EUR', 'x', 'x', 'HW'),
  ('E02', 'J0', '2023-12-31', '1200', NULL,  2000.00, 'EUR', 'x', 'x', 'HW'),
  ('E03', 'J0', '2023-12-31', '1220', NULL,  1000.00, 'EUR', 'x', 'x', 'HW'),
  ('E04', 'J0', '2023-12-31', '2000', NULL, -1500.00, 'EUR', 'x', 'x', 'HW'),
  ('E05', 'J0', '2023-12-31', '3000', NULL, -2500.00, 'EUR', 'x', 'x', 'HW'),
  -- J1..J3 shipments: revenue and cogs
  ('E06', 'J1', '2024-01-20', '1100', NULL,  1600.10, 'EUR', 'x', 'x', 'HW'),
  ('E07', 'J1', '2024-01-20', '4000', NULL, -1600.10, 'EUR', 'x', 'x', 'HW'),
  ('E08', 'J1', '2024-01-20', '5000', NULL,   800.00, 'EUR', 'x', 'x', 'HW'),
  ('E09', 'J1', '2024-01-20', '1220', NULL,  -800.00, 'EUR', 'x', 'x', 'HW'),
  ('E10', 'J2', '2024-01-22', '1100', NULL,   200.20, 'EUR', 'x', 'x', 'HW'),
  ('E11', 'J2', '2024-01-22', '4000', NULL,  -200.20, 'EUR', 'x', 'x', 'HW'),
  ('E12', 'J2', '2024-01-22', '5000', NULL,   100.00, 'EUR', 'x', 'x', 'HW'),
  ('E13', 'J2', '2024-01-22', '1220', NULL,  -100.00, 'EUR', 'x', 'x', 'HW'),
  ('E14', 'J3', '2024-01-26', '1100', NULL,   570.33, 'EUR', 'x', 'x', 'HW'),
  ('E15', 'J3', '2024-01-26', '4000', NULL,  -570.33, 'EUR', 'x', 'x', 'HW'),
  ('E16', 'J3', '2024-01-26', '5000', NULL,   250.00, 'EUR', 'x', 'x', 'HW'),
  ('E17', 'J3', '2024-01-26', '1220', NULL,  -250.00, 'EUR', 'x', 'x', 'HW'),
  -- J4, J5 goods receipts at standard with PPV
  ('E18', 'J4', '2024-01-12', '1200', NULL,  1000.00, 'EUR', 'x', 'x', 'HW'),
  ('E19', 'J4', '2024-01-12', '5100', NULL,   100.00, 'EUR', 'x', 'x', 'HW'),
  ('E20', 'J4', '2024-01-12', '2000', NULL, -1100.00, 'EUR', 'x', 'x', 'HW'),
  ('E21', 'J5', '2024-01-10', '1200', NULL,   600.00, 'EUR', 'x', 'x', 'HW'),
  ('E22', 'J5', '2024-01-10', '5100', NULL,   112.50, 'EUR', 'x', 'x', 'HW'),
  ('E23', 'J5', '2024-01-10', '2000', NULL,  -712.50, 'EUR', 'x', 'x', 'HW'),
  -- J6 customer receipt
  ('E24', 'J6', '2024-01-28', '1000', NULL,   200.00, 'EUR', 'x', 'x', 'HW'),
  ('E25', 'J6', '2024-01-28', '1100', NULL,  -200.00, 'EUR', 'x', 'x', 'HW'),
  -- J7 maintenance invoice: one line on a cost centre, one without
  ('E26', 'J7', '2024-01-31', '6000', 'CC-P1M', 350.25, 'EUR', 'x', 'x', 'HW'),
  ('E27', 'J7', '2024-01-31', '6000', NULL,      49.75, 'EUR', 'x', 'x', 'HW'),
  ('E28', 'J7', '2024-01-31', '2000', NULL,    -400.00, 'EUR', 'x', 'x', 'HW'),
  -- J8 other expenses
  ('E29', 'J8', '2024-01-31', '6100', 'CC-ADM', 1000.05, 'EUR', 'x', 'x', 'HW'),
  ('E30', 'J8', '2024-01-31', '6200', 'CC-P1',  2500.00, 'EUR', 'x', 'x', 'HW'),
  ('E31', 'J8', '2024-01-31', '6300', NULL,       10.10, 'EUR', 'x', 'x', 'HW'),
  ('E32', 'J8', '2024-01-31', '1000', NULL,    -3510.15, 'EUR', 'x', 'x', 'HW'),
  -- J9 scrap variance
  ('E33', 'J9', '2024-01-31', '5200', 'CC-P1',    55.55, 'EUR', 'x', 'x', 'HW'),
  ('E34', 'J9', '2024-01-31', '1200', NULL,      -55.55, 'EUR', 'x', 'x', 'HW'),
  -- February
  ('E35', 'J10', '2024-02-09', '1100', NULL,   800.00, 'EUR', 'x', 'x', 'HW'),
  ('E36', 'J10', '2024-02-09', '4000', NULL,  -800.00, 'EUR', 'x', 'x', 'HW'),
  ('E37', 'J10', '2024-02-09', '5000', NULL,   400.00, 'EUR', 'x', 'x', 'HW'),
  ('E38', 'J10', '2024-02-09', '1220', NULL,  -400.00, 'EUR', 'x', 'x', 'HW'),
  ('E39', 'J11', '2024-02-04', '1000', NULL,  1000.00, 'EUR', 'x', 'x', 'HW'),
  ('E40', 'J11', '2024-02-04', '1100', NULL, -1000.00, 'EUR', 'x', 'x', 'HW'),
  ('E41', 'J12', '2024-02-07', '1000', NULL,   600.00, 'EUR', 'x', 'x', 'HW'),
  ('E42', 'J12', '2024-02-07', '1100', NULL,  -600.00, 'EUR', 'x', 'x', 'HW'),
  ('E43', 'J13', '2024-02-05', '1000', NULL,   480.00, 'EUR', 'x', 'x', 'HW'),
  ('E44', 'J13', '2024-02-05', '7000', NULL,    90.33, 'EUR', 'x', 'x', 'HW'),
  ('E45', 'J13', '2024-02-05', '1100', NULL,  -570.33, 'EUR', 'x', 'x', 'HW'),
  ('E46', 'J14', '2024-02-15', '6000', 'CC-P1M', 120.00, 'EUR', 'x', 'x', 'HW'),
  ('E47', 'J14', '2024-02-15', '1000', NULL,    -120.00, 'EUR', 'x', 'x', 'HW'),
  ('E48', 'J15', '2024-02-03', '1200', NULL,   300.00, 'EUR', 'x', 'x', 'HW'),
  ('E49', 'J15', '2024-02-03', '5100', NULL,   -60.00, 'EUR', 'x', 'x', 'HW'),
  ('E50', 'J15', '2024-02-03', '2000', NULL,  -240.00, 'EUR', 'x', 'x', 'HW'),
  -- March
  ('E51', 'J16', '2024-03-15', '6000', 'CC-P1M',  30.00, 'EUR', 'x', 'x', 'HW'),
  ('E52', 'J16', '2024-03-15', '1000', NULL,     -30.00, 'EUR', 'x', 'x', 'HW');
"""


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    w = opsfin.init(tmp_path_factory.mktemp("handworked") / "ws")
    with w.connect() as con:
        con.execute(FIXTURE_SQL)
    return opsfin.open(w.path)


_OPENED: dict[str, tuple] = {}


def run(ws, kpi, grain="month", by=None, where=None, start=None, end=None):
    if str(ws.path) not in _OPENED:  # one connection and catalog per workspace
        _OPENED[str(ws.path)] = (ws.kpi_tables(), ws.kpi_catalog())
    tables, catalog = _OPENED[str(ws.path)]
    (frame,) = compute(tables, [kpi], grain, by, where, start, end, catalog=catalog)
    assert frame.columns == [
        "period_start",
        *(by or []),
        "kpi",
        "value",
        "numerator",
        "denominator",
    ]
    return frame.to_dicts()


def pick(rows, period, **dims):
    hits = [r for r in rows if r["period_start"] == period and all(r[k] == v for k, v in dims.items())]
    assert len(hits) == 1, f"expected one row for {period} {dims}, got {hits} in {rows}"
    return hits[0]


def close(got, want):
    if want is None:
        return got is None
    if isinstance(want, Decimal):
        return isinstance(got, Decimal) and got == want
    return got == pytest.approx(want, rel=1e-12, abs=1e-12)


# Each case: (kpi, options, period_start, dims, numerator, denominator, value).
# `None` denominator for sums; value None = zero denominator.
CASES = [
    # ----------------------------------------------------------------- machine_readings, January
    # Jan company: Σplanned = 60+60+60+0+60+30+60 = 330; Σrun = 50+60+40+0+45+30+60 = 285
    ("availability", {}, JAN, {}, 285, 330, 285 / 330),
    # r9 (March) has planned 0: a row with a null value
    ("availability", {"by": ["site"]}, MAR, {"site": "P2"}, 0, 0, None),
    # Σ ideal·total: M1 30·(90+100+60+0) = 7500, M2 60·(40+25) = 3900, M3 20·150 = 3000 → 14400;
    # Σ run·60 = 285·60 = 17100
    ("performance", {}, JAN, {}, 14400, 17100, 14400 / 17100),
    # P2 Jan: r8 only: 3000 / 3600
    ("performance", {"by": ["site"]}, JAN, {"site": "P2"}, 3000, 3600, 3000 / 3600),
    # Σgood = 85+100+54+0+38+25+140 = 442; Σtotal = 90+100+60+0+40+25+150 = 465
    ("quality_rate", {}, JAN, {}, 442, 465, 442 / 465),
    ("quality_rate", {"by": ["machine"]}, JAN, {"machine": "M1"}, 239, 250, 239 / 250),
    # Σ ideal·good: M1 30·239 = 7170, M2 60·63 = 3780, M3 20·140 = 2800 → 13750; Σ planned·60 = 19800
    ("oee", {}, JAN, {}, 13750, 19800, 13750 / 19800),
    # P1: 7170 + 3780 = 10950 over (60+60+60+0+60+30)·60 = 16200; P2: 2800 / 3600
    ("oee", {"by": ["site"]}, JAN, {"site": "P1"}, 10950, 16200, 10950 / 16200),
    ("oee", {"by": ["site"]}, JAN, {"site": "P2"}, 2800, 3600, 2800 / 3600),
    # February: r5 only: 30·40 / 3600
    ("oee", {}, FEB, {}, 1200, 3600, 1200 / 3600),
    ("capacity_utilization", {}, JAN, {}, 14400, 19800, 14400 / 19800),
    # WC-A (M1): 7500 / (180·60); WC-B (M2): 3900 / (90·60)
    (
        "capacity_utilization",
        {"by": ["work_center"]},
        JAN,
        {"work_center": "WC-A"},
        7500,
        10800,
        7500 / 10800,
    ),
    (
        "capacity_utilization",
        {"by": ["work_center"]},
        JAN,
        {"work_center": "WC-B"},
        3900,
        5400,
        3900 / 5400,
    ),
    # Σkwh = 9+10+7+0.5+12+5+20 = 63.5 over Σgood 442
    ("energy_per_unit", {}, JAN, {}, 63.5, 442, 63.5 / 442),
    ("energy_per_unit", {"by": ["machine"]}, JAN, {"machine": "M1"}, 26.5, 239, 26.5 / 239),
    ("energy_per_unit", {"by": ["machine"]}, JAN, {"machine": "M3"}, 20, 140, 20 / 140),
    ("energy_per_unit", {"by": ["machine"]}, MAR, {"machine": "M3"}, 1, 0, None),
    # ----------------------------------------------------------------- operations (dated by end_at)
    # Jan: OP1, OP3, OP4 (OP2 ends 2024-02-01 04:00: February). Σgood = 95+60+200 = 355, Σrun = 560
    ("throughput_per_hour", {}, JAN, {}, 355, 560, 355 / 560 * 60),
    ("throughput_per_hour", {}, FEB, {}, 90, 300, 18.0),
    ("throughput_per_hour", {"by": ["work_center"]}, JAN, {"work_center": "WC-C"}, 200, 240, 50.0),
    # Jan scrap: (5+0+50) / (100+60+250)
    ("scrap_rate", {}, JAN, {}, 55, 410, 55 / 410),
    ("scrap_rate", {}, FEB, {}, 10, 100, 0.1),
    # family via order → product: pumps = OP1 + OP4 = 55/350; valves = OP3 = 0/60
    ("scrap_rate", {"by": ["family"]}, JAN, {"family": "pumps"}, 55, 350, 55 / 350),
    ("scrap_rate", {"by": ["family"]}, JAN, {"family": "valves"}, 0, 60, 0.0),
    # ----------------------------------------------------------------- quality inspections
    # Jan: QI1 (100, 4) + QI2 (250, 15): (350 − 19) / 350
    ("first_pass_yield", {}, JAN, {}, 331, 350, 331 / 350),
    ("first_pass_yield", {"by": ["site"]}, JAN, {"site": "P2"}, 235, 250, 0.94),
    ("first_pass_yield", {}, FEB, {}, 45, 50, 0.9),
    # ----------------------------------------------------------------- production output
    # IM1 95 + IM2 60 + IM3 200 (kind 'production'; receipts, issues and shipments are not output)
    ("output_units", {}, JAN, {}, 355, None, 355),
    ("output_units", {"by": ["site"]}, JAN, {"site": "P1"}, 155, None, 155),
    ("output_units", {"by": ["family"]}, JAN, {"family": "pumps"}, 295, None, 295),
    ("output_units", {}, FEB, {}, 90, None, 90),
    # ----------------------------------------------------------------- timesheets
    # production timesheets Jan: T1 10 h + T2 8 h (P1), T3 9 h (P2). T7 (service cost centre) is not one.
    ("labor_productivity", {}, JAN, {}, 355, 27, 355 / 27),
    ("labor_productivity", {"by": ["site"]}, JAN, {"site": "P1"}, 155, 18, 155 / 18),
    ("labor_productivity", {"by": ["site"]}, JAN, {"site": "P2"}, 200, 9, 200 / 9),
    ("labor_productivity", {"by": ["site"]}, FEB, {"site": "P1"}, 90, 8, 11.25),
    # machine load: setup + run minutes of the operations ended in the month over those paid minutes. Jan:
    # OP1 10+200 (WC-A), OP3 0+120 (WC-B), OP4 20+240 (WC-C) = 590 over (10 + 8 + 9) h × 60 = 1620
    ("machine_load", {}, JAN, {}, 590, 1620, 590 / 1620),
    ("machine_load", {"by": ["work_center"]}, JAN, {"work_center": "WC-A"}, 210, 600, 0.35),
    ("machine_load", {"by": ["site"]}, JAN, {"site": "P2"}, 260, 540, 260 / 540),
    # Feb: OP2 (WC-B, ended 1 Feb) 5+300 over T8's 8 h at WC-A: the company ratio mixes work centres
    ("machine_load", {}, FEB, {}, 305, 480, 305 / 480),
    # Jan overtime: 2+0+1+4+0+0+1 = 8 over 10+8+9+12+8+6+8 = 61
    ("overtime_share", {}, JAN, {}, 8, 61, 8 / 61),
    ("overtime_share", {"by": ["site"]}, JAN, {"site": "P1"}, 3, 26, 3 / 26),
    ("overtime_share", {"by": ["site"]}, JAN, {"site": "W1"}, 4, 12, 4 / 12),
    ("overtime_share", {"by": ["site"]}, JAN, {"site": "S1"}, 0, 14, 0.0),
    ("overtime_share", {"by": ["cost_center"]}, JAN, {"cost_center": "CC-P1"}, 2, 18, 2 / 18),
    ("overtime_share", {"where": {"site": ["P1", "P2"]}}, JAN, {}, 4, 35, 4 / 35),
    # ----------------------------------------------------------------- support tickets (dated by closed_at)
    # Jan closed: TK1 120 + TK3 180 + TK5 300 = 600 min; TK4 is open (counts nowhere), TK2 closes in Feb.
    # CC-S1 timesheets Jan: T5 8 h + T6 6 h = 14 h = 840 min
    ("support_utilization", {}, JAN, {}, 600, 840, 600 / 840),
    (
        "support_utilization",
        {"by": ["cost_center"]},
        JAN,
        {"cost_center": "CC-S1"},
        600,
        840,
        600 / 840,
    ),
    # Feb: TK2 60 min, no support timesheets: zero denominator
    ("support_utilization", {"by": ["site"]}, FEB, {"site": "S1"}, 60, 0, None),
    # csat Jan: TK1 4, TK5 5 (TK3 has none) → 4.5
    ("csat", {}, JAN, {}, 9, 2, 4.5),
    ("csat", {}, FEB, {}, 2, 1, 2.0),
    ("csat", {"by": ["customer"]}, JAN, {"customer": "C2"}, 5, 1, 5.0),
    # ----------------------------------------------------------------- warehouse tasks (dated by finished_at)
    # Jan picks: WT1 30 lines in 1.5 h, WT4 12 lines in 0.5 h → 42 / 2; WT3 is a pack task.
    ("picks_per_hour", {}, JAN, {}, 42, 2, 21.0),
    ("picks_per_hour", {"by": ["site"]}, FEB, {"site": "W1"}, 15, 1.5, 10.0),
    # ----------------------------------------------------------------- shipments
    # Jan: on time SH1 10 + SH2 15 = 25 of 35
    ("on_time_delivery", {}, JAN, {}, 25, 35, 25 / 35),
    ("on_time_delivery", {"by": ["customer"]}, JAN, {"customer": "C2"}, 0, 5, 0.0),
    ("on_time_delivery", {"by": ["product"]}, JAN, {"product": "FG2"}, 15, 20, 0.75),
    ("on_time_delivery", {"by": ["site"]}, FEB, {"site": "P2"}, 8, 8, 1.0),
    # ----------------------------------------------------------------- maintenance events (dated by end_at)
    # Jan: ME2 80.20 + ME3 19.95; ME1 ends 2024-02-01
    ("maintenance_parts_cost", {}, JAN, {}, Decimal("100.15"), None, Decimal("100.15")),
    ("maintenance_parts_cost", {}, FEB, {}, Decimal("150.10"), None, Decimal("150.10")),
    (
        "maintenance_parts_cost",
        {"by": ["machine"]},
        JAN,
        {"machine": "M2"},
        Decimal("80.20"),
        None,
        Decimal("80.20"),
    ),
    (
        "maintenance_parts_cost",
        {"by": ["site"]},
        JAN,
        {"site": "P2"},
        Decimal("19.95"),
        None,
        Decimal("19.95"),
    ),
    # ----------------------------------------------------------------- goods receipts
    # Jan on time: GR1 100 + GR2 150 + GR5 20 = 270 of 320 (GR3 50 late)
    ("supplier_on_time", {}, JAN, {}, 270, 320, 270 / 320),
    ("supplier_on_time", {"by": ["supplier"]}, JAN, {"supplier": "SUP-US"}, 170, 220, 170 / 220),
    ("supplier_on_time", {}, FEB, {}, 0, 30, 0.0),
    # ppv Jan: GR1 (11 − 10)·100 = 100; GR2 (5·0.95 − 4)·150 = 112.5; GR3 (5·0.95 − 4)·50 = 37.5;
    # GR5 (10·0.90 − 10)·20 = −20 → 230 over std 1000 + 600 + 200 + 200 = 2000
    ("ppv_rate", {}, JAN, {}, 230, 2000, 0.115),
    ("ppv_rate", {"by": ["supplier"]}, JAN, {"supplier": "SUP-US"}, 130, 1000, 0.13),
    ("ppv_rate", {"by": ["product"]}, JAN, {"product": "RM1"}, 80, 1200, 80 / 1200),
    # Feb: GR4 (10·0.80 − 10)·30 = −60 over 300
    ("ppv_rate", {}, FEB, {}, -60, 300, -0.2),
    # ----------------------------------------------------------------- receipt allocations (dated by received_date)
    # Jan: RC4 200 EUR, INV2 of 01-18 received 01-28: 10 days
    ("days_to_pay", {}, JAN, {}, 2000, 200, 10.0),
    # Feb: RC1 1000 × 15 d + RC2 600 × 20 d + RC3 600 USD × 0.80 (rate of 02-01) = 480 × 10 d
    ("days_to_pay", {}, FEB, {}, 31800, 2080, 31800 / 2080),
    ("days_to_pay", {"by": ["customer"]}, FEB, {"customer": "C1"}, 27000, 1600, 16.875),
    ("days_to_pay", {"by": ["customer"]}, FEB, {"customer": "C2"}, 4800, 480, 10.0),
    # ----------------------------------------------------------------- general ledger, exact money
    # revenue Jan = 1600.10 + 200.20 + 570.33
    ("revenue", {}, JAN, {}, Decimal("2370.63"), None, Decimal("2370.63")),
    ("revenue", {}, FEB, {}, Decimal("800.00"), None, Decimal("800.00")),
    # cogs Jan = cogs 800 + 100 + 250, PPV 100 + 112.50, scrap 55.55
    ("cogs", {}, JAN, {}, Decimal("1418.05"), None, Decimal("1418.05")),
    ("cogs", {}, FEB, {}, Decimal("340.00"), None, Decimal("340.00")),
    (
        "cogs",
        {"by": ["cost_center"]},
        JAN,
        {"cost_center": "CC-P1"},
        Decimal("55.55"),
        None,
        Decimal("55.55"),
    ),
    ("gross_margin", {}, JAN, {}, Decimal("952.58"), None, Decimal("952.58")),
    ("gross_margin", {}, FEB, {}, Decimal("460.00"), None, Decimal("460.00")),
    # opex Jan = maintenance 350.25 + 49.75, office 1000.05, payroll 2500.00, stock count 10.10
    ("opex", {}, JAN, {}, Decimal("3910.15"), None, Decimal("3910.15")),
    # Feb = FX result (type expense, role other) 90.33 + maintenance 120.00
    ("opex", {}, FEB, {}, Decimal("210.33"), None, Decimal("210.33")),
    # by site, rows without a cost centre (49.75, 10.10) drop out: P1 = 350.25 + 2500.00, S1 = 1000.05
    ("opex", {"by": ["site"]}, JAN, {"site": "P1"}, Decimal("2850.25"), None, Decimal("2850.25")),
    ("opex", {"by": ["site"]}, JAN, {"site": "S1"}, Decimal("1000.05"), None, Decimal("1000.05")),
    ("maintenance_cost", {}, JAN, {}, Decimal("400.00"), None, Decimal("400.00")),
    (
        "maintenance_cost",
        {"by": ["site"]},
        JAN,
        {"site": "P1"},
        Decimal("350.25"),
        None,
        Decimal("350.25"),
    ),
    (
        "maintenance_cost",
        {"by": ["cost_center"]},
        JAN,
        {"cost_center": "CC-P1M"},
        Decimal("350.25"),
        None,
        Decimal("350.25"),
    ),
    # ----------------------------------------------------------------- working capital, January (d = 31)
    # AR: 1000.00 at 2023-12-31; at 01-31: 1000 + 1600.10 + 200.20 + 570.33 − 200 = 3170.63 → avg 2085.315
    ("dso", {}, JAN, {}, 2085.315 * 31, 2370.63, 2085.315 * 31 / 2370.63),  # 27.2690
    # inventory: 3000.00 at 12-31; at 01-31: 3000 − 800 − 100 − 250 + 1000 + 600 − 55.55 = 3394.45
    # → avg 3197.225; cogs 1418.05
    ("dio", {}, JAN, {}, 3197.225 * 31, 1418.05, 3197.225 * 31 / 1418.05),  # 69.8946
    # AP (−balance): 1500.00 at 12-31; at 01-31: 1500 + 1100 + 712.50 + 400 = 3712.50 → avg 2606.25
    ("dpo", {}, JAN, {}, 2606.25 * 31, 1418.05, 2606.25 * 31 / 1418.05),  # 56.9752
    (
        "ccc",
        {},
        JAN,
        {},
        None,
        None,
        2085.315 * 31 / 2370.63 + 3197.225 * 31 / 1418.05 - 2606.25 * 31 / 1418.05,
    ),  # 40.1883
    (
        "inventory_turns",
        {},
        JAN,
        {},
        1418.05 * 365,
        3197.225 * 31,
        1418.05 * 365 / (3197.225 * 31),
    ),  # 5.2222
    # February (d = 29): AR at 02-29 = 3170.63 + 800 − 1000 − 600 − 570.33 = 1800.30; revenue 800
    ("dso", {}, FEB, {}, (3170.63 + 1800.30) / 2 * 29, 800, (3170.63 + 1800.30) / 2 * 29 / 800),
    # December 2023 holds only the opening journal (AR 0 → 1000.00), no revenue: a row with a null value
    ("dso", {}, D(2023, 12, 1), {}, (0 + 1000) / 2 * 31, 0, None),
    # December 2023 holds only the opening journal: the whole month counts (d = 31), no cogs
    ("dio", {}, D(2023, 12, 1), {}, (0 + 3000) / 2 * 31, 0, None),
]


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=lambda c: f"{c[0]}-{c[2]:%Y%m}-{'-'.join(c[3].values()) or 'co'}" if isinstance(c, tuple) else str(c),
)
def test_handworked(ws, case):
    kpi, opts, period, dims, num, den, value = case
    row = pick(run(ws, kpi, **opts), period, **dims)
    assert close(row["numerator"], num), (row, num)
    assert close(row["denominator"], den), (row, den)
    assert close(row["value"], value), (row, value)


def test_every_kpi_is_worked_by_hand():
    from tests.test_kpis_process import CASES as PROCESS_CASES  # the process KPIs, on this fixture too

    assert {c[0] for c in (*CASES, *PROCESS_CASES)} == {k.id for k in KPIS}


# ---------------------------------------------------------------------------- grains
def test_week_grain_starts_monday(ws):
    rows = run(ws, "availability", "week")
    # r1..r4 (Mon 01-15, Tue 01-16) and r7 (Sunday 01-21) are one ISO week; r8 (Wed 01-10) the week of 01-08
    assert [r["period_start"] for r in rows] == [
        D(2024, 1, 8),
        D(2024, 1, 15),
        D(2024, 2, 5),
        D(2024, 2, 26),
    ]
    wk = pick(rows, D(2024, 1, 15))
    assert (wk["numerator"], wk["denominator"]) == (
        50 + 60 + 40 + 0 + 45 + 30,
        60 + 60 + 60 + 0 + 60 + 30,
    )
    # r9 (Friday 2024-03-01) falls in the week of Monday 2024-02-26, with a zero denominator
    assert pick(rows, D(2024, 2, 26))["value"] is None
    # picks: WT1 (Wed 01-31) and WT2 (Thu 02-01, finished after midnight) share the week of Monday 01-29
    picks = pick(run(ws, "picks_per_hour", "week"), D(2024, 1, 29))
    assert (picks["numerator"], picks["denominator"], picks["value"]) == (45, 3, 15)


def test_day_grain(ws):
    rows = run(ws, "availability", "day")
    assert pick(rows, D(2024, 1, 16))["numerator"] == 40 and pick(rows, D(2024, 1, 16))["denominator"] == 60
    assert pick(rows, D(2024, 1, 21))["value"] == 1.0


def test_quarter_and_year_grains(ws):
    # maintenance: Jan 400.00 (incl. a row without cost centre) + Feb 120.00 + Mar 30.00
    q = run(ws, "maintenance_cost", "quarter")
    assert [(r["period_start"], r["value"]) for r in q] == [(JAN, Decimal("550.00"))]
    y = run(ws, "revenue", "year")
    assert [(r["period_start"], r["value"]) for r in y] == [(JAN, Decimal("3170.63"))]
    # quarter by site: only the cost-centre rows
    qs = run(ws, "maintenance_cost", "quarter", by=["site"])
    assert [(r["period_start"], r["site"], r["value"]) for r in qs] == [(JAN, "P1", Decimal("500.25"))]
    # ratios sum numerator and denominator over the quarter: oee Q1 = (13750 + 1200) / (19800 + 3600 + 0)
    oee = pick(run(ws, "oee", "quarter"), JAN)
    assert (oee["numerator"], oee["denominator"]) == (14950, 23400)
    assert oee["value"] == pytest.approx(14950 / 23400)


def test_working_capital_quarter_and_year(ws):
    # Q1 2024 (d = 31 + 29 + 31 = 91): AR 1000.00 at 12-31, 1800.30 at 03-31; revenue 3170.63
    q = pick(run(ws, "dso", "quarter"), JAN)
    assert q["numerator"] == pytest.approx((1000 + 1800.30) / 2 * 91)
    assert q["denominator"] == pytest.approx(3170.63)
    # year 2024 (leap, d = 366): AR 1000.00 at 2023-12-31 and 1800.30 at 2024-12-31
    y = run(ws, "dso", "year")
    assert [r["period_start"] for r in y] == [D(2023, 1, 1), D(2024, 1, 1)]
    assert pick(y, D(2024, 1, 1))["value"] == pytest.approx((1000 + 1800.30) / 2 * 366 / 3170.63)
    # 2023 holds only the opening journal: AR 0 at 2022-12-31, 1000 at 2023-12-31, no revenue
    y23 = pick(y, D(2023, 1, 1))
    assert y23["value"] is None and y23["numerator"] == pytest.approx(500 * 365)


# ---------------------------------------------------------------------------- clipping
def test_from_to_clip_working_capital(ws):
    # --from 2024-01-16 --to 2024-02-10. January keeps 01-16..01-31 (d = 16), February 02-01..02-10 (d = 10).
    dso = run(ws, "dso", start="2024-01-16", end="2024-02-10")
    assert [r["period_start"] for r in dso] == [JAN, FEB]
    # Jan: AR at 01-15 = 1000.00, at 01-31 = 3170.63; revenue 01-16..01-31 = 2370.63
    jan = pick(dso, JAN)
    assert jan["numerator"] == pytest.approx(2085.315 * 16)
    assert jan["denominator"] == pytest.approx(2370.63)
    assert jan["value"] == pytest.approx(2085.315 * 16 / 2370.63)  # 14.0743
    # Feb: AR 3170.63 at 01-31 and 1800.30 at 02-10; revenue 800.00 (02-09)
    assert pick(dso, FEB)["value"] == pytest.approx((3170.63 + 1800.30) / 2 * 10 / 800)  # 31.0683
    dio = run(ws, "dio", start="2024-01-16", end="2024-02-10")
    # Jan: inventory at 01-15 = 3000 + 1000 (01-12) + 600 (01-10) = 4600, at 01-31 = 3394.45;
    # cogs 01-16..01-31 = 800 + 100 + 250 + 55.55 = 1205.55 (the PPV of 01-10 and 01-12 is before)
    assert pick(dio, JAN)["value"] == pytest.approx((4600 + 3394.45) / 2 * 16 / 1205.55)  # 53.0510
    # Feb: inventory 3394.45 at 01-31, 3294.45 at 02-10; cogs 400 − 60 = 340
    assert pick(dio, FEB)["value"] == pytest.approx((3394.45 + 3294.45) / 2 * 10 / 340)  # 98.3662


def test_from_to_clip_flow_kpis(ws):
    # revenue 01-21..01-31: 200.20 + 570.33, reported in the January period
    rows = run(ws, "revenue", start="2024-01-21", end="2024-01-31")
    assert [(r["period_start"], r["value"]) for r in rows] == [(JAN, Decimal("770.53"))]
    # picks from 02-01: WT2 only (finished 02-01 00:30)
    rows = run(ws, "picks_per_hour", start="2024-02-01")
    assert [(r["period_start"], r["value"]) for r in rows] == [(FEB, 10.0)]


def test_from_after_to_is_a_user_error(ws):
    with pytest.raises(UserError, match="after"):
        run(ws, "oee", start="2024-02-01", end="2024-01-01")


# ---------------------------------------------------------------------------- dating and dimension paths
def test_open_ticket_counts_nowhere(ws):
    rows = run(ws, "support_utilization", "day")
    # TK1 120 + TK3 180 + TK5 300 + TK2 60; the open TK4 (45 min) nowhere
    assert sum(r["numerator"] for r in rows) == 660
    assert pick(rows, D(2024, 2, 1))["numerator"] == 60
    assert pick(rows, D(2024, 1, 31))["numerator"] == 300  # TK5 closed 23:30


def test_interval_rows_dated_by_end(ws):
    # OP2 runs 01-31 22:00 → 02-01 04:00: February
    assert pick(run(ws, "scrap_rate", "day"), D(2024, 2, 1))["denominator"] == 100
    # ME1 01-31 20:00 → 02-01 02:00: February
    assert pick(run(ws, "maintenance_parts_cost", "day"), D(2024, 2, 1))["value"] == Decimal("150.10")
    # WT2 01-31 23:00 → 02-01 00:30: February
    assert pick(run(ws, "picks_per_hour", "day"), D(2024, 2, 1))["numerator"] == 15


def test_reading_shift_by_time_of_day(ws):
    rows = run(ws, "availability", by=["shift"])
    # P1-D [06:00, 14:00): r1 (06:00) and r6 (08:00): run 50 + 45 over 60 + 60
    d = pick(rows, JAN, shift="P1-D")
    assert (d["numerator"], d["denominator"]) == (95, 120)
    # P1-N [22:00, 06:00): r2 (22:00), r3 (03:00 next day), r7 (05:00): run 60 + 40 + 30 over 60 + 60 + 30
    n = pick(rows, JAN, shift="P1-N")
    assert (n["numerator"], n["denominator"]) == (130, 150)
    assert pick(rows, JAN, shift="P2-D")["value"] == 1.0
    # r4 (14:00) belongs to no shift: the shifts add up to the company total minus r4
    jan = [r for r in rows if r["period_start"] == JAN]
    assert {r["shift"] for r in jan} == {"P1-D", "P1-N", "P2-D"}
    assert sum(r["numerator"] for r in jan) == 285 and sum(r["denominator"] for r in jan) == 330


def test_gl_without_cost_center_counts_only_at_company_level(ws):
    company = pick(run(ws, "opex"), JAN)["value"]
    by_site = sum(r["value"] for r in run(ws, "opex", by=["site"]) if r["period_start"] == JAN)
    assert company - by_site == Decimal("49.75") + Decimal("10.10")
    by_cc = run(ws, "maintenance_cost", by=["cost_center"])
    assert {r["cost_center"] for r in by_cc} == {"CC-P1M"}
    assert pick(run(ws, "maintenance_cost", where={"site": ["P1"]}), JAN)["value"] == Decimal("350.25")


def test_fx_latest_rate_on_or_before(ws):
    rows = run(ws, "ppv_rate", "day")
    # GR2 on a rate date (01-10: 0.95): (4.75 − 4)·150 = 112.5 over 600
    assert pick(rows, D(2024, 1, 10))["numerator"] == pytest.approx(112.5)
    # GR5 on 01-09: the rate of 01-01 (0.90): (9 − 10)·20 = −20
    assert pick(rows, D(2024, 1, 9))["numerator"] == pytest.approx(-20)
    # GR3 on 01-20: still the rate of 01-10
    assert pick(rows, D(2024, 1, 20))["numerator"] == pytest.approx(37.5)
    # GR4 on 02-03: the rate of 02-01 (0.80)
    assert pick(rows, D(2024, 2, 3))["numerator"] == pytest.approx(-60)
    # the base currency needs no rate: GR1 (EUR) (11 − 10)·100
    assert pick(rows, D(2024, 1, 12))["numerator"] == pytest.approx(100)


def test_money_is_exact_decimal(ws):
    for kpi in (
        "revenue",
        "cogs",
        "gross_margin",
        "opex",
        "maintenance_cost",
        "maintenance_parts_cost",
    ):
        frame = compute(ws.kpi_tables(), [kpi], "month")[0]
        assert str(frame.schema["value"]).startswith("Decimal"), (kpi, frame.schema)
        assert all(isinstance(v, Decimal) for v in frame["value"]), kpi
    # the Python API keeps decimals for money-only calls
    df = ws.kpi("revenue,cogs,gross_margin")
    assert all(isinstance(v, Decimal) for v in df["value"])


def test_gross_margin_is_revenue_minus_cogs(ws):
    for grain in ("day", "month", "quarter"):
        rev = {r["period_start"]: r["value"] for r in run(ws, "revenue", grain)}
        cogs = {r["period_start"]: r["value"] for r in run(ws, "cogs", grain)}
        gm = {r["period_start"]: r["value"] for r in run(ws, "gross_margin", grain)}
        assert set(gm) == set(rev) | set(cogs)
        for p, v in gm.items():
            assert v == rev.get(p, Decimal(0)) - cogs.get(p, Decimal(0)), (grain, p)


def test_roll_up_recomputes_from_sums(ws):
    by_site = [r for r in run(ws, "oee", by=["site"]) if r["period_start"] == JAN]
    company = pick(run(ws, "oee"), JAN)
    assert sum(r["numerator"] for r in by_site) == company["numerator"]
    assert sum(r["denominator"] for r in by_site) == company["denominator"]
    assert company["value"] != pytest.approx(sum(r["value"] for r in by_site) / len(by_site))


def test_dimension_not_carried_is_a_user_error(ws):
    with pytest.raises(UserError, match="cannot be split by customer"):
        run(ws, "oee", by=["customer"])
    with pytest.raises(UserError, match="cannot be split by site"):
        run(ws, "dso", by=["site"])
    with pytest.raises(UserError, match="unknown dimension"):
        run(ws, "oee", by=["planet"])
    with pytest.raises(UserError, match="unknown KPI"):
        run(ws, "nope")
    with pytest.raises(UserError, match="unknown grain"):
        run(ws, "oee", "fortnight")


def test_bottlenecks(ws):
    b = ws.bottlenecks().to_dicts()
    # ranked by machine_load (busy over paid minutes), not utilization. P1 Jan: WC-A OP1 10+200 over T1's
    # 10 h = 210/600 = 0.35 beats WC-B OP3 0+120 over T2's 8 h = 120/480 = 0.25 (OP2 ends in February),
    # though WC-B's utilization 3900/5400 = 0.722 beats WC-A's 7500/10800 = 0.694; WC-A's January operation
    # is OP1 (wait 30). P2 Jan: WC-C 260/540 with OP4 (wait 10).
    # P1 Feb: WC-A (r5) with no operation ending in February. P2 March: planned 0 → no bottleneck.
    got = {(r["period_start"], r["site"]): (r["work_center"], r["mean_wait_minutes"], r["operations"]) for r in b}
    assert got == {
        (JAN, "P1"): ("WC-A", 30.0, 1),
        (JAN, "P2"): ("WC-C", 10.0, 1),
        (FEB, "P1"): ("WC-A", None, 0),
    }
    p1 = next(r for r in b if r["period_start"] == JAN and r["site"] == "P1")
    assert p1["capacity_utilization"] == pytest.approx(7500 / 10800)
    assert p1["runner_up"] == "WC-B" and p1["runner_up_utilization"] == pytest.approx(3900 / 5400)
    assert p1["machine_load"] == pytest.approx(0.35) and p1["runner_up_load"] == pytest.approx(0.25)
    p2 = next(r for r in b if r["period_start"] == JAN and r["site"] == "P2")
    assert p2["machine_load"] == pytest.approx(260 / 540) and p2["runner_up"] is None


# ---------------------------------------------------------------------------- custom KPIs
def _with_custom(ws, tmp_path, entries):
    dest = tmp_path / "ws"
    shutil.copytree(ws.path, dest)
    path = dest / "model" / "kpis.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["kpis"].extend(entries)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return opsfin.open(dest)


def test_custom_kpi(ws, tmp_path):
    custom = _with_custom(
        ws,
        tmp_path,
        [
            {
                "id": "setup_share",
                "name": "Setup share",
                "unit": "ratio",
                "direction": "lower_is_better",
                "source": "operations",
                "numerator": "setup_minutes",
                "denominator": "setup_minutes + run_minutes",
                "filter": "qty_good > 0",
            },
            {
                "id": "pick_lines",
                "source": "warehouse_tasks",
                "numerator": "lines",
                "filter": "kind == 'pick'",
            },
        ],
    )
    assert {"setup_share", "pick_lines"} <= set(custom.kpi_catalog())
    # Jan operations OP1, OP3, OP4: setup 10 + 0 + 20 = 30 over 30 + 200 + 120 + 240 = 590
    rows = run(custom, "setup_share")
    jan = pick(rows, JAN)
    assert (jan["numerator"], jan["denominator"]) == (30, 590) and jan["value"] == pytest.approx(30 / 590)
    # by work centre (a dimension operations carry): WC-C 20 / 260
    assert pick(run(custom, "setup_share", by=["work_center"]), JAN, work_center="WC-C")["value"] == pytest.approx(
        20 / 260
    )
    # a sum: pick lines Jan 30 + 12, Feb 15
    picks = run(custom, "pick_lines")
    assert [(r["period_start"], r["value"]) for r in picks] == [(JAN, 42.0), (FEB, 15.0)]
    # through the Python API too
    assert custom.kpi("pick_lines").filter(period_start=FEB)["value"].to_list() == [15.0]
    with pytest.raises(UserError, match="cannot be split by customer"):
        run(custom, "setup_share", by=["customer"])


def test_custom_kpi_logic(ws, tmp_path):
    """`and`, `or` and chained comparisons combine column conditions (as & and |)."""
    custom = _with_custom(
        ws,
        tmp_path,
        [
            # OP1 (95 good, 200 run) and OP4 (200, 240) in Jan; OP3 has 60 good, OP2 (Feb) runs 300
            {
                "id": "k_and",
                "source": "operations",
                "numerator": "qty_good",
                "filter": "qty_good >= 90 and run_minutes < 250",
            },
            # OP3 (no scrap) and OP4 (wait 10) in Jan; OP1 (scrap 5, wait 30) and OP2 (10, 60) fail both
            {
                "id": "k_or",
                "source": "operations",
                "numerator": "qty_good",
                "filter": "qty_scrap == 0 or wait_minutes < 20",
            },
            # OP1 95 and OP3 60 in Jan, OP2 90 in Feb; OP4 (200) is out
            {
                "id": "k_chain",
                "source": "operations",
                "numerator": "qty_good",
                "filter": "50 < qty_good <= 95",
            },
        ],
    )
    assert [(r["period_start"], r["value"]) for r in run(custom, "k_and")] == [(JAN, 295.0)]
    assert [(r["period_start"], r["value"]) for r in run(custom, "k_or")] == [(JAN, 260.0)]
    assert [(r["period_start"], r["value"]) for r in run(custom, "k_chain")] == [
        (JAN, 155.0),
        (FEB, 90.0),
    ]


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            {"id": "evil", "source": "operations", "numerator": "__import__('os').getcwd()"},
            "not allowed",
        ),
        ({"id": "typo", "source": "operations", "numerator": "run_minutes +"}, "not an expression"),
        ({"id": "attr", "source": "operations", "numerator": "run_minutes.sum()"}, "not allowed"),
        ({"id": "nosrc", "source": "nowhere", "numerator": "x"}, "unknown source"),
        ({"id": "nonum", "source": "operations"}, "missing 'numerator'"),
    ],
)
def test_bad_custom_kpi_is_a_user_error(ws, tmp_path, entry, message):
    custom = _with_custom(ws, tmp_path, [entry])
    with pytest.raises(UserError, match=message):
        custom.kpi_catalog()


def test_custom_kpi_unknown_column_is_a_user_error(ws, tmp_path):
    custom = _with_custom(
        ws,
        tmp_path,
        [
            {"id": "bad_col", "source": "operations", "numerator": "minutes_run"},
            {"id": "bad_type", "source": "gl_entries", "numerator": "amount", "filter": "role > 5"},
        ],
    )
    with pytest.raises(UserError, match="unknown column minutes_run"):
        custom.kpi("bad_col")
    with pytest.raises(UserError, match="cannot compute 'role > 5'"):
        custom.kpi("bad_type")
