"""Detection quality: alerts scored against the demo's ground truth (`truth/anomalies.json`).

- An anomaly is *caught* when an alert names its `kpi`, has its `entity_id` among the scope values,
  and covers a period overlapping [start, end]. Recall is over the anomalies that name a KPI
  (`kpi: null` kinds are no detector target: the matching kinds, and the demand shift, which forecasts
  should show).
- An anomaly-kind alert is *true* when its scope names the entity of a true anomaly that names a KPI
  (any KPI: one cause shows in several) and its period overlaps that anomaly. Precision is the share
  of true ones among anomaly-kind alerts.

Only this module parses truth/ (read by opsfin.runs.model); the detector never sees it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from ..alerts.model import Alert
from ..errors import UserError


@dataclass
class Truth:
    id: str
    kind: str
    kpi: str | None
    entity_id: str
    start: dt.date
    end: dt.date


def parse_truth(text: str, where: str | Path = "truth/anomalies.json") -> list[Truth]:
    """The anomalies of a ground-truth file's JSON text; a bad file is one UserError naming `where`. The
    I/O layer reads the file (opsfin.runs.model.load_truth)."""
    try:
        records = json.loads(text)
        return [
            Truth(
                r["id"],
                r["kind"],
                r.get("kpi"),
                str(r["entity_id"]),
                dt.date.fromisoformat(r["start"]),
                dt.date.fromisoformat(r["end"]),
            )
            for r in records
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{where}: not a ground-truth file ({exc})") from None


def _overlaps(a: Alert, t: Truth) -> bool:
    return a.period_start <= t.end and a.period_end >= t.start


def caught(t: Truth, alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.kpi == t.kpi and t.entity_id in a.scope.values() and _overlaps(a, t)]


def is_true(a: Alert, truth: list[Truth]) -> bool:
    return any(t.kpi and t.entity_id in a.scope.values() and _overlaps(a, t) for t in truth)


def score(alerts: list[Alert], truth: list[Truth]) -> dict:
    """Recall per anomaly kind (and overall), precision of anomaly alerts per KPI (and overall)."""
    named = [t for t in truth if t.kpi]
    kinds: dict[str, dict] = {}
    for t in named:
        k = kinds.setdefault(t.kind, {"kind": t.kind, "kpi": t.kpi, "anomalies": 0, "caught": 0, "missed": []})
        k["anomalies"] += 1
        if caught(t, alerts):
            k["caught"] += 1
        else:
            k["missed"].append(f"{t.id} {t.entity_id} {t.start}..{t.end}")
    anomaly_alerts = [a for a in alerts if a.kind == "anomaly"]
    truths = {a.id: is_true(a, named) for a in anomaly_alerts}
    # precision per anomaly kind: the alerts on that kind's KPI
    for k in kinds.values():
        on_kpi = [a for a in anomaly_alerts if a.kpi == k["kpi"]]
        k["alerts"] = len(on_kpi)
        k["true_alerts"] = sum(truths[a.id] for a in on_kpi)
        k["recall"] = k["caught"] / k["anomalies"] if k["anomalies"] else None
        k["precision"] = k["true_alerts"] / k["alerts"] if k["alerts"] else None
    by_kpi: dict[str, list[int]] = {}
    for a in anomaly_alerts:
        c = by_kpi.setdefault(a.kpi, [0, 0])
        c[0] += 1
        c[1] += truths[a.id]
    n_caught = sum(k["caught"] for k in kinds.values())
    n_true = sum(truths.values())
    return {
        "kinds": sorted(kinds.values(), key=lambda k: k["kind"]),
        "alerts_by_kpi": {kpi: {"alerts": c[0], "true": c[1]} for kpi, c in sorted(by_kpi.items())},
        "overall": {
            "anomalies": len(named),
            "caught": n_caught,
            "recall": n_caught / len(named) if named else None,
            "anomaly_alerts": len(anomaly_alerts),
            "true_alerts": n_true,
            "precision": n_true / len(anomaly_alerts) if anomaly_alerts else None,
            "guardrail_alerts": sum(a.kind == "guardrail" for a in alerts),
        },
        "false_alerts": [a.to_dict() for a in anomaly_alerts if not truths[a.id]],
    }
