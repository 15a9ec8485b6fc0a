"""Anomaly detection: each KPI series, per dimension member, against its own robust baseline.

All series of a scan form one members × periods matrix; every step below is vectorised across
members (NumPy), looping over periods only. For each period t:

1. Baseline: the median and the MAD (× 1.4826, a robust standard deviation; the mean absolute
   deviation when the MAD is 0) of the last `baseline` periods with data, the *clean* ones of them
   (a sparse series reaches further back, up to 2 × `baseline` periods). Periods inside an alert, in
   either direction, and those of a pending excursion (since a CUSUM last left 0) are left out: an
   anomaly never becomes its own baseline, and the return from a good spell is not read as a drop.
   The sd is at least 2% of the median; a ratio's sd is scaled by √(median denominator / this
   period's denominator), clipped to [0.5, 4], since its noise shrinks with its volume.
2. Departure: z = (x − median) / sd, each way. A period is *material* when it departs by at least
   min_change × |median| and min_abs (in the KPI's unit).
3. Change detection: two one-sided CUSUMs, S = max(0, S + min(z, cap) − slack), where an immaterial
   period adds at most 0. When S passes `threshold` the series is in alert from the change point
   (the period where S last left 0). A lasting shift trips it; one period never does
   (threshold > cap − slack), unless `spike` is set.
4. In alert the baseline is frozen at the change point; each material departure extends the alert;
   `release` quiet periods close it; after `relearn` periods the new level becomes the baseline.

The caller (anomalies.py) reports the bad direction only and merges flagged periods into runs."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .scan import Settings

# the settings each row may have its own of when blocks of several scans run as one matrix (detect_blocks)
PER_ROW = ("min_history", "slack", "threshold", "cap", "spike", "min_change", "min_abs", "release", "relearn")


def nanmedian(a: np.ndarray) -> np.ndarray:
    """`np.nanmedian(a, axis=1)` (NaN for a row without values), the same numbers several times faster for
    the short rows of a baseline window: sort each row (NaNs last), then the middle value, or the mean
    (low + high) / 2 of the two middle values, as NumPy computes it."""
    if not a.shape[1]:
        return np.full(a.shape[0], np.nan)
    ordered = np.sort(a, axis=1)
    n = np.sum(~np.isnan(a), axis=1)
    high = np.minimum(n // 2, a.shape[1] - 1)
    low = np.maximum(np.where(n % 2 == 1, high, high - 1), 0)
    pick = np.take_along_axis
    mid = (pick(ordered, low[:, None], axis=1)[:, 0] + pick(ordered, high[:, None], axis=1)[:, 0]) / 2
    return np.where(n > 0, mid, np.nan)


class _Tracking:
    """What a scan carries from one period to the next, for every member at once."""

    def __init__(self, x: np.ndarray) -> None:
        n, periods = x.shape
        self.rows = np.arange(n)
        self.clean = x.copy()  # x less the excursions: what baselines are drawn from
        self.observed = ~np.isnan(x)  # periods with data: a baseline counts these, not calendar periods
        self.flags = np.zeros((n, periods), dtype=np.int8)
        self.base_out = np.full((n, periods), np.nan)
        self.sd_out = np.full((n, periods), np.nan)
        self.cusum = np.zeros((2, n))  # one-sided CUSUMs: [up, down]
        self.change = np.full((2, n), -1)  # where each CUSUM last left 0
        self.base_cp, self.sd_cp = np.full((2, n), np.nan), np.full((2, n), np.nan)
        self.alarm = np.zeros(n, dtype=np.int8)  # direction of the current alert, 0 when none
        self.since = np.zeros(n, dtype=int)
        self.quiet = np.zeros(n, dtype=int)
        self.last_dep = np.full(n, -1)


def detect_matrix(
    x: np.ndarray, w: np.ndarray | None, s: Settings, unit: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flag excursions of each row of `x` (members × periods; NaN = no data) in both directions.

    `w`: the denominators (same shape) for ratio KPIs, else None. Returns (flags, baseline, robust sd):
    flags is +1 for periods of an upward excursion, −1 for a downward one, 0 otherwise; the caller
    reports the bad direction only, but excursions either way stay out of the baseline (so the return
    from a good spell is not mistaken for a drop). Baseline and sd are as seen at each period.
    `unit` converts x into the KPI's unit for the `min_abs` test (x relative to peers)."""
    assert s.baseline is not None, "detect_matrix takes resolved settings (scan._resolved)"
    st = _Tracking(x)
    signs = np.array([1.0, -1.0])[:, None]
    for t in range(x.shape[1]):
        # step 1, the baseline: `baseline` clean periods before t, or before a pending excursion's start
        # (kept inline: as a function, its large temporaries were freed at once each period and the
        # allocator gave the memory back to the system, to fault it in again: 40% slower)
        pending = np.where(st.cusum > 0, st.change, t).min(axis=0)
        lo = max(0, t - 2 * s.baseline)
        inside = _window(st.observed[:, lo:t], pending - lo, s.baseline)
        hist = np.where(inside, st.clean[:, lo:t], np.nan)
        count = np.sum(~np.isnan(hist), axis=1)
        med = nanmedian(hist)
        spread = np.abs(hist - med[:, None])
        sd = 1.4826 * nanmedian(spread)
        with warnings.catch_warnings():  # MAD is 0 when most periods sit on one value
            warnings.simplefilter("ignore", RuntimeWarning)
            sd = np.where(sd > 0, sd, 1.2533 * np.nanmean(spread, axis=1))
        sd = np.fmax(sd, 0.02 * np.abs(med))  # a flat history still has some noise
        sd = np.where(sd > 0, sd, np.nan)
        in_alarm = st.alarm != 0
        d_idx = np.where(st.alarm < 0, 1, 0)
        med = np.where(in_alarm, st.base_cp[d_idx, st.rows], med)  # in alert: frozen at the change point
        sd = np.where(in_alarm, st.sd_cp[d_idx, st.rows], sd)
        v = x[:, t]
        scale = sd if w is None else sd * _volume_factor(w, inside, lo, t)
        # step 2, the departure from the baseline, each way; material when large enough (min_change, min_abs)
        ok = ~np.isnan(v) & ((count >= s.min_history) | in_alarm) & ~np.isnan(med) & ~np.isnan(scale)
        dev = signs * np.where(ok, v - med, 0.0)  # (2, n): departure up, down
        z = dev / np.where(ok, scale, 1.0)
        size = dev if unit is None else dev * np.where(np.isnan(unit[:, t]), 0.0, unit[:, t])
        material = ok & (dev > 0) & (dev >= s.min_change * np.abs(med)) & (size >= s.min_abs)
        st.base_out[:, t], st.sd_out[:, t] = med, sd
        departing = in_alarm & material[d_idx, st.rows] & (z[d_idx, st.rows] > s.slack)
        closing = _follow_alerts(st, x, s, t, in_alarm & ok, departing, in_alarm)
        _watch(st, s, t, (st.alarm == 0) & ~closing & ok, material, z, med, sd)
    return st.flags, st.base_out, st.sd_out


