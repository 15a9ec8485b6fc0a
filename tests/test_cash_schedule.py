"""Production scheduled around cash, on small cases worked by hand (docs/cash.md, "Production scheduled
around cash"): the MILP against earliest due date, the cost function, where an order's work lands, and the
stock and lead times behind an order's earliest start."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal as D

import pytest

from opsfin.cash.schedule import solve_problem
from opsfin.cash.schedule_costs import ScheduleOrder, ScheduleProblem, Step, candidates, cash_days, evaluate, place
from opsfin.cash.schedule_inputs import Materials, order_materials
from opsfin.errors import UserError

AS_OF = dt.date(2026, 1, 4)  # a Sunday; the horizon starts on Monday 5 January


def day(n: int) -> dt.date:
    return dt.date(2026, 1, n)


def horizon(last: int) -> tuple[dt.date, ...]:
    return tuple(day(n) for n in range(5, last + 1))


def order(oid: str, due: int, hours: float = 8.0, **kw) -> ScheduleOrder:
    return ScheduleOrder(oid, "P", 1.0, day(due), kw.pop("earliest", day(5)), (Step("WC", hours),), **kw)


def one_centre(days: tuple[dt.date, ...], hours: float = 8.0) -> dict[tuple[str, dt.date], float]:
    return {("WC", d): hours for d in days}


def test_the_order_with_the_cheaper_delay_waits():
    # one 8-hour day of capacity a day, two 8-hour orders due on the first day: one of them is a day late.
    # EDD (same due date, by id) makes A first and B (100 a day) late: 100; the MILP makes A late: 10.
    days = horizon(9)
    a = order("A", 5, late_cost_per_day=D(10))
    b = order("B", 5, late_cost_per_day=D(100))
    result = solve_problem(ScheduleProblem(AS_OF, days, one_centre(days), (a, b)), time_limit_s=10)
    starts = dict(result.orders.select("order_id", "start_date").iter_rows())
    assert starts == {"A": day(6), "B": day(5)}
    assert result.objective["lateness_cost"] == D("10.00") and result.objective["late_days"] == 1
    assert result.baseline["lateness_cost"] == D("100.00") and result.baseline["late_orders"] == 1
    assert result.objective["gap"] == 0.0 and result.status == "optimal"


def _cash_case(min_cash: D | None) -> ScheduleProblem:
    # H pays 1000 of material on its start day; 500 in the bank; a customer pays 1000 on the 10th.
    days = horizon(14)
    heavy = order("H", 7, material_payments=((0, D(1000)),), late_cost_per_day=D(10))
    light = order("L", 7, late_cost_per_day=D(10))
    return ScheduleProblem(
        AS_OF, days, one_centre(days), (heavy, light), D(500), {day(10): D(1000)}, min_cash, D("0.08")
    )


def test_edd_goes_below_min_cash_and_the_milp_delays_the_material_heavy_order():
    result = solve_problem(_cash_case(D(0)), time_limit_s=10)
    starts = dict(result.orders.select("order_id", "start_date").iter_rows())
    # H waits for the receipt of the 10th: 3 days late at 10 a day; L runs on its own first free day
    assert starts["H"] == day(10) and starts["L"] < day(8)
    assert result.objective["feasible"] is True and result.objective["cash_low_point"] == D("500.00")
    assert result.objective["lateness_cost"] == D("30.00") and result.objective["financing_cost"] == D("0.00")
    assert min(result.cash["closing"]) >= D(0)
    # EDD starts H on the 5th: −500 for 5 days (the 5th to the 9th) = 2500 × 8 % ÷ 365 = 0.548 → 0.55
    assert result.baseline["feasible"] is False and result.baseline["cash_low_point"] == D("-500.00")
    assert result.baseline["financing_cost"] == D("0.55") and result.baseline["total"] == D("0.55")


def test_without_a_minimum_interest_alone_does_not_buy_lateness():
    # H as late as it can run on time (the 7th): overdrawn the 7th, 8th, 9th = 1500 × 8 % ÷ 365 = 0.33
    result = solve_problem(_cash_case(None), time_limit_s=10)
    starts = dict(result.orders.select("order_id", "start_date").iter_rows())
    assert starts["H"] == day(7)
    assert result.objective["financing_cost"] == D("0.33") and result.objective["late_days"] == 0
    assert result.objective["total"] <= result.baseline["total"] == D("0.55")
    assert result.objective["feasible"] is True and result.baseline["feasible"] is True


def test_finished_goods_made_early_cost_holding():
    # due the 9th, 2 a day held: EDD makes it on the 5th (4 days early: 8.00), the MILP on the 9th
    days = horizon(9)
    result = solve_problem(ScheduleProblem(AS_OF, days, one_centre(days), (order("A", 9, holding_cost_per_day=D(2)),)))
    assert result.baseline["holding_cost"] == D("8.00")
    assert result.objective["holding_cost"] == D("0.00") and result.orders["start_date"][0] == day(9)


def test_a_step_longer_than_a_day_spreads_over_working_days_and_skips_days_off():
    # WC works 8 h a day but not on the 6th; 20 h = ⌈20 ÷ 8⌉ = 3 working days of 6.67 h; the next step (4 h
    # at PACK) the working day after; the order ships on its due date, collected 30 days later
    days = horizon(12)
    capacity = {("WC", d): 8.0 for d in days if d != day(6)} | {("PACK", d): 8.0 for d in days}
    problem = ScheduleProblem(AS_OF, days, capacity, ())
    o = ScheduleOrder(
        "A", "P", 1.0, day(11), day(5), (Step("WC", 20.0), Step("PACK", 4.0)), revenue=D(900), collection_days=30
    )
    p = place(o, day(5), problem, {"WC": 8.0, "PACK": 8.0})
    assert p is not None
    assert [(wc, d) for wc, d, _ in p.loads] == [("WC", day(5)), ("WC", day(7)), ("WC", day(8)), ("PACK", day(9))]
    assert p.loads[0][2] == pytest.approx(20 / 3)
    assert p.end == day(9) and p.ship == day(11) and p.flows == ((day(11) + dt.timedelta(days=30), D(900)),)
    assert place(o, day(6), problem, {"WC": 8.0, "PACK": 8.0}) is None  # not a working day of WC
    assert place(o, day(10), problem, {"WC": 8.0, "PACK": 8.0}) is None  # does not fit before the 12th


def test_cost_function_by_hand():
    # opening 100; A (due the 6th) pays 300 of material a day after its start and is collected 400 two days
    # after shipping (late: on completion). The curve ends the 10th, when a start on the 9th pays.
    days = horizon(9)
    a = order("A", 6, material_payments=((1, D(300)),), revenue=D(400), collection_days=2, late_cost_per_day=D(5))
    problem = ScheduleProblem(AS_OF, days, one_centre(days), (a,), D(100), {}, D(50), D("0.365"))
    options = candidates(problem)
    grid = cash_days(problem, options)
    assert grid[0] == day(5) and grid[-1] == day(10)
    on = {p.start: {"A": p} for p in options["A"]}
    # started the 8th: 2 late days × 5 = 10; pays the 9th, collected the 10th: one day at −200 → 200 × 36.5 %
    # ÷ 365 = 0.20; the 50 minimum is missed
    out = evaluate(problem, on[day(8)], grid)
    assert [c for _, c in out.closing] == [D(100)] * 4 + [D(-200), D(200)]
    assert out.financing_cost == D("0.20") and out.lateness_cost == D("10.00") and out.total == D("10.20")
    assert out.cash_low_point == D("-200.00") and out.feasible(D(50)) is False and out.feasible(None) is True
    # started the 9th: pays the 10th, its collection (the 11th) is off the curve
    out = evaluate(problem, on[day(9)], grid)
    assert [c for _, c in out.closing] == [D(100)] * 5 + [D(-200)]
    assert out.lateness_cost == D("15.00") and out.financing_cost == D("0.20")


def test_stock_covers_the_first_order_and_the_second_waits_for_the_supplier():
    # 100 of RM at P1 in stock; each order needs qty 60 × 1 = 60: the first is covered, the second waits
    # the supplier's 10-day lead time. Both pay back what they use: 60 × 2.50 = 150 after 30 days.
    materials = Materials(
        bom={"FG": [("RM", 1.0)]},
        suppliers=({("P1", "RM"): "S1"}, {"RM": "S1"}, {"S1": 10}),
        prices={"RM": D("2.50")},
        stock={("P1", "RM"): 100.0},
        pay_days={"S1": 30},
    )
    problems: list[str] = []
    row = {"product_id": "FG", "site_id": "P1", "planned_qty": 60.0}
    assert order_materials(row, materials, AS_OF, problems) == (day(5), ((30, D("150.00")),))
    assert order_materials(row, materials, AS_OF, problems) == (day(14), ((30, D("150.00")),))
    assert problems == []


def test_an_order_that_cannot_run_in_the_horizon_is_left_out_with_a_problem():
    days = horizon(9)
    late = order("A", 9, earliest=day(20))
    result = solve_problem(ScheduleProblem(AS_OF, days, one_centre(days), (late, order("B", 9))))
    assert result.orders["order_id"].to_list() == ["B"]
    assert any(p.startswith("A: cannot run inside the horizon") for p in result.problems)


def test_an_unknown_solver_is_a_user_error():
    with pytest.raises(UserError, match="choose SCIP, CBC, HIGHS"):
        solve_problem(ScheduleProblem(AS_OF, horizon(9), {}, (order("A", 9),)), solver="gurobi")


def _random_case(seed: int, min_cash: D | None = D(0)) -> ScheduleProblem:
    """12 orders over two work centres and three weeks, materials paid 0–20 days after the start, sales
    collected 10–40 days after shipping, a minimum cash that EDD's early buying tends to break."""
    rng = random.Random(seed)
    days = tuple(AS_OF + dt.timedelta(days=i) for i in range(1, 22))
    capacity = {(wc, d): 16.0 for wc in ("MACH", "PACK") for d in days if d.weekday() < 5}
    orders = []
    for i in range(12):
        steps = (Step("MACH", rng.choice([4.0, 8.0, 12.0])), Step("PACK", rng.choice([2.0, 6.0])))
        pay = ((rng.randint(0, 20), D(rng.randint(1, 30) * 100)),)
        orders.append(
            ScheduleOrder(
                f"O{i:02d}", "P", 10.0, days[rng.randint(2, 18)], days[rng.randint(0, 4)], steps, pay,
                D(rng.randint(20, 60) * 100), rng.randint(10, 40), D(rng.randint(1, 50)), D(rng.randint(0, 5)),
            )
        )  # fmt: skip
    return ScheduleProblem(AS_OF, days, capacity, tuple(orders), D(5000), {days[10]: D(8000)}, min_cash, D("0.10"))


