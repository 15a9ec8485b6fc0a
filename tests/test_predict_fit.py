"""`opsfin predict fit|score` on a labelled file (docs/predict.md "Your own labelled data"): a round trip on a
synthetic file whose signal is known, derived features chosen from the training rows only, the F1-best
threshold worked by hand, the model files, and the CLI's columns. Errors are in test_predict_fit_errors.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from tests.cli_support import run_cli

from opsfin.predict.features import Column, select_derived
from opsfin.predict.fit import cross_validate, f1_best, fit
from opsfin.runs.predict_fit import fit_file, score_file, sidecar_path

AI4I = Path(__file__).resolve().parents[2] / "shared" / "data" / "maintenance" / "ai4i2020.csv"
AI4I_LEAKS = ["UDI", "Product ID", "TWF", "HDF", "PWF", "OSF", "RNF"]


def signal_rows(n: int, seed: int) -> list[dict]:
    """An event when load * speed is high (a product of two columns) or the grade is `C`; noise besides."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        load, speed, noise = rng.uniform(0, 10), rng.uniform(0, 10), rng.normal()
        grade = str(rng.choice(["A", "B", "C"], p=[0.45, 0.45, 0.10]))
        event = (load * speed > 60) or (grade == "C" and rng.uniform() < 0.7)
        rows.append({"part": f"P{i:04d}", "load": round(load, 3), "speed": round(speed, 3), "noise": round(noise, 3),
                     "grade": grade, "failed": int(event)})  # fmt: skip
    return rows


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_f1_best_threshold_worked_by_hand():
    # cut 0.35 calls .35 .4 .8 .9 events: 3 of 3 events, 1 false → precision 3/4, recall 1, F1 6/7;
    # cut 0.8: 1, 2/3, 0.8; cut 0.4: 2/3, 2/3, 2/3; cut 0.2: 3/5, 1, 0.75; cut 0.9: 1, 1/3, 0.5
    threshold, precision, recall, f1 = f1_best(np.array([0, 0, 1, 1, 0, 1]), np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9]))
    assert (threshold, precision, recall) == (0.35, 0.75, 1.0)
    assert f1 == pytest.approx(6 / 7)


def test_fit_and_score_round_trip_learns_the_known_signal(tmp_path):
    rows = signal_rows(800, seed=1)
    base_rate = sum(r["failed"] for r in rows) / len(rows)
    report = fit_file(write_csv(tmp_path / "parts.csv", rows), "failed", tmp_path / "m.txt", id_column="part")
    assert report["rows"] == 800 and report["base_rate"] == pytest.approx(base_rate)
    assert report["numeric_columns"] == ["load", "speed", "noise"] and report["categorical_columns"] == ["grade"]
    assert report["cross_validation"]["pr_auc"] > max(0.8, 4 * base_rate)
    assert report["cross_validation"]["roc_auc"] > 0.9
    assert report["derived_features"][0] == "load * speed"  # the product is the signal
    assert 0 < report["threshold"] < 1
    # new rows drawn the same way: the events score far above the rest
    fresh = write_csv(tmp_path / "fresh.csv", signal_rows(400, seed=2))
    scores = score_file(fresh, tmp_path / "m.txt")
    assert scores.columns == ["part", "probability"]
    assert scores["part"].to_list() == [f"P{i:04d}" for i in range(400)]
    truth = np.array([r["failed"] for r in signal_rows(400, seed=2)])
    p = scores["probability"].to_numpy()
    assert p[truth == 1].mean() > 0.6 > 0.2 > p[truth == 0].mean()


def test_the_model_is_lightgbm_text_and_a_json_sidecar_not_a_pickle(tmp_path):
    fit_file(write_csv(tmp_path / "parts.csv", signal_rows(300, seed=3)), "failed", tmp_path / "m.txt", ["part"])
    assert (tmp_path / "m.txt").read_text().startswith("tree\n")
    sidecar = json.loads(sidecar_path(tmp_path / "m.txt").read_text())
    assert sidecar_path(tmp_path / "m.txt").name == "m.txt.json"
    assert [c["name"] for c in sidecar["columns"]] == ["load", "speed", "noise", "grade"]
    assert sidecar["columns"][3] == {"name": "grade", "kind": "categorical", "categories": ["A", "B", "C"]}
    assert sidecar["target"] == "failed" and sidecar["positive"] == "1" and sidecar["id_column"] is None


