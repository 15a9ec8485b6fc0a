"""The matching API (`/api/v1/matches`) and the Reconciliation page, through the real app (TestClient), on a
copy of the tiny demo company with one bank line added: a second payment of an April receipt, booked a day
later, so the receipt has two candidate lines and the engine can only suggest.

The JSON must be the CLI's (`opsfin match bank|invoices|exceptions --format json`, run against the same app
database); decisions go through the engine, show at once, are audited with the user's name and hold for
later runs; controllers decide, others get 403; a site-scoped user sees no bank reconciliation and only the
invoice lines of its sites' purchase orders."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from opsfin.cli import app as cli_app
from opsfin.ingest import ingest_file
from opsfin.web import create_app
from opsfin.web.pages_matching import LIST_LIMIT
from web_support import (
    PASSWORD,
    TestClient,
    add_people,
    app_db_url,
    assert_problem,
    bearer,
    copy_workspace,
    form_login,
    serve_in_thread,
)

PERIOD = "2024-04"  # the tiny company's last month
APRIL = {"from": "2024-04-01", "to": "2024-04-30"}
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"  # kept when OPSFIN_ARTIFACTS


# ---------------------------------------------------------------- the workspace and the app
@pytest.fixture(scope="module")
def ws(tiny_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web_matching")
    w = copy_workspace(tiny_demo, folder / "ws")
    drop_suggested_lines(w)
    w.competing = add_second_payment(w, folder)
    return w


def drop_suggested_lines(w) -> None:
    """Take out the demo's own suggested bank lines (a fee or an FX difference and no reference: only a person
    can confirm them, docs/matching.md), so that the added line's pair is the only suggestion."""
    import duckdb

    from opsfin.runs.matching import run_bank

    matches = run_bank(w, use_app_db=False).matches
    suggested = matches.filter(matches["status"] == "suggested")["bank_txn_id"].unique().to_list()
    if suggested:
        with duckdb.connect(str(w.path / "warehouse.duckdb")) as con:
            con.execute("DELETE FROM bank_transactions WHERE list_contains(?, bank_txn_id)", [suggested])


def add_second_payment(w, folder: Path) -> SimpleNamespace:
    """Pay the first April receipt matched by its exact reference a second time, one day later: two bank
    lines now compete for one receipt (scores 1.000 and 0.999, closer than the 0.02 ambiguity margin)."""
    from opsfin.runs.matching import run_bank

    before = run_bank(w, use_app_db=False).matches
    candidates = before.filter(
        (before["rule"] == "exact_reference")
        & (before["doc_type"] == "ar_receipt")
        & (before["booking_date"] >= dt.date(2024, 4, 1))
        & (before["booking_date"] == before["doc_date"])
    )
    first = candidates.sort("bank_txn_id").row(0, named=True)
    line = w.sql(
        "SELECT * EXCLUDE (_load_id) FROM bank_transactions WHERE bank_txn_id = ?",
        [first["bank_txn_id"]],
    ).row(0, named=True)
    copy = line | {
        "bank_txn_id": "BT-SECOND-PAYMENT",
        "statement_id": None,
        "booking_date": line["booking_date"] + dt.timedelta(days=1),
        "value_date": line["booking_date"] + dt.timedelta(days=1),
    }
    path = folder / "second_payment.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(copy))
        writer.writeheader()
        writer.writerow({k: "" if v is None else v for k, v in copy.items()})
    ingest_file(w, path, table="bank_transactions")
    return SimpleNamespace(
        original=first["bank_txn_id"],
        copy="BT-SECOND-PAYMENT",
        doc_type="ar_receipt",
        doc_id=first["doc_id"],
        amount=line["amount"],
    )


@contextmanager
def web(w, kind: str, folder: Path):
    """The app over `w` with its own app database (SQLite file or PostgreSQL schema) holding PEOPLE."""
    with app_db_url(kind, folder) as url:
        db, tokens = add_people(url)
        app = create_app(w.path, app_db_url=url)
        yield SimpleNamespace(
            app=app,
            client=TestClient(app),
            db=db,
            url=url,
            h={name: bearer(token) for name, token in tokens.items()},
        )
        db.close()


