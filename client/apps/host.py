"""Provides ``HostApp``: the facilitator's view of a live workshop, and the keys to drive it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, DataTable, Footer, Static, Tab, Tabs

from client.apps.live import LiveApp
from client.connection import Connection, Credentials
from client.dialogs.forms import ConfirmDialog, GoalDialog, InfoDialog, MergeDialog, MilestoneDialog, TextDialog
from client.dialogs.help import HelpScreen
from client.dialogs.numbers import ActualDialog, CheckinDialog, KpiDialog, StatusDialog
from client.widgets.lines import LineList, Row, Rows
from client.widgets.people import PeopleList
from client.widgets.plain import Part, bar, clip, countdown, name_of, one_line, plain, stage_prompt, status_part
from client.widgets.progress import progress
from client.widgets.text_line import TextLine
from workshop import commands as c
from workshop.agenda import SMART_FIELDS
from workshop.export import render
from workshop.ideas import board_order, categories_shown, groups, numbers, ranked
from workshop.progress import describe
from workshop.state import Idea, Milestone, SmartSheet, State

KEYS = [
    ("n / p", "next / previous stage"),
    ("t", "start the stage timer (minutes)"),
    ("r", "reveal the votes"),
    ("o", "open or secret voting (before the first dot; secret by default)"),
    ("m", "merge duplicate ideas"),
    ("g", "adopt or edit the team goal (SMART stage)"),
    ("a", "add a milestone (timeline stage; e edits, delete removes)"),
    ("e", "edit the selected milestone"),
    ("delete", "remove the selected milestone"),
    ("f", "finalise the timeline"),
    ("k", "KPI: record one (review stage) or its actual (numbers stage)"),
    ("s", "report a milestone's status (milestones stage; the selected one on the Timeline tab)"),
    ("d", "date of the next check-in, and how often (timeline stages)"),
    ("5", "show progress: KPI charts and milestones done"),
    ("x", "export to this directory: the transcript (Markdown, JSON, CSV) and the calendar (.ics)"),
    ("c / h / u / k", "on People: co-facilitator / hand over / make participant / remove"),
    ("1-4", "show board / people / SMART / timeline"),
    ("ctrl+p", "command palette (also: dark/light theme)"),
    ("F1 or ?", "this help"),
    ("ctrl+q", "quit"),
]


TAB_FOR_KIND = {"smart": "smart", "timeline": "timeline", "numbers": "progress", "milestones": "timeline"}


class HostTab(NamedTuple):
    """One of the host's tabs: its label, its content as the switcher knows it, and where the keyboard goes in it."""

    label: str
    pane: str
    focus: str


TABS = {
    "board": HostTab("1 Board", "board-view", "#board-view"),
    "people": HostTab("2 People", "people-pane", "#people-list"),
    "smart": HostTab("3 SMART", "smart-scroll", "#smart-scroll"),
    "timeline": HostTab("4 Timeline", "timeline-pane", "#milestones"),
    "progress": HostTab("5 Progress", "progress-scroll", "#progress-scroll"),
}


