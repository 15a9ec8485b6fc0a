"""`opsfin predict fit|score` on a user's labelled file (docs/predict.md "Your own labelled data"): read the
file, call the engine (opsfin.predict.fit), write or read the model.

The model is two files: LightGBM's own text model at the path given, and beside it a JSON sidecar
(`<path>.json`) with the columns, their categories, the derived features and the threshold. Neither is
a pickle: reading a model runs no code from it."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import UserError
from ..predict.fit import DERIVED_KEEP, fit, score


def sidecar_path(model_path: Path) -> Path:
    """Where the JSON sidecar of a model lives: `model.txt` → `model.txt.json`."""
    return model_path.with_name(model_path.name + ".json")


def read_table(path: Path) -> pl.DataFrame:
    """A CSV (TSV: `.tsv`, `.tab`), Parquet or JSON Lines file as a frame of text columns (a blank cell is
    null); any other extension is read as CSV."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    kind = path.suffix.lower()
    try:
        if kind in (".parquet", ".pq"):
            frame = pl.read_parquet(path)
        elif kind in (".jsonl", ".ndjson"):
            frame = pl.read_ndjson(path, infer_schema_length=None)
        else:
            frame = pl.read_csv(path, separator="\t" if kind in (".tsv", ".tab") else ",", infer_schema=False)
    except pl.exceptions.NoDataError:
        raise UserError(f"{path}: the file is empty") from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: not readable as a table: {first}") from None
    frame = frame.rename({name: name.lstrip("\ufeff").strip() for name in frame.columns})
    return frame.select(pl.col(name).cast(pl.Utf8).str.strip_chars().replace("", None) for name in frame.columns)


def fit_file(
    path: Path,
    target: str,
    model_out: Path,
    drop: Sequence[str] = (),
    id_column: str | None = None,
    positive: str | None = None,
    derived: int = DERIVED_KEEP,
) -> dict[str, Any]:
    """Fit on the file, write the model and its sidecar, and return the report (with both paths)."""
    started = time.perf_counter()
    if not model_out.parent.is_dir():
        raise UserError("{param}: " + f"the folder {model_out.parent} does not exist", param="model_out")
    frame = read_table(path)
    fitted = fit(
        frame, target=target, drop=drop, id_column=id_column, positive=positive, keep=derived, source=str(path)
    )
    model_out.write_text(fitted.model_text, encoding="utf-8")
    sidecar_path(model_out).write_text(json.dumps(fitted.sidecar, indent=2, ensure_ascii=False), encoding="utf-8")
    return {
        "file": str(path),
        **fitted.report,
        "model": str(model_out),
        "sidecar": str(sidecar_path(model_out)),
        "seconds": round(time.perf_counter() - started, 2),
    }


def read_model(model_path: Path) -> tuple[str, dict[str, Any]]:
    """The text model and its sidecar, as written by `fit_file`."""
    side = sidecar_path(model_path)
    for needed in (model_path, side):
        if not needed.is_file():
            raise UserError(f"{needed}: no such file (a model is the text model and its `.json` sidecar)")
    try:
        sidecar = json.loads(side.read_text(encoding="utf-8"))
        model_text = model_path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{model_path}: not a model written by `opsfin predict fit` ({exc})") from None
    return model_text, sidecar


def score_file(path: Path, model_path: Path) -> pl.DataFrame:
    """The id column (or `row`) and `probability`, one row per row of the file."""
    model_text, sidecar = read_model(model_path)
    return score(read_table(path), model_text, sidecar, str(path), str(model_path))
