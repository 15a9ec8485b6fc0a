"""`model/matching.yaml`: the bank-reconciliation cascade and the three-way-match tolerances.

Parsing and validation only; the engines take a `MatchingConfig`. Unknown keys are refused and a
bad value is one line naming the file and the key (docs/matching.md has the reference)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import UserError
from ..yamlfile import parse_yaml, read_yaml_mapping

FILE = "matching.yaml"

RULES = ("exact_reference", "amount_date_counterparty", "fuzzy_reference", "batch_payment",
         "partial_payments", "amount_tolerance")
RuleName = Literal["exact_reference", "amount_date_counterparty", "fuzzy_reference", "batch_payment",
                   "partial_payments", "amount_tolerance"]
Days = Annotated[int, Field(ge=0, le=3660)]
Fraction01 = Annotated[float, Field(ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """Bank booking date minus document date must lie in [-days_before, +days_after]."""

    enabled: bool = True
    days_before: Days = 10
    days_after: Days = 10


class ExactReference(Window):
    days_before: Days = 60
    days_after: Days = 60


class FuzzyReference(Window):
    min_similarity: Fraction01 = 0.6       # pairs where neither reference nor counterparty reach this are dropped
    reference_weight: Fraction01 = 0.65    # the counterparty gets the rest


class SubsetSearch(Window):
    max_items: Annotated[int, Field(ge=2, le=12)] = 6
    max_candidates: Annotated[int, Field(ge=2, le=40)] = 20
    time_budget_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0


class BatchPayment(SubsetSearch):
    days_before: Days = 3
    days_after: Days = 14


class PartialPayments(SubsetSearch):
    days_before: Days = 5
    days_after: Days = 60
    max_items: Annotated[int, Field(ge=2, le=12)] = 4
    max_candidates: Annotated[int, Field(ge=2, le=40)] = 12


class AmountTolerance(Window):
    absolute: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal("5.00")
    percent: Annotated[float, Field(ge=0, le=100)] = 1.0   # of the document amount; the larger of the two applies


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
    ambiguity_margin: Annotated[float, Field(gt=0, le=1)] = 0.02
    max_suggestions: Annotated[int, Field(ge=1, le=20)] = 3
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
    across_suppliers: bool = True   # same amount and the same reference (normalised) under another supplier


class InvoiceConfig(_Strict):
    price_tolerance_percent: Annotated[float, Field(ge=0, le=100)] = 2.0
    qty_tolerance: Annotated[float, Field(ge=0)] = 0.0            # units a line may exceed its receipts by
    qty_tolerance_percent: Annotated[float, Field(ge=0, le=100)] = 0.0
    duplicates: Duplicates = Duplicates()


class MatchingConfig(_Strict):
    bank: BankConfig = BankConfig()
    invoices: InvoiceConfig = InvoiceConfig()


DEFAULT_MATCHING_YAML = """\
# Bank reconciliation and three-way invoice matching (docs/matching.md).
bank:
  # The rules run in this order; a bank line matched `auto` by one rule is not seen by the next.
  cascade: [exact_reference, amount_date_counterparty, fuzzy_reference, batch_payment,
            partial_payments, amount_tolerance]
  auto_threshold: 0.80      # a match at or above this score, unambiguous, is `auto`; else `suggested`
  ambiguity_margin: 0.02    # the best candidate must beat the runner-up by this much, on both sides
  max_suggestions: 3        # candidates listed per suggested bank line
  rules:
    # Windows: bank booking date minus document date within [-days_before, +days_after].
    exact_reference: {enabled: true, days_before: 60, days_after: 60}
    amount_date_counterparty: {enabled: true, days_before: 10, days_after: 10}
    fuzzy_reference:
      enabled: true
      days_before: 10
      days_after: 10
      min_similarity: 0.6    # reference or counterparty similarity (0..1) a candidate needs
      reference_weight: 0.65 # score = weight x reference + (1 - weight) x counterparty similarity
    batch_payment:           # one bank line = several documents (bounded subset-sum)
      enabled: true
      days_before: 3
      days_after: 14
      max_items: 6
      max_candidates: 20     # closest documents of the payer considered per bank line
      time_budget_seconds: 10
    partial_payments:        # several bank lines = one document
      enabled: true
      days_before: 5
      days_after: 60
      max_items: 4
      max_candidates: 12
      time_budget_seconds: 10
    amount_tolerance:        # the larger of the two applies
      enabled: true
      days_before: 10
      days_after: 10
      absolute: "5.00"
      percent: 1.0
invoices:
  price_tolerance_percent: 2.0   # invoice unit price above the PO price by more than this: price_over_tolerance
  qty_tolerance: 0               # units billed beyond the receipts that are still accepted
  qty_tolerance_percent: 0
  duplicates:
    window_days: 45              # invoice dates of a duplicate pair at most this far apart
    min_reference_similarity: 0.9
    across_suppliers: true
"""


def _problem(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        key = ".".join(str(p) for p in e["loc"])
        parts.append(f"key {key!r}: {e['msg']}" if key else e["msg"])
    return "; ".join(parts)


def parse_config(data: dict, where: str | Path = FILE) -> MatchingConfig:
    """A `MatchingConfig` from a parsed YAML mapping; a mistake is a UserError naming `where` and the key."""
    try:
        return MatchingConfig.model_validate(data or {})
    except ValidationError as exc:
        raise UserError(f"{where}: {_problem(exc)}") from None


def default_config() -> MatchingConfig:
    return parse_config(parse_yaml(DEFAULT_MATCHING_YAML, "default matching.yaml"))


def load_config(model_dir: Path) -> MatchingConfig:
    """`model/matching.yaml` of a workspace; the defaults when the file is missing."""
    path = model_dir / FILE
    if not path.exists():
        return default_config()
    try:
        data = read_yaml_mapping(path)
    except OSError as exc:   # a folder, unreadable, ...: one line, not a traceback
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return parse_config(data, path)


def default_matching_yaml() -> str:
    return DEFAULT_MATCHING_YAML
