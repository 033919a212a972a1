"""Provides ``LineList``: a long list drawn a line at a time, so that an event costs the same at 40 rows or 5,000.

Textual's ``OptionList`` and a ``Static`` holding the whole board rebuild and measure every row
on each change: at 1,000 ideas that was 80 % of an app's time per event (docs/performance.md).
Here each row is one line, given as a key and a way to draw it; only the rows on screen are
drawn, each drawn once per (key, width, style) and then kept; a row whose key did not change is
not drawn again until the list's look does (the focus leaves it, the theme changes). Rows may
come as ``Rows``: runs of items whose rows are made only when looked at, so replacing a board
of 1,000 ideas costs a few runs, not 1,000 rows.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import ceil
from typing import Any, TypeVar, overload

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip

from client.widgets.text_line import text_strip


@dataclass(frozen=True, slots=True)
class Row:
    """One line: ``id`` names its item (``""``: a heading, never selected); a new ``key`` means draw it again."""

    id: str
    key: object
    draw: Callable[[], Text]


T = TypeVar("T")
Run = tuple[Sequence[Any], Callable[[Any], Row] | None, Callable[[Any], str] | None]  # items, make, id_of


class Rows(Sequence[Row]):
    """Rows given in runs, some made only when they are drawn.

    A board of 1,000 ideas is a handful of headings and a few runs of ideas: building it after
    an event costs one entry per run, not a ``Row`` per idea, and only the rows on screen are
    ever made (``LineList`` draws them and keeps each line by its row's key).
    """

    def __init__(self) -> None:
        self._runs: list[Run] = []
        self._starts: list[int] = []
        self._len = 0
        self._made: dict[int, Row] = {}

    def add(self, row: Row) -> None:
        if self._runs and self._runs[-1][1] is None:
            self._runs[-1][0].append(row)  # type: ignore[attr-defined]
        else:
            self._open(([row], None, None))
        self._len += 1

    def add_run(self, items: Sequence[T], make: Callable[[T], Row], id_of: Callable[[T], str] | None = None) -> None:
        """Rows for ``items``, ``make(item)`` called only for the ones looked at.

        ``id_of(item)`` is the id ``make`` gives the item's row, for a list whose rows are chosen:
        the rows' places are found from the items without making the rows.
        """
        if items:
            self._open((items, make, id_of))
            self._len += len(items)

    def _open(self, run: Run) -> None:
        self._starts.append(self._len)
        self._runs.append(run)

    def places(self) -> dict[str, int]:
        """Row id -> its index, for every row with an id (each run of items in one pass at C speed)."""
        out: dict[str, int] = {}
        for start, (items, make, id_of) in zip(self._starts, self._runs, strict=True):
            if make is None:
                out.update((row.id, start + k) for k, row in enumerate(items) if row.id)
            elif id_of is not None:
                out.update(zip(map(id_of, items), itertools.count(start)))
        return out

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, n: int) -> Row: ...
    @overload
    def __getitem__(self, n: slice) -> list[Row]: ...
    def __getitem__(self, n: int | slice) -> Row | list[Row]:
        if isinstance(n, slice):
            return [self[i] for i in range(*n.indices(self._len))]
        if n < 0:
            n += self._len
        if not 0 <= n < self._len:
            raise IndexError(n)
        if (made := self._made.get(n)) is not None:
            return made
        run = bisect_right(self._starts, n) - 1
        items, make, _ = self._runs[run]
        item = items[n - self._starts[run]]
        if make is None:
            return item  # type: ignore[no-any-return]
        row = self._made[n] = make(item)
        return row


class LineList(ScrollView, can_focus=True):
    """Rows of one line each; with ``selectable`` a cursor moves over the rows that have an id."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
    ]
    COMPONENT_CLASSES = {"line-list--cursor"}
    DEFAULT_CSS = """
    LineList { background: $surface; overflow-x: hidden; }
    LineList > .line-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    LineList:blur > .line-list--cursor { background: $block-cursor-blurred-background; }
    """

    class Highlighted(Message):
        """The cursor moved to another item (``id``), or to none."""

        def __init__(self, lines: LineList, id: str | None) -> None:
            super().__init__()
            self.lines = lines
            self.id = id

    def __init__(self, *, selectable: bool = True, empty: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self.selectable = selectable
        self.empty = empty
        self.rows: Sequence[Row] = []
        self._places: dict[str, int] | None = {}
        self._drawn: dict[tuple[object, int, Style], Strip] = {}
        self.cursor: int | None = None

    # -- content ---------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows`` (a ``Rows`` is kept as it is); the cursor stays on the item it was on, wherever it went."""
        keep, near, shown = self.selected_id, self.cursor, self._on_screen()
        self.rows = rows if isinstance(rows, Rows) else list(rows)
        self._places = None
        if len(self._drawn) > 4 * len(self.rows) + 200:  # let go of lines for rows that are gone
            live = {row.key for row in self.rows}
            self._drawn = {k: v for k, v in self._drawn.items() if k[0] in live}
        self.cursor = self._find(keep, near)
        self._fit()
        self._repaint_changed(shown)

    @property
    def _index(self) -> dict[str, int]:
        """Row id -> its row, for every item; built when first needed after a change, not on every event."""
        if self._places is None:
            if not self.selectable:
                self._places = {}
            elif isinstance(self.rows, Rows):
                self._places = self.rows.places()
            else:
                self._places = {row.id: n for n, row in enumerate(self.rows) if row.id}
        return self._places

    def _find(self, item_id: str | None, near: int | None) -> int | None:
        """The row of ``item_id``, looked for first where it was: an idea posted above it moves it by one.

        Only a longer move (a heading gone, the stage changed) builds the whole index.
        """
        if not item_id or not self.selectable:
            return None
        if near is not None:
            for n in (near, near + 1, near - 1):
                if 0 <= n < len(self.rows) and self.rows[n].id == item_id:
                    return n
        return self._index.get(item_id)

    def _on_screen(self) -> tuple[int, list[tuple[object, bool]]] | None:
        """The top line and what each line on screen shows (row key, cursor on it); None if not known line by line."""
        height = self.scrollable_content_region.height
        if not self.rows or not height or not self.is_mounted:
            return None  # nothing drawn yet, or the "empty" line
        top = self.scroll_offset.y
        return top, [(self.rows[n].key, n == self.cursor) for n in range(top, min(top + height, len(self.rows)))]

    def _repaint_changed(self, shown: tuple[int, list[tuple[object, bool]]] | None) -> None:
        """Repaint only the lines on screen that show something else now.

        Textual renders and composites every line of a refreshed region; a new idea that lands
        below the screen changes none of its lines (the scrollbar is its own widget), and one
        that lands on it changes the lines from there down.
        """
        now = self._on_screen()
        if shown is None or now is None or shown[0] != now[0] or len(shown[1]) != len(now[1]):
            self.refresh()
            return
        (top, before), (_, after) = shown, now
        y, lines = 0, len(after)
        while y < lines:
            if before[y] == after[y]:
                y += 1
                continue
            start = y
            while y < lines and before[y] != after[y]:
                y += 1
            self.refresh_lines(top + start, y - start)

    @property
    def count(self) -> int:
        """Rows that are items (not headings)."""
        return len(self._index)

    @property
    def selected_id(self) -> str | None:
        return self.rows[self.cursor].id if self.cursor is not None and self.cursor < len(self.rows) else None

    def select(self, item_id: str | None) -> None:
        old = self.selected_id
        self.cursor = self._index.get(item_id) if item_id is not None else None
        if self.cursor is not None:
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True)
        self.refresh()
        if self.selected_id != old:
            self.post_message(self.Highlighted(self, self.selected_id))

    def select_first(self) -> None:
        self.select(next(iter(self._index), None))  # the index is in row order

    def plain_lines(self) -> list[str]:
        """Every row as plain text: what the list would show with room for it all (for tests and checks)."""
        return [row.draw().plain for row in self.rows]

    # -- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        n = y + scroll_y
        width = self.scrollable_content_region.width
        base = self.visual_style.rich_style  # as ``rich_style``, kept by Textual until the styles change
        if not self.rows:
            if y == 0 and self.empty:
                return text_strip(Text(self.empty, style="dim"), width, base, self.app.console)
            return Strip.blank(width, base)
        if n >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[n]
        cursor = self.selectable and n == self.cursor
        style = self.get_component_rich_style("line-list--cursor") if cursor else base
        # Kept by the style too: the cursor's line looks otherwise once the list loses the focus,
        # and every line once the theme changes.
        key = (row.key, width, style)
        strip = self._drawn.get(key)
        if strip is None:
            strip = self._drawn[key] = text_strip(row.draw(), width, style, self.app.console)
        return strip.crop(scroll_x, scroll_x + width)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, max(len(self.rows), 1))

    def _fit(self) -> None:
        """Make the scrollable height the rows'; lay the screen out again only if the scrollbar comes or goes.

        ``virtual_size`` is a layout reactive: setting it arranges every widget on the screen.
        While the list overflows before and after (a long board gaining an idea), only the
        scrollbar's thumb changes, and that is all that is redrawn.
        """
        size, old = Size(self.size.width, max(len(self.rows), 1)), self.virtual_size
        room = self.container_size.height
        if size == old:
            return
        if size.width == old.width and min(size.height, old.height) > room and self.show_vertical_scrollbar:
            self.set_reactive(LineList.virtual_size, size)
            bar = self.vertical_scrollbar
            if _looks(bar, bar.window_virtual_size) == _looks(bar, size.height):
                bar.set_reactive(ScrollBar.window_virtual_size, size.height)
            else:
                bar.window_virtual_size = size.height
            if size.height < old.height:
                self.scroll_y = self.validate_scroll_y(self.scroll_y)  # fewer rows: not past the end
        else:
            self.virtual_size = size

    # -- keys and mouse --------------------------------------------------------------------

    def _step(self, start: int, step: int) -> int | None:
        n = start
        while 0 <= n + step < len(self.rows):
            n += step
            if self.rows[n].id:
                return n
        return None

    def action_move(self, step: int) -> None:
        if not self.selectable:
            self.scroll_relative(y=step, animate=False)
            return
        if self.cursor is None:
            self.select_first()
            return
        n = self._step(self.cursor, step)
        if n is not None:
            self.select(self.rows[n].id)

    def action_page(self, step: int) -> None:
        height = max(self.scrollable_content_region.height - 1, 1)
        if not self.selectable or self.cursor is None:
            self.scroll_relative(y=step * height, animate=False)
            return
        target = min(max(self.cursor + step * height, 0), len(self.rows) - 1)
        n = target if self.rows[target].id else self._step(target, step) or self._step(target, -step)
        if n is not None:
            self.select(self.rows[n].id)

    def action_edge(self, step: int) -> None:
        if not self.selectable:
            self.scroll_to(y=0 if step < 0 else self.max_scroll_y, animate=False)
            return
        if self._index:  # in row order
            self.select(next(iter(self._index)) if step < 0 else next(reversed(self._index)))

    def on_click(self, event: Click) -> None:
        n = event.y + self.scroll_offset.y
        if self.selectable and 0 <= n < len(self.rows) and self.rows[n].id:
            self.select(self.rows[n].id)


def _looks(bar: ScrollBar, rows: int) -> tuple[tuple[str, bool], ...]:
    """What ``bar`` would show for ``rows``, by Textual's own renderer: each cell's glyph, and whether it is thumb.

    The thumb is drawn in eighths of a cell: at 1,000 rows, one more moves it by less than
    that, and a repaint of the bar (a cursor move and a cell for each of its lines) would put
    the same cells on the terminal again. (Its colours are the bar's own, whatever the rows.)
    """
    window = bar.window_size if bar.window_size < rows else 0
    return _bar_cells(bar.renderer, bar.size.height, rows, ceil(window), bar.position)


@lru_cache(maxsize=16)
def _bar_cells(
    renderer: type[ScrollBarRender], height: int, rows: int, window: int, position: float
) -> tuple[tuple[str, bool], ...]:
    """Kept for the lengths last asked: each event asks again for the length before it.

    Compared as glyphs and flags, not as segments: a segment compares its style, and a style
    its hash, for each of the bar's cells.
    """
    segments = renderer.render_bar(size=height, virtual_size=rows, window_size=window, position=position).segments
    return tuple((s.text, bool(s.style and s.style.reverse)) for s in segments)