@pytest.mark.parametrize(("seed", "min_cash"), [(1, D(0)), (2, D(0)), (3, D(0)), (1, None), (2, None)])
def test_invariants_once_within_capacity_cash_and_no_worse_than_edd(seed, min_cash):
    problem = _random_case(seed, min_cash)
    result = solve_problem(problem, time_limit_s=10)
    assert Counter(result.orders["order_id"].to_list()) == Counter(o.order_id for o in problem.orders)
    for _wc, _day, hours, capacity in result.load.iter_rows():
        assert hours <= capacity
    if result.objective["feasible"] and problem.min_cash is not None:
        assert min(result.cash["closing"]) >= problem.min_cash
    if result.baseline["feasible"]:
        assert result.objective["feasible"] and result.objective["total"] <= result.baseline["total"]
    else:
        assert result.objective["cash_low_point"] >= result.baseline["cash_low_point"] or result.objective["feasible"]


def test_a_solver_schedule_worse_than_edd_is_not_returned(monkeypatch):
    # the solver stopped with H early (as EDD would) but L late: 10 of lateness. EDD costs 0.55: it is kept.
    from opsfin.cash import schedule as engine
    from opsfin.cash.schedule_model import Solved

    def worse(problem, options, grid, hint, time_limit_s, solver_name="SCIP"):
        picks = {"H": day(5), "L": day(8)}
        return Solved(
            {o: next(p for p in ps if p.start == picks[o]) for o, ps in options.items()}, 0.5, "time limit", 1.0
        )

    monkeypatch.setattr(engine, "solve_schedule", worse)
    result = solve_problem(_cash_case(None))
    assert result.status == "time limit; the baseline kept"
    assert result.objective == result.baseline | {"gap": None}
    assert result.objective["total"] == D("0.55")
