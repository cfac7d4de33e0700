"""one home for seats: one live enrollment per person per group, credit carried
through the waitlist, contacts per location, re-showable feed links

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00

Before the unique index over live enrollments can exist, older duplicates (a
paused enrollment beside a later active one in the same group, which the old
offer path made) are folded: the newest live row stays, takes the larger credit,
and the older one ends as ``moved`` on the newer one's join date.
"""
from alembic import op
import sqlalchemy as sa

from scheduler.migration_guard import refuse_data_loss


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _fold_duplicate_live_enrollments():
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, client_id, cohort_id, credited_sessions, joined_on FROM enrollment "
        "WHERE status IN ('active', 'paused') ORDER BY client_id, cohort_id, id")).all()
    groups = {}
    for row in rows:
        groups.setdefault((row.client_id, row.cohort_id), []).append(row)
    for live in groups.values():
        if len(live) < 2:
            continue
        keep, older = live[-1], live[:-1]
        credit = max(r.credited_sessions for r in live)
        bind.execute(sa.text("UPDATE enrollment SET credited_sessions = :c, "
                             "joined_on = :j WHERE id = :id"),
                     {"c": credit, "j": min(r.joined_on for r in live), "id": keep.id})
        for row in older:
            bind.execute(sa.text("UPDATE enrollment SET status = 'moved', hold_until = NULL, "
                                 "left_on = :d WHERE id = :id"),
                         {"d": keep.joined_on, "id": row.id})


def upgrade():
    _fold_duplicate_live_enrollments()
    op.create_table(
        'check_in_slot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=True),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('mode', sa.String(length=10), nullable=False),
        sa.Column('places', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("mode IN ('in_person', 'phone', 'video')",
                           name=op.f('ck_check_in_slot_mode_known')),
        sa.CheckConstraint('places > 0', name=op.f('ck_check_in_slot_places_positive')),
        sa.CheckConstraint('minutes > 0', name=op.f('ck_check_in_slot_minutes_positive')),
        sa.ForeignKeyConstraint(['location_id'], ['location.id'],
                                name=op.f('fk_check_in_slot_location_id_location')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'],
                                name=op.f('fk_check_in_slot_staff_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in_slot')),
    )
    with op.batch_alter_table('check_in_slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_slot_starts_at'), ['starts_at'],
                              unique=False)
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_check_in_slot_id'), ['slot_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_check_in_slot_id_check_in_slot'),
                                    'check_in_slot', ['slot_id'], ['id'])
    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.drop_index('uq_enrollment_one_active',
                            sqlite_where=sa.text("status = 'active'"),
                            postgresql_where=sa.text("status = 'active'"))
        batch_op.create_index('uq_enrollment_one_live', ['client_id', 'cohort_id'],
                              unique=True,
                              sqlite_where=sa.text("status IN ('active', 'paused')"),
                              postgresql_where=sa.text("status IN ('active', 'paused')"))
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credited_sessions', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(), nullable=True))
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('reply_to', sa.String(length=254), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('former_contacts', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_client_merged_into_id_client', 'client',
                                    ['merged_into_id'], ['id'])
    with op.batch_alter_table('feed_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nonce', sa.String(length=64), nullable=True))


def downgrade():
    refuse_data_loss(tables=['check_in_slot'], columns=[('check_in', 'slot_id'), ('feed_token', 'nonce'), ('client', 'merged_into_id'), ('client', 'former_contacts'), ('location', 'reply_to'), ('location', 'phone'), ('waitlist_entry', 'not_before'), ('waitlist_entry', 'credited_sessions')])
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_check_in_slot_id_check_in_slot'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_check_in_slot_id'))
        batch_op.drop_column('slot_id')
    with op.batch_alter_table('check_in_slot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_slot_starts_at'))
    op.drop_table('check_in_slot')
    with op.batch_alter_table('feed_token', schema=None) as batch_op:
        batch_op.drop_column('nonce')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_constraint('fk_client_merged_into_id_client', type_='foreignkey')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('former_contacts')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_column('reply_to')
        batch_op.drop_column('phone')
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_column('not_before')
        batch_op.drop_column('credited_sessions')
    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.drop_index('uq_enrollment_one_live',
                            sqlite_where=sa.text("status IN ('active', 'paused')"),
                            postgresql_where=sa.text("status IN ('active', 'paused')"))
        batch_op.create_index('uq_enrollment_one_active', ['client_id', 'cohort_id'],
                              unique=True, sqlite_where=sa.text("status = 'active'"),
                              postgresql_where=sa.text("status = 'active'"))
