"""Hourly machine readings, derived from the month's staffed windows, planned stops and the
run segments of operations — so OEE from readings agrees with the operations' output."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from .master import INDIRECT_STAGES
from .state import Sim
from .wear import TEMPERATURE_PER_WEAR, VIBRATION_PER_WEAR


def _explode(
    machine_idx: np.ndarray, start: np.ndarray, end: np.ndarray, lo: float, hours: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split intervals into (row, cell, minutes) pieces per hour of [lo, lo + hours·60)."""
    s = np.clip(start, lo, lo + hours * 60)
    e = np.clip(end, lo, lo + hours * 60)
    keep = e > s
    rows = np.nonzero(keep)[0]
    s, e, mi = s[keep], e[keep], machine_idx[keep]
    first = np.floor((s - lo) / 60).astype(np.int64)
    last = np.floor((e - lo - 1e-9) / 60).astype(np.int64)
    counts = last - first + 1
    rep = np.repeat(np.arange(len(s)), counts)
    offs = np.arange(len(rep)) - np.repeat(np.cumsum(counts) - counts, counts)
    hour = first[rep] + offs
    h0 = lo + hour * 60.0
    minutes = np.minimum(e[rep], h0 + 60) - np.maximum(s[rep], h0)
    return rows[rep], mi[rep] * hours + hour, minutes, rep


