"""The features of a user's labelled file (docs/predict.md "Your own labelled data"). Pure.

A column is numeric when every value it holds reads as a number, else categorical (its most frequent
values become categories, the rest missing). Derived features are generic, the same for any file:
for each pair of numeric columns their product, difference and both ratios. Which of them a model
uses is chosen from the rows it is trained on only (`select_derived`), so that inside a
cross-validation fold the choice never sees the held-out labels."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import polars as pl

MAX_CATEGORIES = 100  # a categorical column keeps its most frequent values, each seen at least twice
MAX_PAIR_COLUMNS = 12  # derived features pair at most this many numeric columns (the most useful ones)
SEED = 7
SCREEN_PARAMS = {  # the quick model that ranks candidate features by gain
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 7,
    "feature_fraction": 0.5,
    "min_data_in_leaf": 20,
    "verbose": -1,
    "num_threads": 1,  # one thread: on a shared machine OpenMP threads wait on each other
    "seed": SEED,
    "deterministic": True,
}
SCREEN_ROUNDS = 100


@dataclass(frozen=True)
class Column:
    """A column the model reads: numeric, or categorical with its categories (their order = their codes)."""

    name: str
    kind: str  # numeric | categorical
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Derived:
    """A feature made from two numeric columns: `left * right`, `left - right` or `left / right`."""

    kind: str  # product | difference | ratio
    left: str
    right: str

    @property
    def name(self) -> str:
        sign = {"product": "*", "difference": "-", "ratio": "/"}[self.kind]
        return f"{self.left} {sign} {self.right}"


def as_numbers(values: pl.Series) -> pl.Series | None:
    """The column as Float64, or None when some non-empty value is not a number."""
    if values.dtype.is_numeric() or values.dtype == pl.Boolean:
        return values.cast(pl.Float64)
    text = values.cast(pl.Utf8).str.strip_chars()
    text = pl.select(pl.when(text != "").then(text)).to_series()
    numbers = text.cast(pl.Float64, strict=False)
    if (numbers.is_null() & text.is_not_null()).any():
        return None
    return numbers


def first_non_number(values: pl.Series) -> str | None:
    """The first non-empty value of a column that does not read as a number (None: all do)."""
    for value in values.cast(pl.Utf8).to_list():
        if value is None or value.strip() == "":
            continue
        try:
            float(value)
        except ValueError:
            return value
    return None


def as_text(values: pl.Series) -> list[str | None]:
    """A categorical column's values as trimmed text; empty → None."""
    out: list[str | None] = []
    for value in values.cast(pl.Utf8).to_list():
        text = None if value is None else value.strip()
        out.append(text or None)
    return out


def describe_columns(frame: pl.DataFrame, names: Sequence[str]) -> list[Column]:
    """Each named column as numeric or categorical; a categorical keeps its `MAX_CATEGORIES` most frequent
    values seen at least twice (ties by value, so the order is stable)."""
    columns = []
    for name in names:
        if as_numbers(frame[name]) is not None:
            columns.append(Column(name, "numeric"))
            continue
        counts: dict[str, int] = {}
        for value in as_text(frame[name]):
            if value is not None:
                counts[value] = counts.get(value, 0) + 1
        kept = sorted((v for v, n in counts.items() if n >= 2), key=lambda v: (-counts[v], v))[:MAX_CATEGORIES]
        columns.append(Column(name, "categorical", tuple(sorted(kept))))
    return columns


def base_matrix(frame: pl.DataFrame, columns: Sequence[Column]) -> np.ndarray:
    """Rows x columns as float64: numbers as they are, categories as their code, anything else NaN."""
    matrix = np.full((frame.height, len(columns)), np.nan)
    for j, column in enumerate(columns):
        if column.kind == "numeric":
            numbers = as_numbers(frame[column.name])
            assert numbers is not None, column.name  # checked by the caller
            matrix[:, j] = numbers.fill_null(float("nan")).to_numpy()
        else:
            code = {value: i for i, value in enumerate(column.categories)}
            matrix[:, j] = [code.get(v, np.nan) if v is not None else np.nan for v in as_text(frame[column.name])]
    return matrix


def derived_matrix(base: np.ndarray, columns: Sequence[Column], derived: Sequence[Derived]) -> np.ndarray:
    """The derived features of `base` (a ratio over 0 is NaN)."""
    where = {c.name: j for j, c in enumerate(columns)}
    out = np.empty((base.shape[0], len(derived)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, d in enumerate(derived):
            left, right = base[:, where[d.left]], base[:, where[d.right]]
            if d.kind == "product":
                out[:, k] = left * right
            elif d.kind == "difference":
                out[:, k] = left - right
            else:
                out[:, k] = np.where(right == 0, np.nan, left / right)
    return out


def candidates(numeric: Sequence[str]) -> list[Derived]:
    """Every derived feature of the numeric columns, in a stable order."""
    out = []
    for a, b in itertools.combinations(numeric, 2):
        out += [Derived("product", a, b), Derived("difference", a, b), Derived("ratio", a, b), Derived("ratio", b, a)]
    return out


def _gains(matrix: np.ndarray, labels: np.ndarray, categorical: list[int]) -> np.ndarray:
    data = lgb.Dataset(matrix, labels, categorical_feature=categorical, free_raw_data=True)
    booster = lgb.train(SCREEN_PARAMS, data, num_boost_round=SCREEN_ROUNDS)
    return np.asarray(booster.feature_importance(importance_type="gain"), dtype=float)


def select_derived(base: np.ndarray, labels: np.ndarray, columns: Sequence[Column], keep: int) -> list[Derived]:
    """The `keep` derived features a quick model trained on these rows gains most from (none that it
    never splits on). With more than `MAX_PAIR_COLUMNS` numeric columns, only the most useful of them
    (by the same quick model on the columns alone) are paired."""
    numeric = [j for j, c in enumerate(columns) if c.kind == "numeric"]
    if keep <= 0 or len(numeric) < 2:
        return []
    categorical = [j for j, c in enumerate(columns) if c.kind == "categorical"]
    if len(numeric) > MAX_PAIR_COLUMNS:
        gains = _gains(base, labels, categorical)
        numeric = sorted(sorted(numeric, key=lambda j: -gains[j])[:MAX_PAIR_COLUMNS])
    pool = candidates([columns[j].name for j in numeric])
    matrix = np.hstack([base, derived_matrix(base, columns, pool)])
    gains = _gains(matrix, labels, categorical)[len(columns) :]
    ranked = sorted(range(len(pool)), key=lambda k: (-gains[k], k))
    return [pool[k] for k in ranked[:keep] if gains[k] > 0]