@pytest.fixture(scope="module")
def reader(ws, tmp_path_factory):
    """An app nobody decides anything on."""
    with web(ws, "sqlite", tmp_path_factory.mktemp("reader")) as env:
        yield env


@pytest.fixture
def fresh(ws, tmp_path):
    """An app with an empty decision history (SQLite)."""
    with web(ws, "sqlite", tmp_path) as env:
        yield env


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_any(request, ws, tmp_path):
    """An app with an empty decision history, on each app-database backend."""
    with web(ws, request.param, tmp_path) as env:
        yield env


def cli_json(w, env, *args: str):
    """`opsfin … --format json` on the same workspace and the same app database as `env`. `match bank` runs
    with --preview, as the GET endpoints do: it keeps nothing (`keep_json` records a run)."""
    if args[:2] == ("match", "bank"):
        args = (*args, "--preview")
    result = CliRunner().invoke(
        cli_app, [*args, "--format", "json", "-w", str(w.path)], env={"OPSFIN_APP_DB__URL": env.url}
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def bank(env, who: str = "carl", **params) -> dict:
    response = env.client.get("/api/v1/matches/bank", params=params, headers=env.h[who])
    assert response.status_code == 200, response.text
    return response.json()


def invoices(env, who: str = "carl", **params) -> dict:
    response = env.client.get("/api/v1/matches/invoices", params=params, headers=env.h[who])
    assert response.status_code == 200, response.text
    return response.json()


def competing_ids(env, w) -> tuple[str, str]:
    """The match ids of the two suggestions: (original line ↔ receipt, second payment ↔ receipt)."""
    suggested = bank(env, status="suggested")["matches"]
    ids = {m["bank_txn_id"]: m["match_id"] for m in suggested}
    return ids[w.competing.original], ids[w.competing.copy]


def login(client, name: str) -> str:
    """Log in through the form; returns the CSRF token of the session's pages."""
    done = form_login(client, name)
    assert done.status_code == 303, done.text
    page = client.get(f"/reconciliation?period={PERIOD}")
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)


# ---------------------------------------------------------------- the JSON is the CLI's
def test_the_added_line_makes_two_suggestions(ws, reader):
    body = bank(reader, **APRIL)
    suggested = [m for m in body["matches"] if m["status"] == "suggested"]
    assert sorted((m["bank_txn_id"], m["doc_type"], m["doc_id"]) for m in suggested) == sorted(
        [
            (ws.competing.original, "ar_receipt", ws.competing.doc_id),
            (ws.competing.copy, "ar_receipt", ws.competing.doc_id),
        ]
    )
    assert [m["score"] for m in sorted(suggested, key=lambda m: m["bank_txn_id"] != ws.competing.original)] == [
        1.0,
        0.999,
    ]  # exact reference: 1 − 0.001 × days apart
    assert body["summary"]["suggested"] == 2 and len({m["match_id"] for m in suggested}) == 2


@pytest.mark.parametrize(
    "params,cli_args",
    [
        ({}, []),
        (APRIL, ["--from", APRIL["from"], "--to", APRIL["to"]]),
        (
            {"from": "2024-02-01", "to": "2024-02-29"},
            ["--from", "2024-02-01", "--to", "2024-02-29"],
        ),
    ],
)
def test_bank_json_is_the_cli_json(ws, reader, params, cli_args):
    web_json = bank(reader, **params)
    cli = cli_json(ws, reader, "match", "bank", *cli_args)
    assert set(web_json) == {"summary", "matches", "exceptions"}
    assert web_json["summary"] == cli["summary"] and web_json["matches"] == cli["matches"]
    assert web_json["exceptions"] == cli_json(ws, reader, "match", "exceptions", *cli_args)["bank"]
    s = web_json["summary"]
    assert s["bank_lines"] == s["auto"] + s["suggested"] + s["unmatched"] + s["confirmed"]
    assert len(web_json["exceptions"]) == s["unmatched"]


