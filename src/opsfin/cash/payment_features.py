"""What the payment model learns from (docs/cash.md, "Learned payment behaviour").

`ar_history` / `ap_history` read every invoice issued on or before the as-of date with the date it was
settled, if the allocations dated on or before the as-of date settle it (the date of the last of them);
nothing later is read. `snapshot_features` describes invoices open at a cut date c as they looked at c:
the invoice (age, days to due, terms, amount) and its customer's history of invoices settled by c
(count, median days to settle, median, mean and P90 lateness, the recent lateness, the share paid late),
plus the customer's segment and country. The target of a training row is settled_date − c."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import polars as pl

from .documents import AP, AR, settled_amounts

DOCUMENT_FLAGS = ("disputed", "paperless")  # nullable ar_invoices columns, where the source knows them
RECENT = 15  # the recent lateness is the median over the customer's last RECENT settled invoices
CATEGORIES = ("segment", "country")
FEATURES = (
    "age_days",
    "days_to_due",
    "terms_days",
    "log_amount",
    "disputed",
    "paperless",
    "party_settled",
    "party_median_days",
    "party_median_late",
    "party_mean_late",
    "party_p90_late",
    "party_recent_late",
    "party_share_late",
    "party_open",
    "party_overdue_days",
    "party_overdue_share",
    "wait_by_median",
    "wait_by_lateness",
    "wait_by_recent",
    *CATEGORIES,
)


@dataclass(frozen=True)
class SettledHistory:
    """Invoices issued on or before `as_of`: `doc_id, party_id, doc_date, due_date, amount` (float, the
    document's currency), `settled_date` (null when not settled by `as_of`), `segment`, `country`,
    `terms_days` (the party's payment terms); and `parties`: every customer or supplier with `party_id,
    segment, country, terms_days`."""

    as_of: dt.date
    docs: pl.DataFrame
    parties: pl.DataFrame

    def settled_count(self) -> int:
        return int(self.docs.get_column("settled_date").is_not_null().sum())


def ar_history(tables: Any, as_of: dt.date) -> SettledHistory:
    """Customer invoices (not credit notes) issued by `as_of`, settled or not by then, with the customer's
    segment, country and terms."""
    c = tables("customers")
    party = c.select(_pid=c.customer_id, segment=c.segment, country=c.country, terms_days=c.payment_terms_days)
    return SettledHistory(as_of, _history(tables, AR, "ar_invoices", "customer_id", party, as_of), _frame(party))


def ap_history(tables: Any, as_of: dt.date) -> SettledHistory:
    """Supplier invoices (not credit notes) issued by `as_of`, paid or not by then, with the supplier's
    country and terms (segment: none)."""
    s = tables("suppliers")
    party = s.select(_pid=s.supplier_id, segment=ibis.literal("-"), country=s.country, terms_days=s.payment_terms_days)
    return SettledHistory(as_of, _history(tables, AP, "ap_invoices", "supplier_id", party, as_of), _frame(party))


def _history(tables: Any, side: str, invoices: str, party_col: str, party: Any, as_of: dt.date) -> pl.DataFrame:
    inv = tables(invoices)
    inv = inv.filter((inv.invoice_date <= as_of) & (inv.kind == "invoice"))
    paid = settled_amounts(tables, side, as_of).rename(_iid="invoice_id")
    j = inv.left_join(paid, inv.invoice_id == paid._iid)
    done = j.settled.notnull() & (j.settled.cast("decimal(38, 2)") >= j.total.cast("decimal(38, 2)"))
    j = j.mutate(_settled_on=ibis.ifelse(done, j.last_settled_date, ibis.null("date")))
    j = j.left_join(party, j[party_col] == party._pid)
    expr = j.select(
        doc_id=j.invoice_id,
        party_id=j[party_col],
        doc_date=j.invoice_date.cast("date"),
        due_date=j.due_date.cast("date"),
        amount=j.total.cast("float64"),
        settled_date=j._settled_on.cast("date"),
        segment=j.segment.fill_null("-"),
        country=j.country.fill_null("-"),
        terms_days=j.terms_days.cast("int32"),
        **{flag: _flag(j, flag) for flag in DOCUMENT_FLAGS},
    )
    return _frame(expr).sort(["doc_date", "doc_id"])


def _flag(rel: Any, name: str) -> Any:
    """A nullable BOOLEAN column of the invoice as 1.0 / 0.0 / null; null for a warehouse without it."""
    if name not in rel.columns:
        return ibis.null("float64")
    return rel[name].cast("float64")


def _frame(expr: Any) -> pl.DataFrame:
    out = pl.from_arrow(expr.to_pyarrow())
    assert isinstance(out, pl.DataFrame)
    if "_pid" in out.columns:
        out = out.rename({"_pid": "party_id"}).with_columns(pl.col("terms_days").cast(pl.Int32)).sort("party_id")
    return out


def days(later: str | pl.Expr, earlier: str | pl.Expr) -> pl.Expr:
    """Whole days from `earlier` to `later` (date columns or expressions), as Int32."""
    a = pl.col(later) if isinstance(later, str) else later
    b = pl.col(earlier) if isinstance(earlier, str) else earlier
    return (a - b).dt.total_days().cast(pl.Int32)


def party_stats(history: pl.DataFrame, cut: dt.date) -> pl.DataFrame:
    """Per party, its invoices settled on or before `cut`: `party_settled`, `party_median_days` (invoice
    date to settlement), `party_median_late`, `party_mean_late`, `party_p90_late` (days past due, early
    payment negative), `party_recent_late` (median over the last RECENT settled), `party_share_late`;
    and of its invoices open at `cut`: `party_open` (how many), `party_overdue_days` (the days past due
    of the most overdue), `party_overdue_share` (the share past due): a customer that has started to pay
    late shows it there first, before the late payments arrive."""
    done = history.filter(pl.col("settled_date") <= cut).with_columns(
        _days=days("settled_date", "doc_date"), _late=days("settled_date", "due_date")
    )
    stats = (
        done.sort(["settled_date", "doc_id"])
        .group_by("party_id")
        .agg(
            party_settled=pl.len().cast(pl.Int32),
            party_median_days=pl.col("_days").median(),
            party_median_late=pl.col("_late").median(),
            party_mean_late=pl.col("_late").mean(),
            party_p90_late=pl.col("_late").quantile(0.9, "linear"),
            party_recent_late=pl.col("_late").tail(RECENT).median(),
            party_share_late=(pl.col("_late") > 0).mean(),
        )
    )
    overdue = days(pl.lit(cut, dtype=pl.Date), "due_date").clip(lower_bound=0)
    open_now = (
        open_at(history, cut)
        .group_by("party_id")
        .agg(
            party_open=pl.len().cast(pl.Int32),
            party_overdue_days=overdue.max(),
            party_overdue_share=(overdue > 0).mean(),
        )
    )
    return stats.join(open_now, on="party_id", how="full", coalesce=True)


def open_at(history: pl.DataFrame, cut: dt.date) -> pl.DataFrame:
    """The history's invoices issued on or before `cut` and not settled by it."""
    issued = pl.col("doc_date") <= cut
    return history.filter(issued & (pl.col("settled_date").is_null() | (pl.col("settled_date") > cut)))


def snapshot_features(docs: pl.DataFrame, history: pl.DataFrame, cut: dt.date) -> pl.DataFrame:
    """`docs` (with `party_id, doc_date, due_date, amount`, and `segment, country, terms_days` or not)
    described as at `cut`: the FEATURES columns added, from the history known at `cut` only."""
    out = docs.join(party_stats(history, cut), on="party_id", how="left")
    if "segment" not in docs.columns:
        party = history.select("party_id", "segment", "country").unique("party_id", keep="first")
        out = out.join(party, on="party_id", how="left")
    cut_lit = pl.lit(cut, dtype=pl.Date)
    return out.with_columns(
        age_days=days(cut_lit, "doc_date"),
        days_to_due=days("due_date", cut_lit),
        terms_days=days("due_date", "doc_date"),
        log_amount=pl.col("amount").abs().log1p(),
        party_settled=pl.col("party_settled").fill_null(0),
        party_open=pl.col("party_open").fill_null(0),
        party_overdue_days=pl.col("party_overdue_days").fill_null(0),
        party_overdue_share=pl.col("party_overdue_share").fill_null(0.0),
    ).with_columns(
        # what the party's history alone would say is left to wait: the trees need not learn differences
        wait_by_median=pl.col("party_median_days") - pl.col("age_days"),
        wait_by_lateness=pl.col("days_to_due") + pl.col("party_median_late"),
        wait_by_recent=pl.col("days_to_due") + pl.col("party_recent_late"),
    )


def training_rows(history: SettledHistory, cuts: list[dt.date]) -> pl.DataFrame:
    """For each cut c, the invoices open at c, with their features at c and `remaining_days` = settled_date
    − c, or `censored_after` = as_of − c when not settled by the as-of date (a lower bound only)."""
    frames = []
    for cut in cuts:
        rows = open_at(history.docs, cut)
        if rows.height == 0:
            continue
        rows = snapshot_features(rows, history.docs, cut)
        frames.append(
            rows.with_columns(
                remaining_days=days("settled_date", pl.lit(cut, dtype=pl.Date)),
                censored_after=pl.lit((history.as_of - cut).days, dtype=pl.Int32),
            )
        )
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()


def cut_dates(history: SettledHistory, every_days: int, max_cuts: int) -> list[dt.date]:
    """Cut dates every `every_days` back from the as-of date (the as-of date itself excluded), at most
    `max_cuts`, none before the first invoice."""
    if history.docs.height == 0:
        return []
    first = history.docs.get_column("doc_date").min()
    assert isinstance(first, dt.date)
    out = []
    for k in range(1, max_cuts + 1):
        cut = history.as_of - dt.timedelta(days=every_days * k)
        if cut < first:
            break
        out.append(cut)
    return sorted(out)
