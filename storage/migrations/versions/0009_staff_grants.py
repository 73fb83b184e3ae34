"""staff are people: members an administrator granted in a group (revokes kept for the audit);
drafts record who closed a window early and who published the final version

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "staff_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("granted_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("granted_at", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("revoked_at", storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_staff_grants_member", "staff_grants", ["platform", "chat_id", "user_id"], unique=False
    )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        for name in ("closed_by", "finalized_by"):
            batch_op.add_column(
                sa.Column(
                    name,
                    sqlmodel.sql.sqltypes.AutoString(length=120),
                    nullable=False,
                    server_default="",
                )
            )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("finalized_by")
        batch_op.drop_column("closed_by")
    op.drop_index("ix_staff_grants_member", table_name="staff_grants")
    op.drop_table("staff_grants")
