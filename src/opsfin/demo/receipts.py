"""Customer payments and their bank lines: when an invoice is paid, how (one transfer per invoice, two
instalments, a batch payer's weekly transfer, a payment on account before the invoice) and what the bank
line says. About one line in six is hard to match on purpose (docs/matching.md, "The demo's bank lines"):
each bank line's kind goes to `truth/bank_matches.parquet` with its documents.

When a customer pays (and whether in two instalments) is drawn from the simulation's generator, as before;
every draw about how a payment looks comes from a generator of its own (`bank_rng`), so the bank lines'
kinds can change without shifting the random stream of orders, production or purchasing."""

from __future__ import annotations

import datetime as dt

import numpy as np

from . import costing
from .master import ACCOUNT, BASE
from .state import Sim

VAT_PCT = 20  # as sales.VAT_PCT (sales imports this module)

# the kinds of bank line (truth/bank_matches.parquet `kind`)
REFERENCE = "reference"  # the document's reference and amount, as booked
BATCH_REFERENCE = "batch_reference"  # one transfer for several receipts sharing the payment advice
MANGLED = "mangled_reference"  # the invoice number typed wrong, transposed or wrapped
MISSING = "missing_reference"  # no reference at all
PARTIAL = "partial_payment"  # an instalment: 'TEILZAHLUNG ARI-…', 'BALANCE ARI-…'
BATCH_NO_REFERENCE = "batch_no_reference"  # several receipts, nothing in common on the bank line
ROUND_AMOUNT = "round_amount"  # several invoices paid with one round sum, the last one in part
BANK_FEE = "bank_fee"  # the bank deducted its charges
FX_RECEIPT = "fx_receipt"  # a USD or GBP receipt converted by the bank at its own rate
ON_ACCOUNT = "on_account"  # paid on account of the order, before the invoice
OFF_NO_REFERENCE = "off_amount_no_reference"  # a fee deducted or the bank's FX rate, and no reference
OPENING = "opening_balance"  # the capital paid in: its GL line names no reference the bank shows
HARD_KINDS = (
    MANGLED,
    MISSING,
    PARTIAL,
    BATCH_NO_REFERENCE,
    ROUND_AMOUNT,
    BANK_FEE,
    FX_RECEIPT,
    ON_ACCOUNT,
    OFF_NO_REFERENCE,
)

# shares of a base-currency invoice paid by one transfer of its own
P_MANGLED, P_MISSING, P_FEE, P_FEE_NO_REFERENCE = 0.02, 0.02, 0.025, 0.006
P_FX_NO_REFERENCE = 0.06  # of the foreign-currency receipts
P_HARD_PARTIAL = 0.2  # of the invoices paid in two instalments, those whose lines say so in words
P_ON_ACCOUNT = 0.015  # of the orders of customers who are not batch payers
# a batch payer's transfer: shared advice, nothing in common, or a round sum
P_BATCH_NO_REFERENCE, P_ROUND = 0.35, 0.2
FEES = (150, 250, 300, 350, 500, 750)  # cents the bank keeps
FIRST_WORDS = ("TEILZAHLUNG {}", "PART PAYMENT {}", "{} TEILBETRAG")
REST_WORDS = ("RESTZAHLUNG {}", "BALANCE {}", "{} REST")
ON_ACCOUNT_WORDS = ("ANZAHLUNG {}", "PREPAYMENT ORDER {}", "PROFORMA {}")


def bank_rng(sim: Sim) -> np.random.Generator:
    """The bank's own generator, spawned once from the simulation's seed (its stream stays untouched)."""
    if sim.bank_rng is None:
        seq = sim.rng.bit_generator.seed_seq
        sim.bank_rng = np.random.default_rng(seq.spawn(1)[0])  # type: ignore[attr-defined]
    return sim.bank_rng


def ask_prepayment(sim: Sim, day: dt.date, so: str, cust: str) -> None:
    """Some orders of base-currency customers who are not batch payers are paid on account before they
    ship: the order (its lines just added to the backlog) is held until the customer's transfer arrives
    1–3 days later."""
    c, brng = sim.c, bank_rng(sim)
    customer = c.customer[cust]
    if customer.ccy != BASE or customer.batch_payer or brng.random() >= P_ON_ACCOUNT:
        return
    net = sum(costing.value_at_standard(ln[5], ln[6]) for ln in sim.backlog if ln[0] == so)
    total = net + (costing.half_even_int(net * VAT_PCT, 100) if customer.vat else 0)
    pay_day = day + dt.timedelta(days=int(brng.integers(1, 4)))
    sim.held_orders[so] = pay_day
    sim.prepayments_due[pay_day].append((so, cust, total))


