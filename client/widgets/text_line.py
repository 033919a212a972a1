"""Provides ``TextLine``: one line of text drawn straight to a strip, for a line that changes with every event."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget


def text_strip(text: Text, width: int, style: Style, console: Console) -> Strip:
    """``text`` on one line of ``width`` cells over ``style``: cut with an ellipsis, padded, never wrapped."""
    line = text.copy()
    line.no_wrap = True
    line.truncate(max(width, 1), overflow="ellipsis", pad=True)
    segments = [Segment(s.text, style + s.style if s.style else style) for s in line.render(console)]
    return Strip([s for s in segments if s.text != "\n"], width)


class TextLine(Widget):
    """One line of Rich text: cut with an ellipsis where it does not fit, never wrapped.

    ``Static`` takes its text through Textual's content layout (wrapping, a style conversion per
    span) on every change: for the participant's status line, whose idea count moves with every
    idea posted, that was 180 us of an event's 2-3 ms. A line that is one line by design is drawn
    here as ``LineList`` draws its rows, and kept until the text, the width or the style changes.
    """

    DEFAULT_CSS = "TextLine { height: 1; }"

    def __init__(self, text: Text | str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = text if isinstance(text, Text) else Text(text, end="")
        self._drawn: tuple[tuple[int, Style], Strip] | None = None

    @property
    def content(self) -> Text:
        """What the line says (as ``Static.content``), whether or not it all fits."""
        return self._text

    def update(self, text: Text | str, *, layout: bool = False) -> None:
        """Show ``text``; ``layout`` is accepted as ``Static.update`` takes it, and never needed: the height is one."""
        self._text = text if isinstance(text, Text) else Text(text, end="")
        self._drawn = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, style = self.content_size.width, self.visual_style.rich_style  # kept until the styles change
        if y:
            return Strip.blank(width, style)
        if self._drawn is None or self._drawn[0] != (width, style):
            self._drawn = ((width, style), text_strip(self._text, width, style, self.app.console))
        return self._drawn[1]
