"""The demand hierarchy: product × site at the bottom, summed to product → family → total and to
site → total (docs/forecasting.md "Demand forecasts from the warehouse"). Pure: frames in, frames out.

`aggregate` builds the actual series of every member; `reconcile` makes the base forecasts of every
member add up, with hierarchicalforecast (MinTrace, BottomUp when MinTrace fails)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from ..core.money import round_half_even

# from the top down; the bottom level (product_site) is last
LEVELS: tuple[str, ...] = ("total", "family", "site", "product", "product_site")
TOTAL_KEY = "total"
NO_FAMILY = "(none)"
QTY_PLACES = 3  # reconciled quantities are kept to a thousandth of a unit, so that the levels add up exactly
RECONCILERS = ("MinTrace(wls_var)", "MinTrace(ols)", "BottomUp")


def bottom_key(product_id: str, site_id: str) -> str:
    """The key of a product × site member: `product_id/site_id`."""
    return f"{product_id}/{site_id}"


def member_id(level: str, key: str) -> str:
    """One id for a member of any level (the `unique_id` of its series)."""
    return f"{level}|{key}"


def split_member_id(unique_id: str) -> tuple[str, str]:
    level, _, key = unique_id.partition("|")
    return level, key


def _paths(product_id: str, site_id: str, families: Mapping[str, str]) -> list[tuple[str, str]]:
    """The members a product × site cell adds into, one per level, top first."""
    return [
        ("total", TOTAL_KEY),
        ("family", families.get(product_id) or NO_FAMILY),
        ("site", site_id),
        ("product", product_id),
        ("product_site", bottom_key(product_id, site_id)),
    ]


def family_map(families: Mapping[str, str] | pd.DataFrame) -> Mapping[str, str]:
    """product_id → family, from a mapping or a frame with those two columns."""
    if isinstance(families, pd.DataFrame):
        return dict(zip(families["product_id"], families["family"], strict=True))
    return families


def aggregate(bottom: pd.DataFrame, families: Mapping[str, str] | pd.DataFrame) -> pd.DataFrame:
    """The series of every member of every level from the bottom series.

    `bottom`: product_id, site_id, ds, y (one row per cell and month, as `demand.shipped_series` gives).
    `families`: product_id → family (a mapping, or a frame with those two columns); a product without
    one sums into the family `(none)`. Returns level, key, ds, y in LEVELS order, then key and ds."""
    fam = family_map(families)
    products, sites = bottom["product_id"].astype(str), bottom["site_id"].astype(str)
    keys = {
        "total": pd.Series(TOTAL_KEY, index=bottom.index, dtype=object),
        "family": products.map(lambda p: fam.get(p) or NO_FAMILY),
        "site": sites,
        "product": products,
        "product_site": products + "/" + sites,
    }
    frames = [
        bottom.assign(level=level, key=keys[level])
        .groupby(["level", "key", "ds"], as_index=False, sort=True)["y"]
        .sum()
        for level in LEVELS
    ]
    out = pd.concat(frames, ignore_index=True)[["level", "key", "ds", "y"]]
    return out.astype({"level": object, "key": object, "y": float})


@dataclass
class Structure:
    """Which bottom cells each member sums: `members` in LEVELS order (bottom last), `cells` the
    bottom keys, and `summing` the 0/1 matrix members × cells."""

    members: list[tuple[str, str]]
    cells: list[str]
    summing: np.ndarray
    tags: dict[str, np.ndarray] = field(default_factory=dict)


def structure(cells: list[tuple[str, str]], families: Mapping[str, str] | pd.DataFrame) -> Structure:
    """The summing structure of the product × site `cells` (product_id, site_id)."""
    fam = family_map(families)
    cells = sorted(set(cells))
    per_level: dict[str, dict[str, list[int]]] = {level: {} for level in LEVELS}
    for j, (product, site) in enumerate(cells):
        for level, key in _paths(product, site, fam):
            per_level[level].setdefault(key, []).append(j)
    members = [(level, key) for level in LEVELS for key in sorted(per_level[level])]
    summing = np.zeros((len(members), len(cells)))
    for i, (level, key) in enumerate(members):
        summing[i, per_level[level][key]] = 1.0
    tags = {level: np.array([member_id(level, k) for k in sorted(per_level[level])]) for level in LEVELS}
    return Structure(members, [bottom_key(p, s) for p, s in cells], summing, tags)


def _hierarchical_frames(base: pd.DataFrame, shape: Structure, level: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = [member_id(lv, k) for lv, k in shape.members]
    s_df = pd.DataFrame(shape.summing, columns=shape.cells)
    s_df.insert(0, "unique_id", ids)
    y_hat = pd.DataFrame(
        {
            "unique_id": [member_id(lv, k) for lv, k in zip(base["level"], base["key"], strict=True)],
            "ds": base["ds"].to_numpy(),
            "yhat": base["yhat"].astype(float).to_numpy(),
            f"yhat-lo-{level}": base["lo"].astype(float).to_numpy(),
            f"yhat-hi-{level}": base["hi"].astype(float).to_numpy(),
        }
    )
    return y_hat, s_df


def _run(
    reconciler,
    y_hat: pd.DataFrame,
    s_df: pd.DataFrame,
    shape: Structure,
    level: int,
    insample: pd.DataFrame | None = None,
) -> pd.DataFrame:
    from hierarchicalforecast.core import HierarchicalReconciliation

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = HierarchicalReconciliation([reconciler]).reconcile(
            Y_hat_df=y_hat,
            S_df=s_df,
            tags=shape.tags,
            level=[level],
            intervals_method="normality",
            Y_df=insample,
        )
    mean = next(c for c in out.columns if c.startswith("yhat/") and "-lo-" not in c and "-hi-" not in c)
    return pd.DataFrame(
        {
            "unique_id": out["unique_id"],
            "ds": out["ds"],
            "p50": out[mean].astype(float),
            "lo": out[f"{mean}-lo-{level}"].astype(float),
            "hi": out[f"{mean}-hi-{level}"].astype(float),
        }
    )


@dataclass
class Reconciled:
    """`values`: level, key, ds, p10, p50, p90, model (p50 adds up exactly at every level and month);
    `reconciler`: the method that made them; `problems`: why a method was passed over."""

    values: pd.DataFrame
    reconciler: str
    problems: list[str] = field(default_factory=list)


def naive_insample(history: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """Every member's history (level, key, ds, y) with the last-value forecast of each month as its
    in-sample fit (`yhat`; the first month is its own): the errors whose variance weighs each member in
    MinTrace's WLS, so a member is trusted in proportion to how steady it is, not equally."""
    frame = pd.DataFrame(
        {
            "unique_id": [member_id(lv, k) for lv, k in zip(history["level"], history["key"], strict=True)],
            "ds": pd.to_datetime(history["ds"]).to_numpy(),
            "y": history["y"].astype(float).to_numpy(),
        }
    ).sort_values(["unique_id", "ds"], kind="stable")
    frame["yhat"] = frame.groupby("unique_id")["y"].shift(1).fillna(frame["y"])
    frame = frame[frame["unique_id"].isin(ids)]
    return frame.reset_index(drop=True)


