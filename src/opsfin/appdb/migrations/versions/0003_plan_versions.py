"""Plan versions and their approval (docs/planning-versions.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from opsfin.appdb.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 100


def upgrade() -> None:
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(NAME), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("based_on", sa.String(NAME), nullable=True),
        sa.Column("as_of", sa.Date, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(NAME), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("submitted_by", sa.String(NAME), nullable=True),
        sa.Column("submitted_at", UTCDateTime, nullable=True),
        sa.Column("approved_by", sa.String(NAME), nullable=True),
        sa.Column("approved_at", UTCDateTime, nullable=True),
        sa.Column("rejected_by", sa.String(NAME), nullable=True),
        sa.Column("rejected_at", UTCDateTime, nullable=True),
        sa.Column("rejected_reason", sa.Text, nullable=True),
        sa.Column("archived_by", sa.String(NAME), nullable=True),
        sa.Column("archived_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_plan_versions_status", "plan_versions", ["status"])


def downgrade() -> None:
    op.drop_index("ix_plan_versions_status", table_name="plan_versions")
    op.drop_table("plan_versions")
