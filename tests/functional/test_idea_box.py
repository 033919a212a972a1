"""The idea box shows what Textual's own ``Input`` shows, key for key, without laying the screen out per key.

``IdeaBox`` keeps its sideways scroll extent out of layout (see its class); a long idea must
still scroll so that the cursor and the last characters typed stay in sight.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Input

from client.widgets.ideabox import IdeaBox


class Boxes(App[None]):
    CSS = "Input { width: 24; }"

    def compose(self) -> ComposeResult:
        yield IdeaBox(id="ours", max_length=500)
        yield Input(id="textual", max_length=500)


def shown(box: Input) -> list[str]:
    return [strip.text for strip in box.render_lines(Region(0, 0, *box.outer_size))]


async def test_a_long_idea_scrolls_in_the_box_as_in_textuals_input() -> None:
    app = Boxes()
    async with app.run_test(size=(60, 10)) as pilot:
        ours, textual = app.query_one("#ours", IdeaBox), app.query_one("#textual", Input)
        text = "Webinars with resellers each quarter"
        steps = [*text, "home", "right", "right", "end", "backspace", "left"]
        frames: dict[str, list[list[str]]] = {}
        for box in (ours, textual):
            box.focus()
            await pilot.pause()
            frames[box.id or ""] = []
            for key in steps:
                await pilot.press(key)
                await pilot.pause()
                frames[box.id or ""].append(shown(box))
        assert frames["ours"] == frames["textual"]
        assert "quarte" in "".join(frames["ours"][len(text) - 1])  # the end in sight
        assert "Webinars" in "".join(frames["ours"][len(text)])  # home: the start again


async def test_typing_in_the_box_lays_nothing_out() -> None:
    """A layout arranges every widget on the screen: typing 12 keys a second in a busy room,
    that was a third of the participant's CPU."""
    app = Boxes()
    async with app.run_test(size=(60, 10)) as pilot:
        ours = app.query_one("#ours", IdeaBox)
        ours.focus()
        await pilot.pause()
        layouts = 0
        original = app.screen._refresh_layout

        def counted(*args: object, **kwargs: object) -> None:
            nonlocal layouts
            layouts += 1
            original(*args, **kwargs)  # type: ignore[arg-type]

        app.screen._refresh_layout = counted  # type: ignore[method-assign]
        for key in "a webinar a quarter":
            await pilot.press(key if key != " " else "space")
            await pilot.pause()
        assert ours.value == "a webinar a quarter"
        assert layouts == 0
