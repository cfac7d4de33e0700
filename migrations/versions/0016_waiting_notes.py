"""nobody out of sight: client.waiting_notes and location.digest_hour

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 05:30:00

A person waiting to be back in a group hears from the program at least weekly
unless they stop these notes (client.waiting_notes). Coordinators of a location get
one email a day listing its new return requests at the hour it chooses
(location.digest_hour, local; empty for none).
"""
from alembic import op
import sqlalchemy as sa

from scheduler.migration_guard import refuse_data_loss

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_notes', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_hour', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_location_digest_hour_in_day'), 'digest_hour >= 0 AND digest_hour <= 23')


def downgrade():
    refuse_data_loss(columns=[('location', 'digest_hour')])
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_location_digest_hour_in_day'), type_='check')
        batch_op.drop_column('digest_hour')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_column('waiting_notes')
