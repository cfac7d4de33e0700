"""the feed knows it is subscribed: feed_token.subscribed_at

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 02:10:00

Set the first time a calendar app (not a browser) fetches the feed; from then on
emails no longer attach the session's calendar entry (it is already in their
calendar) and the client's page offers no single-event downloads.
"""
from alembic import op
import sqlalchemy as sa

from scheduler.migration_guard import refuse_data_loss

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feed_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subscribed_at', sa.DateTime(), nullable=True))


def downgrade():
    refuse_data_loss(columns=[('feed_token', 'subscribed_at')])
    with op.batch_alter_table('feed_token', schema=None) as batch_op:
        batch_op.drop_column('subscribed_at')