def test_bank_status_filter_keeps_the_summary(ws, reader):
    everything = bank(reader, **APRIL)
    auto = bank(reader, status="auto", **APRIL)
    assert auto["summary"] == everything["summary"]
    assert auto["matches"] and auto["matches"] == [m for m in everything["matches"] if m["status"] == "auto"]
    assert len({m["bank_txn_id"] for m in auto["matches"]}) == everything["summary"]["auto"]


@pytest.mark.parametrize("params,cli_args", [({}, []), ({"as_of": "2024-03-15"}, ["--as-of", "2024-03-15"])])
def test_invoice_json_is_the_cli_json(ws, reader, params, cli_args):
    web_json = invoices(reader, **params)
    assert web_json == cli_json(ws, reader, "match", "invoices", *cli_args)
    flagged = [line for line in web_json["lines"] if line["status"] != "matched"]
    assert flagged, "the tiny company has injected invoice issues"
    only = invoices(reader, status=flagged[0]["status"], **params)
    assert only["summary"] == web_json["summary"]
    assert only["lines"] == [line for line in web_json["lines"] if line["status"] == flagged[0]["status"]]


def test_bad_input_is_a_4xx_problem(reader):
    h = reader.h["carl"]
    get = reader.client.get
    assert_problem(
        get("/api/v1/matches/bank?from=2024-13-01", headers=h),
        400,
        r"from: '2024-13-01' is not a date",
    )
    assert_problem(get("/api/v1/matches/bank?status=maybe", headers=h), 422, "status")
    assert_problem(get("/api/v1/matches/invoices?as_of=yesterday", headers=h), 400, "as_of 'yesterday'")
    assert_problem(get("/api/v1/matches/invoices?status=paid", headers=h), 422, "status")
    assert_problem(get("/api/v1/matches/invoices?site=XX", headers=h), 400, "unknown site")
    assert_problem(get("/api/v1/matches/bank"), 401, "log in")


# ---------------------------------------------------------------- decisions
def test_confirm_a_suggestion_shows_at_once_is_audited_and_conflicts_are_409(ws, fresh_any):
    env = fresh_any
    keep, other = competing_ids(env, ws)
    confirmed = env.client.post(f"/api/v1/matches/{keep}/confirm", headers=env.h["carl"])
    assert confirmed.status_code == 200, confirmed.text
    record = confirmed.json()
    assert (record["match_id"], record["decision"], record["actor"], record["kind"]) == (
        keep,
        "confirmed",
        "carl",
        "bank",
    )
    assert record["payload"]["pairs"] == [[ws.competing.original, "ar_receipt", ws.competing.doc_id]]

    after = bank(env)
    assert [(m["bank_txn_id"], m["status"]) for m in after["matches"] if m["match_id"] == keep] == [
        (ws.competing.original, "confirmed")
    ]
    assert other not in {m["match_id"] for m in after["matches"]}
    assert (after["summary"]["confirmed"], after["summary"]["suggested"]) == (1, 0)
    reason = next(e["reason"] for e in after["exceptions"] if e["bank_txn_id"] == ws.competing.copy)
    assert ws.competing.doc_id in reason and ws.competing.original in reason  # taken by the confirmed line
    cli = cli_json(ws, env, "match", "bank")
    assert (after["summary"], after["matches"]) == (
        cli["summary"],
        cli["matches"],
    )  # the CLI agrees

    entry = env.client.get("/api/v1/audit?object_type=match", headers=env.h["ada"]).json()[0]
    assert (entry["actor"], entry["action"], entry["object_id"]) == (
        "carl",
        "match.confirmed",
        f"bank:{keep}",
    )

    # the other suggestion, confirmed from a page loaded before: its receipt is taken
    stale = assert_problem(
        env.client.post(f"/api/v1/matches/{other}/confirm", headers=env.h["ada"]),
        409,
        f"ar_receipt {ws.competing.doc_id} is already in confirmed match {keep}",
    )
    assert stale["conflicting_match_id"] == keep
    assert_problem(
        env.client.post(f"/api/v1/matches/{keep}/confirm", headers=env.h["carl"]),
        409,
        "already confirmed",
    )

    # rejecting the confirmed match undoes it for good; the second payment is then the receipt's only line
    assert env.client.post(f"/api/v1/matches/{keep}/reject", headers=env.h["carl"]).status_code == 200
    undone = bank(env)
    assert keep not in {m["match_id"] for m in undone["matches"]}
    assert [(m["bank_txn_id"], m["status"]) for m in undone["matches"] if m["match_id"] == other] == [
        (ws.competing.copy, "auto")
    ]
    assert_problem(
        env.client.post(f"/api/v1/matches/{keep}/confirm", headers=env.h["carl"]),
        409,
        "was rejected by carl",
    )
    actions = [
        (e["actor"], e["action"], e["object_id"])
        for e in env.client.get("/api/v1/audit?object_type=match", headers=env.h["ada"]).json()
    ]
    assert actions == [
        ("carl", "match.rejected", f"bank:{keep}"),
        ("carl", "match.confirmed", f"bank:{keep}"),
    ]
    assert env.db.verify_audit() == []


