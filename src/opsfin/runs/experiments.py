"""Analysing a process experiment on a workspace (docs/experiments.md): read model/experiments.yaml
(metrics checked against the KPI catalog, model/kpis.yaml included), compute each metric per unit and
month with the KPI engine (opsfin.kpis.engine: the one formula of each KPI), and hand the rows to the pure
analysis (opsfin.experiments.analysis)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import UserError
from ..evaluation.experiments import TRUTH_FILE
from ..experiments.analysis import ExperimentReport, analyze
from ..experiments.config import FILE, Experiment, ExperimentFile, parse_experiments
from ..kpis.engine import compute_one
from .model import find_named, load_catalog, read_optional_mapping

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder


def load_experiments(model_dir: Path | None, catalog: Mapping[str, Any] | None = None) -> ExperimentFile:
    """model/experiments.yaml; no experiments without the file."""
    found = read_optional_mapping(model_dir, FILE)
    if found is None:
        return ExperimentFile()
    return parse_experiments(*found, catalog or load_catalog(model_dir))


def find_experiment(ws: WorkspaceFolder, name: str) -> Experiment:
    """The experiment named `name`; a UserError listing the names there are."""
    return find_named(load_experiments(ws.model_dir).experiments, name, "experiment", FILE)


def metric_panels(t: Any, experiment: Experiment, catalog: Mapping[str, Any]) -> dict[str, pl.DataFrame]:
    """Per metric, the KPI engine's monthly rows by the experiment's unit dimension, as
    `unit, period_start, value, numerator, denominator` (every member: the candidates for matching)."""
    dim = experiment.unit
    out = {}
    for metric in experiment.metrics:
        kpi = catalog[metric]
        if dim not in kpi.dims:
            raise UserError(
                f"experiment {experiment.name!r}: the KPI {metric!r} is not split by {dim} "
                f"(it is by: {', '.join(sorted(kpi.dims)) or 'the company only'})"
            )
        rows = compute_one(t, kpi, "month", by=[dim])
        out[metric] = rows.select(
            pl.col(dim).cast(pl.Utf8).alias("unit"),
            "period_start",
            pl.col("value").cast(pl.Float64),
            pl.col("numerator").cast(pl.Float64),
            pl.col("denominator").cast(pl.Float64),
        ).filter(pl.col("unit").is_not_null())
    return out


def analyze_named(ws: WorkspaceFolder, name: str) -> ExperimentReport:
    """Experiment `name` analysed on the workspace's warehouse."""
    from .tables import reading_tables

    catalog = load_catalog(ws.model_dir)
    experiment = find_experiment(ws, name)
    with reading_tables(ws) as t:
        panels = metric_panels(t, experiment, catalog)
    check_units(panels, experiment, f"experiment {name!r}")
    return analyze(experiment, panels, catalog)


def check_units(panels: Mapping[str, pl.DataFrame], experiment: Experiment, who: str) -> None:
    """Every treated and given control unit has KPI rows; a UserError names the first that has none."""
    known = set().union(*(set(p["unit"].to_list()) for p in panels.values())) if panels else set()
    missing = [u for u in (*experiment.treated, *experiment.control) if u not in known]
    if missing:
        raise UserError(f"{who}: unit {missing[0]!r} has no {experiment.unit} rows in the warehouse")


def evaluate_truth(ws: WorkspaceFolder) -> dict[str, Any]:
    """Every experiment of truth/experiments.json analysed and scored against its true effect
    (opsfin.evaluation.experiments); a UserError when the workspace has no such file (not a demo)."""
    import json

    from ..evaluation.experiments import check_records, score

    path = ws.truth_dir / TRUTH_FILE
    where = f"truth/{TRUTH_FILE}"
    if not path.exists():
        raise UserError(f"{where} not found: only a demo workspace (`opsfin demo`) knows its experiments' truth")
    try:
        records = check_records(json.loads(path.read_text(encoding="utf-8")), where)
    except json.JSONDecodeError as exc:
        raise UserError(f"{where}: not a ground-truth file ({exc})") from None
    names = list(dict.fromkeys(r["experiment"] for r in records))
    return score(records, {n: analyze_named(ws, n).as_json() for n in names})
