"""A seeded random sample of a package's mutants and the score it estimates (docs/testing.md).

Trying every mutant of a package whose tests read the tiny demo takes hours; trying a random sample of
them estimates the package's score without bias, with a confidence interval that depends only on the
sample's size (mutant sampling, as in Acree's and Wong & Mathur's studies, reviewed by Jia & Harman).
This module holds the arithmetic and the reading of mutmut's files; tools/mutation.py runs mutmut."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

#: the normal quantile of a two-sided 95 % interval
Z95 = 1.959963984540054


def wilson_interval(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion of `hits` in `n` draws (0 ≤ hits ≤ n, n > 0).

    Unlike p ± z·√(p(1-p)/n), it stays inside [0, 1] and does not shrink to nothing at 0 or n hits."""
    if n <= 0 or not 0 <= hits <= n:
        raise ValueError(f"need 0 <= hits <= n and n > 0, got {hits} of {n}")
    p = hits / n
    spread = z * z / n
    centre = (p + spread / 2) / (1 + spread)
    half = z / (1 + spread) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def mutant_codes(work: Path) -> dict[str, int | None]:
    """Every mutant of the package's copy and mutmut's exit code for it (None: not tried yet).

    Read from mutmut's `.meta` file beside each mutated source file, for the files still in the copy."""
    mutants = work / "mutants"
    codes: dict[str, int | None] = {}
    for meta in sorted((mutants / "src").rglob("*.meta")):
        if not (work / meta.relative_to(mutants)).with_suffix("").exists():
            continue  # a file gone from the repository since mutmut last ran
        codes.update(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    return codes


def pick(names: list[str], size: int, seed: int) -> list[str]:
    """`size` of the names (all of them if fewer), drawn without replacement: the first `size` of one
    seeded shuffle, so the same names, seed and size give the same sample whatever order the names come
    in, and a larger sample holds every mutant of a smaller one with the same seed."""
    population = sorted(names)
    random.Random(seed).shuffle(population)
    return sorted(population[:size])


def tally(codes: dict[str, int | None], sample: list[str]) -> dict:
    """The sample's counts by mutmut status, its score and the score's 95 % Wilson interval.

    The score is killed / (killed + survived + no tests), a timeout counting as killed, as for a whole
    run; mutants not tried yet (a run stopped by its time cap) and skipped or suspicious ones are left out
    of it and counted apart."""
    statuses = Counter(status_by_exit_code[codes[name]] for name in sample)
    killed, timeout = statuses["killed"], statuses["timeout"]
    survived, no_tests = statuses["survived"], statuses["no tests"]
    scored = killed + timeout + survived + no_tests
    low, high = wilson_interval(killed + timeout, scored) if scored else (None, None)
    return {
        "sampled": len(sample),
        "population": len(codes),
        "killed": killed,
        "timeout": timeout,
        "survived": survived,
        "no_tests": no_tests,
        "unchecked": statuses["not checked"],
        "other": len(sample) - scored - statuses["not checked"],
        "score": (killed + timeout) / scored if scored else None,
        "low": low,
        "high": high,
        "survivors": [n for n in sample if status_by_exit_code[codes[n]] in ("survived", "no tests")],
    }
