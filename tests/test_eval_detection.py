"""The detection scorer (`opsfin.evaluation.detection`) on hand-made alerts and ground truth, every count
and ratio worked out by hand.

Truth: machine drift on the OEE of M1 in March and of M2 in May; late suppliers on on-time delivery, SUP1
10-20 February and SUP2 1-10 March; a duplicate bank line with no KPI (a matching kind: left out of recall).
Alerts (anomaly unless said):
- A1 OEE at M1, March: catches the M1 drift; true.
- A2 OEE at M2, April: the M2 drift is in May, no day in common: catches nothing; false.
- A3 OEE at M3, March: no anomaly at M3; false.
- A4 on-time delivery for SUP1, 20-29 February: shares the 20th with the late supplier: catches it; true.
- A6 on-time delivery for SUP1, 25 January - 10 February: shares the 10th: true (and catches it too).
- A7 on-time delivery for SUP2, 5-31 March: catches SUP2; true.
- A5 scrap rate at M1, 15 March - 14 April: M1 drifts in March (any KPI counts for truth): true; it
  catches nothing (the drift names OEE).
- G1 a guardrail on OEE at M1 in June: counted as a guardrail alert, overlaps no anomaly.
So: machine drift 1 of 2 caught (recall 1/2), 1 true of the 3 OEE anomaly alerts (precision 1/3); late
suppliers 2 of 2, 3 true of 3; overall 3 of 4 anomalies caught, 5 true of 7 anomaly alerts."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from opsfin.alerts.model import Alert
from opsfin.errors import UserError
from opsfin.evaluation.detection import score
from opsfin.runs.model import load_truth

TRUTH = [
    {
        "id": "T1",
        "kind": "machine_drift",
        "kpi": "oee",
        "entity_id": "M1",
        "start": "2024-03-01",
        "end": "2024-03-31",
    },
    {
        "id": "T2",
        "kind": "machine_drift",
        "kpi": "oee",
        "entity_id": "M2",
        "start": "2024-05-01",
        "end": "2024-05-31",
    },
    {
        "id": "T3",
        "kind": "late_supplier",
        "kpi": "on_time_delivery",
        "entity_id": "SUP1",
        "start": "2024-02-10",
        "end": "2024-02-20",
    },
    {
        "id": "T5",
        "kind": "late_supplier",
        "kpi": "on_time_delivery",
        "entity_id": "SUP2",
        "start": "2024-03-01",
        "end": "2024-03-10",
    },
    {
        "id": "T4",
        "kind": "duplicate_bank_line",
        "kpi": None,
        "entity_id": "L9",
        "start": "2024-02-01",
        "end": "2024-02-01",
    },
]


def alert(id_: str, kpi: str, scope: dict[str, str], start: str, end: str, kind: str = "anomaly") -> Alert:
    return Alert(
        id_,
        kind,
        kpi,
        scope,
        dt.date.fromisoformat(start),
        dt.date.fromisoformat(end),
        None,
        None,
        None,
        "warn",
        "",
    )


ALERTS = [
    alert("A1", "oee", {"site": "P1", "machine": "M1"}, "2024-03-01", "2024-03-31"),
    alert("A2", "oee", {"machine": "M2"}, "2024-04-01", "2024-04-30"),
    alert("A3", "oee", {"machine": "M3"}, "2024-03-01", "2024-03-31"),
    alert("A4", "on_time_delivery", {"supplier": "SUP1"}, "2024-02-20", "2024-02-29"),
    alert("A5", "scrap_rate", {"machine": "M1"}, "2024-03-15", "2024-04-14"),
    alert("A6", "on_time_delivery", {"supplier": "SUP1"}, "2024-01-25", "2024-02-10"),
    alert("A7", "on_time_delivery", {"supplier": "SUP2"}, "2024-03-05", "2024-03-31"),
    alert("G1", "oee", {"machine": "M1"}, "2024-06-01", "2024-06-30", kind="guardrail"),
]


@pytest.fixture
def truth(tmp_path):
    (tmp_path / "anomalies.json").write_text(json.dumps(TRUTH), encoding="utf-8")
    return load_truth(tmp_path)


def test_recall_and_precision_per_kind(truth):
    kinds = {k["kind"]: k for k in score(ALERTS, truth)["kinds"]}
    assert set(kinds) == {"machine_drift", "late_supplier"}  # the KPI-less kind is matching's
    drift = kinds["machine_drift"]
    assert (drift["anomalies"], drift["caught"], drift["alerts"], drift["true_alerts"]) == (
        2,
        1,
        3,
        1,
    )
    assert drift["recall"] == 0.5 and drift["precision"] == pytest.approx(1 / 3)
    assert drift["missed"] == ["T2 M2 2024-05-01..2024-05-31"]
    late = kinds["late_supplier"]
    assert (late["anomalies"], late["caught"], late["alerts"], late["true_alerts"]) == (2, 2, 3, 3)
    assert (late["recall"], late["precision"], late["missed"]) == (1.0, 1.0, [])


def test_overall_scores_and_the_false_alerts(truth):
    result = score(ALERTS, truth)
    assert result["overall"] == {
        "anomalies": 4,
        "caught": 3,
        "recall": 0.75,
        "anomaly_alerts": 7,
        "true_alerts": 5,
        "precision": pytest.approx(5 / 7),
        "guardrail_alerts": 1,
    }
    assert result["alerts_by_kpi"] == {
        "on_time_delivery": {"alerts": 3, "true": 3},
        "oee": {"alerts": 3, "true": 1},
        "scrap_rate": {"alerts": 1, "true": 1},
    }
    assert [a["id"] for a in result["false_alerts"]] == ["A2", "A3"]


def test_no_alerts_or_no_truth_no_ratios(truth):
    result = score([], truth)
    assert result["overall"]["recall"] == 0 and result["overall"]["precision"] is None
    assert all(k["precision"] is None for k in result["kinds"])
    untold = score(ALERTS, [])
    assert untold["kinds"] == [] and untold["overall"]["recall"] is None and untold["overall"]["precision"] == 0


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '[{"id": "T1"}]',
        '[{"id": "T1", "kind": "k", "kpi": null, "entity_id": "M1", "start": "March", "end": "x"}]',
    ],
)
def test_a_bad_or_missing_truth_file_is_a_user_error(tmp_path, content):
    with pytest.raises(UserError, match="no ground truth"):
        load_truth(tmp_path)
    (tmp_path / "anomalies.json").write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match="not a ground-truth file"):
        load_truth(tmp_path)