@dataclass(frozen=True)
class Block:
    """One `detect_matrix` call: `x`, `w`, `s` and `unit` as it takes them."""

    x: np.ndarray
    w: np.ndarray | None
    s: Settings
    unit: np.ndarray | None = None


def detect_blocks(blocks: list[Block]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """`detect_matrix` of each block, those of one baseline as one matrix: one pass over the periods instead
    of one per block. Every step reads a row alone and looks only back, so each block gets the numbers it gets
    alone: its rows keep their columns (empty periods after a shorter block change nothing), its settings are
    per-row arrays, a missing `w` is empty (a volume factor of 1) and a missing `unit` is 1."""
    groups: dict[int | None, list[int]] = {}
    for i, b in enumerate(blocks):
        groups.setdefault(b.s.baseline, []).append(i)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0), np.empty(0))] * len(blocks)
    for idx in groups.values():
        for i, found in zip(idx, _stacked([blocks[i] for i in idx]), strict=True):
            out[i] = found
    return out


def _stacked(blocks: list[Block]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    if len(blocks) == 1:
        b = blocks[0]
        return [detect_matrix(b.x, b.w, b.s, b.unit)]
    width = max(b.x.shape[1] for b in blocks)

    def stack(mats: list[np.ndarray]) -> np.ndarray:
        out = np.full((sum(m.shape[0] for m in mats), width), np.nan)
        row = 0
        for m in mats:
            out[row : row + m.shape[0], : m.shape[1]] = m
            row += m.shape[0]
        return out

    x = stack([b.x for b in blocks])
    w = None if all(b.w is None for b in blocks) else stack([_or(b.w, np.nan, b.x) for b in blocks])
    unit = None if all(b.unit is None for b in blocks) else stack([_or(b.unit, 1.0, b.x) for b in blocks])
    # each setting an array of one value a row, which every step below broadcasts as it does a number
    per_row: dict[str, Any] = {
        k: np.concatenate([np.full(b.x.shape[0], getattr(b.s, k)) for b in blocks]) for k in PER_ROW
    }
    flags, base, sd = detect_matrix(x, w, replace(blocks[0].s, **per_row), unit)
    out, row = [], 0
    for b in blocks:
        rows, cols = slice(row, row + b.x.shape[0]), slice(0, b.x.shape[1])
        out.append((flags[rows, cols], base[rows, cols], sd[rows, cols]))
        row += b.x.shape[0]
    return out


def _or(m: np.ndarray | None, fill: float, like: np.ndarray) -> np.ndarray:
    return np.full(like.shape, fill) if m is None else m


def _window(observed: np.ndarray, pending: np.ndarray, baseline: int) -> np.ndarray:
    """Per member, the columns of its baseline: the last `baseline` periods *with data* before its column
    `pending` (those of a series observed every period are the last `baseline` calendar periods; a customer
    paying every other month reaches further back, up to the window's start)."""
    cols = np.arange(observed.shape[1])[None, :]
    before = observed & (cols < pending[:, None])
    later = np.cumsum(before[:, ::-1], axis=1)[:, ::-1]  # observed periods from this one to `pending`
    return before & (later <= baseline)


def _volume_factor(w: np.ndarray, inside: np.ndarray, lo: int, t: int) -> np.ndarray:
    """A ratio's noise shrinks with its volume: √(median denominator of the window / this period's),
    clipped to [0.5, 4]; 1 where either is missing."""
    wmed = nanmedian(np.where(inside, w[:, lo:t], np.nan))
    ratio = np.clip(np.sqrt(wmed / np.where(w[:, t] > 0, w[:, t], np.nan)), 0.5, 4.0)
    return np.where(np.isnan(ratio), 1.0, ratio)


def _follow_alerts(
    st: _Tracking,
    x: np.ndarray,
    s: Settings,
    t: int,
    observed: np.ndarray,
    departing: np.ndarray,
    in_alarm: np.ndarray,
) -> np.ndarray:
    """Step 4, for members in alert: a material departure extends the alert up to t; `release` quiet
    (observed) periods close it; after `relearn` periods the new level becomes the baseline. Returns the
    members whose alert closed at t."""
    for i in st.rows[departing]:
        st.flags[i, st.last_dep[i] + 1 : t + 1] = st.alarm[i]
        st.clean[i, st.last_dep[i] + 1 : t + 1] = np.nan
    st.last_dep = np.where(departing, t, st.last_dep)
    st.quiet = np.where(departing, 0, np.where(observed, st.quiet + 1, st.quiet))
    relearn = in_alarm & (t - st.since >= s.relearn)
    for i in st.rows[relearn]:  # a lasting new level becomes the baseline
        st.clean[i, st.since[i] : t + 1] = x[i, st.since[i] : t + 1]
    closing = in_alarm & ((st.quiet >= s.release) | relearn)
    st.alarm = np.where(closing, 0, st.alarm).astype(np.int8)
    st.cusum[:, closing] = 0.0
    st.change[:, closing] = -1
    return closing


def _watch(
    st: _Tracking,
    s: Settings,
    t: int,
    watch: np.ndarray,
    material: np.ndarray,
    z: np.ndarray,
    med: np.ndarray,
    sd: np.ndarray,
) -> None:
    """Step 3, for the `watch`ed members (not in alert, observed): the CUSUMs of material departures, each
    way; one passing `threshold` opens an alert from its change point (the baseline frozen there); a lone
    period past `spike` sd is flagged on its own."""
    step = np.where(material, np.minimum(z, s.cap), np.minimum(z, s.slack)) - s.slack
    new = np.where(watch, np.maximum(0.0, st.cusum + step), st.cusum)
    starting = watch & (st.cusum == 0) & (new > 0)
    st.change = np.where(starting, t, np.where(watch & (new == 0), -1, st.change))
    st.base_cp = np.where(starting, med, st.base_cp)
    st.sd_cp = np.where(starting, sd, st.sd_cp)
    st.cusum = new
    tripped = watch & (st.cusum > s.threshold)
    up = tripped[0] & (~tripped[1] | (st.cusum[0] >= st.cusum[1]))
    down = tripped[1] & ~up
    for d, mask in ((0, up), (1, down)):
        for i in st.rows[mask]:
            c = st.change[d, i]
            st.flags[i, c : t + 1] = 1 - 2 * d
            st.clean[i, c : t + 1] = np.nan
            st.base_out[i, c : t + 1], st.sd_out[i, c : t + 1] = st.base_cp[d, i], st.sd_cp[d, i]
    hit = up | down
    st.alarm = np.where(up, 1, np.where(down, -1, st.alarm)).astype(np.int8)
    st.since = np.where(up, st.change[0], np.where(down, st.change[1], st.since))
    st.last_dep = np.where(hit, t, st.last_dep)
    st.quiet = np.where(hit, 0, st.quiet)
    st.cusum[:, hit] = 0.0
    spike = watch & ~hit & material & (s.spike > 0) & (z > s.spike)
    for d in (0, 1):
        st.flags[spike[d], t] = 1 - 2 * d
        st.clean[spike[d], t] = np.nan


def peer_level(
    values: np.ndarray,
    groups: np.ndarray,
    num: np.ndarray | None = None,
    den: np.ndarray | None = None,
    scale: float = 1.0,
) -> np.ndarray:
    """Per member and period, the level of the *rest* of its peer group: for a ratio the ratio of the
    others' summed numerators and denominators (never an average of ratios), else the median of the
    others' values. NaN for a member without peers."""
    out = np.full(values.shape, np.nan)
    for g in np.unique(groups):
        idx = np.nonzero(groups == g)[0]
        if len(idx) < 2:
            continue
        if num is not None and den is not None:
            n, d = np.nan_to_num(num[idx]), np.nan_to_num(den[idx])
            rest_n, rest_d = n.sum(axis=0) - n, d.sum(axis=0) - d
            out[idx] = scale * rest_n / np.where(rest_d != 0, rest_d, np.nan)
        else:
            for j in idx:
                out[j] = nanmedian(values[np.setdiff1d(idx, j)].T)
    return out


def confirmed(flags: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Keep a run of `flags` only when some period of it is flagged the same way in `own` (the
    member against its own history): the departure must stand out from the peers *and* be real."""
    out = np.zeros_like(flags)
    for i, j, k in flagged_runs(flags):
        if np.any(own[i, j:k] == flags[i, j]):
            out[i, j:k] = flags[i, j]
    return out


def flagged_runs(flags: np.ndarray) -> Iterator[tuple[int, int, int]]:
    """(member, first period, period after the last) of each run of `flags`: consecutive periods flagged the
    same non-zero way."""
    for i in np.nonzero((flags != 0).any(axis=1))[0]:
        row, j = flags[i], 0
        while j < len(row):
            k = j
            while k + 1 < len(row) and row[k + 1] == row[j]:
                k += 1
            if row[j] != 0:
                yield int(i), j, k + 1
            j = k + 1
