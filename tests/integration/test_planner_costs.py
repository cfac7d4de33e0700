"""On PostgreSQL every connection Regroup opens tells the planner that a random page
read costs about what a sequential one does (1.1, as on SSD storage, not the
server's default of 4, which assumes spinning disks). With the default, the
Returners queue read every request and every check-in ever made to find its few
dozen, and grew with the history kept."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from scheduler import reads
from scheduler.models import db
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="checked on PostgreSQL")


def setting_on(engine) -> str:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SHOW random_page_cost").scalar()


def test_the_session_and_the_reads_engine_plan_for_ssd_storage_by_default(make_app):
    app = make_app({"SQLALCHEMY_DATABASE_URI": PG_URL})
    with app.app_context():
        assert setting_on(db.engine) == "1.1"
        assert setting_on(reads.engine()) == "1.1"
        assert db.session.execute(sa.text("SHOW statement_timeout")).scalar() == "1min"


def test_the_cost_is_configurable(make_app):
    with make_app({"SQLALCHEMY_DATABASE_URI": PG_URL,
                   "DATABASE_RANDOM_PAGE_COST": "2"}).app_context():
        assert setting_on(db.engine) == "2"


def test_an_empty_cost_leaves_the_servers_own_setting(make_app):
    plain = sa.create_engine(PG_URL)
    try:
        server = setting_on(plain)
    finally:
        plain.dispose()
    with make_app({"SQLALCHEMY_DATABASE_URI": PG_URL,
                   "DATABASE_RANDOM_PAGE_COST": ""}).app_context():
        assert setting_on(db.engine) == server


def test_a_cost_that_is_not_a_number_stops_the_app_with_a_clear_error(make_app):
    with pytest.raises(RuntimeError, match="DATABASE_RANDOM_PAGE_COST must be a number"):
        make_app({"SQLALCHEMY_DATABASE_URI": PG_URL, "DATABASE_RANDOM_PAGE_COST": "fast"})
