"""Provides progress against the goal: each KPI's numbers over time, milestones done, the timeline by period.

Pure functions of the state, shared by the apps' progress views and every export, so that the
screen, the Markdown chart, the CSV rows and the calendar never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby

from workshop.state import Kpi, Measurement, Milestone, State


@dataclass(frozen=True, slots=True)
class Point:
    label: str  # the period, as people say it
    value: float
    kind: str  # "baseline" or "actual"


def series(state: State, kpi: Kpi) -> list[Point]:
    """The baseline, then every actual recorded for ``kpi`` across the chain, oldest first."""
    points = [Point(kpi.baseline_period or "baseline", kpi.baseline, "baseline")] if kpi.baseline is not None else []
    points += [Point(m.period, m.value, "actual") for m in measurements(state, kpi.id)]
    return points


def measurements(state: State, kpi_id: str) -> list[Measurement]:
    """``kpi_id``'s figures as they stand: one per period, in the order the periods were first reported.

    A figure recorded again for a period it already has (a typo put right, December's count
    corrected in February) replaces the earlier one where it stood, rather than adding a second
    point for that period or becoming the latest figure. The log and the state keep every
    figure recorded; the period is compared as people type it, ignoring case and spaces.
    """
    standing: dict[str, Measurement] = {}
    for m in state.measurements:
        if m.kpi == kpi_id:
            standing[" ".join(m.period.casefold().split())] = m  # a known key keeps its place
    return list(standing.values())


def latest(state: State, kpi: Kpi) -> float | None:
    found = measurements(state, kpi.id)
    return found[-1].value if found else kpi.baseline


def share_of_the_way(state: State, kpi: Kpi) -> float | None:
    """How far from baseline to target the latest figure is (0 = baseline, 1 = target); ``None`` if unknown."""
    now = latest(state, kpi)
    if kpi.baseline is None or kpi.target is None or now is None or kpi.target == kpi.baseline:
        return None
    return (now - kpi.baseline) / (kpi.target - kpi.baseline)


def describe(kpi: Kpi) -> str:
    """``2.1 % (Q3 2026) -> 3 % by 2027-06-30``: the goal's number in one line."""
    unit = f" {kpi.unit}" if kpi.unit else ""
    if kpi.baseline is None and kpi.target is None:
        return kpi.note
    base = f"{number(kpi.baseline)}{unit}" if kpi.baseline is not None else "?"
    if kpi.baseline_period:
        base += f" ({kpi.baseline_period})"
    target = f"{number(kpi.target)}{unit}" if kpi.target is not None else "?"
    by = f" by {kpi.target_date}" if kpi.target_date else ""
    return f"{base} -> {target}{by}"


def number(value: float | None) -> str:
    """A figure as people write it: 30, 2.1, 12500."""
    if value is None:
        return ""
    return f"{value:.0f}" if value == int(value) else f"{value:g}"


@dataclass(frozen=True, slots=True)
class MilestoneProgress:
    done: int
    total: int
    at_risk: tuple[Milestone, ...]


def milestone_progress(state: State) -> MilestoneProgress:
    ms = list(state.milestones.values())
    risky = tuple(m for m in state.timeline() if m.status == "at_risk")
    return MilestoneProgress(done=sum(1 for m in ms if m.status == "done"), total=len(ms), at_risk=risky)


def quarter(date: str) -> str:
    """``2027-02-28`` -> ``2027 Q1``."""
    d = dt.date.fromisoformat(date)
    return f"{d.year} Q{(d.month - 1) // 3 + 1}"


def month(date: str) -> str:
    """``2027-02-28`` -> ``February 2027``."""
    return dt.date.fromisoformat(date).strftime("%B %Y")


def by_period(state: State) -> list[tuple[str, list[tuple[str, list[Milestone]]]]]:
    """The timeline grouped by quarter, then month, in date order (a part says its parent where shown)."""
    timeline = state.timeline()
    out: list[tuple[str, list[tuple[str, list[Milestone]]]]] = []
    for q, in_quarter in groupby(timeline, key=lambda m: quarter(m.due)):
        months = [(mo, list(ms)) for mo, ms in groupby(in_quarter, key=lambda m: month(m.due))]
        out.append((q, months))
    return out


def next_checkin(state: State) -> str:
    """``Next check-in: 2027-01-15, then monthly.``, or ``""`` when none is set; one check-in says no "then"."""
    if not state.next_checkin:
        return ""
    then = "" if state.checkin_cadence == "once" else f", then {state.checkin_cadence}"
    return f"Next check-in: {state.next_checkin}{then}."
