"""data versions: a token per campaign (and one for all) that changes with every change the dashboard counts

Revision ID: d5a1c3e7f9b2
Revises: 0f96045768fa
Create Date: 2026-12-02 16:50:00

Every existing campaign gets a token, so its dashboard can be cached at once.
"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d5a1c3e7f9b2"
down_revision = "0f96045768fa"
branch_labels = None
depends_on = None


def upgrade():
    versions = op.create_table(
        "data_versions",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_data_versions")),
    )
    ids = [row[0] for row in op.get_bind().execute(sa.text("SELECT id FROM campaigns"))]
    rows = [{"scope": f"campaign:{i}", "token": secrets.randbits(62)} for i in ids]
    rows.append({"scope": "all", "token": secrets.randbits(62)})
    op.bulk_insert(versions, rows)


def downgrade():
    op.drop_table("data_versions")
