"""returning citizens: the name and phone each messenger account gave at its last filing,
offered back as «همان قبلی»; erased by /forget and by retention

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "remembered_details",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("national_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("updated_at", storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "user_id"),
    )
    op.create_index(
        "ix_remembered_details_updated_at", "remembered_details", ["updated_at"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_remembered_details_updated_at", table_name="remembered_details")
    op.drop_table("remembered_details")
