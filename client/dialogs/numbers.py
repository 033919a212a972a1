"""Provides the dialogs for the goal's numbers and progress: a KPI, an actual, a status, the next check-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from client.dialogs.forms import CADENCES, FORM_CSS, Form
from client.widgets.in_turn import Field
from client.widgets.plain import clip, plain
from workshop.progress import number
from workshop.state import STATUS_LABELS, Kpi, Milestone


def _number(text: str) -> float | None:
    """A figure as people type it: ``2.1``, ``12,500``, ``30 %``; ``None`` if empty, ``ValueError`` if not."""
    cleaned = text.replace(",", "").replace("%", "").strip()
    return float(cleaned) if cleaned else None


class KpiDialog(Form):
    """Record or change a KPI: name, unit, baseline and its period, target and its date, owner."""

    DEFAULT_CSS = FORM_CSS.format(name="KpiDialog")

    def __init__(self, kpi: Kpi | None = None, people: list[str] | None = None) -> None:
        super().__init__()
        self._kpi = kpi
        self._people = people or []
        self.heading = f"KPI: {kpi.name}" if kpi else "Record a KPI (last period's figure and the target)"

    def fields(self) -> ComposeResult:
        k = self._kpi
        yield Label("Name (e.g. Qualified leads)", classes="hint")
        yield Field(value=k.name if k else "", id="name", max_length=60)
        yield Label("Unit (e.g. %, leads/month)", classes="hint")
        yield Field(value=k.unit if k else "", id="unit", max_length=20)
        yield Label("Baseline: last period's figure, and the period it covers", classes="hint")
        yield Field(value=number(k.baseline) if k else "", id="baseline", placeholder="20")
        yield Field(value=k.baseline_period if k else "", id="period", placeholder="Q3 2026", max_length=40)
        yield Label("Target, and the date by which", classes="hint")
        yield Field(value=number(k.target) if k else "", id="target", placeholder="30")
        yield Field(value=k.target_date if k else "", id="date", placeholder="2027-06-30", max_length=10)
        yield Label("Owner", classes="hint")
        yield Field(value=k.owner if k else "", id="owner", max_length=60)

    def result(self) -> dict[str, Any] | None:
        value = {k: self.query_one(f"#{k}", Input).value.strip() for k in ("name", "unit", "period", "date", "owner")}
        if not value["name"]:
            self.notify("A KPI needs a name.", severity="warning")
            return None
        try:
            baseline = _number(self.query_one("#baseline", Input).value)
            target = _number(self.query_one("#target", Input).value)
        except ValueError:
            self.notify("Baseline and target are numbers, like 20 or 2.5.", severity="warning")
            return None
        out = {
            "name": value["name"], "unit": value["unit"], "baseline": baseline, "baseline_period": value["period"],
            "target": target, "target_date": value["date"], "owner": value["owner"],
        }  # fmt: skip
        if self._kpi is not None:
            out["kpi"] = self._kpi.id
        return out


class ActualDialog(Form):
    """Record a KPI's actual figure for a period."""

    DEFAULT_CSS = FORM_CSS.format(name="ActualDialog")
    AUTO_FOCUS = "#value"  # the KPI is preselected when there is one; the figure is what is typed
    heading = "Record an actual"

    def __init__(self, kpis: list[Kpi]) -> None:
        super().__init__()
        self._kpis = kpis

    def fields(self) -> ComposeResult:
        first = self._kpis[0].id if len(self._kpis) == 1 else Select.NULL
        yield Label("KPI", classes="hint")
        yield Select([(plain(k.name), k.id) for k in self._kpis], value=first, id="kpi", prompt="which KPI")
        yield Label("Figure for the period", classes="hint")
        yield Field(id="value", placeholder="24")
        yield Label("Period", classes="hint")
        yield Field(value=dt.date.today().strftime("%B %Y"), id="period", max_length=40)

    def result(self) -> dict[str, Any] | None:
        kpi = self.query_one("#kpi", Select).value
        if kpi is Select.NULL:
            self.notify("Pick the KPI.", severity="warning")
            return None
        try:
            value = _number(self.query_one("#value", Input).value)
        except ValueError:
            value = None
        if value is None:
            self.notify("The figure is a number, like 24 or 2.5.", severity="warning")
            return None
        return {"kpi": str(kpi), "value": value, "period": self.query_one("#period", Input).value.strip()}


class StatusDialog(Form):
    """Report how a milestone stands: not started, on track, at risk or done, with a note."""

    DEFAULT_CSS = FORM_CSS.format(name="StatusDialog")
    heading = "Report on a milestone"

    def __init__(self, milestones: list[Milestone], selected: str | None = None) -> None:
        super().__init__()
        self._ms = milestones
        self._selected = selected if any(m.id == selected for m in milestones) else None

    def fields(self) -> ComposeResult:
        first = self._selected or (self._ms[0].id if len(self._ms) == 1 else Select.NULL)
        options = [(plain(f"{m.due} {clip(m.title, 50)}"), m.id) for m in self._ms]
        yield Label("Milestone", classes="hint")
        yield Select(options, value=first, id="milestone", prompt="which milestone")
        yield Label("Status", classes="hint")
        yield Select([(label, key) for key, label in STATUS_LABELS.items()], value="on_track", allow_blank=False,
                     id="status")  # fmt: skip
        yield Label("Note (what is done, what is in the way)", classes="hint")
        yield Field(id="note", max_length=200)

    def result(self) -> dict[str, Any] | None:
        mid = self.query_one("#milestone", Select).value
        if mid is Select.NULL:
            self.notify("Pick the milestone.", severity="warning")
            return None
        status = str(self.query_one("#status", Select).value)
        return {"milestone": str(mid), "status": status, "note": self.query_one("#note", Input).value.strip()}


class CheckinDialog(Form):
    """The date of the next check-in, and how often check-ins recur."""

    DEFAULT_CSS = FORM_CSS.format(name="CheckinDialog")
    heading = "Next check-in"

    def __init__(self, date: str = "", cadence: str = "monthly") -> None:
        super().__init__()
        self._date = date or (dt.date.today() + dt.timedelta(days=30)).isoformat()
        self._cadence = cadence

    def fields(self) -> ComposeResult:
        yield Label("Date (YYYY-MM-DD)", classes="hint")
        yield Field(value=self._date, id="date", max_length=10)
        yield Label("Then every", classes="hint")
        options = [(c, c) for c in CADENCES if c != "once"]
        yield Select(options, value=self._cadence if self._cadence != "once" else "monthly", allow_blank=False,
                     id="cadence")  # fmt: skip

    def result(self) -> dict[str, Any] | None:
        return {"date": self.query_one("#date", Input).value.strip(), "cadence": str(self.query_one("#cadence").value)}
