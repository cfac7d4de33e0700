"""Pure placement rules for people coming back: values in, ranked options out.

No database and no Flask. ``rank_options`` takes what the program knows about a
returner (their ``History``), what the check-in learned (``Answers``), snapshots
of the cohorts (``CohortSnapshot``) and the ``Policy``, and returns a ``Ranking``:
the options that fit, best first, each with plain sentences a coordinator can
read aloud, and every cohort it did not offer with the reason why.

Two promises shape the rules:

* "Using again?" is never an input to ranking. ``Answers`` does not even carry it;
  the service only uses it to flag a clinical review.
* Progress is never reset silently. Attended sessions inside the credit window
  count; older ones are reported as ``beyond_window`` for staff to decide.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time

from scheduler.config import Policy
from scheduler.timeutil import human_when, to_local

KINDS = ("resume", "join", "fresh", "waitlist")


def tier(rank_kind: str, preference: str) -> int:
    """How soon an option seats the person, as a rank (lower first): their own group
    with a seat; then every seat they could take now and every fresh group that
    would start soon, ordered by the first session (someone who asked for a fresh
    group gets those first); then fresh groups that still need people (in a full
    program they are what opens new seats); then their own group's line, then
    other lines."""
    if rank_kind == "resume":
        return 2 if preference == "fresh_group" else 0
    if rank_kind == "fresh_soon":
        return 1 if preference == "fresh_group" else 2
    if rank_kind == "join":
        return 2
    if rank_kind == "fresh_later":
        return 3
    return 4 if rank_kind == "waitlist_prior" else 5


@dataclass(frozen=True)
class CohortSnapshot:
    """What placement needs to know about one cohort, taken at one instant."""

    id: int
    name: str
    location_id: int
    location_name: str
    track_id: int
    status: str  # forming | running | ended
    mode: str  # rolling | closed
    weekdays: tuple[str, ...]
    start_time: time
    daypart: str
    capacity: int
    seats_taken: int = 0
    first_session_at: datetime | None = None
    # a closed cohort stops taking people after its third group session
    joinable: bool = True
    for_returners: bool = False
    members: int = 0  # places taken in a forming cohort

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)


@dataclass(frozen=True)
class TrackInfo:
    id: int
    name: str
    sessions_to_complete: int


@dataclass(frozen=True)
class History:
    """The returner's past, from attendance and enrollments (never typed in).

    ``attended_at`` holds the start of every group session they attended (present
    or late); ``carried`` holds (as of, sessions) credits granted on earlier
    enrollments. ``prior_cohort_id`` is the cohort of their last attended session
    (or their last enrollment when they never attended).
    """

    attended_at: tuple[datetime, ...] = ()
    carried: tuple[tuple[datetime, int], ...] = ()
    last_attended_at: datetime | None = None
    prior_cohort_id: int | None = None
    prior_enrollment_holds_seat: bool = False
    # their enrollment in the prior cohort is still live (paused): coming back
    # reuses it, so a closed group's joining window does not apply to them
    prior_enrollment_live: bool = False
    active_cohort_ids: frozenset[int] = frozenset()
    waiting_cohort_ids: frozenset[int] = frozenset()
    forming_cohort_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Answers:
    """The re-entry answers that shape placement (empty tuples mean "any")."""

    preference: str = "no_preference"
    weekdays: tuple[str, ...] = ()
    dayparts: tuple[str, ...] = ()
    location_ids: tuple[int, ...] = ()
    # carried for completeness and deliberately never read by rank_options:
    # saying "yes" must not lower anyone's place (it only flags a clinical review)
    using_again: str | None = None


@dataclass(frozen=True)
class Progress:
    credited: int
    total: int
    remaining: int
    beyond_window: int = 0

    def as_dict(self) -> dict:
        return {"credited": self.credited, "total": self.total, "remaining": self.remaining,
                "beyond_window": self.beyond_window}


@dataclass(frozen=True)
class Option:
    id: str
    kind: str
    cohort_id: int | None
    first_session_at: datetime | None
    seats_left: int | None
    progress: Progress
    reasons: tuple[str, ...]
    location_id: int | None = None
    track_id: int | None = None
    daypart: str | None = None
    # the group the person was in before
    previous_group: bool = False

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "cohort_id": self.cohort_id,
                "previous_group": self.previous_group,
                "first_session_at": (self.first_session_at.isoformat()
                                     if self.first_session_at else None),
                "seats_left": self.seats_left, "progress": self.progress.as_dict(),
                "reasons": list(self.reasons), "location_id": self.location_id,
                "track_id": self.track_id, "daypart": self.daypart}


@dataclass(frozen=True)
class NotOffered:
    cohort_id: int
    reason: str
    # "join" or "waitlist": it fits, but the best-fitting ones of that list are
    # offered and it was left out (a big program has many such; pages count them)
    crowded_out: str | None = None

    def as_dict(self) -> dict:
        return {"cohort_id": self.cohort_id, "reason": self.reason}


@dataclass(frozen=True)
class Ranking:
    options: tuple[Option, ...]
    not_offered: tuple[NotOffered, ...]
    days_away: int | None
    progress: Progress = field(default_factory=lambda: Progress(0, 0, 0))
    # the name of every cohort the ranking looked at, for pages that show them
    cohort_names: dict[int, str] = field(default_factory=dict)

    def crowded_out(self) -> dict[str, int]:
        """How many groups that fit were left out because the best-fitting ones of
        their list are offered, by list ("join", "waitlist"): pages count them."""
        counts = {"join": 0, "waitlist": 0}
        for left in self.not_offered:
            if left.crowded_out:
                counts[left.crowded_out] += 1
        return counts


def calendar_days(earlier: datetime, later: datetime) -> int:
    """Days between two instants as the program counts them: by local calendar date
    (a Thursday evening group to the next Monday morning is 4 days)."""
    return (to_local(later).date() - to_local(earlier).date()).days


def days_away(history: History, now: datetime) -> int | None:
    """Days since the last attended group session; None when there is none."""
    if history.last_attended_at is None:
        return None
    return max(calendar_days(history.last_attended_at, now), 0)


def progress_for(history: History, total: int, now: datetime, policy: Policy) -> Progress:
    """Sessions inside the credit window count toward ``total``; older ones are
    reported apart (``beyond_window``) so staff can choose, never dropped."""
    window = policy.credit_window_days
    inside = beyond = 0
    for at in history.attended_at:
        if calendar_days(at, now) <= window:
            inside += 1
        else:
            beyond += 1
    for as_of, sessions in history.carried:
        if calendar_days(as_of, now) <= window:
            inside += sessions
        else:
            beyond += sessions
    credited = min(inside, total)
    return Progress(credited, total, max(total - credited, 0), beyond)


def progress_sentence(progress: Progress, policy: Policy) -> str:
    text = f"{progress.credited} of {progress.total} done, {progress.remaining} to go"
    if progress.beyond_window:
        text += (f"; {progress.beyond_window} earlier sessions are older than "
                 f"{policy.credit_window_days} days, staff decides whether they count")
    return text


def _seats_sentence(seats: int) -> str:
    return "1 seat left" if seats == 1 else f"{seats} seats left"


def _first_sentence(at: datetime | None) -> str:
    return f"first session {human_when(at)}" if at else "no group session scheduled yet"


def _misfit(cohort: CohortSnapshot, answers: Answers, locations: tuple[int, ...]) -> str | None:
    """Why this cohort does not fit the client's place and time; None when it fits."""
    if locations and cohort.location_id not in locations:
        return f"Meets in {cohort.location_name}, not a location the client asked for"
    if answers.dayparts and cohort.daypart not in answers.dayparts:
        wanted = " or ".join(answers.dayparts)
        return f"Meets in the {cohort.daypart}; the client asked for {wanted}"
    if answers.weekdays:
        missing = [d for d in cohort.weekdays if d not in answers.weekdays]
        if missing:
            days = ", ".join(d.capitalize() for d in missing)
            return f"Meets on {days}, which the client cannot make"
    return None


