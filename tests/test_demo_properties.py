"""Property tests: for any seed, the tiny company keeps the accounting invariants."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsfin.demo import generate
from opsfin.runs.checks import run_checks


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**31 - 1))
def test_any_seed_gives_balanced_books_and_tied_subledgers(tmp_path_factory, seed):
    ws = generate(tmp_path_factory.mktemp("seed") / "ws", scale="tiny", seed=seed).workspace
    findings = run_checks(ws)
    # journals balance, AR/AP tie to control, stock never negative, no orphans or duplicate keys,
    # statements add up, production cost centres cleared at month end
    assert [f for f in findings if f.severity != "info"] == []
    counts = ws.row_counts()
    assert counts["gl_entries"] > 0 and counts["machine_readings"] > 0
