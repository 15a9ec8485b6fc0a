"""The arithmetic of tools/mutation.py's sampling mode: the draw, the tally and the Wilson interval.

Every expected figure is worked by hand in the comments; nothing here runs mutmut."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import mutation  # noqa: E402
import mutation_sample  # noqa: E402


def test_wilson_interval_of_45_killed_in_50():
    # p = 0.9, n = 50, z = 1.96, z^2 = 3.8416, z^2/n = 0.076832
    # centre = (0.9 + 0.038416) / 1.076832 = 0.938416 / 1.076832 = 0.871459
    # half = 1.96 / 1.076832 * sqrt(0.9 * 0.1 / 50 + 3.8416 / (4 * 2500))
    #      = 1.820154 * sqrt(0.0018 + 0.00038416) = 1.820154 * 0.0467350 = 0.085065
    # -> 0.786394 .. 0.956524 (the plain p +- z*sqrt(p(1-p)/n) would give 0.8168 .. 0.9832)
    low, high = mutation_sample.wilson_interval(45, 50, z=1.96)
    assert low == pytest.approx(0.786394, abs=2e-5)
    assert high == pytest.approx(0.956524, abs=2e-5)


def test_wilson_interval_at_the_ends_stays_in_zero_to_one_and_is_not_empty():
    # 0 of 10: z^2/n = 0.38416, centre = 0.19208 / 1.38416 = 0.138770,
    # half = 1.96 / 1.38416 * sqrt(3.8416 / 400) = 1.416021 * 0.098 = 0.138770 -> 0 .. 0.277540
    assert mutation_sample.wilson_interval(0, 10, z=1.96) == pytest.approx((0.0, 0.277540), abs=2e-6)
    # 10 of 10 mirrors it: 0.722460 .. 1
    assert mutation_sample.wilson_interval(10, 10, z=1.96) == pytest.approx((0.722460, 1.0), abs=2e-6)


def test_the_default_interval_is_95_percent():
    # z = 1.959964 instead of 1.96 narrows 45 of 50 a little: centre = 0.938415 / 1.076831 = 0.871460,
    # half = 1.959964 / 1.076831 * 0.0467349 = 0.085063 -> 0.786397 .. 0.956523
    low, high = mutation_sample.wilson_interval(45, 50)
    assert (low, high) == pytest.approx((0.786397, 0.956523), abs=2e-5)


@pytest.mark.parametrize(("hits", "n"), [(1, 0), (-1, 5), (6, 5)])
def test_wilson_interval_refuses_impossible_counts(hits, n):
    with pytest.raises(ValueError):
        mutation_sample.wilson_interval(hits, n)


def test_the_sample_is_seeded_nested_and_independent_of_the_listing_order():
    names = [f"opsfin.costing.m.x_f__mutmut_{i}" for i in range(1, 101)]
    ten = mutation_sample.pick(names, 10, seed=1)
    assert len(set(ten)) == 10 and set(ten) <= set(names)
    assert mutation_sample.pick(list(reversed(names)), 10, seed=1) == ten
    assert set(ten) <= set(mutation_sample.pick(names, 30, seed=1))  # a larger sample reuses the results
    assert mutation_sample.pick(names, 10, seed=2) != ten
    assert mutation_sample.pick(names[:4], 10, seed=1) == sorted(names[:4])  # fewer than asked: all


def test_the_tally_counts_the_sample_only_and_scores_like_a_whole_run():
    codes = {
        "a": 1,  # killed
        "b": 3,  # killed (pytest's internal error)
        "c": 36,  # timeout: counted as killed
        "d": 0,  # survived
        "e": 33,  # no tests
        "f": None,  # not tried yet: left out of the score
        "g": 34,  # skipped: left out of the score
        "h": 0,  # survived, but not in the sample
    }
    result = mutation_sample.tally(codes, ["a", "b", "c", "d", "e", "f", "g"])
    # scored: 2 killed + 1 timeout + 1 survived + 1 no tests = 5; score 3 / 5
    assert result["score"] == pytest.approx(0.6)
    assert (result["killed"], result["timeout"], result["survived"], result["no_tests"]) == (2, 1, 1, 1)
    assert (result["unchecked"], result["other"], result["sampled"], result["population"]) == (1, 1, 7, 8)
    assert result["survivors"] == ["d", "e"]
    # Wilson for 3 of 5 at z = 1.959964: z^2/n = 0.768292, centre = (0.6 + 0.384146) / 1.768292 = 0.556552,
    # half = 1.959964 / 1.768292 * sqrt(0.048 + 0.038415) = 1.108394 * 0.293965 = 0.325829
    assert (result["low"], result["high"]) == pytest.approx((0.230723, 0.882381), abs=2e-5)


def test_the_mutants_are_read_from_the_files_still_in_the_copy(tmp_path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "kept.py").write_text("", encoding="utf-8")
    meta_dir = tmp_path / "mutants" / "src" / "pkg"
    meta_dir.mkdir(parents=True)
    for name, codes in (
        ("kept.py", {"pkg.kept.x_f__mutmut_1": 1, "pkg.kept.x_f__mutmut_2": None}),
        ("gone.py", {"pkg.gone.x_g__mutmut_1": 0}),
    ):
        (meta_dir / f"{name}.meta").write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")
    assert mutation_sample.mutant_codes(tmp_path) == {"pkg.kept.x_f__mutmut_1": 1, "pkg.kept.x_f__mutmut_2": None}


@pytest.mark.parametrize("argv", [["core", "--sample", "0"], ["core", "--sample", "5", "--report"]])
def test_a_useless_sample_is_refused(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        mutation.main(argv)
    assert stop.value.code == 2
    assert "--sample" in capsys.readouterr().err


def test_the_summary_of_a_sample_states_its_interval_and_size():
    line = mutation._summary(
        {
            "package": "costing",
            "score": 0.9,
            "low": 0.786394,
            "high": 0.956524,
            "target": 0.85,
            "sampled": 50,
            "population": 10483,
            "seed": 1,
            "killed": 44,
            "timeout": 1,
            "survived": 4,
            "no_tests": 1,
            "unchecked": 0,
            "other": 0,
            "minutes": 12.5,
            "cpu_seconds": 900,
            "stopped_by_time_cap": False,
        }
    )
    assert "score  90.0%, 95% interval 78.6%-95.7% (target 85%) from a sample of 50 of 10483" in line
