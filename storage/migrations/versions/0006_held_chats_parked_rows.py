"""delivery that never stalls: held groups, rows parked after failing too long

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "held_chats",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("since", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("new_chat_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("platform", "chat_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failing_since", storage.tables.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("alerted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # rows that failed before this revision were never to be alerted about: not now either
    op.execute(sa.text("UPDATE outbox SET alerted = :yes WHERE failed = :yes").bindparams(yes=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("alerted")
        batch_op.drop_column("failing_since")
    op.drop_table("held_chats")
