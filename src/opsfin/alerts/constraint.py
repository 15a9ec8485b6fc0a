"""Each site's constraint, period by period, from what was known at the time (docs/alerts.md, `members`).

A scan with `members: constraint` watches, within each value of its first `by` dimension (a site), the member
of the last one (a work centre) that is the constraint: the one with the highest median of the KPI over the
`window` periods *before* the period (the scan passes two baselines: two years of months). Every member's
series is scanned against its own history, and an alert is kept when its member was the constraint where
the alert opened (its change point). A plant whose product mix moves its bottleneck from the assembly line
to another cell is watched at the assembly line until the move shows in the queues, and at the new
constraint after it; the new constraint's own rise, read against its quieter past, opens no alert (it was
not the constraint yet), and a surge does not take the constraint from the member it surges in (the
ranking ends before the alert opens, and a long window holds when two queues are close). A median over the
whole history would pick one member for every period, the future included."""

from __future__ import annotations

import numpy as np

from .detect import flagged_runs, nanmedian


def constraint_mask(values: np.ndarray, groups: np.ndarray, window: int) -> np.ndarray:
    """members × periods: True where the member had the highest median over the `window` periods before the
    period among the members of its group (`groups`: one label per member); a tie goes to the first member.
    False at the first period (nothing known yet) and where no member of the group has data."""
    level = np.full(values.shape, np.nan)
    for t in range(1, values.shape[1]):
        level[:, t] = nanmedian(values[:, max(0, t - window) : t])
    out = np.zeros(values.shape, dtype=bool)
    for g in np.unique(groups):
        idx = np.nonzero(groups == g)[0]
        sub = level[idx]
        known = ~np.isnan(sub).all(axis=0)
        best = np.argmax(np.where(np.isnan(sub), -np.inf, sub), axis=0)
        out[idx[best[known]], np.nonzero(known)[0]] = True
    return out


def opened_where(flags: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The runs of `flags` (consecutive periods flagged the same way) whose first period is in `mask`."""
    out = np.zeros_like(flags)
    for i, j, k in flagged_runs(flags):
        if mask[i, j]:
            out[i, j:k] = flags[i, j]
    return out
