"""The Textual apps against a real server on 127.0.0.1: one host app and two participant apps."""

from __future__ import annotations

import asyncio
import html
import inspect
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, ContentSwitcher, Input, Select, Switch, Tabs

from client.apps.host import TABS, HostApp, host_app
from client.apps.live import LiveApp
from client.apps.participant import ParticipantApp, participant_app
from client.connection import Connection, Credentials, create_session
from client.widgets.ideas import IdeaList
from client.widgets.lines import LineList
from client.widgets.people import PeopleList
from server.limits import Limits
from tests.conftest import LiveServer, start_server, stop_server
from workshop import commands as c
from workshop.agenda import DEFAULT_STAGES
from workshop.state import SmartSheet, State

SIZE = (100, 34)
STAGE = {s.key: i for i, s in enumerate(DEFAULT_STAGES)}
HOSTILE = ["[bold red]hi[/]", "[@click=app.quit]x[/]", "[/]", '[link="https://evil"]docs[/]']


def _step() -> str:
    """The test line that is waiting, so that a timeout says which step of the workshop it was."""
    frame = inspect.stack()[2]
    line = frame.code_context[0].strip() if frame.code_context else "?"
    return f"{line}  (line {frame.lineno})"


async def settle(pilot: Pilot, ok: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app process messages until ``ok()`` holds; fail naming the step after ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while not ok():
                await pilot.pause(0.02)
    except TimeoutError:
        raise AssertionError(f"the screen never showed it: {_step()}") from None


async def reach(conn: Connection, predicate: Callable[[State], bool], timeout: float = 10.0) -> State:
    """Wait for ``conn``'s replica to satisfy ``predicate``; fail naming the step."""
    try:
        return await conn.wait_for(predicate, timeout)
    except TimeoutError:
        raise AssertionError(f"the session never got there: {_step()}") from None


def list_lines(app: LiveApp) -> list[str]:
    return app.screen.query_one(IdeaList).plain_lines()


def screen_text(app: LiveApp) -> str:
    """What the terminal shows, read back from a screenshot: markup that ran would be missing here."""
    svg = app.export_screenshot()
    runs = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    return html.unescape("".join(runs)).replace("\xa0", " ")


def people_lines(app: LiveApp) -> list[str]:
    people = app.screen.query_one(PeopleList)
    return [str(people.get_option_at_index(n).prompt) for n in range(people.option_count)]


def notes(app: LiveApp) -> str:
    """The toasts on screen now, as the person reads them."""
    return " | ".join(f"{n.title}: {n.message}" for n in app._notifications)


def text_of(app: LiveApp, selector: str) -> str:
    widget = app.screen.query_one(selector)
    if isinstance(widget, LineList):
        return "\n".join(widget.plain_lines())
    return str(widget.content)


def first_line_shown(app: LiveApp, selector: str) -> str:
    """What the terminal gets on the first line of the widget at ``selector``: cut to its width, unlike ``text_of``."""
    return app.screen.query_one(selector).render_line(0).text


def tab_shown(host: HostApp) -> str:
    """The host's tab on screen: lit on the tab row with its content under it ("" while the two differ)."""
    active = host.screen.query_one(Tabs).active
    return active if active in TABS and host.screen.query_one(ContentSwitcher).current == TABS[active].pane else ""


async def type_into(pilot: Pilot, selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector, Input).focus()
    await pilot.pause()
    await pilot.press(*("space" if ch == " " else ch for ch in text))


async def open_session(url: str, goal: str = "30 new leads a month") -> tuple[HostApp, str]:
    created = await create_session(url, goal=goal)
    creds = Credentials(url=url, session=created.session, secret=created.secret)
    return host_app(creds, join_line=f"workshop join {url}/{created.code} --name YOURNAME"), created.code


async def online(*pairs: tuple[Pilot, LiveApp]) -> None:
    for pilot, app in pairs:
        await app.conn.wait_status("online")
        await settle(pilot, lambda app=app: app.conn.state is not None and app.conn.you != "")


async def go_to(pilot: Pilot, host: HostApp, key: str) -> None:
    """Press n / p on the host until the stage ``key`` is open."""
    target = STAGE[key]
    while (index := host.conn.state.stage_index) != target:
        await pilot.press("n" if index < target else "p")
        await reach(host.conn, lambda s, index=index: s.stage_index != index)


async def close(*apps: LiveApp) -> None:
    for app in apps:
        await app.workers.wait_for_complete()
        await app.conn.close()


async def test_workshop_through_the_apps(live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without this, a facilitator and participants could not run a workshop from the TUIs."""
    monkeypatch.chdir(tmp_path)
    host, code = await open_session(live.url)
    ana = participant_app(Credentials(url=live.url, code=code, name="Ana"))
    bo = participant_app(Credentials(url=live.url, code=code, name="Bo"))
    async with host.run_test(size=SIZE) as hp, ana.run_test(size=SIZE) as ap, bo.run_test(size=SIZE) as bp:
        await online((hp, host), (ap, ana), (bp, bo))
        await settle(hp, lambda: "2 in" in text_of(host, "#join"))

        # The host opens the review stage: both participants see its prompt.
        await go_to(hp, host, "stop_start_continue")
        prompt = DEFAULT_STAGES[STAGE["stop_start_continue"]].prompt
        for pilot, app in ((ap, ana), (bp, bo)):
            await settle(pilot, lambda app=app: text_of(app, "#prompt") == prompt)

        # Ana types an idea; the host sees it on the board with her name.
        await type_into(ap, "#idea-text", "Start a monthly webinar")
        await ap.press("enter")  # no category chosen yet: nothing is filed by default
        await settle(ap, lambda: "Choose a category first" in notes(ana))
        await ap.press("down", "down")  # stop, then start
        await settle(ap, lambda: ana.screen.query_one("#category", Select).value == "start")
        await ap.press("enter")
        await reach(host.conn, lambda s: any(i.text == "Start a monthly webinar" for i in s.ideas.values()))
        await settle(hp, lambda: "Start a monthly webinar — Ana" in text_of(host, "#board-view"))
        await settle(ap, lambda: ana.screen.query_one("#idea-text", Input).value == "")

        # Bo posts anonymously: the host sees the idea but not who wrote it.
        await type_into(bp, "#idea-text", "Stop cold calls")
        await bp.press("down")
        await bp.click("#anon")
        await bp.click("#post")
        await settle(hp, lambda: "Stop cold calls — anonymous" in text_of(host, "#board-view"))
        # Grouped by category in the stage's order and numbered in board order, never posting order.
        assert text_of(host, "#board-view").splitlines() == [
            "Stop / Start / Continue (2)",
            "  stop (1)",
            "      1. Stop cold calls — anonymous",
            "  start (1)",
            "      2. Start a monthly webinar — Ana",
        ]
        await settle(bp, lambda: any("you, anonymously" in line for line in list_lines(bo)))

        # SMART: Ana fills her sheet in the form; the host adopts a team goal prefilled from it.
        await go_to(hp, host, "smart")
        await settle(ap, lambda: text_of(ana, "#prompt") == DEFAULT_STAGES[STAGE["smart"]].prompt)
        await type_into(ap, "#smart-specific", "Thirty leads")
        for key in ("measurable", "achievable", "relevant", "time_bound"):
            ana.screen.query_one(f"#smart-{key}", Input).value = f"{key} answer"
        await ap.click("#submit-smart")
        await reach(host.conn, lambda s: ana.conn.you in s.smart)
        await settle(hp, lambda: "Thirty leads" in text_of(host, "#smart-view"))
        await hp.press("g")
        await settle(hp, lambda: hp.app.screen.query("#specific").first(Input).value == "Thirty leads")
        hp.app.screen.query_one("#specific", Input).focus()
        await hp.press("enter")
        await reach(bo.conn, lambda s: s.team_goal is not None and s.team_goal.specific == "Thirty leads")

        # Votes: each participant places dots from the list; the host reveals.
        await go_to(hp, host, "vote")
        for pilot, app, presses in ((ap, ana, 2), (bp, bo, 1)):
            await settle(pilot, lambda app=app: app.screen.query_one(IdeaList).option_count == 2)
            ideas = app.screen.query_one(IdeaList)
            ideas.focus()
            ideas.select_first()
            for n in range(presses):
                await pilot.press("plus")
                await reach(app.conn, lambda s, app=app, n=n: s.dots_left(app.conn.you) == 2 - n)
        await settle(ap, lambda: "1 of 3" in text_of(ana, "#dots"))
        await hp.press("r")  # 3 of 6 dots placed: the host is asked first
        await settle(hp, lambda: bool(hp.app.screen.query("#yes")))
        assert ana.conn.state.revealed is None
        await hp.click("#yes")
        await reach(ana.conn, lambda s: s.revealed is not None)
        await settle(ap, lambda: "█" in list_lines(ana)[0])
        await settle(hp, lambda: "(revealed)" in text_of(host, "#board-view"))

        # Timeline: the host adds a milestone, Ana agrees, Bo raises a concern, the host finalises.
        await go_to(hp, host, "timeline")
        await hp.press("a")
        await settle(hp, lambda: bool(hp.app.screen.query("#title")))
        await type_into(hp, "#title", "Launch webinar")
        await type_into(hp, "#owner", "Ana")
        await hp.press("enter")
        await reach(ana.conn, lambda s: len(s.milestones) == 1)
        await settle(ap, lambda: "Launch webinar" in text_of(ana, "#timeline-view"))
        await ap.click("#agree")
        await type_into(bp, "#comment", "Too soon")
        await bp.click("#concern")
        await reach(host.conn, lambda s: len(s.responses) == 2)
        await settle(hp, lambda: "1 agree, 1 concern, of 2" in text_of(host, "#responses"))
        await hp.press("f")
        await reach(bo.conn, lambda s: s.finalised)
        await settle(bp, lambda: "The timeline is final." in text_of(bo, "#timeline-view"))

        # Ana says she is done; everyone sees the count.
        await ap.press("f5")
        await settle(bp, lambda: "done 1/2" in text_of(bo, "#status"))
        assert "· 2 ideas" in text_of(bo, "#status")  # how full the board is, seen without scrolling it
        await settle(hp, lambda: "done 1/2" in text_of(host, "#stage"))

        # What the room agreed is what the server holds, and every screen shows the same.
        final = host.conn.state
        assert final.finalised and final.team_goal is not None and final.team_goal.specific == "Thirty leads"
        assert sorted(i.text for i in final.ideas.values()) == ["Start a monthly webinar", "Stop cold calls"]
        # Both placed their dots on the first idea of the list: the board goes by category, stop first.
        assert {final.ideas[i].text: n for i, n in final.revealed.items()} == {"Stop cold calls": 3}
        assert {i.text: i.category for i in final.ideas.values()} == {
            "Start a monthly webinar": "start",
            "Stop cold calls": "stop",
        }
        assert [m.title for m in final.timeline()] == ["Launch webinar"]
        assert ana.conn.state.seq == bo.conn.state.seq == final.seq
        await close(host, ana, bo)


async def test_export_from_the_host(live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without this, the facilitator could not take the workshop's record home from the TUI."""
    monkeypatch.chdir(tmp_path)
    host, code = await open_session(live.url)
    async with host.run_test(size=SIZE) as hp:
        await online((hp, host))
        ana = await live.participant(code, "Ana")
        await reach(host.conn, lambda s: ana.you in s.participants)
        await go_to(hp, host, "new_ways")
        await ana.do(c.PostIdea, category="idea", text="Partner event in May")
        await reach(host.conn, lambda s: len(s.ideas) == 1)
        await go_to(hp, host, "afterwards")
        assert "Not exported yet" in text_of(host, "#prompt")
        await hp.press("x")
        await settle(hp, lambda: any(tmp_path.glob("workshop-*.csv")))
        for suffix in ("md", "json", "csv"):
            (path,) = tmp_path.glob(f"workshop-*.{suffix}")
            assert "Partner event in May" in path.read_text(encoding="utf-8")
        # The stage's prompt says where it went (it said "Not exported yet" until the stage changed).
        await settle(hp, lambda: f"Exported to {tmp_path}" in text_of(host, "#prompt"))
        await close(host)


async def test_a_stage_of_one_category_is_its_own_heading(live) -> None:
    """Without this, every idea stage of one category headed its ideas twice ("New ways", then "idea")."""
    async with host_with_ideas(live, "Partner with a trade magazine", "Host a customer panel") as (host, hp):
        await settle(hp, lambda: "New ways (2)" in text_of(host, "#board-view"))
        assert text_of(host, "#board-view").splitlines() == [
            "New ways (2)",
            "      1. Host a customer panel — Ana",
            "      2. Partner with a trade magazine — Ana",
        ]


async def test_hostile_text_shows_literally(live) -> None:
    """Without this, a participant's name or idea could restyle the host's screen or fire an action."""
    host, code = await open_session(live.url)
    async with host.run_test(size=SIZE) as hp:
        await online((hp, host))
        people = [await live.participant(code, name) for name in HOSTILE]
        await go_to(hp, host, "new_ways")
        for conn, text in zip(people, HOSTILE, strict=True):
            await conn.do(c.PostIdea, category="idea", text=text)
        await reach(host.conn, lambda s: len(s.ideas) == len(HOSTILE))
        await settle(hp, lambda: all(f"{t} — {t}" in text_of(host, "#board-view") for t in HOSTILE))
        await hp.press("2")
        await settle(hp, lambda: all(any(t in line for line in people_lines(host)) for t in HOSTILE))
        await hp.pause()
        assert host.is_running
        shown = screen_text(host)
        for text in HOSTILE:
            assert text in shown, f"{text!r} is not on the People tab as typed"
        assert host.is_running
        await close(host)


async def test_hostile_text_in_the_participant_app(live) -> None:
    """Without this, a teammate's idea could crash or hijack a participant's screen."""
    host, code = await open_session(live.url)
    app: ParticipantApp = participant_app(Credentials(url=live.url, code=code, name=HOSTILE[0]))
    async with host.run_test(size=SIZE) as hp, app.run_test(size=SIZE) as pp:
        await online((hp, host), (pp, app))
        await go_to(hp, host, "new_ways")
        other = await live.participant(code, HOSTILE[1])
        for text in HOSTILE:
            await other.do(c.PostIdea, category="idea", text=text)
        await reach(app.conn, lambda s: len(s.ideas) == len(HOSTILE))
        ideas = app.screen.query_one(IdeaList)
        await settle(pp, lambda: ideas.option_count == len(HOSTILE))
        shown = list_lines(app)
        assert all(any(t in line and HOSTILE[1] in line for line in shown) for t in HOSTILE)
        assert HOSTILE[0] in text_of(app, "#status")
        app.export_screenshot()
        assert app.is_running
        await close(host, app)


NAMED = {" ": "space"}  # characters whose key has a name of its own
CHARACTER = {"enter": "\r", "tab": "\t"}  # named keys that type a character; the rest type none


def send_together(app: LiveApp, keys: list[str]) -> None:
    """Keys arriving in one read (a fast typist, a slow link): all posted before the app handles the first.

    This is what Textual's terminal driver does with what it reads; ``Pilot.press`` waits for
    each key to be handled, which hides every question of order.
    """
    for key in keys:
        name = NAMED.get(key, key)
        character = key if len(key) == 1 else CHARACTER.get(key)
        app.post_message(events.Key(name, character))


@asynccontextmanager
async def host_with_ideas(live: LiveServer, *texts: str) -> AsyncIterator[tuple[HostApp, Pilot]]:
    """The host app, online, its room in "New ways" with Ana's ``texts`` posted."""
    host, code = await open_session(live.url)
    async with host.run_test(size=SIZE) as hp:
        await online((hp, host))
        ana = await live.participant(code, "Ana")
        await go_to(hp, host, "new_ways")
        for text in texts:
            await ana.do(c.PostIdea, category="idea", text=text)
        yield host, hp
        await close(host)


@asynccontextmanager
async def participant_at(live: LiveServer, stage: str) -> AsyncIterator[tuple[Connection, ParticipantApp, Pilot]]:
    """Ana's app, online, in a session its facilitator (``fac``, a protocol client) has moved to ``stage``."""
    fac, code = await live.facilitator()
    await fac.do(c.SetStage, index=STAGE[stage])
    app = participant_app(Credentials(url=live.url, code=code, name="Ana"))
    async with app.run_test(size=(80, 24)) as pilot:
        await online((pilot, app))
        await settle(pilot, lambda: app.conn.state.stage.key == stage)
        yield fac, app, pilot
        await close(app)


def ideas_of(state: State) -> list[str]:
    return [i.text for i in state.ideas.values()]


async def test_participant_reconnects_and_keeps_what_was_typed(live) -> None:
    """Without this, a network drop would leave a participant offline or wipe the idea they were typing."""
    async with participant_at(live, "new_ways") as (fac, app, pilot):
        seen: list[str] = []
        app.conn.on_change(lambda: seen.append(app.conn.status))
        await type_into(pilot, "#idea-text", "Partner webinars")
        room = live.app.rooms[fac.creds.session]
        for conn in room.conns[app.conn.you]:
            conn.outbox.ws.transport.abort()  # the network drops under the participant
        await settle(pilot, lambda: app.conn.reconnects >= 1 and app.conn.status == "online")
        assert "reconnecting" in seen
        await settle(pilot, lambda: "online" in text_of(app, "#status"))  # drawn at the next frame
        assert app.screen.query_one("#idea-text", Input).value == "Partner webinars"
        await pilot.press("enter")
        await reach(fac, lambda s: ideas_of(s) == ["Partner webinars"])
        assert [i.author for i in fac.state.ideas.values()] == [app.conn.you]  # still the same person


async def test_the_next_idea_typed_before_the_first_is_saved_goes_out_on_its_own(live) -> None:
    """Without this, someone typing fast (or on a slow link) would send their first idea again, joined to the next."""
    async with participant_at(live, "new_ways") as (fac, app, pilot):
        box = app.screen.query_one("#idea-text", Input)
        await type_into(pilot, "#idea-text", "Partner webinars")
        log = sqlite3.connect(live.db, isolation_level=None)
        log.execute("BEGIN EXCLUSIVE")  # a slow disk: the idea is neither saved nor answered while the next is typed
        await pilot.press("enter")
        assert box.value == ""  # free for the next idea at once
        await type_into(pilot, "#idea-text", "Case studies")
        assert app.conn.unconfirmed  # (the first is still waiting)
        log.execute("COMMIT")
        log.close()
        await reach(fac, lambda s: ideas_of(s) == ["Partner webinars"])
        await settle(pilot, lambda: not app.conn.unconfirmed)
        assert box.value == "Case studies"
        await pilot.press("enter")
        await reach(fac, lambda s: ideas_of(s) == ["Partner webinars", "Case studies"])


async def test_ideas_whose_keys_arrive_together_go_out_as_typed(live) -> None:
    """Without this, keys arriving in one read (a fast typist, a slow link) had Enter post text from the next idea."""
    async with participant_at(live, "stop_start_continue") as (fac, app, pilot):  # a category to pick
        app.screen.query_one("#idea-text", Input).focus()
        await pilot.pause()
        keys = ["down", *"Cut cold calls", "enter", "down", *"Start webinars", "enter"]
        send_together(app, keys)
        await reach(fac, lambda s: len(s.ideas) == 2)
        assert sorted((i.category, i.text) for i in fac.state.ideas.values()) == [
            ("start", "Start webinars"), ("stop", "Cut cold calls")]  # fmt: skip
        assert app.screen.query_one("#idea-text", Input).value == ""


async def test_anonymous_pressed_before_enter_holds_when_keys_arrive_together(live) -> None:
    """Without this, F6 then Enter arriving in one read (a slow link) posted the idea with its author's name."""
    async with participant_at(live, "new_ways") as (fac, app, pilot):
        app.screen.query_one("#idea-text", Input).focus()
        await pilot.pause()
        keys = [*"Quiet one", "f6", "enter", "f6", *"Named one", "enter"]
        send_together(app, keys)
        await reach(fac, lambda s: len(s.ideas) == 2)
        ideas = {i.text: i for i in fac.state.ideas.values()}
        assert ideas["Quiet one"].author is None, "posted with a name after F6 asked for none"
        assert ideas["Named one"].author == app.conn.you
        # One F6 is one toggle, as the button says: not one in the box and another in the app.
        await pilot.press("f6")
        await pilot.pause()
        assert app.screen.query_one("#anon", Switch).value
        assert str(app.screen.query_one("#post", Button).label) == "Post anonymously"


async def test_a_form_filled_with_keys_arriving_together_fills_each_field(live) -> None:
    """Without this, "Thirty<Tab>Count" arriving in one read (a slow link) filled one field with "ThirtyCount"."""
    async with participant_at(live, "smart") as (_fac, app, pilot):
        app.screen.query_one("#smart-specific", Input).focus()
        await pilot.pause()
        keys = [*"Thirty", "tab", "tab", *"Yes", "shift+tab", *"Count"]
        send_together(app, keys)
        fields = {k: app.screen.query_one(f"#smart-{k}", Input) for k in ("specific", "measurable", "achievable")}
        await settle(pilot, lambda: fields["measurable"].value == "Count")
        assert {k: f.value for k, f in fields.items()} == {
            "specific": "Thirty", "measurable": "Count", "achievable": "Yes"}  # fmt: skip


async def test_a_key_after_a_dialogs_enter_goes_to_the_screen_behind_it(live) -> None:
    """Without this, "5<Enter>2" arriving in one read set a 52-minute timer instead of 5 and opening tab 2."""
    host, _code = await open_session(live.url)
    async with host.run_test(size=SIZE) as hp:
        await online((hp, host))
        await go_to(hp, host, "new_ways")
        await hp.press("t")
        await settle(hp, lambda: bool(hp.app.screen.query("#value")))
        keys = ["ctrl+u", "5", "enter", "2"]
        send_together(host, keys)
        await reach(host.conn, lambda s: s.timer_ends_at is not None)
        assert 299 <= host.conn.state.timer_ends_at - host.conn.now() <= 300
        await settle(hp, lambda: tab_shown(host) == "people")
        await close(host)


async def test_the_people_tab_shows_who_has_handed_in_a_smart_sheet(live) -> None:
    """Without this, the host's people list showed "SMART sheet in" only after some other change."""
    host, code = await open_session(live.url)
    async with host.run_test(size=SIZE) as hp:
        await online((hp, host))
        ana = await live.participant(code, "Ana")
        await go_to(hp, host, "smart")
        await settle(hp, lambda: any(line.startswith("● Ana") for line in people_lines(host)))
        await ana.do(c.SubmitSmart, sheet=SmartSheet(specific="30 leads a month"))
        await settle(hp, lambda: any("Ana" in line and "SMART sheet in" in line for line in people_lines(host)))
        await close(host)


async def test_the_hosts_tab_row_shows_the_tab_stepped_to_on_it(live) -> None:
    """The tab row and the content under it are two widgets (fewer to repaint per idea): stepping
    along the row with the arrows (as a click does) must change both, not only which tab is lit."""
    host, _code = await open_session(live.url)
    async with host.run_test(size=SIZE) as hp:
        await online((hp, host))
        await settle(hp, lambda: first_line_shown(host, "#stage").startswith("Stage 1/"))  # its own tab shown
        host.screen.query_one(Tabs).focus()
        await hp.press("left")
        await settle(hp, lambda: tab_shown(host) == "progress")
        await hp.press("left")
        await settle(hp, lambda: tab_shown(host) == "timeline")
        assert "Due" in first_line_shown(host, "#milestones")
        await hp.press("1")
        await settle(hp, lambda: tab_shown(host) == "board" and host.focused is host.screen.query_one("#board-view"))
        await close(host)


async def test_the_hint_says_the_timeline_is_final_once_it_is(live) -> None:
    """Without this, a participant still read "Agree, or write a comment" after the facilitator finalised."""
    async with participant_at(live, "timeline") as (fac, app, pilot):
        await fac.do(c.SaveMilestone, title="Launch webinar", owner="Ana", due="2027-01-31", idea_ids=())
        await settle(pilot, lambda: "Launch webinar" in text_of(app, "#timeline-view"))
        assert "Agree, or write a comment" in text_of(app, "#hint")
        await fac.do(c.FinaliseTimeline)
        await settle(pilot, lambda: "The timeline is final" in text_of(app, "#hint"))


async def test_a_key_after_enter_on_a_dialogs_button_goes_to_the_screen_behind_it(live) -> None:
    """Without this, "<Enter>2" on the reveal question's Cancel arriving in one read lost the "2" with the dialog."""
    host, code = await open_session(live.url)
    async with host.run_test(size=SIZE) as hp:
        await online((hp, host))
        await live.participant(code, "Ana")  # someone who has not voted: the reveal asks first
        await go_to(hp, host, "vote")
        await hp.press("r")
        await settle(hp, lambda: bool(hp.app.screen.query("#no")))  # the focus starts on Cancel
        send_together(host, ["enter", "2"])
        await settle(hp, lambda: not host.screen.is_modal and tab_shown(host) == "people")
        assert host.conn.state.revealed is None
        await close(host)


async def test_the_next_idea_typed_after_enter_on_post_goes_into_the_box(live) -> None:
    """Without this, the next idea typed after Enter on the Post button went to the button, and was lost."""
    async with participant_at(live, "new_ways") as (_fac, app, pilot):
        box = app.screen.query_one("#idea-text", Input)
        await type_into(pilot, "#idea-text", "Run a webinar")
        app.screen.query_one("#post", Button).focus()
        await pilot.pause()
        send_together(app, ["enter", *"Host a meetup"])
        await reach(app.conn, lambda s: ideas_of(s) == ["Run a webinar"])
        await settle(pilot, lambda: box.value == "Host a meetup")
        assert app.focused is box


async def test_a_dialog_filled_with_keys_arriving_together_loses_nothing(live) -> None:
    """Without this, Tab then a title arriving in one read (a slow link) was lost on the dialog's first list."""
    async with host_with_ideas(live, "Run a webinar") as (host, hp):
        await go_to(hp, host, "timeline")
        await hp.press("a")
        await settle(hp, lambda: bool(hp.app.screen.query("#from-idea")))  # focus starts on this list
        keys = ["tab", *"Launch", "tab", *"Ana", "enter"]
        send_together(host, keys)
        await reach(host.conn, lambda s: len(s.milestones) == 1)
        [milestone] = host.conn.state.milestones.values()
        assert (milestone.title, milestone.owner) == ("Launch", "Ana")


async def test_an_idea_the_server_refuses_comes_back_into_the_box(tmp_path: Path) -> None:
    """Without this, an idea refused after the box was cleared (here: posting too fast) would be lost."""
    live = await start_server(tmp_path / "w.db", Limits(commands_per_second=0.001, command_burst=1))
    try:
        async with participant_at(live, "new_ways") as (fac, app, pilot):
            box = app.screen.query_one("#idea-text", Input)
            for text in ("Partner webinars", "Case studies"):
                await type_into(pilot, "#idea-text", text)
                await pilot.press("enter")
            await settle(pilot, lambda: box.value == "Case studies")
            assert "It is back in the box" in notes(app)
            await reach(fac, lambda s: ideas_of(s) == ["Partner webinars"])
    finally:
        await stop_server(live)


def test_join_targets() -> None:
    """Without this, a participant pasting the join line (or only its code) could not get in."""
    from client.launch import split_target

    assert split_target("ws://192.0.2.10:8765/ABCDE-FGHJK", "ws://x:1") == ("ws://192.0.2.10:8765", "ABCDE-FGHJK")
    assert split_target("wss://w.example/ABCDE-FGHJK/", "ws://x:1") == ("wss://w.example", "ABCDE-FGHJK")
    assert split_target("ABCDE-FGHJK", "ws://127.0.0.1:8765/") == ("ws://127.0.0.1:8765", "ABCDE-FGHJK")
    with pytest.raises(ValueError):
        split_target("ws://192.0.2.10:8765/", "ws://x:1")


def test_bad_agenda_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without this, a facilitator with a broken agenda file would get a traceback instead of the reason."""
    from cli.main import main

    bad = tmp_path / "agenda.toml"
    bad.write_text("[[stage]]\nkey = 'a'\n", encoding="utf-8")
    assert main(["host", "--agenda", str(bad), "--db", str(tmp_path / "w.db")]) == 2
    assert "cannot use agenda" in capsys.readouterr().err


async def test_status_line_stays_one_line_at_80_columns(live) -> None:
    """Without this, a running clock and the idea count wrapped the line at 80 columns: the
    whole screen jumped down a row when an idea came, and back when the clock stopped."""
    async with participant_at(live, "stop_start_continue") as (fac, app, pilot):
        status = app.screen.query_one("#status")

        async def shows(*parts: str, absent: str = "") -> None:
            def ok() -> bool:
                shown = text_of(app, "#status")
                return all(p in shown for p in parts) and not (absent and absent in shown)

            await settle(pilot, lambda: ok() and status.region.height == 1)  # laid out on one row

        await fac.do(c.StartTimer, seconds=600)
        await fac.do(c.PostIdea, category="start", text="Partner webinars")
        await settle(pilot, lambda: len(app.conn.state.ideas) == 1)
        await shows("online", "Stage 4/10: Stop / Start / Continue", "left", "done 0/1")
        await pilot.press("f5")  # done: the line says so, saying less of the stage to make room
        await shows("online", "4/10 Stop / Start / Continue", "left", "done 1/1 (you ✔)")
        await pilot.resize_terminal(60, 24)  # narrower: the counts go, the stage says less, the clock stays
        await shows("online", "4/10 Stop / Start / Continue", "left", absent="done")
        await pilot.resize_terminal(120, 24)  # room enough again: nothing left out
        await shows("Ana", "Stage 4/10", "left", "done 1/1 (you ✔)", "1 idea")


async def test_the_status_line_says_what_is_unsaved_and_the_stage_at_80_columns(live) -> None:
    """Without this, the warning about changes waiting to be saved took the whole line at 80
    columns: the stage went (cut off the one line), or the line wrapped and the screen jumped."""
    async with participant_at(live, "stop_start_continue") as (_fac, app, pilot):
        app.conn.unsaved = 2  # as the connection counts commands the server could not save yet
        app.show_status()
        await pilot.pause()
        shown = first_line_shown(app, "#status")
        assert "2 changes unsaved, kept here" in shown
        assert "4/10 Stop / Start / Continue" in shown


async def test_the_hosts_first_line_keeps_the_code_beside_an_unsaved_warning_at_60_columns(live) -> None:
    """Without this, the warning about changes waiting to be saved pushed the code to read out
    off the end of the host's first line at 60 columns."""
    host, code = await open_session(live.url)
    async with host.run_test(size=(60, 20)) as pilot:
        await online((pilot, host))
        host.conn.unsaved = 2  # as the connection counts commands the server could not save yet
        host.show_status()
        await pilot.pause()
        shown = first_line_shown(host, "#join")
        assert f"Code {code}" in shown
        assert "2 changes unsaved, kept here" in shown
        await close(host)


async def test_the_first_lines_are_fitted_again_when_the_terminal_narrows(live) -> None:
    """Without this, a narrower terminal cut the status lines with an ellipsis until the next
    event: the apps fitted them before Textual took the new size (no clock ran to redraw them)."""
    async with participant_at(live, "new_ways") as (fac, app, pilot):
        await fac.do(c.PostIdea, category="idea", text="Partner webinars")
        await settle(pilot, lambda: "· 1 idea" in text_of(app, "#status"))
        await pilot.resize_terminal(50, 24)
        await settle(pilot, lambda: "idea" not in text_of(app, "#status"))  # the count gave way
        assert "…" not in first_line_shown(app, "#status")
    host, code = await open_session(live.url)
    async with host.run_test(size=(80, 24)) as pilot:
        await online((pilot, host))
        host.conn.unsaved = 2
        host.show_status()
        await settle(pilot, lambda: "retrying" in text_of(host, "#join"))
        await pilot.resize_terminal(60, 20)
        await settle(pilot, lambda: "unsaved, kept here" in text_of(host, "#join"))
        assert f"Code {code}" in first_line_shown(host, "#join")
        await close(host)


async def test_the_host_app_holds_one_connection(live) -> None:
    """Without this, the host's mount ran twice (its own and, called again, its base's): it held
    two connections, so every event reached it, and was decoded, twice."""
    host, _ = await open_session(live.url)
    async with host.run_test(size=(80, 24)) as pilot:
        await online((pilot, host))
        await pilot.press("n")  # a round trip after both hellos, had there been two
        await settle(pilot, lambda: host.conn.state.stage_index == 1)
        room = live.app.rooms[host.conn.creds.session]
        assert len(room.conns[host.conn.you]) == 1
        await close(host)