def rank_options(history: History, answers: Answers, cohorts: Iterable[CohortSnapshot],
                 tracks: Sequence[TrackInfo], now: datetime, policy: Policy,
                 locations: Mapping[int, str] | None = None) -> Ranking:
    """Every placement that fits, best first, and every cohort not offered with why.

    ``locations`` ({id: name}) lets a fresh group be proposed where no cohort meets
    yet; by default the locations of the given cohorts are used.
    """
    cohorts = sorted(cohorts, key=lambda c: c.id)
    by_id = {c.id: c for c in cohorts}
    totals = {t.id: t.sessions_to_complete for t in tracks}
    away = days_away(history, now)
    # what the check-in learned decides, never older profile fields
    wanted = answers.location_ids
    prior = by_id.get(history.prior_cohort_id) if history.prior_cohort_id else None

    memo: dict[int, Progress] = {}

    def progress(track_id: int) -> Progress:
        if track_id not in memo:
            memo[track_id] = progress_for(history, totals.get(track_id, 36), now, policy)
        return memo[track_id]

    ranked: list[tuple[tuple, Option]] = []
    not_offered: list[NotOffered] = []

    def offer(kind: str, rank_kind: str, cohort: CohortSnapshot | None, option_id: str,
              reasons: list[str], *, first: datetime | None, seats: int | None,
              track_id: int, location_id: int, daypart: str, tiebreak: int = 0) -> None:
        done = progress(track_id)
        sentence = progress_sentence(done, policy)
        reasons = [*reasons, sentence[:1].upper() + sentence[1:]]
        option = Option(option_id, kind, cohort.id if cohort else None, first, seats, done,
                        tuple(reasons), location_id, track_id, daypart,
                        previous_group=prior is not None and cohort is not None
                        and cohort.id == prior.id)
        location_rank = wanted.index(location_id) if location_id in wanted else 0
        key = (tier(rank_kind, answers.preference), first or far, tiebreak, location_rank,
               -(seats or 0), option_id)
        ranked.append((key, option))

    far = datetime.max.replace(tzinfo=now.tzinfo)
    waitlist_candidates: list[tuple[tuple, CohortSnapshot, bool, list[str]]] = []
    join_candidates: list[tuple[tuple, CohortSnapshot, bool, int]] = []

    for cohort in cohorts:
        if cohort.status == "forming":
            continue  # handled with fresh options below
        is_prior = prior is not None and cohort.id == prior.id
        if cohort.status != "running":
            if is_prior:
                not_offered.append(NotOffered(cohort.id, f"{cohort.name} has ended"))
            continue
        if cohort.id in history.active_cohort_ids:
            not_offered.append(NotOffered(cohort.id, f"Already in {cohort.name}"))
            continue
        misfit = _misfit(cohort, answers, wanted)
        within = away is not None and away <= policy.resume_window_days
        if is_prior and within:
            # their own recent group is always offered: a seat to resume, or its line
            _offer_own_group(cohort, history, misfit, offer, waitlist_candidates,
                             not_offered, far)
            continue
        if misfit:
            not_offered.append(NotOffered(cohort.id, misfit))
            continue
        own_live = is_prior and history.prior_enrollment_live
        if not cohort.joinable and not own_live:
            not_offered.append(NotOffered(
                cohort.id, f"{cohort.name} is a closed group past its "
                f"{_ordinal(policy.closed_join_until_session)} session"))
            continue
        seats = cohort.seats_left + (1 if is_prior and history.prior_enrollment_holds_seat
                                     else 0)
        if is_prior and not within:
            why = (f"Away {away} days, more than the {policy.resume_window_days}-day window "
                   f"for picking up in the same group" if away is not None
                   else "No attended group session on record to pick up from")
            if seats > 0:
                why += "; offered as joining it again instead"
            not_offered.append(NotOffered(cohort.id, why))
        if seats <= 0:
            if cohort.id in history.waiting_cohort_ids:
                not_offered.append(NotOffered(cohort.id, f"Already waiting for {cohort.name}"))
                continue
            waitlist_candidates.append(((0 if is_prior else 1, cohort.first_session_at
                                         or far, cohort.id), cohort, is_prior, []))
            continue
        location_rank = wanted.index(cohort.location_id) if cohort.location_id in wanted else 0
        join_candidates.append(((0 if is_prior else 1, location_rank,
                                 cohort.first_session_at or far, -seats, cohort.id),
                                cohort, is_prior, seats))

    join_candidates.sort(key=lambda item: item[0])
    for index, (_, cohort, is_prior, seats) in enumerate(join_candidates):
        if index >= policy.join_options:
            not_offered.append(NotOffered(
                cohort.id, f"{cohort.name} has seats; {policy.join_options} better-fitting "
                "groups are offered already", crowded_out="join"))
            continue
        lead = (f"The group they were in before ({cohort.name})" if is_prior
                else f"{cohort.name} in {cohort.location_name}")
        offer("join", "join", cohort, f"join:{cohort.id}",
              [f"{lead}; {_seats_sentence(seats)}; "
               f"{_first_sentence(cohort.first_session_at)}"],
              first=cohort.first_session_at, seats=seats, track_id=cohort.track_id,
              location_id=cohort.location_id, daypart=cohort.daypart,
              tiebreak=0 if is_prior else 1)

    waitlist_candidates.sort(key=lambda item: item[0])
    for index, (_, cohort, is_prior, note) in enumerate(waitlist_candidates):
        if index >= policy.waitlist_options:
            not_offered.append(NotOffered(
                cohort.id, f"{cohort.name} is full; {policy.waitlist_options} better-fitting "
                "waitlists are offered already", crowded_out="waitlist"))
            continue
        lead = "Same group as before" if is_prior else f"{cohort.name} in {cohort.location_name}"
        offer("waitlist", "waitlist_prior" if is_prior and not note else "waitlist", cohort,
              f"waitlist:{cohort.id}",
              [f"{lead} is full; a place in line, with a timed offer when a seat frees",
               *note],
              first=cohort.first_session_at, seats=0, track_id=cohort.track_id,
              location_id=cohort.location_id, daypart=cohort.daypart)

    names = dict(locations) if locations is not None else {}
    for cohort in cohorts:
        names.setdefault(cohort.location_id, cohort.location_name)
    _fresh_options(history, answers, cohorts, tracks, wanted, names, prior, policy, now, offer,
                   not_offered)

    ranked.sort(key=lambda item: item[0])
    overall_track = prior.track_id if prior else (tracks[0].id if tracks else 0)
    return Ranking(tuple(o for _, o in ranked), tuple(not_offered), away,
                   progress(overall_track), {c.id: c.name for c in cohorts})


