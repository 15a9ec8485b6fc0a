"""Scoring the maintenance risk backtest (docs/predict.md "Backtest"). Pure: one row per as-of date and
machine in, figures out.

- Ranking: PR-AUC (average precision) and ROC-AUC of the model's risk against "a breakdown started within
  the horizon after the as-of date", beside the baseline score "breakdowns in the last 30 days".
- Money, over the same as-of windows: run-to-failure pays every breakdown at the machine's breakdown cost;
  following the recommendations pays a planned maintenance for each `maintain_now` and the breakdowns that
  maintenance does not prevent. The stated assumption: a planned maintenance done on the as-of date
  prevents `prevented_share` of the breakdowns of the horizon that follows (0.5 by default); the break-even
  share (planned spend ÷ the failures that followed the maintained points) says how much hangs on it.
- The rising-breakdowns machines of truth/: their rank by risk (1 = riskiest) on the as-of dates inside
  their anomaly window, beside their rank by the baseline."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import polars as pl
from sklearn.metrics import average_precision_score, roc_auc_score

from ..core.money import round_cents, to_decimal
from .detection import Truth

PREVENTED_SHARE = Decimal("0.5")
RISING = "rising_breakdowns"


def ranking(points: pl.DataFrame) -> dict[str, Any]:
    """PR-AUC and ROC-AUC of `risk` and of `baseline` against `broke_down` (None when one class is absent)."""
    labels = points["broke_down"].to_numpy()
    out: dict[str, Any] = {"points": points.height, "positives": int(labels.sum())}
    both = 0 < labels.sum() < len(labels)
    for score in ("risk", "baseline"):
        values = points[score].cast(pl.Float64).to_numpy()
        out[score] = {
            "pr_auc": round(float(average_precision_score(labels, values)), 4) if both else None,
            "roc_auc": round(float(roc_auc_score(labels, values)), 4) if both else None,
        }
    out["base_rate"] = round(float(labels.mean()), 4) if len(labels) else None
    return out


def money(points: pl.DataFrame, prevented_share: Decimal = PREVENTED_SHARE) -> dict[str, Any]:
    """Run-to-failure against following the recommendations, over every (as-of date, machine) point:
    `breakdowns` that followed, `breakdown_cost`, `planned_maintenance_cost`, `recommendation`."""
    run_to_failure = planned = unprevented = at_maintained = Decimal(0)
    services = 0
    for r in points.iter_rows(named=True):
        failures = to_decimal(r["breakdowns"]) * to_decimal(r["breakdown_cost"])
        run_to_failure += failures
        if r["recommendation"] == "maintain_now":
            services += 1
            planned += to_decimal(r["planned_maintenance_cost"])
            at_maintained += failures
            unprevented += failures * (1 - prevented_share)
        else:
            unprevented += failures
    following = planned + unprevented
    return {
        "prevented_share_assumed": prevented_share,
        "planned_maintenances": services,
        "breakdowns": int(points["breakdowns"].sum()),
        "run_to_failure": round_cents(run_to_failure),
        "following_recommendations": round_cents(following),
        "planned_maintenance_spend": round_cents(planned),
        "failures_not_prevented": round_cents(unprevented),
        "saving": round_cents(run_to_failure) - round_cents(following),  # the difference of the figures shown
        # the share a maintenance must prevent for the recommendations to pay: planned spend ÷ the failures
        # that followed the maintained points
        "break_even_prevented_share": round(float(planned / at_maintained), 4) if at_maintained else None,
    }


def rising_machine_ranks(points: pl.DataFrame, truth: Sequence[Truth]) -> list[dict[str, Any]]:
    """Per rising-breakdowns anomaly: the machine's mean rank by risk and by baseline on the as-of dates
    inside its window (rank 1 = highest score; ties share the best rank), out of the machines scored."""
    ranked = points.with_columns(
        risk_rank=pl.col("risk").rank("min", descending=True).over("as_of"),
        baseline_rank=pl.col("baseline").rank("min", descending=True).over("as_of"),
        machines=pl.len().over("as_of"),
    )
    out = []
    for t in truth:
        if t.kind != RISING:
            continue
        mine = ranked.filter((pl.col("machine_id") == t.entity_id) & pl.col("as_of").is_between(t.start, t.end))
        out.append(
            {
                "anomaly": t.id,
                "machine_id": t.entity_id,
                "window": f"{t.start}..{t.end}",
                "as_of_dates": mine.height,
                "mean_rank_by_risk": round(float(mine["risk_rank"].mean()), 1) if mine.height else None,  # type: ignore[arg-type]
                "mean_rank_by_baseline": round(float(mine["baseline_rank"].mean()), 1) if mine.height else None,  # type: ignore[arg-type]
                "machines": int(mine["machines"].max()) if mine.height else None,  # type: ignore[arg-type]
            }
        )
    return out


def score_backtest(
    points: pl.DataFrame, truth: Sequence[Truth], prevented_share: Decimal = PREVENTED_SHARE
) -> dict[str, Any]:
    """The backtest's figures: ranking, money and the rising-breakdowns machines' ranks."""
    return {
        "ranking": ranking(points),
        "money": money(points, prevented_share),
        "rising_breakdowns": rising_machine_ranks(points, truth),
    }
