"""ledger entries: the village an operator's adjustment counted on

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 04:00:00

An adjustment of a resident's points counts on the leaderboards of the village they belong
to when it is made. Scans keep their village on the scan; an adjustment kept none, so a
rebuild could only place it in the resident's village of the day of the rebuild. Entries
made before this revision have none: a rebuild counts them on the global boards only.
Run ``flask --app wsgi rebuild-leaderboards`` once after this upgrade: with it the boards
count corrections and hold signed sums, and boards kept the earlier way must be rebuilt.
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


FK = 'fk_ledger_entries_community_id_communities'


def upgrade():
    op.add_column('ledger_entries', sa.Column('community_id', sa.Integer(), nullable=True))
    op.create_foreign_key(FK, 'ledger_entries', 'communities', ['community_id'], ['id'])


def downgrade():
    op.drop_constraint(FK, 'ledger_entries', type_='foreignkey')
    op.drop_column('ledger_entries', 'community_id')
