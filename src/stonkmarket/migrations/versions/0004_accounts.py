"""Add the accounts view.

The new accounts projection starts at the position the other projections
have reached, so the runner does not replay what they already applied
(replaying settings changes onto their rows would number new versions). It
misses no account event: only code that has this revision stores them, and
it migrates before it projects.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
        sa.UniqueConstraint("username", name="uq_accounts_username"),
    )
    # With no tracking row at all (a new database), the runner starts at 0.
    op.execute(
        sa.text(
            "INSERT INTO projection_tracking (name, position) "
            "SELECT 'accounts', MIN(position) FROM projection_tracking "
            "HAVING COUNT(*) > 0"
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM projection_tracking WHERE name = 'accounts'"))
    op.drop_table("accounts")
