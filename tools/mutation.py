"""Mutation testing of the engines with mutmut, one package at a time (docs/testing.md).

    python tools/mutation.py [PACKAGE ...] [--minutes N] [--max-children N] [--fresh] [--sample N [--seed S]]

Each package is mutated in its own working copy, `.mutation/<package>/` (src/, tests/ and pyproject.toml
with a `[tool.mutmut]` section naming the package's files and the tests that exercise it in-process),
so that runs of different packages never share mutmut's cache and the repository's own files are never
touched. mutmut then runs, for each mutant, only the selected tests that call the mutated function.

A run stops after `--minutes` (the mutants not yet tried are reported as unchecked); a later run
continues where it stopped. mutmut re-tries a mutant only when its function changed: after changing
tests, `--fresh` forgets the earlier results; `--report` runs nothing and counts a copy as it is (after
`mutmut run NAME…` inside it). The score is killed / (killed + survived + no tests), timeouts counting as
killed. The scores are printed and written to `.mutation/scores.json`.

`--sample N` tries only N of each package's mutants, drawn at random with `--seed`, and estimates the score
with a 95 % interval (`run_sample`, tools/mutation_sample.py)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import mutation_sample

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
    # the newer engines, smallest first; `<package>_mutants.py` holds the cases written for their survivors
    "experiments": (
        ["src/opsfin/experiments/*"],
        [
            "tests/test_experiment_*.py",
            "tests/test_experiments_mutants.py",
            "tests/test_invest_review.py",  # a post-investment review is an experiment's estimate
            "tests/test_invest_review_cli.py",
        ],
    ),
    "invest": (["src/opsfin/invest/*"], ["tests/test_invest_*.py"]),
    "planning": (
        ["src/opsfin/planning/*"],
        [
            "tests/test_planning_[!p]*.py",
            "tests/test_planning_pnl.py",  # not test_planning_pnl_demo.py: it builds the demo-scale company
            "tests/test_planning_mutants.py",
            "tests/test_plan_build.py",
        ],
    ),
    "predict": (
        ["src/opsfin/predict/*"],
        [
            "tests/test_predict_*.py",
            "tests/test_staffing.py",
            "tests/test_staffing_demo.py",
            "tests/test_eval_predict.py",
        ],
    ),
    "forecast": (
        ["src/opsfin/forecast/*"],
        [
            "tests/test_forecast_[!s]*.py",  # not test_forecast_spark.py: a JVM per mutant's run
            "tests/test_forecast_se*.py",
            "tests/test_eval_forecast.py",
        ],
    ),
    "scenarios": (
        ["src/opsfin/scenarios/*"],
        [
            "tests/test_scenario_*.py",
            "tests/test_scenarios_mutants.py",
            "tests/test_drivers_tree.py",
            "tests/test_drivers_cli.py",
            "tests/test_tradeoff_*.py",
            "tests/test_invest_effects.py",
        ],
    ),
    "cash": (["src/opsfin/cash/*"], ["tests/test_cash_*.py", "tests/test_eval_cash.py"]),
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
#: what the package's working copy holds besides mutmut's own output
COPIED = ("src", "tests", "docs", "examples", "benchmarks")
PARTS = ("subset_sum", "matching_scores")  # inside a package measured whole: not in the default run
TARGETS = {"core": 0.85, "costing": 0.85}
#: what mutmut says when a name filter matches no mutant: the run that only generates them
NOTHING_MATCHES = "Filtered for specific mutants, but nothing matches"
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
    for name in COPIED:  # afresh: files gone from the repository go here too
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
        # tests that hold the code to the docs' tables read them; tests of the shipped examples read those; the
        # cash tests of the IBM payments file run the benchmark's reader
        f"also_copy = {_toml_list(list(COPIED[2:]))}\n"
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
    started = time.monotonic()
    stopped, _ = _mutmut_run(package, work, ["--max-children", str(max_children)], minutes * 60)
    return counted(package, stopped, (time.monotonic() - started) / 60)


def _mutmut_run(package: str, work: Path, args: list[str], seconds: float, expected: str = "") -> tuple[bool, str]:
    """`mutmut run ARGS` in the package's copy for at most `seconds`: whether the time cap stopped it, and
    its log. A failure is reported unless its log holds `expected`."""
    mutmut = Path(sys.executable).with_name("mutmut")
    log = work / "mutmut.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [str(mutmut), "run", *args],
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=max(seconds, 1))
            stopped = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            stopped = True
    text = log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
    if not stopped and proc.returncode != 0 and not (expected and expected in text):
        print(
            f"{package}: mutmut stopped with exit code {proc.returncode} ({log}):",
            *text.splitlines()[-15:],
            sep="\n  ",
            file=sys.stderr,
        )
    return stopped, text


def run_sample(package: str, size: int, seed: int, minutes: float, max_children: int, fresh: bool) -> dict:
    """Run mutmut on `size` of the package's mutants drawn at random with `seed`, for at most `minutes`
    in all; the sample's counts, its score and the score's 95 % interval (tools/mutation_sample.py).

    The mutants are generated (and the tests mapped to the functions they call) by a `mutmut run` whose
    name filter matches nothing; then only the drawn mutants that have no result yet, or survived, are
    run, so a run stopped by its time cap continues where it stopped, a larger sample reuses a smaller
    one's results, and a survivor is tried again against the tests written since."""
    work = prepare(package)
    if fresh:
        shutil.rmtree(work / "mutants", ignore_errors=True)
    started, cpu = time.monotonic(), _children_cpu()
    _, text = _mutmut_run(package, work, ["no-mutant-is-named-this"], minutes * 60, NOTHING_MATCHES)
    codes = mutation_sample.mutant_codes(work)
    if NOTHING_MATCHES not in text or not codes:
        raise SystemExit(f"{package}: mutmut generated no mutants ({work / 'mutmut.log'})")
    sample = mutation_sample.pick(list(codes), size, seed)
    # not tried yet, or alive last time: mutmut re-tries a mutant only when its function changed, and a
    # test added since may kill it
    alive = set(mutation_sample.tally(codes, sample)["survivors"])
    todo = [name for name in sample if codes[name] is None or name in alive]
    stopped = False
    if todo:
        left = minutes * 60 - (time.monotonic() - started)
        stopped, _ = _mutmut_run(package, work, ["--max-children", str(max_children), *todo], left)
        codes = mutation_sample.mutant_codes(work)
    result = mutation_sample.tally(codes, sample)
    target = TARGETS.get(package, DEFAULT_TARGET)
    return {
        "package": package,
        **result,
        "seed": seed,
        "target": target,
        "met": None if result["score"] is None else result["score"] >= target,
        "stopped_by_time_cap": stopped,
        "minutes": round((time.monotonic() - started) / 60, 1),
        "cpu_seconds": round(_children_cpu() - cpu),
    }


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children, mutmut's forked runs included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def counted(package: str, stopped: bool = False, minutes: float = 0.0) -> dict:
    """The counts and score of the package's copy as mutmut last left it."""
    work = WORK / package
    mutmut = Path(sys.executable).with_name("mutmut")
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
        "minutes": round(minutes, 1),
    }


