"""Time `opsfin scenario simulate` with 10,000 draws over 18 months of the `demo` company (docs/scenarios.md
"Monte Carlo simulation"). Target: ≤ 10 s on 2 cores.

    python benchmarks/bench_scenario_sim.py                 # builds (once) and reuses ./.bench/demo
    python benchmarks/bench_scenario_sim.py /path/to/demo   # or OPSFIN_BENCH_DEMO=/path/to/demo (a copy: it writes)
    python benchmarks/bench_scenario_sim.py --draws 10000 --seed 1

Prepares, once, an 18-month demand forecast `BENCH-FC18` (its p10/p90 band is the demand's spread) and the
scenario `bench_sim` in model/scenarios.yaml (price, material price, payment delay and outage spreads, centred
on 0 so that the P50 is comparable with the deterministic run; the outages only take volume). Then
it times, in this process, the deterministic run (base plan, scenario run, linearisation) and the draws, and
the command as a user runs it (a new process: start-up included; wall and CPU seconds, since on a shared
machine the wall time includes other processes' turns). It checks that the same seed gives the same result,
that P10 ≤ P50 ≤ P90, and how far each measure's P50 is from the deterministic run."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from timing import timed_run

import opsfin

DEFAULT_DIR = Path(".bench/demo")
TARGET_S = 10.0
FORECAST = "BENCH-FC18"
SCENARIO = "bench_sim"
SCENARIO_YAML = f"""scenarios:
  - name: {SCENARIO}
    base: {FORECAST}
    description: the benchmark of `opsfin scenario simulate`
    distributions:
      price: {{dist: normal, sd: 2}}
      material_price: {{dist: triangular, low: -10, mode: 0, high: 10, per: path}}
      payment_delay: {{dist: uniform, low: -5, high: 5}}
      outages:
        - {{work_centers: [P1-ASSY], probability: 0.1, hours: {{dist: uniform, low: 20, high: 120}}}}
  - name: {SCENARIO}_flat
    base: {FORECAST}
    distributions: {{demand: {{sd_pct: 0}}}}
"""


def _workspace(path: Path):
    if not (path / "warehouse.duckdb").exists():
        from opsfin.demo import generate

        print(f"building the demo company in {path} (cached) …", flush=True)
        generate(path, scale="demo", seed=42)
    return opsfin.open(path)


def _prepare(ws, path: Path) -> None:
    """The forecast and the scenario file, made once."""
    found = ws.sql("SELECT count(*) AS n FROM volume_plan WHERE version = ?", [FORECAST])["n"][0]
    if not found:
        last = f"{ws.sql('SELECT max(shipped_date) AS d FROM shipments')['d'][0]:%Y-%m}"
        print(f"forecasting 18 months after {last} as {FORECAST} (once) …", flush=True)
        _opsfin(path, "forecast", "demand", "--as-of", last, "--version", FORECAST, "--horizon", "18")
    scenarios = path / "model" / "scenarios.yaml"
    if not scenarios.exists():
        scenarios.parent.mkdir(parents=True, exist_ok=True)
        scenarios.write_text(SCENARIO_YAML)
    elif f"name: {SCENARIO}\n" not in scenarios.read_text():
        sys.exit(f"{scenarios} exists without scenario {SCENARIO}: add it (see SCENARIO_YAML) or use another copy")


def _opsfin(path: Path, *args: str) -> tuple[float, float]:
    """Run the CLI; (wall, CPU) seconds of the child."""
    _run, wall, cpu = timed_run([sys.executable, "-m", "opsfin", *args, "-w", str(path)], check=True)
    return wall, cpu


def _p50_gaps(sim, flat) -> dict[str, float]:
    """The largest |P50 − deterministic| ÷ |deterministic| per measure, over the months."""
    det = {(r["period"], r["measure"]): r["p50"] for r in flat.months.to_dicts()}
    gaps: dict[str, float] = {}
    for r in sim.months.to_dicts():
        base = det[(r["period"], r["measure"])]
        gap = float(abs(r["p50"] - base) / abs(base)) if base else 0.0
        gaps[r["measure"]] = max(gaps.get(r["measure"], 0.0), gap)
    return gaps


def main(argv: list[str] | None = None) -> int:
    from opsfin.runs.scenario_sim import simulate_scenario

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default=os.environ.get("OPSFIN_BENCH_DEMO", str(DEFAULT_DIR)))
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    path = Path(args.path)
    ws = _workspace(path)
    _prepare(ws, path)
    first = simulate_scenario(ws, SCENARIO, args.draws, args.seed)
    again = simulate_scenario(ws, SCENARIO, args.draws, args.seed)
    flat = simulate_scenario(ws, f"{SCENARIO}_flat", 1, args.seed)
    months = first.simulation.months
    total = first.run_seconds + first.draw_seconds
    print(f"{args.draws:,} draws × {months['period'].n_unique()} months of the demo company, seed {args.seed}")
    print(f"  deterministic run (base, scenario, linearisation): {first.run_seconds:6.2f} s")
    print(f"  draws:                                             {first.draw_seconds:6.2f} s")
    print(
        f"  both, in process:                                  {total:6.2f} s  ratio to target {total / TARGET_S:.2f}"
    )
    wall, cpu = _opsfin(path, "scenario", "simulate", SCENARIO, "--draws", str(args.draws), "--seed", str(args.seed))
    print(f"  the command (new process): wall {wall:6.2f} s, CPU {cpu:6.2f} s  ratio to target {wall / TARGET_S:.2f}")
    same = months.equals(again.simulation.months) and first.simulation.breaches.equals(again.simulation.breaches)
    ordered = bool(((months["p10"] <= months["p50"]) & (months["p50"] <= months["p90"])).all())
    print(f"  same seed, same result: {same}; P10 ≤ P50 ≤ P90: {ordered}")
    for measure, gap in _p50_gaps(first.simulation, flat.simulation).items():
        print(f"  P50 vs the deterministic run, {measure}: at most {gap:.2%} apart")
    for r in first.simulation.breaches.to_dicts():
        print(f"  P(breach) {r['guardrail']}: {r['probability']:.4f}")
    met = total <= TARGET_S and same and ordered
    print(f"target ≤ {TARGET_S:.0f} s (deterministic run and draws): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