def schedule(sim: Sim, day: dt.date, inv: str, cust: str, so: str, due: dt.date) -> None:
    """When will customer `cust` pay invoice `inv` (of order `so`, dated `day`)? A payment on account of
    the order settles it first; the rest is queued for its pay day (some in two instalments)."""
    rng = sim.rng
    ccy, total, _base = sim.ar_base[inv]
    delay = int(round(rng.normal(2, 4))) + sim.plan.customer_extra_days(cust, day)
    pay_day = max(due + dt.timedelta(days=max(delay, -10)), day + dt.timedelta(days=3))
    if so in sim.prepaid:
        total -= _apply_prepayment(sim, day, inv, so, total)
        if total > 0:
            sim.due_payments[pay_day].append((inv, cust, total, None))
        return
    if ccy == BASE and total > 200_00 and rng.random() < 0.06:  # partial payments, base currency only
        first = costing.half_even_int(total * 6, 10)
        words = bank_rng(sim).random() < P_HARD_PARTIAL
        sim.due_payments[pay_day].append((inv, cust, first, "first" if words else None))
        later = pay_day + dt.timedelta(days=int(rng.integers(7, 25)))
        sim.due_payments[later].append((inv, cust, total - first, "rest" if words else None))
    else:
        sim.due_payments[pay_day].append((inv, cust, total, None))


def _receive_prepayments(sim: Sim, day: dt.date) -> None:
    """The transfers on account due today: an unapplied receipt (cash against customer prepayments, its
    reference the order) and the order released for shipping."""
    for so, cust, total in sim.prepayments_due.pop(day, []):
        rid = sim.next_id("RCT-", 7)
        sim.rows["ar_receipts"].append((rid, cust, day, total, BASE, so))
        sim.ledger.post(
            day,
            f"Receipt {rid} from {cust} on account of {so}",
            rid,
            [(ACCOUNT["cash"], None, total), (ACCOUNT["customer_prepayments"], None, -total)],
        )
        sim.held_orders.pop(so, None)
        sim.prepaid[so] = [rid, total]
        words = ON_ACCOUNT_WORDS[int(bank_rng(sim).integers(0, len(ON_ACCOUNT_WORDS)))]
        _bank_line(sim, day, cust, total, words.format(so), [rid], ON_ACCOUNT)


def _apply_prepayment(sim: Sim, day: dt.date, inv: str, so: str, total: int) -> int:
    """Apply what is left of the order's payment on account to its invoice; returns the cents applied."""
    rid, left = sim.prepaid[so]
    applied = min(left, total)
    if applied <= 0:
        return 0
    sim.prepaid[so][1] = left - applied
    sim.rows["ar_receipt_allocations"].append((rid, inv, applied))
    sim.ledger.post(
        day,
        f"Prepayment {rid} applied to {inv}",
        inv,
        [(ACCOUNT["customer_prepayments"], None, applied), (ACCOUNT["ar"], None, -applied)],
    )
    return applied


def collect(sim: Sim, day: dt.date) -> None:
    """Customer receipts due today; batch payers pay all of a week's invoices in one transfer on Fridays."""
    c = sim.c
    todays = sim.due_payments.pop(day, [])
    if day.weekday() >= 5:  # banks book on working days
        monday = day + dt.timedelta(days=7 - day.weekday())
        sim.due_payments[monday].extend(todays)
        sim.prepayments_due[monday].extend(sim.prepayments_due.pop(day, []))
        return
    _receive_prepayments(sim, day)
    by_customer: dict[str, list] = {}
    for inv, cust, amount, part in todays:
        if c.customer[cust].batch_payer and day.weekday() != 4:
            sim.due_payments[day + dt.timedelta(days=4 - day.weekday())].append((inv, cust, amount, part))
            continue
        by_customer.setdefault(cust, []).append((inv, amount, part))
    for cust, items in by_customer.items():
        if c.customer[cust].batch_payer and len(items) > 1:
            _batch(sim, day, cust, items)
        else:
            for inv, amount, part in items:
                _single(sim, day, cust, inv, amount, part)


def _single(sim: Sim, day: dt.date, cust: str, inv: str, amount: int, part: str | None) -> None:
    """One transfer for one invoice (or one instalment of it), with what its bank line says."""
    brng = bank_rng(sim)
    reference: str | None = inv
    fee, kind = 0, REFERENCE
    if sim.c.customer[cust].ccy != BASE:
        kind = FX_RECEIPT if brng.random() >= P_FX_NO_REFERENCE else OFF_NO_REFERENCE
    elif part is not None:
        words = FIRST_WORDS if part == "first" else REST_WORDS
        kind, reference = PARTIAL, words[int(brng.integers(0, len(words)))].format(inv)
    else:
        r = brng.random()
        if r < P_MANGLED:
            kind, reference = MANGLED, mangle(inv, brng)
            sim.plan.add_matching(
                MANGLED,
                "customer",
                cust,
                day,
                f"Bank line for {inv} carries reference {reference!r} instead of {inv!r}.",
            )
        elif r < P_MANGLED + P_MISSING:
            kind, reference = MISSING, None
        elif r < P_MANGLED + P_MISSING + P_FEE:
            kind, fee = BANK_FEE, FEES[int(brng.integers(0, len(FEES)))]
        elif r < P_MANGLED + P_MISSING + P_FEE + P_FEE_NO_REFERENCE:
            kind, fee = OFF_NO_REFERENCE, FEES[int(brng.integers(0, len(FEES)))]
    if kind == OFF_NO_REFERENCE:
        reference = None
    rid, bank_cents = _book_receipt(sim, day, cust, inv, amount, inv, fee)
    _bank_line(sim, day, cust, bank_cents, reference, [rid], kind)