def energy_drift(sim: Sim, index: dict[str, int], month_start: dt.date, hours: int) -> np.ndarray:
    """The factor on each machine-hour's running power: 1, or an injected energy drift's factor that day."""
    day_of_cell = np.tile(np.arange(hours) // 24, len(index))
    drift = np.ones(len(index) * hours)
    for a in sim.plan.items:
        if a.kind == "energy_drift" and a.entity_id in index:
            days = [month_start + dt.timedelta(days=int(d)) for d in range(hours // 24)]
            f = np.array([sim.plan.energy_factor(a.entity_id, d) for d in days])
            sl = slice(index[a.entity_id] * hours, (index[a.entity_id] + 1) * hours)
            drift[sl] = f[day_of_cell[sl]]
    return drift


def wear_drift(
    sim: Sim, machines: list[str], month_start: dt.date, hours: int, run: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """What wear adds to each machine-hour's temperature and vibration: in proportion to the machine's wear
    that day (the last day it was scheduled, before), most of it while it runs, with noise of its own."""
    wear = sim.wear
    first = (month_start - sim.c.scale.start).days
    days = hours // 24
    level = np.zeros((len(machines), days))
    for i, m in enumerate(machines):
        known = wear.at_day.get(m, {})
        last = max((d for d in known if d < first), default=None)
        value = known[last] if last is not None else 0.0
        for d in range(days):
            value = known.get(first + d, value)
            level[i, d] = value
    per_hour = np.repeat(level, 24, axis=1).reshape(-1)
    running = 0.3 + 0.7 * run / 60
    noise = wear.sensor_rng.normal(1.0, 0.15, len(per_hour))
    temp = TEMPERATURE_PER_WEAR * per_hour * running * noise
    vib = VIBRATION_PER_WEAR * per_hour * running * noise
    return temp, vib


def take_month(sim: Sim, hi: float) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    """The shift windows, planned stops, run segments and busy spans that start before minute `hi` (the
    month's end); the simulation keeps those that reach past it for the next month."""

    def split(items: list[tuple]) -> tuple[list[tuple], list[tuple]]:
        return [it for it in items if it[1] < hi], [it for it in items if it[2] > hi]

    windows, sim.windows = split(sim.windows)
    stops, sim.planned_stops = split(sim.planned_stops)
    segments, sim.segments = split(sim.segments)
    busy, sim.busy = split(sim.busy)
    return windows, stops, segments, busy


def month_readings(sim: Sim, month_start: dt.date, month_end: dt.date) -> pa.Table:
    c, rng = sim.c, sim.rng
    # the transport tuggers and inspection stations have no meter (master.INDIRECT_STAGES)
    machines = [m for wc in c.wc_ids if wc.split("-")[1] not in INDIRECT_STAGES for m in c.wc_machines[wc]]
    index = {m: i for i, m in enumerate(machines)}
    lo = (month_start - c.scale.start).days * 1440.0
    hi = ((month_end - c.scale.start).days + 1) * 1440.0
    hours = int((hi - lo) // 60)
    n = len(machines) * hours
    planned = np.zeros(n)
    run = np.zeros(n)
    units_total = np.zeros(n)
    units_good = np.zeros(n)

    windows, stops, segments, busy = ([it for it in items if it[0] in index] for items in take_month(sim, hi))
    # an hour is scheduled when the machine runs, sets up or is broken down in it; a staffed hour without work
    # (no order for it) is not planned time, as in OEE practice
    scheduled = np.zeros(len(machines) * hours, dtype=bool)
    for items in (segments, busy):
        if items:
            mi = np.array([index[it[0]] for it in items])
            _, cell, _, _ = _explode(
                mi, np.array([it[1] for it in items]), np.array([it[2] for it in items]), lo, hours
            )
            scheduled[cell] = True
    for items, sign in ((windows, 1.0), (stops, -1.0)):
        if items:
            mi = np.array([index[it[0]] for it in items])
            _, cell, minutes, _ = _explode(
                mi, np.array([it[1] for it in items]), np.array([it[2] for it in items]), lo, hours
            )
            np.add.at(planned, cell, sign * minutes)
    if segments:
        mi = np.array([index[it[0]] for it in segments])
        rows, cell, minutes, _ = _explode(
            mi,
            np.array([it[1] for it in segments]),
            np.array([it[2] for it in segments]),
            lo,
            hours,
        )
        src = np.array([(it[3], it[4], it[5]) for it in segments], dtype=float)[rows]
        share = minutes / src[:, 2]
        np.add.at(run, cell, minutes)
        np.add.at(units_total, cell, src[:, 0] * share)
        np.add.at(units_good, cell, src[:, 1] * share)
    planned = np.where(scheduled, np.clip(np.round(planned, 2), 0, 60), 0.0)
    run = np.minimum(np.round(run, 2), planned)
    # energy: running draws 80% of rated power, idle-but-planned 5%, outside shifts 1% standby
    m_of = np.repeat(np.arange(len(machines)), hours)
    kw = np.array([c.machine_kw[m] for m in machines])[m_of]
    drift = energy_drift(sim, index, month_start, hours)
    kwh = kw * (0.8 * run * drift + 0.05 * (planned - run) + 0.01 * (60 - planned)) / 60
    kwh = np.round(kwh, 3)
    temperature = 35 + 25 * run / 60 + rng.normal(0, 1.5, n)
    vibration = 1.8 + 1.5 * run / 60 + rng.normal(0, 0.2, n)
    temp_drift, vib_drift = wear_drift(sim, machines, month_start, hours, run)
    temperature = np.round(temperature + temp_drift, 1)
    vibration = np.round(np.maximum(vibration + vib_drift, 0), 2)
    wh = np.round(kwh * 1000).astype(np.int64)
    for i, m in enumerate(machines):
        sim.month_wh[m] = int(wh[i * hours : (i + 1) * hours].sum())
    start_ts = np.datetime64(dt.datetime.combine(month_start, dt.time()), "us")
    hour_start = start_ts + (np.tile(np.arange(hours), len(machines)) * 3_600_000_000).astype("timedelta64[us]")
    return pa.table(
        {
            "machine_id": pa.array(np.array(machines, dtype=object)[m_of], pa.string()),
            "hour_start": pa.array(hour_start, pa.timestamp("us")),
            "planned_minutes": planned,
            "run_minutes": run,
            "units_total": np.round(units_total, 3),
            "units_good": np.round(units_good, 3),
            "kwh": kwh,
            "temperature_c": temperature,
            "vibration_mm_s": vibration,
        }
    )
