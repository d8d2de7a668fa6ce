"""point lots: indexes of live lots only (remaining > 0), so finding due points skips history

Every credit now asks whether the resident holds points past their date, and debits, GET /me
and expire-points ask the same. On (user_id, expires_at) that question walked every lot the
user ever had that is past its date, spent or expired long ago, one table row each: a cost
that grew with every scan. Lots that are spent or expired have remaining = 0 and never count
again, so the indexes leave them out.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 07:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

LIVE = sa.text("remaining > 0")


def upgrade():
    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.create_index('ix_point_lots_user_live', ['user_id', 'expires_at', 'id'],
                              unique=False, postgresql_where=LIVE)
        batch_op.create_index('ix_point_lots_live_expires', ['expires_at'], unique=False,
                              postgresql_where=LIVE)
        batch_op.drop_index('ix_point_lots_user_expires')
        batch_op.drop_index('ix_point_lots_expires')


def downgrade():
    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.create_index('ix_point_lots_expires', ['expires_at'], unique=False)
        batch_op.create_index('ix_point_lots_user_expires', ['user_id', 'expires_at', 'id'],
                              unique=False)
        batch_op.drop_index('ix_point_lots_live_expires')
        batch_op.drop_index('ix_point_lots_user_live')
