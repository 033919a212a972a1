"""Every stage at 80x24 and at 60x20: what each screen shows, and where the keys go, as a first-timer meets it.

A host and a participant app run against a real server; the host walks the default agenda and,
at each stage, the test reads both screens back (the text a terminal would show, line by line)
and asks what a newcomer needs: the code to read out, the whole goal, a hint of what to do now,
the idea box only where ideas are taken (and its Post button on screen), keys in the footer that
work here, and focus where the next action is.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict

import pytest
from textual.widgets import Select

from client.apps.live import LiveApp
from client.apps.participant import participant_app
from client.connection import Credentials
from tests.conftest import LiveServer
from tests.functional.test_tui import online, open_session, reach, settle
from workshop.agenda import DEFAULT_STAGES

GOAL = "Grow qualified marketing leads from 20 to 30 a month by June, with two partner webinars a month"
FOCUS = {"intro": "ideas", "review": "idea-text", "smart": "smart-specific", "ideas": "idea-text",
         "vote": "ideas", "timeline": "agree", "wrapup": "agree"}  # fmt: skip


def screen_lines(app: LiveApp) -> list[str]:
    """The terminal's rows, top to bottom, read back from a screenshot of the app."""
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for attrs, text in re.findall(r"<text([^>]*)>([^<]*)</text>", app.export_screenshot()):
        x, y = re.search(r'\bx="([\d.]+)"', attrs), re.search(r'\by="([\d.]+)"', attrs)
        if x and y:
            rows[float(y.group(1))].append((float(x.group(1)), html.unescape(text).replace("\xa0", " ")))
    lines = ["".join(t for _, t in sorted(runs)).rstrip("\n") for _, runs in sorted(rows.items())]
    return [line for line in lines if line.strip()] or [""]


def on_screen(app: LiveApp, selector: str) -> bool:
    widget = app.screen.query_one(selector)
    region, size = widget.region, app.size
    return widget.display and region.width > 0 and region.right <= size.width and region.bottom <= size.height


def words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_each_stage_shows_what_can_be_done_and_focus_is_there(live: LiveServer, size: tuple[int, int]) -> None:
    """Without this, a newcomer at a small terminal would type into nothing, or miss the code and the goal."""
    host, code = await open_session(live.url, goal=GOAL)
    ana = participant_app(Credentials(url=live.url, code=code, name="Ana"))
    async with host.run_test(size=size) as hp, ana.run_test(size=size) as ap:
        await online((hp, host), (ap, ana))
        await settle(hp, lambda: "1 in" in screen_lines(host)[0])
        top = screen_lines(host)
        assert code in top[0]  # the code can be read out at any width
        goal_text = " ".join(top)
        assert " ".join(words(GOAL)) in " ".join(words(goal_text)), top  # the whole goal, wrapped, not cut
        assert host.focused is not None  # the board scrolls with the keyboard from the start
        for index, stage in enumerate(DEFAULT_STAGES):
            if index:
                await hp.press("n")
                await reach(ana.conn, lambda s, index=index: s.stage_index == index)
            shown = f"{index + 1}/{len(DEFAULT_STAGES)}", stage.title  # "Stage 4/10: ..." or, narrow, "4/10 ..."
            await settle(ap, lambda shown=shown: all(part in screen_lines(ana)[0] for part in shown))
            await settle(ap, lambda stage=stage: ana.focused is not None and ana.focused.id == FOCUS[stage.kind])
            lines = screen_lines(ana)
            footer = lines[-1]
            takes_ideas = bool(stage.categories)
            assert ana.screen.query_one("#idea-text").display == takes_ideas, stage.key
            if takes_ideas:
                # The box was just shown for this stage: wait for the layout that places it, then it must fit.
                await settle(ap, lambda: on_screen(ana, "#post"))
                chosen = ana.screen.query_one("#category", Select).value
                assert chosen is Select.NULL or len(stage.categories) == 1  # nothing is filed by default
            assert ("dot" in footer) == (stage.kind == "vote"), f"{stage.key}: {footer!r}"
            hint = str(ana.screen.query_one("#hint").content)
            assert hint and hint.split()[0] in " ".join(lines), f"{stage.key}: no hint of what to do now"
            await settle(hp, lambda: "Next" in screen_lines(host)[-1])
            host_footer = screen_lines(host)[-1]
            if size[0] >= 80:
                assert "Export" in host_footer, host_footer
                assert ("Reveal" in host_footer) == (stage.kind == "vote"), host_footer
                assert ("Milestone" in host_footer) == (stage.kind in ("timeline", "wrapup")), host_footer
