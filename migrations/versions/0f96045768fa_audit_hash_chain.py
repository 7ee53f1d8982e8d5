"""audit hash chain: every event's place in the chain and its hash chained to the previous one's, and the chain head

Revision ID: 0f96045768fa
Revises: 326795857af2
Create Date: 2026-12-02 14:20:00

The existing events are given places and hashed in id order, in batches.
"""

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.models.audit import CHAIN_ALGORITHM, GENESIS, chain_hash

# revision identifiers, used by Alembic.
revision = "0f96045768fa"
down_revision = "326795857af2"
branch_labels = None
depends_on = None

BATCH = 1000

events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("at", app.models.base.UTCDateTime()),
    sa.column("actor_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.String()),
    sa.column("unit_id", sa.Integer()),
    sa.column("before", sa.JSON()),
    sa.column("after", sa.JSON()),
    sa.column("seq", sa.Integer()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
    sa.column("hash_alg", sa.String()),
)


def upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash_alg", sa.String(length=8), nullable=True))
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("base_seq", sa.Integer(), nullable=False),
        sa.Column("base_hash", sa.String(length=64), nullable=False),
        sa.Column("verified_at", app.models.base.UTCDateTime(), nullable=True),
        sa.Column("verified_count", sa.Integer(), nullable=True),
        sa.Column("verified_problem", sa.String(length=16), nullable=True),
        sa.Column("verified_event_id", sa.Integer(), nullable=True),
        sa.Column("verified_seq", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )

    bind = op.get_bind()
    prev_id, seq, prev_hash = 0, 0, GENESIS
    while True:
        rows = bind.execute(
            sa.select(*[c for c in events.c if c.name not in ("seq", "prev_hash", "hash", "hash_alg")])
            .where(events.c.id > prev_id)
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        updates = []
        for row in rows:
            seq += 1
            digest = chain_hash(CHAIN_ALGORITHM, prev_hash, {**row._mapping, "seq": seq})
            updates.append(
                {"b_id": row.id, "seq": seq, "prev_hash": prev_hash, "hash": digest, "hash_alg": CHAIN_ALGORITHM}
            )
            prev_id, prev_hash = row.id, digest
        bind.execute(
            events.update()
            .where(events.c.id == sa.bindparam("b_id"))
            .values(
                seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev_hash"),
                hash=sa.bindparam("hash"),
                hash_alg=sa.bindparam("hash_alg"),
            ),
            updates,
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_seq"), ["seq"])
    op.bulk_insert(head, [dict(id=1, last_seq=seq, last_hash=prev_hash, base_seq=0, base_hash=GENESIS)])


def downgrade():
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_seq"), type_="unique")
        batch_op.drop_column("hash_alg")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
