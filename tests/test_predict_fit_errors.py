"""`opsfin predict fit|score` on bad input: one clear line naming the file and the column, exit code 2, never
a traceback; and a model that does not match the file, or its sidecar, is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_support import run_cli
from tests.test_predict_fit import signal_rows, write_csv

from opsfin.errors import UserError
from opsfin.runs.predict_fit import fit_file, score_file, sidecar_path


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("fit") / "parts.csv", signal_rows(300, seed=11))


@pytest.fixture(scope="module")
def model(parts) -> Path:
    path = parts.parent / "model.txt"
    fit_file(parts, "failed", path, id_column="part")
    return path


def fit_error(capsys, data: Path, *options: str) -> str:
    code, out, err = run_cli(capsys, "predict", "fit", str(data), "--model-out", str(data.parent / "x.txt"), *options)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("error: ") and err.count("\n") == 1
    return err


def test_a_missing_target_names_the_file_and_the_column(parts, capsys):
    err = fit_error(capsys, parts, "--target", "broken")
    assert str(parts) in err and "--target names column 'broken'" in err and "load, speed" in err


def test_a_target_that_is_not_binary_is_refused(parts, capsys):
    err = fit_error(capsys, parts, "--target", "grade", "--drop", "part")
    assert f"{parts}: target column 'grade' must hold exactly two values" in err and "it holds 3: 'A', 'B', 'C'" in err


def test_a_drop_of_a_column_not_in_the_file_is_refused(parts, capsys):
    err = fit_error(capsys, parts, "--target", "failed", "--drop", "part, colour")
    assert f"{parts}: --drop names column 'colour'" in err


def test_the_target_cannot_also_be_dropped(parts, capsys):
    assert "column 'failed' is the target; it cannot also be dropped" in fit_error(
        capsys, parts, "--target", "failed", "--drop", "failed"
    )


def test_an_id_column_not_in_the_file_is_refused(parts, capsys):
    assert "--id names column 'serial'" in fit_error(capsys, parts, "--target", "failed", "--id", "serial")


def test_empty_files_are_refused(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    assert f"{tmp_path / 'empty.csv'}: the file is empty" in fit_error(capsys, tmp_path / "empty.csv", "--target", "y")
    (tmp_path / "header.csv").write_text("x,y\n")
    assert "header.csv: the file has no data rows" in fit_error(capsys, tmp_path / "header.csv", "--target", "y")


def test_too_few_events_for_five_folds_is_refused(tmp_path):
    rows = [{"x": i, "y": int(i < 4)} for i in range(50)]
    with pytest.raises(UserError, match="has 4 rows of the event; 5-fold cross-validation needs at least 5"):
        fit_file(write_csv(tmp_path / "few.csv", rows), "y", tmp_path / "m.txt")


def test_text_labels_without_the_event_named_are_refused(tmp_path):
    rows = [dict(r, failed="bad" if r["failed"] else "good") for r in signal_rows(100, seed=12)]
    with pytest.raises(UserError, match="holds 'bad', 'good'; say which is the event with --positive"):
        fit_file(write_csv(tmp_path / "text.csv", rows), "failed", tmp_path / "m.txt")
    with pytest.raises(UserError, match="--positive 'broken' is not a value of target column 'failed'"):
        fit_file(write_csv(tmp_path / "text.csv", rows), "failed", tmp_path / "m.txt", positive="broken")


def test_a_file_lacking_a_fitted_column_is_refused(model, tmp_path, capsys):
    rows = [{k: v for k, v in r.items() if k != "speed"} for r in signal_rows(20, seed=13)]
    data = write_csv(tmp_path / "nospeed.csv", rows)
    code, out, err = run_cli(capsys, "predict", "score", str(data), "--model", str(model))
    assert code == 2 and out == ""
    assert f"{data}: the model {model} was fitted on column(s) 'speed', which the file lacks" in err


def test_text_in_a_numeric_column_and_a_missing_id_are_refused(model, tmp_path):
    rows = signal_rows(20, seed=14)
    rows[5]["load"] = "heavy"
    with pytest.raises(UserError, match="column 'load' was numeric when the model was fitted; it holds 'heavy'"):
        score_file(write_csv(tmp_path / "text.csv", rows), model)
    rows = [{k: v for k, v in r.items() if k != "part"} for r in signal_rows(20, seed=14)]
    with pytest.raises(UserError, match="the model's id column .* names column 'part', which is not in the file"):
        score_file(write_csv(tmp_path / "noid.csv", rows), model)


def test_a_model_that_does_not_match_its_sidecar_is_refused(model, parts, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text(model.read_text().replace("tree\n", "tree\n\n", 1))
    sidecar_path(other).write_text(sidecar_path(model).read_text())
    with pytest.raises(UserError, match="do not belong together"):
        score_file(parts, other)
    sidecar_path(other).write_text(json.dumps({"columns": []}))
    with pytest.raises(UserError, match="not a model written by `opsfin predict fit`"):
        score_file(parts, other)
    with pytest.raises(UserError, match="no such file"):
        score_file(parts, tmp_path / "absent.txt")


def test_a_sidecar_naming_fewer_columns_than_the_model_reads_is_refused(model, parts, tmp_path):
    sidecar = json.loads(sidecar_path(model).read_text())
    sidecar["columns"] = sidecar["columns"][:-1]
    copy = tmp_path / "copy.txt"
    copy.write_text(model.read_text())
    sidecar_path(copy).write_text(json.dumps(sidecar))
    with pytest.raises(UserError, match="the model reads 14 features but its sidecar names 13"):
        score_file(parts, copy)
