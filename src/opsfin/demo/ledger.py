"""The demo company's general ledger, built journal by journal. Every journal balances."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class Ledger:
    journal_ids: list[str] = field(default_factory=list)
    dates: list[dt.date] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    cost_centers: list[str | None] = field(default_factory=list)
    cents: list[int] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    source_docs: list[str] = field(default_factory=list)
    n_journals: int = 0
    flushed: int = 0  # rows already written to the warehouse

    def entry_id(self, index: int) -> str:
        """Entry id of the row at `index` of the unflushed rows."""
        return f"E{self.flushed + index + 1:09d}"

    def post(
        self,
        day: dt.date,
        description: str,
        source_doc: str,
        lines: list[tuple[str, str | None, int]],
    ) -> str:
        """Post one journal of (account, cost centre, cents) lines; zero lines are dropped."""
        lines = [ln for ln in lines if ln[2] != 0]
        if not lines:
            return ""
        total = sum(ln[2] for ln in lines)
        if total != 0:
            raise AssertionError(f"unbalanced journal {description} {source_doc}: {total}")
        self.n_journals += 1
        jid = f"J{self.n_journals:08d}"
        for account, cc, amount in lines:
            self.journal_ids.append(jid)
            self.dates.append(day)
            self.accounts.append(account)
            self.cost_centers.append(cc)
            self.cents.append(int(amount))
            self.descriptions.append(description)
            self.source_docs.append(source_doc)
        return jid

    def cash_entry_id(self, jid: str, account: str) -> str:
        """Entry id of the (single) cash line of a journal just posted."""
        for i in range(len(self.journal_ids) - 1, -1, -1):
            if self.journal_ids[i] != jid:
                break
            if self.accounts[i] == account:
                return self.entry_id(i)
        raise KeyError(jid)

    def take(self) -> dict[str, list]:
        """Hand over the unflushed rows (with their entry ids) and start afresh."""
        n = len(self.cents)
        out = {
            "entry_id": [self.entry_id(i) for i in range(n)],
            "journal_id": self.journal_ids,
            "posting_date": self.dates,
            "account_id": self.accounts,
            "cost_center_id": self.cost_centers,
            "amount": self.cents,
            "description": self.descriptions,
            "source_doc": self.source_docs,
        }
        self.flushed += n
        self.journal_ids, self.dates, self.accounts, self.cost_centers = [], [], [], []
        self.cents, self.descriptions, self.source_docs = [], [], []
        return out
