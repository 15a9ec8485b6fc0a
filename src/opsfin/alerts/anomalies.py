"""Anomaly alerts: every scan entry of model/detection.yaml run through the detector (detect.py).

For each scan the KPI engine computes the series (one per dimension member) over the whole history
up to --to; the detector flags runs in the bad direction; each run becomes one Alert whose value is
the KPI over the run and whose `expected` is the baseline (× the peers' level when `peers` is set)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..kpis import compute
from ..kpis.batch import Ask, Ready
from ..kpis.definitions import Kpi
from .constraint import constraint_mask, opened_where
from .detect import Block, confirmed, detect_blocks, peer_level
from .model import DIM_LABELS, Alert, alert_id, fmt_span, fmt_value, scope_words
from .runs import merge_runs, period_end, period_index
from .scan import Scan


def series_asks(scan: Scan, end: dt.date | None) -> list[Ask]:
    """The KPI series a scan reads: its KPI's, and the `constraint_by` KPI's that ranks the constraint."""
    return [Ask.of(k, scan.settings.grain, scan.by, None, None, end) for k in (scan.kpi, scan.constraint_by) if k]


def _kpi_series(t, kpi: str, scan: Scan, catalog: Mapping[str, Kpi], end: dt.date | None, ready: Ready) -> pl.DataFrame:
    """The series of `kpi` at the scan's grain and `by` up to `end`: from `ready` when computed there."""
    got = (ready or {}).get(Ask.of(kpi, scan.settings.grain, scan.by, None, None, end))
    return (
        got
        if got is not None
        else compute(t, [kpi], scan.settings.grain, list(scan.by), None, None, end, catalog=catalog)[0]
    )


def _series(t, scan: Scan, catalog: Mapping[str, Kpi], end: dt.date | None, ready: Ready = None) -> pl.DataFrame:
    by = list(scan.by)
    df = _kpi_series(t, scan.kpi, scan, catalog, end, ready)
    df = df.with_columns(pl.col("value", "numerator", "denominator").cast(pl.Float64))
    df = df.filter(pl.all_horizontal(pl.col(d).is_not_null() for d in by)) if by else df
    return df


def _ranking(
    t,
    scan: Scan,
    catalog: Mapping[str, Kpi],
    end: dt.date | None,
    members: pl.DataFrame,
    index: dict[dt.date, int],
    shape: tuple[int, int],
    ready: Ready = None,
) -> np.ndarray:
    """The `constraint_by` KPI (e.g. machine_load, as `opsfin bottlenecks` ranks work centres) per member and
    period of the scan's matrix; NaN where the member or period has none."""
    assert scan.constraint_by is not None
    by = list(scan.by)
    df = _kpi_series(t, scan.constraint_by, scan, catalog, end, ready)
    df = df.filter(pl.col("period_start").is_in(list(index)) & pl.col("value").is_not_null()).join(members, on=by)
    df = df.with_columns(
        pl.col("value").cast(pl.Float64), _t=pl.col("period_start").replace_strict(index, return_dtype=pl.Int64)
    )
    return _matrix(df, "value", shape)


def _constraint(scan: Scan, members: pl.DataFrame, values: np.ndarray) -> np.ndarray | None:
    """`members: constraint`: where each member was its site's constraint when the period began, ranked over
    the two baselines before it (constraint.py)."""
    if scan.members != "constraint":
        return None
    site = list(scan.by[:-1])
    groups = members.join(members.select(site).unique().with_row_index("_g"), on=site, how="left").sort("_m")
    return constraint_mask(values, groups["_g"].to_numpy(), 2 * (scan.settings.baseline or 1))


def _matrix(df: pl.DataFrame, column: str, shape: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, np.nan)
    out[df["_m"].to_numpy(), df["_t"].to_numpy()] = df[column].fill_null(np.nan).to_numpy()
    return out


def _alert_signs(alert_on: str, kpi: Kpi) -> list[int]:
    """The flag signs (+1 above the band, −1 below) that make an alert for the scan's `alert_on`."""
    return {
        "worse": [1 if kpi.direction == "lower_is_better" else -1],
        "higher": [1],
        "lower": [-1],
        "both": [1, -1],
    }[alert_on]


@dataclass
class _Scanned:
    """A scan's series as members × periods matrices, up to the detector (`_prepare`), then after it."""

    scan: Scan
    kpi: Kpi
    df: pl.DataFrame  # the series, with each row's member `_m` and period `_t`
    members: pl.DataFrame
    calendar: list[dt.date]
    values: np.ndarray
    weights: np.ndarray | None
    level: np.ndarray  # the peers' level (1 without peers)
    constraint: np.ndarray | None

    def blocks(self) -> list[Block]:
        """What the detector reads: the series (against its peers' level with `peers`), and with `confirm`
        the series against its own history."""
        s, peers = self.scan.settings, self.scan.peers
        out = [Block(self.values / self.level, self.weights, s, self.level if peers else None)]
        if peers and self.scan.confirm:
            out.append(Block(self.values, self.weights, s))
        return out


