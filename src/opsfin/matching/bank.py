"""Bank reconciliation: the cascade of rules, a pure function of bank lines, open items, the config
and the decisions taken so far.

    reconcile(bank, items, config, base_currency, decisions) -> BankReconciliation

1. Confirmed matches are kept as they are: their bank lines and documents leave the pool (so a
   later run never re-decides them, and a new bank line never takes a confirmed document). So do the
   auto matches kept by earlier runs (`kept`, a table like the decisions): they are reported as `auto`
   with the rule and score recorded and their `run_id`, unless a decision was taken on them since (a
   confirmed one is reported as confirmed; a rejected one frees its line and document, and as a rejected
   match it is never proposed again).
2. Each rule of `config.cascade` proposes matches for the lines and items still free. Proposals
   whose match id was rejected are dropped. A proposal is `auto` when its score reaches
   `auto_threshold` and it is the best proposal, by at least `ambiguity_margin`, of every bank line
   and every document it covers, and no *nearer rival* stands against it (below); auto matches leave
   the pool before the next rule.
3. What is left is `suggested` (the best `max_suggestions` proposals of a line whose documents are
   still free) or `unmatched`, with the reason (`exceptions.py`).

A nearer rival of a proposal is another free bank line of the same amount and currency, booked nearer
to one of the proposal's documents, that resembles that document (same counterparty or reference,
or a fuzzy score at the threshold) and names no other known document. Open items are cash events
(receipts, payments, cash postings), so the nearer line is the likelier one; and a later repeat (a
double payment, a payment run sent twice) arriving in a new statement must not take, by a stronger
rule, the document of the line that paid it — the repeat becomes an exception naming that line.

No bank line and no document is ever in two auto or confirmed matches."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from .candidates import prepare_items, prepare_lines, window_pairs
from .config import BankConfig, FuzzyReference, Window
from .exceptions import unmatched_reasons
from .ids import bank_match_ids
from .rules import NOTES, PROPOSALS, RULE_FUNCTIONS, likeness

STATUSES = ("confirmed", "auto", "suggested", "unmatched")
MATCH_SCHEMA = pl.Schema(
    {
        "match_id": pl.String,
        "bank_txn_id": pl.String,
        "doc_type": pl.String,
        "doc_id": pl.String,
        "rule": pl.String,
        "score": pl.Float64,
        "status": pl.String,
        "run_id": pl.Int64,
    }
)
#: what a run keeps of each of its auto matches (`AppDB.kept_matches`; appdb/match_runs.py names the same)
KEPT_COLUMNS = ("match_id", "bank_txn_id", "doc_type", "doc_id", "rule", "score")
# the (bank line, document) pairs of a match with its rule and score
PAIR_SCHEMA = pl.Schema({c: MATCH_SCHEMA[c] for c in KEPT_COLUMNS})
# auto matches kept by earlier runs, in the order kept: the run, then its pairs
KEPT_SCHEMA = pl.Schema({"run_id": pl.Int64(), **PAIR_SCHEMA})


@dataclass(frozen=True)
class BankDecisions:
    """Decisions taken so far: confirmed matches (id -> {pairs: [(bank_txn_id, doc_type, doc_id)], rule,
    score}) and the ids of rejected ones."""

    confirmed: dict[str, dict] = field(default_factory=dict)
    rejected: frozenset[str] = frozenset()


def kept_frame(rows: list[tuple] | None = None) -> pl.DataFrame:
    """The kept auto matches as the engine takes them: rows `(run_id, match_id, bank_txn_id, doc_type,
    doc_id, rule, score)` (what `AppDB.kept_matches` returns)."""
    return pl.DataFrame(rows or [], schema=KEPT_SCHEMA, orient="row")


@dataclass
class BankReconciliation:
    """`matches`: one row per (bank line, document) of every confirmed, auto and suggested match, with
    `match_id, bank_txn_id, doc_type, doc_id, rule, score, status, run_id` (the run that kept an auto
    match; null for the others) and the amounts and dates of both sides. `exceptions`: one row per unmatched bank line with its `reason`. `summary`: counts."""

    matches: pl.DataFrame
    exceptions: pl.DataFrame
    summary: dict


# ------------------------------------------------------------------ deciding among proposals


def _best_per(props: pl.DataFrame, key: str) -> pl.DataFrame:
    per = props.group_by(key, "proposal").agg(pl.col("score").max())
    return (
        per.sort([key, "score", "proposal"], descending=[False, True, False])
        .group_by(key, maintain_order=True)
        .agg(
            pl.col("proposal").first().alias(f"best_{key}"),
            pl.col("score").first().alias(f"s1_{key}"),
            pl.col("score").slice(1, 1).first().alias(f"s2_{key}"),
        )
    )


def _unambiguous(props: pl.DataFrame, threshold: float, margin: float, blocked: pl.Series) -> pl.Series:
    """Ids of proposals that are the clear best of all their lines and items, at or above the threshold,
    and not `blocked` (blocked proposals still count as rivals of the others)."""
    eps = 1e-9
    rows = props.join(_best_per(props, "line"), on="line").join(_best_per(props, "item"), on="item")
    ok = (
        (pl.col("best_line") == pl.col("proposal"))
        & (pl.col("s2_line").is_null() | (pl.col("s1_line") - pl.col("s2_line") >= margin - eps))
        & (pl.col("best_item") == pl.col("proposal"))
        & (pl.col("s2_item").is_null() | (pl.col("s1_item") - pl.col("s2_item") >= margin - eps))
    )
    decided = rows.group_by("proposal").agg(ok.all().alias("ok"), pl.col("score").min().alias("score"))
    return decided.filter(
        pl.col("ok") & (pl.col("score") >= threshold - eps) & ~pl.col("proposal").is_in(blocked.implode())
    )["proposal"]


def _without(props: pl.DataFrame, lines: pl.Series, items: pl.Series) -> pl.DataFrame:
    """Proposals none of whose rows touches the given lines or items."""
    bad = props.filter(pl.col("line").is_in(lines.implode()) | pl.col("item").is_in(items.implode()))["proposal"]
    return props.filter(~pl.col("proposal").is_in(bad.unique().implode()))


def _without_contradicted(props: pl.DataFrame, lines: pl.DataFrame, docs: pl.DataFrame) -> pl.DataFrame:
    """Proposals none of whose bank lines carries the reference of a *different* known document: a
    line paying 'ARI-0000694' (a partial payment, say) is not matched to another invoice that happens
    to have its amount."""
    if props.is_empty():
        return props
    refs = docs.select("ref_key").drop_nulls().unique()
    naming = lines.select("line", line_ref="ref_key").join(refs, left_on="line_ref", right_on="ref_key", how="semi")
    rows = props.join(naming, on="line").join(docs.select("item", "ref_key"), on="item")
    bad = rows.filter(pl.col("ref_key").is_null() | (pl.col("ref_key") != pl.col("line_ref")))["proposal"]
    return props.filter(~pl.col("proposal").is_in(bad.unique().implode()))


def decide(
    props: pl.DataFrame,
    threshold: float,
    margin: float,
    rounds: int = 5,
    blocked: pl.Series | None = None,
) -> pl.Series:
    """The auto proposals. After each round the decided lines and items leave, which can settle more.
    `blocked` proposals are never auto (a nearer rival stands against them)."""
    chosen: list[pl.Series] = []
    remaining = props
    blocked = blocked if blocked is not None else pl.Series("proposal", [], dtype=pl.Int64)
    for _ in range(rounds):
        if remaining.is_empty():
            break
        new = _unambiguous(remaining, threshold, margin, blocked)
        if new.is_empty():
            break
        chosen.append(new)
        rows = remaining.filter(pl.col("proposal").is_in(new.implode()))
        remaining = _without(remaining, rows["line"], rows["item"])
    return pl.concat(chosen) if chosen else pl.Series("proposal", [], dtype=pl.Int64)


def nearer_rivals(
    props: pl.DataFrame,
    free_lines: pl.DataFrame,
    docs: pl.DataFrame,
    free_comparable: pl.DataFrame,
    window: Window,
    fuzzy: FuzzyReference,
    threshold: float,
    rejected: frozenset[str] = frozenset(),
) -> pl.Series:
    """Ids of the proposals that a nearer rival stands against (module docstring): another free line of
    the same amount and currency, booked strictly nearer to one of the proposal's documents (within the
    rule's window), not naming another known document by its reference, and resembling the document as
    well as the proposal does:
    - where the proposal's line carries the document's reference exactly, the rival must carry it too
      (the same reference key, or a reference likeness of at least 0.9: the reference inside a longer one);
    - otherwise the same counterparty key or reference key, or the fuzzy rule's score at `threshold`.
    A rival whose own match with the document was rejected stands against nothing."""
    empty = pl.Series("proposal", [], dtype=pl.Int64)
    if props.is_empty():
        return empty
    rows = (
        props.select("proposal", "line", "item")
        .join(free_lines.select("line", "day", own_ref="ref_key"), on="line")
        .join(docs.select("item", _item_day="day", doc_ref="ref_key", doc_cp="cp_key"), on="item")
        .with_columns(
            _dist=(pl.col("day") - pl.col("_item_day")).abs(),
            exact=(pl.col("own_ref") == pl.col("doc_ref")).fill_null(False),
        )
    )
    targets = free_comparable.join(rows.select("item").unique(), on="item", how="semi")
    near = window_pairs(free_lines, targets, ["cur", "cents"], window.days_before, window.days_after)
    near = (
        near.select(rival="line", item="item", days="days")
        .join(rows.select("proposal", "item", "_dist", "exact", "doc_ref", "doc_cp"), on="item")
        .filter(pl.col("days").abs() < pl.col("_dist"))
        .join(props.select("proposal", rival="line"), on=["proposal", "rival"], how="anti")
    )
    if near.is_empty():
        return empty
    near = near.join(free_lines.select(rival="line", ref_key="ref_key", cp_key="cp_key"), on="rival")
    known = docs.select(named=pl.col("ref_key")).drop_nulls().unique()
    names_other = pl.col("ref_key").is_in(known["named"].implode()) & (
        pl.col("doc_ref").is_null() | (pl.col("ref_key") != pl.col("doc_ref"))
    )
    near = near.filter(~names_other.fill_null(False))
    if rejected and not near.is_empty():
        pairs = (
            near.select("rival", "item")
            .unique()
            .with_row_index("proposal")
            .with_columns(pl.col("proposal").cast(pl.Int64))
            .join(free_lines.select(rival="line", bank_txn_id="bank_txn_id"), on="rival")
            .join(docs.select("item", "doc_type", "doc_id"), on="item")
        )
        gone = pairs.join(bank_match_ids(pairs), on="proposal").filter(pl.col("match_id").is_in(list(rejected)))
        near = near.join(gone.select("rival", "item"), on=["rival", "item"], how="anti")
    if near.is_empty():
        return empty
    scored = likeness(near.select(line="rival", item="item", days="days").unique(), free_lines, docs, fuzzy)
    near = near.join(
        scored.select(rival="line", item="item", ref_sim="ref_sim", fuzzy="fuzzy"),
        on=["rival", "item"],
        how="left",
    )
    same_ref = (pl.col("ref_key") == pl.col("doc_ref")).fill_null(False)
    same_cp = (pl.col("cp_key") == pl.col("doc_cp")).fill_null(False)
    alike = (
        pl.when(pl.col("exact"))
        .then(same_ref | (pl.col("ref_sim").fill_null(0.0) >= 0.9))
        .otherwise(same_ref | same_cp | (pl.col("fuzzy").fill_null(0.0) >= threshold))
    )
    return near.filter(alike)["proposal"].unique()


# ------------------------------------------------------------------ the cascade


def _confirmed_pairs(decisions: BankDecisions) -> pl.DataFrame:
    """The pairs of the confirmed matches, in the order confirmed; a match sharing a bank line or a
    document with an earlier one is left out, so nothing is ever in two confirmed matches."""
    rows: list[tuple[str, str, str, str, str, float]] = []
    used: set[tuple[str, ...]] = set()
    for mid, c in decisions.confirmed.items():
        pairs = [tuple(p) for p in c.get("pairs", [])]
        keys = {("line", b) for b, _, _ in pairs} | {("doc", t, d) for _, t, d in pairs}
        if keys & used:
            continue
        used |= keys
        rows += [(mid, b, t, d, str(c.get("rule") or "manual"), float(c.get("score") or 1.0)) for b, t, d in pairs]
    return pl.DataFrame(rows, orient="row", schema=PAIR_SCHEMA)


def _standing_kept(kept: pl.DataFrame | None, decisions: BankDecisions, confirmed: pl.DataFrame) -> pl.DataFrame:
    """The kept auto matches that still stand: none decided since (confirmed ones are reported as confirmed,
    rejected ones are free), each under the first run that kept it, and none sharing a bank line or a
    document with a confirmed match or with a match kept earlier — so nothing is ever in two kept or
    confirmed matches, whatever the app database holds."""
    if kept is None or kept.is_empty():
        return kept_frame()
    decided = list(set(decisions.confirmed) | decisions.rejected)
    k = (
        kept.cast(KEPT_SCHEMA)
        .filter(~pl.col("match_id").is_in(decided))
        .filter(pl.col("run_id") == pl.col("run_id").min().over("match_id"))
        .unique(["match_id", "bank_txn_id", "doc_type", "doc_id"], keep="first", maintain_order=True)
    )
    clash = pl.concat(
        [
            k.join(confirmed.select("bank_txn_id"), on="bank_txn_id", how="semi").select("match_id"),
            k.join(confirmed.select("doc_type", "doc_id"), on=["doc_type", "doc_id"], how="semi").select("match_id"),
        ]
    )
    order = k.select("match_id", "run_id").unique("match_id").sort("run_id", "match_id").with_row_index("_rank")
    ranked = k.join(order.select("match_id", "_rank"), on="match_id")
    for key in (
        ["bank_txn_id"],
        ["doc_type", "doc_id"],
    ):  # a line or document of an earlier kept match
        later = ranked.filter(pl.col("_rank") > pl.col("_rank").min().over(key))
        clash = pl.concat([clash, later.select("match_id")])
    return k.filter(~pl.col("match_id").is_in(clash["match_id"].unique().implode()))


def _with_ids(props: pl.DataFrame, lines: pl.DataFrame, docs: pl.DataFrame) -> pl.DataFrame:
    named = props.join(lines.select("line", "bank_txn_id"), on="line").join(
        docs.select("item", "doc_type", "doc_id"), on="item"
    )
    return named.join(bank_match_ids(named), on="proposal")


def reconcile(
    bank: pl.DataFrame,
    items: pl.DataFrame,
    config: BankConfig,
    base_currency: str,
    decisions: BankDecisions | None = None,
    kept: pl.DataFrame | None = None,
) -> BankReconciliation:
    """Match bank lines to open items (see the module docstring). Inputs: `bank` with
    `bank_txn_id, booking_date, amount, currency, counterparty, reference, description`; `items` with
    `doc_type, doc_id, doc_date, amount, currency, [amount_base,] counterparty, reference, description`;
    `kept`: the auto matches kept by earlier runs (`KEPT_SCHEMA`, `kept_frame`)."""
    decisions = decisions or BankDecisions()
    lines = prepare_lines(bank)
    docs, comparable = prepare_items(items, base_currency)

    confirmed = _confirmed_pairs(decisions)
    standing = _standing_kept(kept, decisions, confirmed)
    settled = pl.concat(
        [
            confirmed.with_columns(status=pl.lit("confirmed"), run_id=pl.lit(None, pl.Int64)),
            standing.select(*confirmed.columns, status=pl.lit("auto"), run_id="run_id"),
        ]
    )
    held = settled.join(lines.select("bank_txn_id", "line"), on="bank_txn_id", how="inner")
    taken_items = settled.join(docs.select("doc_type", "doc_id", "item"), on=["doc_type", "doc_id"])["item"].unique()
    cascade = _run_cascade(lines, docs, comparable, config, decisions, held["line"].unique(), taken_items)
    suggestion_rows = _top_suggestions(cascade.open_proposals, config.max_suggestions)

    matches = _match_rows(held, cascade.auto_rows, suggestion_rows, lines, docs)
    reported = matches["bank_txn_id"].unique()
    unmatched = lines.filter(~pl.col("bank_txn_id").is_in(reported.implode()))
    # documents confirmed or kept to lines outside this run (before --from, say) are owned by those lines too
    owners = pl.concat(
        [
            matches.select("doc_type", "doc_id", "bank_txn_id", "status", "run_id"),
            settled.select("doc_type", "doc_id", "bank_txn_id", "status", "run_id"),
        ]
    ).unique(["doc_type", "doc_id", "bank_txn_id"], keep="first", maintain_order=True)
    exceptions = unmatched_reasons(
        unmatched, lines, docs, comparable, owners, cascade.notes, cascade.rejected_lines, config
    )
    return BankReconciliation(matches, exceptions, _summary(lines.height, matches))


@dataclass(frozen=True)
class _CascadeOutcome:
    """What the rule cascade leaves: its auto matches (with their rule), the proposals still open (line and
    documents free), the rules' notes and the bank lines of rejected proposals."""

    auto_rows: pl.DataFrame
    open_proposals: pl.DataFrame
    notes: pl.DataFrame
    rejected_lines: pl.Series


