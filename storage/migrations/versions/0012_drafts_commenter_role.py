"""a draft comment says who its author comments as (farmer, expert, official, other)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 16:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commenter_role", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("commenter_role")
