"""outbox chats claimed per delivery worker: several workers on one PostgreSQL send each chat's
rows from one of them, once and in order

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.tables

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "outbox_chats",
        sa.Column("platform", sa.String(length=16), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), primary_key=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.Column("claimed_until", storage.tables.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_outbox_chats_claimed_by", "outbox_chats", ["claimed_by"])


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index("ix_outbox_chats_claimed_by", table_name="outbox_chats")
    op.drop_table("outbox_chats")
