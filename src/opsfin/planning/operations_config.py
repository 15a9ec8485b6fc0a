"""The operations and balances settings of model/planning.yaml (docs/planning.md, "Operations and balances").

`operations:` drives production, materials, purchases, capacity and inventory (`operations.plan_operations`);
`balances:` drives AR, AP, inventory and the cash flow (`balances.plan_balances`). Every key has a default,
so `operations: {}` and `balances: {}` plan with the defaults below."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..model_schema import Count, Entry, NonNegative


class OperationsConfig(Entry):
    """`operations:` of model/planning.yaml.

    - `days_of_cover`: finished-goods stock to hold at each month end, in days of the next month's
      shipments (the last month repeats its own); `days_of_cover_by_product` overrides it per product.
    - `setup_per_order`: add each routing step's setup time once per production order; the number of
      orders is the month's production ÷ the product's average lot size over `lot_size_months` of
      production orders before the plan (one order per month when the product has none).
    - `availability_months`: the months of machine readings before the plan that give each work centre's
      availability; `availability_basis` `stops` (the default) is the share of staffed time not lost to
      planned maintenance or breakdowns, (planned − breakdown minutes) ÷ (planned + maintenance minutes);
      `run` is run ÷ planned minutes, which also counts the idle time of a work centre without work.
    - `working_days_months`: the months of timesheets that tell on which weekdays a site works and which of
      its shifts are staffed.
    - `purchase_price`: `standard` values purchases at the component's standard cost; `recent_po` at the
      average price of its purchase orders (base currency) over `price_months` before the plan.
    """

    days_of_cover: NonNegative = 2.0
    days_of_cover_by_product: dict[str, NonNegative] = Field(default_factory=dict)
    setup_per_order: bool = True
    lot_size_months: Count = Field(default=6, ge=1)
    availability_months: Count = Field(default=3, ge=1)
    availability_basis: Literal["stops", "run"] = "stops"
    working_days_months: Count = Field(default=3, ge=1)
    purchase_price: Literal["standard", "recent_po"] = "standard"
    price_months: Count = Field(default=3, ge=1)

    def cover_days(self, product_id: str) -> float:
        """The target days of cover of one product."""
        return self.days_of_cover_by_product.get(product_id, self.days_of_cover)


class BalancesConfig(Entry):
    """`balances:` of model/planning.yaml.

    - `dso_months`: the months of AR invoices and receipts before the plan that give each customer's days
      sales outstanding (DSO); a customer without paid invoices in them is expected to pay on its terms.
    - `dpo_source`: `terms` pays suppliers on their `payment_terms_days`.
    """

    dso_months: Count = Field(default=6, ge=1)
    dpo_source: Literal["terms"] = "terms"
