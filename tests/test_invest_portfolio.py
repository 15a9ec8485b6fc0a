"""Capital rationing: the exact choice against brute force on random small instances, and the greedy
ranking by PI on a case worked by hand."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

import pytest

from opsfin.invest.portfolio import Option, greedy, solve

D = Decimal
YEARS = (2026, 2027)


def _keeps_rules(options: list[Option], chosen: set[str], budgets: dict[int, Decimal]) -> bool:
    """Written apart from the module: every requirement chosen, no excluded pair, every budget kept."""
    for o in options:
        if o.name not in chosen:
            continue
        if not set(o.requires) <= chosen or set(o.excludes) & chosen:
            return False
    for year, cap in budgets.items():
        if sum(o.spend.get(year, D(0)) for o in options if o.name in chosen) > cap:
            return False
    return True


def _brute_force(options: list[Option], budgets: dict[int, Decimal]) -> Decimal:
    best = D(0)
    names = [o.name for o in options]
    npv = {o.name: o.npv for o in options}
    for size in range(1, len(names) + 1):
        for subset in itertools.combinations(names, size):
            chosen = set(subset)
            if _keeps_rules(options, chosen, budgets):
                best = max(best, sum(npv[n] for n in chosen))
    return best


def _instance(rng: random.Random) -> tuple[list[Option], dict[int, Decimal]]:
    n = rng.randint(1, 12)
    names = [f"c{i}" for i in range(n)]
    options = []
    for name in names:
        others = [m for m in names if m != name]
        requires = rng.sample(others, k=min(len(others), rng.choice([0, 0, 0, 1, 2])))
        excludes = [m for m in rng.sample(others, k=min(len(others), rng.choice([0, 0, 1]))) if m not in requires]
        spend = {y: D(rng.randint(0, 50_000)) / 100 for y in YEARS if rng.random() < 0.8}
        npv = D(rng.randint(-20_000, 80_000)) / 100
        outlay = sum(spend.values(), D(0))
        pi = float(1 + npv / outlay) if outlay else None
        options.append(Option(name, npv, spend, pi, tuple(requires), tuple(excludes)))
    budgets = {y: D(rng.randint(0, 150_000)) / 100 for y in YEARS if rng.random() < 0.9}
    return options, budgets


@pytest.mark.parametrize("seed", range(40))
def test_exact_choice_equals_brute_force(seed):
    options, budgets = _instance(random.Random(seed))
    result = solve(options, budgets)
    assert result.status == "OPTIMAL"
    assert result.best.npv == _brute_force(options, budgets)
    assert _keeps_rules(options, set(result.best.chosen), budgets)
    assert sum(o.npv for o in options if o.name in result.best.chosen) == result.best.npv
    # the greedy choice keeps every rule and cannot beat the exact one
    assert _keeps_rules(options, set(result.greedy.chosen), budgets)
    assert result.left_on_table == result.best.npv - result.greedy.npv >= 0


def test_greedy_by_pi_leaves_money_on_the_table():
    # A: NPV 100 on 100 (PI 2.0); B: NPV 150 on 200 (PI 1.75); budget 200: greedy takes A, then B no longer
    # fits → 100; the best is B alone → 150, 50 left on the table
    options = [Option("A", D(100), {2026: D(100)}, 2.0), Option("B", D(150), {2026: D(200)}, 1.75)]
    result = solve(options, {2026: D(200)})
    assert result.best.chosen == ["B"] and result.best.npv == D(150)
    assert result.greedy.chosen == ["A"] and result.greedy.npv == D(100)
    assert result.left_on_table == D(50)
    assert result.best.spend == {2026: D("200.00")}


def test_requires_and_excludes_are_honoured():
    # tooling (NPV 50) needs the press (NPV −10): together 40; solar (NPV 30) excludes the press
    options = [
        Option("press", D(-10), {2026: D(100)}, 0.9),
        Option("tooling", D(50), {2026: D(20)}, 3.5, requires=("press",)),
        Option("solar", D(30), {2026: D(50)}, 1.6, excludes=("press",)),
    ]
    result = solve(options, {2026: D(1000)})
    assert sorted(result.best.chosen) == ["press", "tooling"] and result.best.npv == D(40)
    # greedy: tooling with the press it needs (40), then solar is excluded
    assert sorted(greedy(options, {2026: D(1000)}).chosen) == ["press", "tooling"]
    tight = solve(options, {2026: D(110)})
    assert tight.best.chosen == ["solar"] and tight.best.npv == D(30)
