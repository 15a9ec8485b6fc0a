"""`opsfin eval experiments` (docs/experiments.md "Evaluation on the demo company"): each experiment of the
demo's truth/experiments.json against what `opsfin experiment analyze` estimates for it.

A truth record names the experiment, its kind (`experiment`: an injected effect; `placebo`: nothing
changed), the metric and the true effect in the metric's units. Per record the row holds the estimate,
its 95 % interval and whether the interval contains the true effect (a placebo's: zero). Pure: parsed
records and the reports' JSON in, rows out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UserError

TRUTH_FILE = "experiments.json"  # in a demo's truth/: its experiments and their true effects
FIELDS = ("experiment", "kind", "metric", "effect")


def check_records(records: Any, where: str) -> list[dict[str, Any]]:
    """truth/experiments.json as a list of records with FIELDS; a UserError naming `where` otherwise."""
    if not isinstance(records, list):
        raise UserError(f"{where}: not a ground-truth file (a list of experiments expected)")
    for k, r in enumerate(records, 1):
        missing = [f for f in FIELDS if not isinstance(r, dict) or f not in r]
        if missing:
            raise UserError(f"{where}: record {k} lacks {', '.join(missing)}")
        if r["kind"] not in ("experiment", "placebo"):
            raise UserError(f"{where}: record {k}: kind {r['kind']!r} is neither experiment nor placebo")
    return list(records)


def score(records: Sequence[Mapping[str, Any]], reports: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Per truth record the estimate against the truth; `reports`: experiment name → its analysis JSON."""
    rows = []
    for r in records:
        metric = next((m for m in reports[r["experiment"]]["metrics"] if m["metric"] == r["metric"]), None)
        if metric is None:
            raise UserError(f"experiment {r['experiment']!r} does not measure {r['metric']!r}; its truth does")
        truth = 0.0 if r["kind"] == "placebo" else float(r["effect"])
        low, high = metric["ci_low"], metric["ci_high"]
        rows.append(
            {
                "experiment": r["experiment"],
                "kind": r["kind"],
                "metric": r["metric"],
                "true_effect": truth,
                "effect": metric["effect"],
                "ci_low": low,
                "ci_high": high,
                "contains_truth": low is not None and high is not None and low <= truth <= high,
                "pre_trend_failed": metric["pre_trend"]["failed"],
            }
        )
    return {"rows": rows, "contained": sum(r["contains_truth"] for r in rows), "records": len(rows)}
