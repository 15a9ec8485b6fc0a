"""Reading the model files in the I/O layer (src/opsfin/runs/model.py; docs/configuration.md): a missing
file falls back as documented, a file that cannot be read is one line naming it within the workspace."""

from __future__ import annotations

import pytest

from opsfin.errors import UserError
from opsfin.kpis import KPI_BY_ID
from opsfin.matching.config import MatchingConfig
from opsfin.runs import model

LOADERS = {
    "kpis.yaml": model.load_catalog,
    "guardrails.yaml": lambda m: model.load_guardrails(m, KPI_BY_ID),
    "detection.yaml": lambda m: model.load_detection(m, KPI_BY_ID),
    "activities.yaml": model.load_abc_config,
    "allocations.yaml": model.load_allocation_config,
    "matching.yaml": model.load_matching_config,
}


def test_missing_files_fall_back_as_documented(tmp_path):
    assert set(model.load_catalog(tmp_path)) == set(KPI_BY_ID) and model.load_catalog(None).keys() == KPI_BY_ID.keys()
    assert model.load_guardrails(tmp_path) == [] and model.load_guardrails(None) == []
    scans = model.load_detection(tmp_path, KPI_BY_ID)
    assert len(scans) == 15 and scans[0].kpi == "energy_per_unit"  # the shipped model_defaults/detection.yaml
    assert model.load_matching_config(tmp_path) == MatchingConfig()
    for load, name in (
        (model.load_abc_config, "activities"),
        (model.load_allocation_config, "allocations"),
    ):
        with pytest.raises(UserError, match=rf"^model/{name}.yaml: file missing; `opsfin init "):
            load(tmp_path / "model")


def test_a_present_file_is_read_and_named_within_the_workspace(tmp_path):
    (tmp_path / "guardrails.yaml").write_text(
        "guardrails:\n  - {kpi: dso, max: 40, severity: stop}\n", encoding="utf-8"
    )
    (tmp_path / "detection.yaml").write_text("scan:\n  - {kpi: oee, by: machine}\n", encoding="utf-8")
    (tmp_path / "kpis.yaml").write_text("kpis:\n  - {id: oee, owner: Plant manager}\n", encoding="utf-8")
    (g,) = model.load_guardrails(tmp_path, KPI_BY_ID)
    assert (g.kpi, g.min, g.max, g.severity) == ("dso", None, 40, "stop")
    assert [(s.kpi, s.by) for s in model.load_detection(tmp_path, KPI_BY_ID)] == [("oee", ("machine",))]
    assert model.load_catalog(tmp_path)["oee"].owner == "Plant manager"
    (tmp_path / "kpis.yaml").write_text("kpis:\n  - {name: no id}\n", encoding="utf-8")
    with pytest.raises(UserError) as err:
        model.load_catalog(tmp_path)
    assert str(err.value) == "model/kpis.yaml: every entry under 'kpis' needs an 'id'"


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_a_file_that_cannot_be_read_is_one_line(tmp_path, name):
    path = tmp_path / name
    path.mkdir()
    with pytest.raises(UserError) as err:
        LOADERS[name](tmp_path)
    assert str(err.value) == f"model/{name}: cannot be read (Is a directory)"
    path.rmdir()
    path.write_bytes(b"guardrails: \xff\xfe\n")
    with pytest.raises(UserError) as err:
        LOADERS[name](tmp_path)
    assert str(err.value) == f"model/{name}: not a UTF-8 text file"


def test_truth_is_read_by_the_io_layer(tmp_path):
    with pytest.raises(UserError, match=r"^truth/anomalies.json: no ground truth"):
        model.load_truth(tmp_path)
    (tmp_path / "anomalies.json").write_text(
        '[{"id": "T1", "kind": "machine_drift", "kpi": "oee", '
        '"entity_id": 7, "start": "2024-03-01", "end": "2024-03-31"}]'
    )
    (t,) = model.load_truth(tmp_path)
    assert (t.id, t.kpi, t.entity_id, t.start.isoformat(), t.end.isoformat()) == (
        "T1",
        "oee",
        "7",
        "2024-03-01",
        "2024-03-31",
    )
    (tmp_path / "anomalies.json").write_text("{not json")
    with pytest.raises(UserError, match=r"^truth/anomalies.json: not a ground-truth file"):
        model.load_truth(tmp_path)
