"""requests in play found without reading every request ever made: indexes on
return_request

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 19:15:00

Every console page counts the open requests nobody has booked a check-in for (the
Returners badge); Returners lists open ones oldest first and the latest placed or
closed; long waits and time back read those open or placed and not yet at a group
session, and the requests of the last 90 days. With no index but the client's,
each was a scan of every request ever made: at 100,000 past requests the badge
took 51 ms and Returners 170 ms of PostgreSQL's time on each visit.
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

OPEN = "status = 'open'"
WAITING = "status IN ('open', 'placed') AND first_attended_at IS NULL"


def upgrade():
    op.create_index("ix_return_request_open", "return_request", ["requested_at", "id"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("ix_return_request_waiting", "return_request", ["requested_at", "id"],
                    sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING))
    op.create_index("ix_return_request_requested_at", "return_request", ["requested_at"])
    op.create_index("ix_return_request_updated_at", "return_request", ["updated_at", "id"])


def downgrade():
    for name in ("ix_return_request_updated_at", "ix_return_request_requested_at",
                 "ix_return_request_waiting", "ix_return_request_open"):
        op.drop_index(name, table_name="return_request")
