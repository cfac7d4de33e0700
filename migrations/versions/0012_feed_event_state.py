"""what each feed last showed for each event, so text-only changes raise SEQUENCE

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 02:00:00
"""
from alembic import op
import sqlalchemy as sa

from scheduler.migration_guard import refuse_data_loss


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'feed_event_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('feed_kind', sa.String(length=12), nullable=False),
        sa.Column('feed_subject_id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(length=64), nullable=False),
        sa.Column('text_hash', sa.String(length=32), nullable=False),
        sa.Column('bumps', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('feed_kind', 'feed_subject_id', 'uid', name='uq_feed_event_state'),
    )


def downgrade():
    refuse_data_loss(tables=['feed_event_state'])
    op.drop_table('feed_event_state')