def scan_alerts(
    t,
    scan: Scan,
    catalog: Mapping[str, Kpi],
    start: dt.date | None = None,
    end: dt.date | None = None,
    ready: Ready = None,
) -> list[Alert]:
    """Anomaly alerts of one scan entry. The whole history up to `end` feeds the baselines; alerts
    are kept when their run overlaps [start, end]. `ready`: KPI series already computed (`series_asks`)."""
    return detect_anomalies(t, [scan], catalog, start, end, ready)


def detect_anomalies(
    t,
    scans: list[Scan],
    catalog: Mapping[str, Kpi],
    start: dt.date | None = None,
    end: dt.date | None = None,
    ready: Ready = None,
) -> list[Alert]:
    """The alerts of every scan, in scan order. The detector runs once for all series of one baseline
    (detect.detect_blocks: the same numbers as scan by scan, one pass over the periods)."""
    scanned = [p for p in (_prepare(t, scan, catalog, end, ready) for scan in scans) if p is not None]
    found = iter(detect_blocks([b for p in scanned for b in p.blocks()]))
    out: list[Alert] = []
    for p in scanned:
        flags, base, sd = next(found)
        if p.scan.peers and p.scan.confirm:
            flags = confirmed(flags, next(found)[0])
        if p.constraint is not None:
            flags = opened_where(flags, p.constraint)
        out += _scan_alerts(p, flags, base, sd, start, end)
    return out


def _prepare(t, scan: Scan, catalog: Mapping[str, Kpi], end: dt.date | None, ready: Ready) -> _Scanned | None:
    """The scan's series as matrices, its peers' level and constraint mask; None without any series."""
    kpi, s, by = catalog[scan.kpi], scan.settings, list(scan.by)
    df = _series(t, scan, catalog, end, ready)
    if df.is_empty():
        return None
    index = period_index(df["period_start"].unique().to_list(), s.grain)
    calendar = sorted(index, key=index.get)  # type: ignore[arg-type]
    keys = by or ["_all"]
    df = df if by else df.with_columns(_all=pl.lit(0))
    members = df.select(keys).unique().sort(keys).with_row_index("_m")
    df = df.join(members, on=keys).with_columns(_t=pl.col("period_start").replace_strict(index, return_dtype=pl.Int64))
    shape = (members.height, len(calendar))
    ratio = kpi.kind == "ratio"
    num, den = _matrix(df, "numerator", shape), _matrix(df, "denominator", shape)
    values = _matrix(df, "value", shape)
    if s.pool > 1:
        values, num, den = pool_periods(values, num, den, s.pool, kpi.scale if ratio else None)
    ranked = values if not scan.constraint_by else _ranking(t, scan, catalog, end, members, index, shape, ready)
    constraint = _constraint(scan, members, ranked)
    level = np.ones(shape)
    if scan.peers:
        keep = np.ones(shape, dtype=bool) if constraint is None else constraint  # the other sites' constraints
        groups = (members[scan.peers] if scan.peers != "all" else pl.Series([0] * members.height)).to_numpy()
        pv, pn, pd = (np.where(keep, m, np.nan) for m in (values, num, den))
        level = peer_level(pv, groups, pn if ratio else None, pd if ratio else None, kpi.scale)
        level = np.where(level > 0, level, np.nan)
    return _Scanned(scan, kpi, df, members, calendar, values, den if ratio else None, level, constraint)


