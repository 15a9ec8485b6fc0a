"""Service cost allocations: direct, step-down and reciprocal (docs/allocations.md).

`allocate_costs` is the method on one cost vector (textbook-sized, no warehouse); `allocation_inputs`
reads one month from the warehouse; `run_allocation` applies `model/allocations.yaml` to it and returns
the flows and a per-cost-centre summary; `journal_rows` turns a result into its balanced journals (run id
from method + period + rules hash). Writing them, atomically and idempotently, is the I/O layer's job
(`opsfin.runs.costing.post_allocation`); so is reading a workspace (`allocation_result`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import polars as pl

from ..core.frames import ColumnTypes
from ..errors import UserError
from ..kpis.engine import Tables
from .costing_config import METHODS, AllocationConfig, AllocationRule, split_cents, to_cents
from .reads import MONEY_SUM_T, cost_centres, costing_tables, fetch

ALLOC_PREFIX = "ALLOC-"
ZERO = Decimal(0)


# ------------------------------------------------------------------ the three methods on one cost vector


def _complete_costs(
    senders: list[str], own: dict[str, Decimal], weights: dict[str, dict[str, Any]]
) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """Reciprocal method: (index of each sender, A = driver shares between senders, complete costs R
    solving R = own + Aᵀ R)."""
    idx = {s: i for i, s in enumerate(senders)}
    n = len(senders)
    a = np.zeros((n, n))
    for s in senders:
        tot = float(sum(Fraction(w) for r, w in weights[s].items() if r != s))
        if tot <= 0:
            if own[s]:
                raise UserError(f"cost centre {s}: {own[s]} to allocate but no receiver has a positive driver")
            continue
        for r, w in weights[s].items():
            if r in idx and r != s:
                a[idx[s], idx[r]] = float(w) / tot
    b = np.array([float(own[s]) for s in senders])
    try:
        m = np.eye(n) - a.T
        if n and np.linalg.cond(m) > 1e12:
            raise np.linalg.LinAlgError
        r_vec = np.linalg.solve(m, b) if n else b
    except np.linalg.LinAlgError:
        raise UserError(
            "reciprocal allocation has no solution: some service centres serve only each other "
            "(no share reaches a production centre); fix the receivers in allocations.yaml"
        ) from None
    return idx, a, r_vec


def allocate_costs(
    method: str,
    own: dict[str, Decimal],
    weights: dict[str, dict[str, Any]],
    order: list[str] | None = None,
) -> dict[tuple[str, str], Decimal]:
    """Allocate the senders' own costs to receivers. Returns {(sender, receiver): amount}.

    `weights[s]` gives sender s's driver quantity per receiver (other senders included). Receivers that
    are not senders are final. Every sender ends at exactly zero and the finals receive Σ own exactly:
    - direct: each sender's own cost goes to its final receivers only;
    - step: senders in `order`; each allocates own + received to the finals and to later senders;
    - reciprocal: complete costs R solve R = own + Aᵀ R (A = driver shares between senders; numpy);
      flows to senders are A·R rounded to the cent, the rest of own + received goes to the finals."""
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; use {', '.join(METHODS)}")
    senders = list(weights)
    sender_set = set(senders)
    own = {s: to_cents(own.get(s, ZERO)) for s in senders}
    finals = {s: {r: w for r, w in weights[s].items() if r not in sender_set and w} for s in senders}
    flows: dict[tuple[str, str], Decimal] = {}

    def spread(s: str, amount: Decimal, targets: dict[str, Any], what: str) -> dict[str, Decimal]:
        if amount == 0:
            return {}
        if not targets or sum(Fraction(w) for w in targets.values()) == 0:
            raise UserError(
                f"cost centre {s}: {amount} to allocate ({method}) but no {what} with a positive "
                f"driver quantity; check its rule's receivers and driver in allocations.yaml"
            )
        parts = {r: amt for r, amt in split_cents(amount, targets).items() if amt}
        for r, amt in parts.items():
            flows[(s, r)] = flows.get((s, r), ZERO) + amt
        return parts

    if method == "direct":
        for s in senders:
            spread(s, own[s], finals[s], "final receiver")
    elif method == "step":
        seq = list(order or senders)
        if sorted(seq) != sorted(senders):
            raise UserError("step order must list every sender exactly once")
        received = dict.fromkeys(senders, ZERO)
        for i, s in enumerate(seq):
            later = set(seq[i + 1 :])
            targets = {r: w for r, w in weights[s].items() if w and (r not in sender_set or r in later) and r != s}
            for r, amt in spread(s, own[s] + received[s], targets, "final receiver or later sender").items():
                if r in later:
                    received[r] += amt
    else:
        idx, a, r_vec = _complete_costs(senders, own, weights)
        received = dict.fromkeys(senders, ZERO)
        for s in senders:
            for t in senders:
                if t != s and a[idx[s], idx[t]]:
                    amt = to_cents(float(a[idx[s], idx[t]] * r_vec[idx[s]]))
                    if amt:
                        flows[(s, t)] = amt
                        received[t] += amt
        for s in senders:
            sent = sum((amt for (x, t), amt in flows.items() if x == s), ZERO)
            spread(s, own[s] + received[s] - sent, finals[s], "final receiver")
    return flows


# ------------------------------------------------------------------ warehouse inputs for one month


@dataclass
class AllocationInputs:
    period: dt.date
    centres: dict[str, dict[str, Any]]  # id -> {cost_center_id, kind, site_id, site_kind}
    costs: list[tuple[str, str, str, Decimal]]  # (cost_center_id, account_id, role, amount)
    drivers: dict[str, dict[str, float]]  # driver -> cost_center_id -> quantity


def month_bounds(period: dt.date) -> tuple[dt.date, dt.date]:
    nxt = dt.date(period.year + (period.month == 12), period.month % 12 + 1, 1)
    return period, nxt


def _month_costs(t: Tables, lo: dt.date, hi: dt.date, roles: tuple[str, ...]) -> list[tuple[str, str, str, Decimal]]:
    """(cost centre, account, role, amount) of the month's GL postings on `roles` (allocation journals
    left out), non-zero sums only, in (cost centre, account) order."""
    g = t("gl_entries").select("account_id", "cost_center_id", "posting_date", "source_doc", "amount")
    a = t("accounts").select("account_id", "role")
    j = g.join(a, "account_id")
    j = j.filter(
        (j.posting_date >= lo)
        & (j.posting_date < hi)
        & j.cost_center_id.notnull()
        & j.role.isin(list(roles))
        & ~j.source_doc.startswith(ALLOC_PREFIX)
    )
    expr = j.group_by(["cost_center_id", "account_id", "role"]).aggregate(amount=j.amount.sum().cast(MONEY_SUM_T))
    rows = fetch(expr.filter(expr.amount != 0))
    rows.sort(key=lambda r: (r["cost_center_id"], r["account_id"]))
    return [(r["cost_center_id"], r["account_id"], r["role"], Decimal(r["amount"])) for r in rows]


def _month_drivers(t: Tables, lo: dt.date, hi: dt.date) -> dict[str, dict[str, float]]:
    """machine_hours, maintenance_hours, labor_hours of the month and headcount, per cost centre."""
    start, stop = dt.datetime.combine(lo, dt.time()), dt.datetime.combine(hi, dt.time())
    wc = t("work_centers").select(_wc="work_center_id", cost_center_id="cost_center_id")
    o = t("operations")
    o = o.filter((o.end_at >= start) & (o.end_at < stop))
    o = o.join(wc, o.work_center_id == wc._wc)
    e = t("maintenance_events")
    e = e.filter((e.end_at >= start) & (e.end_at < stop))
    m = t("machines").select(_mid="machine_id", _mwc="work_center_id")
    e = e.join(m, e.machine_id == m._mid).join(wc, m._mwc == wc._wc)
    ts = t("timesheets")
    ts = ts.filter((ts.work_date >= lo) & (ts.work_date < hi))
    emp = t("employees")
    exprs = {
        "machine_hours": o.group_by("cost_center_id").aggregate(v=o.run_minutes.sum() / 60),
        "maintenance_hours": e.group_by("cost_center_id").aggregate(v=e.labor_hours.sum()),
        "labor_hours": ts.group_by("cost_center_id").aggregate(v=(ts.regular_hours + ts.overtime_hours).sum()),
        "headcount": emp.group_by("cost_center_id").aggregate(v=emp.count()),
    }
    return {
        name: {r["cost_center_id"]: float(r["v"]) for r in fetch(expr) if r["cost_center_id"] and r["v"]}
        for name, expr in exprs.items()
    }


def allocation_inputs(source: Any, period: dt.date, roles: tuple[str, ...]) -> AllocationInputs:
    """One month's cost centres, costs and driver quantities from the warehouse `Tables` (DuckDB or
    Spark) or a DuckDB connection."""
    t = costing_tables(source)
    lo, hi = month_bounds(period)
    centres = cost_centres(t)
    return AllocationInputs(period, centres, _month_costs(t, lo, hi, roles), _month_drivers(t, lo, hi))


# ------------------------------------------------------------------ applying the rules


def _rule_for(cc: dict[str, Any], rules: tuple[AllocationRule, ...]) -> AllocationRule | None:
    return next((r for r in rules if r.senders.matches(cc)), None)


def _fixed_weight(rule: AllocationRule, cc_id: str) -> Decimal:
    import fnmatch

    return next((w for pat, w in rule.weights if fnmatch.fnmatchcase(cc_id, pat)), ZERO)


def sender_weights(
    inputs: AllocationInputs, config: AllocationConfig
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Per sender: driver quantity per receiver, and the driver used."""
    rules = {cc_id: _rule_for(cc, config.rules) for cc_id, cc in inputs.centres.items()}
    senders = [cc for cc, r in rules.items() if r is not None]
    weights: dict[str, dict[str, Any]] = {}
    used: dict[str, str] = {}
    for s in senders:
        rule = rules[s]
        assert rule is not None
        sc = inputs.centres[s]
        receivers = [
            cc_id
            for cc_id, cc in inputs.centres.items()
            if cc_id != s and rule.receivers.matches(cc) and (not rule.same_site or cc["site_id"] == sc["site_id"])
        ]
        chosen: dict[str, Any] = {}
        used[s] = rule.drivers[0]
        for d in rule.drivers:
            if d == "fixed":
                q = {r: _fixed_weight(rule, r) for r in receivers}
            else:
                q = {r: Decimal(repr(inputs.drivers.get(d, {}).get(r, 0.0))) for r in receivers}
            q = {r: v for r, v in q.items() if v > 0}
            if q:
                chosen, used[s] = q, d
                break
        weights[s] = chosen
    return weights, used


