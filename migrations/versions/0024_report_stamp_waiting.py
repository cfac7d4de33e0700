"""long waits worked out once while no request or seat changes

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 16:40:00

Today and Returners show everyone who has waited too long to be back in a group,
looked for among every request on its way back on each visit. A fourth report
stamp (``waiting``, rewritten with any change of a return request or an enrollment)
lets each process find them once a minute and reuse the list while it holds.
"""
from uuid import uuid4

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text("INSERT INTO report_stamp (name, token) VALUES (:name, :token)")
               .bindparams(name="waiting", token=uuid4().hex))


def downgrade():
    op.execute(sa.text("DELETE FROM report_stamp WHERE name = 'waiting'"))
