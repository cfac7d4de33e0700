"""Every way a returner gets back into a group, from every state they left in.

Each case follows one person from "I'd like to come back" to their seat and checks
what the program promised: one live enrollment, their progress carried, told once
(where, when, who to contact, their calendar link), and nothing stale left behind.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from scheduler.messages import render
from scheduler.models import (
    CheckIn,
    Enrollment,
    GroupSession,
    Notification,
    SeatOffer,
    db,
)
from scheduler.services import enrollments, outbox, returns, waitlist
from scheduler.services.seats import sessions_done
from scheduler.timeutil import human_when
from tests.forms import post_form
from tests.returns_support import ask_to_come_back, attend_until

ADDRESS = "100 Example Street, Boston, MA"
PHONE = "617-555-0100"
BOSTON = ZoneInfo("America/New_York")

STARTS = ("never", "paused_with_hold", "paused_after_hold", "withdrawn_long_ago")
PATHS = ("resume", "join", "waitlist_page", "waitlist_staff", "fresh_opened", "fresh_merged")
# resume needs a group to resume; it is offered within the resume window only
CASES = [(p, s) for p in PATHS for s in STARTS
         if not (p == "resume" and s in ("never", "withdrawn_long_ago"))]


class Program:
    """Boston with two running evening groups and one full one."""

    def __init__(self, build):
        self.build = build
        self.boston = build.location("Boston", address=ADDRESS, phone=PHONE,
                                     reply_to="boston@example.org")
        self.track = build.track("Evening")
        self.home = build.cohort(self.boston, self.track, name="Monday Evening", capacity=4)
        self.other = build.cohort(self.boston, self.track, name="Wednesday Evening",
                                  capacity=6, weekdays=["tue", "thu"])
        self.full = build.cohort(self.boston, self.track, name="Friday Evening", capacity=2,
                                 weekdays=["mon", "fri"])
        self.full_seats = [build.enroll(build.client(f"Seated {n}"), self.full)
                           for n in range(2)]


def start_in(program, state: str):
    """The returner in the given state; returns (client, credit they have earned)."""
    build = program.build
    client = build.client("Robin Example", email="robin@example.org", phone="617-555-0101")
    if state == "never":
        return client, 0
    if state == "withdrawn_long_ago":
        old = build.cohort(program.boston, program.track, name="Spring Evening",
                           starts_on=date(2026, 3, 2), capacity=10)
        attend_until(build, old, client, date(2026, 3, 12), status="withdrawn")
        return client, 0
    enrollment = attend_until(build, program.home, client, date(2026, 11, 26))
    if state == "paused_after_hold":
        enrollments.change_status(enrollment.id, "paused", build.clock(), build.policy,
                                  release_hold=True)
    return client, sessions_done(enrollment)


def place_by(program, request, kind: str, cohort_id=None, credited=None):
    build = program.build
    ranking = returns.options_for(request.id, build.clock(), build.policy)
    option = next(o for o in ranking.options if o.kind == kind
                  and (cohort_id is None or o.cohort_id == cohort_id))
    return option, returns.place(request.id, option.id, None, build.clock(), build.policy,
                                 credited_sessions=credited)


def take_the_offer(app, program, client, how: str):
    build = program.build
    enrollments.change_status(program.full_seats[0].id, "withdrawn", build.clock(),
                              build.policy)
    [offer] = db.session.scalars(sa.select(SeatOffer).where(
        SeatOffer.client_id == client.id, SeatOffer.status == "open")).all()
    if how == "page":
        token = waitlist.offer_token(offer.id)
        response = post_form(app.test_client(), "/come-back", {},
                             action=f"/offers/{token}/accept")
        assert response.status_code == 303
    else:
        waitlist.answer_for_client(offer.id, "accept", build.clock(), staff_id=None,
                                   policy=build.policy)


@pytest.mark.parametrize(("path", "state"), CASES)
def test_every_path_into_a_group_keeps_every_promise(app, build, clock, path, state):
    program = Program(build)
    client, earned = start_in(program, state)
    request = ask_to_come_back(client, clock())
    check_in = returns.book_check_in(request.id, clock() + timedelta(days=1), "phone",
                                     clock())
    outbox.plan_reminders(clock(), build.policy)
    returns.record_reentry(request.id, {"preference": "no_preference",
                                        "dayparts": ["evening"]}, None, clock())

    if path == "resume":
        option, _ = place_by(program, request, "resume", program.home.id)
        target = program.home
    elif path == "join":
        option, _ = place_by(program, request, "join", program.other.id)
        target = program.other
    elif path.startswith("waitlist"):
        target = program.full
        option, placed = place_by(program, request, "waitlist", program.full.id)
        assert placed.waitlist_entry.credited_sessions == option.progress.credited
        take_the_offer(app, program, client, path.removeprefix("waitlist_"))
    else:
        option, placed = place_by(program, request, "fresh", credited=earned)
        assert placed.forming_member.credited_sessions == earned
        fresh = next(v for v in returns.forming_cohorts(clock(), build.policy))
        if path == "fresh_opened":
            target, _ = returns.open_forming(fresh.cohort.id, None, clock(), build.policy,
                                             early=True)
        else:
            target, _ = returns.merge_forming(fresh.cohort.id, program.other.id, None,
                                              clock(), build.policy)

    db.session.expire_all()
    live = list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.client_id == client.id, Enrollment.status.in_(("active", "paused")))))
    assert [(e.cohort_id, e.status) for e in live] == [(target.id, "active")]
    seat = live[0]
    # progress carried: never less than what they had earned and were offered
    assert sessions_done(seat) >= max(earned if path != "join" or state == "never" else 0,
                                      option.progress.credited)
    if state.startswith("paused") and target.id == program.home.id:
        assert seat.id == db.session.scalar(sa.select(sa.func.min(Enrollment.id)).where(
            Enrollment.client_id == client.id))  # their own enrollment, reused

    # told once, with when, where, who to contact and their calendar link
    told = list(db.session.scalars(sa.select(Notification).where(
        Notification.client_id == client.id,
        Notification.kind.in_(("placed", "cohort_opened")))))
    assert [(n.channel, n.recipient) for n in told] == [("sms", "617-555-0101")]  # as they asked
    text = render(told[0], app.jinja_env, app.config).text
    first = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == target.id, GroupSession.status == "scheduled",
        GroupSession.starts_at > clock(), GroupSession.occurs_on >= seat.joined_on)
        .order_by(GroupSession.starts_at)).first()
    assert human_when(first.starts_at, BOSTON) in text
    assert ADDRESS in text and PHONE in text
    assert "https://regroup.test/me/" in text  # their page: every session, calendar buttons

    # nothing stale: the booked check-in and its reminders are settled
    assert db.session.get(CheckIn, check_in.id).status == "cancelled"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.subject_ref == f"check_in:{check_in.id}",
        Notification.status == "pending")) == 0


@pytest.mark.parametrize("opted_in", [False, True])
def test_the_placed_message_names_the_program_only_for_those_who_chose_it(
        app, build, clock, opted_in):
    boston = build.location("Boston", address=ADDRESS, phone=PHONE,
                            reply_to="boston@example.org")
    cohort = build.cohort(boston, build.track("IOP Evening"), name="IOP Evening A")
    client = build.client("Robin Example", email="robin@example.org",
                          program_words_opt_in=opted_in)
    request = ask_to_come_back(client, clock(), channel="email")
    place_by_option = returns.options_for(request.id, clock(), build.policy).options
    join = next(o for o in place_by_option if o.cohort_id == cohort.id)
    returns.place(request.id, join.id, None, clock(), build.policy)
    [told] = db.session.scalars(sa.select(Notification).where(
        Notification.kind == "placed")).all()
    message = render(told, app.jinja_env, app.config)
    assert ("IOP" in message.text) is opted_in
    if not opted_in:
        assert "the group that meets Mondays, Wednesdays and Thursdays at 6:00 PM" in (
            message.text)
    assert message.headers["Reply-To"] == "boston@example.org"
