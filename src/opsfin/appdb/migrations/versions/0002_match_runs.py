"""Reconciliation runs and the auto matches they keep (runs are incremental).

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from opsfin.appdb.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 100


def upgrade() -> None:
    op.create_table(
        "match_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(NAME), nullable=False),
        sa.Column("date_from", sa.Date, nullable=True),
        sa.Column("date_to", sa.Date, nullable=True),
        sa.Column("through_date", sa.Date, nullable=True),
        sa.Column("bank_lines", sa.Integer, nullable=False),
        sa.Column("kept", sa.Integer, nullable=False),
        sa.Column("kept_lines", sa.Integer, nullable=False),
        sa.Column("suggested", sa.Integer, nullable=False),
        sa.Column("unmatched", sa.Integer, nullable=False),
    )
    op.create_table(
        "kept_matches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("match_runs.id"), nullable=False),
        sa.Column("match_id", sa.String(40), nullable=False),
        sa.Column("bank_txn_id", sa.String(200), nullable=False),
        sa.Column("doc_type", sa.String(20), nullable=False),
        sa.Column("doc_id", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(50), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kept_matches")
    op.drop_table("match_runs")
