"""MT940 reader against the mt-940 library's expected parse of the betterplace SEPA sample.

The golden file is a YAML dump of that library's Python objects. It holds every transaction
(97) but only the *last* statement's balances (the library keeps one dict for all statements),
so the 26 statements' balances are also checked against values read from the `.sta` file and
by the rule closing = opening + Σ lines.

Known quirks of the golden parse, and how the comparison handles them:
- status "RC" (reversal of credit) is stored as +204.88; SWIFT defines RC as a debit, and only
  -204.88 makes those statements balance, so the sign is flipped for RC/RD before comparing;
- the library splits the :61: references after a fixed 16 characters ("MCCT07090401//4F" +
  extra "112D73FF96F4FB") and, when :86: is SEPA-structured, overwrites `customer_reference` with
  the KREF+ value (None when there is none); references are rebuilt from its pieces, and the
  seven transactions where it lost the :61: reference are listed in LOST_REFERENCES;
- it keeps the bank's "MTLG:" message inside EREF/KREF values; we stop at "MTLG:";
- it strips the space at the end of a 65-character :86: line ("?21TFNr 05 " + "006" gives
  "TFNr 05006"); we keep it, as the line is wrapped at 65 characters of content. Names and
  references are therefore compared ignoring whitespace.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from opsfin import canonical
from opsfin.errors import UserError
from opsfin.readers import detect_format, read_document
from opsfin.readers.mt940 import read_mt940
from services import SHARED_DATA, shared_file

DATA = SHARED_DATA
STA = DATA / "bank" / "mt940-betterplace-sepa.sta"
GOLDEN = DATA / "bank" / "mt940-betterplace-sepa.expected.yml"


class _PythonTagLoader(yaml.SafeLoader):
    """SafeLoader that turns `!!python/...` tags into plain data (never runs code)."""


def _python_tag(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        obj = {"__tag__": suffix}
        yield obj  # allows the recursive references in the dump
        obj.update(loader.construct_mapping(node, deep=True))
    elif isinstance(node, yaml.SequenceNode):
        args = loader.construct_sequence(node, deep=True)
        if suffix == "object/apply:decimal.Decimal":
            yield decimal.Decimal(args[0])
        elif suffix == "object/apply:mt940.models.Date":  # pickled datetime.date: 4 bytes
            raw = args[0]
            yield dt.date(raw[0] * 256 + raw[1], raw[2], raw[3])
        else:
            yield {"__tag__": suffix, "args": args}
    else:
        yield {"__tag__": suffix, "value": loader.construct_scalar(node)}


_PythonTagLoader.add_multi_constructor("tag:yaml.org,2002:python/", _python_tag)


@pytest.fixture(scope="module")
def data_dir() -> Path:
    shared_file("bank/mt940-betterplace-sepa.sta")
    return DATA


@pytest.fixture(scope="module")
def golden(data_dir):
    with open(GOLDEN, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_PythonTagLoader)  # noqa: S506 - a SafeLoader subclass


@pytest.fixture(scope="module")
def doc(data_dir):
    return read_document(STA)


# (statement_id, opening, closing) as read from each :20:/:28C:, :60F:/:60M: and :62F:/:62M:.
STATEMENTS = [
    ("T089413946000001/00004/00001", "-1234718.36", "-1237628.23"),
    ("T089413956000001/00004/00001", "-970499.90", "-1455749.85"),
    ("T089413966000001/00004/00001", "-1709296.34", "-2237334.85"),
    ("T089413976000001/00004/00001", "3192675.04", "4242675.04"),
    ("T089413986000001/00004/00001", "-2368827.87", "-3095522.14"),
    ("T089413996000001/00004/00001", "152970.15", "203960.20"),
    ("T089414006000001/00004/00001", "-40432.20", "-30503.83"),
    ("T089414006000002/00004/00002", "-30503.83", "-100854.45"),
    ("T089414016000001/00004/00001", "-1552497.38", "-1358945.52"),
    ("T089414016000002/00004/00002", "-1358945.52", "-2303471.11"),
    ("T089414026000001/00004/00001", "-3829477.87", "-2931994.84"),
    ("T089414026000002/00004/00002", "-2931994.84", "-5019697.96"),
    ("T089414036000001/00004/00001", "-5777585.57", "-6018113.38"),
    ("T089414036000002/00004/00002", "-6018113.38", "-8844425.38"),
    ("T089414046000001/00003/00001", "13990.05", "27980.10"),
    ("T089414056000001/00004/00001", "-3612519.02", "-3632585.04"),
    ("T089414056000002/00004/00002", "-3632585.04", "-3814901.47"),
    ("T089414056000003/00004/00003", "-3814901.47", "-5113593.52"),
    ("T089414066000001/00004/00001", "152970.15", "203960.20"),
    ("T089414076000001/00004/00001", "145964.58", "238954.77"),
    ("T089414086000001/00004/00001", "766656.49", "1125250.40"),
    ("T089414096000001/00004/00001", "-1970431.87", "-4472049.09"),
    ("T089414106000001/00004/00001", "-324910.25", "-397310.25"),
    ("T089414116000001/00004/00001", "-450.00", "-600.00"),
    ("T089414126000001/00004/00001", "-450.00", "-600.00"),
    ("T089414136000001/00001/00001", "0.00", "50.05"),
]

# Golden transactions (0-based) whose :61: reference the library overwrote with a missing KREF+;
# value = our reference, read from the :61: line (customer reference, else bank reference).
LOST_REFERENCES = {
    10: "0724710290635078",  # :61:0709040904CR125,88NTRFNONREF//0724710290635078
    11: "0724710290626371",  # :61:0709040904CR125004,88NTRFNONREF//0724710290626371
    14: "0724710290628244",  # :61:0709040904CR250000,NTRFNONREF//0724710290628244
    15: "0724710290631813",  # :61:0709040904CR300000,NTRFNONREF//0724710290631813
    16: "0724710290630146",  # :61:0709040904CR500000,NTRFNONREF//0724710290630146
    25: "TFNr 01011 MSGID",  # :61:0709040904DR5002,17NTRFTFNr 01011 MSGID//0724710353006393
    88: "0724710290624796",  # :61:0709040904CR125004,88NTRFNONREF//0724710290624796
}


def _golden_reference(i: int, g: dict) -> str | None:
    if i in LOST_REFERENCES:
        return LOST_REFERENCES[i]
    e2e = g.get("end_to_end_reference")
    if e2e and e2e != "NONREF":
        return e2e.split("MTLG:")[0].strip()
    cr = g.get("customer_reference")
    if cr and "\n" in cr:  # ":61: refs" + "\n" + the KREF+ value of :86:
        return cr.split("\n", 1)[1].split("MTLG:")[0].strip()
    raw = (cr or "") + ("//" + g["bank_reference"] if g.get("bank_reference") else "")
    raw += g.get("extra_details") or ""
    customer, _, bank = raw.partition("//")
    for candidate in (customer, bank):
        if candidate and candidate != "NONREF" and not candidate.endswith("+"):
            return candidate
    return None


def _squash(s: str | None) -> str | None:
    return None if s is None else "".join(s.split())


def test_detect_format(data_dir):
    assert detect_format(STA) == "mt940"


def test_schema_and_counts(doc):
    assert doc.format == "mt940"
    for name in ("bank_statements", "bank_transactions"):
        assert doc.tables[name].schema == canonical.table(name).arrow_schema(False)
        assert len(doc.locations[name]) == doc.tables[name].num_rows
    assert doc.tables["bank_statements"].num_rows == 26
    assert doc.tables["bank_transactions"].num_rows == 97
    assert doc.meta["warnings"] == []


def test_every_transaction_matches_golden(doc, golden):
    expected = [t["data"] for t in golden["transactions"]]
    rows = doc.tables["bank_transactions"].to_pylist()
    assert len(rows) == len(expected) == 97
    for i, (row, g) in enumerate(zip(rows, expected, strict=True)):
        amount = g["amount"]["amount"]
        if g["status"] in ("RC", "RD"):  # the library leaves reversals unsigned
            amount = -amount if g["status"] == "RC" else abs(amount)
        assert row["amount"] == amount, i
        assert row["currency"] == g["currency"] == "EUR", i
        assert row["value_date"] == g["date"], i
        assert row["booking_date"] == g["entry_date"], i
        assert _squash(row["counterparty"]) == _squash(g.get("applicant_name")), i
        assert _squash(row["reference"]) == _squash(_golden_reference(i, g)), i


def test_reversal_signs(doc):
    rows = doc.tables["bank_transactions"].to_pylist()
    # :61:0709040904RCR204,88... is a reversal of a credit: money out
    assert rows[5]["amount"] == Decimal("-204.88")
    assert rows[18]["amount"] == Decimal("-204.88")


def test_statements_balances(doc, golden):
    stmts = doc.tables["bank_statements"].to_pylist()
    assert [(s["statement_id"], str(s["opening_balance"]), str(s["closing_balance"])) for s in stmts] == STATEMENTS
    assert all(s["currency"] == "EUR" and s["statement_date"] == dt.date(2007, 9, 4) for s in stmts)
    # the golden keeps the last statement's fields (and the last :60M:/:62M: seen)
    last, data = stmts[-1], golden["data"]
    assert last["bank_account"] == data["account_identification"] == "50880050/0194804000888"
    assert last["statement_id"] == "/".join(
        (data["transaction_reference"], data["statement_number"], data["sequence_number"])
    )
    assert last["opening_balance"] == data["final_opening_balance"]["amount"]["amount"]
    assert last["closing_balance"] == data["final_closing_balance"]["amount"]["amount"]
    assert last["statement_date"] == data["final_closing_balance"]["date"]
    by_id = {s["statement_id"]: s for s in stmts}
    assert (
        by_id["T089414056000002/00004/00002"]["closing_balance"]
        == data["intermediate_closing_balance"]["amount"]["amount"]
    )
    assert (
        by_id["T089414056000003/00004/00003"]["opening_balance"]
        == data["intermediate_opening_balance"]["amount"]["amount"]
    )


def test_each_statement_closing_is_opening_plus_lines(doc):
    txns = doc.tables["bank_transactions"].to_pylist()
    for s in doc.tables["bank_statements"].to_pylist():
        lines = [t["amount"] for t in txns if t["statement_id"] == s["statement_id"]]
        assert lines, s["statement_id"]
        assert s["closing_balance"] == s["opening_balance"] + sum(lines), s["statement_id"]


def test_ids_locations_and_details(doc):
    txns = doc.tables["bank_transactions"].to_pylist()
    ids = [t["bank_txn_id"] for t in txns]
    assert len(set(ids)) == 97
    assert ids[0] == "T089413946000001/00004/00001/1"
    assert doc.locations["bank_transactions"][0] == "line 5 (:61:)"
    assert doc.locations["bank_statements"][0] == "line 1 (:20:)"
    assert txns[0]["bank_account"] == "50880050/0194774600888"
    # ?00 posting text | SVWZ+ (or purpose) | MTLG: message
    assert txns[7]["description"].startswith("GUTSCHRIFT | TO 13 TFNr 20004 Eingangskanal Mint")
    assert txns[0]["description"] == ("RETOURE | Grund nicht spezifiziert Reject aus SEPA-Ueberweisungsauftrag")
    # ?32 + ?33 are one name split in two subfields
    assert txns[14]["counterparty"] == "Daniel Severidt 70 ZeichenBeginn Fuellzeichen xxxxxxx"


# ---------------------------------------------------------------- synthetic files


def _write(tmp_path: Path, text: str, name: str = "s.sta", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("latin-1"))
    return path


def test_year_rollover_reversal_and_other_details(tmp_path):
    text = """{1:F01BANKDEFFAXXX0000000000}{2:O9401200080101BANKDEFFAXXX00000000000801011200N}{4:
:20:STMT
:25:DE89370400440532013000
:28C:1/1
:60F:C071231EUR1000,00
:61:0712310102D100,50NMSCREF-A//B1
Supplementary line
:86:Rent January
 flat 3
:61:0801021231C20,NTRFNONREF//B2
:86:/TRTP/SEPA OVERBOEKING/IBAN/NL91ABNA0417164300/BIC/ABNANL2A/NAME/J. DOE/REMI/USTD//Invoice 42/EREF/E2E-7
:61:080102RD5,NCHGNONREF
:62F:C080102EUR924,50
-}"""
    path = _write(tmp_path, text, newline="\r\n")
    assert detect_format(path) == "mt940"
    doc = read_mt940(path)
    a, b, c = doc.tables["bank_transactions"].to_pylist()
    assert a["value_date"] == dt.date(2007, 12, 31) and a["booking_date"] == dt.date(2008, 1, 2)
    assert a["amount"] == Decimal("-100.50") and a["reference"] == "REF-A"
    assert a["description"] == "Rent January flat 3"  # free-text :86:, whitespace collapsed
    assert b["value_date"] == dt.date(2008, 1, 2) and b["booking_date"] == dt.date(2007, 12, 31)
    assert (b["amount"], b["counterparty"], b["reference"], b["description"]) == (
        Decimal("20.00"),
        "J. DOE",
        "E2E-7",
        "Invoice 42",
    )
    assert c["amount"] == Decimal("5.00") and c["reference"] is None  # RD: reversal of a debit
    (stmt,) = doc.tables["bank_statements"].to_pylist()
    assert stmt["statement_id"] == "STMT/1/1" and stmt["statement_date"] == dt.date(2008, 1, 2)
    assert doc.meta["warnings"] == []


def test_unbalanced_statement_is_reported(tmp_path):
    text = ":20:X\n:25:ACC\n:28C:1\n:60F:C240101EUR10,\n:61:240101C1,NTRFNONREF\n:62F:C240101EUR12,\n-\n"
    doc = read_document(_write(tmp_path, text))
    assert "opening 10.00 + lines 1.00 != closing 12.00" in doc.meta["warnings"][0]


@pytest.mark.parametrize(
    "text, message",
    [
        (
            ":20:X\n:25:ACC\n:28C:1\n:60F:C240101EUR10,\n:61:2401XXC1,NTRF\n:62F:C240101EUR11,\n",
            r"line 5 \(:61:\): cannot read statement line",
        ),
        (
            ":20:X\n:25:ACC\n:60F:C241301EUR10,\n:62F:C240101EUR10,\n",
            r"line 3 \(:60F:\): month must be",
        ),
        (
            ":20:X\n:25:ACC\n:60F:C240101EUR10,\n",
            r"line 1 \(:20:\): statement X has no :62F: field",
        ),
        (":25:ACC\n:20:X\n", r"line 1 \(:25:\): field before the first :20:"),
        ("hello\nworld\n", r"no MT940 statement found"),
    ],
)
def test_malformed_file_gives_user_error_with_line(tmp_path, text, message):
    path = _write(tmp_path, text, name="bad.sta")
    with pytest.raises(UserError, match=message) as err:
        read_document(path, fmt="mt940")
    assert str(path) in str(err.value)


def test_garbage_is_not_detected(tmp_path):
    path = _write(tmp_path, "garbage \x01\x02 text\n", name="garbage.sta")
    assert detect_format(path) is None
    with pytest.raises(UserError, match="unrecognised document format") as err:
        read_document(path)
    assert str(path) in str(err.value)
