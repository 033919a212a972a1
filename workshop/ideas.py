"""Provides the one order of ideas every view and export uses, and the numbers people call them by.

Posting order would give anonymous authors away: an anonymous idea that sits between the posts
of two people taking turns points at its author. So no view or transcript shows it. Ideas go by
stage (agenda order), then category (the stage's order), then text, alphabetically; after the
reveal, by dots within each category. People refer to ideas by a number given in that order
(``numbers``), never by their log position.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice

from workshop.state import Idea, State, log_order

SortKey = tuple[int, str, int, str, int, str, str, tuple[int, int, str]]


def _sort_key(state: State, totals: dict[str, int] | None = None) -> Callable[[Idea], SortKey]:
    """Stage, category, then (after a reveal) most dots, then text; the id only breaks exact ties."""
    stage_pos = {s.key: i for i, s in enumerate(state.agenda)}
    cat_pos = {(s.key, cat): i for s in state.agenda for i, cat in enumerate(s.categories)}

    def key(idea: Idea) -> SortKey:
        return (
            stage_pos.get(idea.stage, len(stage_pos)),
            idea.stage,
            cat_pos.get((idea.stage, idea.category), 1 << 30),
            idea.category,
            -totals.get(idea.id, 0) if totals else 0,
            idea.text.casefold(),
            idea.text,
            log_order(idea.id),  # only ever decides between identical texts
        )

    return key


class _Memo:
    """The last orders computed, for the state parts they came from (compared by identity).

    The reducer replaces ``ideas``, ``agenda`` and ``revealed`` only when they change, so an
    app redrawing for an event that touched none of them sorts nothing. Each idea's sort key
    is kept while the idea object lives. And a new idea is added at the end of ``ideas`` with
    the others left as they were, so after a post only that idea is placed (a bisection), not
    the whole board sorted again: an event costs the same at 40 ideas or 5,000.
    """

    def __init__(self) -> None:
        self.parts: tuple[object, ...] = ()
        self.results: dict[str, object] = {}
        self.keys: dict[tuple[int, int], tuple[Idea, object, SortKey]] = {}
        # name -> (ideas, agenda, totals) it was made from, the ideas in order, and their keys
        self.sorts: dict[str, tuple[dict[str, Idea], object, object, list[Idea], list[SortKey]]] = {}

    def get(self, state: State, name: str, make: Callable[[], object]) -> object:
        parts = (state.ideas, state.agenda, state.revealed)
        if len(parts) != len(self.parts) or any(a is not b for a, b in zip(parts, self.parts, strict=True)):
            self.parts, self.results = parts, {}
        if name not in self.results:
            self.results[name] = make()
        return self.results[name]

    def _key(self, state: State, totals: dict[str, int] | None) -> Callable[[Idea], SortKey]:
        make = _sort_key(state, totals)
        salt = id(totals)
        if len(self.keys) > 4 * len(state.ideas) + 100:
            self.keys = {}

        def key(idea: Idea) -> SortKey:
            found = self.keys.get((id(idea), salt))
            if found is None or found[0] is not idea or found[1] is not totals:
                found = self.keys[(id(idea), salt)] = (idea, totals, make(idea))
            return found[2]

        return key

    def sorted(self, state: State, ideas: Iterable[Idea], totals: dict[str, int] | None) -> list[Idea]:
        return sorted(ideas, key=self._key(state, totals))

    def sorted_ideas(self, state: State, name: str, live_only: bool, totals: dict[str, int] | None) -> list[Idea]:
        """All of ``state``'s ideas (or the live ones) in order, placing only the ones posted since the last call."""
        return self.sorted_with_keys(state, name, live_only, totals)[0]

    def sorted_with_keys(
        self, state: State, name: str, live_only: bool, totals: dict[str, int] | None
    ) -> tuple[list[Idea], list[SortKey]]:
        """``sorted_ideas``, and each idea's sort key in the same order: a list to bisect at C speed."""
        ideas, key = state.ideas, self._key(state, totals)
        last = self.sorts.get(name)
        # The same ideas as last time in the same places, and perhaps more after them? Compared
        # as lists: C compares item by item, and an idea equal to the one it replaced sorts the same.
        same = last is not None and last[1] is state.agenda and last[2] is totals and len(ideas) >= len(last[0])
        if last is not None and same and list(ideas.values())[: len(last[0])] == list(last[0].values()):
            out, keys = list(last[3]), list(last[4])
            for idea in islice(ideas.values(), len(last[0]), None):
                if idea.live or not live_only:
                    k = key(idea)
                    at = bisect_right(keys, k)
                    out.insert(at, idea)
                    keys.insert(at, k)
        else:
            chosen = state.live_ideas() if live_only else ideas.values()
            out = sorted(chosen, key=key)
            keys = list(map(key, out))  # each already made by the sort: one lookup apiece
        self.sorts[name] = (ideas, state.agenda, totals, out, keys)
        return out, keys


