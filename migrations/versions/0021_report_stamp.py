"""reports worked out once while nothing they count changes: report_stamp

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 21:30:00

Returners and Director showed time back over every request of the last 90 days,
worked out on each visit: at fifty times the demo, 1,400 requests and more than half
of the page's time; every console page counted the open requests needing a
check-in. A random token per report, rewritten in the same transaction as any change
it would count (scheduler/services/report_stamps.py), lets each process work it out
once and reuse it while the token (and, for time back, the minute) is the same.
"""
from uuid import uuid4

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_stamp",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("token", sa.String(32), nullable=False))
    for name in ("time_back", "needing_check_in"):
        op.execute(sa.text("INSERT INTO report_stamp (name, token) VALUES (:name, :token)")
                   .bindparams(name=name, token=uuid4().hex))


def downgrade():
    op.drop_table("report_stamp")  # random tokens only: no data is lost
