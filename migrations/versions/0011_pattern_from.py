"""a pattern change may take effect on a later date: cohort.pattern_from

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 01:50:00

Group sessions before ``pattern_from`` keep their times when the group's pattern
is materialised again (see scheduler/services/cohorts.materialise).
"""
from alembic import op
import sqlalchemy as sa

from scheduler.migration_guard import refuse_data_loss


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pattern_from', sa.Date(), nullable=True))


def downgrade():
    refuse_data_loss(columns=[('cohort', 'pattern_from')])
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.drop_column('pattern_from')
