"""The budget workbook's layout and its reading (docs/planning-excel.md): sheets `Volumes`, `Prices` and
`Costs`, each with a title row, the row's keys and names in the first columns and one column per month
(titled YYYY-MM). `read_plan_workbook` turns a filled-in workbook back into `volume_plan` and
`budget_lines` rows, or the list of every problem found, each with its sheet and cell (`Costs!F12: not a
number ('abc')`), up to `MAX_PROBLEMS`.

Values are parsed by the one value parser (src/opsfin/values/) at the canonical columns' types: a volume
is a number ≥ 0, a price a decimal ≥ 0 of at most 4 places, an amount a decimal of at most 2 places (a
float Excel stores is read at its shortest exact form, never rounded). The workbook is opened through
the one safe opener (`readers.workbook.open_workbook`, as ingest): a DOCTYPE or a damaged file is refused whole.

Sign convention: `budget_lines.amount` is in GL sign (debit +, credit −). The `Costs` sheet shows every
amount as people read a budget, costs and revenue both positive: an account of a credit-normal type
(`revenue`, `liability`, `equity`) is shown with its sign turned, any other as in the GL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..canonical import table
from ..errors import UserError
from ..values.parser import Invalid, NotANumber, show, value_checker

VOLUMES, PRICES, COSTS = "Volumes", "Prices", "Costs"
SHEETS = (VOLUMES, PRICES, COSTS)
PRODUCT_TITLES = ("product_id", "product", "family")
COST_TITLES = ("cost_center_id", "account_id", "cost_center", "account", "type")
CREDIT_TYPES = frozenset({"revenue", "liability", "equity"})  # shown with the sign turned
MAX_PROBLEMS = 100
MAX_ROWS = 100_000  # rows read per sheet, the title row included
_MONTH_TITLE = re.compile(r"\d{4}-\d{2}")


def shown_amount(gl_amount: Decimal, account_type: str) -> Decimal:
    """A `budget_lines.amount` (GL sign) as the Costs sheet shows it: credit-normal accounts turned."""
    return _turned(gl_amount) if account_type in CREDIT_TYPES else gl_amount


def gl_amount(shown: Decimal, account_type: str) -> Decimal:
    """The GL-signed amount of a Costs sheet cell (the inverse of `shown_amount`)."""
    return _turned(shown) if account_type in CREDIT_TYPES else shown


def _turned(amount: Decimal) -> Decimal:
    return -amount + Decimal(0)  # + 0: no negative zero


def cell_ref(sheet: str, row: int, column: int) -> str:
    """`Costs!F12` for row 12 and (0-based) column 5."""
    return f"{sheet}!{_column_letter(column)}{row}"


@dataclass(frozen=True)
class Masters:
    """What the cells' keys are checked against: product id → kind, cost centres, account id → type."""

    products: dict[str, str]
    cost_centers: frozenset[str]
    accounts: dict[str, str]


@dataclass
class PlanFile:
    """The rows read from a workbook (without `version`), or the problems that refuse it."""

    volume_plan: list[dict[str, Any]] = field(default_factory=list)
    budget_lines: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _TooMany(Exception):
    """Raised once MAX_PROBLEMS are collected: reading stops there."""


class _Problems(list[str]):
    def add(self, text: str) -> None:
        self.append(text)
        if len(self) >= MAX_PROBLEMS:
            raise _TooMany


@dataclass
class _Grid:
    """One sheet: its month columns (0-based index → first of month) and its non-empty data rows."""

    sheet: str
    months: dict[int, dt.date]
    rows: list[tuple[int, tuple[Any, ...]]]


