"""ISO 20022 camt.053 (BankToCustomerStatement, any 001.xx version) -> bank tables.

`bank_statements`: one row per `Stmt`.
- statement_id = `Stmt/Id` (a repeat inside the same file gets "#2", "#3"...);
- bank_account = `Acct/Id/IBAN`, else `Acct/Id/Othr/Id`;
- statement_date = date of the CLBD balance, else `Stmt/CreDtTm`, else `GrpHdr/CreDtTm`;
- currency = `Acct/Ccy`, else the currency of the balances;
- opening_balance = OPBD (else PRCD, else the first ITBD); closing_balance = CLBD (else the
  last ITBD); each signed by its `CdtDbtInd` (DBIT -> negative).

`bank_transactions`: one row per transaction detail (`Ntry/NtryDtls/TxDtls`); an entry without
details is one row. Only booked entries are read (`Sts` BOOK or absent); others are listed in
`meta["skipped"]`.
- amount: + for CRDT, - for DBIT. An entry with one detail uses the entry's `Amt`. An entry with
  several details uses each detail's `AmtDtls/TxAmt/Amt` (or `Amt`), signed by the detail's own
  `CdtDbtInd` when present. If those amounts are missing, in another currency, or do not add
  up to the entry, the entry is read as one row instead (so the statement still balances) and
  `meta["warnings"]` says so.
- booking_date = `BookgDt`, value_date = `ValDt` (each falls back to the other).
- counterparty = the other party's name: `RltdPties/Dbtr` for money in, `RltdPties/Cdtr` for money
  out (swapped when `RvslInd` is true, since a reversal keeps the original parties); falls back
  to the ultimate party, then to the opposite role; a name equal to the account owner's is
  skipped.
- reference = `RmtInf/Strd/CdtrRefInf/Ref`, else `Refs/EndToEndId` unless NOTPROVIDED/NONREF,
  else `Refs/AcctSvcrRef`, else the entry's `AcctSvcrRef`.
- description = `RmtInf/Ustrd` (joined by spaces), `AddtlTxInf` and `AddtlNtryInf`, each kept
  once, joined by " | ".
- bank_txn_id = "{statement_id}/{entry no}/{detail no}" (1-based; detail 1 for an entry without
  details): deterministic for the same file.

Amounts and balances are parsed by the one value parser at the MONEY scale: `<Amt>1.005</Amt>`
refuses the document (naming the element), it is never rounded. Dates are ISO dates, or ISO
date-times whose date is taken; anything else (a trailing NUL included) is refused.

A statement whose closing balance is not opening + its booked entries is still read as given;
`meta["warnings"]` says so.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

from ..errors import UserError
from .document import (
    _CAMT053_NS,
    MONEY,
    ParsedDocument,
    _split_tag,
    parse_date,
    parse_decimal,
    statement_document,
    strip_namespaces,
    text_of,
    xml_root,
)

_NO_REF = {"NOTPROVIDED", "NONREF", "NOT PROVIDED"}


class _Bad(Exception):
    """A problem at a known place in the document; becomes a UserError naming file and place."""


def _date(elem: ET.Element | None, where: str) -> dt.date | None:
    """ISO date of a `<Dt>` or `<DtTm>` child (or of `elem` itself when it holds the text)."""
    if elem is None:
        return None
    return _iso_date(text_of(elem, "Dt") or text_of(elem, "DtTm") or text_of(elem), where)


def _iso_date(raw: str | None, where: str) -> dt.date | None:
    if raw is None:
        return None
    try:
        return parse_date(raw, where)
    except ValueError as exc:
        raise _Bad(str(exc)) from None


def _signed_amount(
    elem: ET.Element, amt_path: str, where: str, default_ind: str | None = None
) -> tuple[Decimal, str | None]:
    amt = elem.find(amt_path)
    if amt is None:
        raise _Bad(f"{where}: missing {amt_path}")
    try:
        value = parse_decimal(amt.text, f"{where}/{amt_path}", column_type=MONEY)
    except ValueError as exc:
        raise _Bad(str(exc)) from None
    ind = text_of(elem, "CdtDbtInd") or default_ind
    if ind not in ("CRDT", "DBIT"):
        raise _Bad(f"{where}: CdtDbtInd must be CRDT or DBIT, found {ind!r}")
    return (-value if ind == "DBIT" else value), amt.get("Ccy")


def _party(tx: ET.Element, role: str, own: set[str]) -> str | None:
    for path in (
        f"RltdPties/{role}/Nm",
        f"RltdPties/{role}/Pty/Nm",
        f"RltdPties/Ultmt{role}/Nm",
        f"RltdPties/Ultmt{role}/Pty/Nm",
    ):
        name = text_of(tx, path)
        if name and name.casefold() not in own:
            return name
    return None


def _counterparty(tx: ET.Element, money_in: bool, reversal: bool, own: set[str]) -> str | None:
    first, second = ("Dbtr", "Cdtr") if money_in != reversal else ("Cdtr", "Dbtr")
    return _party(tx, first, own) or _party(tx, second, own)


def _reference(tx: ET.Element | None, ntry: ET.Element) -> str | None:
    if tx is not None:
        ref = text_of(tx, "RmtInf/Strd/CdtrRefInf/Ref")
        if ref:
            return ref
        e2e = text_of(tx, "Refs/EndToEndId")
        if e2e and e2e.upper() not in _NO_REF:
            return e2e
        ref = text_of(tx, "Refs/AcctSvcrRef")
        if ref:
            return ref
    return text_of(ntry, "AcctSvcrRef")


def _description(tx: ET.Element | None, ntry: ET.Element) -> str | None:
    parts: list[str] = []
    if tx is not None:
        ustrd = [t for t in (text_of(u) for u in tx.findall("RmtInf/Ustrd")) if t]
        parts += [" ".join(ustrd), text_of(tx, "AddtlTxInf") or ""]
    parts.append(text_of(ntry, "AddtlNtryInf") or "")
    kept: list[str] = []
    for part in parts:
        if part and not any(part in k for k in kept):
            kept.append(part)
    return " | ".join(kept) or None


def _balances(stmt: ET.Element, loc: str) -> dict[str, list[tuple[Decimal, str | None, dt.date | None]]]:
    out: dict[str, list[tuple[Decimal, str | None, dt.date | None]]] = {}
    for bi, bal in enumerate(stmt.findall("Bal"), 1):
        where = f"{loc}/Bal[{bi}]"
        code = text_of(bal, "Tp/CdOrPrtry/Cd") or text_of(bal, "Tp/CdOrPrtry/Prtry")
        amount, ccy = _signed_amount(bal, "Amt", where)
        out.setdefault(code or "", []).append((amount, ccy, _date(bal.find("Dt"), f"{where}/Dt")))
    return out


def _details(ntry: ET.Element) -> list[ET.Element]:
    return [tx for nd in ntry.findall("NtryDtls") for tx in nd.findall("TxDtls")]


def _split_amounts(
    details: list[ET.Element], total: Decimal, ccy: str | None, ind: str, where: str
) -> list[Decimal] | None:
    """Each detail's signed amount, or None when they cannot stand for the entry."""
    amounts = []
    for di, tx in enumerate(details, 1):
        path = "AmtDtls/TxAmt/Amt" if tx.find("AmtDtls/TxAmt/Amt") is not None else "Amt"
        if tx.find(path) is None:
            return None
        value, tx_ccy = _signed_amount(tx, path, f"{where}/TxDtls[{di}]", default_ind=ind)
        if tx_ccy and ccy and tx_ccy != ccy:
            return None
        amounts.append(value)
    return amounts if sum(amounts) == total else None