def _scan_alerts(
    p: _Scanned, flags: np.ndarray, base: np.ndarray, sd: np.ndarray, start: dt.date | None, end: dt.date | None
) -> list[Alert]:
    """The runs of `flags` in the scan's bad direction(s), each an Alert when it overlaps [start, end]."""
    kpi, scan, s, by = p.kpi, p.scan, p.scan.settings, list(p.scan.by)
    keys = by or ["_all"]
    out: list[Alert] = []
    for sign in _alert_signs(scan.alert_on, kpi):
        fm, ft = np.nonzero(flags == sign)
        if not len(fm):
            continue
        hits = pl.DataFrame(
            {
                "_m": fm.astype(np.uint32),
                "_t": ft,
                "_expected": base[fm, ft] * p.level[fm, ft],
                "_band": sd[fm, ft] * p.level[fm, ft],
            }
        )
        rows = hits.join(p.df.select("_m", "_t", "value", "numerator", "denominator"), on=["_m", "_t"], how="left")
        rows = rows.join(p.members, on="_m").with_columns(
            period_start=pl.Series([p.calendar[i] for i in rows["_t"]], dtype=pl.Date)
        )
        runs = merge_runs(
            rows.select(*keys, "period_start", "value", "numerator", "denominator"),
            keys,
            s.grain,
            kpi.scale if kpi.kind == "ratio" else None,
            bad_sign=sign,
        )
        runs = runs.join(rows.group_by(keys).agg("period_start", "_expected", "_band"), on=keys, how="left")
        for r in runs.iter_rows(named=True):
            last_end = period_end(r["run_last"], s.grain, end)
            if start and last_end < start:
                continue
            inside = [i for i, q in enumerate(r["period_start"]) if r["run_start"] <= q <= r["run_last"]]
            r["_expected"] = _mean([r["_expected"][i] for i in inside])
            r["_band"] = _mean([r["_band"][i] for i in inside])
            scope = {d: str(r[d]) for d in by}
            out.append(_alert(kpi, scan, scope, r, sign, last_end))
    return out


def pool_periods(
    values: np.ndarray, num: np.ndarray, den: np.ndarray, k: int, scale: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The series read as each period with the k − 1 before it: (values, numerators, denominators). A ratio
    (`scale` given) is scale × Σ numerator / Σ denominator of the window; a sum is the mean of its observed
    periods."""
    num, den = pooled(num, k), pooled(den, k)
    if scale is not None:
        return scale * num / np.where(den != 0, den, np.nan), num, den
    seen = np.where(np.isnan(values), np.nan, 1.0)
    return pooled(values, k) / pooled(seen, k), num, den


def pooled(m: np.ndarray, k: int) -> np.ndarray:
    """Per member, the sum of each period and the k − 1 before it (missing periods count 0); NaN where the
    period itself has no data, so a pooled series has the same observed periods as the raw one."""
    filled = np.nan_to_num(m)
    csum = np.cumsum(np.concatenate([np.zeros((m.shape[0], 1)), filled], axis=1), axis=1)
    lag = np.maximum(np.arange(1, m.shape[1] + 1) - k, 0)
    return np.where(np.isnan(m), np.nan, csum[:, 1:] - csum[:, lag])


def _mean(xs: list) -> float | None:
    xs = [x for x in xs if x is not None and x == x]
    return sum(xs) / len(xs) if xs else None


def _alert(kpi: Kpi, scan: Scan, scope: dict[str, str], r: dict, sign: int, last_end: dt.date) -> Alert:
    s = scan.settings
    base = r["_expected"]
    band = max(s.slack * (r["_band"] or 0.0), s.min_change * abs(base or 0.0), s.min_abs)
    bound = None if base is None else base + sign * band
    extra = ("lower",) if scan.alert_on == "both" and sign < 0 else ()
    return Alert(
        id=alert_id("anomaly", kpi.id, scope, r["run_start"], *extra),
        kind="anomaly",
        kpi=kpi.id,
        scope=scope,
        period_start=r["run_start"],
        period_end=last_end,
        value=r["value"],
        expected=base,
        bound=bound,
        severity=s.severity,
        grain=s.grain,
        owner=kpi.owner,
        periods=r["periods"],
        explanation=_explain(kpi, scan, scope, r, sign, base),
        extra={"worst": r["worst"], "worst_period": r["worst_period"]},
    )


def _explain(kpi: Kpi, scan: Scan, scope: dict[str, str], r: dict, sign: int, base: float | None) -> str:
    value = r["value"]
    verb = "rose" if sign > 0 else "fell"
    span = fmt_span(r["run_start"], r["run_last"], scan.settings.grain)
    text = f"{kpi.name} {scope_words(scope)} {verb} to {fmt_value(value, kpi.unit)} {span}"
    if value is None or base is None:
        return text + "."
    gap = abs(value - base)
    if kpi.unit == "ratio":
        size = f"{gap * 100:.1f} points"
    elif base:
        size = f"{gap / abs(base):.0%}"
    else:
        size = fmt_value(gap, kpi.unit)
    side = "above" if value > base else "below"
    if not scan.peers:
        return text + f", {size} {side} its usual {fmt_value(base, kpi.unit)}."
    if scan.members == "constraint":
        peers = f"the constraints of the other {DIM_LABELS.get(scan.by[0], scan.by[0])}s"
    elif scan.peers == "all":
        peers = f"the other {DIM_LABELS.get(scan.by[-1], scan.by[-1])}s"
    else:
        peers = f"the rest of {DIM_LABELS.get(scan.peers, scan.peers)} {scope.get(scan.peers, '')}"
    return text + f", {size} {side} the {fmt_value(base, kpi.unit)} expected from {peers}."
