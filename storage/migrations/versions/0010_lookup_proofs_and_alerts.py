"""failed look-ups remember the code of a failed ownership proof (a code gets a few tries a
day from all chats together), and alert marks tell the admins of a wave of failures once

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.tables

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("lookup_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=16), nullable=True))
        batch_op.create_index("ix_lookup_failures_code", ["code", "at"], unique=False)
        batch_op.create_index("ix_lookup_failures_at", ["at"], unique=False)
    op.create_table(
        "alert_marks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("at", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("alert_marks")
    with op.batch_alter_table("lookup_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_lookup_failures_at")
        batch_op.drop_index("ix_lookup_failures_code")
        batch_op.drop_column("code")
