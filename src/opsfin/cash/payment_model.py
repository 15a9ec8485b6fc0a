"""The learned AR payment model (docs/cash.md, "Learned payment behaviour").

One LightGBM model per quantile (P10, P50, P90, the `quantile` objective) of the days an invoice open at
a cut date still waits until it is settled, given its features at that cut (`payment_features`). One
model for all customers: the customer's own history features carry its behaviour where it has history,
and its segment, country, terms, amount and the invoice's dispute and paperless flags pool it with
similar customers where it has little or none. Each row's trees start from its customer's recent habit
(due date plus the median lateness of its last settled invoices) and learn the corrections to it.

Censoring: an invoice open at a training cut and still open at the as-of date has no known settlement,
only a lower bound (as-of − cut). Dropping it would teach the model that invoices settle sooner than
they do; it is kept with the least it can have waited (until the day after the as-of date), or its
customer's habit where that is later. The recent cuts, where most invoices are still open, are left
out: the latest cut lies at least the 95th percentile of the days to settle before the as-of date
(`training_horizon`), so what is still open then is an unusually slow invoice, and its stand-in target
matters only to the upper quantile."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from .payment_features import (
    CATEGORIES,
    DOCUMENT_FLAGS,
    FEATURES,
    SettledHistory,
    cut_dates,
    days,
    snapshot_features,
    training_rows,
)

QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class PaymentModelConfig:
    """How the payment model learns. `cut_days`: days between two training snapshots; `max_cuts`: how
    many snapshots back from the as-of date; `min_horizon_days`: snapshots this close to the as-of date
    are left out (their outcomes are mostly unknown yet); `max_training_rows`: a larger training set is
    sampled down to it; `trees`, `learning_rate`: LightGBM's boosting rounds per quantile and step; `min_cuts` / `min_training_rows` / `min_settled`:
    below any, the rule-based fallback (pay on the due date plus the customer's median lateness) is used
    instead of the learned model; `min_party_history`: settled documents a customer or supplier needs
    before its own history counts (else its pool's); `held_grace_days`: a supplier invoice this many days
    further past due than the supplier was ever paid is held, not expected soon; `seed`: LightGBM's and the sampling's."""

    cut_days: int = 7
    max_cuts: int = 104
    min_horizon_days: int = 30
    horizon_quantile: float = 0.95
    max_training_rows: int = 30_000
    trees: int = 100
    learning_rate: float = 0.05
    min_cuts: int = 8
    min_training_rows: int = 200
    min_settled: int = 50
    min_party_history: int = 3
    held_grace_days: int = 14
    seed: int = 7


class PaymentModel:
    """The fitted quantile models and the category codes they were fitted with."""

    def __init__(self, history: SettledHistory, config: PaymentModelConfig):
        self.history = history
        self.config = config
        # codes from the parties with invoices by the as-of date: master data added later changes nothing
        self.codes = {c: _codes(history.docs.get_column(c)) for c in CATEGORIES}
        self.models: list[Any] = []

    def fit(self, rows: pl.DataFrame) -> PaymentModel:
        import lightgbm as lgb

        y = training_targets(rows, self.offset(rows))
        x = self.matrix(rows)
        cats = [FEATURES.index(c) for c in CATEGORIES]
        for q in QUANTILES:
            model = lgb.LGBMRegressor(
                objective="quantile",
                alpha=q,
                n_estimators=self.config.trees,
                learning_rate=self.config.learning_rate,
                num_leaves=15,
                min_child_samples=100,
                random_state=self.config.seed,
                deterministic=True,
                force_row_wise=True,
                n_jobs=1,
                verbose=-1,
            )
            model.fit(x, y, init_score=self.offset(rows), categorical_feature=cats)
            self.models.append(model)
        return self

    @staticmethod
    def offset(rows: pl.DataFrame) -> np.ndarray:
        """Where each row's trees start from: the days until its due date plus its customer's recent
        lateness (0 without history), at least 1. The trees learn the corrections to that habit, so a
        customer whose recent payments slip moves its expected dates at once, however rare such a
        change is in the training rows."""
        base = (pl.col("days_to_due") + pl.col("party_recent_late").fill_null(0)).clip(lower_bound=1)
        return rows.select(base.cast(pl.Float64)).to_series().to_numpy()

    def matrix(self, rows: pl.DataFrame) -> np.ndarray:
        coded = rows.with_columns(
            pl.col(c).replace_strict(self.codes[c], default=-1, return_dtype=pl.Int32) for c in CATEGORIES
        )
        return coded.select(pl.col(f).cast(pl.Float64) for f in FEATURES).to_numpy()

    def remaining_days(self, rows: pl.DataFrame) -> np.ndarray:
        """Per row, the P10, P50 and P90 of the days still to wait (whole days ≥ 1, non-crossing)."""
        if rows.height == 0:
            return np.zeros((0, len(QUANTILES)), dtype=np.int32)
        x = self.matrix(rows)
        base = self.offset(rows)
        preds = np.column_stack([m.predict(x) + base for m in self.models])
        preds = np.sort(preds, axis=1)  # quantile models fitted apart can cross
        return np.maximum(np.rint(preds), 1).astype(np.int32)


def training_targets(rows: pl.DataFrame, offset: np.ndarray) -> np.ndarray:
    """The days each snapshot row waited until paid; a row still open at the as-of date is known only to
    wait longer than until then, so it counts as the day after it (`censored_after` + 1), or its habit
    (`offset`) if later. A new, writable array: Polars may hand out a read-only view of its buffer."""
    y = rows.get_column("remaining_days").cast(pl.Float64).to_numpy().copy()
    censored = np.isnan(y)
    bound = rows.get_column("censored_after").cast(pl.Float64).to_numpy() + 1
    y[censored] = np.maximum(bound, offset)[censored]
    return y


def fit_payment_model(history: SettledHistory, config: PaymentModelConfig) -> tuple[PaymentModel | None, str]:
    """The model fitted on snapshots of the history at weekly cuts before the as-of date (those within
    the training horizon of it left out), or None and why not: fewer than `min_cuts` cuts or
    `min_training_rows` rows to learn from."""
    horizon = training_horizon(history, config)
    latest = history.as_of - dt.timedelta(days=horizon)
    cuts = [c for c in cut_dates(history, config.cut_days, config.max_cuts) if c <= latest]
    if len(cuts) < config.min_cuts:
        return None, (
            f"{len(cuts)} weekly snapshots of open invoices at least {horizon} days before the as-of date, "
            f"fewer than {config.min_cuts} to learn from"
        )
    rows = training_rows(history, cuts)
    if rows.height < config.min_training_rows:
        return (
            None,
            f"{rows.height} snapshot rows of open invoices, fewer than {config.min_training_rows} to learn from",
        )
    if rows.height > config.max_training_rows:
        rows = rows.sample(config.max_training_rows, seed=config.seed)
    return PaymentModel(history, config).fit(rows), ""


def training_horizon(history: SettledHistory, config: PaymentModelConfig) -> int:
    """Days before the as-of date the latest training cut must lie: `min_horizon_days`, or the
    `horizon_quantile` of the days from invoice to settlement where that is longer, so that an invoice
    still open at the as-of date is an unusually slow one, not an ordinary one of long terms."""
    done = history.docs.filter(pl.col("settled_date").is_not_null())
    if done.height == 0:
        return config.min_horizon_days
    waits = done.select(days("settled_date", "doc_date").quantile(config.horizon_quantile, "nearest")).item()
    return max(config.min_horizon_days, int(waits or 0))


def learned_ar_dates(model: PaymentModel, docs: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """`docs` (open AR documents) with `expected_date` (P50), `p10_date`, `p90_date` and `method`."""
    hist = model.history.docs.select("doc_id", "amount", *DOCUMENT_FLAGS)
    rows = docs.join(hist, on="doc_id", how="left").with_columns(
        pl.col("amount").fill_null(pl.col("open_amount").cast(pl.Float64))
    )
    rows = snapshot_features(
        rows.join(_party_attributes(model.history), on="party_id", how="left"), model.history.docs, as_of
    )
    start = pl.lit(as_of, dtype=pl.Date)
    out = _with_waits(docs, model.remaining_days(rows)).with_columns(
        p10_date=start + pl.duration(days="_w10"),
        expected_date=start + pl.duration(days="_w50"),
        p90_date=start + pl.duration(days="_w90"),
        method=pl.lit("learned"),
    )
    return out.select(*docs.columns, "expected_date", "p10_date", "p90_date", "method")


def _with_waits(frame: pl.DataFrame, waits: np.ndarray) -> pl.DataFrame:
    """`frame` with the P10, P50 and P90 days of `waits` (one row each) as `_w10`, `_w50`, `_w90`."""
    names = ("_w10", "_w50", "_w90")
    return frame.with_columns(pl.Series(n, waits[:, i], dtype=pl.Int32) for i, n in enumerate(names))


def learned_ar_lags(model: PaymentModel, as_of: dt.date) -> pl.DataFrame:
    """Per customer, the days from invoice date to receipt of an invoice issued at `as_of` on its terms,
    for its median invoice amount (everyone's median for a customer without invoices)."""
    history = model.history
    amounts = history.docs.group_by("party_id").agg(amount=pl.col("amount").median())
    everyone = history.docs.get_column("amount").median() if history.docs.height else 0.0
    new = history.parties.join(amounts, on="party_id", how="left").with_columns(
        pl.col("amount").fill_null(everyone),
        doc_date=pl.lit(as_of, dtype=pl.Date),
        due_date=pl.lit(as_of, dtype=pl.Date) + pl.duration(days=pl.col("terms_days")),
    )
    # a new invoice's dispute and billing are not known yet
    new = new.with_columns(pl.lit(None, dtype=pl.Float64).alias(flag) for flag in DOCUMENT_FLAGS)
    rows = snapshot_features(new, history.docs, as_of)
    waits = _with_waits(new, model.remaining_days(rows))
    return waits.select(
        pl.lit("customer").alias("party_type"), "party_id", p10_days="_w10", p50_days="_w50", p90_days="_w90"
    )


def _party_attributes(history: SettledHistory) -> pl.DataFrame:
    return history.parties.select("party_id", *CATEGORIES)


def _codes(values: pl.Series) -> dict[str, int]:
    return {v: i for i, v in enumerate(sorted(str(x) for x in values.unique().drop_nulls()))}
