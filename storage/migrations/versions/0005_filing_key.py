"""filing key: a conversation files its request once, also when its update comes again

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 15:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filing_key", sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint("uq_requests_filing_key", ["filing_key"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_constraint("uq_requests_filing_key", type_="unique")
        batch_op.drop_column("filing_key")
