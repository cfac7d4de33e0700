"""The database enforces what the models say, and migrations match the models."""

from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from scheduler.models import Cohort, Enrollment, GroupSession


def test_migrations_and_models_describe_the_same_schema(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_the_database_refuses_a_second_active_enrollment_for_one_client_in_one_cohort(
        db, build):
    cohort, client = build.cohort(), build.client()
    build.enroll(client, cohort)
    db.session.add(Enrollment(client_id=client.id, cohort_id=cohort.id, status="active",
                              joined_on=date(2026, 11, 30)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_database_allows_a_new_enrollment_after_an_old_one_ended(db, build):
    cohort, client = build.cohort(), build.client()
    db.session.add(Enrollment(client_id=client.id, cohort_id=cohort.id, status="withdrawn",
                              joined_on=date(2026, 1, 5)))
    db.session.commit()
    build.enroll(client, cohort)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 2


def test_the_database_refuses_a_negative_capacity(db, build):
    cohort = build.cohort()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(Cohort).where(Cohort.id == cohort.id).values(capacity=-1)
                           .execution_options(synchronize_session=False))
    db.session.rollback()


def test_the_database_refuses_a_group_session_that_ends_before_it_starts(db, build):
    cohort = build.cohort()
    first = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id)).first()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(GroupSession).where(GroupSession.id == first.id)
                           .values(ends_at=first.starts_at)
                           .execution_options(synchronize_session=False))
    db.session.rollback()
