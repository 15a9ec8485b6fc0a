"""A binary classifier fitted on a user's labelled file, and its scoring (docs/predict.md "Your own
labelled data"). Pure: a frame in; a report, LightGBM's text model and a JSON-able sidecar out.

The report's figures are 5-fold stratified cross-validation: PR-AUC (average precision) and ROC-AUC per
fold and their mean, and the threshold that gives the best F1 on the pooled out-of-fold probabilities.
Each fold chooses its own derived features from its own training rows (features.select_derived). The
model that is kept is then trained on every row. The sidecar names the columns, their kinds and
categories, the derived features and the threshold; scoring refuses a file or a model that does not
match it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from ..errors import UserError
from .features import (
    SEED,
    Column,
    Derived,
    as_numbers,
    as_text,
    base_matrix,
    derived_matrix,
    describe_columns,
    first_non_number,
    select_derived,
)

MODEL_FORMAT = "opsfin-predict-fit/1"
FOLDS = 5
DERIVED_KEEP = 10  # derived features a model may use (0: the file's columns only)
ROUNDS = 300
PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.5,
    "verbose": -1,
    "num_threads": 1,  # one thread: on a shared machine OpenMP threads wait on each other
    "seed": SEED,
    "deterministic": True,
}
_TRUE_WORDS = ("1", "true", "yes", "y", "t")


@dataclass(frozen=True)
class CrossValidation:
    pr_auc: float
    roc_auc: float
    pr_auc_by_fold: list[float]
    roc_auc_by_fold: list[float]
    threshold: float  # the F1-best probability cut on the pooled out-of-fold probabilities
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class FittedModel:
    model_text: str  # LightGBM's own text format
    sidecar: dict[str, Any]  # columns, categories, derived features, threshold (JSON-able)
    report: dict[str, Any]


def _columns_list(frame: pl.DataFrame) -> str:
    return ", ".join(frame.columns)


def _require(frame: pl.DataFrame, name: str, option: str, source: str) -> None:
    if name not in frame.columns:
        raise UserError(
            f"{source}: {option} names column {name!r}, which is not in the file (its columns: {_columns_list(frame)})"
        )


def feature_names(
    frame: pl.DataFrame, target: str, drop: Sequence[str], id_column: str | None, source: str
) -> list[str]:
    """The columns the model reads: all but the target, the dropped ones and the id."""
    if frame.height == 0:
        raise UserError(f"{source}: the file has no data rows")
    _require(frame, target, "--target", source)
    for name in drop:
        _require(frame, name, "--drop", source)
    if id_column is not None:
        _require(frame, id_column, "--id", source)
    if target in drop or target == id_column:
        raise UserError(f"{source}: column {target!r} is the target; it cannot also be dropped or the id")
    left_out = {target, *drop, *([id_column] if id_column else [])}
    names = [c for c in frame.columns if c not in left_out]
    if not names:
        raise UserError(f"{source}: no column is left to learn from once the target, --drop and --id are set aside")
    return names


def _positive_value(values: list[Any], target: str, positive: str | None, source: str) -> Any:
    """Which of the target's two values is the event to predict."""
    shown = ", ".join(_shown(v) for v in values[:5])
    if len(values) != 2:
        raise UserError(
            f"{source}: target column {target!r} must hold exactly two values (a binary label); it holds {len(values)}: {shown}"
        )
    if positive is not None:
        match = [v for v in values if str(v) == positive or (isinstance(v, float) and _same_number(v, positive))]
        if not match:
            raise UserError(f"{source}: --positive {positive!r} is not a value of target column {target!r} ({shown})")
        return match[0]
    true_like = [v for v in values if _word(v) in _TRUE_WORDS]
    if len(true_like) != 1:
        raise UserError(f"{source}: target column {target!r} holds {shown}; say which is the event with --positive")
    return true_like[0]