def _run_cascade(
    lines: pl.DataFrame,
    docs: pl.DataFrame,
    comparable: pl.DataFrame,
    config: BankConfig,
    decisions: BankDecisions,
    taken_lines: pl.Series,
    taken_items: pl.Series,
) -> _CascadeOutcome:
    """Each enabled rule of `config.cascade`, in order, over the lines and items still free; its auto
    matches leave the pool before the next rule."""
    decided: list[pl.DataFrame] = []
    suggested: list[pl.DataFrame] = []
    notes: list[pl.DataFrame] = []
    rejected_lines: list[pl.Series] = []
    offset = 0
    for rule in config.cascade:
        params = getattr(config.rules, rule)
        if not params.enabled:
            continue
        free_lines = lines.filter(~pl.col("line").is_in(taken_lines.implode()))
        free_comparable = comparable.filter(~pl.col("item").is_in(taken_items.implode()))
        if free_lines.is_empty() or free_comparable.is_empty():
            continue
        result = RULE_FUNCTIONS[rule](free_lines, docs, free_comparable, params)
        props = result.proposals.with_columns(pl.col("proposal") + offset)  # ids unique across rules
        last = result.proposals["proposal"].max()  # an int, or None when the rule proposed nothing
        offset += last + 1 if isinstance(last, int) else 0
        if rule != "exact_reference":
            props = _without_contradicted(props, lines, docs)
        notes.append(result.notes)
        if decisions.rejected and not props.is_empty():
            ids = _with_ids(props, lines, docs)
            gone = ids.filter(pl.col("match_id").is_in(list(decisions.rejected)))
            rejected_lines.append(gone["line"])
            props = props.filter(~pl.col("proposal").is_in(gone["proposal"].unique().implode()))
        blocked = nearer_rivals(
            props,
            free_lines,
            docs,
            free_comparable,
            params,
            config.rules.fuzzy_reference,
            config.auto_threshold,
            decisions.rejected,
        )
        auto = decide(props, config.auto_threshold, config.ambiguity_margin, blocked=blocked)
        auto_rows = props.filter(pl.col("proposal").is_in(auto.implode()))
        decided.append(auto_rows.with_columns(rule=pl.lit(rule)))
        suggested.append(props.filter(~pl.col("proposal").is_in(auto.implode())).with_columns(rule=pl.lit(rule)))
        taken_lines = pl.concat([taken_lines, auto_rows["line"]]).unique()
        taken_items = pl.concat([taken_items, auto_rows["item"]]).unique()

    schema = {**PROPOSALS, "rule": pl.String}
    return _CascadeOutcome(
        auto_rows=pl.concat(decided) if decided else pl.DataFrame(schema=schema),
        open_proposals=_without(
            pl.concat(suggested) if suggested else pl.DataFrame(schema=schema), taken_lines, taken_items
        ),
        notes=pl.concat(notes) if notes else pl.DataFrame(schema=NOTES),
        rejected_lines=pl.concat(rejected_lines).unique() if rejected_lines else pl.Series("line", [], dtype=pl.Int64),
    )