def _entries(
    stmt: ET.Element,
    loc: str,
    stmt_keys: dict[str, str],
    own: set[str],
    transactions: list[dict],
    txn_locs: list[str],
    skipped: list[dict],
    warnings: list[str],
) -> None:
    """The booked entries of one statement as transactions (`stmt_keys`: statement_id,
    bank_account, currency), appended with their locations; unbooked entries go to `skipped`."""
    for ni, ntry in enumerate(stmt.findall("Ntry"), 1):
        nloc = f"{loc}/Ntry[{ni}]"
        status = text_of(ntry, "Sts/Cd") or text_of(ntry, "Sts")
        if status and status.upper() != "BOOK":
            skipped.append({"location": nloc, "reason": f"entry status {status} (not booked)"})
            continue
        amount, ccy = _signed_amount(ntry, "Amt", nloc)
        ind = text_of(ntry, "CdtDbtInd") or ""
        booking = _date(ntry.find("BookgDt"), f"{nloc}/BookgDt")
        value = _date(ntry.find("ValDt"), f"{nloc}/ValDt")
        booking, value = booking or value, value or booking
        if booking is None:
            raise _Bad(f"{nloc}: neither BookgDt nor ValDt")
        reversal = (text_of(ntry, "RvslInd") or "").lower() == "true"
        details = _details(ntry)
        if len(details) <= 1:
            parts = [(details[0] if details else None, amount, "/NtryDtls/TxDtls[1]" if details else "")]
        else:
            amounts = _split_amounts(details, amount, ccy, ind, nloc)
            if amounts is None:
                warnings.append(
                    f"{nloc}: its {len(details)} TxDtls amounts do not add up to the "
                    "entry amount; read as one transaction"
                )
                parts = [(None, amount, "")]
            else:
                parts = [
                    (tx, a, f"/NtryDtls/TxDtls[{di}]")
                    for di, (tx, a) in enumerate(zip(details, amounts, strict=True), 1)
                ]
        for di, (tx, part_amount, suffix) in enumerate(parts, 1):
            sid = stmt_keys["statement_id"]
            transactions.append(
                {
                    "bank_txn_id": f"{sid}/{ni}/{di}",
                    "statement_id": sid,
                    "bank_account": stmt_keys["bank_account"],
                    "booking_date": booking,
                    "value_date": value,
                    "amount": part_amount,
                    "currency": ccy or stmt_keys["currency"],
                    "counterparty": (_counterparty(tx, part_amount > 0, reversal, own) if tx is not None else None),
                    "reference": _reference(tx, ntry),
                    "description": _description(tx, ntry),
                }
            )
            txn_locs.append(nloc + suffix)


