"""The Boston + Needham demo program: realistic shape, obviously fictional people.

``load_demo`` is idempotent: when the demo's locations exist it changes nothing.
Everything is placed relative to ``now`` so the demo always looks current.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from scheduler.config import Policy
from scheduler.models import (
    Attendance,
    Client,
    Closure,
    Cohort,
    Enrollment,
    GroupSession,
    Location,
    StaffUser,
    Track,
    db,
)
from scheduler.passwords import hash_password
from scheduler.services import checkins, returns, waitlist
from scheduler.services.clients import email_key, phone_key
from scheduler.services.cohorts import materialise
from scheduler.timeutil import local_instant, local_today

DEMO_PASSWORD = "demo-password"
FIRST = ["Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indy",
         "Jules", "Kai", "Lane", "Morgan", "Noor", "Oakley", "Parker", "Quinn", "Reese",
         "Sage", "Tatum"]
LAST = ["Example", "Sample", "Demo", "Placeholder", "Testwell", "Mockford", "Fictive",
        "Madeup", "Pretendo", "Notreal"]
STAFF = [
    ("coordinator@demo.regroup.test", "Robin Coordinator (demo)", "coordinator"),
    ("admin@demo.regroup.test", "Alex Admin (demo)", "admin"),
    ("director@demo.regroup.test", "Dale Director (demo)", "viewer"),
    ("clinician.boston@demo.regroup.test", "Sam Facilitator (demo)", "clinician"),
    ("clinician.needham@demo.regroup.test", "Jo Facilitator (demo)", "clinician"),
]


def _next_holiday(today: date) -> tuple[date, str]:
    christmas = date(today.year, 12, 25)
    if christmas <= today:
        christmas = date(today.year + 1, 12, 25)
    return christmas, "Holiday: the program is closed"


def load_demo(now: datetime, policy: Policy, seed: int = 7) -> str:
    if db.session.scalar(sa.select(Location.id).where(Location.name == "Boston")):
        return "The demo program is already loaded; nothing changed."
    rng = random.Random(seed)
    today = local_today(now)
    staff = {}
    for email, name, role in STAFF:
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))
        if user is None:
            user = StaffUser(email=email, name=name, role=role,
                             password_hash=hash_password(DEMO_PASSWORD))
            db.session.add(user)
        staff[email] = user
    boston = Location(name="Boston", address="100 Example Street, Boston, MA 02110",
                      phone="617-555-0100", reply_to="boston@demo.regroup.test")
    needham = Location(name="Needham", address="25 Sample Avenue, Needham, MA 02492",
                       phone="781-555-0100", reply_to="needham@demo.regroup.test")
    evening = Track(name="IOP Evening", sessions_to_complete=36)
    day = Track(name="IOP Day", sessions_to_complete=36)
    db.session.add_all([boston, needham, evening, day])
    db.session.flush()
    b_fac = staff["clinician.boston@demo.regroup.test"].id
    n_fac = staff["clinician.needham@demo.regroup.test"].id
    started = today - timedelta(weeks=10)
    specs = [
        # name, location, track, weekdays, start, capacity, starts_on, ends_on, facilitator, room
        ("Boston Evening A", boston, evening, "mon,wed,thu", time(18, 0), 10, started, None,
         b_fac, "Room 2"),
        ("Boston Evening B", boston, evening, "tue,wed,fri", time(17, 30), 8,
         today - timedelta(weeks=6), None, b_fac, "Room 3"),
        ("Boston Daytime", boston, day, "mon,wed,fri", time(9, 30), 10,
         today - timedelta(weeks=12), None, b_fac, "Room 1"),
        ("Needham Evening", needham, evening, "tue,wed,thu", time(18, 0), 8,
         today - timedelta(weeks=8), None, n_fac, "Group room"),
        ("Needham Daytime", needham, day, "mon,tue,thu", time(10, 0), 8,
         today - timedelta(weeks=9), None, n_fac, "Group room"),
        ("Boston Evening (last year)", boston, evening, "mon,wed,thu", time(18, 0), 10,
         today - timedelta(weeks=70), today - timedelta(weeks=58), b_fac, "Room 2"),
    ]
    cohorts = []
    for name, loc, track, weekdays, start, cap, starts_on, ends_on, fac, room in specs:
        cohort = Cohort(name=name, location_id=loc.id, track_id=track.id, mode="rolling",
                        status="running", weekdays=weekdays, start_time=start, minutes=180,
                        capacity=cap, starts_on=starts_on, ends_on=ends_on,
                        facilitator_id=fac, room=room, opened_at=now)
        db.session.add(cohort)
        cohorts.append(cohort)
    db.session.flush()
    holiday, reason = _next_holiday(today)
    db.session.add(Closure(location_id=None, date=holiday, reason=reason))
    db.session.flush()
    for cohort in cohorts:
        materialise(cohort, now, policy, opening=True)
    cohorts[-1].status = "ended"
    db.session.flush()

    names = [f"{f} {last}" for last in LAST for f in FIRST]
    rng.shuffle(names)
    people = []
    for index, name in enumerate(names[:60]):
        handle = name.lower().replace(" ", ".")
        phone = f"617-555-{100 + index:04d}"
        email = f"{handle}@example.org"
        people.append(Client(name=name, email=email, phone=phone,
                             email_key=email_key(email), phone_key=phone_key(phone),
                             preferred_location_ids=[boston.id if index % 3 else needham.id],
                             availability={}, created_at=now, updated_at=now))
    db.session.add_all(people)
    db.session.flush()

    # (cohort, how many active, how many paused, pause lengths in days)
    plan = [(cohorts[0], 9, 2, [3, 20]), (cohorts[1], 8, 1, [45]),
            (cohorts[2], 7, 2, [10, 90]), (cohorts[3], 8, 2, [5, 30]),
            (cohorts[4], 6, 2, [14, 200]), (cohorts[5], 0, 4, [400, 420, 500, 700])]
    queue = iter(people)  # what is left of it afterwards has no group yet
    for cohort, active, paused, lengths in plan:
        sessions = list(db.session.scalars(sa.select(GroupSession).where(
            GroupSession.cohort_id == cohort.id, GroupSession.status == "scheduled")
            .order_by(GroupSession.starts_at)))
        past = [s for s in sessions if s.ends_at <= now]
        for _ in range(active):
            client = next(queue)
            joined = past[rng.randrange(0, max(len(past) // 2, 1))].occurs_on if past else today
            _enroll_with_history(cohort, client, joined, past, None, now, rng)
        for days in lengths[:paused]:
            client = next(queue)
            last_day = today - timedelta(days=days)
            attended = [s for s in past if s.occurs_on <= last_day]
            joined = attended[0].occurs_on if attended else cohort.starts_on
            _enroll_with_history(cohort, client, joined, attended, last_day, now, rng)
    db.session.commit()
    coordinator = staff["coordinator@demo.regroup.test"].id
    returns = _demo_returns(people, list(queue), cohorts, needham, now, policy, coordinator)
    return (f"Loaded the demo program: 2 locations, {len(cohorts)} cohorts, "
            f"{len(people)} clients, {returns} return requests, "
            f"closure on {holiday:%a %b %d %Y}. "
            f"Demo staff sign in with password {DEMO_PASSWORD!r}.")


def _demo_returns(people: list[Client], unplaced: list[Client], cohorts: list[Cohort],
                  needham: Location, now: datetime, policy: Policy, staff_id: int) -> int:
    """People waiting for full groups, and people coming back at each step of the way,
    all made through the real use cases."""
    today = local_today(now)
    full_boston, full_needham = cohorts[1], cohorts[3]
    for client, cohort in zip(unplaced[:5], [full_boston] * 3 + [full_needham] * 2,
                              strict=True):
        waitlist.add_to_waitlist(client.id, cohort.id, now)
    paused = list(db.session.scalars(sa.select(Client).join(
        Enrollment, Enrollment.client_id == Client.id).where(Enrollment.status == "paused")
        .order_by(Enrollment.paused_at)))
    long_gone, recent = paused[:3], paused[-2:]
    made = 0
    for index, client in enumerate(long_gone + recent):
        request, _ = returns.submit_return(
            {"name": client.name, "email": client.email, "phone": None,
             "message": "Hey, I think I'm ready to come back. Can we talk?" if index % 2
             else None},
            ("phone", "web", "email")[index % 3], now - timedelta(days=index + 1),
            staff_id=staff_id if index % 3 != 1 else None)
        made += 1
        if index >= 1:  # the next working day, in office hours
            returns.book_check_in(request.id,
                                  local_instant(_working_day_after(today), time(10 + index)),
                                  ("in_person", "phone", "video")[index % 3], now,
                                  staff_id=staff_id)
        if index >= 2 or client in long_gone:
            returns.record_reentry(request.id, {
                "using_again": (None, "prefer_not_to_say", "no")[index % 3],
                "preference": "fresh_group" if client in long_gone else "same_group",
                "weekdays": [], "dayparts": ["evening"],
                "location_ids": [needham.id] if client in long_gone else [],
            }, staff_id, now)
        if client in long_gone[1:]:
            ranking = returns.options_for(request.id, now, policy)
            fresh = next((o for o in ranking.options
                          if o.kind == "fresh" and o.location_id == needham.id), None)
            if fresh is not None:
                returns.place(request.id, fresh.id, staff_id, now, policy)
    _publish_check_in_times(today, needham, now, staff_id)
    returns.submit_return({"name": "Sky Newcomer", "email": None, "phone": "617-555-0199",
                           "message": None}, "web", now - timedelta(hours=3))
    return made + 1


def _working_day_after(day: date, n: int = 1) -> date:
    while n:
        day += timedelta(days=1)
        n -= day.weekday() < 5
    return day


def _publish_check_in_times(today: date, needham: Location, now: datetime,
                            staff_id: int) -> None:
    """Check-in times people can pick themselves: three a day for the next three
    working days (by phone, by video, in person at Needham)."""
    day = today
    for _ in range(3):
        day = _working_day_after(day)
        for at, mode in ((time(10, 0), "phone"), (time(13, 0), "video"),
                         (time(15, 30), "in_person")):
            checkins.publish_slot({"starts_at": local_instant(day, at), "mode": mode,
                                   "minutes": 30, "places": 2,
                                   "location_id": needham.id if mode == "in_person"
                                   else None}, now, staff_id=staff_id)


def _enroll_with_history(cohort: Cohort, client: Client, joined: date,
                         sessions: list[GroupSession], paused_on: date | None,
                         now: datetime, rng: random.Random) -> None:
    enrollment = Enrollment(client_id=client.id, cohort_id=cohort.id, joined_on=joined,
                            status="active", created_at=now, updated_at=now)
    if paused_on is not None:
        enrollment.status = "paused"
        enrollment.paused_at = datetime.combine(paused_on, time(12), tzinfo=now.tzinfo)
    db.session.add(enrollment)
    for session in sessions:
        if session.occurs_on < joined:
            continue
        roll = rng.random()
        status = "present" if roll < 0.8 else "late" if roll < 0.87 else (
            "excused" if roll < 0.94 else "absent")
        db.session.add(Attendance(group_session_id=session.id, client_id=client.id,
                                  status=status, recorded_at=session.ends_at))