def _offer_own_group(cohort: CohortSnapshot, history: History, misfit: str | None, offer,
                     waitlist_candidates: list, not_offered: list, far: datetime) -> None:
    """The group they were in, within the resume window: ``resume`` when it has a
    seat (their own held seat counts), else a place in its line. When what they
    said at the check-in does not fit it, it is still offered, after the options
    that fit, with the reason."""
    seats = cohort.seats_left + (1 if history.prior_enrollment_holds_seat else 0)
    note = [f"Note: {misfit[:1].lower()}{misfit[1:]}"] if misfit else []
    if seats > 0:
        offer("resume", "waitlist" if misfit else "resume", cohort, f"resume:{cohort.id}",
              [f"Same group as before ({cohort.name}); {_seats_sentence(seats)}; "
               f"{_first_sentence(cohort.first_session_at)}", *note],
              first=cohort.first_session_at, seats=seats, track_id=cohort.track_id,
              location_id=cohort.location_id, daypart=cohort.daypart)
    elif cohort.id in history.waiting_cohort_ids:
        not_offered.append(NotOffered(cohort.id, f"Already waiting for {cohort.name}"))
    else:
        waitlist_candidates.append(((0, cohort.first_session_at or far, cohort.id), cohort,
                                    True, note))


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def _fresh_options(history, answers, cohorts, tracks, locations, names, prior, policy, now,
                   offer, not_offered) -> None:
    """A forming cohort of returners for each wanted location and daypart, or a new one
    (at most ``fresh_new_options`` new ones: the sites asked for first, in their order)."""
    wanted_locations = list(locations) or (
        [prior.location_id] if prior else sorted(names))
    wanted_dayparts = list(answers.dayparts) or (
        [prior.daypart] if prior else list(policy.dayparts))
    forming = [c for c in cohorts if c.status == "forming" and c.for_returners]
    covered: set[tuple[int, str]] = set()
    for cohort in forming:
        if cohort.id in history.forming_cohort_ids:
            not_offered.append(NotOffered(cohort.id, f"Already has a place in {cohort.name}"))
            continue
        misfit = _misfit(cohort, answers, locations)
        if misfit:
            not_offered.append(NotOffered(cohort.id, misfit))
            continue
        if cohort.members >= cohort.capacity:
            not_offered.append(NotOffered(cohort.id, f"{cohort.name} has all its places taken"))
            continue
        covered.add((cohort.location_id, cohort.daypart))
        needed = max(policy.fresh_min_size - cohort.members, 0)
        status = (f"{cohort.members} of {policy.fresh_min_size} places taken; opens when "
                  f"{needed} more join" if needed else
                  f"{cohort.members} people ready; staff can open it now")
        when = (f"could start {human_when(cohort.first_session_at)}"
                if cohort.first_session_at else "start date set when it opens")
        # with this person it opens (or it could already): it starts soon enough
        soon = needed <= 1 and cohort.first_session_at is not None and (
            cohort.first_session_at - now).days <= policy.fresh_soon_days
        offer("fresh", "fresh_soon" if soon else "fresh_later", cohort, f"fresh:{cohort.id}",
              [f"A fresh group of people coming back ({cohort.name}); {status}; {when}"],
              first=cohort.first_session_at, seats=cohort.capacity - cohort.members,
              track_id=cohort.track_id, location_id=cohort.location_id,
              daypart=cohort.daypart)
    track_for = {daypart: _track_for(daypart, prior, cohorts, tracks)
                 for daypart in wanted_dayparts}  # once each, not per location
    proposals = ((location_id, daypart, track_for[daypart])
                 for location_id in wanted_locations if location_id in names
                 for daypart in wanted_dayparts
                 if (location_id, daypart) not in covered and track_for[daypart] is not None)
    for location_id, daypart, track_id in itertools.islice(proposals,
                                                           policy.fresh_new_options):
        offer("fresh", "fresh_later", None,
              f"fresh:new:{location_id}:{track_id}:{daypart}",
              [f"Start a fresh {daypart} group of people coming back in "
               f"{names[location_id]}; it opens once {policy.fresh_min_size} have joined"],
              first=None, seats=policy.fresh_max_size, track_id=track_id,
              location_id=location_id, daypart=daypart, tiebreak=1)


