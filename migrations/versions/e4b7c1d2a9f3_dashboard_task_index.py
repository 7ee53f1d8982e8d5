"""tasks (campaign_id, status, unit_id, due_at): the dashboard's open tasks per unit, index-only

Revision ID: e4b7c1d2a9f3
Revises: 673f31035d7c
Create Date: 2026-11-22 17:02:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "e4b7c1d2a9f3"
down_revision = "673f31035d7c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_campaign_status", ["campaign_id", "status", "unit_id", "due_at"], unique=False)


def downgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_campaign_status")