_memo = _Memo()


def board_order(state: State, ideas: Iterable[Idea] | None = None) -> list[Idea]:
    """``ideas`` (default: all) by stage, category and text; after the reveal by dots within a category."""
    if ideas is None:
        return list(_memo.get(state, "all", lambda: _memo.sorted_ideas(state, "all", False, state.revealed)))  # type: ignore[call-overload]
    return _memo.sorted(state, ideas, state.revealed)


def _live(state: State) -> list[Idea]:
    """The memo's own list of the live ideas in board order: callers copy it or only read its length."""
    return _memo.get(state, "live", lambda: _memo.sorted_ideas(state, "live", True, state.revealed))  # type: ignore[return-value]


def live_order(state: State) -> list[Idea]:
    """The live ideas in board order (what the boards show), computed once per change of the ideas."""
    return list(_live(state))


def live_count(state: State) -> int:
    """How many ideas are on the board: ``len(live_order(state))`` without copying the list."""
    return len(_live(state))


def categories_shown(declared: Sequence[str], used: Iterable[str]) -> list[str]:
    """A stage's categories as its ideas are shown under them: its own in order, then any others its ideas carry.

    Only more than one are headings: a stage of one category ("New ways": "idea") is its own
    heading, on the host's board and in the transcript alike.
    """
    return list(dict.fromkeys([*declared, *used]))


def numbers(state: State) -> Mapping[str, int]:
    """Idea id -> the number people see (1, 2, 3 ...), in board order before any reveal.

    Every idea ever posted keeps a number, withdrawn and merged ones too, so a withdrawal
    never renumbers the rest. While a stage is still collecting ideas a new one may move the
    numbers after it; from the vote on they hold.
    """

    def make() -> Numbers:
        ordered, keys = _memo.sorted_with_keys(state, "numbers", False, None)
        return Numbers(state.ideas, ordered, keys, _memo._key(state, None))

    return _memo.get(state, "numbers", make)  # type: ignore[return-value]


class Numbers(Mapping[str, int]):
    """Idea id -> number, each looked up by bisection in the kept order when asked for.

    A new idea moves the numbers of every idea after it, so a dict of them would be built again
    on every post (0.6 ms at 5,000 ideas); a screen asks for the few dozen it shows. The
    bisection is in the ideas' keys, kept beside the order: one key made per lookup, not one per
    step (a board of 1,000 asked for 31 numbers per event, each a dozen calls of the key).
    A screen asks in board order, so the idea after the last one asked for is looked at first:
    on a run of ideas that is the answer, and no key is made at all.
    """

    def __init__(
        self, ideas: Mapping[str, Idea], ordered: list[Idea], keys: list[SortKey], key: Callable[[Idea], SortKey]
    ) -> None:
        self._ideas, self._ordered, self._keys, self._key = ideas, ordered, keys, key
        self._next = 0  # where the last idea asked for was, plus one

    def __getitem__(self, idea_id: str) -> int:
        at = self._next
        if not (at < len(self._ordered) and self._ordered[at].id == idea_id):
            at = bisect_left(self._keys, self._key(self._ideas[idea_id]))  # keys are unique: the id breaks ties
        self._next = at + 1
        return at + 1

    def __iter__(self) -> Iterator[str]:
        return (idea.id for idea in self._ordered)

    def __len__(self) -> int:
        return len(self._ordered)


def groups(state: State) -> list[tuple[str, str, Sequence[Idea]]]:
    """The live ideas in board order, cut where the stage or the category changes: (stage, category, ideas).

    Each cut is found by bisection, so a board of 5,000 ideas in a dozen groups costs a dozen
    searches per event rather than a look at every idea.
    """

    def make() -> list[tuple[str, str, Sequence[Idea]]]:
        live, key = live_order(state), _memo._key(state, state.revealed)
        out: list[tuple[str, str, Sequence[Idea]]] = []
        start = 0
        while start < len(live):
            head = key(live[start])[:4]  # stage's place, stage, category's place, category
            end = bisect_right(live, head, lo=start, key=lambda idea: key(idea)[:4])
            out.append((live[start].stage, live[start].category, live[start:end]))
            start = end
        return out

    return _memo.get(state, "groups", make)  # type: ignore[return-value]


def ranked(state: State) -> list[tuple[Idea, int]]:
    """After the reveal: live ideas with dots, most first (ties in board order); else empty."""
    if state.revealed is None:
        return []
    totals = state.revealed
    live = [i for i in board_order(state, state.live_ideas()) if totals.get(i.id, 0) > 0]
    return [(i, totals[i.id]) for i in sorted(live, key=lambda i: -totals[i.id])]
