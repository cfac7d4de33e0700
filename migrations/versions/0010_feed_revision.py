"""feed versions stamped on write: feed_token.revision

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-04 01:30:00

A calendar app's poll reads one row by primary key; the revision rises in the
same transaction as any change the feed would show (see
scheduler/services/feed_stamps.py). Existing tokens start at 0: the feed cache
is per process, so a deploy starts with every feed built once anyway.
"""
from alembic import op
import sqlalchemy as sa

from scheduler.migration_guard import refuse_data_loss


revision = '0010'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feed_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    refuse_data_loss(columns=[('feed_token', 'revision')])
    with op.batch_alter_table('feed_token', schema=None) as batch_op:
        batch_op.drop_column('revision')
