"""Provides audiences: what of an event or a state each viewer may see.

Two things never reach the wrong eyes: who wrote an anonymous idea (nobody but the author
learns it, and the log never holds it) and where someone put their dots (the voter alone, for
good: the reveal publishes totals, not ballots), unless the facilitator chose open voting before
the first dot. ``public_view`` is what anyone may see; ``private_view`` is the one function that
decides who gets a richer copy, and the server's fan-out and resumes both go through it.
"""

from __future__ import annotations

from msgspec.structs import replace

from workshop import events as e
from workshop.rules import Actor, owns
from workshop.state import State


def public_view(event: e.EventBody) -> e.EventBody:
    """The copy of ``event`` anyone in the room may receive."""
    match event:
        case e.VoteCast(open=False) if event.voter is not None or event.idea is not None:
            return replace(event, voter=None, idea=None)
        case e.IdeaPosted(idea=idea) if idea.seal is not None:
            return replace(event, idea=replace(idea, seal=None, author=None))
    return event


def private_view(event: e.EventBody, viewer: Actor) -> e.EventBody | None:
    """The viewer's own copy when it differs from the public one, else ``None``."""
    match event:
        case e.VoteCast(voter=voter, open=False) if voter is not None and voter == viewer.id:
            return event
        case e.IdeaPosted(idea=idea) if idea.seal is not None and owns(viewer, idea):
            return replace(event, idea=replace(idea, seal=None, author=viewer.id))
    return None


def view_state(state: State, viewer: Actor) -> State:
    """The replica a viewer may hold: their own ballot only, anonymous authors unknown but to themselves."""
    ideas = {
        iid: replace(idea, seal=None, author=viewer.id if owns(viewer, idea) else None)
        if idea.seal is not None
        else idea
        for iid, idea in state.ideas.items()
    }
    if state.open_voting:
        ballots = state.ballots
    else:
        ballots = {viewer.id: state.ballots[viewer.id]} if viewer.id in state.ballots else {}
    return replace(state, ideas=ideas, ballots=ballots)
