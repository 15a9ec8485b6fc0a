"""Mutation testing of the engines with mutmut, one package at a time (docs/testing.md).

    python tools/mutation.py [PACKAGE ...] [--minutes N] [--max-children N] [--fresh]

Each package is mutated in its own working copy, `.mutation/<package>/` (src/, tests/ and pyproject.toml
with a `[tool.mutmut]` section naming the package's files and the tests that exercise it in-process),
so that runs of different packages never share mutmut's cache and the repository's own files are never
touched. mutmut then runs, for each mutant, only the selected tests that call the mutated function.

A run stops after `--minutes` (the mutants not yet tried are reported as unchecked); a later run
continues where it stopped. mutmut re-tries a mutant only when its function changed: after changing
tests, `--fresh` forgets the earlier results. The score is killed / (killed + survived + no tests), timeouts counting as
killed. The scores are printed and written to `.mutation/scores.json`."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"

#: package -> (files to mutate, tests that exercise them in-process; CLI tests run in a subprocess and
#: would not see the mutants). Targets: 85% on core and costing, 75% on every other engine.
PACKAGES: dict[str, tuple[list[str], list[str]]] = {
    "core": (
        ["src/opsfin/core/*"],
        ["tests/test_core_*.py", "tests/test_present.py", "tests/test_dimension_joins.py"],
    ),
    "kpis": (["src/opsfin/kpis/*"], ["tests/test_kpis_handworked.py", "tests/test_kpis_mutants.py"]),
    "costing": (
        ["src/opsfin/costing/*"],
        [
            "tests/test_variance.py",
            "tests/test_variance_webb.py",
            "tests/test_abc.py",
            "tests/test_allocations.py",
            "tests/test_costing_mutants.py",
            "tests/test_unit_economics.py",
            "tests/test_value_stream.py",
            "tests/test_variance_by_site.py",
            "tests/test_variance_row_money.py",
        ],
    ),
    "matching": (
        ["src/opsfin/matching/*"],
        [
            "tests/test_matching_rules.py",
            "tests/test_matching_subset_sum.py",
            "tests/test_matching_metrics.py",
            "tests/test_matching_runs.py",
            "tests/test_matching_decisions.py",
            "tests/test_matching_controller_cases.py",
            "tests/test_matching_real_files.py",
            "tests/test_matching_mutants.py",
            "tests/test_demo_matching_data.py",  # the scores per kind of bank line (score_bank_kinds)
        ],
    ),
    "alerts": (
        ["src/opsfin/alerts/*"],
        [
            "tests/test_alerts.py",
            "tests/test_alerts_forecast.py",
            "tests/test_alerts_mutants.py",
            "tests/test_detection_pool.py",
            "tests/test_eval_detection.py",
        ],
    ),
    "evaluation": (["src/opsfin/evaluation/*"], ["tests/test_eval_detection.py"]),
    # small parts of matching, quick to measure on their own
    "subset_sum": (["src/opsfin/matching/subset_sum.py"], ["tests/test_matching_subset_sum.py"]),
    "matching_scores": (["src/opsfin/matching/evaluate.py"], ["tests/test_matching_metrics.py"]),
}
#: imported by the fork server before it forks a mutant's run (added to the copy's tests/conftest.py): the
#: engines' first query loads these lazily (pandas through Ibis' DuckDB converter, the model readers), which
#: took about 3 of the 4 seconds of a mutant's run. Imports start no threads, so the children stay safe.
WARM_IMPORTS = (
    "pandas",
    "pyarrow.compute",
    "ibis.backends.duckdb.converter",
    "ibis.formats.pandas",
    "opsfin.runs.model",
    "opsfin.runs.tables",
    "opsfin.workspace",
)
#: the tiny demo company (seed 7), generated once per package before the run and copied for each mutant's
#: run, instead of generated again in every forked child (about 2 CPU seconds per mutant). The fork server
#: must not generate it itself: that starts DuckDB's threads. Added to the copy's tests/conftest.py.
TINY_DEMO_FIXTURE = """
@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory):
    import shutil

    folder = tmp_path_factory.mktemp("tiny") / "ws"
    shutil.copytree({path!r}, folder)
    return opsfin.open(folder)
