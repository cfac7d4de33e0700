"""Builders that fill sensible defaults so a test sets only what it is about."""

from __future__ import annotations

from datetime import date, time
from itertools import count

from scheduler.models import Client, Cohort, Location, Track, db
from scheduler.services import clients, cohorts, enrollments


class Builder:
    def __init__(self, app, clock):
        self.app, self.clock = app, clock
        self._n = count(1)

    @property
    def policy(self):
        return self.app.config["POLICY"]

    def location(self, name: str | None = None, **kw) -> Location:
        return cohorts.create_location(name or f"Site {next(self._n)}", **kw)

    def track(self, name: str | None = None, sessions_to_complete: int = 36) -> Track:
        return cohorts.create_track(name or f"Track {next(self._n)}", sessions_to_complete)

    def cohort(self, location: Location | None = None, track: Track | None = None,
               **kw) -> Cohort:
        data = {
            "location_id": (location or self.location()).id,
            "track_id": (track or self.track()).id,
            "name": kw.pop("name", f"Group {next(self._n)}"),
            "weekdays": ["mon", "wed", "thu"],
            "start_time": time(18, 0),
            "minutes": 180,
            "capacity": 10,
            "starts_on": date(2026, 11, 2),
        }
        data.update(kw)
        return cohorts.create_cohort(data, self.clock(), self.policy)

    def client(self, name: str | None = None, **kw) -> Client:
        return clients.create_client({"name": name or f"Client {next(self._n)}", **kw},
                                     self.clock())

    def enroll(self, client: Client, cohort: Cohort, **kw):
        return enrollments.enroll(client.id, cohort.id, self.clock(), self.policy, **kw)

    def sites(self, count: int, *, prefix: str = "Site") -> list[tuple[Location, Cohort]]:
        """``count`` sites named "{prefix} 00", "{prefix} 01"..., each with a group
        meeting Mon/Wed/Thu evenings ("{prefix} NN Evening") and one person on its
        roster ("Person {prefix} NN"); in name order."""
        made = []
        for n in range(count):
            site = self.location(f"{prefix} {n:02d}")
            group = self.cohort(site, name=f"{prefix} {n:02d} Evening")
            self.enroll(self.client(f"Person {prefix} {n:02d}"), group)
            made.append((site, group))
        return made

    def full_cohort(self, capacity: int = 2, **kw) -> Cohort:
        cohort = self.cohort(capacity=capacity, **kw)
        for _ in range(capacity):
            self.enroll(self.client(), cohort)
        db.session.expire_all()
        return cohort
