"""Guardrails: `model/guardrails.yaml`, parsed, validated and checked against the KPI engine.

    guardrails:
      - kpi: overtime_share
        by: site                # optional: one guardrail per member of these dimensions
        where: {site: [P1, P2]} # optional filter, DIM: value or [values]
        grain: month            # day, week, month (default), quarter, year
        max: 0.14               # min and/or max, in the KPI's own unit (fractions for ratios)
        severity: warn          # info, warn (default) or stop
        owner: HR business partner

The file is validated by the pydantic models below (model_schema.py: strict numbers, unknown keys
refused, one line per mistake naming the file, `guardrails[N] (kpi)` and the field). A value outside
[min, max] is a breach; a continuous run of breaching periods of one series (one member of `by`, or the
whole filtered scope) is one alert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from ..core.periods import GRAINS
from ..errors import UserError
from ..kpis import compute
from ..kpis.batch import Ask, Ready
from ..kpis.definitions import Kpi
from ..kpis.sources import check_by, check_dims
from ..model_schema import Entry, KpiId, Number, Text, as_list, parse_yaml, scalar_text, show, validate
from .model import SEVERITIES, Alert, alert_id, fmt_span, fmt_value, scope_words
from .runs import merge_runs, period_end

FILE = "guardrails.yaml"


@dataclass(frozen=True)
class Guardrail:
    kpi: str
    min: float | None = None
    max: float | None = None
    grain: str = "month"
    where: dict[str, list[str]] = field(default_factory=dict)
    by: tuple[str, ...] = ()
    severity: str = "warn"
    owner: str = ""
    note: str = ""


Values = Annotated[
    list[Annotated[Text, BeforeValidator(scalar_text)]],
    Field(min_length=1),
    BeforeValidator(lambda v: [v] if not isinstance(v, list) else v),
]


class GuardrailEntry(Entry):
    """One entry of `guardrails:`; the KPI and its dimensions are checked against the catalog in context."""

    kpi: KpiId
    where: dict[str, Values] = {}
    by: Annotated[tuple[Text, ...], BeforeValidator(as_list)] = ()
    grain: Literal[tuple(GRAINS)] = "month"  # type: ignore[valid-type]
    min: Number | None = None
    max: Number | None = None
    severity: Literal[SEVERITIES] = "warn"  # type: ignore[valid-type]
    owner: Annotated[Text, BeforeValidator(scalar_text)] | None = None
    note: Annotated[Text, BeforeValidator(scalar_text)] | None = None

    @field_validator("where", mode="before")
    @classmethod
    def _where_mapping(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(f"expected a mapping DIM: value (e.g. where: {{site: P1}}), got {show(value)}")
        return value

    @model_validator(mode="after")
    def _band_and_dimensions(self, info: ValidationInfo) -> GuardrailEntry:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        catalog = (info.context or {}).get("catalog")
        if catalog is not None:
            try:
                check_by(self.by)
                check_dims(self.kpi, catalog[self.kpi].dims, set(self.where) | set(self.by))
            except UserError as exc:
                raise ValueError(str(exc)) from None
        return self


class GuardrailsFile(Entry):
    guardrails: Annotated[list[GuardrailEntry], BeforeValidator(lambda v: [] if v is None else v)] = []


def parse_guardrails(text: str, path: str | Path = FILE, catalog: Mapping[str, Kpi] | None = None) -> list[Guardrail]:
    """Parse and validate guardrails YAML; a mistake is one UserError naming the file, entry and field.
    The I/O layer reads model/guardrails.yaml (opsfin.runs.model.load_guardrails)."""
    data = parse_yaml(text, path)
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("guardrails", []), list | type(None)):
        raise UserError(f"{path}: expected a top-level 'guardrails:' list")
    checked = validate(GuardrailsFile, data, path, {"catalog": catalog})
    return [
        Guardrail(
            e.kpi,
            e.min,
            e.max,
            e.grain,
            dict(e.where),
            e.by,
            e.severity,
            e.owner or (catalog[e.kpi].owner if catalog is not None else ""),
            e.note or "",
        )
        for e in checked.guardrails
    ]


def _scope(g: Guardrail, row: dict) -> dict[str, str]:
    scope = {d: str(row[d]) for d in g.by}
    for dim, values in g.where.items():
        if dim not in scope:
            scope[dim] = ",".join(values)
    return scope


def guardrail_ask(g: Guardrail, start: dt.date | None, end: dt.date | None) -> Ask:
    """The KPI series a guardrail reads."""
    return Ask.of(g.kpi, g.grain, g.by, g.where, start, end)


def check_guardrail(
    t, g: Guardrail, catalog: Mapping[str, Kpi], start: dt.date | None, end: dt.date | None, ready: Ready = None
) -> list[Alert]:
    """The breaches of one guardrail over [start, end]. `ready`: KPI series already computed (`guardrail_ask`)."""
    kpi = catalog[g.kpi]
    by = list(g.by)
    frame = (ready or {}).get(guardrail_ask(g, start, end))
    if frame is None:
        frame = compute(t, [g.kpi], g.grain, by, g.where, start, end, catalog=catalog)[0]
    frame = frame.with_columns(pl.col("value", "numerator", "denominator").cast(pl.Float64))
    side = (
        pl.when(pl.col("value") > g.max if g.max is not None else pl.lit(False))
        .then(1)
        .when(pl.col("value") < g.min if g.min is not None else pl.lit(False))
        .then(-1)
        .otherwise(0)
    )
    frame = frame.with_columns(_side=side)
    inside = frame.filter(pl.col("_side") == 0, pl.col("value").is_not_null())
    usual = (
        inside.group_by(by).agg(pl.col("value").median().alias("_usual"))
        if by
        else pl.DataFrame({"_usual": [inside["value"].median()]})
    )
    breaches = frame.filter(pl.col("_side") != 0)
    ratio = kpi.scale if kpi.kind == "ratio" else None
    runs = merge_runs(breaches, [*by, "_side"], g.grain, ratio, bad_sign=pl.col("_side"))
    runs = runs.join(usual, on=by, how="left") if by else runs.with_columns(_usual=usual["_usual"][0])
    alerts = []
    for r in runs.iter_rows(named=True):
        scope = _scope(g, r)
        above = r["_side"] > 0
        bound = g.max if above else g.min
        alerts.append(
            Alert(
                id=alert_id(
                    "guardrail",
                    g.kpi,
                    scope,
                    r["run_start"],
                    g.grain,
                    g.severity,
                    "max" if above else "min",
                ),
                kind="guardrail",
                kpi=g.kpi,
                scope=scope,
                period_start=r["run_start"],
                period_end=period_end(r["run_last"], g.grain, end),
                value=r["value"],
                expected=r["_usual"],
                bound=bound,
                severity=g.severity,
                grain=g.grain,
                owner=g.owner,
                periods=r["periods"],
                explanation=_explain(kpi, scope, r, g.grain, above, bound),
                extra={"worst": r["worst"], "worst_period": r["worst_period"]},
            )
        )
    return alerts


def _explain(kpi: Kpi, scope: dict[str, str], r: dict, grain: str, above: bool, bound: float | None) -> str:
    span = fmt_span(r["run_start"], r["run_last"], grain)
    verb = "was" if r["periods"] == 1 else "ran at"
    text = f"{kpi.name} {scope_words(scope)} {verb} {fmt_value(r['value'], kpi.unit)} {span}"
    if r["periods"] > 1 and r["worst"] is not None:
        text += f" (worst {fmt_value(r['worst'], kpi.unit)} {fmt_span(r['worst_period'], r['worst_period'], grain)})"
    side = "above the maximum" if above else "below the minimum"
    return text + f", {side} of {fmt_value(bound, kpi.unit)} its guardrail allows."


def check_guardrails(
    t,
    guardrails: list[Guardrail],
    catalog: Mapping[str, Kpi],
    start: dt.date | None = None,
    end: dt.date | None = None,
    ready: Ready = None,
) -> list[Alert]:
    return [a for g in guardrails for a in check_guardrail(t, g, catalog, start, end, ready)]
