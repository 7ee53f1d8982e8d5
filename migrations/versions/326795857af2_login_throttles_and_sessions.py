"""login throttles instead of the fixed lockout: failures counted by account name and by client
address with growing delays; users get a session version (raised at logout and password change,
ending every session) and a must-change-password flag for accounts the office created; the old
lockout columns go

Revision ID: 326795857af2
Revises: a7c3e9d1f5b2
Create Date: 2026-12-02 13:05:46.382952

"""

import sqlalchemy as sa
from alembic import op

import app.models.base

# revision identifiers, used by Alembic.
revision = "326795857af2"
down_revision = "a7c3e9d1f5b2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", app.models.base.UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", app.models.base.UTCDateTime(), nullable=True),
        sa.Column("next_allowed_at", app.models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttles")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_login_throttles_kind_key")),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttles_last_failure_at"), ["last_failure_at"], unique=False)

    # Plain ALTER TABLE, not batch mode: on SQLite (3.35 and later drop columns in place) a batch would
    # copy and drop the users table, which every other table references.
    op.add_column("users", sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), server_default="0", nullable=False))
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")


def downgrade():
    op.add_column("users", sa.Column("locked_until", app.models.base.UTCDateTime(), nullable=True))
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
    op.drop_column("users", "must_change_password")
    op.drop_column("users", "session_version")

    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_last_failure_at"))

    op.drop_table("login_throttles")