def _track_for(daypart: str, prior: CohortSnapshot | None, cohorts, tracks) -> int | None:
    """The client's own track, else the track most groups at that daypart follow."""
    if prior is not None:
        return prior.track_id
    counts: dict[int, int] = {}
    for cohort in cohorts:
        if cohort.daypart == daypart:
            counts[cohort.track_id] = counts.get(cohort.track_id, 0) + 1
    if counts:
        return max(sorted(counts), key=lambda t: counts[t])
    return tracks[0].id if tracks else None


def parse_option_id(option_id: str) -> tuple[str, int | None, tuple[int, int, str] | None]:
    """'join:7' -> ('join', 7, None); 'fresh:new:1:2:evening' -> ('fresh', None, (1, 2,
    'evening')). Raises ValueError for anything else."""
    parts = option_id.split(":")
    if len(parts) == 2 and parts[0] in KINDS and parts[1].isdigit():
        return parts[0], int(parts[1]), None
    if (len(parts) == 5 and parts[:2] == ["fresh", "new"] and parts[2].isdigit()
            and parts[3].isdigit()):
        return "fresh", None, (int(parts[2]), int(parts[3]), parts[4])
    raise ValueError(f"not an option id: {option_id!r}")


# --- fresh groups that do not fill ---------------------------------------------------

