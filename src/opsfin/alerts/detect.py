"""Anomaly detection: each KPI series, per dimension member, against its own robust baseline.

All series of a scan form one members × periods matrix; every step below is vectorised across
members (NumPy), looping over periods only. For each period t:

1. Baseline: the median and the MAD (× 1.4826, a robust standard deviation; the mean absolute
   deviation when the MAD is 0) of the last `baseline` *clean* periods. Periods inside an alert, in
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

import numpy as np

from .scan import Settings


def _nanmedian(a: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=1) if a.shape[1] else np.full(a.shape[0], np.nan)


def detect_matrix(x: np.ndarray, w: np.ndarray | None, s: Settings,
                  unit: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flag excursions of each row of `x` (members × periods; NaN = no data) in both directions.

    `w`: the denominators (same shape) for ratio KPIs, else None. Returns (flags, baseline, robust sd):
    flags is +1 for periods of an upward excursion, −1 for a downward one, 0 otherwise; the caller
    reports the bad direction only, but excursions either way stay out of the baseline (so the return
    from a good spell is not mistaken for a drop). Baseline and sd are as seen at each period.
    `unit` converts x into the KPI's unit for the `min_abs` test (x relative to peers)."""
    n, periods = x.shape
    assert s.baseline is not None, "detect_matrix takes resolved settings (scan._resolved)"
    clean = x.copy()
    flags = np.zeros((n, periods), dtype=np.int8)
    base_out = np.full((n, periods), np.nan)
    sd_out = np.full((n, periods), np.nan)
    signs = np.array([1.0, -1.0])[:, None]
    cusum = np.zeros((2, n))                 # one-sided CUSUMs: [up, down]
    change = np.full((2, n), -1)             # where each CUSUM last left 0
    base_cp, sd_cp = np.full((2, n), np.nan), np.full((2, n), np.nan)
    alarm = np.zeros(n, dtype=np.int8)       # direction of the current alert, 0 when none
    since = np.zeros(n, dtype=int)
    quiet = np.zeros(n, dtype=int)
    last_dep = np.full(n, -1)
    rows = np.arange(n)
    for t in range(periods):
        # the baseline window: `baseline` periods before t, or before a pending excursion's start
        pending = np.where(cusum > 0, change, t).min(axis=0)
        lo = max(0, t - 2 * s.baseline)
        cols = np.arange(lo, t)[None, :]
        inside = (cols < pending[:, None]) & (cols >= pending[:, None] - s.baseline)
        hist = np.where(inside, clean[:, lo:t], np.nan)
        count = np.sum(~np.isnan(hist), axis=1)
        med = _nanmedian(hist)
        spread = np.abs(hist - med[:, None])
        sd = 1.4826 * _nanmedian(spread)
        with warnings.catch_warnings():                  # MAD is 0 when most periods sit on one value
            warnings.simplefilter("ignore", RuntimeWarning)
            sd = np.where(sd > 0, sd, 1.2533 * np.nanmean(spread, axis=1))
        sd = np.fmax(sd, 0.02 * np.abs(med))            # a flat history still has some noise
        sd = np.where(sd > 0, sd, np.nan)
        in_alarm = alarm != 0
        d_idx = np.where(alarm < 0, 1, 0)
        med = np.where(in_alarm, base_cp[d_idx, rows], med)
        sd = np.where(in_alarm, sd_cp[d_idx, rows], sd)
        v = x[:, t]
        scale = sd
        if w is not None:
            wmed = _nanmedian(np.where(inside, w[:, lo:t], np.nan))
            ratio = np.clip(np.sqrt(wmed / np.where(w[:, t] > 0, w[:, t], np.nan)), 0.5, 4.0)
            scale = sd * np.where(np.isnan(ratio), 1.0, ratio)
        ok = ~np.isnan(v) & ((count >= s.min_history) | in_alarm) & ~np.isnan(med) & ~np.isnan(scale)
        dev = signs * np.where(ok, v - med, 0.0)                 # (2, n): departure up, down
        z = dev / np.where(ok, scale, 1.0)
        size = dev if unit is None else dev * np.where(np.isnan(unit[:, t]), 0.0, unit[:, t])
        material = ok & (dev > 0) & (dev >= s.min_change * np.abs(med)) & (size >= s.min_abs)
        base_out[:, t], sd_out[:, t] = med, sd
        # -- in alert: extend on material departures; close after `release` quiet periods, or relearn
        departing = in_alarm & material[d_idx, rows] & (z[d_idx, rows] > s.slack)
        for i in rows[departing]:
            flags[i, last_dep[i] + 1:t + 1] = alarm[i]
            clean[i, last_dep[i] + 1:t + 1] = np.nan
        last_dep = np.where(departing, t, last_dep)
        quiet = np.where(departing, 0, np.where(in_alarm & ok, quiet + 1, quiet))
        relearn = in_alarm & (t - since >= s.relearn)
        for i in rows[relearn]:                          # a lasting new level becomes the baseline
            clean[i, since[i]:t + 1] = x[i, since[i]:t + 1]
        closing = in_alarm & ((quiet >= s.release) | relearn)
        alarm = np.where(closing, 0, alarm).astype(np.int8)
        cusum[:, closing] = 0.0
        change[:, closing] = -1
        # -- watching: CUSUM of material departures, each way
        watch = (alarm == 0) & ~closing & ok
        step = np.where(material, np.minimum(z, s.cap), np.minimum(z, s.slack)) - s.slack
        new = np.where(watch, np.maximum(0.0, cusum + step), cusum)
        starting = watch & (cusum == 0) & (new > 0)
        change = np.where(starting, t, np.where(watch & (new == 0), -1, change))
        base_cp = np.where(starting, med, base_cp)
        sd_cp = np.where(starting, sd, sd_cp)
        cusum = new
        tripped = watch & (cusum > s.threshold)
        up = tripped[0] & (~tripped[1] | (cusum[0] >= cusum[1]))
        down = tripped[1] & ~up
        for d, mask in ((0, up), (1, down)):
            for i in rows[mask]:
                c = change[d, i]
                flags[i, c:t + 1] = 1 - 2 * d
                clean[i, c:t + 1] = np.nan
                base_out[i, c:t + 1], sd_out[i, c:t + 1] = base_cp[d, i], sd_cp[d, i]
        hit = up | down
        alarm = np.where(up, 1, np.where(down, -1, alarm)).astype(np.int8)
        since = np.where(up, change[0], np.where(down, change[1], since))
        last_dep = np.where(hit, t, last_dep)
        quiet = np.where(hit, 0, quiet)
        cusum[:, hit] = 0.0
        spike = watch & ~hit & material & (s.spike > 0) & (z > s.spike)
        for d in (0, 1):
            flags[spike[d], t] = 1 - 2 * d
            clean[spike[d], t] = np.nan
    return flags, base_out, sd_out




def peer_level(values: np.ndarray, groups: np.ndarray, num: np.ndarray | None = None,
               den: np.ndarray | None = None, scale: float = 1.0) -> np.ndarray:
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
                out[j] = _nanmedian(values[np.setdiff1d(idx, j)].T)
    return out


def confirmed(flags: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Keep a run of `flags` only when some period of it is flagged the same way in `own` (the
    member against its own history): the departure must stand out from the peers *and* be real."""
    out = np.zeros_like(flags)
    for i in np.nonzero((flags != 0).any(axis=1))[0]:
        row, j = flags[i], 0
        while j < len(row):
            k = j
            while k + 1 < len(row) and row[k + 1] == row[j]:
                k += 1
            if row[j] != 0 and np.any(own[i, j:k + 1] == row[j]):
                out[i, j:k + 1] = row[j]
            j = k + 1
    return out
