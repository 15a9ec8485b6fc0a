"""`opsfin eval forecast`: the demand forecast measured on the demo company (docs/forecasting.md
"Evaluation on the demo company").

Pure: frames in, a report out. The I/O layer (`runs/forecast_eval.py`) runs the rolling-origin backtest
(`forecast/backtest.py`) and reads truth/; this module only judges what it made:
- per level (total, family, site, product, product_site): the backtest's measures over every month ahead;
- additivity: for every origin and month, the largest |parent's p50 − Σ its children's p50| per parent level
  (total over families and over sites, a family over its products, a site and a product over their
  product × site cells); the forecast adds up when it is at most ADDS_UP_TOLERANCE;
- the demand shift of truth/ (one family's level moved from a month on): the WAPE of that family's
  forecast on the months before the shift and from it on, beside seasonal naive's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from ..errors import UserError
from ..forecast.accuracy import LEVEL_ORDER, MEASURES
from ..forecast.hierarchy import NO_FAMILY

ADDS_UP_TOLERANCE = 1e-6  # float rounding: the reconciled p50 are thousandths summed exactly
LEVEL_COLUMNS = ("level", "points", *MEASURES, "adds_up_gap")


@dataclass(frozen=True)
class DemandShift:
    """truth/'s injected demand shift: `family`'s level × `factor` from the month `start` on."""

    family: str
    start: dt.date
    factor: float


@dataclass
class ForecastEvaluation:
    """`levels`: LEVEL_COLUMNS, one row per level (adds_up_gap: the largest parent − children gap over the
    origins and months, NaN for the bottom level); `beats_naive` / `levels_measured`: the levels whose FVA is
    above 0 / that have one; `shift`: the shift's rows (period before / after, points, wape, wape_naive) or
    None without a shift in truth/; `notes`: what the reader should know."""

    origins: list[dt.date]
    horizon: int
    levels: pd.DataFrame
    beats_naive: int
    levels_measured: int
    adds_up: bool
    shift: pd.DataFrame | None = None
    shift_truth: DemandShift | None = None
    notes: list[str] = field(default_factory=list)


def demand_shift(records: list[dict]) -> DemandShift | None:
    """The first `demand_shift` record of truth/anomalies.json's records (None when there is none)."""
    for r in records:
        if r.get("kind") == "demand_shift":
            try:
                return DemandShift(str(r["entity_id"]), dt.date.fromisoformat(r["start"]), float(r["factor"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise UserError(f"truth/anomalies.json: a demand_shift record is malformed ({exc})") from None
    return None


def _children_gaps(parents: pd.DataFrame, children: pd.DataFrame, parent_of: dict) -> pd.Series:
    """|parent p50 − Σ children p50| per version, parent key and ds; children mapped by `parent_of`."""
    kids = children.assign(key=children["key"].map(parent_of)).dropna(subset=["key"])
    sums = kids.groupby(["version", "key", "ds"])["p50"].sum().rename("children")
    both = parents.set_index(["version", "key", "ds"])["p50"].to_frame().join(sums, how="left")
    return (both["p50"] - both["children"].fillna(0.0)).abs()


def additivity_gaps(forecasts: pd.DataFrame, families: pd.DataFrame) -> dict[str, float]:
    """The largest |p50 − Σ children's p50| of each parent level over every version and month of `forecasts`
    (version, level, key, ds, p50); `families`: product_id, family ('(none)' for a product without one)."""
    fc = forecasts.assign(p50=forecasts["p50"].astype(float), ds=pd.to_datetime(forecasts["ds"]))
    at = {level: fc[fc["level"] == level] for level in LEVEL_ORDER}
    family_of = {
        str(p): (NO_FAMILY if pd.isna(f) else str(f))
        for p, f in zip(families["product_id"], families["family"], strict=True)
    }
    cells = at["product_site"]["key"].unique()
    edges: dict[str, list[tuple[str, dict]]] = {
        "total": [
            ("family", {k: "total" for k in at["family"]["key"].unique()}),
            ("site", {k: "total" for k in at["site"]["key"].unique()}),
        ],
        "family": [("product", {k: family_of.get(k) for k in at["product"]["key"].unique()})],
        "site": [("product_site", {k: k.rsplit("/", 1)[-1] for k in cells})],
        "product": [("product_site", {k: k.rsplit("/", 1)[0] for k in cells})],
    }
    gaps: dict[str, float] = {}
    for parent, kinds in edges.items():
        worst = [_children_gaps(at[parent], at[child], mapping) for child, mapping in kinds]
        values = pd.concat(worst) if worst else pd.Series(dtype=float)
        gaps[parent] = float(values.max()) if len(values) else 0.0
    return gaps


def _number(value) -> float:
    return float("nan") if pd.isna(value) else float(value)


def _wape(part: pd.DataFrame, column: str) -> float:
    volume = float(part["y"].abs().sum())
    return float((part["y"] - part[column]).abs().sum()) / volume if volume else float("nan")


def shift_accuracy(points: pd.DataFrame, shift: DemandShift) -> pd.DataFrame:
    """The shifted family's forecast WAPE and seasonal naive's on the months forecast before the shift and
    from it on (POINT_COLUMNS points in; columns period, months, points, wape, wape_naive)."""
    mine = points[(points["level"] == "family") & (points["key"] == shift.family)]
    after = pd.to_datetime(mine["ds"]) >= pd.Timestamp(shift.start)
    rows = []
    for name, part in (("before", mine[~after]), ("after", mine[after])):
        months = sorted({f"{pd.Timestamp(d):%Y-%m}" for d in part["ds"]})
        span = f"{months[0]}..{months[-1]}" if months else ""
        rows.append(
            {
                "period": name,
                "months": span,
                "points": len(part),
                "wape": _wape(part, "p50"),
                "wape_naive": _wape(part, "naive"),
            }
        )
    return pd.DataFrame(rows)


def evaluate(
    summary: pd.DataFrame,
    forecasts: pd.DataFrame,
    points: pd.DataFrame,
    families: pd.DataFrame,
    origins: list[dt.date],
    horizon: int,
    shift: DemandShift | None = None,
) -> ForecastEvaluation:
    """The report: `summary` the backtest's BACKTEST_COLUMNS, `forecasts` its forecasts, `points` its
    measured points (forecast/backtest.py BacktestResult)."""
    overall = summary[summary["months_ahead"].isna()].set_index("level")
    gaps = additivity_gaps(forecasts, families)
    rows = []
    for level in LEVEL_ORDER:
        if level not in overall.index:
            continue
        row = overall.loc[level]
        rows.append(
            {"level": level, "points": int(row["points"])}
            | {m: _number(row[m]) for m in MEASURES}
            | {"adds_up_gap": gaps.get(level, float("nan"))}
        )
    levels = pd.DataFrame(rows, columns=list(LEVEL_COLUMNS))
    fva = levels["fva"].dropna()
    notes = []
    report = ForecastEvaluation(
        origins, horizon, levels, int((fva > 0).sum()), len(fva), all(g <= ADDS_UP_TOLERANCE for g in gaps.values())
    )
    if shift is None:
        notes.append("no demand shift in truth/")
    else:
        report.shift, report.shift_truth = shift_accuracy(points, shift), shift
    report.notes = notes
    return report


def _plain(value):
    if isinstance(value, float) and value != value:
        return None
    return value.item() if hasattr(value, "item") else value


def evaluation_json(report: ForecastEvaluation) -> dict:
    """The report as JSON: origins (YYYY-MM), horizon, levels, adds_up, verdict, demand_shift, notes."""
    shift = None
    if report.shift_truth is not None and report.shift is not None:
        t = report.shift_truth
        shift = {
            "family": t.family,
            "start": f"{t.start:%Y-%m}",
            "factor": t.factor,
            "periods": [{k: _plain(v) for k, v in r.items()} for r in report.shift.to_dict("records")],
        }
    return {
        "origins": [f"{o:%Y-%m}" for o in report.origins],
        "horizon": report.horizon,
        "levels": [{k: _plain(v) for k, v in r.items()} for r in report.levels.to_dict("records")],
        "adds_up": report.adds_up,
        "beats_naive": report.beats_naive,
        "levels_measured": report.levels_measured,
        "demand_shift": shift,
        "notes": list(report.notes),
    }


def verdict(report: ForecastEvaluation) -> str:
    """The one line: how many levels beat seasonal naive, and whether the levels add up."""
    adds = "every level adds up" if report.adds_up else "the levels do NOT add up"
    return f"beats seasonal naive at {report.beats_naive} of {report.levels_measured} levels; {adds}"
