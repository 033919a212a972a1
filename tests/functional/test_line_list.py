"""The board's list as rows come and go: the last idea can always be scrolled to, the scrollbar tells the truth.

A long list that gains a row is not laid out again (only its scrollbar's thumb changes), and
only the lines on screen that show another row are repainted, so these read back what the
terminal gets after each change: the rows on screen, and whether the scrollbar is there.
"""

from __future__ import annotations

import itertools

from rich.text import Text
from textual.app import App, ComposeResult

from client.widgets.lines import LineList, Row


class Board(App[None]):
    CSS = "LineList { height: 10; }"

    def compose(self) -> ComposeResult:
        yield LineList(empty="No ideas yet.")


def rows(n: int) -> list[Row]:
    return [Row(f"i{k}", ("idea", k), lambda k=k: Text(f"idea {k}")) for k in range(n)]


def on_screen(board: LineList) -> list[str]:
    return [board.render_line(y).text.strip() for y in range(board.scrollable_content_region.height)]


async def test_a_growing_board_scrolls_to_its_last_row_and_a_shrinking_one_drops_its_scrollbar() -> None:
    app = Board()
    async with app.run_test(size=(40, 20)) as pilot:
        board = app.query_one(LineList)
        board.focus()
        board.set_rows(rows(3))
        await pilot.pause()
        assert not board.show_vertical_scrollbar
        assert on_screen(board)[:4] == ["idea 0", "idea 1", "idea 2", ""]

        board.set_rows(rows(50))  # overflows: the scrollbar comes, the screen is laid out again
        await pilot.pause()
        assert board.show_vertical_scrollbar
        assert not board.show_horizontal_scrollbar  # lines are cut to the width: nothing to scroll sideways to

        for n in (60, 75):  # still overflowing: new rows are reachable all the same
            board.set_rows(rows(n))
            await pilot.pause()
            await pilot.press("end")
            await pilot.pause()
            assert on_screen(board)[-1] == f"idea {n - 1}"
            assert board.selected_id == f"i{n - 1}"

        board.set_rows(rows(55))  # fewer rows while scrolled to the end: not left past it
        await pilot.pause()
        assert on_screen(board)[-1] == "idea 54"

        board.set_rows(rows(2))  # short again: no scrollbar, the top row at the top
        await pilot.pause()
        assert not board.show_vertical_scrollbar
        assert on_screen(board)[:3] == ["idea 0", "idea 1", ""]


def shown(board: LineList) -> list[str]:
    """The list's lines as the screen gets them: from Textual's line cache, which keeps every line not repainted."""
    return [strip.text.strip() for strip in board.render_lines(board.size.region)]


def named(texts: list[str]) -> list[Row]:
    return [Row(t, ("idea", t), lambda t=t: Text(t)) for t in texts]


async def test_a_board_that_changes_under_the_screen_shows_each_new_line() -> None:
    """Only the lines whose rows changed are repainted; what the terminal shows must still be all new."""
    app = Board()
    async with app.run_test(size=(40, 20)) as pilot:
        board = app.query_one(LineList)
        texts = [f"idea {k}" for k in range(30)]
        board.set_rows(named(texts))
        await pilot.pause()
        assert shown(board) == texts[:10]

        texts.insert(3, "a new idea")  # lands on screen: every line from there down moves
        board.set_rows(named(texts))
        await pilot.pause()
        assert shown(board) == texts[:10]

        texts.insert(25, "one far below")  # lands below the screen: nothing on it changes
        board.set_rows(named(texts))
        await pilot.pause()
        assert shown(board) == texts[:10]

        texts[6] = "idea 5, edited"  # one line in the middle
        board.set_rows(named(texts))
        await pilot.pause()
        assert shown(board) == texts[:10]

        del texts[:2]  # two go from the top
        board.set_rows(named(texts))
        await pilot.pause()
        assert shown(board) == texts[:10]


