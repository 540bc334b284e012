"""Create the read models: watchlist, bars, settings, dip states, signals.

Revision ID: 0001
Revises: none
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
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
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticker", "window"),
    )
    op.create_table(
        "dipfinder_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("knobs", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "dipfinder_signals",
        sa.Column("ticker", sa.String(length=15), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("benchmark", sa.String(length=15), nullable=False),
        sa.Column("as_of_date", sa.Date(), nullable=False),
        sa.Column("current_price", sa.Float(), nullable=False),
        sa.Column("peak_stock", sa.Float(), nullable=False),
        sa.Column("peak_date", sa.Date(), nullable=False),
        sa.Column("dip_stock", sa.Float(), nullable=False),
        sa.Column("dip_pctl", sa.Float(), nullable=True),
        sa.Column("persist_days", sa.Integer(), nullable=False),
        sa.Column("dip_mkt", sa.Float(), nullable=True),
        sa.Column("dip_class", sa.String(length=20), nullable=True),
        sa.Column("typical_dip", sa.Float(), nullable=True),
        sa.Column("dip_vs_typical", sa.Float(), nullable=True),
        sa.Column("excess_dip", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("settings_version", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticker", "window", "benchmark", "as_of_date"),
    )
    op.create_table(
        "price_bars",
        sa.Column("ticker", sa.String(length=15), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("close", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("ticker", "date"),
    )
    op.create_table(
        "projection_tracking",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "symbols",
        sa.Column("ticker", sa.String(length=15), nullable=False),
        sa.Column("min_dip_pct", sa.Float(), nullable=True),
        sa.Column("min_days", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticker"),
    )


def downgrade() -> None:
    op.drop_table("symbols")
    op.drop_table("projection_tracking")
    op.drop_table("price_bars")
    op.drop_table("dipfinder_signals")
    op.drop_table("dipfinder_settings")
    op.drop_table("dip_states")
