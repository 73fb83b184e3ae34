"""unnamed but answerable suggestions: «بدون نام، ولی پاسخ را همین‌جا بگیرم» keeps the chat for
the answer while staff see no name, phone or account

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("requests") as batch:
        batch.add_column(
            sa.Column("unnamed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("unnamed")
