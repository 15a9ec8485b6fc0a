"""The variance bridge of some sites (docs/variances.md "Sites").

The company bridge mixes every site's sales and is not a site's figure. A site's share is the part of
the bridge split by work centre (or machine) whose members belong to the site: labor, energy, overhead,
volume and scrap. `site_bridge` takes that split (`variance(..., by="work_center")` as a frame or its
rows), the member → site mapping and the sites wanted, and returns the rows of those sites, their sum
per category (in bridge order) and their total. The web's variance page and the pack's site section
both show this one result."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from .variance import UNASSIGNED

SITE_SPLITS = ("work_center", "machine")
MONEY = pl.Decimal(18, 2)


@dataclass(frozen=True)
class SiteBridge:
    """The bridge parts of some sites. `members`: category, <by>, site, amount (one row per category and
    member); `categories`: category → Σ amount, in the order the bridge lists them; `total`: Σ amount,
    None when no part belongs to the sites."""

    by: str
    members: pl.DataFrame
    categories: dict[str, Decimal]
    total: Decimal | None


def site_bridge(
    split: pl.DataFrame | Iterable[Mapping[str, Any]],
    by: str,
    site_of: Callable[[str], str | None],
    sites: Collection[str],
) -> SiteBridge:
    """The parts of `split` (the bridge split by `by`, total row included or not) whose member belongs to
    one of `sites` according to `site_of(member)`. The total row and the unassigned parts belong to no
    site and are left out."""
    if by not in SITE_SPLITS:
        raise ValueError(f"a site's bridge is split by {' or '.join(SITE_SPLITS)}, not {by!r}")
    rows = split.iter_rows(named=True) if isinstance(split, pl.DataFrame) else split
    kept: list[dict[str, Any]] = []
    categories: dict[str, Decimal] = {}
    for r in rows:
        member = r.get(by)
        if r["category"] == "total" or member is None or member == UNASSIGNED:
            continue
        site = site_of(str(member))
        if site is None or site not in sites:
            continue
        amount = Decimal(r["amount"])
        kept.append({"category": r["category"], by: str(member), "site": site, "amount": amount})
        categories[r["category"]] = categories.get(r["category"], Decimal("0.00")) + amount
    members = pl.DataFrame(kept, schema={"category": pl.Utf8, by: pl.Utf8, "site": pl.Utf8, "amount": MONEY})
    total = sum(categories.values(), Decimal("0.00")) if kept else None
    return SiteBridge(by, members, categories, total)