def test_a_rejected_auto_match_is_never_proposed_again(ws, fresh, tmp_path):
    march = bank(fresh, status="auto", **{"from": "2024-03-01", "to": "2024-03-31"})["matches"]
    target = next(m for m in march if m["rule"] == "exact_reference")
    response = fresh.client.post(f"/api/v1/matches/{target['match_id']}/reject", headers=fresh.h["carl"])
    assert response.status_code == 200 and response.json()["actor"] == "carl"
    after = bank(fresh)
    assert target["match_id"] not in {m["match_id"] for m in after["matches"]}
    reason = next(e["reason"] for e in after["exceptions"] if e["bank_txn_id"] == target["bank_txn_id"])
    assert reason == "every match proposed for it was rejected"
    # a new app (empty cache) on the same decisions, and the CLI: still never proposed
    again = TestClient(create_app(ws.path, app_db_url=fresh.url))
    listed = again.get("/api/v1/matches/bank", headers=fresh.h["carl"]).json()["matches"]
    assert target["match_id"] not in {m["match_id"] for m in listed}
    assert target["match_id"] not in {m["match_id"] for m in cli_json(ws, fresh, "match", "bank")["matches"]}


def test_invoice_lines_are_confirmed_and_disputed(ws, fresh):
    queue = [line for line in invoices(fresh)["lines"] if line["status"] != "matched"]
    accepted, disputed = queue[0]["details"]["match_id"], queue[1]["details"]["match_id"]
    assert fresh.client.post(f"/api/v1/matches/{accepted}/confirm", headers=fresh.h["carl"]).status_code == 200
    assert fresh.client.post(f"/api/v1/matches/{disputed}/reject", headers=fresh.h["carl"]).status_code == 200
    decisions = {line["details"]["match_id"]: line["details"]["decision"] for line in invoices(fresh)["lines"]}
    assert (decisions[accepted], decisions[disputed]) == ("confirmed", "rejected")
    assert_problem(
        fresh.client.post(f"/api/v1/matches/{disputed}/reject", headers=fresh.h["carl"]),
        409,
        "already rejected",
    )
    exceptions = cli_json(ws, fresh, "match", "exceptions")["invoices"]
    assert accepted not in {line["details"]["match_id"] for line in exceptions}  # accepted: out of the queue
    assert disputed in {line["details"]["match_id"] for line in exceptions}  # disputed: stays


@pytest.mark.parametrize("who", ["ann", "val", "wes"])
def test_only_controllers_decide(ws, reader, who):
    keep, _ = competing_ids(reader, ws)
    line = invoices(reader)["lines"][0]["details"]["match_id"]
    for match_id in (keep, line):
        assert_problem(
            reader.client.post(f"/api/v1/matches/{match_id}/confirm", headers=reader.h[who]),
            403,
            "may not decide matches",
        )
    assert_problem(reader.client.post(f"/api/v1/matches/{keep}/reject"), 401, "log in")
    assert bank(reader)["summary"]["confirmed"] == 0


@pytest.mark.parametrize("match_id", ["B0123456789abcdef", "I0123456789abcdef", "not-a-match"])
def test_unknown_match_is_404(reader, match_id):
    assert_problem(
        reader.client.post(f"/api/v1/matches/{match_id}/confirm", headers=reader.h["carl"]),
        404,
        re.escape(match_id),
    )


