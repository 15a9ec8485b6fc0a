"""Default `model/guardrails.yaml` and `model/detection.yaml`, written by `opsfin init` and `opsfin demo`."""

from __future__ import annotations

GUARDRAILS_YAML = """\
# Guardrails: bands a KPI must stay inside. A value outside [min, max] raises an alert; a continuous
# run of breaching periods is one alert. See docs/alerts.md.
#   kpi       a KPI id (`opsfin kpi --list`)
#   by        optional: one guardrail per member of these dimensions (e.g. every site)
#   where     optional filter, e.g. {site: P1} or {site: [P1, P2]}
#   grain     day, week, month (default), quarter or year
#   min, max  the band, in the KPI's unit: fractions for ratios (0.08 = 8%), days, money
#   severity  info, warn (default) or stop
#   owner     who acts on a breach
guardrails:
  - kpi: overtime_share
    by: site
    grain: month
    max: 0.14
    severity: warn
    owner: HR business partner
    note: plants run 10-13% overtime at seasonal peaks; above 14% a site works routine overtime

  - kpi: dio
    grain: month
    min: 15
    max: 45
    severity: warn
    owner: supply chain manager
    note: 25-38 days of cost of sales in stock; above 45 days cash is tied up in inventory

  - kpi: maintenance_cost
    by: site
    grain: month
    max: 85000
    severity: warn
    owner: maintenance manager
    note: plants spend 35-75 thousand a month on maintenance (base currency); more means breakdowns

  - kpi: oee
    by: site
    grain: month
    min: 0.33
    severity: warn
    owner: plant manager
    note: plants run 36-65% OEE (about 46% typical); below 33% a plant loses a quarter of its good output

  - kpi: support_utilization
    by: cost_center
    grain: month
    min: 0.5
    max: 0.95
    severity: warn
    owner: support lead
    note: support teams handle tickets 60-80% of their paid time; below 50% a team is over-staffed

  - kpi: dso
    grain: month
    max: 55
    severity: stop
    owner: credit controller
    note: receivables run at 37-47 days of revenue; above 55 days collection needs action
"""

DETECTION_YAML = """\
# Anomaly detection: which KPI series are scanned, per dimension member, and how (docs/alerts.md).
# Each series is compared with its own robust baseline (median and MAD of its trailing clean history);
# a one-sided CUSUM catches a lasting shift in the KPI's bad direction, not only a spike.
settings:              # defaults for every scan entry; any entry may override any of them
  grain: week          # period of the series (day, week, month, quarter, year)
  # baseline / min_history / relearn default by grain: week 52/26/39, month 12/6/12 periods
  slack: 1.0           # CUSUM allowance, in robust standard deviations
  threshold: 7.5       # CUSUM decision level: at least three clearly bad periods in a row
  cap: 4               # one period adds at most cap - slack to the CUSUM
  spike: 0             # > 0: a single period this many robust sd out alerts on its own
  min_change: 0.10     # a departure counts from 10% of the baseline ...
  min_abs: 0           # ... and from this much in the KPI's unit
  release: 2           # periods back inside the band that close an alert
  severity: warn
scan:
  # machines: compared with the rest of their work centre (peers), which share its load and season
  - {kpi: energy_per_unit, by: [work_center, machine], peers: work_center, grain: month, threshold: 5, min_change: 0.12}
  - {kpi: availability, by: [work_center, machine], peers: work_center, confirm: true, grain: month, min_change: 0.2}
  - {kpi: performance, by: machine}
  - {kpi: quality_rate, by: machine}
  # each site's constraint (its most utilised work centre) running hotter than the other sites' constraints
  - {kpi: capacity_utilization, by: [site, work_center], alert_on: higher, members: constraint, peers: all}
  - {kpi: throughput_per_hour, by: work_center}
  - {kpi: scrap_rate, by: work_center}
  - {kpi: first_pass_yield, by: site}
  # sites against the other sites, so that the season is not an anomaly
  - {kpi: overtime_share, by: site, peers: all, min_abs: 0.02}
  - {kpi: picks_per_hour, by: site}
  - {kpi: support_utilization, by: cost_center, min_change: 0.2}
  - {kpi: csat, by: cost_center}
  # few documents a month: monthly series, and only large departures count
  - {kpi: supplier_on_time, by: supplier, grain: month, min_abs: 0.5}
  - {kpi: days_to_pay, by: customer, grain: month, min_change: 0.4, min_abs: 10, cap: 6}
  - {kpi: ppv_rate, by: product, grain: month, min_abs: 0.05}
  # Not scanned by default (they move with demand and season, or are company level and watched by
  # guardrails); uncomment to add:
  # - {kpi: oee, by: site, peers: all}
  # - {kpi: labor_productivity, by: site, peers: all}
  # - {kpi: output_units, by: site, peers: all}
  # - {kpi: on_time_delivery, by: site}
  # - {kpi: maintenance_cost, by: site, grain: month}
  # - {kpi: maintenance_parts_cost, by: [work_center, machine], grain: month, min_change: 1.0}
  # - {kpi: opex, by: cost_center, grain: month}
  # - {kpi: dso, grain: month}
  # - {kpi: dio, grain: month}
"""


def default_guardrails_yaml() -> str:
    return GUARDRAILS_YAML


def default_detection_yaml() -> str:
    return DETECTION_YAML
