"""`opsfin eval predict` on a workspace (docs/predict.md "Backtest"): the maintenance risk backtest
(runs.predict.backtest_points scored by opsfin.evaluation.predict) and where the injected defect causes of
truth/ rank among the drivers of `predict defects`."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..evaluation.predict import PREVENTED_SHARE, score_backtest
from ..predict.maintenance import MONITOR_RISK
from .predict import backtest_points
from .predict_defects import predict_defects

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder


def match_cause(entity_id: str, drivers: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, str | None]:
    """The best-ranked of `drivers` (ranked, as `predict defects` gives them) that names an injected cause's
    entity, and what named it: its worst member ("worst"), its name ("driver"), its group ("group") or the
    member where a numeric driver's effect sits ("where"); (None, None) when none does."""
    for d in sorted(drivers, key=lambda d: d["rank"]):
        names = {"worst": d["worst"], "driver": d["driver"], "group": d["group"]}
        names["where"] = d["where"]["member"] if d.get("where") else None
        by = next((key for key, name in names.items() if name == entity_id), None)
        if by:
            return d, by
    return None, None


def _defect_causes(ws: WorkspaceFolder, truth: list, progress: Any) -> dict[str, Any]:
    """Where the injected defect causes of truth/ rank among the drivers of `predict defects`: a cause counts
    as found at the rank of the best-ranked driver that names it (match_cause), and at the rank of that
    driver's group among the groups."""
    causes = [t for t in truth if "defect" in t.kind or "quality" in t.kind]
    if not causes:
        return {"causes": [], "summary": "defect drivers: no injected causes in this demo"}
    progress("defect drivers")
    result = predict_defects(ws)
    drivers, groups = result["drivers"], {g["group"]: g["rank"] for g in result["groups"]}
    found = []
    for t in causes:
        hit, by = match_cause(t.entity_id, drivers)
        found.append({
            "anomaly": t.id, "kind": t.kind, "entity_id": t.entity_id,
            "driver": hit["driver"] if hit else None, "matched_by": by,
            "rank": hit["rank"] if hit else None, "of": len(drivers),
            "group_rank": groups[hit["group"]] if hit else None, "groups": len(groups),
        })  # fmt: skip
    ranks = ", ".join(
        f"{c['entity_id']}: {c['rank']} of {c['of']} ({c['driver']} by its {c['matched_by']}; "
        f"{c['group_rank']} of {c['groups']} groups)"
        if c["rank"]
        else f"{c['entity_id']}: not found"
        for c in found
    )
    return {"causes": found, "summary": f"defect drivers: injected causes rank {ranks}"}


def evaluate_predict(
    ws: WorkspaceFolder,
    horizon_days: int = 14,
    days: int = 364,
    prevented_share: Decimal = PREVENTED_SHARE,
    monitor_risk: float = MONITOR_RISK,
    progress: Any = None,
) -> dict[str, Any]:
    """`opsfin eval predict`: the maintenance backtest (opsfin.evaluation.predict) and the rank of the
    injected defect causes."""
    from .model import load_truth

    say = progress or (lambda _text: None)
    if not 0 <= prevented_share <= 1:
        raise UserError("{param} must be a share between 0 and 1", param="prevented-share", value=prevented_share)
    if days < horizon_days:
        raise UserError("{param} must be at least the horizon", param="days", value=days)
    truth = load_truth(ws.truth_dir)
    points = backtest_points(ws, horizon_days, days, monitor_risk, say)
    return {
        "horizon_days": horizon_days,
        "as_of_dates": sorted({str(d) for d in points["as_of"]}),
        "maintenance": score_backtest(points, truth, prevented_share),
        "defects": _defect_causes(ws, truth, say),
    }