def test_a_category_unseen_at_fit_and_extra_columns_still_score(tmp_path):
    fit_file(write_csv(tmp_path / "parts.csv", signal_rows(300, seed=4)), "failed", tmp_path / "m.txt", ["part"])
    rows = [{"grade": "Z", "speed": 1.0, "load": 1.0, "noise": 0.0, "colour": "red"},
            {"grade": "C", "speed": 9.5, "load": 9.5, "noise": 0.0, "colour": "blue"}]  # fmt: skip
    scores = score_file(write_csv(tmp_path / "new.csv", rows), tmp_path / "m.txt")
    assert scores.columns == ["row", "probability"] and scores["row"].to_list() == [1, 2]
    low, high = scores["probability"].to_list()
    assert 0 <= low < 0.2 and high > 0.8


def test_derived_features_are_chosen_from_the_training_rows_only():
    rng = np.random.default_rng(5)
    base = rng.uniform(0, 10, size=(600, 4))
    columns = [Column(name, "numeric") for name in "abcd"]
    # the label is c / d large on the first 300 rows only; chosen from those, c / d comes first
    labels = np.zeros(600, dtype=int)
    labels[:300] = base[:300, 2] / base[:300, 3] > 2
    chosen = select_derived(base[:300], labels[:300], columns, keep=3)
    assert chosen[0].name == "c / d"
    # from the other rows (labels all 0 there) nothing is gained: no feature is chosen
    assert select_derived(base[300:], labels[300:], columns, keep=3) == []


def test_labels_that_are_noise_score_near_the_base_rate_in_cross_validation():
    # if a fold saw its held-out labels (while choosing features or training), noise would look learnable
    rng = np.random.default_rng(6)
    base = rng.normal(size=(1000, 6))
    labels = (rng.uniform(size=1000) < 0.1).astype(int)
    cv = cross_validate(base, labels, [Column(f"x{i}", "numeric") for i in range(6)], keep=10)
    assert cv.pr_auc < 2 * labels.mean()
    assert 0.4 < cv.roc_auc < 0.6


def test_text_labels_need_the_event_named(tmp_path):
    rows = [dict(r, failed="bad" if r["failed"] else "good") for r in signal_rows(300, seed=8)]
    frame = pl.DataFrame(rows).with_columns(pl.all().cast(pl.Utf8))
    fitted = fit(frame, target="failed", drop=["part"], positive="bad")
    assert fitted.sidecar["positive"] == "bad"
    assert fitted.report["events"] == sum(r["failed"] == "bad" for r in rows)


def test_cli_score_csv_is_the_id_column_and_probability(tmp_path, capsys):
    data = write_csv(tmp_path / "parts.csv", signal_rows(300, seed=9))
    code, out, err = run_cli(capsys, "predict", "fit", str(data), "--target", "failed", "--id", "part",
                             "--model-out", str(tmp_path / "m.txt"), "--format", "json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["cross_validation"]["folds"] == 5
    code, out, err = run_cli(capsys, "predict", "score", str(data), "--model", str(tmp_path / "m.txt"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "part,probability" and len(lines) == 301
    assert lines[1].startswith("P0000,")
    code, out, err = run_cli(
        capsys, "predict", "score", str(data), "--model", str(tmp_path / "m.txt"), "--format", "json"
    )
    assert code == 0, err
    assert list(json.loads(out)[0]) == ["part", "probability"]


@pytest.mark.skipif(not AI4I.is_file(), reason="the AI4I 2020 file is not beside the repository (../shared/data)")
def test_ai4i_on_a_sample_learns_failures(tmp_path):
    frame = pl.read_csv(AI4I, infer_schema=False)
    events = frame.filter(pl.col("Machine failure") == "1")
    sample = pl.concat([events, frame.filter(pl.col("Machine failure") == "0").sample(2700, seed=1)])
    report = fit_file(write_frame(tmp_path / "ai4i.csv", sample), "Machine failure", tmp_path / "m.txt", AI4I_LEAKS)
    assert report["rows"] == 339 + 2700 and report["events"] == 339
    assert report["categorical_columns"] == ["Type"]
    # a base rate of 11 %: the failures are learnable far above it, and better with derived features
    raw = fit_file(tmp_path / "ai4i.csv", "Machine failure", tmp_path / "raw.txt", AI4I_LEAKS, derived=0)
    assert raw["derived_features"] == []
    assert report["cross_validation"]["pr_auc"] > max(0.9, raw["cross_validation"]["pr_auc"] + 0.03)
    assert report["cross_validation"]["roc_auc"] > 0.95


def write_frame(path: Path, frame: pl.DataFrame) -> Path:
    frame.write_csv(path)
    return path
