"""Store signals whole and by settings version; keep removed symbols' rows.

The changed views are dropped and created anew, and every view is emptied
with its tracking position, so the runner replays the event store into them
at the next start. Nothing is lost: the events hold all of it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_UNCHANGED_VIEWS = ("price_bars", "projection_tracking")


def upgrade() -> None:
    for table in ("dipfinder_signals", "dip_states", "dipfinder_settings", "symbols"):
        op.drop_table(table)
    for table in _UNCHANGED_VIEWS:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.create_table(
        "symbols",
        sa.Column("ticker", sa.String(length=15), nullable=False),
        sa.Column("min_dip_pct", sa.Float(), nullable=True),
        sa.Column("min_days", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("ticker"),
    )
    op.create_table(
        "dipfinder_settings",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("knobs", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "fundamentals",
        sa.Column("ticker", sa.String(length=15), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("ticker", "as_of"),
    )
    op.create_table(
        "dip_states",
        sa.Column("ticker", sa.String(length=15), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("as_of_date", sa.Date(), nullable=False),
        sa.Column("current_price", sa.Float(), nullable=False),
        sa.Column("peak_stock", sa.Float(), nullable=False),
        sa.Column("peak_date", sa.Date(), nullable=False),
        sa.Column("dip_stock", sa.Float(), nullable=False),
        sa.Column("dip_pctl", sa.Float(), nullable=True),
        sa.Column("persist_days", sa.Integer(), nullable=False),
        sa.Column("dip_mkt", sa.Float(), nullable=True),
        sa.Column("dip_class", sa.String(length=20), nullable=True),
        sa.Column("in_dip", sa.Boolean(), nullable=False),
        sa.Column("final_score", sa.Float(), nullable=True),
        sa.Column("alert_level", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticker", "window"),
    )
    op.create_table(
        "dipfinder_signals",
        sa.Column("ticker", sa.String(length=15), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("benchmark", sa.String(length=15), nullable=False),
        sa.Column("as_of_date", sa.Date(), nullable=False),
        sa.Column("settings_version", sa.Integer(), nullable=False),
        sa.Column("dip_stock", sa.Float(), nullable=False),
        sa.Column("final_score", sa.Float(), nullable=True),
        sa.Column("alert_level", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "ticker", "window", "benchmark", "as_of_date", "settings_version"
        ),
    )

    op.create_table(
        "audit_log",
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("position"),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
    op.create_table(
        "dip_history",
        sa.Column("ticker", sa.String(length=15), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dip", sa.Float(), nullable=False),
        sa.Column("peak", sa.Float(), nullable=False),
        sa.Column("close", sa.Float(), nullable=False),
        sa.Column("max_dip", sa.Float(), nullable=True),
        sa.Column("episode_start", sa.Date(), nullable=True),
        sa.Column("final_score", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("ticker", "window", "date", "kind"),
    )


def downgrade() -> None:
    raise NotImplementedError(
        "the 0001 views cannot hold scored signals; delete views.sqlite instead, "
        "and it is rebuilt from the events"
    )
