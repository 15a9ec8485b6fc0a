"""Bounded subset-sum: which few amounts add up exactly to a target (a batch payment, partial payments).

Exact integer cents; at most `max_items` amounts; stops after `limit` solutions or at `deadline`
(`time.monotonic()`), so one awkward bank line cannot stall a run."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class SubsetResult:
    solutions: list[tuple[int, ...]]  # indexes into the amounts given, each solution sorted
    timed_out: bool


def subset_sums(
    target: int,
    amounts: list[int],
    max_items: int,
    deadline: float,
    limit: int = 2,
    min_items: int = 2,
) -> SubsetResult:
    """Subsets of `amounts` (all of the target's sign) of min_items..max_items elements summing to `target`.

    Depth-first over the amounts sorted by size, pruned when the rest cannot reach the target."""
    sign = 1 if target >= 0 else -1
    usable = [(abs(a), i) for i, a in enumerate(amounts) if a != 0 and (a > 0) == (sign > 0)]
    usable.sort(key=lambda x: -x[0])
    values = [v for v, _ in usable]
    n = len(values)
    suffix = [0] * (n + 1)
    for k in range(n - 1, -1, -1):
        suffix[k] = suffix[k + 1] + values[k]
    goal = abs(target)
    solutions: list[tuple[int, ...]] = []
    chosen: list[int] = []
    steps = 0
    timed_out = False

    def search(start: int, remaining: int) -> bool:
        """False once the search must stop (enough solutions or out of time)."""
        nonlocal steps, timed_out
        if remaining == 0:
            if len(chosen) >= min_items:
                solutions.append(tuple(sorted(usable[k][1] for k in chosen)))
            return len(solutions) < limit
        if len(chosen) == max_items:
            return True
        for k in range(start, n):
            if suffix[k] < remaining:
                return True  # even all the rest cannot reach it
            if values[k] > remaining:
                continue
            steps += 1
            if steps % 1024 == 0 and time.monotonic() > deadline:
                timed_out = True
                return False
            chosen.append(k)
            go_on = search(k + 1, remaining - values[k])
            chosen.pop()
            if not go_on:
                return False
        return True

    if goal:
        search(0, goal)
    return SubsetResult(solutions, timed_out)
