"""Provides the calendar export: milestones and check-ins as an iCalendar file (RFC 5545).

Each milestone is an all-day event on its due date, with its owner and the goal in the
description; a milestone with a weekly, monthly or quarterly cadence, and the agreed check-ins,
recur (RRULE). UIDs are made from the session chain's first session and the item, never from
the export time, so importing a newer export updates the events instead of adding copies.
``DTSTAMP`` is the session's start, so the same state always gives the same file.

A monthly or quarterly series due on the 29th, 30th or 31st would, read as RFC 5545 says,
skip every month without that day (a milestone due 31 January would not come back until
March). So a series due on the last day of its month recurs on every month's last day
(``BYMONTHDAY=-1``), and one due on the 29th or 30th on that day or the month's last, whichever
comes first (``BYMONTHDAY=28,29,30;BYSETPOS=-1``).

icalendar is imported when a calendar is made: it pulls in time zones and the OS at import,
which the core's other modules do not need.
"""

from __future__ import annotations

import datetime as dt

from workshop.progress import describe
from workshop.state import Cadence, State, minted_in

PRODID = "-//workshop//SMART goal workshop//EN"
RRULES: dict[Cadence, dict[str, object]] = {
    "weekly": {"FREQ": "WEEKLY"},
    "monthly": {"FREQ": "MONTHLY"},
    "quarterly": {"FREQ": "MONTHLY", "INTERVAL": 3},
}


def rrule(cadence: Cadence, start: dt.date) -> dict[str, object] | None:
    """The recurrence of a series starting on ``start``, or ``None`` for a one-off."""
    if cadence not in RRULES:
        return None
    rule = dict(RRULES[cadence])
    if rule["FREQ"] == "MONTHLY" and start.day > 28:
        if (start + dt.timedelta(days=1)).month != start.month:  # the last day of its month
            rule["BYMONTHDAY"] = -1
        else:
            rule["BYMONTHDAY"] = list(range(28, start.day + 1))
            rule["BYSETPOS"] = -1
    return rule


def render_ics(state: State) -> str:
    import icalendar

    root = state.chain[0] if state.chain else state.session
    stamp = dt.datetime.fromtimestamp(state.started_at or 0, dt.UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Goal: {state.goal}" if state.goal else "Workshop goal")
    goal = f"Goal: {state.goal}" if state.goal else ""
    numbers = [f"{k.name}: {describe(k)}" for k in state.kpis.values() if describe(k)]
    for m in state.timeline():
        event = icalendar.Event()
        made_in, position = minted_in(state, m.id)  # the workshop's milestones: their id and the root
        event.add("uid", f"milestone-{position}-{made_in}@workshop")
        event.add("dtstamp", stamp)
        event.add("summary", m.title)
        day = dt.date.fromisoformat(m.due)
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        lines = [f"Owner: {m.owner}", goal, *numbers]
        if m.status != "not_started" or m.status_note:
            lines.append(f"Status: {m.status.replace('_', ' ')}" + (f" ({m.status_note})" if m.status_note else ""))
        event.add("description", "\n".join(line for line in lines if line))
        event.add("categories", ["Milestone"])
        if (rule := rrule(m.cadence, day)) is not None:
            event.add("rrule", rule)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    if state.next_checkin:
        event = icalendar.Event()
        event.add("uid", f"checkins-{root}@workshop")  # one series per goal, whichever check-in exported it
        event.add("dtstamp", stamp)
        event.add("summary", f"Check-in: {state.goal}" if state.goal else "Goal check-in")
        day = dt.date.fromisoformat(state.next_checkin)
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("description", "\n".join(["Check progress against the goal and recalibrate.", goal, *numbers]))
        event.add("categories", ["Check-in"])
        if (rule := rrule(state.checkin_cadence, day)) is not None:
            event.add("rrule", rule)
        cal.add_component(event)
    return cal.to_ical().decode("utf-8")