@dataclass(frozen=True)
class StalledPlan:
    """What to do with a forming group that has waited too long for its size."""

    action: str  # merge | open_smaller
    into_cohort_id: int | None
    why: str


def merges_here(forming_location_id: int, target_location_id: int) -> bool:
    """A forming group's people merge only into a group at its own site, where they
    asked to be (the proposal, the console's choices and the merge itself)."""
    return forming_location_id == target_location_id


def plan_for_stalled(forming: CohortSnapshot, members: int, waiting_since: datetime,
                     running: Iterable[CohortSnapshot], now: datetime, policy: Policy,
                     ) -> StalledPlan | None:
    """A forming group short of ``fresh_min_size`` after ``fresh_wait_days``: merge
    its people into the running group of the same place and track with room for all
    of them (same part of the day first, then the soonest session); else open it
    smaller when it has ``fresh_smallest``; else nothing yet (staff still see it)."""
    if members == 0 or members >= policy.fresh_min_size:
        return None
    waited = calendar_days(waiting_since, now)
    if waited < policy.fresh_wait_days:
        return None
    far = datetime.max.replace(tzinfo=now.tzinfo)
    fits = sorted(
        (c for c in running if c.status == "running" and c.joinable
         and merges_here(forming.location_id, c.location_id)
         and c.track_id == forming.track_id
         and c.seats_left >= members),
        key=lambda c: (c.daypart != forming.daypart, c.first_session_at or far, c.id))
    if fits:
        target = fits[0]
        return StalledPlan("merge", target.id,
                           f"Waited {waited} days with {members} of {policy.fresh_min_size}; "
                           f"{target.name} has {target.seats_left} free seats")
    if members >= policy.fresh_smallest:
        return StalledPlan("open_smaller", None,
                           f"Waited {waited} days with {members} of {policy.fresh_min_size} "
                           f"and no running group has room for them all")
    return None
