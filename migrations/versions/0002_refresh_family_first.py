"""refresh tokens: index (family_id, id), the lock of a family is its first row

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:05:00

"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_refresh_tokens_family_first', ['family_id', 'id'], unique=False)
        batch_op.drop_index('ix_refresh_tokens_family_id')


def downgrade():
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_refresh_tokens_family_id', ['family_id'], unique=False)
        batch_op.drop_index('ix_refresh_tokens_family_first')
