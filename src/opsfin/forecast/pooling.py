"""Product forecasts pooled with their family's (docs/forecasting.md "Demand forecasts from the warehouse").

A single product's series is short and noisy: with two or three years of months, its own seasonal shape
is estimated from two or three values per month. Its family's series sums several products and shows
the shape more clearly. So before the reconciliation the base forecast of each product and each product ×
site cell is the mean of its own forecast and its **share of its family's forecast** (the share: its
shipped quantity over the last SHARE_MONTHS months ÷ its family's, a whole season so that no month
weighs more than another). The interval is moved with the forecast. Pure: frames in, frames out."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .hierarchy import NO_FAMILY

SHARE_MONTHS = 12
POOLED_LEVELS = ("product", "product_site")
OWN_WEIGHT = 0.5  # the member's own forecast; the rest is its share of its family's


def family_shares(history: pd.DataFrame, families: Mapping[str, str]) -> dict[tuple[str, str], tuple[str, float]]:
    """(level, key) of every product and product × site member → (its family, its share of the family's
    shipped quantity over the last SHARE_MONTHS months of `history` (level, key, ds, y)); 0 when the family
    shipped nothing then."""
    ds = pd.to_datetime(history["ds"])
    recent = history[ds > ds.max() - pd.DateOffset(months=SHARE_MONTHS)]
    sums = recent.groupby(["level", "key"])["y"].sum().to_dict()
    out = {}
    for level in POOLED_LEVELS:
        for (lv, key), y in sums.items():
            if lv != level:
                continue
            family = families.get(key.split("/")[0]) or NO_FAMILY
            total = sums.get(("family", family), 0.0)
            out[(level, key)] = (family, float(y) / total if total > 0 else 0.0)
    return out


def pool_with_family(base: pd.DataFrame, history: pd.DataFrame, families: Mapping[str, str]) -> pd.DataFrame:
    """`base` (level, key, ds, yhat, lo, hi, model) with each product and product × site forecast replaced
    by OWN_WEIGHT × its own + (1 − OWN_WEIGHT) × its share of its family's forecast of the same month;
    lo and hi move by the same amount (lo kept ≥ 0 and ≤ the forecast). Other members are unchanged."""
    shares = family_shares(history, families)
    family_fc = {
        (key, pd.Timestamp(ds)): float(v)
        for level, key, ds, v in zip(base["level"], base["key"], base["ds"], base["yhat"], strict=True)
        if level == "family"
    }
    out = base.copy()
    pooled = out["level"].isin(POOLED_LEVELS).to_numpy()
    own = out["yhat"].astype(float).to_numpy()
    target = own.copy()
    for i in np.flatnonzero(pooled):
        family, share = shares.get((out["level"].iat[i], out["key"].iat[i]), (None, None))
        month = pd.Timestamp(out["ds"].iat[i])
        if share is None or (family, month) not in family_fc:
            continue
        target[i] = OWN_WEIGHT * own[i] + (1 - OWN_WEIGHT) * share * family_fc[(family, month)]
    shift = target - own
    out["yhat"] = target
    out["lo"] = np.minimum(np.maximum(out["lo"].astype(float).to_numpy() + shift, 0.0), target)
    out["hi"] = np.maximum(out["hi"].astype(float).to_numpy() + shift, target)
    return out
