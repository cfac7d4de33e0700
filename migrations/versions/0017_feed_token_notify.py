"""feed revisions announced: PostgreSQL NOTIFY on every feed_token change

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 08:10:00

A change to a token's revision or its revocation, or its row going, announces the
token's id on the ``feed_token`` channel when the change commits (``pg_notify`` is
transactional). Each web worker listens (``calendars/watch.py``) and so knows, without
asking, that a feed it has served is unchanged: a warm poll costs no round trip.
SQLite has no NOTIFY; there every poll reads the revision, as before.
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION feed_token_announce() RETURNS trigger AS $$
        BEGIN
            IF TG_LEVEL = 'STATEMENT' THEN
                PERFORM pg_notify('feed_token', '*');
            ELSE
                PERFORM pg_notify('feed_token', OLD.id::text);
            END IF;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER feed_token_changed AFTER UPDATE ON feed_token
        FOR EACH ROW WHEN (OLD.revision IS DISTINCT FROM NEW.revision
                           OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
                           OR OLD.id IS DISTINCT FROM NEW.id)
        EXECUTE FUNCTION feed_token_announce()
    """)
    op.execute("""
        CREATE TRIGGER feed_token_gone AFTER DELETE ON feed_token
        FOR EACH ROW EXECUTE FUNCTION feed_token_announce()
    """)
    op.execute("""
        CREATE TRIGGER feed_token_emptied AFTER TRUNCATE ON feed_token
        FOR EACH STATEMENT EXECUTE FUNCTION feed_token_announce()
    """)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS feed_token_emptied ON feed_token")
    op.execute("DROP TRIGGER IF EXISTS feed_token_gone ON feed_token")
    op.execute("DROP TRIGGER IF EXISTS feed_token_changed ON feed_token")
    op.execute("DROP FUNCTION IF EXISTS feed_token_announce()")
