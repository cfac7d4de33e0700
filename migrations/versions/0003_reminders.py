"""reminders: notification.sending_at and an index on notification.subject_ref

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 07:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from scheduler.migration_guard import refuse_data_loss

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sending_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_notification_subject_ref"), ["subject_ref"],
                              unique=False)


def downgrade():
    refuse_data_loss(columns=[('notification', 'sending_at')])
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_subject_ref"))
        batch_op.drop_column("sending_at")