# ---------------------------------------------------------------- site scope
def po_site_of(w) -> dict[tuple[str, int], str]:
    return {
        (po, line): site for po, line, site in w.sql("SELECT po_id, line, site_id FROM purchase_orders").iter_rows()
    }


def test_scoped_users_get_no_bank_reconciliation(ws, reader):
    keep, _ = competing_ids(reader, ws)
    for who in ("pia", "wes"):
        assert_problem(
            reader.client.get("/api/v1/matches/bank", headers=reader.h[who]),
            403,
            "hidden from site-scoped users",
        )
    assert_problem(
        reader.client.post(f"/api/v1/matches/{keep}/confirm", headers=reader.h["pia"]),
        403,
        "hidden from site-scoped users",
    )


def test_scoped_users_see_and_decide_only_their_sites_invoice_lines(ws, fresh):
    sites = po_site_of(ws)
    every = invoices(fresh)["lines"]
    site_of = {
        line["details"]["match_id"]: sites[(line["details"]["po_id"], line["details"]["po_line"])] for line in every
    }
    p1 = [line for line in every if site_of[line["details"]["match_id"]] == "P1"]
    assert 0 < len(p1) < len(every)

    mine = invoices(fresh, "pia")
    assert mine["lines"] == p1
    flagged = [line for line in p1 if line["status"] != "matched"]
    assert mine["summary"]["lines"] == len(p1)
    assert mine["summary"]["matched"] == len(p1) - len(flagged)
    stake: dict[str, Decimal] = {}
    for line in flagged:
        d = line["details"]
        stake[d["currency"]] = stake.get(d["currency"], Decimal(0)) + Decimal(d["money_at_stake"])
    assert {c: Decimal(v) for c, v in mine["summary"]["money_at_stake"].items()} == stake
    assert invoices(fresh, "carl", site="P1")["lines"] == p1
    assert_problem(fresh.client.get("/api/v1/matches/invoices?site=P2", headers=fresh.h["pia"]), 403, "P2")
    assert invoices(fresh, "wes")["lines"] == [] and invoices(fresh, "wes")["summary"]["lines"] == 0

    own = p1[0]["details"]["match_id"]
    other = next(m for m, s in site_of.items() if s == "P2")
    assert fresh.client.post(f"/api/v1/matches/{own}/reject", headers=fresh.h["pia"]).json()["actor"] == "pia"
    assert_problem(
        fresh.client.post(f"/api/v1/matches/{other}/reject", headers=fresh.h["pia"]),
        403,
        "outside your site scope",
    )


