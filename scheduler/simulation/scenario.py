"""Scenarios: small TOML files describing a program and the people moving through it.

A scenario may ``extends = "other"`` another and change only what differs (tables
merge, lists replace; ``add_cohorts`` appends groups to the other's). The shipped
ones live beside this file; ``load`` takes a name or a path.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from scheduler.config import Policy

HERE = Path(__file__).resolve().parent / "scenarios"


class ScenarioError(ValueError):
    pass


def shipped() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.toml"))


def _path(name_or_file: str) -> Path:
    candidate = Path(name_or_file)
    if candidate.suffix == ".toml" and candidate.exists():
        return candidate
    shipped_file = HERE / f"{name_or_file}.toml"
    if shipped_file.exists():
        return shipped_file
    raise ScenarioError(f"No scenario {name_or_file!r}: give a .toml file or one of "
                        f"{', '.join(shipped())}")


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _raw(name_or_file: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    path = _path(name_or_file)
    if str(path) in seen:
        raise ScenarioError(f"Scenario {path.stem} extends itself")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    parent = data.pop("extends", None)
    if parent is None:
        return data
    base = _raw(parent, (*seen, str(path)))
    added = data.pop("add_cohorts", [])
    merged = _merge(base, data)
    merged["cohorts"] = [*base.get("cohorts", []), *added]
    return merged


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    start: date
    history_weeks: int
    returners: int
    returner_days: int
    new_per_week: float
    locations: list[dict[str, Any]]
    tracks: list[dict[str, Any]]
    cohorts: list[dict[str, Any]]
    closures: list[dict[str, Any]]
    people: dict[str, Any]
    coordinator: dict[str, Any]
    offers: dict[str, Any]
    check_in: dict[str, Any]
    policy_changes: dict[str, Any]

    def policy(self, base: Policy | None = None) -> Policy:
        base = base or Policy()
        known = {f.name for f in dataclasses.fields(Policy)}
        unknown = sorted(set(self.policy_changes) - known)
        if unknown:
            raise ScenarioError(f"Scenario {self.name}: unknown policy setting {unknown[0]!r}")
        return dataclasses.replace(base, **self.policy_changes)


REQUIRED = ("name", "start", "locations", "tracks", "cohorts", "people", "coordinator",
            "offers")


def load(name_or_file: str) -> Scenario:
    data = _raw(name_or_file)
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ScenarioError(f"Scenario {name_or_file}: {missing[0]!r} is missing")
    locations = {loc["name"] for loc in data["locations"]}
    tracks = {t["name"] for t in data["tracks"]}
    for cohort in data["cohorts"]:
        if cohort.get("location") not in locations:
            raise ScenarioError(f"Cohort {cohort.get('name')}: unknown location "
                                f"{cohort.get('location')!r}")
        if cohort.get("track") not in tracks:
            raise ScenarioError(f"Cohort {cohort.get('name')}: unknown track "
                                f"{cohort.get('track')!r}")
    start = data["start"]
    if isinstance(start, str):
        start = date.fromisoformat(start)
    return Scenario(
        name=data["name"], about=data.get("about", ""), start=start,
        history_weeks=int(data.get("history_weeks", 26)),
        returners=int(data.get("returners", 40)),
        returner_days=int(data.get("returner_days", 30)),
        new_per_week=float(data.get("new_per_week", 4.0)),
        locations=data["locations"], tracks=data["tracks"], cohorts=data["cohorts"],
        closures=data.get("closures", []), people=data["people"],
        coordinator=data["coordinator"], offers=data["offers"],
        check_in=data.get("check_in", {}), policy_changes=data.get("policy", {}))
