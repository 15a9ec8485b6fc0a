"""5-fold stratified cross-validation of `opsfin predict fit` on the public AI4I 2020 predictive-maintenance
file (docs/predict.md "Your own labelled data").

    python benchmarks/bench_predict.py                      # ../shared/data/maintenance/ai4i2020.csv
    python benchmarks/bench_predict.py path/to/ai4i2020.csv

Runs the command as a user does (a new process), twice: with the derived features (the default) and on
the file's own columns only (`--derived 0`), and prints PR-AUC, ROC-AUC, the F1-best threshold and the
seconds of each. The columns TWF, HDF, PWF, OSF and RNF are parts of the label and are dropped, as are
UDI and Product ID. Target: PR-AUC ≥ 0.85 with the derived features."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_FILE = Path("../shared/data/maintenance/ai4i2020.csv")
TARGET = "Machine failure"
LEFT_OUT = "UDI,Product ID,TWF,HDF,PWF,OSF,RNF"
TARGET_PR_AUC = 0.85


def fit(path: Path, derived: int) -> tuple[dict, float]:
    """The fit report of `opsfin predict fit` on the file, and its wall seconds."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "opsfin", "predict", "fit", str(path), "--target", TARGET, "--drop", LEFT_OUT]
        command += ["--derived", str(derived), "--model-out", str(Path(folder) / "model.txt"), "--format", "json"]
        t0 = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
    if run.returncode != 0:
        raise SystemExit(run.stderr)
    return json.loads(run.stdout), seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default=str(DEFAULT_FILE), help="the AI4I 2020 CSV file")
    args = ap.parse_args(argv)
    path = Path(args.path)
    if not path.is_file():
        print(f"{path}: no such file (run from the repository root, or pass the file's path)", file=sys.stderr)
        return 2
    print(f"opsfin predict fit {path.name} --target '{TARGET}' --drop {LEFT_OUT!r}")
    results = {}
    for label, derived in (("derived features", 10), ("raw columns", 0)):
        report, seconds = fit(path, derived)
        cv = report["cross_validation"]
        results[label] = cv["pr_auc"]
        folds = " ".join(f"{v:.3f}" for v in cv["pr_auc_by_fold"])
        print(
            f"  {label:<17} PR-AUC {cv['pr_auc']:.4f} (folds {folds})  ROC-AUC {cv['roc_auc']:.4f}  "
            f"F1-best threshold {report['threshold']:.3f} (F1 {report['at_threshold']['f1']:.3f})  {seconds:.1f} s"
        )
        if derived:
            print(f"    chosen on all rows: {'; '.join(report['derived_features'])}")
    print(f"rows {report['rows']}, failures {report['events']} ({report['base_rate']:.1%}); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    ok = results["derived features"] >= TARGET_PR_AUC
    print(f"target PR-AUC ≥ {TARGET_PR_AUC}: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
