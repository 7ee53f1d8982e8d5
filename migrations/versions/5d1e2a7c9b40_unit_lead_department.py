"""units.lead_department: the department that leads a unit's rectification (dashboard filter)

Revision ID: 5d1e2a7c9b40
Revises: aa1c7892cb1c
Create Date: 2026-11-22 16:35:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5d1e2a7c9b40"
down_revision = "aa1c7892cb1c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead_department", sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f("ix_units_lead_department"), ["lead_department"], unique=False)


def downgrade():
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_lead_department"))
        batch_op.drop_column("lead_department")
