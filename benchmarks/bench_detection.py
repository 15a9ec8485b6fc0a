"""Detection quality across seeds: recall and precision of the alerts against each demo company's truth.

    python benchmarks/bench_detection.py                  # seeds 1..5, builds (once) ./.bench/detect-<seed>
    python benchmarks/bench_detection.py --seeds 6 7 8    # other seeds
    python benchmarks/bench_detection.py --rebuild        # rebuild the companies with the current generator

Target (docs/alerts.md): at demo scale, recall ≥ 0.9 and precision ≥ 0.8 on each seed. Each company is
built with `opsfin demo --scale demo --seed S` (about a minute; one at a time: the machine is shared) and
reused afterwards. The alerts are those a freshly built company gets — the shipped model files
(`opsfin/model_defaults/`: guardrails.yaml and detection.yaml), not the copies in the reused workspace, so
a change to the detector or its defaults is measured without a rebuild — scored as `opsfin eval detection`
scores them (`opsfin.evaluation.detection.score`)."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import opsfin
from opsfin.alerts import default_guardrails_yaml, default_scans, parse_guardrails
from opsfin.demo import generate
from opsfin.evaluation.detection import score
from opsfin.runs.alerts import run_alerts
from opsfin.runs.model import load_truth

BENCH_DIR = Path(".bench")
TARGET_RECALL, TARGET_PRECISION = 0.9, 0.8


def company(seed: int, rebuild: bool) -> Path:
    """The demo-scale company of `seed` in .bench/detect-<seed>, built when missing (or `rebuild`)."""
    path = BENCH_DIR / f"detect-{seed}"
    if rebuild and path.exists():
        shutil.rmtree(path)
    if not (path / "truth" / "anomalies.json").exists():
        t0 = time.perf_counter()
        generate(path, scale="demo", seed=seed)
        print(f"built seed {seed} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return path


def evaluate(path: Path) -> dict:
    """`opsfin eval detection`'s score of the company at `path`, with the shipped model files."""
    ws = opsfin.open(path)
    catalog = ws.kpi_catalog()
    guardrails = parse_guardrails(default_guardrails_yaml(), "built-in guardrails", catalog)
    alerts = run_alerts(ws, catalog, guardrails=guardrails, scans=default_scans(catalog))
    return score(alerts, load_truth(ws.truth_dir))


def row(seed: int, result: dict) -> dict:
    o = result["overall"]
    recall, precision = o["recall"] or 0.0, o["precision"] or 0.0
    return {
        "seed": seed,
        "injected": o["anomalies"],
        "found": o["caught"],
        "recall": recall,
        "alerts": o["anomaly_alerts"],
        "true": o["true_alerts"],
        "precision": precision,
        "meets": recall >= TARGET_RECALL and precision >= TARGET_PRECISION,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--rebuild", action="store_true", help="rebuild the companies with the current generator")
    parser.add_argument("--missed", action="store_true", help="also list the anomalies missed and the false alerts")
    args = parser.parse_args()
    rows, kinds = [], {}
    print(f"{'seed':>4} {'injected':>8} {'found':>5} {'recall':>6} {'alerts':>6} {'true':>5} {'precision':>9}  target")
    for seed in args.seeds:
        path = company(seed, args.rebuild)
        t0 = time.perf_counter()
        result = evaluate(path)
        r = row(seed, result)
        rows.append(r)
        for k in result["kinds"]:
            total = kinds.setdefault(k["kind"], [0, 0, 0, 0])
            total[0] += k["anomalies"]
            total[1] += k["caught"]
            total[2] += k["alerts"]
            total[3] += k["true_alerts"]
        print(
            f"{seed:>4} {r['injected']:>8} {r['found']:>5} {r['recall']:>6.0%} {r['alerts']:>6} {r['true']:>5} "
            f"{r['precision']:>9.0%}  {'met' if r['meets'] else 'MISSED'}  ({time.perf_counter() - t0:.1f} s)"
        )
        if args.missed:
            for k in result["kinds"]:
                for miss in k["missed"]:
                    print(f"       missed {k['kind']}: {miss}")
            for a in result["false_alerts"]:
                print(f"       false {a['kpi']} {a['scope']} {a['period_start']}..{a['period_end']}")
    print(
        f"\nper kind, over the seeds: {'injected':>8} {'found':>5} {'alerts':>6} {'true':>5}  (alerts on the kind's KPI)"
    )
    for kind, (n, found, alerts, true) in sorted(kinds.items()):
        print(f"{kind:>25} {n:>8} {found:>5} {alerts:>6} {true:>5}")
    met = sum(r["meets"] for r in rows)
    print(
        f"target recall ≥ {TARGET_RECALL:.0%} and precision ≥ {TARGET_PRECISION:.0%} on each seed: "
        f"{'met' if met == len(rows) else 'MISSED'} ({met}/{len(rows)} seeds)"
    )


if __name__ == "__main__":
    main()