@dataclass
class _ProductCells:
    """A Volumes or Prices sheet read: (product, month) → (value, cell ref), product → its row, and the
    (product, month) cells refused (their partner on the other sheet is not judged)."""

    values: dict[tuple[str, dt.date], tuple[Any, str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    refused: set[tuple[str, dt.date]] = field(default_factory=set)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def month_title(value: Any) -> dt.date | None:
    """The month a column title names: text `YYYY-MM`, or a date on the first of a month (Excel turns a
    typed 2025-01 into one); None for anything else."""
    if isinstance(value, dt.datetime):
        return value.date() if value.day == 1 and value.time() == dt.time(0) else None
    if isinstance(value, dt.date):
        return value if value.day == 1 else None
    if isinstance(value, str) and _MONTH_TITLE.fullmatch(value.strip()):
        year, month = (int(p) for p in value.strip().split("-"))
        return dt.date(year, month, 1) if year >= 1 and 1 <= month <= 12 else None
    return None


def _sheet_rows(sheet: Any) -> Iterator[tuple[Any, ...]]:
    return sheet.iter_rows(min_row=1, min_col=1, max_row=MAX_ROWS, values_only=True)


def _column_letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column + 1)


def _read_grid(book: Any, name: str, titles: tuple[str, ...], problems: _Problems) -> _Grid:
    """The sheet's title row checked (key and name titles, then months), and its data rows."""
    sheet = book[name]
    if (sheet.max_row or 0) > MAX_ROWS:
        problems.add(f"{name}: {sheet.max_row} rows; a sheet holds at most {MAX_ROWS}")
    rows = iter(_sheet_rows(sheet))
    header = list(next(rows, ()))
    for c, title in enumerate(titles):
        found = header[c] if c < len(header) else None
        if not (isinstance(found, str) and found.strip() == title):
            problems.add(f"{cell_ref(name, 1, c)}: expected the title {title!r}, found {show(found)}")
    months: dict[int, dt.date] = {}
    seen: dict[dt.date, int] = {}
    for c in range(len(titles), len(header)):
        value = header[c]
        if _blank(value):
            continue
        month = month_title(value)
        if month is None:
            problems.add(f"{cell_ref(name, 1, c)}: the month title {show(value)} is not YYYY-MM")
        elif month in seen:
            problems.add(
                f"{cell_ref(name, 1, c)}: month {month:%Y-%m} is already the title of column {_column_letter(seen[month])}"
            )
        else:
            months[c], seen[month] = month, c
    data = []
    for number, values in enumerate(rows, start=2):
        if all(_blank(v) for v in values):
            continue
        data.append((number, tuple(values)))
        for c in range(len(titles), len(values)):
            if c not in months and not _blank(values[c]) and (c >= len(header) or _blank(header[c])):
                problems.add(f"{cell_ref(name, number, c)}: a value in a column without a month title")
    return _Grid(name, months, data)


def _parse(check: Callable[[Any], Any], value: Any, ref: str, what: str, problems: _Problems) -> Any:
    """`check(value)`, or None with the problem noted at `ref` (the parser's reason without its column)."""
    try:
        return check(value)
    except NotANumber:
        problems.add(f"{ref}: not a number ({show(value.strip() if isinstance(value, str) else value)})")
    except Invalid as exc:
        reason = re.sub(r"^column '[a-z_]+': ", "", str(exc))
        problems.add(f"{ref}: {what} {reason}")
    return None


_ID = value_checker(table("volume_plan").column("product_id"))


def _key(value: Any, ref: str, what: str, known: Callable[[str], str | None], problems: _Problems) -> str | None:
    """The id in a key cell, checked by `known(id)` (a reason it is refused, or None); None when refused."""
    if _blank(value):
        problems.add(f"{ref}: {what} id is missing")
        return None
    key = _parse(_ID, value, ref, what, problems)
    if key is None:
        return None
    reason = known(key)
    if reason is not None:
        problems.add(f"{ref}: {reason}")
        return None
    return key


def _product_cells(grid: _Grid, column: str, what: str, masters: Masters, problems: _Problems) -> _ProductCells:
    """The cells of a Volumes (`qty`) or Prices (`unit_price`) sheet."""
    check = value_checker(table("volume_plan").column(column))

    def known(pid: str) -> str | None:
        kind = masters.products.get(pid)
        if kind is None:
            return f"unknown product {pid}"
        return None if kind == "finished" else f"product {pid} is a {kind} item, not a finished product"

    out = _ProductCells()
    for number, values in grid.rows:
        ref = cell_ref(grid.sheet, number, 0)
        pid = _key(values[0] if values else None, ref, "product", known, problems)
        if pid is None:
            continue
        if pid in out.rows:
            problems.add(f"{ref}: duplicate row: product {pid} is already on row {out.rows[pid]}")
            continue
        out.rows[pid] = number
        for c, month in grid.months.items():
            raw = values[c] if c < len(values) else None
            if not _blank(raw):
                ref = cell_ref(grid.sheet, number, c)
                value = _parse(check, raw, ref, what, problems)
                if value is None:
                    out.refused.add((pid, month))
                else:
                    out.values[(pid, month)] = (value, ref)
    return out


def _cost_cells(grid: _Grid, masters: Masters, problems: _Problems) -> dict[tuple[str, str, dt.date], Decimal]:
    """(cost centre, account, month) → amount in GL sign, from the Costs sheet."""
    check = value_checker(table("budget_lines").column("amount"))
    cells: dict[tuple[str, str, dt.date], Decimal] = {}
    first_row: dict[tuple[str, str], int] = {}

    def known_cc(key: str) -> str | None:
        return None if key in masters.cost_centers else f"unknown cost centre {key}"

    def known_account(key: str) -> str | None:
        return None if key in masters.accounts else f"unknown account {key}"

    for number, values in grid.rows:
        values = values + (None,) * (2 - len(values))
        cc = _key(values[0], cell_ref(COSTS, number, 0), "cost centre", known_cc, problems)
        account = _key(values[1], cell_ref(COSTS, number, 1), "account", known_account, problems)
        if cc is None or account is None:
            continue
        if (cc, account) in first_row:
            problems.add(
                f"{cell_ref(COSTS, number, 0)}: duplicate row: cost centre {cc} and account {account} "
                f"are already on row {first_row[(cc, account)]}"
            )
            continue
        first_row[(cc, account)] = number
        for c, month in grid.months.items():
            raw = values[c] if c < len(values) else None
            if not _blank(raw):
                amount = _parse(check, raw, cell_ref(COSTS, number, c), "amount", problems)
                if amount is not None:
                    cells[(cc, account, month)] = gl_amount(amount, masters.accounts[account])
    return cells


def _volume_rows(volumes: _ProductCells, prices: _ProductCells, problems: _Problems) -> list[dict[str, Any]]:
    """One volume_plan row per (product, month) holding both a volume and a price. A product with values
    on one sheet and no row on the other is one problem; a cell without its partner is one each."""
    for here, there, cells, other in ((VOLUMES, PRICES, volumes, prices), (PRICES, VOLUMES, prices, volumes)):
        for pid, number in cells.rows.items():
            if pid not in other.rows and any(p == pid for p, _ in cells.values):
                problems.add(
                    f"{cell_ref(here, number, 0)}: product {pid} has values here but no row on the {there} sheet"
                )
    rows = []
    for (pid, month), (qty, ref) in sorted(volumes.values.items()):
        price = prices.values.get((pid, month))
        if price is not None:
            rows.append({"period": month, "product_id": pid, "qty": qty, "unit_price": price[0]})
        elif pid in prices.rows and (pid, month) not in prices.refused:
            problems.add(f"{ref}: no price for product {pid} in {month:%Y-%m} on the {PRICES} sheet")
    for (pid, month), (_, ref) in sorted(prices.values.items()):
        if (pid, month) not in volumes.values and pid in volumes.rows and (pid, month) not in volumes.refused:
            problems.add(f"{ref}: a price without a volume for product {pid} in {month:%Y-%m} on the {VOLUMES} sheet")
    return rows


def read_plan_workbook(path: Path, masters: Masters) -> PlanFile:
    """The rows of a budget workbook, or every problem found (up to MAX_PROBLEMS, then a last line saying
    more were not looked for). A file that is no workbook, or lacks a sheet, is a UserError."""
    from ..readers.workbook import WORKBOOK_ERRORS, open_workbook

    book = open_workbook(path)
    problems = _Problems()
    result = PlanFile(problems=problems)
    try:
        missing = [s for s in SHEETS if s not in book.sheetnames]
        if missing:
            raise UserError(
                f"{path.name}: the workbook has no sheet {', '.join(missing)}; a budget workbook has the sheets "
                f"{', '.join(SHEETS)} (opsfin plan export writes one)"
            )
        grids = {s: _read_grid(book, s, PRODUCT_TITLES if s != COSTS else COST_TITLES, problems) for s in SHEETS}
        volumes = _product_cells(grids[VOLUMES], "qty", "volume", masters, problems)
        prices = _product_cells(grids[PRICES], "unit_price", "price", masters, problems)
        costs = _cost_cells(grids[COSTS], masters, problems)
        result.volume_plan = _volume_rows(volumes, prices, problems)
        result.budget_lines = [
            {"period": m, "cost_center_id": cc, "account_id": a, "amount": amount}
            for (cc, a, m), amount in sorted(costs.items())
        ]
    except _TooMany:
        problems.append(f"… stopped after {MAX_PROBLEMS} problems; correct these and import again")
    except WORKBOOK_ERRORS as exc:
        raise UserError(f"{path.name}: the workbook cannot be read ({type(exc).__name__}: {exc})"[:300]) from None
    finally:
        book.close()
    if problems:
        result.volume_plan, result.budget_lines = [], []
    return result
