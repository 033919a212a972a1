"""Provides ``ParticipantApp``: what one person in the room sees and does."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Select, Static, Switch, TabbedContent, TabPane

from client.apps.live import LiveApp
from client.connection import Connection, Credentials
from client.dialogs.forms import ConfirmDialog, InfoDialog, TextDialog
from client.dialogs.help import HelpScreen
from client.dialogs.numbers import ActualDialog, StatusDialog
from client.widgets.ideabox import IdeaBox
from client.widgets.ideas import IdeaList, detail
from client.widgets.in_turn import ActionButton, Field
from client.widgets.plain import Part, clip, countdown, name_of, one_line, plain, stage_prompt, status_part, status_text
from client.widgets.progress import progress
from client.widgets.text_line import TextLine
from workshop import commands as c
from workshop.agenda import SMART_FIELDS
from workshop.export import render
from workshop.ideas import live_count, numbers, ranked
from workshop.progress import by_period
from workshop.rules import LIMITS
from workshop.state import STATUS_LABELS, Kpi, Milestone, SmartSheet, State

KEYS = [
    ("F2 / F3 / F4", "ideas / SMART sheet / timeline"),
    ("Tab", "move between fields"),
    ("Enter", "post the idea (in the idea box)"),
    ("Up / Down", "choose the idea's category (in the idea box)"),
    ("+ / -", "add / take back a dot (in the list, while voting)"),
    ("e / w", "edit / withdraw your own idea (in the list)"),
    ("F5", "I'm done with this stage (again: not done)"),
    ("F7", "report on your milestone (milestones stage) or your KPI's actual (numbers stage)"),
    ("F9", "save your copy of the transcript (what you can see)"),
    ("F10", "progress: KPI charts and milestones done"),
    ("F8", "how to come back as yourself from another computer"),
    ("ctrl+p", "command palette (also: dark/light theme)"),
    ("F1", "this help"),
    ("ctrl+q", "quit"),
]

IDEA_LIMIT = LIMITS["idea"]
FOCUS_FOR_KIND = {
    "smart": "#smart-specific", "timeline": "#agree", "wrapup": "#agree", "vote": "#ideas",
    "numbers": "#progress-scroll", "milestones": "#progress-scroll",
}  # fmt: skip
TAB_FOR_KIND = {
    "smart": "smart-tab", "timeline": "timeline-tab", "wrapup": "timeline-tab", "numbers": "progress-tab",
    "milestones": "progress-tab",
}  # fmt: skip


class ParticipantApp(LiveApp):
    """A participant's app: the stage and prompt, posting, the SMART sheet, votes, timeline."""

    CSS_PATH = "participant.tcss"
    TITLE = "workshop"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("f5", "done", "I'm done"),
        Binding("f6", "toggle_anonymous", "Anonymous on/off"),
        Binding("f2", "tab('ideas-tab')", "Ideas", show=False),
        Binding("f3", "tab('smart-tab')", "SMART", show=False),
        Binding("f4", "tab('timeline-tab')", "Timeline", show=False),
        Binding("f8", "rejoin", "Rejoin elsewhere", show=False),
        Binding("f9", "save_transcript", "Save transcript", show=False),
        Binding("f7", "report", "Report"),
        Binding("f10", "tab('progress-tab')", "Progress", show=False),
    ]

    def __init__(
        self,
        conn: Connection,
        remember: Callable[[Connection], None] | None = None,
        check_name: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(conn, remember, check_name)
        self._stage_key = ""
        self._smart_filled = False
        self._round = 1

    def compose(self) -> ComposeResult:
        # The status line changes with every idea posted, and Textual repaints a line by rendering
        # every widget whose container overlaps it: alone beside one container for the rest, it
        # renders three widgets per idea, not the whole head, the tabs and the footer (docs/performance.md).
        yield TextLine(id="status")
        with Vertical(id="body"):
            yield Static(id="notice")
            yield Static(id="goal")
            yield Static(id="prompt")
            yield Static(id="hint")
            with TabbedContent(initial="ideas-tab"):
                with TabPane("Ideas & votes", id="ideas-tab"):
                    yield IdeaBox(placeholder="Type an idea; Enter posts it", id="idea-text", max_length=IDEA_LIMIT)
                    with Horizontal(id="post-row"):
                        yield Select([], prompt="category", id="category")
                        yield Label("anonymous", id="anon-label")
                        yield Switch(value=False, id="anon", tooltip="Post without your name")
                        yield ActionButton("Post", variant="primary", id="post", on_press=self._post_pressed)
                    yield Static(id="dots")
                    yield Static(id="ranked")
                    yield IdeaList(id="ideas")
                    yield Static(id="idea-detail")
                with TabPane("SMART sheet", id="smart-tab"), VerticalScroll(id="smart-form"):
                    yield Static(id="team-goal")
                    for key, label, hint in SMART_FIELDS:
                        yield Label(f"{label}: {hint}", classes="hint")
                        yield Field(id=f"smart-{key}")
                    yield ActionButton(
                        "Submit my SMART sheet", variant="primary", id="submit-smart", on_press=self.submit_smart
                    )
                with TabPane("Timeline", id="timeline-tab"):
                    with VerticalScroll(id="timeline-scroll"):
                        yield Static(id="timeline-view")
                    with Horizontal(id="respond-row"):
                        yield Field(placeholder="Comment (needed for a concern)", id="comment")
                        yield ActionButton("Agree", variant="success", id="agree", on_press=self.agree)
                        yield ActionButton("Raise concern", variant="warning", id="concern", on_press=self.concern)
                with TabPane("Progress", id="progress-tab"), VerticalScroll(id="progress-scroll"):
                    yield Static(id="progress-view")
            yield Footer()

    # -- drawing ---------------------------------------------------------------------------

    def show_notice(self) -> None:
        """One line on what the room is waiting for, if anything: the server, or its facilitator."""
        state, conn = self.conn.state, self.conn
        room = (state.participants, state.stage) if state is not None else (None, None)
        if not self.changed("notice", *room, conn.online, conn.status, conn.role):
            return  # it looks through the room for a facilitator online: not on every idea posted
        said = notice(state, conn)
        self.put("#notice", said)
        self.query_one("#notice").display = bool(said.plain)

    def show_status(self) -> None:
        self.show_notice()
        state = self.conn.state
        if state is not None and self.conn.you:
            self.show_timer(state)
        else:
            self.put("#status", status_text(self.conn.status, self.conn.unsaved))

    def show_timer(self, state: State) -> None:
        """The status line, on one line: when narrow, the name and the count go, the stage says less, done goes."""
        conn = self.conn
        at = f"{state.stage_index + 1}/{len(state.agenda)}"
        title = plain(state.stage.title, "bold")
        counted, people, _online = self.room_counts(state)
        done = Text(f"  · done {counted}/{people}", end="")
        if state.done.get(conn.you) == state.stage.key:
            done.append(" (you ✔)", style="green")
        parts = [
            status_part(0, conn.status, conn.unsaved),
            Part(5, Text("  ", end="") + plain(name_of(state, conn.you), "bold"), optional=True),
            Part(3, Text(f"  · Stage {at}: ", end="") + title, short=Text(f"  · {at} ", end="") + title),
        ]
        if left := countdown(state, conn.now()):
            parts.append(Part(1, Text(f"  ⏱ {left}", style="bold yellow", end="")))
        parts.append(Part(2, done, optional=True))  # kept longer than the word "Stage": it answers F5
        if on_board := live_count(state):  # the board's own list, memoised per change of the ideas
            parts.append(Part(4, Text(f"  · {on_board:,} idea{'s' if on_board != 1 else ''}", end=""), optional=True))
        self.put("#status", one_line(parts, self.size.width - 2))  # the line's padding: a cell each side

    def show(self, state: State) -> None:
        """Redraw what this change touched: each view only when the parts of the state it shows changed.

        (The status line is drawn just before, by ``LiveApp``, with every change.)
        """
        if self.changed("head", state.goal, state.agenda, state.stage_index):
            goal = Text("Goal: ", style="bold", end="")
            goal.append_text(plain(state.goal or "(not set yet)"))
            self.put("#goal", goal)
            self.put("#prompt", stage_prompt(state))
        if state.stage.key != self._stage_key:
            self._new_stage(state)
        mine = state.ballots.get(self.conn.you)
        # After the reveal the ranking follows the ideas too (a merge); before it there is none.
        ranked_from = state.ideas if state.revealed is not None else None
        if self.changed("votes", mine, state.budget, state.revealed, state.open_voting, state.stage_index, ranked_from):
            left = state.dots_left(self.conn.you)
            dots = Text(f"Dots left: {'●' * left}{'○' * (state.budget - left)} {left} of {state.budget}", end="")
            if state.revealed is not None:
                dots.append("  · results revealed", style="cyan")
            elif state.stage.kind == "vote":
                if state.open_voting:
                    dots.append("  · OPEN vote: everyone sees your dots", style="bold yellow")
                else:
                    dots.append("  · secret: only totals are ever shown", style="dim")
            self.put("#dots", dots)
            self.query_one("#dots").display = state.stage.kind == "vote" or state.revealed is not None
            ranked = top_ideas(state)
            self.put("#ranked", ranked)
            self.query_one("#ranked").display = bool(ranked)
        if self.changed("hint", mine, state.budget, state.revealed, state.stage_index, state.finalised):
            self.put("#hint", hint(state, self.conn.you))
        # The footer offers what works now: dots only until the reveal, F7 to an owner.
        if self.changed("keys", state.stage_index, state.revealed, state.milestones, state.kpis, state.participants):
            self.refresh_bindings()
        ideas = self.query_one(IdeaList)
        ideas.show(state, self.conn.you)
        if state.stage.kind == "vote" and ideas.cursor is None and ideas.count:
            ideas.select_first()  # + works at once, on the first idea, rather than silently not at all
        self._show_detail(state)
        self._new_round(state)
        if self.changed("smart", state.team_goal, state.smart, state.kpis):
            self._smart(state)
        if self.changed("timeline", state.milestones, state.responses, state.rounds, state.finalised):
            self.put("#timeline-view", timeline(state, self.conn.you))
        if self.changed("progress", state.kpis, state.measurements, state.milestones, state.next_checkin):
            self.put("#progress-view", progress(state, width=max(20, min(60, self.size.width - 14))))

    def _show_detail(self, state: State) -> None:
        ideas = self.query_one(IdeaList)
        self.put("#idea-detail", detail(state, ideas.selected_id, self.conn.you))
        self.query_one("#idea-detail").display = ideas.selected_id is not None

    @on(IdeaList.Highlighted)
    def _highlighted(self) -> None:
        if self.conn.state is not None:
            self._show_detail(self.conn.state)

    def _new_round(self, state: State) -> None:
        """Say so when the timeline changed under someone who had answered: they are asked again."""
        if state.round_number > self._round:
            before, self._round = self._round, state.round_number
            answered = any(self.conn.you in r.responses for r in state.rounds[before - 1 :])
            if answered and self.is_running:
                changed = state.rounds[-1].changed
                self.notify(
                    f"The timeline changed ({changed}). Your earlier answer is kept in the record; "
                    "please agree or raise a concern again.",
                    title=f"Agreement round {state.round_number}",
                    markup=False,
                    timeout=15,
                )

    def _new_stage(self, state: State) -> None:
        self._stage_key = state.stage.key
        if self._round == 1:
            self._round = state.round_number  # joining late is not a change
        select = self.query_one("#category", Select)
        cats = state.stage.categories
        select.set_options([(plain(f"{cat}"), cat) for cat in cats])
        if len(cats) == 1:
            select.value = cats[0]  # nothing to choose; with several, nobody's idea is filed by default
        select.disabled = not cats
        self.query_one("#post", Button).disabled = not cats
        for part in ("#idea-text", "#post-row"):
            self.query_one(part).display = bool(cats)  # only stages that take ideas show the box
        # The tab and the focus follow the stage, also for someone who joins mid-stage: what
        # they type goes where the stage needs it (a focused widget in a hidden tab would
        # pull the tab back, so both move together).
        self.query_one(TabbedContent).active = TAB_FOR_KIND.get(state.stage.kind, "ideas-tab")
        target = FOCUS_FOR_KIND.get(state.stage.kind, "#idea-text" if cats else "#ideas")
        self.query_one(target).focus()

    def _smart(self, state: State) -> None:
        text = Text(end="")
        if state.team_goal is not None:
            text.append("Team goal adopted\n", style="bold green")
            for key, label, _h in SMART_FIELDS:
                text.append(f"  {label}: ", style="bold")
                text.append_text(plain(getattr(state.team_goal, key)))
                text.append("\n")
        self.put("#team-goal", text)
        mine = state.smart.get(self.conn.you)
        if mine is not None and not self._smart_filled:
            # Prefill once (after a restart); never overwrite what is being typed.
            self._smart_filled = True
            for key, _l, _h in SMART_FIELDS:
                field = self.query_one(f"#smart-{key}", Input)
                if not field.value:
                    field.value = getattr(mine, key)

    # -- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys are offered (and work) only where they do something: dots while voting, edits while posting."""
        state = self.conn.state
        if state is None:
            return True
        if action == "vote":
            return state.stage.kind == "vote" and state.revealed is None
        if action in ("edit_idea", "withdraw_idea"):
            return bool(state.stage.categories)
        if action == "toggle_anonymous":
            return bool(state.stage.categories)
        if action == "cycle_category":
            return len(state.stage.categories) > 1
        if action == "report":
            return bool(self._mine(state))
        return True

    def _mine(self, state: State) -> list[Milestone] | list[Kpi]:
        """What this person reports on in this stage: their milestones, or their KPIs' actuals."""
        me = state.participants.get(self.conn.you)
        name = me.name.casefold() if me else ""
        if state.stage.kind == "milestones":
            return [m for m in state.timeline() if m.owner_id == self.conn.you or (not m.owner_id
                    and m.owner.strip().casefold() == name)]  # fmt: skip
        if state.stage.kind == "numbers":
            return [k for k in state.kpis.values() if k.owner.strip().casefold() == name]
        return []

    def action_report(self) -> None:
        state = self.conn.state
        if state is None or not (mine := self._mine(state)):
            self.say("Nothing of yours to report on in this stage.", "warning")
            return

        def sent(fields: dict[str, Any] | None) -> None:
            if fields is None:
                return
            if state.stage.kind == "numbers":
                self.send(c.RecordActual(id=self.next_id, **fields), said="Actual recorded.")
            else:
                self.send(c.SetMilestoneStatus(id=self.next_id, **fields), said="Status reported.")

        if state.stage.kind == "numbers":
            self.push_screen(ActualDialog(mine), sent)  # type: ignore[arg-type]
        else:
            self.push_screen(StatusDialog(mine), sent)  # type: ignore[arg-type]

    def action_cycle_category(self, step: int) -> None:
        """Up/Down in the idea box: the next or previous category, shown in the picker at once."""
        state = self.conn.state
        if state is None or not (cats := state.stage.categories):
            return
        select = self.query_one("#category", Select)
        at = cats.index(str(select.value)) if select.value in cats else (-1 if step > 0 else 0)
        select.value = cats[(at + step) % len(cats)]

    def action_help(self) -> None:
        self.push_screen(HelpScreen("Participant keys", KEYS, "Your typing is kept while the connection comes back."))

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_rejoin(self) -> None:
        cr = self.conn.creds
        elsewhere = f"workshop join {cr.url}/{cr.code or 'CODE'} --rejoin {cr.token}"
        if door := os.environ.get("WORKSHOP_REJOIN"):  # joined through a door (ssh): come back the same way
            elsewhere = door.format(token=cr.token)
        body = (
            "You come back as yourself by running the same command again on this computer.\n\n"
            f"From another computer:\n\n    {elsewhere}\n\n"
            "Keep it to yourself: whoever has it can act as you in this session."
        )
        self.push_screen(InfoDialog("Rejoin from another computer", body))

    def action_toggle_anonymous(self) -> None:
        switch = self.query_one("#anon", Switch)
        switch.value = not switch.value

    @on(Switch.Changed, "#anon")
    def _anonymous_changed(self, event: Switch.Changed) -> None:
        """Say plainly, on the button itself, whether the next post carries your name."""
        self.query_one("#post", Button).label = "Post anonymously" if event.value else "Post"

    def action_done(self) -> None:
        state = self.conn.state
        if state is None:
            return
        done = state.done.get(self.conn.you) != state.stage.key
        self.send(c.MarkDone(id=self.next_id, done=done), said="Marked done." if done else "Marked not done.")

    def _post_pressed(self) -> None:
        """The Post button: the idea goes out, and the box is where the next one is typed."""
        self.action_post_idea()
        # At once, not on the app's next turn (``focus``): the keys behind Enter go on to it.
        self.screen.set_focus(self.query_one("#idea-text", Input))

    def action_post_idea(self) -> None:
        box = self.query_one("#idea-text", Input)
        category = self.query_one("#category", Select).value
        if not box.value.strip():
            self.say("Type the idea first.", "warning")
            return
        cats = self.conn.state.stage.categories if self.conn.state else ()
        if not cats:
            self.say("This stage takes no ideas.", "warning")
            return
        if category is Select.NULL:
            self.say(f"Choose a category first (↑/↓ in the box): {', '.join(cats)}.", "warning")
            return
        anonymous = self.query_one("#anon", Switch).value
        text = box.value
        self._post(text, str(category), anonymous)

    def _post(self, text: str, category: str, anonymous: bool) -> None:
        """Send the idea and free the box for the next one at once.

        From Enter on, the idea is the connection's: kept and sent again until the server has
        saved it (the status line says so while it waits). Clearing only on the server's answer
        let the next idea, typed meanwhile, run on from the first and go out joined to it.
        If the server refuses the idea, it comes back into the box, or, if the next one is
        already being typed there, into the refusal's message, so that nothing typed is lost.
        """
        box = self.query_one("#idea-text", Input)
        box.value = ""

        def give_back() -> str:
            if box.value:
                return f"It was: {text}"
            box.value = text
            box.cursor_position = len(text)
            return "It is back in the box."

        said = "Posted anonymously." if anonymous else "Posted."
        cmd = c.PostIdea(id=self.next_id, text=text, category=category, anonymous=anonymous)
        self.send(cmd, said=said, refused="Idea not posted", give_back=give_back)

    def action_vote(self, delta: int) -> None:
        if (iid := self.query_one(IdeaList).selected_id) is not None:
            refused = "Dot not placed" if delta > 0 else "Dot not taken back"
            self.send(c.Vote(id=self.next_id, idea=iid, delta=delta), refused=refused)
        else:
            self.say("Select an idea in the list first (↑/↓), then + or -.", "warning")

    def _own(self) -> str | None:
        state, iid = self.conn.state, self.query_one(IdeaList).selected_id
        if state is None or iid is None or iid not in state.ideas:
            return None
        if state.ideas[iid].author != self.conn.you:
            self.say("You can only change your own ideas.", "warning")
            return None
        return iid

    def action_edit_idea(self) -> None:
        if (iid := self._own()) is None or self.conn.state is None:
            return

        def save(text: str | None) -> None:
            if text is not None:
                self.send(c.EditIdea(id=self.next_id, idea=iid, text=text), said="Idea edited.")

        self.push_screen(TextDialog("Edit your idea", self.conn.state.ideas[iid].text), save)

    def action_withdraw_idea(self) -> None:
        if (iid := self._own()) is not None:
            self.send(c.WithdrawIdea(id=self.next_id, idea=iid), said="Idea withdrawn.")

    def submit_smart(self) -> None:
        values = {key: self.query_one(f"#smart-{key}", Input).value.strip() for key, _l, _h in SMART_FIELDS}
        empty = [label for key, label, _h in SMART_FIELDS if not values[key]]

        def go(yes: bool | None = True) -> None:
            if yes:
                self._smart_filled = True
                sheet = SmartSheet(**values)
                self.send(c.SubmitSmart(id=self.next_id, sheet=sheet), said="SMART sheet submitted.",
                          refused="SMART sheet not saved")  # fmt: skip
            else:
                first = next(key for key, _l, _h in SMART_FIELDS if not values[key])
                self.query_one(f"#smart-{first}", Input).focus()

        if not empty:
            go()
            return
        question = f"{len(empty)} of 5 fields are empty ({', '.join(empty)}). Submit anyway?"
        detail = "A goal is SMART when all five are there; you can submit again later."
        self.push_screen(ConfirmDialog(question, detail), go)

    def action_save_transcript(self) -> None:
        """Your own copy: what your screen may show (no anonymous author, no one else's ballot)."""
        state = self.conn.state
        if state is None:
            return
        name = f"workshop-{(self.conn.creds.code or state.session[:8]).lower()}.md"
        self.deliver_text(io.StringIO(render(state, "md")), save_filename=name, open_method="download")

    def on_app_delivery_complete(self, event: App.DeliveryComplete) -> None:
        where = f" to {event.path}" if event.path else ""
        self.notify(f"Transcript saved{where}.", title="Saved", markup=False, timeout=10)

    def on_app_delivery_failed(self, event: App.DeliveryFailed) -> None:
        self.notify(f"Could not save the transcript: {event.exception}", severity="error", markup=False)

    def agree(self) -> None:
        comment = self.query_one("#comment", Input).value.strip()
        self.send(c.RespondTimeline(id=self.next_id, agree=True, comment=comment), said="You agreed to the timeline.",
                  refused="Answer not saved")  # fmt: skip

    def concern(self) -> None:
        comment = self.query_one("#comment", Input).value.strip()
        if not comment:
            self.say("Say what the concern is in the comment box first.", "warning")
            self.screen.set_focus(self.query_one("#comment", Input))  # at once: the keys behind Enter go there
            return
        self.send(c.RespondTimeline(id=self.next_id, agree=False, comment=comment), said="Concern raised.",
                  refused="Concern not saved")  # fmt: skip


def notice(state: State | None, conn: Connection) -> Text:
    """What the room waits for: the server, or its facilitator; or that you are a facilitator now."""
    out = Text(end="")
    if conn.status == "refused":
        out.append("The server no longer lets you in (a facilitator may have removed you).", style="bold red")
    elif conn.status in ("reconnecting", "resyncing") or state is None:
        if state is not None:
            out.append(
                "Cannot reach the workshop server (the facilitator's computer may have stopped). "
                "What you type is kept; reconnecting by itself.",
                style="bold yellow",
            )
    elif not any(p.id in conn.online for p in state.facilitators()):
        out.append("Facilitator away: the session is kept; waiting for them. ", style="bold yellow")
        if state.stage.categories:
            out.append("You can keep posting ideas.", style="yellow")
    elif conn.role == "facilitator":
        command = f"workshop host --resume {conn.creds.code or 'CODE'} --server {conn.creds.url}"
        out.append(f"You are a facilitator now: open the facilitator screen with `{command}`.")
    return out


def timeline(state: State, you: str) -> Text:
    out = Text(end="")
    if state.finalised:
        out.append("The timeline is final.\n", style="bold green")
    if not state.milestones:
        out.append("No milestones yet; the facilitator adds them in the timeline stage.", style="dim")
        return out
    for q, months in by_period(state):
        out.append(f"{q}\n", style="bold underline")
        for mo, milestones in months:
            out.append(f" {mo}\n", style="bold")
            for m in milestones:
                out.append(f"  {m.due}  ", style="bold")
                out.append_text(plain(m.title))
                out.append("  — ")
                out.append_text(plain(m.owner, "italic"))
                if m.cadence != "once":
                    out.append(f" ({m.cadence})", style="dim")
                if m.status != "not_started":
                    style = {"at_risk": "bold red", "done": "green", "on_track": "cyan"}[m.status]
                    out.append(f"  [{STATUS_LABELS[m.status]}]", style=style)
                out.append("\n")
    agree, concerns = state.agreement()
    round_ = f"Round {state.round_number}: " if state.rounds else ""
    concern = "concern" if concerns == 1 else "concerns"
    out.append(f"\n{round_}{agree} agree, {concerns} {concern} so far", style="bold")
    if (r := state.responses.get(you)) is not None:
        out.append(" · you " + ("agreed" if r.agree else "raised a concern"), style="green" if r.agree else "yellow")
    for pid, r in state.responses.items():
        if not r.agree:
            out.append("\n  ✖ ", style="red")
            out.append_text(plain(name_of(state, pid)))
            out.append(": ")
            out.append_text(plain(r.comment))
    return out


def hint(state: State, you: str) -> Text:
    """One line: what to do now, in this stage."""
    kind, cats = state.stage.kind, state.stage.categories
    if kind == "vote" and state.revealed is None:
        left = state.dots_left(you)
        text = f"Vote: ↑/↓ to an idea, + places a dot, - takes it back ({left} left). F5 when you are done."
    elif kind == "vote":
        text = "The votes are revealed: the top ideas are listed above the board."
    elif cats:
        text = "Type an idea, choose its category with ↑/↓, Enter posts. F6: post anonymously. F5 when done."
    elif kind == "smart":
        text = "Fill in the five SMART fields (Tab moves on), then Submit. F5 when done."
    elif kind in ("timeline", "wrapup") and state.finalised:
        text = "The timeline is final. F9 saves your copy of the transcript."
    elif kind == "timeline":
        text = "Read the timeline; Agree, or write a comment and Raise concern."
    elif kind == "numbers":
        text = "The numbers since last time are on the Progress tab. F7 records your KPI's actual, if you own one."
    elif kind == "milestones":
        text = "Owners report on their milestones: F7 for yours (on track, at risk, done). F5 when done."
    else:
        text = "Listen and read; the facilitator moves on when the room is ready. F5 when you are."
    return Text(text, style="italic", end="")


def top_ideas(state: State, limit: int = 5) -> Text:
    """After the reveal: the most-dotted ideas, ranked, to discuss first (empty before)."""
    out = Text(end="")
    top = ranked(state)[:limit]
    if not top:
        return out
    number = numbers(state)
    out.append("Top ideas:", style="bold")
    for n, (idea, dots) in enumerate(top, start=1):
        out.append(f"\n {n}. ", style="bold")
        out.append(f"{dots} dot{'s' if dots != 1 else ''}  ", style="bold cyan")
        out.append_text(plain(clip(idea.text, 90)))
        out.append(f"  (idea {number[idea.id]})", style="dim")
    return out


def participant_app(
    creds: Credentials | Connection,
    remember: Callable[[Connection], None] | None = None,
    check_name: Callable[[str], str] | None = None,
    **conn_options: object,
) -> ParticipantApp:
    """Build a participant's app for a join code (first time) or a token (coming back).

    With ``check_name`` and no name in the credentials, the app asks for the name itself.
    """
    conn = creds if isinstance(creds, Connection) else Connection(creds, **conn_options)  # type: ignore[arg-type]
    return ParticipantApp(conn, remember=remember, check_name=check_name)
