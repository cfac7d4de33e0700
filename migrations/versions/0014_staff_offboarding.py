"""staff offboarding: console sessions end with a version, API tokens expire

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 02:20:00
"""
from alembic import op
import sqlalchemy as sa

from scheduler.migration_guard import refuse_data_loss

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))


def downgrade():
    refuse_data_loss(columns=[('api_token', 'expires_at'), ('staff_user', 'session_version')])
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
