"""Keep the source's adjusted closes beside the bars, and corporate actions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("price_bars", sa.Column("reference_close", sa.Float(), nullable=True))
    op.create_table(
        "corporate_actions",
        sa.Column("ticker", sa.String(length=15), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("ticker", "date", "kind"),
    )


def downgrade() -> None:
    op.drop_table("corporate_actions")
    with op.batch_alter_table("price_bars") as batch:
        batch.drop_column("reference_close")
