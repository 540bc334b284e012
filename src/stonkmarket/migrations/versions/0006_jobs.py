"""Add the jobs, job runs and job logs views.

No Job or JobRun event was stored before this revision, so the new
projection starts at the beginning.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("cron", sa.String(length=120), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "job_runs",
        sa.Column("run_id", sa.Uuid(), primary_key=True),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("tick", WHEN, nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=False, unique=True),
    )
    op.create_index("ix_job_runs_job_position", "job_runs", ["job", "position"])
    op.create_table(
        "job_logs",
        sa.Column("run_id", sa.Uuid(), primary_key=True),
        sa.Column("position", sa.BigInteger(), primary_key=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("job_logs")
    op.drop_index("ix_job_runs_job_position", table_name="job_runs")
    op.drop_table("job_runs")
    op.drop_table("jobs")
