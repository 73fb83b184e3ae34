"""update inbox: every fetched update stored (one INSERT per batch) and handled from there, a
lease per chat lane; replaces handled_updates

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.tables

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "update_inbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("lane", sa.String(length=80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("handled_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ux_update_inbox_update", "update_inbox", ["bot_id", "update_id"], unique=True)
    op.create_index("ix_update_inbox_state_lane", "update_inbox", ["state", "lane"])
    op.create_index("ix_update_inbox_handled_at", "update_inbox", ["handled_at"])
    op.create_table(
        "inbox_lanes",
        sa.Column("lane", sa.String(length=80), primary_key=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.Column("claimed_until", storage.tables.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_inbox_lanes_claimed_by", "inbox_lanes", ["claimed_by"])
    op.create_index("ix_inbox_lanes_claimed_until", "inbox_lanes", ["claimed_until"])
    with op.batch_alter_table("handled_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handled_updates_handled_at"))
    op.drop_table("handled_updates")


def downgrade() -> None:
    """Undo this revision."""
    op.create_table(
        "handled_updates",
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("handled_at", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id"),
    )
    with op.batch_alter_table("handled_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_handled_updates_handled_at"), ["handled_at"], unique=False
        )
    op.drop_table("inbox_lanes")
    op.drop_table("update_inbox")