def step_sequence(inputs: AllocationInputs, config: AllocationConfig, senders: list[str]) -> list[str]:
    def rank(s: str) -> tuple[int, str]:
        cc = inputs.centres[s]
        return next(
            (i for i, sel in enumerate(config.step_order) if sel.matches(cc)),
            len(config.step_order),
        ), s

    return sorted(senders, key=rank)


@dataclass
class AllocationResult:
    run_id: str
    method: str
    period: dt.date
    flows: pl.DataFrame  # step, sender, receiver, account_id, role, driver, amount
    summary: pl.DataFrame  # cost_center_id, kind, own_cost, allocated_in, allocated_out, after


FLOW_SCHEMA: ColumnTypes = {
    "run_id": pl.Utf8,
    "method": pl.Utf8,
    "period": pl.Utf8,
    "step": pl.Int64,
    "sender": pl.Utf8,
    "receiver": pl.Utf8,
    "account_id": pl.Utf8,
    "role": pl.Utf8,
    "driver": pl.Utf8,
    "amount": pl.Decimal(18, 2),
}
SUMMARY_SCHEMA: ColumnTypes = {
    "cost_center_id": pl.Utf8,
    "kind": pl.Utf8,
    "own_cost": pl.Decimal(18, 2),
    "allocated_in": pl.Decimal(18, 2),
    "allocated_out": pl.Decimal(18, 2),
    "after": pl.Decimal(18, 2),
}