class HostApp(LiveApp):
    """The facilitator's app: everything the room does, and every facilitator command."""

    CSS_PATH = "host.tcss"
    TITLE = "workshop host"
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", key_display="F1"),
        Binding("n", "stage(1)", "Next"),
        Binding("p", "stage(-1)", "Prev"),
        Binding("x", "export", "Export"),
        Binding("t", "timer", "Timer"),
        Binding("r", "reveal", "Reveal"),
        Binding("o", "voting_mode", "Open/secret vote", show=False),
        Binding("m", "merge", "Merge", show=False),
        Binding("g", "goal", "Goal"),
        Binding("a", "add_milestone", "Milestone"),
        Binding("e", "edit_milestone", "Edit", show=False),
        Binding("delete", "remove_milestone", "Remove", show=False),
        Binding("f", "finalise", "Finalise"),
        Binding("k", "kpi", "KPI"),
        Binding("s", "milestone_status", "Status"),
        Binding("d", "next_checkin", "Next check-in", show=False),
        Binding("1", "tab('board')", "Board", show=False),
        Binding("2", "tab('people')", "People", show=False),
        Binding("3", "tab('smart')", "SMART", show=False),
        Binding("4", "tab('timeline')", "Timeline", show=False),
        Binding("5", "tab('progress')", "Progress", show=False),
    ]

    def __init__(
        self,
        conn: Connection,
        join_line: str = "",
        remember: Callable[[Connection], None] | None = None,
        notice: str = "",
        doors: list[str] | None = None,
    ) -> None:
        super().__init__(conn, remember)
        self.join_line = join_line
        found = re.search(r"/([^/\s]+)(?:\s|$)", join_line)
        self.code = found.group(1) if found else ""  # the one to read out; the session keeps it wherever it moves
        # The server the join line names, while it is the one this app talks to (`--server`):
        # if the session moves to another server, the line follows it.
        self._join_at = conn.creds.url if join_line.startswith(f"workshop join {conn.creds.url}/") else ""
        self.doors = doors or []  # other ways in (ssh), one line each
        self._notice = notice
        self._told_demoted = False
        # The stage asked for by the last n/p, so quick presses step on from it, not
        # from a replica that has not heard back yet.
        self._wanted: tuple[int, float] | None = None
        self._exported: list[Path] = []
        self._board_rows: dict[object, Row] = {}

    def compose(self) -> ComposeResult:
        # Textual repaints a changed line by rendering every widget whose container overlaps it,
        # each full height (docs/performance.md). The board's heading changes with every idea,
        # so the way down to it is kept short: the lines above the board (the tabs among them)
        # are one container, and each tab's content sits straight in the switcher, with no
        # TabbedContent or TabPane around it: 6 widgets rendered per idea rather than 9.
        with Vertical(id="head"):
            yield TextLine(id="join")
            yield Static(plain(f"Join: {self.join_line}" if self.join_line else ""), id="join-line")
            if self.doors:
                yield Static(plain("Or with nothing installed: " + "  ·  ".join(self.doors)), id="doors")
            yield TextLine(id="stage")
            yield Static(id="goal")
            yield Static(id="prompt")
            yield Tabs(*(Tab(spec.label, id=tab) for tab, spec in TABS.items()), active="board")
        with ContentSwitcher(initial=TABS["board"].pane, id="panes"):
            yield LineList(selectable=False, empty="No ideas yet.", id="board-view")
            with Vertical(id="people-pane"):
                yield PeopleList(id="people-list")
                yield Static(
                    "c co-facilitator · h hand over · u make participant · k remove (their ideas stay)",
                    classes="hint",
                )
            with VerticalScroll(id="smart-scroll"):
                yield Static(id="smart-view")
            with Vertical(id="timeline-pane"):
                yield DataTable(id="milestones", cursor_type="row", zebra_stripes=True)
                yield Static(id="responses")
            with VerticalScroll(id="progress-scroll"):
                yield Static(id="progress-view")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#milestones", DataTable)
        table.add_column("Due", width=10)
        table.add_column("Milestone", key="title", width=30)
        table.add_column("Owner", width=14)
        table.add_column("Cadence", width=9)
        # No super().on_mount(): Textual calls LiveApp's own handler next (it runs each class's
        # handler along the MRO), and calling it here too opened a second connection.
        self._fit_timeline()
        if self.conn.state is None:
            self.query_one("#board-view").focus()  # PageDown and the arrows scroll the board at once
        if self._notice:
            self.notify(self._notice, title="Unfinished session", markup=False, timeout=20)

    # -- drawing ---------------------------------------------------------------------------

    def show_status(self) -> None:
        """First line, whatever the width: the code to read out, and who is in."""
        if self._join_at and self.conn.creds.url != self._join_at:
            # The session moved to another server (its own died): a newcomer must join it there.
            old, self._join_at = self._join_at, self.conn.creds.url
            self.join_line = self.join_line.replace(f"workshop join {old}/", f"workshop join {self._join_at}/", 1)
            self.put("#join-line", plain(f"Join: {self.join_line}"))
        conn = self.conn
        parts = [status_part(1, conn.status, conn.unsaved)]
        if self.code:
            parts.append(Part(0, Text("  Code ", end="") + Text(self.code, style="bold reverse", end="")))
        if conn.state is not None:
            _done, people, online = self.room_counts(conn.state)
            parts.append(Part(2, Text(f"  · {online} in ({people} joined)", end=""), optional=True))
        self.put("#join", one_line(parts, self.size.width - 2))  # the line's padding: a cell each side

    def show(self, state: State) -> None:
        """Redraw what this change touched: each view only when the parts of the state it shows changed."""
        if self.changed("stage", state.stage_index):  # the stage's tab, also on opening or resuming mid-session
            self.action_tab(TAB_FOR_KIND.get(state.stage.kind, "board"))
        self.show_timer(state)
        # (``_exported`` too: the last stage's prompt says where the transcript went.)
        if self.changed("head", state.goal, state.agenda, state.stage_index, self._exported):
            goal = Text("Goal: ", style="bold", end="")
            goal.append_text(plain(state.goal or "(none set: press g in the SMART stage)", "italic"))
            self.put("#goal", goal)
            prompt = stage_prompt(state)
            if state.stage.kind == "wrapup":
                prompt.append_text(self._exported_note())
            self.put("#prompt", prompt)
        # The footer offers what works now (the status report only once there are milestones).
        if self.changed("keys", state.stage_index, state.revealed, state.dots_placed > 0, bool(state.milestones)):
            self.refresh_bindings()
        board_inputs = (state.ideas, state.revealed, state.dots_placed, state.stage_index, state.participants)
        if self.changed("board", *board_inputs, state.open_voting, state.budget):
            self.query_one("#board-view", LineList).set_rows(board(state, self._board_rows))
        if self.changed("people", state.participants, self.conn.online, state.done, state.stage_index, state.smart):
            self.query_one(PeopleList).show(state, set(self.conn.online), self.conn.you)
        if self.conn.role != "facilitator" and not self._told_demoted:
            self._told_demoted = True
            self.notify(
                "You are a participant now: the session goes on without your facilitator keys. "
                "Join it as a participant with the join line; ctrl+q closes this screen.",
                title="Handed over",
                markup=False,
                timeout=30,
            )
        if self.changed("smart", state.smart, state.team_goal, state.kpis, state.participants, state.goal):
            self.put("#smart-view", sheets(state))
        if self.changed("timeline", state.milestones, state.responses, state.rounds, state.finalised):
            self._milestones(state)
            self.put("#responses", responses(state))
        if self.changed("progress", state.kpis, state.measurements, state.milestones, state.next_checkin):
            self.put("#progress-view", progress(state, width=max(20, min(60, self.size.width - 14))))

    def show_timer(self, state: State) -> None:
        s = state.stage
        line = Text(f"Stage {state.stage_index + 1}/{len(state.agenda)}: ", style="bold", end="")
        line.append_text(plain(s.title, "bold"))
        if left := countdown(state, self.conn.now()):
            line.append(f"  ⏱ {left}", style="bold yellow")
        done, people, _online = self.room_counts(state)
        line.append(f"  · done {done}/{people}")
        self.put("#stage", line)

    def fit_to_width(self) -> None:
        self._fit_timeline()
        self.show_status()  # the code always, then the status, then who is in

    def _fit_timeline(self) -> None:
        """The title takes what the fixed columns leave, so owner and cadence stay readable at 80."""
        table = self.query_one("#milestones", DataTable)
        if "title" in table.columns:
            table.columns["title"].width = max(12, self.size.width - 47)  # type: ignore[index]
            table.refresh()

    def _milestones(self, state: State) -> None:
        table = self.query_one("#milestones", DataTable)
        keep = self._selected_milestone()
        table.clear()
        for m in state.timeline():
            table.add_row(plain(m.due), plain(m.title), plain(clip(m.owner, 14)), plain(m.cadence), key=m.id)
        if keep is not None and keep in state.milestones:
            table.move_cursor(row=table.get_row_index(keep))

    def _selected_milestone(self) -> str | None:
        table = self.query_one("#milestones", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value)

    # -- actions ---------------------------------------------------------------------------

    def _state(self) -> State | None:
        if self.conn.state is None:
            self.say("Not connected yet.", "warning")
        return self.conn.state

    def action_help(self) -> None:
        self.push_screen(HelpScreen("Facilitator keys", KEYS, "Participants join with the line at the top."))

    def action_tab(self, tab: str) -> None:
        """Show ``tab`` with the keyboard in it: the arrows and PageDown scroll it at once."""
        self.query_one(Tabs).active = tab
        self.query_one(ContentSwitcher).current = TABS[tab].pane
        # At once, not deferred as Widget.focus() is: a deferred focus from an earlier quick
        # press would pull the tab it belongs to back to the front.
        self.screen.set_focus(self.query_one(TABS[tab].focus))

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        """A tab chosen on the tab row itself (a click, or the arrows while it has the keyboard)."""
        if not event.tabs.is_attached:  # left over from a screen being taken down as the app quits
            return
        # The row's tab now, not the message's: quick presses of 1-5 queue one message each.
        if (spec := TABS.get(event.tabs.active)) is not None:
            event.tabs.screen.query_one(ContentSwitcher).current = spec.pane

    def action_stage(self, step: int) -> None:
        if (state := self._state()) is None:
            return
        base = state.stage_index
        if self._wanted is not None and time.monotonic() - self._wanted[1] < 3:
            base = self._wanted[0]
        index = base + step
        if 0 <= index < len(state.agenda):
            self._wanted = (index, time.monotonic())
            self.send(c.SetStage(id=self.next_id, index=index))
            # Its tab comes with the new stage (show): switching per keypress would race quick presses.
        else:
            self.say("No more stages that way.", "warning")

    def action_timer(self) -> None:
        if (state := self._state()) is None:
            return

        def start(value: str | None) -> None:
            if value is None:
                return
            try:
                minutes = float(value)
            except ValueError:
                self.say(f"{value!r} is not a number of minutes.", "error")
                return
            self.send(c.StartTimer(id=self.next_id, seconds=max(0, int(minutes * 60))))

        minutes = state.stage.minutes or 5
        self.push_screen(TextDialog("Stage timer", str(minutes), "Minutes (0 stops the timer):"), start)

    def action_reveal(self) -> None:
        if (state := self._state()) is None:
            return
        voters = state.people()
        budget = state.budget * len(voters)
        done = sum(1 for p in voters if state.done.get(p.id) == state.stage.key)

        def reveal(yes: bool | None = True) -> None:
            if yes:
                self.send(c.RevealVotes(id=self.next_id), said="Votes revealed.")

        if state.dots_placed >= budget:
            reveal()
            return
        question = f"Reveal now? {state.dots_placed} of {budget} dots are placed ({done} of {len(voters)} done)."
        self.push_screen(ConfirmDialog(question, "After the reveal nobody can change their dots."), reveal)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer (in the footer) and run the keys of this stage; the rest stay in F1 and the palette."""
        state = self.conn.state
        if state is None:
            return True
        kind = state.stage.kind
        if action == "reveal":
            return state.revealed is None and (kind == "vote" or state.dots_placed > 0)
        if action in ("add_milestone", "edit_milestone", "remove_milestone", "finalise"):
            return kind in ("timeline", "wrapup")
        if action == "goal":
            return kind == "smart"
        if action == "kpi":
            return kind in ("review", "numbers")
        if action == "milestone_status":
            return kind in ("milestones", "timeline") and bool(state.milestones)
        if action == "next_checkin":
            return kind in ("timeline", "wrapup")
        return True

    def action_kpi(self) -> None:
        if (state := self._state()) is None:
            return
        if state.stage.kind == "numbers":
            if not state.kpis:
                self.say("No KPIs to record: add them in a review stage.", "warning")
                return

            def record(fields: dict[str, Any] | None) -> None:
                if fields is not None:
                    self.send(c.RecordActual(id=self.next_id, **fields), said="Actual recorded.")

            self.push_screen(ActualDialog(list(state.kpis.values())), record)
            return

        def define(fields: dict[str, Any] | None) -> None:
            if fields is not None:
                self.send(c.DefineKpi(id=self.next_id, **fields), said="KPI recorded.")

        people = [p.name for p in state.participants.values() if not p.removed]
        self.push_screen(KpiDialog(people=people), define)

    def action_milestone_status(self) -> None:
        if (state := self._state()) is None or not state.milestones:
            return

        def report(fields: dict[str, Any] | None) -> None:
            if fields is not None:
                self.send(c.SetMilestoneStatus(id=self.next_id, **fields), said="Status recorded.")

        self.push_screen(StatusDialog(state.timeline(), self._selected_milestone()), report)

    def action_next_checkin(self) -> None:
        if (state := self._state()) is None:
            return

        def schedule(fields: dict[str, Any] | None) -> None:
            if fields is not None:
                self.send(c.ScheduleCheckin(id=self.next_id, **fields), said="Next check-in set.")

        self.push_screen(CheckinDialog(state.next_checkin, state.checkin_cadence), schedule)

    def action_voting_mode(self) -> None:
        if (state := self._state()) is None:
            return
        wanted = not state.open_voting
        said = "Open voting: everyone will see who voted for what." if wanted else "Secret voting: totals only."
        self.send(c.SetVoting(id=self.next_id, open=wanted), said=said)

    def action_merge(self) -> None:
        if (state := self._state()) is None:
            return
        ideas = state.live_ideas()
        if len(ideas) < 2:
            self.say("There are fewer than two ideas to merge.", "warning")
            return

        def merge(pair: tuple[str, str] | None) -> None:
            if pair is not None:
                self.send(c.MergeIdeas(id=self.next_id, source=pair[0], target=pair[1]), said="Ideas merged.")

        self.push_screen(MergeDialog(ideas), merge)

    def action_goal(self) -> None:
        if (state := self._state()) is None:
            return
        sheet = state.team_goal or next(iter(state.smart.values()), None)

        def adopt(value: object) -> None:
            if value is not None:
                self.send(c.AdoptGoal(id=self.next_id, sheet=value), said="Team goal adopted.")

        kpis = [(k.name, k.id) for k in state.kpis.values()]
        self.push_screen(GoalDialog(sheet, kpis), adopt)

    def _save(self, fields: dict[str, Any] | None) -> None:
        if fields is not None:
            self.send(c.SaveMilestone(id=self.next_id, **fields), said="Milestone saved.")

    def _milestone_dialog(self, state: State, milestone: Milestone | None = None) -> MilestoneDialog:
        people = [p.name for p in state.participants.values() if not p.removed]
        number = numbers(state)
        top = [i for i, _dots in ranked(state)]
        rest = [i for i in board_order(state, state.live_ideas()) if i not in top]
        ideas = [(f"{number[i.id]}. {i.text}", i.id) for i in (*top, *rest)]
        return MilestoneDialog(milestone, people=people, ideas=ideas)

    def action_add_milestone(self) -> None:
        if (state := self._state()) is not None:
            self.push_screen(self._milestone_dialog(state), self._save)

    def action_edit_milestone(self) -> None:
        state, mid = self.conn.state, self._selected_milestone()
        if state is None or mid is None or mid not in state.milestones:
            self.say("Select a milestone on the timeline tab first.", "warning")
            return
        self.push_screen(self._milestone_dialog(state, state.milestones[mid]), self._save)

    def action_remove_milestone(self) -> None:
        if (mid := self._selected_milestone()) is None:
            self.say("Select a milestone on the timeline tab first.", "warning")
            return
        self.send(c.RemoveMilestone(id=self.next_id, milestone=mid), said="Milestone removed.")

    # -- seats and roles -------------------------------------------------------------------------

    def _person(self, verb: str) -> tuple[State, str] | None:
        state, pid = self.conn.state, self.query_one(PeopleList).selected_id
        if state is None or pid is None or pid not in state.participants:
            self.say(f"Select someone on the People tab (2) to {verb}.", "warning")
            return None
        return state, pid

    def _take_over_line(self, name: str) -> str:
        code = self.code or "CODE"
        server = self.join_line.split()[2].rsplit("/", 1)[0] if self.join_line.count(" ") >= 2 else ""
        command = f"workshop host --resume {code}" + (f" --server {server}" if server else "")
        return (
            f"{name} opens the facilitator screen with this command, on the computer they joined from:\n\n"
            f"    {command}\n\nUntil then they take part as before."
        )

    def action_promote(self) -> None:
        if (picked := self._person("make co-facilitator")) is None:
            return
        state, pid = picked
        name = state.participants[pid].name
        dialog = InfoDialog(f"{name} is now a co-facilitator", self._take_over_line(name))
        self.send(
            c.SetRole(id=self.next_id, participant=pid, role="facilitator"), then=lambda: self.push_screen(dialog)
        )

    def action_hand_over(self) -> None:
        if (picked := self._person("hand the session to")) is None:
            return
        state, pid = picked
        name = state.participants[pid].name

        def confirmed(yes: bool | None) -> None:
            if yes:
                body = self._take_over_line(name) + "\n\nYou are a participant from now on."
                self.send(
                    c.HandOver(id=self.next_id, participant=pid),
                    then=lambda: self.push_screen(InfoDialog(f"{name} runs the session", body)),
                )

        self.push_screen(
            ConfirmDialog(f"Hand the session to {name}?", "You lose the facilitator keys at once."), confirmed
        )

    def action_demote(self) -> None:
        if (picked := self._person("make a participant")) is None:
            return
        state, pid = picked
        name = state.participants[pid].name
        self.send(
            c.SetRole(id=self.next_id, participant=pid, role="participant"), said=f"{name} is a participant again."
        )

    def action_remove_person(self) -> None:
        if (picked := self._person("remove")) is None:
            return
        state, pid = picked
        name = state.participants[pid].name

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.send(c.RemoveParticipant(id=self.next_id, participant=pid), said=f"{name} was removed.")

        detail = (
            "Their ideas stay on the board; they stop counting in votes, done marks and agreement, and cannot rejoin."
        )
        self.push_screen(ConfirmDialog(f"Remove {name} from the session?", detail), confirmed)

    def action_finalise(self) -> None:
        self.send(c.FinaliseTimeline(id=self.next_id), said="Timeline finalised.")

    def action_export(self) -> None:
        """Write the transcript (Markdown, JSON, CSV) and the calendar side by side in the current directory."""
        if (state := self._state()) is None:
            return
        stem = Path.cwd() / f"workshop-{state.session[:8]}-{time.strftime('%Y%m%d-%H%M%S')}"
        written: list[Path] = []
        try:
            for fmt, suffix in (("md", ".md"), ("json", ".json"), ("csv", ".csv"), ("ics", ".ics")):
                path = stem.with_suffix(suffix)
                path.write_text(render(state, fmt), encoding="utf-8", newline="")
                written.append(path)
        except (OSError, ValueError) as exc:
            self.say(f"Export failed: {exc}", "error")
            return
        self._exported = written
        names = "\n".join(str(p) for p in written)
        self.notify(f"Transcript written to\n{names}", title="Exported", markup=False, timeout=10)
        if self.conn.state is not None:
            self.show(self.conn.state)

    def _exported_note(self) -> Text:
        if not self._exported:
            return Text("\nNot exported yet: press x to write the transcript and calendar here.",
                        style="bold yellow", end="")  # fmt: skip
        names = ", ".join(p.name for p in self._exported)
        return Text(f"\nExported to {self._exported[0].parent}: {names}", style="green", end="")


# -- views (pure: state in, Text out) ------------------------------------------------------


def board(state: State, made: dict[object, Row] | None = None) -> Rows:
    """Ideas grouped by stage and category, in board order (never posting order), one line each.

    The vote's progress comes first while voting, and after the reveal the ranked top ideas: what
    the room discusses next. An idea's row is made only when it is on screen (``Rows``), so
    building the board after an event costs one entry per group, not one per idea.
    """
    rows = Rows()
    kept = dict(made or {})  # rows of the last drawing: one whose key is unchanged is reused, lines and all
    if made is not None:
        made.clear()

    def line(key: object, *parts: tuple[str, str]) -> None:
        row = kept.get(key) or Row("", key, partial(_joined, parts))
        if made is not None:
            made[key] = row
        rows.add(row)

    number = numbers(state)
    totals = state.revealed or {}
    most = max(totals.values(), default=0)
    if state.stage.kind == "vote" or state.revealed is not None:
        budget = state.budget * len(state.people())
        shown = "(revealed)" if state.revealed is not None else "(hidden until you press r)"
        line(("placed", state.dots_placed, budget, shown), (f"Dots placed: {state.dots_placed} of {budget}  ", "bold"),
             (shown, ""))  # fmt: skip
        mode = voting_mode(state)
        line(("mode", mode.plain), (mode.plain, str(mode.style)))
        line(("gap", 0))
    if top := ranked(state)[:10]:
        line(("top",), ("Top ideas", "bold underline"))
        for n, (idea, dots) in enumerate(top, start=1):
            count = f"{dots} dot{'s' if dots != 1 else ''}  "
            line(("top", n, idea.id, idea.text, dots), (f"  {n:>2}. ", "bold"), (count, "bold cyan"),
                 (_one_line(idea.text), ""), (f"  (idea {number[idea.id]})", "dim"))  # fmt: skip
        line(("gap", 1))

    def idea_row(i: Idea) -> Row:
        n, who = number[i.id], name_of(state, i.author)
        dots = totals.get(i.id, 0) if state.revealed is not None else None
        return Row("", ("idea", i.id, i.text, who, n, dots, most), partial(_idea_line, i, n, who, dots, most))

    # Board order is stage, then category: each group is one run of the sorted list.
    by_stage: dict[str, dict[str, Sequence[Idea]]] = {}
    for stage_key, cat, group in groups(state):
        by_stage.setdefault(stage_key, {})[cat] = group
    for stage in state.agenda:
        cats = by_stage.get(stage.key)
        if not cats:
            continue
        count = sum(len(g) for g in cats.values())
        line(("stage", stage.key, count), (stage.title, "bold underline"), (f" ({count})", ""))
        shown = categories_shown(stage.categories, cats)
        # A second heading under a one-category stage's said nothing new, and took a line of the
        # screen and a repaint per idea posted.
        headed = len(shown) > 1
        for cat in shown:
            if ideas := cats.get(cat):
                if headed:
                    line(("cat", stage.key, cat, len(ideas)), ("  ", ""), (cat, "bold"), (f" ({len(ideas)})", ""))
                rows.add_run(ideas, idea_row)
    if not by_stage:
        line(("none",), ("No ideas yet.", "dim"))
    return rows


def _idea_line(idea: Idea, number: int, who: str, dots: int | None, most: int) -> Text:
    parts = [(f"    {number:>3}. ", "dim"), (_one_line(idea.text), ""), (" — ", "dim"), (who, "italic dim")]
    if dots is not None:
        parts.append((f"  {bar(dots, most)} {dots}", "bold cyan"))
    return _joined(tuple(parts))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _joined(parts: tuple[tuple[str, str], ...]) -> Text:
    out = Text(end="")
    for text, style in parts:
        out.append_text(plain(text, style))
    return out


def voting_mode(state: State) -> Text:
    if state.open_voting:
        return Text("OPEN voting: everyone sees who placed which dot.", style="bold yellow", end="")
    return Text("Secret voting: nobody sees whose dots went where, ever; only totals. (o: open)", style="dim", end="")


def _sheet(out: Text, sheet: SmartSheet, state: State | None = None) -> None:
    for key, label, _hint in SMART_FIELDS:
        value = getattr(sheet, key)
        if value:
            out.append(f"  {label}: ", style="bold")
            out.append_text(plain(value))
            if key == "measurable" and state is not None and (kpi := state.kpis.get(sheet.kpi)) is not None:
                out.append("  (")
                out.append_text(plain(f"{kpi.name}: {describe(kpi)}", "bold cyan"))
                out.append(")")
            out.append("\n")


def sheets(state: State) -> Text:
    out = Text(end="")
    out.append("Overall goal: ", style="bold")
    out.append_text(plain(state.goal or "(none set)"))
    out.append("\n\n")
    if state.team_goal is not None:
        out.append("Adopted team goal\n", style="bold green")
        _sheet(out, state.team_goal, state)
        out.append("\n")
    else:
        out.append("No team goal adopted yet (press g).\n\n", style="dim")
    for pid, sheet in state.smart.items():
        out.append_text(plain(name_of(state, pid), "bold underline"))
        out.append("\n")
        _sheet(out, sheet)
    if not state.smart:
        out.append("No SMART sheets submitted yet.", style="dim")
    return out


def responses(state: State) -> Text:
    out = Text(end="")
    if state.finalised:
        out.append("Timeline finalised. ", style="bold green")
    if not state.milestones:
        out.append("No milestones yet: press a to add one.", style="dim")
        return out
    agree, concerns = state.agreement()
    voters = len(state.people())
    concern = "concern" if concerns == 1 else "concerns"
    out.append(f"Agreement round: {agree} agree, {concerns} {concern}, of {voters}\n", style="bold")
    for pid, r in state.responses.items():
        out.append("  ✔ " if r.agree else "  ✖ ", style="green" if r.agree else "red")
        out.append_text(plain(name_of(state, pid)))
        if r.comment:
            out.append(": ")
            out.append_text(plain(r.comment))
        out.append("\n")
    return out


def host_app(
    creds: Credentials | Connection,
    join_line: str = "",
    remember: Callable[[Connection], None] | None = None,
    notice: str = "",
    doors: list[str] | None = None,
    **conn_options: object,
) -> HostApp:
    """Build the facilitator's app for a session it holds a facilitator's credential of."""
    conn = creds if isinstance(creds, Connection) else Connection(creds, **conn_options)  # type: ignore[arg-type]
    return HostApp(conn, join_line=join_line, remember=remember, notice=notice, doors=doors)
