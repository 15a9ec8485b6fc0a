"""`opsfin tradeoff speed|reliability` on the tiny company: the JSON shapes, the base on-time delivery and
late units recomputed from the warehouse, and a bad option as one clear line."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cli_support import run_cli


def _run(capsys, tiny_demo, *args):
    return run_cli(capsys, "tradeoff", *args, "-w", str(tiny_demo.path))


def test_speed_on_the_tiny_company(capsys, tiny_demo):
    code, out, err = _run(capsys, tiny_demo, "speed", "--format", "json")
    assert code == 0, err
    got = json.loads(out)
    assert (got["from"], got["to"]) == ("2024-01", "2024-04")
    late = tiny_demo.sql(
        "SELECT sum(s.qty) FILTER (WHERE s.shipped_date > o.promised_date) AS late, sum(s.qty) AS shipped "
        "FROM shipments s JOIN sales_orders o USING (so_id, line)"
    ).to_dicts()[0]
    assert got["late_qty"] == late["late"] and got["shipped_qty"] == late["shipped"]
    assert got["on_time_delivery"] == pytest.approx(1 - late["late"] / late["shipped"])
    points = got["points"]
    assert [p["step_points"] for p in points] == [0, 1, 5, 10]
    costs = [Decimal(p["cost"]) for p in points]
    assert costs == sorted(costs) and costs[-1] > 0  # each step costs at least the one before
    for p in points:
        parts = Decimal(p["overtime_cost"]) + Decimal(p["expediting_cost"]) + Decimal(p["stock_cost"])
        assert parts == Decimal(p["cost"])
        assert Decimal(p["net"]) == Decimal(p["margin_protected"]) - Decimal(p["cost"])
    assert Decimal(points[-1]["margin_protected"]) <= Decimal(got["margin_at_risk"])
    assert "deliveries" in err  # progress on stderr


def test_reliability_on_the_tiny_company(capsys, tiny_demo):
    code, out, err = _run(capsys, tiny_demo, "reliability", "--format", "json", "--maintenance-rate", "40")
    assert code == 0, err
    got = json.loads(out)
    machines = {m["machine_id"]: m for m in got["machines"]}
    # every machine, those without sensor readings too (inspection, transport): no availability for them
    assert set(machines) == set(tiny_demo.sql("SELECT machine_id FROM machines")["machine_id"])
    unread = tiny_demo.sql(
        "SELECT machine_id FROM machines WHERE machine_id NOT IN (SELECT machine_id FROM machine_readings)"
    )["machine_id"].to_list()
    assert unread and all(machines[m]["availability"] is None for m in unread)
    truth = tiny_demo.sql(
        "SELECT machine_id, sum(parts_cost) AS parts, sum(labor_hours) AS labor, count(*) AS n "
        "FROM maintenance_events WHERE kind = 'breakdown' GROUP BY 1"
    ).to_dicts()
    for row in truth:
        m = machines[row["machine_id"]]
        assert m["breakdowns"] == row["n"]
        expected = row["parts"] + Decimal(repr(row["labor"])) * 40
        assert abs(Decimal(m["breakdown_spend"]) - expected) <= Decimal("0.01")
    avail = tiny_demo.sql(
        "SELECT sum(run_minutes) / sum(planned_minutes) AS a FROM machine_readings WHERE machine_id = 'P2-PACK-M01'"
    )["a"][0]
    assert machines["P2-PACK-M01"]["availability"] == pytest.approx(avail)
    assert all(m["recommendation"] for m in machines.values())


def test_a_bad_share_is_one_clear_line(capsys, tiny_demo):
    code, out, err = _run(capsys, tiny_demo, "speed", "--at-risk-share", "1.5")
    assert code == 2 and "at_risk_share" in err and "Traceback" not in err


@pytest.mark.slow
def test_reliability_flags_the_machines_the_demo_wears_out(capsys, demo_company):
    """The demo generator makes three machines break down more and more often (truth/anomalies.json):
    they, and only they, are flagged `investigate`."""
    code, out, err = run_cli(capsys, "tradeoff", "reliability", "--format", "json", "-w", str(demo_company.path))
    assert code == 0, err
    truth = json.loads((demo_company.path / "truth" / "anomalies.json").read_text())
    wearing = {a["entity_id"] for a in truth if a["kind"] == "rising_breakdowns"}
    flagged = {m["machine_id"] for m in json.loads(out)["machines"] if m["recommendation"].startswith("investigate")}
    assert wearing and flagged == wearing