def _batch(sim: Sim, day: dt.date, cust: str, items: list[tuple[str, int, str | None]]) -> None:
    """A batch payer's transfer for several invoices: the receipts share its payment advice, or carry
    their invoice numbers while the bank line names none of them, or the customer paid a round sum (the
    last invoice in part, its rest next week)."""
    brng = bank_rng(sim)
    r = brng.random()
    kind = BATCH_REFERENCE if r >= P_BATCH_NO_REFERENCE + P_ROUND else BATCH_NO_REFERENCE
    if r < P_ROUND:
        rounded = _round_sum(items)
        if rounded is not None:
            kind = ROUND_AMOUNT
            *whole, (inv, amount, part) = items
            paid_last = rounded - sum(a for _, a, _ in whole)
            sim.due_payments[day + dt.timedelta(days=7)].append((inv, cust, amount - paid_last, part))
            items = [*whole, (inv, paid_last, part)]
    advice = f"PAYMENT ADVICE {cust} {day:%Y%m%d}"
    receipts, bank_total = [], 0
    for inv, amount, _part in items:
        rid, cents = _book_receipt(sim, day, cust, inv, amount, advice if kind == BATCH_REFERENCE else inv, 0)
        receipts.append(rid)
        bank_total += cents
    if kind == BATCH_REFERENCE:
        reference: str | None = advice
        sim.plan.add_matching(
            "batch_payment",
            "customer",
            cust,
            day,
            f"{cust} paid {len(items)} invoices in one transfer ({', '.join(receipts)}).",
        )
    elif kind == ROUND_AMOUNT:
        reference = f"A CONTO {cust}"
    else:
        reference = None if brng.random() < 0.5 else f"PAYRUN {day:%Y%m%d}"
    _bank_line(sim, day, cust, bank_total, reference, receipts, kind)


def _round_sum(items: list[tuple[str, int, str | None]]) -> int | None:
    """The round sum (whole thousands, else hundreds) below the total that still pays every invoice but
    the last in full and the last in part; None when there is none."""
    total = sum(a for _, a, _ in items)
    before_last = total - items[-1][1]
    for unit in (1000_00, 100_00):
        rounded = total // unit * unit
        if before_last < rounded < total:
            return rounded
    return None


def _book_receipt(
    sim: Sim, day: dt.date, cust: str, inv: str, amount: int, reference: str, fee: int
) -> tuple[str, int]:
    """The ERP receipt of `amount` for `inv` and its journal; returns (receipt id, cents at the bank).

    A foreign-currency receipt (always the invoice in full) arrives converted at the bank's rate, a
    little below the day's rate: the difference to the invoice's booking value goes to exchange
    differences. A bank fee reaches the bank-charges account; the invoice is cleared in full."""
    c = sim.c
    ccy = c.customer[cust].ccy
    rid = sim.next_id("RCT-", 7)
    sim.rows["ar_receipts"].append((rid, cust, day, amount, ccy, reference))
    sim.rows["ar_receipt_allocations"].append((rid, inv, amount))
    base = sim.ar_base[inv][2]
    cleared = amount if ccy == BASE else base
    if ccy == BASE:
        bank_cents = amount - fee
    else:
        spread_bp = int(bank_rng(sim).integers(10, 61))  # 0.10–0.60 % below the day's rate
        bank_cents = costing.to_base(amount, sim.rate(ccy, day) * (10_000 - spread_bp) // 10_000)
    sim.ledger.post(
        day,
        f"Receipt {rid} from {cust}",
        rid,
        [
            (ACCOUNT["cash"], None, bank_cents),
            (ACCOUNT["bank_charges"], None, fee),
            (ACCOUNT["ar"], None, -cleared),
            (ACCOUNT["fx"], None, cleared - bank_cents - fee),
        ],
    )
    return rid, bank_cents


def _bank_line(
    sim: Sim, day: dt.date, cust: str, cents: int, reference: str | None, receipts: list[str], kind: str
) -> None:
    name = sim.c.customer[cust].name
    counterparty = name.upper() if bank_rng(sim).random() < 0.3 else name
    sim.bank(
        day, cents, counterparty, reference, f"SEPA CREDIT TRANSFER {name[:20]}", "ar_receipt", receipts, kind=kind
    )


def mangle(reference: str, rng: np.random.Generator) -> str:
    """The invoice number as a customer might type it: digits only, two digits swapped, wrapped in a
    remittance code, or in lower case with blanks."""
    digits = "".join(ch for ch in reference if ch.isdigit())
    choice = int(rng.integers(0, 4))
    if choice == 0:
        return digits.lstrip("0")
    if choice == 1 and len(digits) > 2:
        i = int(rng.integers(0, len(digits) - 1))
        swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
        return f"INV {swapped}" if swapped != digits else f"RF {digits}"
    if choice == 2:
        return f"/ROC/{reference.replace('-', '')}"
    return reference.lower().replace("-", " ")