def reconcile(
    base: pd.DataFrame,
    shape: Structure,
    level: int = 80,
    nonnegative: bool = True,
    history: pd.DataFrame | None = None,
) -> Reconciled:
    """Reconcile the base forecasts of every member of `shape`.

    `base`: level, key, ds, yhat, lo, hi, model (one row per member and month; lo/hi the `level`%
    interval). MinTrace with WLS weights from each member's in-sample last-value errors when `history` is
    given (else the OLS weights, which need none), nonnegative when asked; when it
    fails, BottomUp. The reconciled bottom p50 is rounded half-even to QTY_PLACES and every other member's
    p50 is the exact sum of its cells, so the levels add up to the last digit. p10/p90 are the reconciler's
    `level`% interval of each member (Gaussian, from the base intervals), kept around p50 and ≥ 0."""
    from hierarchicalforecast.methods import BottomUp, MinTrace

    y_hat, s_df = _hierarchical_frames(base, shape, level)
    insample = None if history is None else naive_insample(history, list(s_df["unique_id"]))
    problems: list[str] = []
    methods = [("MinTrace(ols)", "ols"), ("BottomUp", None)]
    if insample is not None:
        methods.insert(0, ("MinTrace(wls_var)", "wls_var"))
    for name, method in methods:
        try:
            if method is None:
                out = _run(BottomUp(), y_hat, s_df, shape, level, insample)
                break
            out = _run(MinTrace(method), y_hat, s_df, shape, level, insample)
            if nonnegative and _negative_cells(out, shape):  # the constrained solve only where it changes the answer
                out = _run(MinTrace(method, nonnegative=True), y_hat, s_df, shape, level, insample)
            break
        except Exception as exc:  # noqa: BLE001 - any failure of a method means: use the next one
            problems.append(f"{name} failed ({type(exc).__name__}: {exc}); used the next method")
    else:  # pragma: no cover - BottomUp does not fail on a valid structure
        raise RuntimeError("; ".join(problems))
    return Reconciled(_coherent(out, base, shape), name, problems)


NEGATIVE_UNITS = 1e-6  # a bottom p50 below minus this is negative; above it, solver noise around 0


def _negative_cells(out: pd.DataFrame, shape: Structure) -> bool:
    """Whether the reconciled p50 of any bottom cell is negative. Only then is the nonnegative (quadratic
    program) MinTrace solved: on forecasts that are already nonnegative it returns the same answer up to its
    solver tolerance, which would blur forecasts that add up exactly (Naive's, for one)."""
    bottom = {member_id(lv, k) for lv, k in shape.members[-len(shape.cells) :]}
    return bool((out.loc[out["unique_id"].isin(bottom), "p50"] < -NEGATIVE_UNITS).any())


def _coherent(out: pd.DataFrame, base: pd.DataFrame, shape: Structure) -> pd.DataFrame:
    """Exact p50 sums from the rounded bottom p50, and intervals kept around them."""
    ids = [member_id(lv, k) for lv, k in shape.members]
    n_cells = len(shape.cells)
    dates = sorted(out["ds"].unique())
    p50 = out.pivot(index="unique_id", columns="ds", values="p50").reindex(index=ids, columns=dates)
    bottom = [[round_half_even(max(float(v), 0.0), QTY_PLACES) for v in row] for row in p50.to_numpy()[-n_cells:]]
    rows = []
    lo = out.pivot(index="unique_id", columns="ds", values="lo").reindex(index=ids, columns=dates)
    hi = out.pivot(index="unique_id", columns="ds", values="hi").reindex(index=ids, columns=dates)
    models = dict(zip(zip(base["level"], base["key"], strict=True), base["model"], strict=True))
    for i, (level, key) in enumerate(shape.members):
        cells = np.flatnonzero(shape.summing[i])
        for t, ds in enumerate(dates):
            median = float(sum((bottom[j][t] for j in cells), Decimal(0)))
            low, high = float(lo.iat[i, t]), float(hi.iat[i, t])
            rows.append((level, key, ds, max(min(low, median), 0.0), median, max(high, median), models[(level, key)]))
    return pd.DataFrame(rows, columns=["level", "key", "ds", "p10", "p50", "p90", "model"])