def run_id_for(method: str, period: dt.date, config: AllocationConfig) -> str:
    return f"{ALLOC_PREFIX}{period:%Y-%m}-{method}-{config.rules_hash()[:10]}"


def run_allocation(inputs: AllocationInputs, config: AllocationConfig, method: str) -> AllocationResult:
    """Apply the rules to one month, account by account. Pure: no warehouse access."""
    if method not in METHODS:
        raise UserError(f"--method {method!r}: use {', '.join(METHODS)}")
    weights, used = sender_weights(inputs, config)
    senders = list(weights)
    order = step_sequence(inputs, config, senders)
    step_no = {s: i + 1 for i, s in enumerate(order)}
    by_account: dict[tuple[str, str], dict[str, Decimal]] = {}
    for cc, acc, role, amt in inputs.costs:
        if cc in weights:
            by_account.setdefault((acc, role), {})[cc] = amt
    rows: list[dict[str, Any]] = []  # one per flow: step, sender, receiver, account_id, role, driver, amount
    for (acc, role), own in sorted(by_account.items()):
        try:
            flows = allocate_costs(method, own, weights, order)
        except UserError as exc:
            raise UserError(f"{inputs.period:%Y-%m}, account {acc} ({role}): {exc}") from None
        for (s, r), amt in sorted(flows.items(), key=lambda kv: (step_no[kv[0][0]], kv[0][1])):
            rows.append(
                {
                    "step": step_no[s] if method == "step" else None,
                    "sender": s,
                    "receiver": r,
                    "account_id": acc,
                    "role": role,
                    "driver": used[s],
                    "amount": amt,
                }
            )
    rows.sort(key=lambda r: (step_no[r["sender"]], r["sender"], r["account_id"], r["receiver"]))
    run_id = run_id_for(method, inputs.period, config)
    flows_df = pl.DataFrame(
        [{"run_id": run_id, "method": method, "period": f"{inputs.period:%Y-%m}", **r} for r in rows],
        schema=FLOW_SCHEMA,
    )
    own_cc: dict[str, Decimal] = {}
    for cc, _, _, amt in inputs.costs:
        own_cc[cc] = own_cc.get(cc, ZERO) + amt
    ins: dict[str, Decimal] = {}
    outs: dict[str, Decimal] = {}
    for flow in rows:
        ins[flow["receiver"]] = ins.get(flow["receiver"], ZERO) + flow["amount"]
        outs[flow["sender"]] = outs.get(flow["sender"], ZERO) + flow["amount"]
    touched = sorted(set(own_cc) | set(ins) | set(outs))
    summary = pl.DataFrame(
        [
            {
                "cost_center_id": cc,
                "kind": inputs.centres.get(cc, {}).get("kind"),
                "own_cost": own_cc.get(cc, ZERO),
                "allocated_in": ins.get(cc, ZERO),
                "allocated_out": outs.get(cc, ZERO),
                "after": own_cc.get(cc, ZERO) + ins.get(cc, ZERO) - outs.get(cc, ZERO),
            }
            for cc in touched
        ],
        schema=SUMMARY_SCHEMA,
    )
    return AllocationResult(run_id, method, inputs.period, flows_df, summary)