def _shown(value: Any) -> str:
    """A label value as a person wrote it: `1`, `2.5`, `'yes'`."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return repr(value)


def _same_number(value: float, text: str) -> bool:
    try:
        return value == float(text)
    except ValueError:
        return False


def _word(value: Any) -> str:
    if isinstance(value, float):
        return "1" if value == 1.0 else str(value)
    return str(value).strip().lower()


def read_labels(frame: pl.DataFrame, target: str, positive: str | None, source: str) -> tuple[np.ndarray, str, int]:
    """(1/0 per row — rows without a label are left out later —, the positive value as text, the number of
    rows without a label). The labels array holds -1 where the target is empty."""
    numbers = as_numbers(frame[target])
    values: list[Any] = numbers.to_list() if numbers is not None else as_text(frame[target])
    distinct = sorted({v for v in values if v is not None and v == v}, key=str)
    event = _positive_value(distinct, target, positive, source)
    labels = np.array([-1 if v is None or v != v else int(v == event) for v in values])
    for value, name in ((1, "the event"), (0, "the non-event")):
        if (labels == value).sum() < FOLDS:
            raise UserError(
                f"{source}: target column {target!r} has {(labels == value).sum()} rows of {name}; "
                f"{FOLDS}-fold cross-validation needs at least {FOLDS} of each value"
            )
    text = str(int(event)) if isinstance(event, float) and event.is_integer() else str(event)
    return labels, text, int((labels == -1).sum())


def train(
    base: np.ndarray, labels: np.ndarray, columns: Sequence[Column], keep: int
) -> tuple[lgb.Booster, list[Derived]]:
    """The model on these rows, with the derived features these rows choose."""
    derived = select_derived(base, labels, columns, keep)
    matrix = np.hstack([base, derived_matrix(base, columns, derived)])
    categorical = [j for j, c in enumerate(columns) if c.kind == "categorical"]
    names = [f"f{j}" for j in range(matrix.shape[1])]
    data = lgb.Dataset(matrix, labels, feature_name=names, categorical_feature=categorical, free_raw_data=True)
    return lgb.train(PARAMS, data, num_boost_round=ROUNDS), derived


def predict(
    booster: lgb.Booster, base: np.ndarray, columns: Sequence[Column], derived: Sequence[Derived]
) -> np.ndarray:
    return np.asarray(booster.predict(np.hstack([base, derived_matrix(base, columns, derived)])), dtype=float)


def cross_validate(
    base: np.ndarray, labels: np.ndarray, columns: Sequence[Column], keep: int, folds: int = FOLDS
) -> CrossValidation:
    """Stratified k-fold figures; each fold chooses its derived features from its training rows only."""
    pooled = np.zeros(len(labels))
    pr, roc = [], []
    for fit_rows, held_out in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(base, labels):
        booster, derived = train(base[fit_rows], labels[fit_rows], columns, keep)
        pooled[held_out] = predict(booster, base[held_out], columns, derived)
        pr.append(float(average_precision_score(labels[held_out], pooled[held_out])))
        roc.append(float(roc_auc_score(labels[held_out], pooled[held_out])))
    return CrossValidation(float(np.mean(pr)), float(np.mean(roc)), pr, roc, *f1_best(labels, pooled))


def f1_best(labels: np.ndarray, probabilities: np.ndarray) -> tuple[float, float, float, float]:
    """(threshold, precision, recall, F1) of the probability cut with the best F1, calling a row an event
    when its probability is at least the threshold (the lowest such cut on a tie)."""
    precision, recall, cuts = precision_recall_curve(labels, probabilities)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.nan_to_num(2 * precision[:-1] * recall[:-1] / (precision[:-1] + recall[:-1]))
    best = int(np.argmax(f1))
    return float(cuts[best]), float(precision[best]), float(recall[best]), float(f1[best])


def _sidecar(columns, derived, target, positive, id_column, cv, model_text) -> dict[str, Any]:
    return {
        "format": MODEL_FORMAT,
        "lightgbm": lgb.__version__,
        "model_sha256": hashlib.sha256(model_text.encode()).hexdigest(),
        "target": target,
        "positive": positive,
        "id_column": id_column,
        "columns": [{"name": c.name, "kind": c.kind, "categories": list(c.categories)} for c in columns],
        "derived": [{"kind": d.kind, "left": d.left, "right": d.right} for d in derived],
        "threshold": cv.threshold,
        "cross_validation": {"folds": FOLDS, "pr_auc": cv.pr_auc, "roc_auc": cv.roc_auc},
    }


def fit(
    frame: pl.DataFrame,
    *,
    target: str,
    drop: Sequence[str] = (),
    id_column: str | None = None,
    positive: str | None = None,
    keep: int = DERIVED_KEEP,
    source: str = "the file",
) -> FittedModel:
    """Cross-validate, then train on every labelled row. `source` names the file in error messages."""
    names = feature_names(frame, target, drop, id_column, source)
    labels, positive_text, unlabelled = read_labels(frame, target, positive, source)
    labelled = frame.filter(pl.Series(labels >= 0))
    labels = labels[labels >= 0]
    columns = describe_columns(labelled, names)
    base = base_matrix(labelled, columns)
    cv = cross_validate(base, labels, columns, keep)
    booster, derived = train(base, labels, columns, keep)
    model_text = booster.model_to_string()
    sidecar = _sidecar(columns, derived, target, positive_text, id_column, cv, model_text)
    notes = [f"{unlabelled} rows with an empty {target!r} were left out"] if unlabelled else []
    notes += [
        f"column {c.name!r} has no value seen twice; it is not used"
        for c in columns
        if c.kind == "categorical" and not c.categories
    ]
    report = {
        "target": target,
        "positive": positive_text,
        "rows": int(len(labels)),
        "events": int(labels.sum()),
        "base_rate": float(labels.mean()),
        "numeric_columns": [c.name for c in columns if c.kind == "numeric"],
        "categorical_columns": [c.name for c in columns if c.kind == "categorical"],
        "dropped": list(drop),
        "derived_features": [d.name for d in derived],
        "cross_validation": {
            "folds": FOLDS,
            "pr_auc": cv.pr_auc,
            "roc_auc": cv.roc_auc,
            "pr_auc_by_fold": cv.pr_auc_by_fold,
            "roc_auc_by_fold": cv.roc_auc_by_fold,
        },
        "threshold": cv.threshold,
        "at_threshold": {"precision": cv.precision, "recall": cv.recall, "f1": cv.f1},
        "notes": notes,
    }
    return FittedModel(model_text, sidecar, report)


def load_model(
    model_text: str, sidecar: dict[str, Any], source: str
) -> tuple[lgb.Booster, list[Column], list[Derived]]:
    """The booster and the columns it reads, refused unless the text model and its sidecar belong together."""
    if not isinstance(sidecar, dict) or sidecar.get("format") != MODEL_FORMAT:
        raise UserError(
            f"{source}: not a model written by `opsfin predict fit` (its sidecar lacks format {MODEL_FORMAT!r})"
        )
    if hashlib.sha256(model_text.encode()).hexdigest() != sidecar.get("model_sha256"):
        raise UserError(
            f"{source}: the model and its JSON sidecar do not belong together (the model's checksum differs)"
        )
    try:
        columns = [Column(c["name"], c["kind"], tuple(c["categories"])) for c in sidecar["columns"]]
        derived = [Derived(d["kind"], d["left"], d["right"]) for d in sidecar["derived"]]
        booster = lgb.Booster(model_str=model_text)
    except (KeyError, TypeError, lgb.basic.LightGBMError) as exc:
        raise UserError(f"{source}: the model cannot be read ({exc})") from None
    if booster.num_feature() != len(columns) + len(derived):
        raise UserError(
            f"{source}: the model reads {booster.num_feature()} features but its sidecar names {len(columns) + len(derived)}"
        )
    return booster, columns, derived


def check_scoring_columns(frame: pl.DataFrame, columns: Sequence[Column], source: str, model_source: str) -> None:
    """Every column the model was fitted on is in the file, and a numeric one holds numbers only."""
    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        raise UserError(
            f"{source}: the model {model_source} was fitted on column(s) {', '.join(map(repr, missing))}, "
            f"which the file lacks (its columns: {_columns_list(frame)})"
        )
    for c in columns:
        if c.kind == "numeric" and (bad := first_non_number(frame[c.name])) is not None:
            raise UserError(f"{source}: column {c.name!r} was numeric when the model was fitted; it holds {bad!r}")


def score(
    frame: pl.DataFrame, model_text: str, sidecar: dict[str, Any], source: str, model_source: str
) -> pl.DataFrame:
    """One row per row of `frame`: its id (the fitted id column, else `row`, the 1-based data row) and the
    probability of the event."""
    booster, columns, derived = load_model(model_text, sidecar, model_source)
    if frame.height == 0:
        raise UserError(f"{source}: the file has no data rows")
    check_scoring_columns(frame, columns, source, model_source)
    id_column = sidecar.get("id_column")
    if id_column is not None:
        _require(frame, id_column, "the model's id column (--id at fit)", source)
        ids = pl.Series(id_column, as_text(frame[id_column]), dtype=pl.Utf8)
    else:
        ids = pl.Series("row", range(1, frame.height + 1), dtype=pl.Int64)
    probability = predict(booster, base_matrix(frame, columns), columns, derived)
    return pl.DataFrame([ids, pl.Series("probability", probability, dtype=pl.Float64)])
