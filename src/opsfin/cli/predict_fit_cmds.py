"""`opsfin predict fit|score`: a classifier fitted on your own labelled file, and its scores (docs/predict.md
"Your own labelled data"). Each verb parses its options, calls runs/predict_fit.py, and prints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from .options import FormatOpt, OutputFormat
from .output import note, print_json, print_rows
from .predict_app import predict_app

FileArg = Annotated[Path, typer.Argument(help="a labelled file: CSV, TSV, Parquet or JSON Lines")]


def _names(text: str | None) -> list[str]:
    """`a, b,c` → [a, b, c]."""
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def _fit_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    cv = report["cross_validation"]
    at = report["at_threshold"]
    return [
        {"measure": "rows (events)", "value": f"{report['rows']} ({report['events']}, {report['base_rate']:.1%})"},
        {"measure": f"PR-AUC, {cv['folds']}-fold stratified CV", "value": f"{cv['pr_auc']:.3f}"},
        {"measure": f"ROC-AUC, {cv['folds']}-fold stratified CV", "value": f"{cv['roc_auc']:.3f}"},
        {"measure": "F1-best threshold", "value": f"{report['threshold']:.3f}"},
        {"measure": "precision / recall / F1 there", "value": f"{at['precision']:.3f} / {at['recall']:.3f} / {at['f1']:.3f}"},
        {"measure": "derived features", "value": "; ".join(report["derived_features"]) or "none"},
    ]  # fmt: skip


@predict_app.command("fit")
def predict_fit_cmd(
    file: FileArg,
    target: Annotated[str, typer.Option("--target", help="the label column (two values, e.g. 0 and 1)")],
    model_out: Annotated[
        Path, typer.Option("--model-out", help="where to write the model (LightGBM text; its sidecar: PATH.json)")
    ],
    drop: Annotated[str | None, typer.Option("--drop", help="columns to leave out, separated by commas")] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="the column that names each row (not a feature)")
    ] = None,
    positive: Annotated[
        str | None, typer.Option("--positive", help="the target value that is the event (default: 1, true or yes)")
    ] = None,
    derived: Annotated[
        int, typer.Option("--derived", help="how many pairwise derived features a model may use (0: none)")
    ] = 10,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Fit a classifier (LightGBM) on a labelled file and report its 5-fold stratified cross-validated PR-AUC,
    ROC-AUC and F1-best threshold. Text columns are categories; derived features are chosen inside each fold."""
    from ..runs.predict_fit import fit_file

    report = fit_file(file, target, model_out, _names(drop), id_column, positive, derived)
    if fmt == OutputFormat.json:
        print_json(report)
        return
    rows = _fit_rows(report)
    if fmt == OutputFormat.table:  # column names such as `Torque [Nm]` are not Rich markup
        rows = [{k: escape(v) for k, v in row.items()} for row in rows]
    print_rows(rows, fmt, title=escape(f"{report['target']} = {report['positive']}"))
    for text in report["notes"]:
        note(f"note: {text}")
    if fmt == OutputFormat.table:
        note(
            f"model written to {report['model']} (sidecar {report['sidecar']}) in {report['seconds']:.1f} s; "
            f"score a file with `opsfin predict score FILE --model {report['model']}`",
        )


@predict_app.command("score")
def predict_score_cmd(
    file: FileArg,
    model: Annotated[Path, typer.Option("--model", help="a model written by `opsfin predict fit`")],
    fmt: FormatOpt = OutputFormat.csv,
) -> None:
    """The probability of the event for each row of a file: its id column (or `row`) and `probability`."""
    from ..runs.predict_fit import score_file

    print_rows(score_file(file, model), fmt)
