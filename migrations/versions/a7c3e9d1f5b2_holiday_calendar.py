"""holiday calendar: each year's holidays and adjusted working days (节假日安排), seeded from the
chinesecalendar package by `flask calendar seed` or entered by the office; and the recomputation of
open deadlines after a change

Revision ID: a7c3e9d1f5b2
Revises: b8d4f0e2a6c3
Create Date: 2026-12-02 09:30:00

"""

import sqlalchemy as sa
from alembic import op

import app.models.base

# revision identifiers, used by Alembic.
revision = "a7c3e9d1f5b2"
down_revision = "b8d4f0e2a6c3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "holiday_recomputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("years", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("after_instance_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("letters_changed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.models.base.UTCDateTime(), nullable=False),
        sa.Column("finished_at", app.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_holiday_recomputes_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holiday_recomputes")),
    )
    with op.batch_alter_table("holiday_recomputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holiday_recomputes_status"), ["status"], unique=False)

    op.create_table(
        "holiday_years",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", app.models.base.UTCDateTime(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("package_version", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["entered_by_id"], ["users.id"], name=op.f("fk_holiday_years_entered_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holiday_years")),
        sa.UniqueConstraint("revision", name=op.f("uq_holiday_years_revision")),
        sa.UniqueConstraint("year", name=op.f("uq_holiday_years_year")),
    )
    op.create_table(
        "holiday_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["year_id"], ["holiday_years.id"], name=op.f("fk_holiday_days_year_id_holiday_years")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holiday_days")),
        sa.UniqueConstraint("day", name=op.f("uq_holiday_days_day")),
    )
    with op.batch_alter_table("holiday_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holiday_days_year_id"), ["year_id"], unique=False)


def downgrade():
    with op.batch_alter_table("holiday_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holiday_days_year_id"))

    op.drop_table("holiday_days")
    op.drop_table("holiday_years")
    with op.batch_alter_table("holiday_recomputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holiday_recomputes_status"))

    op.drop_table("holiday_recomputes")