# ---------------------------------------------------------------- the page
def test_page_shows_the_engine_numbers_and_links_them_to_rows(ws, reader):
    client = reader.client
    login(client, "val")
    page = client.get(f"/reconciliation?period={PERIOD}")
    assert page.status_code == 200
    s = bank(reader, **APRIL)["summary"]
    for tile, key in (
        ("bank-lines", "bank_lines"),
        ("auto", "auto"),
        ("suggested", "suggested"),
        ("unmatched", "unmatched"),
        ("confirmed", "confirmed"),
    ):
        assert re.search(rf'id="tile-{tile}"[^>]*>.*?<div class="tile-value">{s[key]}</div>', page.text), tile
    keep, other = competing_ids(reader, ws)
    assert keep in page.text and other in page.text
    assert "/confirm" not in page.text  # a viewer gets no forms

    auto_link = re.search(r'id="tile-auto" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    listed = client.get(auto_link)
    rows = re.findall(r'<tr data-match="(B[0-9a-f]{16})">', listed.text)
    auto = bank(reader, status="auto", **APRIL)["matches"]
    every = list(dict.fromkeys(m["match_id"] for m in auto))
    assert rows == every[:LIST_LIMIT]  # the page lists the first 200 groups; the API has them all
    assert f"covering {s['auto']} bank lines" in listed.text

    rule, count = next(iter(s["by_rule"].items()))
    by_rule = client.get(f"/reconciliation?period={PERIOD}&rule={rule}")
    assert f"covering {count} bank lines" in by_rule.text

    everything = client.get(f"/reconciliation?period={PERIOD}&all=true")
    queue = cli_json(ws, reader, "match", "exceptions")["invoices"]
    assert re.findall(r'<tr data-match="(I[0-9a-f]{16})">', everything.text) == [
        q["details"]["match_id"] for q in queue
    ]
    duplicate = client.get(f"/reconciliation?period={PERIOD}&all=true&invoice_status=duplicate")
    expected = [line["details"]["match_id"] for line in invoices(reader, status="duplicate")["lines"]]
    assert expected and re.findall(r'<tr data-match="(I[0-9a-f]{16})">', duplicate.text) == expected
    assert client.get("/reconciliation?status=maybe").status_code == 400
    client.cookies.clear()


def test_page_of_a_scoped_user(ws, reader):
    client = reader.client
    login(client, "pia")
    page = client.get(f"/reconciliation?period={PERIOD}&all=true")
    assert page.status_code == 200
    assert "hidden from site-scoped users" in page.text and 'id="bank-tiles"' not in page.text
    shown = re.findall(r'<tr data-match="(I[0-9a-f]{16})">', page.text)
    sites = po_site_of(ws)
    p1 = {
        line["details"]["match_id"]
        for line in invoices(reader)["lines"]
        if sites[(line["details"]["po_id"], line["details"]["po_line"])] == "P1"
    }
    assert shown and set(shown) <= p1
    assert 'action="/reconciliation/matches/' in page.text  # a controller of P1 decides P1's lines
    client.cookies.clear()


def test_confirm_form_needs_the_csrf_token_and_shows_the_decision(ws, fresh):
    client = fresh.client
    csrf = login(client, "carl")
    keep, _ = competing_ids(fresh, ws)
    next_url = f"/reconciliation?period={PERIOD}"
    form = {"next": next_url}
    forged = client.post(
        f"/reconciliation/matches/{keep}/confirm",
        data=form | {"csrf_token": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert_problem(client.post(f"/api/v1/matches/{keep}/confirm"), 403, "CSRF")  # session, no header
    assert bank(fresh)["summary"]["confirmed"] == 0

    done = client.post(
        f"/reconciliation/matches/{keep}/confirm",
        data=form | {"csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"{next_url}&decided={keep}"
    page = client.get(done.headers["location"])
    assert re.search(rf"Bank match <code>{keep}</code> confirmed by carl", page.text)
    assert re.search(r'id="tile-confirmed"[^>]*>.*?<div class="tile-value">1</div>', page.text)
    assert "No suggested matches" in page.text
    stale = client.post(
        f"/reconciliation/matches/{competing_ids_after(fresh, ws)}/confirm",
        data=form | {"csrf_token": csrf},
        follow_redirects=False,
    )
    assert stale.status_code == 409 and "already in confirmed match" in stale.text
    client.cookies.clear()


def competing_ids_after(env, w) -> str:
    """The second payment's match id, from the run without decisions (it is no longer proposed)."""
    from opsfin.runs.matching import run_bank

    m = run_bank(w, use_app_db=False).matches
    return m.filter(m["bank_txn_id"] == w.competing.copy)["match_id"][0]


def test_a_broken_matching_config_is_an_error_state_not_a_500(tiny_demo, tmp_path):
    w = copy_workspace(tiny_demo, tmp_path / "ws")
    (w.model_dir / "matching.yaml").write_text("bank:\n  auto_treshold: 0.9\n", encoding="utf-8")
    with web(w, "sqlite", tmp_path) as env:
        body = assert_problem(
            env.client.get("/api/v1/matches/bank", headers=env.h["carl"]),
            400,
            "^model/matching.yaml: field 'bank': unknown key 'auto_treshold'",
        )
        assert str(tmp_path) not in body["detail"]  # the server's own paths stay out of responses
        login(env.client, "carl")
        page = env.client.get(f"/reconciliation?period={PERIOD}")
        assert page.status_code == 200
        assert page.text.count('class="error-state"') == 2 and "auto_treshold" in page.text


# ---------------------------------------------------------------- the cache
def test_runs_are_cached_until_a_decision(ws, fresh):
    cache = fresh.app.state.opsfin.results.cache
    first = bank(fresh, **APRIL)
    misses = cache.misses
    assert bank(fresh, **APRIL) == first and cache.misses == misses, "the second request recomputed the run"
    keep, _ = competing_ids(fresh, ws)  # another query (status=suggested) of the same cached run
    assert cache.misses == misses + 1  # the whole-history run, first asked for here
    assert fresh.client.post(f"/api/v1/matches/{keep}/confirm", headers=fresh.h["carl"]).status_code == 200
    after = bank(fresh, **APRIL)
    assert after["summary"]["confirmed"] == 1 and cache.misses > misses + 1


# ---------------------------------------------------------------- runs: keeping the auto matches
def auto_ids(body: dict) -> set[str]:
    return {m["match_id"] for m in body["matches"] if m["status"] == "auto"}


def test_gets_write_nothing_and_a_controller_keeps_a_run(ws, fresh):
    entries = len(fresh.db.audit_entries())
    preview = bank(fresh, **APRIL)
    login(fresh.client, "carl")
    assert fresh.client.get(f"/reconciliation?period={PERIOD}").status_code == 200
    assert {m["run_id"] for m in preview["matches"]} == {None}
    assert fresh.db.match_runs() == [] and len(fresh.db.audit_entries()) == entries  # GET is safe

    assert_problem(fresh.client.post("/api/v1/matches/bank/runs", params=APRIL), 403, "CSRF")  # session, no token
    fresh.client.cookies.clear()
    assert_problem(
        fresh.client.post("/api/v1/matches/bank/runs", headers=fresh.h["val"]),
        403,
        "may not decide matches",
    )
    assert_problem(
        fresh.client.post("/api/v1/matches/bank/runs", headers=fresh.h["pia"]),
        403,
        "hidden from site-scoped users",
    )
    assert_problem(
        fresh.client.post("/api/v1/matches/bank/runs?from=2024-13-01", headers=fresh.h["carl"]),
        400,
        "from: '2024-13-01' is not a date",
    )
    assert fresh.db.match_runs() == []

    done = fresh.client.post("/api/v1/matches/bank/runs", params=APRIL, headers=fresh.h["carl"])
    assert done.status_code == 200, done.text
    run = done.json()["run"]
    assert (run["run_id"], run["actor"], run["kept"]) == (1, "carl", len(auto_ids(preview)))
    assert (run["date_from"], run["date_to"]) == (APRIL["from"], APRIL["to"])
    after = bank(fresh, **APRIL)  # the cache key holds the latest run
    assert after["summary"] == preview["summary"]
    assert {m["run_id"] for m in after["matches"] if m["status"] == "auto"} == {1}
    assert {m["run_id"] for m in after["matches"] if m["status"] == "suggested"} == {None}  # the competing pair
    again = fresh.client.post("/api/v1/matches/bank/runs", params=APRIL, headers=fresh.h["carl"])
    assert again.status_code == 200 and again.json()["run"] is None
    entries_now = fresh.client.get("/api/v1/audit?object_type=match", headers=fresh.h["ada"]).json()
    assert [(e["actor"], e["action"], e["object_id"]) for e in entries_now] == [("carl", "match.run", "run:1")]
    assert entries_now[0]["payload"]["counts"]["kept"] == run["kept"]


def test_a_kept_run_holds_when_a_second_payment_arrives(tiny_demo, tmp_path):
    """The module's scenario the other way round: the auto matches are kept first, then the second payment
    arrives. The original line keeps its receipt (auto, run 1) and the second payment is an exception
    naming the line and the run, instead of two suggestions."""
    w = copy_workspace(tiny_demo, tmp_path / "ws")
    drop_suggested_lines(w)
    with web(w, "sqlite", tmp_path) as env:
        done = env.client.post("/api/v1/matches/bank/runs", headers=env.h["carl"])
        assert done.status_code == 200 and done.json()["run"]["run_id"] == 1
        second = add_second_payment(w, tmp_path)
        body = bank(env, **APRIL)
        assert [
            (m["bank_txn_id"], m["status"], m["run_id"]) for m in body["matches"] if m["doc_id"] == second.doc_id
        ] == [(second.original, "auto", 1)]
        reason = next(e["reason"] for e in body["exceptions"] if e["bank_txn_id"] == second.copy)
        assert reason.endswith(f"already matched to bank line {second.original} by run 1")
        assert body["summary"]["suggested"] == 0
        # the second payment's match, as a run without the kept one would suggest it: refused, naming the run
        from opsfin.runs.matching import run_bank

        undecided = run_bank(w, use_app_db=False).matches
        stale = undecided.filter(undecided["bank_txn_id"] == second.copy)["match_id"][0]
        refused = assert_problem(
            env.client.post(f"/api/v1/matches/{stale}/confirm", headers=env.h["carl"]),
            409,
            rf"ar_receipt {second.doc_id} is already in auto match B[0-9a-f]{{16}} kept by run 1",
        )
        assert refused["conflicting_match_id"] == next(
            m["match_id"] for m in body["matches"] if m["bank_txn_id"] == second.original
        )


def test_the_keep_button_records_a_run_and_needs_the_csrf_token(ws, fresh):
    client = fresh.client
    login(client, "val")
    assert 'id="keep-run"' not in client.get(f"/reconciliation?period={PERIOD}").text  # a viewer: no button
    csrf = login(client, "carl")
    next_url = f"/reconciliation?period={PERIOD}"
    page = client.get(next_url)
    new = len(auto_ids(bank(fresh, **APRIL)))
    assert f"Keep these auto matches ({new})" in page.text and "0 auto matches kept by earlier runs" in page.text
    form = {"next": next_url, "from": APRIL["from"], "to": APRIL["to"]}
    forged = client.post("/reconciliation/runs", data=form | {"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403 and fresh.db.match_runs() == []
    done = client.post("/reconciliation/runs", data=form | {"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{next_url}&kept=1"
    page = client.get(done.headers["location"])
    assert re.search(
        rf"Run 1 kept {new} auto matches \({new} bank lines, booked through 2024-04-\d\d\) for carl",
        page.text,
    )
    assert 'id="keep-run"' not in page.text and f"{new} auto matches kept by earlier runs" in page.text
    assert [r["kept"] for r in fresh.db.match_runs()] == [new]
    client.cookies.clear()


# ---------------------------------------------------------------- in a real browser
@pytest.fixture(scope="module")
def server(ws, tmp_path_factory):
    """uvicorn serving the workspace on a free port, in a thread of this process, with its own decisions."""
    folder = tmp_path_factory.mktemp("web_matching_browser")
    url = f"sqlite:///{folder}/app.db"
    db, _ = add_people(url)
    with serve_in_thread(create_app(ws.path, app_db_url=url)) as base:
        yield {"base": base, "db": db}
    db.close()


def test_a_controller_confirms_a_suggestion_in_the_browser(ws, server, tmp_path):
    from services import headless_chromium

    base = server["base"]
    with headless_chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(15_000)
        page.goto(f"{base}/reconciliation?period={PERIOD}")
        page.fill("input[name=name]", "carl")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/reconciliation?period={PERIOD}")
        assert page.locator("#tile-suggested .tile-value").inner_text() == "2"
        candidate = page.locator(f"#suggested-table tr[data-line='{ws.competing.original}'] li.candidate")
        match_id = candidate.get_attribute("data-match")
        candidate.locator("button.confirm").click()
        page.wait_for_selector("#decided")
        assert f"match {match_id} confirmed by carl" in " ".join(page.locator("#decided").inner_text().split())
        assert page.locator("#tile-confirmed .tile-value").inner_text() == "1"
        assert page.locator("#tile-suggested .tile-value").inner_text() == "0"
        folders = [tmp_path] + ([ARTIFACTS] if os.environ.get("OPSFIN_ARTIFACTS") else [])
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / "reconciliation-confirmed.png"), full_page=True)
    decided = server["db"].match_decisions("bank")
    assert [(d["match_id"], d["decision"], d["actor"]) for d in decided] == [(match_id, "confirmed", "carl")]
