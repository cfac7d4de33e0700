"""The closing table of a simulation (one scenario, or two side by side)."""

from __future__ import annotations

from scheduler import timeback
from scheduler.simulation.engine import Result


def _d(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} d"


def _pct(part: int, whole: int) -> str:
    return f"{part} of {whole} ({round(100 * part / whole) if whole else 0} %)"


def rows(r: Result) -> list[tuple[str, str]]:
    """(label, value) lines; a label of "" followed by a value is a heading."""
    s = r.summary
    out: list[tuple[str, str]] = [
        ("", "Time back to group: request → first group session attended "
             "(everyone counted; those not back yet at their wait so far)"),
        ("time back median", _d(s.median_days)),
        ("time back p90", _d(s.p90_days)),
        ("never seated", _pct(s.never_seated, s.requests)),
        ("unseated after 14 days", str(s.unseated_over.get(14, 0))),
        ("  with no staff decision", str(s.undecided_over.get(14, 0))),
        ("median to check-in", _d(s.stage_medians["check_in"])),
        ("median to placed", _d(s.stage_medians["placed"])),
        ("median of those seated", _d(s.median_seated_days)),
    ]
    for title, key, missing in (("by location", lambda j: j.location, "no group yet"),
                                ("by option", lambda j: j.kind, "not placed yet")):
        out.append(("", f"Time back {title} (people · seated · median · p90)"))
        for name, g in timeback.grouped(r.journeys, key, r.end, missing).items():
            out.append((f"  {name}", f"{g.requests} · {g.seated} · {_d(g.median_days)} · "
                                     f"{_d(g.p90_days)}"))
    out.append(("", "The program"))
    for name, share in r.utilisation.items():
        out.append((f"utilisation {name}", f"{round(100 * share)} %"))
    w = r.waits
    out += [
        ("waitlist places taken", str(w["joined"])),
        ("  seated from them", f"{w['seated']} (median {_d(w['median days to a seat'])})"),
        ("  still waiting", str(w["still waiting"])),
        ("waiting for a fresh group", str(w["in forming groups"])),
        ("fresh groups opened", str(r.counters.groups_opened)),
        ("  opened smaller", str(r.counters.groups_opened_smaller)),
        ("  merged into a running group", str(r.counters.groups_merged)),
        ("new people", f"{r.counters.new_people} ({r.counters.new_seated} seated at once, "
                       f"{r.counters.new_waitlisted} waitlisted)"),
        ("people who drifted away", str(r.counters.drifted)),
        ("check-ins booked", str(r.counters.checkins_self_booked
                                 + r.counters.checkins_open_times + r.counters.checkins_called)),
        ("  a time the person picked", str(r.counters.checkins_self_booked)),
        ("  an open time staff booked", str(r.counters.checkins_open_times)),
        ("  a staff call", str(r.counters.checkins_called)),
        ("check-ins done on the first call back", str(r.counters.checkins_on_call_back)),
        ("check-ins missed", str(r.counters.checkins_missed)),
        ("offers made", str(r.offers["made"])),
        ("  taken", str(r.offers["taken"])),
        ("  passed", str(r.offers["passed"])),
        ("  lapsed", str(r.offers["lapsed"])),
    ]
    out.append(("", "Messages"))
    out += [(f"  {k}", str(v)) for k, v in r.messages.items()]
    out.append(("", "Invariants"))
    out += [
        ("capacity violations", str(r.counters.capacity_violations)),
        ("seated in two groups", str(r.counters.two_groups)),
        ("messages sent twice", str(r.duplicates)),
        ("requests refused by the rules", str(sum(r.counters.refused.values()))),
    ]
    return out


def heading(r: Result) -> str:
    return (f"{r.scenario.name} ({r.scenario.about}) · seed {r.seed} · "
            f"{r.scenario.history_weeks} weeks of history, then {r.days} days from "
            f"{r.start.date():%a %b %d %Y}")


def render(r: Result) -> str:
    lines = [heading(r), ""]
    for label, value in rows(r):
        lines.append(value if not label else f"{label} {value}")
    return "\n".join(lines)


def render_compare(a: Result, b: Result) -> str:
    """Both tables side by side, line for line (a line only one has shows "–")."""
    def keyed(r: Result) -> dict[tuple[str, str], str]:
        section, out = "", {}
        for label, value in rows(r):
            if not label:
                section = value
            out[(section, label)] = value
        return out

    left, right = keyed(a), keyed(b)
    order = list(left)
    for key in right:  # lines only B has go after the last line of their section
        if key not in left:
            at = max((i for i, k in enumerate(order) if k[0] == key[0]), default=len(order) - 1)
            order.insert(at + 1, key)
    width = max(len(label) for _s, label in order) + 2
    col = max(len(v) for (s, label), v in left.items() if label) + 3
    lines = [f"A: {heading(a)}", f"B: {heading(b)}", "", f"{'':<{width}}{'A':<{col}}B"]
    for section, label in order:
        if not label:
            lines.append(section)
        else:
            va, vb = left.get((section, label), "–"), right.get((section, label), "–")
            lines.append(f"{label:<{width}}{va:<{col}}{vb}")
    return "\n".join(lines)
