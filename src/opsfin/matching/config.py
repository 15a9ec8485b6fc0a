"""`model/matching.yaml`: the bank-reconciliation cascade and the three-way-match tolerances.

Parsing and validation only; the engines take a `MatchingConfig`. The I/O layer reads a workspace's file
(opsfin.runs.model.load_matching_config). Unknown keys are refused and a
bad value is one line naming the file and the key (docs/matching.md has the reference). The default
file is `opsfin/model_defaults/matching.yaml`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, Strict, StrictBool, model_validator

from ..model_defaults import default_text
from ..model_schema import Entry, parse_yaml, validate

FILE = "matching.yaml"

RuleName = Literal[
    "exact_reference",
    "amount_date_counterparty",
    "fuzzy_reference",
    "batch_payment",
    "partial_payments",
    "amount_tolerance",
]
#: the rules in their default cascade order
RULES: tuple[RuleName, ...] = get_args(RuleName)
# strict numbers: a YAML `true` or "0.8" is not a number
Days = Annotated[int, Strict(), Field(ge=0, le=3660)]
Fraction01 = Annotated[float, Strict(), Field(ge=0, le=1)]
Percent = Annotated[float, Strict(), Field(ge=0, le=100)]


class _Strict(Entry):
    """Unknown keys are refused, naming the keys there are."""


class Window(_Strict):
    """Bank booking date minus document date must lie in [-days_before, +days_after]."""

    enabled: StrictBool = True
    days_before: Days = 10
    days_after: Days = 10


class ExactReference(Window):
    days_before: Days = 60
    days_after: Days = 60


class FuzzyReference(Window):
    min_similarity: Fraction01 = 0.6  # pairs where neither reference nor counterparty reach this are dropped
    reference_weight: Fraction01 = 0.65  # the counterparty gets the rest


class SubsetSearch(Window):
    max_items: Annotated[int, Strict(), Field(ge=2, le=12)] = 6
    max_candidates: Annotated[int, Strict(), Field(ge=2, le=40)] = 20
    time_budget_seconds: Annotated[float, Strict(), Field(gt=0, le=3600)] = 10.0


class BatchPayment(SubsetSearch):
    days_before: Days = 3
    days_after: Days = 14


class PartialPayments(SubsetSearch):
    days_before: Days = 5
    days_after: Days = 60
    max_items: Annotated[int, Strict(), Field(ge=2, le=12)] = 4
    max_candidates: Annotated[int, Strict(), Field(ge=2, le=40)] = 12


class AmountTolerance(Window):
    absolute: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal("5.00")
    percent: Percent = 1.0  # of the document amount; the larger of the two applies


class BankRules(_Strict):
    exact_reference: ExactReference = ExactReference()
    amount_date_counterparty: Window = Window()
    fuzzy_reference: FuzzyReference = FuzzyReference()
    batch_payment: BatchPayment = BatchPayment()
    partial_payments: PartialPayments = PartialPayments()
    amount_tolerance: AmountTolerance = AmountTolerance()


class BankConfig(_Strict):
    cascade: tuple[RuleName, ...] = RULES
    auto_threshold: Fraction01 = 0.8
    ambiguity_margin: Annotated[float, Strict(), Field(gt=0, le=1)] = 0.02
    max_suggestions: Annotated[int, Strict(), Field(ge=1, le=20)] = 3
    rules: BankRules = BankRules()

    @model_validator(mode="after")
    def _cascade_once(self) -> BankConfig:
        seen = [r for r in self.cascade if self.cascade.count(r) > 1]
        if seen:
            raise ValueError(f"rule {seen[0]!r} appears twice in the cascade")
        return self


class Duplicates(_Strict):
    window_days: Days = 45
    min_reference_similarity: Fraction01 = 0.9
    across_suppliers: StrictBool = True  # same amount and the same reference (normalised) under another supplier


class InvoiceConfig(_Strict):
    price_tolerance_percent: Percent = 2.0
    qty_tolerance: Annotated[float, Strict(), Field(ge=0)] = 0.0  # units a line may exceed its receipts by
    qty_tolerance_percent: Percent = 0.0
    duplicates: Duplicates = Duplicates()


class MatchingConfig(_Strict):
    bank: BankConfig = BankConfig()
    invoices: InvoiceConfig = InvoiceConfig()


DEFAULT_MATCHING_YAML = default_text(FILE)  # opsfin/model_defaults/matching.yaml


def parse_config(data: dict, where: str | Path = FILE) -> MatchingConfig:
    """A `MatchingConfig` from a parsed YAML mapping; a mistake is one UserError naming `where`, the key and
    the value (model_schema.py)."""
    return validate(MatchingConfig, data or {}, where)


def default_config() -> MatchingConfig:
    return parse_config(parse_yaml(DEFAULT_MATCHING_YAML, "default matching.yaml"))


def default_matching_yaml() -> str:
    return DEFAULT_MATCHING_YAML
