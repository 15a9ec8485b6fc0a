"""model/investments.yaml: parsing with clear errors, and a case's cash flows worked by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from opsfin.errors import UserError
from opsfin.invest.config import parse_investments
from opsfin.invest.flows import case_flows, depreciation

D = Decimal
WHERE = "model/investments.yaml"
FLOWS = [{"date": "2026-01-01", "amount": -100}, {"date": "2027-01-01", "amount": 120}]


def _case(**fields):
    return parse_investments({"investments": [{"name": "press", **fields}]}, WHERE).investments[0]


def test_a_name_and_cash_flows_are_complete():
    case = _case(cash_flows=FLOWS)
    assert case_flows(case) == [(dt.date(2026, 1, 1), D(-100)), (dt.date(2027, 1, 1), D(120))]
    assert case.capital_by_year == {2026: D(100)}


def test_straight_line_depreciation_tax_and_salvage_by_hand():
    # 100,000 in 2026-01, life 3, salvage 10,000: 30,000 a year; 25 % tax saves 7,500 at each year's end;
    # the salvage arrives with the last saving
    case = _case(capex=[{"month": "2026-01", "amount": 100000}], life_years=3, salvage=10000, tax_rate=0.25)
    assert depreciation(case) == [D(30000), D(30000), D(30000)]
    assert case_flows(case) == [
        (dt.date(2026, 1, 1), D(-100000)),
        (dt.date(2027, 1, 1), D("7500.00")),
        (dt.date(2028, 1, 1), D("7500.00")),
        (dt.date(2029, 1, 1), D("17500.00")),
    ]
    assert case.capital_by_year == {2026: D(100000)}


def test_straight_line_years_add_up_to_the_cent():
    case = _case(capex=[{"month": "2026-01", "amount": 100}], life_years=3, cash_flows=FLOWS)
    assert depreciation(case) == [D("33.34"), D("33.33"), D("33.33")]


def test_declining_balance_by_hand():
    # 2 / 5 = 40 % of the book: 40,000, 24,000, 14,400, 8,640, then down to the 10,000 salvage: 2,960
    case = _case(
        capex=[{"month": "2026-01", "amount": 100000}],
        life_years=5,
        salvage=10000,
        depreciation="declining_balance",
        cash_flows=FLOWS,
    )
    assert depreciation(case) == [D(40000), D(24000), D(14400), D(8640), D(2960)]


def test_effect_flows_are_taxed_at_the_case_rate():
    case = _case(cash_flows=FLOWS, tax_rate=0.2)
    effects = [(dt.date(2026, 6, 1), D("1000.00")), (dt.date(2027, 1, 1), D("-50.00"))]
    assert case_flows(case, effects) == [
        (dt.date(2026, 1, 1), D(-100)),
        (dt.date(2026, 6, 1), D("800.00")),
        (dt.date(2027, 1, 1), D("80.00")),  # 120 − 50 × 0.8
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"investments": [{"name": "press"}]}, "investments[1] (press): a case needs `cash_flows`"),
        (
            {"investments": [{"name": "press", "cash_flows": [{"date": "2026-13-01", "amount": 1}]}]},
            "investments[1] (press): field 'cash_flows[1].date': expected a date YYYY-MM-DD, got '2026-13-01'",
        ),
        (
            {"investments": [{"name": "press", "cash_flows": [{"date": "2026-01-01", "amount": True}]}]},
            "investments[1] (press): field 'cash_flows[1].amount': expected a number",
        ),
        (
            {"investments": [{"name": "press", "cash_flows": FLOWS, "tax_rate": 1.5}]},
            "investments[1] (press): field 'tax_rate'",
        ),
        (
            {"investments": [{"name": "press", "capex": [{"month": "2026-01", "amount": 5}], "cash_flows": FLOWS}]},
            "investments[1] (press): `capex` needs `life_years`",
        ),
        (
            {"investments": [{"name": "press", "cash_flows": FLOWS, "requires": ["dies"]}]},
            "case 'press': requires/excludes an unknown case 'dies'",
        ),
        (
            {"investments": [{"name": "press", "cash_flows": FLOWS}, {"name": "press", "cash_flows": FLOWS}]},
            "case 'press' is named twice",
        ),
        (
            {"investments": [{"name": "press", "cash_flows": FLOWS, "colour": "red"}]},
            "investments[1] (press): unknown key 'colour'",
        ),
        (
            {"investments": [{"name": "press", "effects": [{"kind": "scrap", "start": "2026-13", "size": -1}]}]},
            "investments[1] (press): field 'effects[1].start'",
        ),
    ],
)
def test_a_bad_file_names_the_case_and_field(data, message):
    with pytest.raises(UserError) as err:
        parse_investments(data, WHERE)
    assert str(err.value).startswith(WHERE + ": ")
    assert message in str(err.value)


def test_effects_are_the_scenario_engines_shocks():
    effects = [
        {"kind": "scrap", "scope": {"sites": ["P1"]}, "start": "2026-05", "size": -1},
        {"kind": "energy_price", "start": "2026-03", "size": -10},
    ]
    case = _case(effects=effects, base="B2026", life_years=4)
    assert case.effects[0].kind == "scrap" and case.effects[0].start == dt.date(2026, 5, 1)
    assert case.effect_start == dt.date(2026, 3, 1)  # the earliest effect is the go-live
    with pytest.raises(UserError, match="`effects` need `base`"):
        _case(effects=effects, life_years=4)
    with pytest.raises(UserError, match="field 'effects\\[1\\]': a capacity shock needs"):
        _case(effects=[{"kind": "capacity", "start": "2026-03", "size": 5}], base="B2026", life_years=4)


def test_the_files_discount_rate_is_a_fraction():
    assert parse_investments({"discount_rate": "9%"}, WHERE).discount_rate == pytest.approx(0.09)
    assert parse_investments({}, WHERE).discount_rate == 0.08
    with pytest.raises(UserError, match="field 'discount_rate': expected a number < 1, got 8"):
        parse_investments({"discount_rate": 8}, WHERE)