def bar_cells(board: LineList) -> list[str]:
    """The scrollbar as the screen gets it (Textual's line cache: stale if a needed repaint was skipped)."""
    bar = board.vertical_scrollbar
    return [repr(strip) for strip in bar.render_lines(bar.size.region)]


async def test_the_scrollbar_of_a_list_grown_row_by_row_is_the_one_it_would_have_if_drawn_afresh() -> None:
    """A row more mostly leaves the thumb where it was (it is drawn in eighths of a cell), and then
    the bar is not repainted; whenever the thumb does move, the screen must show it moved.

    The fresh bars come from another run of the app: laying a list out from scratch repaints
    everything on its screen, a grown list's stale bar included.
    """
    sizes = range(13, 90)
    grown: list[list[str]] = []
    app = Board()
    async with app.run_test(size=(40, 20)) as pilot:
        board = app.query_one(LineList)
        board.set_rows(rows(12))
        await pilot.pause()
        board.scroll_to(y=2, animate=False)
        for n in sizes:
            board.set_rows(rows(n))
            await pilot.pause()
            grown.append(bar_cells(board))
    app = Board()
    async with app.run_test(size=(40, 20)) as pilot:
        board = app.query_one(LineList)
        for n, bar in zip(sizes, grown, strict=True):
            board.set_rows(rows(1))  # short, then long: laid out from scratch
            await pilot.pause()
            board.set_rows(rows(n))
            await pilot.pause()
            board.scroll_to(y=2, animate=False)
            await pilot.pause()
            assert bar == bar_cells(board), f"at {n} rows"
    moves = sum(a != b for a, b in itertools.pairwise(grown))
    assert 10 < moves < 60  # the thumb moved often, and stayed put often


async def test_the_cursor_stays_on_its_idea_wherever_the_idea_goes() -> None:
    """People vote on the idea under the cursor: when ideas land or go around it, it must not slide onto another."""
    app = Board()
    async with app.run_test(size=(40, 20)) as pilot:
        board = app.query_one(LineList)
        board.focus()
        texts = [f"idea {k}" for k in range(30)]
        board.set_rows(named(texts))
        board.select("idea 5")
        await pilot.pause()

        for change in (
            lambda: texts.insert(2, "one above"),  # the idea moves down a row
            lambda: texts.insert(20, "one below"),  # it stays
            lambda: texts.remove("one above"),  # up a row
            lambda: texts.__delitem__(slice(0, 3)),  # up three
            lambda: texts.__setitem__(slice(0, 0), ["x", "y", "z", "w"]),  # down four
        ):
            change()
            board.set_rows(named(texts))
            await pilot.pause()
            assert board.selected_id == "idea 5"
            assert board.cursor == texts.index("idea 5")

        texts.remove("idea 5")  # gone: nothing is selected rather than a neighbour
        board.set_rows(named(texts))
        await pilot.pause()
        assert board.selected_id is None


async def test_the_cursor_and_the_rows_follow_the_lists_look() -> None:
    """Without this, lines were kept by row and width only: the cursor's line stayed in the focused
    colour after the focus left the list, and every line kept the old theme's background."""
    app = Board()
    async with app.run_test(size=(40, 20)) as pilot:
        board = app.query_one(LineList)
        board.set_rows(rows(5))
        board.focus()
        await pilot.press("down")  # the cursor on the first idea
        await pilot.pause()

        def background(y: int) -> object:
            return next(iter(board.render_line(y))).style.bgcolor

        focused = board.get_component_rich_style("line-list--cursor").bgcolor
        assert background(0) == focused
        board.blur()
        await pilot.pause()
        blurred = board.get_component_rich_style("line-list--cursor").bgcolor
        assert blurred != focused and background(0) == blurred

        dark = background(1)
        app.theme = "textual-light"
        await pilot.pause()
        assert background(1) == board.visual_style.rich_style.bgcolor != dark