def only_lines(result: BankReconciliation, bank_txn_ids: pl.Series) -> BankReconciliation:
    """The part of `result` about the given bank lines (matches, exceptions and summary of those lines
    only): what a run over a date range reports when earlier lines took part as context."""
    keep = bank_txn_ids.unique().implode()
    matches = result.matches.filter(pl.col("bank_txn_id").is_in(keep))
    exceptions = result.exceptions.filter(pl.col("bank_txn_id").is_in(keep))
    n = pl.concat([matches["bank_txn_id"], exceptions["bank_txn_id"]]).n_unique()
    return BankReconciliation(matches, exceptions, _summary(n, matches))


def _top_suggestions(props: pl.DataFrame, k: int) -> pl.DataFrame:
    if props.is_empty():
        return props
    best = (
        props.group_by("line", "proposal")
        .agg(pl.col("score").max())
        .sort(["line", "score", "proposal"], descending=[False, True, False])
        .group_by("line", maintain_order=True)
        .head(k)
    )
    return props.filter(pl.col("proposal").is_in(best["proposal"].unique().implode()))


def _match_rows(
    held: pl.DataFrame,
    auto_rows: pl.DataFrame,
    suggestion_rows: pl.DataFrame,
    lines: pl.DataFrame,
    docs: pl.DataFrame,
) -> pl.DataFrame:
    """`held`: the confirmed and kept rows of this run's lines (with their status and run id)."""
    proposed = pl.concat(
        [
            auto_rows.with_columns(status=pl.lit("auto")),
            suggestion_rows.with_columns(status=pl.lit("suggested")),
        ]
    )
    named = _with_ids(proposed, lines, docs) if not proposed.is_empty() else None
    parts = [held.select(*MATCH_SCHEMA)]
    if named is not None:
        parts.append(named.with_columns(run_id=pl.lit(None, pl.Int64)).select(*MATCH_SCHEMA))
    rows = pl.concat([p.cast(MATCH_SCHEMA) for p in parts]).unique(
        ["match_id", "bank_txn_id", "doc_type", "doc_id"], keep="first", maintain_order=True
    )
    rows = rows.with_columns(pl.col("score").round(3))
    bank_side = lines.select("bank_txn_id", "booking_date", "amount", "currency", "counterparty", "reference")
    doc_side = docs.select("doc_type", "doc_id", "doc_date", doc_amount="amount", doc_currency="currency")
    order = pl.col("status").replace_strict({s: i for i, s in enumerate(STATUSES)}, return_dtype=pl.Int8)
    return (
        rows.join(bank_side, on="bank_txn_id", how="left")
        .join(doc_side, on=["doc_type", "doc_id"], how="left")
        .sort(
            order,
            "booking_date",
            "bank_txn_id",
            pl.col("score"),
            "doc_id",
            descending=[False, False, False, True, False],
        )
    )


def _summary(n: int, matches: pl.DataFrame) -> dict:
    """Counts of bank lines (`n` in all) per status, and of the auto or confirmed lines per rule."""
    per_status = {
        s: set(matches.filter(pl.col("status") == s)["bank_txn_id"].to_list())
        for s in ("confirmed", "auto", "suggested")
    }
    decided = matches.filter(pl.col("status").is_in(["confirmed", "auto"]))
    by_rule = decided.group_by("rule").agg(pl.col("bank_txn_id").n_unique().alias("n")).sort("rule")
    matched = len(per_status["confirmed"]) + len(per_status["auto"]) + len(per_status["suggested"])
    return {
        "bank_lines": n,
        "auto": len(per_status["auto"]),
        "suggested": len(per_status["suggested"]),
        "unmatched": n - matched,
        "confirmed": len(per_status["confirmed"]),
        "by_rule": dict(zip(by_rule["rule"].to_list(), by_rule["n"].to_list(), strict=True)),
    }
