"""Coming back, end to end through the use cases: requests, check-in, re-entry,
ranked options, placing, fresh cohorts and time back to group."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from scheduler.errors import (
    CohortNotReady,
    InvalidValue,
    NoSeatLeft,
    OptionNotAvailable,
)
from scheduler.models import (
    AuditEvent,
    Cohort,
    Enrollment,
    FollowUp,
    FormingMember,
    GroupSession,
    Notification,
    PlacementDecision,
    WaitlistEntry,
)
from scheduler.services import enrollments, reports, returns
from tests.statements import counted


def _past_sessions(db, cohort, now, last_day=None):
    query = sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id, GroupSession.status == "scheduled",
        GroupSession.ends_at <= now)
    if last_day is not None:
        query = query.where(GroupSession.occurs_on <= last_day)
    return list(db.session.scalars(query.order_by(GroupSession.starts_at)))


def _with_history(build, db, clock, cohort, client, last_day, status="paused"):
    """Enroll from the cohort's start, attend every session up to ``last_day``, then
    pause (or withdraw) the enrollment."""
    enrollment = build.enroll(client, cohort, joined_on=cohort.starts_on)
    for session in _past_sessions(db, cohort, clock(), last_day):
        enrollments.record_attendance(session.id, [{"client_id": client.id,
                                                    "status": "present"}],
                                      None, clock(), build.policy)
    enrollments.change_status(enrollment.id, status, clock(), build.policy)
    return enrollment


def _request(client, now, channel="phone"):
    request, _ = returns.submit_return(
        {"name": client.name, "email": client.email, "phone": client.phone}, channel, now)
    return request


@pytest.fixture
def returner(build, db, clock):
    """Someone who attended a Boston evening group until Thu Nov 26 and paused."""
    cohort = build.cohort(capacity=4)
    client = build.client("Robin Example", email="robin@example.org", phone="617-555-0101")
    _with_history(build, db, clock, cohort, client, date(2026, 11, 26))
    return client, cohort


def test_a_request_from_someone_new_creates_a_client_for_staff_to_confirm(db, clock):
    request, joined = returns.submit_return(
        {"name": "Sam New", "email": "Sam@Example.org"}, "web", clock())
    assert not joined and request.client.needs_confirmation
    assert db.session.scalar(sa.select(FollowUp.kind)) == "confirm_client"


def test_a_request_is_matched_to_a_client_by_a_differently_written_phone(build, clock):
    client = build.client(phone="617-555-0199")
    request, _ = returns.submit_return({"name": "R", "phone": "+1 (617) 555 0199"}, "phone",
                                       clock())
    assert request.client_id == client.id and not request.client.needs_confirmation


def test_a_new_request_queues_one_welcome_back_message(db, build, clock):
    client = build.client(email="kai@example.org")
    request = _request(client, clock())
    sent = db.session.scalars(sa.select(Notification)).all()
    assert [(n.kind, n.subject_ref) for n in sent] == [
        ("welcome_back", f"return_request:{request.id}")]


def test_asking_again_while_a_request_is_open_joins_it(db, build, clock):
    client = build.client(email="kai@example.org")
    first = _request(client, clock())
    clock.advance(hours=3)
    again, joined = returns.submit_return(
        {"name": "Kai", "email": "KAI@example.org ", "message": "Still keen"}, "web", clock())
    assert joined and again.id == first.id
    assert (again.contacts, again.last_contact_at) == (2, clock())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1


def test_a_request_needs_a_name_and_one_way_to_reach_them(clock):
    with pytest.raises(InvalidValue) as missing_contact:
        returns.submit_return({"name": "Jo"}, "web", clock())
    assert missing_contact.value.field == "email"
    with pytest.raises(InvalidValue) as missing_name:
        returns.submit_return({"name": "  ", "phone": "6175550100"}, "web", clock())
    assert missing_name.value.field == "name"


def test_moving_a_check_in_raises_its_revision(build, clock):
    request = _request(build.client(email="a@example.org"), clock())
    at = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    booked = returns.book_check_in(request.id, at, "phone", clock())
    moved = returns.book_check_in(request.id, at + timedelta(hours=2), "video", clock())
    assert moved.id == booked.id and moved.revision == 1 and moved.mode == "video"


def test_cancelling_a_check_in_keeps_it_and_raises_its_revision(build, clock):
    request = _request(build.client(email="a@example.org"), clock())
    returns.book_check_in(request.id, clock() + timedelta(days=1), "in_person", clock())
    cancelled = returns.cancel_check_in(request.id, clock())
    assert (cancelled.status, cancelled.revision) == ("cancelled", 1)


def test_a_check_in_marked_done_stamps_checked_in(build, clock):
    request = _request(build.client(email="a@example.org"), clock())
    clock.advance(hours=2)
    returns.book_check_in(request.id, clock() - timedelta(hours=1), "phone", clock(),
                          status="done")
    assert request.checked_in_at == clock() - timedelta(hours=1)


def test_a_check_in_is_never_before_the_request_in_the_past_or_done_before_it_happens(
        build, clock):
    request = _request(build.client(email="a@example.org"), clock())
    clock.advance(days=1)
    cases = [(clock() - timedelta(days=2), "done", "at", "before they asked"),
             (clock() - timedelta(hours=3), "booked", "at", "has not passed"),
             (clock() + timedelta(hours=3), "done", "status", "once it has happened")]
    for at, status, field, words in cases:
        with pytest.raises(InvalidValue, match=words) as refused:
            returns.book_check_in(request.id, at, "phone", clock(), status=status)
        assert refused.value.field == field
    assert returns.current_check_in(request.id) is None
    returns.book_check_in(request.id, clock() - timedelta(hours=3), "phone", clock(),
                          status="done")  # one that happened, recorded after
    returns.book_check_in(request.id, clock() + timedelta(days=1), "video", clock())


def test_reentry_derives_time_away_from_attendance(db, returner, clock):
    client, cohort = returner
    request = _request(client, clock())
    reentry = returns.record_reentry(request.id, {"preference": "same_group"}, None, clock())
    last = db.session.get(GroupSession, reentry.last_attended_session_id)
    assert last.occurs_on == date(2026, 11, 26)
    assert reentry.days_away == 4


def returns_policy():
    from scheduler.config import Policy

    return Policy()


@pytest.mark.parametrize(("answer", "review"), [("yes", True), ("no", False),
                                                ("prefer_not_to_say", False), (None, False)])
def test_using_again_only_flags_a_clinical_review(returner, clock, answer, review):
    client, _ = returner
    request = _request(client, clock())
    before = [o.id for o in returns.options_for(request.id, clock(), returns_policy()).options]
    reentry = returns.record_reentry(request.id, {"using_again": answer}, None, clock())
    after = [o.id for o in returns.options_for(request.id, clock(), returns_policy()).options]
    assert reentry.clinical_review is review and after == before


def test_a_returner_four_days_away_is_offered_their_group_first(returner, build, clock):
    client, cohort = returner
    build.cohort(location=cohort.location)
    request = _request(client, clock())
    ranking = returns.options_for(request.id, clock(), build.policy)
    first = ranking.options[0]
    assert first.id == f"resume:{cohort.id}"
    assert first.progress.credited == 12 and first.progress.remaining == 24
    assert "Same group as before" in first.reasons[0]


def test_resuming_reactivates_their_own_enrollment(db, returner, build, clock):
    client, cohort = returner
    request = _request(client, clock())
    placed = returns.place(request.id, f"resume:{cohort.id}", None, clock(), build.policy)
    assert placed.enrollment.status == "active"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.client_id == client.id)) == 1
    assert request.status == "placed" and request.placed_at == clock()


def test_placing_records_the_choice_who_made_it_and_every_option_offered(
        db, returner, build, clock):
    from scheduler.services.staff import create_staff

    client, cohort = returner
    other = build.cohort(location=cohort.location)
    staff_id = create_staff("c@staff.test", "coordinator", clock())[0].id
    request = _request(client, clock())
    returns.place(request.id, f"join:{other.id}", staff_id, clock(), build.policy)
    decision = db.session.scalars(sa.select(PlacementDecision)).one()
    assert (decision.kind, decision.cohort_id, decision.decided_by) == (
        "join", other.id, staff_id)
    assert decision.chosen["id"] == f"join:{other.id}"
    assert {o["id"] for o in decision.offered} >= {f"resume:{cohort.id}", f"join:{other.id}"}


def test_joining_another_group_carries_credited_sessions(returner, build, clock):
    client, cohort = returner
    other = build.cohort(location=cohort.location)
    request = _request(client, clock())
    placed = returns.place(request.id, f"join:{other.id}", None, clock(), build.policy)
    assert placed.enrollment.cohort_id == other.id
    assert placed.enrollment.credited_sessions == 12
    assert placed.enrollment.return_request_id == request.id


def test_staff_may_credit_sessions_older_than_the_window(db, build, clock):
    old = build.cohort(starts_on=date(2026, 3, 2))
    client = build.client(email="old@example.org")
    clock.set(datetime(2026, 3, 20, 15, 0, tzinfo=UTC))
    _with_history(build, db, clock, old, client, date(2026, 3, 19), status="withdrawn")
    clock.set(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    fresh_group = build.cohort()
    request = _request(client, clock())
    option = next(o for o in returns.options_for(request.id, clock(), build.policy).options
                  if o.id == f"join:{fresh_group.id}")
    assert (option.progress.credited, option.progress.beyond_window) == (0, 9)
    placed = returns.place(request.id, option.id, None, clock(), build.policy,
                           credited_sessions=9)
    assert placed.enrollment.credited_sessions == 9


def test_credit_beyond_what_was_attended_is_refused(returner, build, clock):
    client, cohort = returner
    request = _request(client, clock())
    with pytest.raises(InvalidValue) as error:
        returns.place(request.id, f"resume:{cohort.id}", None, clock(), build.policy,
                      credited_sessions=30)
    assert error.value.field == "credited_sessions"


def test_the_last_seat_goes_to_one_returner_and_the_other_is_told_it_is_gone(
        build, db, clock):
    cohort = build.cohort(capacity=1)
    first = _request(build.client(email="one@example.org"), clock())
    second = _request(build.client(email="two@example.org"), clock())
    option = f"join:{cohort.id}"
    assert option in [o.id for o in returns.options_for(second.id, clock(),
                                                        build.policy).options]
    returns.place(first.id, option, None, clock(), build.policy)
    with pytest.raises(OptionNotAvailable):
        returns.place(second.id, option, None, clock(), build.policy)
    assert second.status == "open"


def test_placing_on_a_waitlist_makes_an_entry_linked_to_the_request(db, build, clock):
    cohort = build.full_cohort(capacity=1)
    request = _request(build.client(email="w@example.org"), clock())
    placed = returns.place(request.id, f"waitlist:{cohort.id}", None, clock(), build.policy)
    entry = db.session.get(WaitlistEntry, placed.waitlist_entry.id)
    assert (entry.cohort_id, entry.return_request_id) == (cohort.id, request.id)


def _fresh(build, clock, location, n):
    """n new returners each placed into the fresh evening group at ``location``."""
    from scheduler.models import Track, db

    if db.session.scalar(sa.select(Track.id)) is None:
        build.track()
    placed = []
    for i in range(n):
        request = _request(build.client(email=f"fresh{i}@example.org"), clock())
        returns.record_reentry(request.id, {"dayparts": ["evening"],
                                            "location_ids": [location.id]}, None, clock())
        option = next(o for o in returns.options_for(request.id, clock(), build.policy).options
                      if o.kind == "fresh")
        placed.append(returns.place(request.id, option.id, None, clock(), build.policy))
    return placed


def test_returners_choosing_a_new_fresh_group_share_one_forming_cohort(db, build, clock):
    full = build.full_cohort(capacity=1)
    placed = _fresh(build, clock, full.location, 2)
    cohorts = {p.forming_member.cohort_id for p in placed}
    assert len(cohorts) == 1
    forming = placed[0].forming_member
    assert db.session.get(type(full), forming.cohort_id).status == "forming"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GroupSession).where(
        GroupSession.cohort_id == forming.cohort_id)) == 0


def test_a_forming_cohort_is_ready_at_the_minimum_size(build, clock):
    location = build.location()
    _fresh(build, clock, location, build.policy.fresh_min_size - 1)
    assert returns.forming_cohorts(clock(), build.policy, ready_only=True) == []
    request = _request(build.client(email="last@example.org"), clock())
    returns.record_reentry(request.id, {"dayparts": ["evening"],
                                        "location_ids": [location.id]}, None, clock())
    option = next(o for o in returns.options_for(request.id, clock(), build.policy).options
                  if o.kind == "fresh")
    returns.place(request.id, option.id, None, clock(), build.policy)
    ready = returns.forming_cohorts(clock(), build.policy, ready_only=True)
    assert len(ready) == 1 and len(ready[0].members) == build.policy.fresh_min_size


def test_opening_a_ready_cohort_enrolls_members_makes_sessions_and_tells_them(
        db, build, clock):
    location = build.location()
    placed = _fresh(build, clock, location, 4)
    cohort_id = placed[0].forming_member.cohort_id
    cohort, made = returns.open_forming(cohort_id, None, clock(), build.policy)
    # opened at 10 AM on a Monday: the evening group first meets that evening
    assert cohort.status == "running" and cohort.starts_on == date(2026, 11, 30)
    assert {e.client_id for e in made} == {p.forming_member.client_id for p in placed}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GroupSession).where(
        GroupSession.cohort_id == cohort_id)) > 0
    kinds = db.session.scalars(sa.select(Notification.kind).where(
        Notification.subject_ref == f"cohort:{cohort_id}")).all()
    # each member heard once on joining and once when it opened
    assert sorted(kinds) == ["cohort_opened"] * 4 + ["fresh_joined"] * 4
    event = db.session.scalars(sa.select(AuditEvent)).one()
    assert (event.action, event.entity_id, event.detail["members"]) == (
        "cohort_opened", cohort_id, 4)


def test_a_cohort_short_of_the_minimum_opens_only_early(build, clock):
    placed = _fresh(build, clock, build.location(), 2)
    cohort_id = placed[0].forming_member.cohort_id
    with pytest.raises(CohortNotReady):
        returns.open_forming(cohort_id, None, clock(), build.policy)
    cohort, made = returns.open_forming(cohort_id, None, clock(), build.policy, early=True)
    assert cohort.status == "running" and len(made) == 2


def test_merging_moves_forming_members_into_a_running_cohort(db, build, clock):
    location = build.location()
    placed = _fresh(build, clock, location, 2)
    forming_id = placed[0].forming_member.cohort_id
    target = build.cohort(location=location, capacity=5)
    returns.merge_forming(forming_id, target.id, None, clock(), build.policy)
    members = db.session.scalars(sa.select(FormingMember)).all()
    assert {m.status for m in members} == {"enrolled"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.cohort_id == target.id, Enrollment.status == "active")) == 2


def test_merging_into_a_cohort_without_enough_seats_is_refused(build, clock):
    location = build.location()
    placed = _fresh(build, clock, location, 2)
    target = build.cohort(location=location, capacity=1)
    with pytest.raises(NoSeatLeft):
        returns.merge_forming(placed[0].forming_member.cohort_id, target.id, None, clock(),
                              build.policy)


def test_a_forming_cohort_merges_only_into_a_group_at_its_own_site(db, build, clock):
    here, there = build.location("Boston"), build.location("Needham")
    placed = _fresh(build, clock, here, 2)
    forming_id = placed[0].forming_member.cohort_id
    elsewhere = build.cohort(location=there, capacity=5)
    with pytest.raises(InvalidValue) as refused:
        returns.merge_forming(forming_id, elsewhere.id, None, clock(), build.policy)
    assert refused.value.field == "cohort_id" and "Needham" in str(refused.value)
    db.session.rollback()
    assert {m.status for m in db.session.scalars(sa.select(FormingMember))} == {"waiting"}
    assert db.session.get(Cohort, forming_id).status == "forming"


def test_time_back_to_group_runs_from_request_to_first_attended_session(db, build, clock):
    cohort = build.cohort()
    request = _request(build.client(email="t@example.org"), clock())
    clock.advance(days=1)
    returns.place(request.id, f"join:{cohort.id}", None, clock(), build.policy)
    session = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id, GroupSession.starts_at > clock())
        .order_by(GroupSession.starts_at)).first()
    clock.set(session.ends_at)
    enrollments.record_attendance(session.id, [{"client_id": request.client_id,
                                                "status": "present"}], None, clock(),
                                  build.policy)
    report = reports.time_back(clock())
    expected = round((session.starts_at - request.requested_at).total_seconds() / 86400, 1)
    assert report.back_in_group == 1 and report.median_days == expected
    assert report.items[0]["days_to_placed"] == 1.0


def test_options_take_the_same_number_of_queries_for_few_or_many_cohorts(db, build, clock):
    location, track = build.location(), build.track()
    request = _request(build.client(email="q@example.org"), clock())

    def count_queries() -> int:
        with counted() as seen:
            returns.options_for(request.id, clock(), build.policy)
        return len(seen)

    build.cohort(location=location, track=track)
    few = count_queries()
    for i in range(6):
        build.cohort(location=location, track=track, mode="closed" if i % 2 else "rolling")
    assert count_queries() == few


def test_control_characters_are_dropped_from_what_is_stored(db, clock):
    request, _ = returns.submit_return(
        {"name": "Sam\x00 Example", "email": "sam@example.org", "message": "Hi\x00\nthere"},
        "web", clock())
    assert (request.name, request.message) == ("Sam Example", "Hi\nthere")


def test_coordinators_placing_returners_at_the_same_instant_never_overfill_a_group(
        app, db, build, clock):
    import threading

    cohort = build.cohort(capacity=2)
    requests = [_request(build.client(email=f"race{i}@example.org"), clock()).id
                for i in range(6)]
    cohort_id, policy = cohort.id, build.policy
    db.session.remove()
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(requests))

    def attempt(return_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                returns.place(return_id, f"join:{cohort_id}", None, clock(), policy)
                result = "placed"
            except (NoSeatLeft, OptionNotAvailable):
                result = "full"
            finally:
                from scheduler.models import db as local_db

                local_db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(rid,)) for rid in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["full"] * 4 + ["placed"] * 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.cohort_id == cohort_id, Enrollment.status == "active")) == 2


def test_the_same_new_person_asking_from_many_tabs_at_once_becomes_one_client(app, db, clock):
    import threading

    from scheduler.models import Client, ReturnRequest
    from scheduler.models import db as shared_db

    db.session.rollback()  # hold no lock while the threads race
    barrier = threading.Barrier(8)
    errors: list[Exception] = []

    def ask() -> None:
        with app.app_context():
            barrier.wait()
            try:
                returns.submit_return({"name": "Sam New", "email": "Sam.New@Example.org",
                                       "phone": None, "message": None}, "web", clock())
            except Exception as exc:  # collected: the assertion below names it
                errors.append(exc)
            finally:
                shared_db.session.remove()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 1
    [request] = db.session.scalars(sa.select(ReturnRequest)).all()
    assert request.contacts == 8


def test_a_cohort_opened_too_late_for_tonight_first_meets_at_its_next_session(
        db, build, clock):
    location = build.location()
    placed = _fresh(build, clock, location, 4)
    clock.set(datetime(2026, 11, 30, 18, 30, tzinfo=UTC))  # 1:30 PM: under six hours to 6 PM
    cohort, made = returns.open_forming(placed[0].forming_member.cohort_id, None, clock(),
                                        build.policy)
    first = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id).order_by(GroupSession.starts_at)).first()
    assert cohort.starts_on == first.occurs_on > date(2026, 11, 30)
    assert first.starts_at - clock() >= timedelta(hours=build.policy.fresh_notice_hours)
    assert {e.joined_on for e in made} == {first.occurs_on}
