"""Time back to group, counting everyone: the one rule the Director page, the API,
the CSV export and the simulator all use.

A journey is one "I'd like to come back": requested -> checked in -> placed ->
first group session attended. Somebody not yet back in a group is counted too,
with their wait so far (their age), so a program that leaves people waiting never
looks faster than one that seats them: the median and p90 are over everyone, and
an unseated person's wait is a lower bound that only grows.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from scheduler.timeutil import as_utc

STAGES = ("check_in", "placed", "seated")


@dataclass(frozen=True)
class Journey:
    request_id: int
    requested_at: datetime
    checked_in_at: datetime | None = None
    placed_at: datetime | None = None
    seated_at: datetime | None = None  # the first group session attended after placing
    location: str | None = None
    track: str | None = None
    kind: str | None = None  # resume | join | waitlist | fresh, once placed
    closed: bool = False  # the request was closed without a group

    def days_to(self, stage: str) -> float | None:
        at = {"check_in": self.checked_in_at, "placed": self.placed_at,
              "seated": self.seated_at}[stage]
        return days_between(self.requested_at, at)

    def wait(self, now: datetime) -> float:
        """Days to the first group session, or days waited so far when not there yet."""
        seated = self.days_to("seated")
        return seated if seated is not None else days_between(self.requested_at, now) or 0.0

    @property
    def counted(self) -> bool:
        """Whether this request counts in the waits: all but one closed without a group."""
        return not self.closed or self.seated_at is not None

    @property
    def stage(self) -> str:
        if self.seated_at is not None:
            return "seated"
        if self.closed:
            return "closed"
        if self.placed_at is not None:
            return "placed"
        if self.checked_in_at is not None:
            return "checked in"
        return "requested"


def days_between(earlier: datetime | None, later: datetime | None) -> float | None:
    if earlier is None or later is None:
        return None
    return (as_utc(later) - as_utc(earlier)).total_seconds() / 86400


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank: the smallest value at or above which ``p`` percent of values lie."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Summary:
    """Days back to group over a set of journeys, everyone counted."""

    requests: int
    seated: int
    waiting: int  # not seated and not closed
    closed: int
    median_days: float | None
    p90_days: float | None
    median_seated_days: float | None  # over those seated only (the old, flattering figure)
    mean_days: float | None
    stage_medians: dict[str, float | None]
    unseated_over: dict[int, int] = field(default_factory=dict)  # age limit -> how many
    # of those, how many have no staff decision recorded (not placed, not closed)
    undecided_over: dict[int, int] = field(default_factory=dict)
    waiting_ages: list[float] = field(default_factory=list)  # oldest first

    @property
    def never_seated(self) -> int:
        return self.requests - self.seated


def summarise(journeys: Iterable[Journey], now: datetime,
              limits: tuple[int, ...] = (14,)) -> Summary:
    rows = list(journeys)
    # each journey's days, worked out once (a Director page summarises a few hundred
    # journeys four ways)
    stages = [{s: j.days_to(s) for s in STAGES} for j in rows]
    waits = [j.wait(now) for j in rows]
    everyone = [w for j, w in zip(rows, waits, strict=True) if j.counted]
    seated = [d["seated"] for d in stages if d["seated"] is not None]
    waiting = [(j, w) for j, w in zip(rows, waits, strict=True)
               if j.seated_at is None and not j.closed]
    ages = sorted((w for _j, w in waiting), reverse=True)
    return Summary(
        requests=len(rows), seated=len(seated), waiting=len(waiting),
        closed=sum(1 for j in rows if j.closed and j.seated_at is None),
        median_days=median(everyone), p90_days=percentile(everyone, 90),
        median_seated_days=median(seated),
        mean_days=statistics.fmean(everyone) if everyone else None,
        stage_medians={s: median([d[s] for d in stages if d[s] is not None])
                       for s in STAGES},
        unseated_over={limit: sum(1 for a in ages if a > limit) for limit in limits},
        undecided_over={limit: sum(1 for j, w in waiting
                                   if j.placed_at is None and w > limit)
                        for limit in limits},
        waiting_ages=ages)


def grouped(journeys: Iterable[Journey], key: Callable[[Journey], str | None],
            now: datetime, missing: str = "not placed yet") -> dict[str, Summary]:
    """One summary per value of ``key`` (None becomes ``missing``)."""
    groups: dict[str, list[Journey]] = {}
    for j in journeys:
        groups.setdefault(key(j) or missing, []).append(j)
    return {name: summarise(rows, now) for name, rows in sorted(groups.items())}


BUCKETS = ((0, 1), (1, 3), (3, 7), (7, 14), (14, 28), (28, None))


def bucket_label(low: int, high: int | None) -> str:
    return f"{low}+ d" if high is None else f"{low}–{high} d"


def distribution(journeys: Iterable[Journey], now: datetime
                 ) -> list[tuple[str, int, int]]:
    """(label, seated, still waiting) per band of days: the chart's bars."""
    rows = [j for j in journeys if j.counted]
    out = []
    for low, high in BUCKETS:
        def inside(d: float, low=low, high=high) -> bool:
            return d >= low and (high is None or d < high)
        out.append((bucket_label(low, high),
                    sum(1 for j in rows if j.seated_at is not None and inside(j.wait(now))),
                    sum(1 for j in rows if j.seated_at is None and inside(j.wait(now)))))
    return out