def _summary(r: dict) -> str:
    """One line per package: its score, or its sample's estimate, and the counts behind it."""
    score = "n/a" if r["score"] is None else f"{r['score']:.1%}"
    counts = (
        f"killed {r['killed']} + timeout {r['timeout']}, survived {r['survived']}, no tests {r['no_tests']}, "
        f"unchecked {r['unchecked']}"
    )
    cap = " (time cap)" if r["stopped_by_time_cap"] else ""
    if "sampled" in r:
        interval = "" if r["low"] is None else f", 95% interval {r['low']:.1%}-{r['high']:.1%}"
        return (
            f"{r['package']:<11} score {score:>6}{interval} (target {r['target']:.0%}) from a sample of "
            f"{r['sampled']} of {r['population']} mutants (seed {r['seed']}): {counts}, other {r['other']}, "
            f"{r['minutes']} min, {r['cpu_seconds']} CPU s{cap}"
        )
    return f"{r['package']:<11} score {score:>6} (target {r['target']:.0%}) {counts} of {r['total']}, {r['minutes']} min{cap}"


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
    parser.add_argument(
        "--report",
        action="store_true",
        help="run nothing: the scores of the copies as they are (after `mutmut run NAME…` inside one)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="run only N mutants per package drawn at random, and estimate the score with a 95%% interval",
    )
    parser.add_argument("--seed", type=int, default=1, help="the sample's random seed (default 1)")
    args = parser.parse_args(argv)
    if args.sample is not None and (args.sample < 1 or args.report):
        parser.error("--sample needs a positive number of mutants, and does not go with --report")
    unknown = [p for p in args.packages if p not in PACKAGES]
    if unknown:
        parser.error(f"unknown package(s) {', '.join(unknown)}: choose from {', '.join(PACKAGES)}")
    results = []
    for package in args.packages:
        if args.report:
            r = counted(package)
        elif args.sample:
            r = run_sample(package, args.sample, args.seed, args.minutes, args.max_children, args.fresh)
        else:
            r = run(package, args.minutes, args.max_children, args.fresh)
        results.append(r)
        print(_summary(r))
    scores = WORK / "scores.json"
    previous = json.loads(scores.read_text(encoding="utf-8")) if scores.exists() else {}
    previous.update({r["package"]: r for r in results})
    scores.write_text(json.dumps(previous, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["met"] is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
