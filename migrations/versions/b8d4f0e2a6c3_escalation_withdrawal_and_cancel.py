"""escalations and letters can be withdrawn (with a reason) or cancelled because their step closed;
tasks remember when their deadline was last recomputed (the ladder restarts from that moment)

Revision ID: b8d4f0e2a6c3
Revises: e4b7c1d2a9f3
Create Date: 2026-12-02 09:00:00

"""

import sqlalchemy as sa
from alembic import op

import app.models.base

# revision identifiers, used by Alembic.
revision = "b8d4f0e2a6c3"
down_revision = "e4b7c1d2a9f3"
branch_labels = None
depends_on = None


NOT_WITHDRAWN = sa.text("status != 'withdrawn'")


def upgrade():
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        # One rung a step and level among those not withdrawn: a withdrawn one can be issued again.
        batch_op.drop_constraint("uq_escalations_key", type_="unique")
        batch_op.add_column(sa.Column("closed_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", app.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_escalations_withdrawn_by_id_users", "users", ["withdrawn_by_id"], ["id"])
    op.create_index(
        "uq_escalations_key",
        "escalations",
        ["instance_id", "spiff_task_id", "level"],
        unique=True,
        sqlite_where=NOT_WITHDRAWN,
        postgresql_where=NOT_WITHDRAWN,
    )
    with op.batch_alter_table("supervision_letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", app.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("withdraw_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("due_by_hand", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key(
            "fk_supervision_letters_withdrawn_by_id_users", "users", ["withdrawn_by_id"], ["id"]
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_changed_at", app.models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table("supervision_letters", schema=None) as batch_op:
        batch_op.alter_column("due_by_hand", existing_type=sa.Boolean(), server_default=None)


def downgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("due_changed_at")
    with op.batch_alter_table("supervision_letters", schema=None) as batch_op:
        batch_op.drop_constraint("fk_supervision_letters_withdrawn_by_id_users", type_="foreignkey")
        batch_op.drop_column("due_by_hand")
        batch_op.drop_column("withdraw_reason")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_at")
    op.drop_index("uq_escalations_key", table_name="escalations")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_escalations_key", ["instance_id", "spiff_task_id", "level"])
        batch_op.drop_constraint("fk_escalations_withdrawn_by_id_users", type_="foreignkey")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("closed_reason")
