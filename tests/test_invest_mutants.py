"""Investment cases that kill mutants `make mutation` found alive in invest/ (docs/testing.md, "Mutation
testing"): budgets kept to the cent, spend in a year a case does not spend in, the benefits scaled by a
realisation. Tiny hand-made inputs only, each expected figure worked out in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from opsfin.errors import UserError
from opsfin.invest.config import parse_investments
from opsfin.invest.effects import _diff, _per_month, effect_flows, extend
from opsfin.invest.flows import depreciation
from opsfin.invest.metrics import payback_years, profitability_index, worth
from opsfin.invest.portfolio import Option, greedy, selection, solve
from opsfin.invest.review import realisation, review_kpis, scaled_benefits
from opsfin.kpis.definitions import KPI_BY_ID
from test_invest_review import _plan, _rows

D = Decimal
WHERE = "model/investments.yaml"


# ------------------------------------------------------------------------------------------------- the file
def test_a_rate_written_with_a_percent_sign_is_its_hundredth():
    """ "25%" is 0.25 (two digits before the sign, not only the first); " 12.5 % " is 0.125."""
    assert parse_investments({"discount_rate": "25%"}, WHERE).discount_rate == pytest.approx(0.25)
    assert parse_investments({"discount_rate": " 12.5% "}, WHERE).discount_rate == pytest.approx(0.125)


@pytest.mark.parametrize("rate", ["abc", "x%", True, [0.1]])
def test_a_rate_that_is_not_a_number_says_what_a_rate_is(rate):
    with pytest.raises(UserError) as caught:
        parse_investments({"discount_rate": rate}, WHERE)
    assert "field 'discount_rate': expected a fraction such as 0.25, got" in str(caught.value)


# ----------------------------------------------------------------------------------------------- portfolio
def test_a_case_spending_exactly_the_budget_is_taken_and_spends_nothing_in_its_other_years():
    """A spends 100.00 in 2026 and nothing in 2027; the budgets are 100.00 and 0.00: A keeps both (100.00 ≤
    100.00, 0 ≤ 0). B (PI 1.5, 2027: 0.01) breaks the 2027 budget by a cent. The greedy and the exact choice
    are both A alone; its spend is 100.00 and 0.00, its NPV 30.00."""
    options = [
        Option("A", D("30.00"), {2026: D("100.00")}, profitability_index=1.3),
        Option("B", D("5.00"), {2027: D("0.01")}, profitability_index=1.5),
    ]
    budgets = {2026: D("100.00"), 2027: D("0.00")}
    for chosen in (greedy(options, budgets), solve(options, budgets).best):
        assert chosen.chosen == ["A"]
        assert chosen.npv == D("30.00")
        assert chosen.spend == {2026: D("100.00"), 2027: D("0.00")}


def test_the_greedy_ranking_takes_only_a_profitability_index_above_one():
    """A PI of exactly 1 earns its cost of capital and no more: the greedy ranking skips it; 1.01 is taken."""
    budgets = {2026: D(1000)}
    assert greedy([Option("A", D("0.00"), {2026: D(10)}, profitability_index=1.0)], budgets).chosen == []
    assert greedy([Option("A", D("0.10"), {2026: D(10)}, profitability_index=1.01)], budgets).chosen == ["A"]


def test_the_spend_of_a_selection_counts_only_the_years_a_case_spends_in():
    """A spends 40.00 in 2026, B 25.00 in 2027: chosen together, 40.00 and 25.00 (no year gets a case's
    absence counted as spend); the NPV 12.00 + 3.50 = 15.50."""
    options = [Option("A", D("12.00"), {2026: D("40.00")}), Option("B", D("3.50"), {2027: D("25.00")})]
    got = selection(options, ["B", "A"], {2026: D(100), 2027: D(100)})
    assert got.chosen == ["A", "B"] and got.npv == D("15.50")
    assert got.spend == {2026: D("40.00"), 2027: D("25.00")}


def test_the_exact_choice_counts_spend_in_whole_cents():
    """docs/investments.md: the solver works on amounts in whole cents. A's 100.004 is 10,000 cents, within
    a budget of 10,000 cents: A is chosen."""
    options = [Option("A", D("7.00"), {2026: D("100.004")})]
    assert solve(options, {2026: D("100.00")}).best.chosen == ["A"]


# ---------------------------------------------------------------------------------------------- the review
def test_every_benefit_is_scaled_however_small_and_the_spend_is_not():
    """At a realisation of 0.5: 0.50 in → 0.25, 1,000.00 in → 500.00; −2,000.00 out stays."""
    day = dt.date(2025, 1, 1)
    flows = [(day, D("-2000.00")), (day, D("0.50")), (day, D("1000.00"))]
    assert scaled_benefits(flows, 0.5) == [(day, D("-2000.00")), (day, D("0.25")), (day, D("500.00"))]


def test_the_review_reads_its_own_before_months_and_says_what_it_found():
    """The panels of test_invest_review.py: go-live 2024-05, machines M1, M2 treated by −0.3 kWh a unit, M3,
    M4 the controls. Two months before (March, April) and the six after: 8 months × 4 machines = 32 values.
    −0.3 realised of −0.4 promised: 0.75."""
    controls, (got,) = review_kpis("press", _plan(before_months=2), {"energy_per_unit": _rows(-0.3)}, KPI_BY_ID)
    assert got.estimate.observations == 32
    body = got.as_json()
    assert (body["kpi"], body["promised"]) == ("energy_per_unit", "-0.4")
    assert body["realisation"] == pytest.approx(0.75, abs=1e-9)
    assert body["realised"]["effect"] == pytest.approx(-0.3, abs=1e-9)


def test_a_promise_of_zero_has_no_realisation_and_a_promise_of_one_is_divided_by_one():
    rows = {"energy_per_unit": _rows(-0.3)}
    nothing = _plan(kpis=[{"kpi": "energy_per_unit", "promised": 0}])
    _, (got,) = review_kpis("press", nothing, rows, KPI_BY_ID)
    assert got.realisation is None and realisation([got]) is None
    one = _plan(kpis=[{"kpi": "energy_per_unit", "promised": 1}])
    _, (got,) = review_kpis("press", one, rows, KPI_BY_ID)
    assert got.realisation == pytest.approx(-0.3, abs=1e-9)  # −0.3 realised ÷ +1 promised


def test_the_savings_of_a_sum_kpi_are_its_monthly_effect_times_the_months_since_go_live():
    """output_units is a sum (higher is better): +0.5 units a month realised over the 6 months since go-live
    is +3 units, no volume; at 2 a unit 6.00, not turned round."""
    plan = _plan(kpis=[{"kpi": "output_units", "promised": 1, "unit_value": 2}])
    _, (got,) = review_kpis("press", plan, {"output_units": _rows(0.5)}, KPI_BY_ID)
    assert got.savings["months"] == 6 and got.savings["volume"] is None
    assert got.savings["change"] == pytest.approx(3.0)
    assert got.savings["amount"] == "6.00"
    assert (got.savings["unit_value"], got.savings["unit_value_source"]) == ("2", "model/investments.yaml")


def test_the_savings_of_a_kpi_with_a_scale_divide_the_effect_by_it():
    """throughput_per_hour = 60 × units / minutes (higher is better): +0.6 units an hour is +0.01 unit a
    minute; 500 minutes × 6 months × 2 machines = 6,000 minutes since go-live: +60 units; at 0.5: 30.00."""
    plan = _plan(kpis=[{"kpi": "throughput_per_hour", "promised": 1, "unit_value": 0.5}])
    _, (got,) = review_kpis("press", plan, {"throughput_per_hour": _rows(0.6)}, KPI_BY_ID)
    assert got.savings["volume"] == pytest.approx(6000.0)
    assert got.savings["volume_source"] == (
        "the KPI engine's throughput_per_hour denominator of the treated units since go-live"
    )
    assert got.savings["change"] == pytest.approx(60.0)
    assert got.savings["amount"] == "30.00"


# ------------------------------------------------------------------------------------ depreciation, worth
def _capex_case(amount: int, life: int, **fields):
    data = {"name": "press", "capex": [{"month": "2026-01", "amount": amount}], "life_years": life, **fields}
    return parse_investments({"investments": [data]}, WHERE).investments[0]


def test_declining_balance_writes_the_last_year_down_to_salvage_even_above_the_rate():
    """900 over 3 years at 2 / 3 of the book: 600 (book 300), then 200 (book 100); the last year takes the
    whole 100 left, more than 2 / 3 of the book (66.67)."""
    assert depreciation(_capex_case(900, 3, depreciation="declining_balance")) == [D("600.00"), D("200.00"), D(100)]


def test_no_depreciation_when_asked_for_none_or_when_salvage_is_the_whole_spend():
    assert depreciation(_capex_case(900, 3, depreciation="none")) == []
    assert depreciation(_capex_case(1000, 3, salvage=1000)) == []  # 1,000 − 1,000 = 0 to depreciate
    # 1,001 − 1,000 = 1.00 over 3 years: 0.34 + 0.33 + 0.33, not nothing
    years = depreciation(_capex_case(1001, 3, salvage=1000))
    assert sorted(years) == [D("0.33"), D("0.33"), D("0.34")]


def test_payback_months_keep_two_decimals():
    """−100 on 2026-01-01, +150 on 2026-04-11 (100 days later): paid back at 100 / 365 years = 3.28767…
    months × 12 → 3.29."""
    got = worth([(dt.date(2026, 1, 1), D(-100)), (dt.date(2026, 4, 11), D(150))], 0.0)
    assert got.payback_months == 3.29


def test_mirr_takes_its_own_finance_and_reinvestment_rates():
    """Yearly flows (365 days apart). −100, +60, +60 reinvested at 20 %: 60 × 1.2 + 60 = 132 at the end, so
    MIRR = √(132 / 100) − 1 = 0.148913. −100, −50, +200 financed at 25 %: 100 + 50 / 1.25 = 140 today, so
    √(200 / 140) − 1 = 0.195229. The discount rate (10 %) is neither."""
    days = [dt.date(2025, 1, 1), dt.date(2026, 1, 1), dt.date(2027, 1, 1)]
    reinvested = worth(list(zip(days, [D(-100), D(60), D(60)], strict=True)), 0.1, 0.05, 0.2)
    assert reinvested.mirr == pytest.approx(0.1489125, abs=1e-6)
    financed = worth(list(zip(days, [D(-100), D(-50), D(200)], strict=True)), 0.1, 0.25, 0.2)
    assert financed.mirr == pytest.approx(0.1952286, abs=1e-6)


def test_mirr_counts_money_in_under_one():
    """−1.00, +0.50, +0.80 a year apart, at 0 %: 1.30 in at the end over 1.00 out, √1.3 − 1 = 0.140175."""
    days = [dt.date(2025, 1, 1), dt.date(2026, 1, 1), dt.date(2027, 1, 1)]
    got = worth(list(zip(days, [D("-1.00"), D("0.50"), D("0.80")], strict=True)), 0.0)
    assert got.mirr == pytest.approx(0.1401754, abs=1e-6)


def test_flows_of_one_sign_say_why_they_have_no_irr():
    got = worth([(dt.date(2026, 1, 1), D(100)), (dt.date(2027, 1, 1), D(50))], 0.1)
    assert got.irr == [] and got.reason == "all flows have one sign"


def test_discounted_payback_comes_later_than_payback():
    """−100, +105 after a year, +50 after two, at 10 %: the plain running total is +5 after a year (12
    months); discounted, 105 / 1.1 = 95.45 leaves −4.55, and 50 / 1.21 = 41.32 brings it to +36.78 after two
    years (24 months)."""
    days = [dt.date(2025, 1, 1), dt.date(2026, 1, 1), dt.date(2027, 1, 1)]
    got = worth(list(zip(days, [D(-100), D(105), D(50)], strict=True)), 0.1)
    assert (got.payback_months, got.discounted_payback_months) == (12.0, 24.0)


def test_payback_needs_the_running_total_at_zero_within_a_billionth_of_the_flow():
    """Back to exactly 0 is paid back; 0.50 short is not; 0.0005 short of a million is rounding (a
    billionth of the flow: 0.001); at a flow under 1 the allowance is a billionth, not more."""
    assert payback_years([0.0, 1.0], [-100.0, 100.0]) == 1.0
    assert payback_years([0.0, 1.0], [-100.0, 99.5]) is None
    assert payback_years([0.0, 1.0], [-1e6, 1e6 - 0.0005]) == 1.0
    assert payback_years([0.0], [-1e-9]) == 0.0  # exactly the allowance
    assert payback_years([0.0], [-1.5e-9]) is None


def test_the_profitability_index_of_less_than_one_unit_out():
    """−0.50 out, +1.00 in, at 0 %: PI 1.00 / 0.50 = 2."""
    assert profitability_index(0.0, [0.0, 1.0], [-0.5, 1.0]) == 2.0


# ---------------------------------------------------------------------------------------------- effects
JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def test_a_life_of_one_month_is_allowed_and_an_unknown_basis_is_named():
    assert effect_flows(None, [], JAN, 1) == []  # no effects: no flows (the plan is never run)
    with pytest.raises(UserError, match="at least one month, not 0"):
        effect_flows(None, [], JAN, 0)
    with pytest.raises(UserError, match=r"^unknown basis 'ebit': operating_income, cash$"):
        effect_flows(None, [], JAN, 3, basis="ebit")


def test_a_plan_month_without_a_change_is_zero_and_months_outside_take_the_nearest():
    """Changes in January (+5) and March (+7), none in February: December takes January's, February 0,
    April March's."""
    got = extend({JAN: D(5), MAR: D(7)}, dt.date(2025, 12, 1), 5)
    assert got == [(dt.date(2025, 12, 1), D(5)), (JAN, D(5)), (FEB, D(0)), (MAR, D(7)), (dt.date(2026, 4, 1), D(7))]


def test_the_change_per_month_is_scenario_minus_base_over_every_month_of_either():
    """Base 10 in January only, scenario 4 in February only: January −10, February +4."""
    assert _diff({JAN: D(10)}, {FEB: D(4)}) == {JAN: D(-10), FEB: D(4)}


def test_a_months_operating_income_adds_its_sites():
    frame = pl.DataFrame(
        {
            "period": [JAN, JAN, JAN, FEB],
            "line": ["operating_income", "operating_income", "revenue", "operating_income"],
            "amount": [D("10.50"), D("-2.25"), D(99), D(3)],
        }
    )
    assert _per_month(frame, "line", "operating_income") == {JAN: D("8.25"), FEB: D(3)}