def read_camt053(path) -> ParsedDocument:
    path = Path(path)
    root = xml_root(path)
    ns, local = _split_tag(root.tag)
    if local != "Document" or not _CAMT053_NS.match(ns):
        raise UserError(f"{path}: not a camt.053 statement (root element {root.tag!r})")
    strip_namespaces(root)
    try:
        return _read(path, root)
    except _Bad as exc:
        raise UserError(f"{path}: {exc}") from None


def _read(path: Path, root: ET.Element) -> ParsedDocument:
    stmts = root.findall("BkToCstmrStmt/Stmt")
    if not stmts:
        raise _Bad("no BkToCstmrStmt/Stmt element: nothing to read")
    group_created = text_of(root, "BkToCstmrStmt/GrpHdr/CreDtTm")
    statements, transactions, stmt_locs, txn_locs = [], [], [], []
    skipped, warnings, seen_ids = [], [], {}
    for si, stmt in enumerate(stmts, 1):
        loc = f"Stmt[{si}]"
        sid = text_of(stmt, "Id")
        if sid is None:
            raise _Bad(f"{loc}: missing Id")
        seen_ids[sid] = seen_ids.get(sid, 0) + 1
        if seen_ids[sid] > 1:
            sid = f"{sid}#{seen_ids[sid]}"
        account = text_of(stmt, "Acct/Id/IBAN") or text_of(stmt, "Acct/Id/Othr/Id")
        if account is None:
            raise _Bad(f"{loc}: missing Acct/Id/IBAN (or Acct/Id/Othr/Id)")
        own = {n.casefold() for n in (text_of(stmt, "Acct/Nm"), text_of(stmt, "Acct/Ownr/Nm")) if n}
        bals = _balances(stmt, loc)
        opening = (bals.get("OPBD") or bals.get("PRCD") or bals.get("ITBD") or [None])[0]
        closing = (bals.get("CLBD") or bals.get("ITBD") or [None])[-1]
        if opening is None:
            raise _Bad(f"{loc}: no opening balance (Bal with Tp OPBD, PRCD or ITBD)")
        if closing is None:
            raise _Bad(f"{loc}: no closing balance (Bal with Tp CLBD or ITBD)")
        created = text_of(stmt, "CreDtTm") or group_created
        stmt_date = closing[2] or _iso_date(created, f"{loc}/CreDtTm")
        if stmt_date is None:
            raise _Bad(f"{loc}: no statement date (CLBD Dt or CreDtTm)")
        currency = text_of(stmt, "Acct/Ccy") or closing[1] or opening[1]
        if currency is None:
            raise _Bad(f"{loc}: no currency (Acct/Ccy or Bal/Amt/@Ccy)")
        statements.append(
            {
                "statement_id": sid,
                "bank_account": account,
                "statement_date": stmt_date,
                "currency": currency,
                "opening_balance": opening[0],
                "closing_balance": closing[0],
            }
        )
        stmt_locs.append(loc)
        first_txn = len(transactions)
        _entries(
            stmt,
            loc,
            {"statement_id": sid, "bank_account": account, "currency": currency},
            own,
            transactions,
            txn_locs,
            skipped,
            warnings,
        )
        moved = sum((t["amount"] for t in transactions[first_txn:]), Decimal(0))
        if opening[0] + moved != closing[0]:
            warnings.append(f"{loc} ({sid}): opening {opening[0]} + entries {moved} != closing {closing[0]}")
    return statement_document(
        "camt053",
        path,
        statements,
        transactions,
        stmt_locs,
        txn_locs,
        message_id=text_of(root, "BkToCstmrStmt/GrpHdr/MsgId"),
        skipped=skipped,
        warnings=warnings,
    )
