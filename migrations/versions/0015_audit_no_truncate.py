"""the audit trail also refuses TRUNCATE (PostgreSQL)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 02:30:00

The row trigger of 0004 stops UPDATE and DELETE; TRUNCATE fires no row triggers,
so a statement trigger stops it too. (Emptying a scratch database on purpose, as the
test suite does, needs ``SET session_replication_role = replica`` as a superuser.)
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE TRIGGER audit_event_no_truncate
            BEFORE TRUNCATE ON audit_event
            FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
        """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
