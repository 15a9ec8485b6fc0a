"""The tables of the app database (SQLAlchemy 2 typed models). Alembic migrations create them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import Money, UTCDateTime

NAME = 100  # longest user, token or owner name
HASH = 64  # sha256 hex


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    sites: Mapped[str | None] = mapped_column(Text)  # JSON list of site ids; NULL = every site
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TokenRow(Base):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(HASH), unique=True)  # sha256 of the bearer token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(HASH), unique=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class FailedLoginRow(Base):
    __tablename__ = "failed_logins"
    __table_args__ = (Index("ix_failed_logins_name_client_at", "name", "client", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    client: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CommentRow(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(NAME))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    site: Mapped[str | None] = mapped_column(String(100))


class ActionRow(Base):
    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(NAME))
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)
    expected_impact: Mapped[Decimal] = mapped_column(Money)
    subject_type: Mapped[str | None] = mapped_column(String(20))
    subject_id: Mapped[str | None] = mapped_column(String(200))
    site: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MatchDecisionRow(Base):
    __tablename__ = "match_decisions"
    __table_args__ = (Index("ix_match_decisions_kind_match", "kind", "match_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    match_id: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    actor: Mapped[str] = mapped_column(String(NAME))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class MatchRunRow(Base):
    """A bank reconciliation run that kept its auto matches (`kept_matches`): who, when, over which bank
    lines (`date_from`/`date_to` as asked, `through_date` the last booking day seen) and its counts."""

    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(NAME))
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    through_date: Mapped[date | None] = mapped_column(Date)
    bank_lines: Mapped[int] = mapped_column(Integer)
    kept: Mapped[int] = mapped_column(Integer)  # auto matches (ids) kept by this run
    kept_lines: Mapped[int] = mapped_column(Integer)
    suggested: Mapped[int] = mapped_column(Integer)
    unmatched: Mapped[int] = mapped_column(Integer)


class KeptMatchRow(Base):
    """One (bank line, document) pair of an auto match kept by a run; a one-to-many match is several rows
    under one `match_id`. Later runs treat it like a confirmed match unless it was rejected since."""

    __tablename__ = "kept_matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id"))
    match_id: Mapped[str] = mapped_column(String(40))
    bank_txn_id: Mapped[str] = mapped_column(String(200))
    doc_type: Mapped[str] = mapped_column(String(20))
    doc_id: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(50))
    score: Mapped[float] = mapped_column(Float)


class AuditRow(Base):
    """One entry of the hash-chained audit log; `seq` runs 1, 2, 3… without gaps."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(NAME))
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(20), index=True)
    object_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(HASH))
    hash: Mapped[str] = mapped_column(String(HASH))


class AuditHeadRow(Base):
    """The single row (id 1) holding the last entry's seq and hash: deleting the newest entries shows."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(HASH))


class PlanVersionRow(Base):
    """A plan version (docs/planning-versions.md): its numbers live in the warehouse keyed by `name`; here its
    kind, lineage and approval: `draft` → `submitted` → `approved` → `archived` (a rejection returns it to
    `draft` and keeps the last rejection's who, when and why)."""

    __tablename__ = "plan_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # budget, forecast, scenario
    based_on: Mapped[str | None] = mapped_column(String(NAME))
    as_of: Mapped[date | None] = mapped_column(Date)  # first of the month
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_by: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str | None] = mapped_column(String(NAME))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(NAME))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by: Mapped[str | None] = mapped_column(String(NAME))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    archived_by: Mapped[str | None] = mapped_column(String(NAME))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
