"""Provides the form dialogs: one line of text, merge two ideas, the team goal, a milestone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static

from client.widgets.in_turn import ActionButton, Field
from client.widgets.plain import clip, plain
from workshop.agenda import SMART_FIELDS
from workshop.state import Idea, Milestone, SmartSheet

FORM_CSS = """
{name} {{ align: center middle; }}
{name} > VerticalScroll {{
    width: 76; max-width: 100%; height: auto; max-height: 95%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .hint {{ color: $text-muted; }}
{name} Horizontal.buttons {{ height: auto; align-horizontal: right; margin-top: 1; }}
{name} Horizontal.buttons Button {{ margin-left: 1; }}
{name} Select {{ width: 100%; }}
{name} #owner-row {{ height: auto; }}
{name} #owner {{ width: 1fr; }}
{name} #owner-pick {{ width: 20; }}
"""


class Form(ModalScreen[Any]):
    """A dialog with OK / Cancel buttons; subclasses give ``fields`` and ``result``."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "Input, Select"
    heading = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.heading, classes="title")
            yield from self.fields()
            with Horizontal(classes="buttons"):
                yield ActionButton("OK", variant="primary", id="ok", on_press=self._ok)
                yield ActionButton("Cancel", id="cancel", on_press=self.action_cancel)

    def fields(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        for field in self.query(Field):
            field.on_enter = self._ok  # in turn with the keys around Enter (see ``Field``)

    def result(self) -> Any:
        return None

    @on(Input.Submitted)
    def _ok(self) -> None:
        value = self.result()
        if value is not None:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextDialog(Form):
    """Ask for one line of text (prefilled); returns it, or ``None`` on cancel."""

    DEFAULT_CSS = FORM_CSS.format(name="TextDialog")

    def __init__(self, heading: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self.heading, self._value, self._hint = heading, value, hint

    def fields(self) -> ComposeResult:
        if self._hint:
            yield Label(self._hint, classes="hint")
        yield Field(value=self._value, id="value")

    def result(self) -> str | None:
        value = self.query_one("#value", Input).value
        return value if value.strip() else None


class NameDialog(Form):
    """Ask a newcomer's name inside the app (where no terminal prompt came first); cancel leaves."""

    DEFAULT_CSS = FORM_CSS.format(name="NameDialog")
    heading = "Your name, as the room will see it"

    def __init__(self, check: Callable[[str], str]) -> None:
        super().__init__()
        self._check = check

    def fields(self) -> ComposeResult:
        yield Label("It is shown next to your ideas (unless you post one anonymously).", classes="hint")
        yield Field(id="value", max_length=60)

    def result(self) -> str | None:
        try:
            return self._check(self.query_one("#value", Input).value)
        except ValueError as exc:
            self.notify(str(exc), title="Name", severity="warning", markup=False)
            return None


class MergeDialog(Form):
    """Choose a duplicate idea and the idea it merges into; returns ``(source, target)``."""

    DEFAULT_CSS = FORM_CSS.format(name="MergeDialog")
    heading = "Merge duplicate ideas"

    def __init__(self, ideas: list[Idea]) -> None:
        super().__init__()
        self._options = [(plain(f"#{i.id} {clip(i.text, 56)}"), i.id) for i in ideas]

    def fields(self) -> ComposeResult:
        yield Label("Duplicate (disappears; its dots move on):", classes="hint")
        yield Select(self._options, id="source", prompt="the duplicate")
        yield Label("Keep (receives the duplicate):", classes="hint")
        yield Select(self._options, id="target", prompt="the idea to keep")

    def result(self) -> tuple[str, str] | None:
        src = self.query_one("#source", Select).value
        dst = self.query_one("#target", Select).value
        if src is Select.NULL or dst is Select.NULL or src == dst:
            self.notify("Pick two different ideas.", severity="warning")
            return None
        return str(src), str(dst)


class GoalDialog(Form):
    """Edit the team goal's five SMART fields (prefilled); returns the :class:`SmartSheet`."""

    DEFAULT_CSS = FORM_CSS.format(name="GoalDialog")
    heading = "Adopt the team goal (all five fields)"

    def __init__(self, sheet: SmartSheet | None, kpis: list[tuple[str, str]] | None = None) -> None:
        super().__init__()
        self._sheet = sheet or SmartSheet()
        self._kpis = kpis or []  # (name, id): the Measurable field may name one

    def fields(self) -> ComposeResult:
        for key, label, hint in SMART_FIELDS:
            yield Label(f"{label}: {hint}", classes="hint")
            yield Field(value=getattr(self._sheet, key), id=key)
            if key == "measurable" and self._kpis:
                known = self._sheet.kpi if any(i == self._sheet.kpi for _n, i in self._kpis) else Select.NULL
                yield Select([(plain(n), i) for n, i in self._kpis], value=known, id="kpi",
                             prompt="measured by KPI (optional)")  # fmt: skip

    def result(self) -> SmartSheet | None:
        values = {key: self.query_one(f"#{key}", Input).value.strip() for key, _l, _h in SMART_FIELDS}
        kpi = self.query_one("#kpi", Select).value if self._kpis else Select.NULL
        return SmartSheet(**values, kpi="" if kpi is Select.NULL else str(kpi))


CADENCES = ("once", "weekly", "monthly", "quarterly")


class MilestoneDialog(Form):
    """Add or edit a milestone; returns the fields of ``SaveMilestone``.

    The owner is picked from the people in the room (or typed, for someone who is not here),
    and a milestone may be made from an idea, which it then links to.
    """

    DEFAULT_CSS = FORM_CSS.format(name="MilestoneDialog")

    def __init__(
        self,
        milestone: Milestone | None = None,
        people: list[str] | None = None,
        ideas: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self._m = milestone
        self._people = people or []
        self._ideas = ideas or []  # (label, idea id), most voted first
        self._linked: tuple[str, ...] = milestone.idea_ids if milestone else ()
        self.heading = "Edit milestone" if milestone else "Add a milestone"

    def fields(self) -> ComposeResult:
        m = self._m
        due = m.due if m else (dt.date.today() + dt.timedelta(days=30)).isoformat()
        if self._ideas:
            yield Label("From idea (optional: links the milestone to it)", classes="hint")
            linked = self._linked[0] if self._linked else Select.NULL
            yield Select([(plain(clip(t, 60)), i) for t, i in self._ideas], value=linked, id="from-idea",
                         prompt="none")  # fmt: skip
        yield Label("Title", classes="hint")
        yield Field(value=m.title if m else "", id="title")
        yield Label("Owner: someone in the room, or type a name", classes="hint")
        with Horizontal(id="owner-row"):
            yield Field(value=m.owner if m else "", id="owner", suggester=SuggestFromList(self._people))
            if self._people:
                yield Select([(plain(n), n) for n in self._people], prompt="pick", id="owner-pick")
        yield Label("Due date (YYYY-MM-DD)", classes="hint")
        yield Field(value=due, id="due", max_length=10)
        yield Label("Cadence", classes="hint")
        yield Select([(c, c) for c in CADENCES], value=m.cadence if m else "once", allow_blank=False, id="cadence")

    @on(Select.Changed, "#owner-pick")
    def _owner_picked(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.query_one("#owner", Input).value = str(event.value)

    @on(Select.Changed, "#from-idea")
    def _idea_picked(self, event: Select.Changed) -> None:
        self._linked = () if event.value is Select.NULL else (str(event.value),)
        title = self.query_one("#title", Input)
        if self._linked and not title.value.strip():
            text = next(t for t, i in self._ideas if i == self._linked[0])
            title.value = clip(text, 120)

    def result(self) -> dict[str, Any] | None:
        out: dict[str, Any] = {k: self.query_one(f"#{k}", Input).value.strip() for k in ("title", "owner", "due")}
        if not out["title"] or not out["owner"]:
            self.notify("A milestone needs a title and an owner.", severity="warning")
            return None
        out["cadence"] = str(self.query_one("#cadence", Select).value)
        out["idea_ids"] = self._linked
        if self._m is not None:
            out["milestone"] = self._m.id
        return out


class InfoDialog(ModalScreen[None]):
    """Something to read (or copy) once, with one button to close it."""

    DEFAULT_CSS = FORM_CSS.format(name="InfoDialog")
    BINDINGS = [Binding("escape,enter", "dismiss(None)", "Close")]

    def __init__(self, heading: str, body: str) -> None:
        super().__init__()
        self._heading, self._body = heading, body

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self._heading, classes="title")
            yield Static(plain(self._body))
            with Horizontal(classes="buttons"):
                yield ActionButton("OK", variant="primary", id="ok", on_press=self._close)

    def _close(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """Ask before doing something that cannot be undone; returns whether to go ahead."""

    DEFAULT_CSS = FORM_CSS.format(name="ConfirmDialog")
    BINDINGS = [
        Binding("escape,n", "dismiss(False)", "Cancel"),
        Binding("y", "dismiss(True)", "Yes"),
        Binding("left,right", "app.focus_next", "Other button", show=False),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self._question, self._detail = question, detail

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self._question, classes="title")
            if self._detail:
                yield Label(self._detail, classes="hint")
            with Horizontal(classes="buttons"):
                yield ActionButton("Yes (y)", variant="warning", id="yes", on_press=lambda: self.dismiss(True))
                yield ActionButton("Cancel (n)", id="no", on_press=lambda: self.dismiss(False))

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()
