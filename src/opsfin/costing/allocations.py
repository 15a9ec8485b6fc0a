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

import duckdb
import numpy as np
import polars as pl

from ..core.frames import ColumnTypes
from ..errors import UserError
from .costing_config import METHODS, AllocationConfig, AllocationRule, split_cents, to_cents

ALLOC_PREFIX = "ALLOC-"
ZERO = Decimal(0)


# ------------------------------------------------------------------ the three methods on one cost vector


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
    finals = {
        s: {r: w for r, w in weights[s].items() if r not in sender_set and w} for s in senders
    }
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
            targets = {
                r: w
                for r, w in weights[s].items()
                if w and (r not in sender_set or r in later) and r != s
            }
            for r, amt in spread(
                s, own[s] + received[s], targets, "final receiver or later sender"
            ).items():
                if r in later:
                    received[r] += amt
    else:
        idx = {s: i for i, s in enumerate(senders)}
        n = len(senders)
        a = np.zeros((n, n))
        for s in senders:
            tot = float(sum(Fraction(w) for r, w in weights[s].items() if r != s))
            if tot <= 0:
                if own[s]:
                    raise UserError(
                        f"cost centre {s}: {own[s]} to allocate but no receiver has a positive driver"
                    )
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


def allocation_inputs(
    con: duckdb.DuckDBPyConnection, period: dt.date, roles: tuple[str, ...]
) -> AllocationInputs:
    lo, hi = month_bounds(period)
    centres = {
        r[0]: {"cost_center_id": r[0], "kind": r[1], "site_id": r[2], "site_kind": r[3]}
        for r in con.execute(
            "SELECT c.cost_center_id, c.kind, c.site_id, s.kind FROM cost_centers c "
            "LEFT JOIN sites s ON s.site_id = c.site_id ORDER BY 1"
        ).fetchall()
    }
    marks = ", ".join("?" for _ in roles)
    costs = [
        (cc, acc, role, Decimal(amt))
        for cc, acc, role, amt in con.execute(
            f"""
        SELECT g.cost_center_id, g.account_id, a.role, sum(g.amount)
        FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id
        WHERE g.posting_date >= ? AND g.posting_date < ? AND g.cost_center_id IS NOT NULL
          AND a.role IN ({marks}) AND g.source_doc NOT LIKE '{ALLOC_PREFIX}%'
        GROUP BY ALL HAVING sum(g.amount) <> 0 ORDER BY 1, 2""",
            [lo, hi, *roles],
        ).fetchall()
    ]
    q = {
        "machine_hours": """SELECT wc.cost_center_id, sum(o.run_minutes) / 60 FROM operations o
            JOIN work_centers wc ON wc.work_center_id = o.work_center_id
            WHERE o.end_at >= ? AND o.end_at < ? GROUP BY 1""",
        "maintenance_hours": """SELECT wc.cost_center_id, sum(e.labor_hours) FROM maintenance_events e
            JOIN machines m ON m.machine_id = e.machine_id JOIN work_centers wc ON wc.work_center_id = m.work_center_id
            WHERE e.end_at >= ? AND e.end_at < ? GROUP BY 1""",
        "labor_hours": """SELECT cost_center_id, sum(regular_hours + overtime_hours) FROM timesheets
            WHERE work_date >= ? AND work_date < ? GROUP BY 1""",
    }
    drivers: dict[str, dict[str, float]] = {}
    for name, sql in q.items():
        drivers[name] = {
            cc: float(v) for cc, v in con.execute(sql, [lo, hi]).fetchall() if cc and v
        }
    drivers["headcount"] = {
        cc: float(n)
        for cc, n in con.execute(
            "SELECT cost_center_id, count(*) FROM employees GROUP BY 1"
        ).fetchall()
        if cc
    }
    return AllocationInputs(period, centres, costs, drivers)


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
            if cc_id != s
            and rule.receivers.matches(cc)
            and (not rule.same_site or cc["site_id"] == sc["site_id"])
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


def step_sequence(
    inputs: AllocationInputs, config: AllocationConfig, senders: list[str]
) -> list[str]:
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


def run_allocation(
    inputs: AllocationInputs, config: AllocationConfig, method: str
) -> AllocationResult:
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
    rows: list[
        dict[str, Any]
    ] = []  # one per flow: step, sender, receiver, account_id, role, driver, amount
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
        [
            {"run_id": run_id, "method": method, "period": f"{inputs.period:%Y-%m}", **r}
            for r in rows
        ],
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
        for acc, amt in (
            grp.group_by("account_id", maintain_order=True).agg(pl.col("amount").sum()).iter_rows()
        ):
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