# ------------------------------------------------------------------ posting


def journal_rows(result: AllocationResult, currency: str) -> list[dict[str, Any]]:
    """One journal per sender: Cr the sender and Dr each receiver, per account. Each sums to 0."""
    _, hi = month_bounds(result.period)
    posting = hi - dt.timedelta(days=1)
    out: list[dict[str, Any]] = []
    n = 0
    for (sender,), grp in result.flows.group_by(["sender"], maintain_order=True):
        jid = f"{result.run_id}-{sender}"
        lines = []
        for acc, amt in grp.group_by("account_id", maintain_order=True).agg(pl.col("amount").sum()).iter_rows():
            lines.append(
                (
                    acc,
                    sender,
                    -amt,
                    f"Allocation {result.method} {result.period:%Y-%m}: {sender} out",
                )
            )
        for recv, acc, amt in grp.select("receiver", "account_id", "amount").iter_rows():
            lines.append(
                (
                    acc,
                    recv,
                    amt,
                    f"Allocation {result.method} {result.period:%Y-%m}: {sender} → {recv}",
                )
            )
        for acc, cc, amt, desc in lines:
            n += 1
            out.append(
                {
                    "entry_id": f"{result.run_id}-{n:06d}",
                    "journal_id": jid,
                    "posting_date": posting,
                    "account_id": acc,
                    "cost_center_id": cc,
                    "amount": amt,
                    "currency": currency,
                    "description": f"{desc} [{result.run_id}]",
                    "source_doc": result.run_id,
                    "_load_id": result.run_id,
                }
            )
    return out


ALLOCATION_VIEWS = ("flows", "summary")
