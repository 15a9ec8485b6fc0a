"""SWIFT MT940 customer statements -> bank tables.

A file holds any number of statements (`:20:` starts one; a `-` line or a SWIFT `{4:...-}`
envelope may separate them). Field by field:

`bank_statements`: one row per `:20:`.
- statement_id = "{:20: reference}/{:28C: statement/sequence}" (just the reference without
  `:28C:`); a repeat in the same file gets "#2", "#3"...;
- bank_account = `:25:`; currency, opening balance and date from `:60F:`/`:60M:`; closing
  balance from `:62F:`/`:62M:` (C = +, D = -); statement_date = the closing balance's date.

`bank_transactions`: one row per `:61:`, with the `:86:` that follows it.
- value_date = the `:61:` value date (YYMMDD); booking_date = its entry date (MMDD), in the year
  that puts it nearest the value date (so 1231 against 080102 is 2007-12-31), else the value date;
- amount: C and RD (reversal of a debit) are money in (+); D and RC (reversal of a credit) are
  money out (-). The optional funds-code letter after the mark is skipped;
- bank_txn_id = "{statement_id}/{n}", n = 1-based position of the `:61:` in its statement.

`:86:` comes in three shapes:
- German "GVC" structured: "166?00GUTSCHRIFT?20...?32name?33name". Lines are joined without a
  separator (they are wrapped at 65 characters, even inside a `?nn` marker). Purpose text =
  ?20..?29 + ?60..?63 concatenated; it may hold SEPA keys (EREF+, KREF+, MREF+, CRED+, DEBT+,
  SVWZ+, ABWA+, ABWE+, ...); "MTLG:" (a bank's message) also ends a key's value.
  counterparty = ?32 + ?33;
- "/CODE/value" structured (Dutch style: /EREF/.../NAME/.../REMI/...): counterparty = NAME
  (or the name inside CNTP), remittance = REMI;
- free text: the lines joined by spaces become the description.

Digits are 0-9 only (the field patterns match ASCII digits, so "١٢" is no amount or date).
Amounts are parsed by the one value parser at the MONEY scale: `0,001` refuses the file (naming
the line), it is never rounded.

reference = SEPA EREF (unless NONREF / NOTPROVIDED), else KREF, else the `:61:` customer
reference (the part before "//"; unless NONREF or a placeholder such as "KREF+"), else the `:61:`
bank reference (after "//"), else null.
description = posting text (?00), remittance (SVWZ+ value, or the purpose text before any key)
and the MTLG: message, joined by " | ". Text columns have runs of whitespace collapsed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..errors import UserError
from .document import MONEY, ParsedDocument, parse_decimal, statement_document

_TAG = re.compile(r"^:(\d{2}[A-Z]?):(.*)$", re.ASCII)
_ENVELOPE = re.compile(r"\{[1235]:(?:[^{}]|\{[^{}]*\})*\}|\{4:")
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<ccy>[A-Z]{3})(?P<amount>\d[\d,]*)$", re.ASCII)
_LINE61 = re.compile(
    r"^(?P<vdate>\d{6})(?P<edate>\d{4})?(?P<mark>RC|RD|C|D)(?P<funds>[A-Z])?"
    r"(?P<amount>\d[\d,]*)(?P<type>[NSF][A-Z0-9]{3})(?P<refs>.*)$",
    re.ASCII,
)
_GVC = re.compile(r"^(\d{3})([^\w\s])")
_SEPA_KEY = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT|IBAN|BIC)\+|MTLG:")
_SLASH_CODE = re.compile(
    r"/(TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM|ULTD|ULTC|PURP"
    r"|RTRN|ADDR|CNTP|ISDT|PREF|SVCL)/"
)
_NO_REF = {"NONREF", "NOTPROVIDED", "NOT PROVIDED", ""}


class _Bad(Exception):
    def __init__(self, line: int, tag: str, msg: str):
        super().__init__(f"line {line} (:{tag}:): {msg}")


@dataclass
class _Field:
    line: int
    tag: str
    lines: list[str]


@dataclass
class _Stmt:
    line: int
    ref: str
    fields: list[_Field] = field(default_factory=list)


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read file: {exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _fields(text: str) -> list[_Field]:
    out: list[_Field] = []
    current: _Field | None = None
    for n, line in enumerate(text.split("\n"), 1):
        if line.startswith("{"):
            line = _ENVELOPE.sub("", line)
        if line.strip() in ("-", "-}") or line.startswith("-}") or line.startswith("{5:"):
            current = None
            continue
        m = _TAG.match(line)
        if m:
            current = _Field(n, m.group(1), [m.group(2)])
            out.append(current)
        elif current is not None and line.strip():
            current.lines.append(line)
    return out


def _yymmdd(s: str) -> dt.date:
    yy = int(s[:2])
    return dt.date(2000 + yy if yy < 80 else 1900 + yy, int(s[2:4]), int(s[4:6]))


def _entry_date(mmdd: str, value: dt.date) -> dt.date:
    candidates = []
    for year in (value.year - 1, value.year, value.year + 1):
        try:
            candidates.append(dt.date(year, int(mmdd[:2]), int(mmdd[2:])))
        except ValueError:
            continue
    if not candidates:
        raise ValueError(f"entry date {mmdd!r} is not a date")
    return min(candidates, key=lambda d: abs((d - value).days))


def _balance(f: _Field) -> tuple[Decimal, str, dt.date]:
    m = _BALANCE.match(f.lines[0].strip())
    if not m:
        raise _Bad(
            f.line,
            f.tag,
            f"cannot read balance {f.lines[0]!r} (expected C/D, YYMMDD, currency, amount)",
        )
    try:
        amount = parse_decimal(m["amount"], "amount", comma=True, column_type=MONEY)
        date = _yymmdd(m["date"])
    except ValueError as exc:
        raise _Bad(f.line, f.tag, str(exc)) from None
    return (-amount if m["mark"] == "D" else amount), m["ccy"], date


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    return " ".join(text.split()) or None


def _split_keys(purpose: str) -> tuple[str, dict[str, str]]:
    """Purpose text -> (text before the first key, {key: value})."""
    matches = list(_SEPA_KEY.finditer(purpose))
    if not matches:
        return purpose, {}
    keys: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(purpose)
        key = m.group(1) or "MTLG"
        keys.setdefault(key, purpose[m.end() : end].strip())
    return purpose[: matches[0].start()], keys


def _gvc(text: str, sep: str) -> dict[str, str | None]:
    parts = re.split(re.escape(sep) + r"(\d{2})", text)
    sub: dict[str, str] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        sub[code] = sub.get(code, "") + value
    purpose = "".join(sub.get(str(c), "") for c in (*range(20, 30), *range(60, 64)))
    prefix, keys = _split_keys(purpose)
    remittance = keys.get("SVWZ") or prefix
    return {
        "counterparty": sub.get("32", "") + sub.get("33", ""),
        "eref": keys.get("EREF"),
        "kref": keys.get("KREF"),
        "description": " | ".join(
            p for p in (_clean(sub.get("00")), _clean(remittance), _clean(keys.get("MTLG"))) if p
        ),
    }


def _slash_codes(text: str) -> dict[str, str | None]:
    parts = _SLASH_CODE.split(text)
    codes: dict[str, str] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        codes.setdefault(code, value.strip("/ "))
    name = codes.get("NAME")
    if not name and codes.get("CNTP"):
        pieces = codes["CNTP"].split("/")
        name = pieces[2] if len(pieces) > 2 else None
    remi = re.sub(r"^(USTD/+|STRD/+CUR/+)", "", codes.get("REMI", ""))
    return {
        "counterparty": name,
        "eref": codes.get("EREF"),
        "kref": None,
        "description": remi or text,
    }


def _details(lines: list[str]) -> dict[str, str | None]:
    joined = "".join(lines)
    m = _GVC.match(joined)
    if m and re.search(re.escape(m.group(2)) + r"(00|20)", joined):
        return _gvc(joined[3:], m.group(2))
    if joined.startswith("/") and len(_SLASH_CODE.findall(joined)) >= 2:
        return _slash_codes(joined)
    return {"counterparty": None, "eref": None, "kref": None, "description": " ".join(lines)}


def _transaction(f: _Field, details: _Field | None, stmt_id: str, n: int, account: str, currency: str) -> dict:
    m = _LINE61.match(f.lines[0].strip())
    if not m:
        raise _Bad(f.line, "61", f"cannot read statement line {f.lines[0]!r}")
    try:
        value_date = _yymmdd(m["vdate"])
        booking = _entry_date(m["edate"], value_date) if m["edate"] else value_date
        amount = parse_decimal(m["amount"], "amount", comma=True, column_type=MONEY)
    except ValueError as exc:
        raise _Bad(f.line, "61", str(exc)) from None
    if m["mark"] in ("D", "RC"):
        amount = -amount
    customer_ref, _, bank_ref = m["refs"].partition("//")
    info = _details(details.lines) if details is not None else {}
    reference = None
    for candidate in (info.get("eref"), info.get("kref"), customer_ref, bank_ref):
        candidate = (candidate or "").strip()
        if candidate.upper() not in _NO_REF and not candidate.endswith("+"):
            reference = candidate
            break
    supplementary = " ".join(line.strip() for line in f.lines[1:])
    description = _clean(info.get("description")) or _clean(supplementary)
    return {
        "bank_txn_id": f"{stmt_id}/{n}",
        "statement_id": stmt_id,
        "bank_account": account,
        "booking_date": booking,
        "value_date": value_date,
        "amount": amount,
        "currency": currency,
        "counterparty": _clean(info.get("counterparty")),
        "reference": reference,
        "description": description,
    }


def _statements(fields: list[_Field]) -> list[_Stmt]:
    stmts: list[_Stmt] = []
    for f in fields:
        if f.tag == "20":
            stmts.append(_Stmt(f.line, f.lines[0].strip()))
        elif not stmts:
            raise _Bad(f.line, f.tag, "field before the first :20: (transaction reference)")
        else:
            stmts[-1].fields.append(f)
    return stmts


def read_mt940(path) -> ParsedDocument:
    path = Path(path)
    try:
        return _read(path)
    except _Bad as exc:
        raise UserError(f"{path}: {exc}") from None


def _read(path: Path) -> ParsedDocument:
    stmts = _statements(_fields(_decode(path)))
    if not stmts:
        raise UserError(f"{path}: no MT940 statement found (no :20: field)")
    statements, transactions, stmt_locs, txn_locs, warnings = [], [], [], [], []
    seen: dict[str, int] = {}
    for st in stmts:
        by_tag: dict[str, _Field] = {}
        for f in st.fields:
            by_tag.setdefault(f.tag, f)
        number = by_tag.get("28C") or by_tag.get("28")
        sid = f"{st.ref}/{number.lines[0].strip()}" if number else st.ref
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > 1:
            sid = f"{sid}#{seen[sid]}"
        account_f = by_tag.get("25")
        opening_f = by_tag.get("60F") or by_tag.get("60M") or by_tag.get("60")
        closing_f = by_tag.get("62F") or by_tag.get("62M") or by_tag.get("62")
        for what, f in (("25", account_f), ("60F", opening_f), ("62F", closing_f)):
            if f is None:
                raise _Bad(st.line, "20", f"statement {sid} has no :{what}: field")
        account = account_f.lines[0].strip()
        opening, currency, _ = _balance(opening_f)
        closing, closing_ccy, stmt_date = _balance(closing_f)
        if closing_ccy != currency:
            raise _Bad(
                closing_f.line,
                closing_f.tag,
                f"currency {closing_ccy} differs from the opening balance's {currency}",
            )
        statements.append(
            {
                "statement_id": sid,
                "bank_account": account,
                "statement_date": stmt_date,
                "currency": currency,
                "opening_balance": opening,
                "closing_balance": closing,
            }
        )
        stmt_locs.append(f"line {st.line} (:20:)")
        total, n = Decimal(0), 0
        for i, f in enumerate(st.fields):
            if f.tag != "61":
                continue
            n += 1
            nxt = st.fields[i + 1] if i + 1 < len(st.fields) else None
            row = _transaction(f, nxt if nxt is not None and nxt.tag == "86" else None, sid, n, account, currency)
            total += row["amount"]
            transactions.append(row)
            txn_locs.append(f"line {f.line} (:61:)")
        if opening + total != closing:
            warnings.append(f"statement {sid} (line {st.line}): opening {opening} + lines {total} != closing {closing}")
    return statement_document("mt940", path, statements, transactions, stmt_locs, txn_locs, warnings=warnings)