"""
PARTS = ("subset_sum", "matching_scores")  # inside a package measured whole: not in the default run
TARGETS = {"core": 0.85, "costing": 0.85}
DEFAULT_TARGET = 0.75


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def _tiny_demo(work: Path) -> Path:
    """The tiny demo company generated afresh under the package's copy, by the repository's own code."""
    folder = work / "tiny-demo"
    shutil.rmtree(folder, ignore_errors=True)
    code = f"from opsfin.demo import generate; generate({str(folder / 'ws')!r}, scale='tiny', seed=7)"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return folder / "ws"


def prepare(package: str) -> Path:
    """The package's working copy, refreshed from the repository (mutmut's results kept)."""
    mutate, tests = PACKAGES[package]
    work = WORK / package
    work.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis")
    for name in ("src", "tests", "docs"):  # afresh, so that files gone from the repository are gone here too
        shutil.rmtree(work / name, ignore_errors=True)
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    with (work / "tests" / "conftest.py").open("a", encoding="utf-8") as conftest:
        conftest.write("\n# tools/mutation.py: warm the fork server\n")
        conftest.writelines(f"import {module}  # noqa: E402, F401\n" for module in WARM_IMPORTS)
    selected = sorted(str(p.relative_to(ROOT)) for pattern in tests for p in ROOT.glob(pattern))
    if not selected:
        raise SystemExit(f"{package}: no tests match {tests}")
    if any("tiny_demo" in (ROOT / name).read_text(encoding="utf-8") for name in selected):
        tiny = _tiny_demo(work)
        with (work / "tests" / "conftest.py").open("a", encoding="utf-8") as conftest:
            conftest.write(TINY_DEMO_FIXTURE.format(path=str(tiny)))
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    config += (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        'also_copy = ["docs"]\n'  # tests that hold the code to the docs' tables read them
        f"only_mutate = {_toml_list(mutate)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(selected)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
        # Polars and DuckDB start threads: a child forked after they ran would hang (every mutant a
        # timeout). A fork server that has only collected the tests forks safe children.
        'process_isolation = "forkserver"\n'
        # mutmut stops a mutant's tests after (their call time + this) x 15 seconds of wall time (twice that
        # of CPU), and the call time leaves out fixture setup (a module's tiny-demo figures: up to 30 s): with
        # the default 1 s, such a test on a loaded machine ran out of time, and its mutant counted as killed.
        "timeout_constant = 10\n"
    )
    (work / "pyproject.toml").write_text(config, encoding="utf-8")
    return work


def run(package: str, minutes: float, max_children: int, fresh: bool = False) -> dict:
    """Run mutmut on one package for at most `minutes`; its counts and score."""
    work = prepare(package)
    if fresh:
        shutil.rmtree(work / "mutants", ignore_errors=True)
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    log = work / "mutmut.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [str(mutmut), "run", "--max-children", str(max_children)],
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=minutes * 60)
            stopped = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            stopped = True
    if not stopped and proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n").splitlines()[-15:]
        print(
            f"{package}: mutmut stopped with exit code {proc.returncode} ({log}):",
            *tail,
            sep="\n  ",
            file=sys.stderr,
        )
    counts = work / "mutants" / "mutmut-cicd-stats.json"
    counts.unlink(missing_ok=True)
    subprocess.run(
        [str(mutmut), "export-cicd-stats"],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stats = dict.fromkeys(
        ("killed", "survived", "total", "no_tests", "skipped", "suspicious", "timeout", "segfault"),
        0,
    )
    if counts.exists():
        stats.update(json.loads(counts.read_text(encoding="utf-8")))
    killed = stats["killed"] + stats["timeout"]
    tried = killed + stats["survived"] + stats["no_tests"] + stats["suspicious"] + stats["segfault"]
    denominator = killed + stats["survived"] + stats["no_tests"]
    score = killed / denominator if denominator else None
    target = TARGETS.get(package, DEFAULT_TARGET)
    return {
        "package": package,
        **stats,
        "unchecked": stats["total"] - tried - stats["skipped"],
        "score": score,
        "target": target,
        "met": None if score is None else score >= target,
        "stopped_by_time_cap": stopped,
        "minutes": round((time.monotonic() - started) / 60, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "packages",
        nargs="*",
        default=[p for p in PACKAGES if p not in PARTS],
        help=f"any of: {', '.join(PACKAGES)} (default: every engine package)",
    )
    parser.add_argument("--minutes", type=float, default=8.0, help="time cap per package (default 8)")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutants (default 2)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results (after changing tests)")
    args = parser.parse_args(argv)
    unknown = [p for p in args.packages if p not in PACKAGES]
    if unknown:
        parser.error(f"unknown package(s) {', '.join(unknown)}: choose from {', '.join(PACKAGES)}")
    results = []
    for package in args.packages:
        r = run(package, args.minutes, args.max_children, args.fresh)
        results.append(r)
        score = "n/a" if r["score"] is None else f"{r['score']:.1%}"
        print(
            f"{package:<11} score {score:>6} (target {r['target']:.0%}) killed {r['killed']} + timeout "
            f"{r['timeout']}, survived {r['survived']}, no tests {r['no_tests']}, unchecked {r['unchecked']} "
            f"of {r['total']}, {r['minutes']} min{' (time cap)' if r['stopped_by_time_cap'] else ''}"
        )
    scores = WORK / "scores.json"
    previous = json.loads(scores.read_text(encoding="utf-8")) if scores.exists() else {}
    previous.update({r["package"]: r for r in results})
    scores.write_text(json.dumps(previous, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["met"] is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
