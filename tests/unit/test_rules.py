"""The workshop's rules, checked on the pure core: decide + apply, no server."""

from __future__ import annotations

import pytest

from tests.rehearsal import ANA, BEN, FAC
from tests.rehearsal import Rehearsal as Room
from workshop import commands as c
from workshop.agenda import AgendaError, load_agenda
from workshop.audience import private_view, public_view, view_state
from workshop.reducer import apply
from workshop.rules import Rejection, decide


def test_wrong_stage_names_the_stage() -> None:
    """Without this, a participant would not know why their idea was refused."""
    room = Room()
    err = room.refuse(ANA, c.PostIdea, category="stop", text="x")
    assert err.code == "wrong_stage" and "Goal" in err.message


def test_only_the_facilitator_moves_the_room() -> None:
    """Without this, any participant could skip the team ahead."""
    room = Room()
    assert room.refuse(ANA, c.SetStage, index=3).code == "forbidden"


def test_anonymous_author_is_provable_but_never_named() -> None:
    """Without this, an anonymous idea could not be edited by its author, or would reveal them."""
    room = Room()
    room.stage("stop_start_continue")
    iid = str(room.do(ANA, c.PostIdea, category="stop", text="Cold calls", anonymous=True))
    idea = room.state.ideas[iid]
    assert idea.author is None and idea.seal
    assert room.refuse(BEN, c.EditIdea, idea=iid, text="mine now").code == "forbidden"
    room.do(ANA, c.EditIdea, idea=iid, text="Cold calls, all of them")
    assert view_state(room.state, ANA).ideas[iid].author == "a"
    assert view_state(room.state, BEN).ideas[iid].author is None
    assert view_state(room.state, BEN).ideas[iid].seal is None


def test_votes_budget_merge_and_withdraw_keep_every_replica_consistent() -> None:
    """Without this, dots could be lost on a merge, or counts differ per terminal."""
    room = Room()
    room.stage("stop_start_continue")
    keep = str(room.do(BEN, c.PostIdea, category="start", text="Webinars"))
    dup = str(room.do(ANA, c.PostIdea, category="start", text="Webinar!"))
    gone = str(room.do(ANA, c.PostIdea, category="stop", text="Print ads"))
    room.stage("vote")
    ben = view_state(room.state, BEN)
    for who, idea in ((ANA, dup), (ANA, dup), (BEN, gone), (ANA, keep)):
        events = decide(room.state, who, c.Vote(id=f"v{room.state.seq}", idea=idea), now=0.0)
        assert not isinstance(events, Rejection)
        for event in events:
            room.state = apply(room.state, event, room.state.seq + 1)
            ben = apply(ben, private_view(event, BEN) or public_view(event), ben.seq + 1)
    assert room.refuse(ANA, c.Vote, idea=keep).code == "no_dots"
    assert room.refuse(ANA, c.Vote, idea=gone, delta=-1).code == "conflict"
    room.do(FAC, c.MergeIdeas, source=dup, target=keep)
    assert room.state.totals() == {keep: 3, gone: 1}
    assert room.state.dots_left("a") == 0 and room.state.dots_left("b") == 2
    # Ben's replica knows the room's total and his own ballot, nothing of Ana's.
    assert ben.dots_placed == room.state.dots_placed == 4
    assert ben.ballots == {"b": {gone: 1}} and ben.dots_left("b") == 2


def test_withdrawal_never_hands_dots_back_before_the_reveal() -> None:
    """Without this, withdrawing a voted idea would tell the room whose dots were on it."""
    room = Room()
    room.stage("stop_start_continue")
    gone = str(room.do(ANA, c.PostIdea, category="stop", text="Print ads"))
    early = str(room.do(ANA, c.PostIdea, category="stop", text="Radio"))
    room.do(ANA, c.WithdrawIdea, idea=early)  # no dots yet: fine
    room.stage("vote")
    room.do(BEN, c.Vote, idea=gone)
    refused = room.refuse(ANA, c.WithdrawIdea, idea=gone)
    assert refused.code == "conflict" and "edit" in refused.message
    room.do(ANA, c.EditIdea, idea=gone, text="Print ads, fewer")
    room.do(FAC, c.RevealVotes)
    seq = room.state.seq
    room.do(ANA, c.WithdrawIdea, idea=gone)  # after the reveal: one event, no refund
    assert room.state.seq == seq + 1 and room.state.ballots["b"] == {gone: 1}


def test_open_voting_is_chosen_before_the_first_dot_and_shows_ballots() -> None:
    """Without this, a room could be told its vote is secret and then see everyone's ballot."""
    room = Room()
    room.stage("stop_start_continue")
    iid = str(room.do(BEN, c.PostIdea, category="start", text="Webinars"))
    room.stage("vote")
    assert room.refuse(ANA, c.SetVoting, open=True).code == "forbidden"
    room.do(FAC, c.SetVoting, open=True)
    room.do(ANA, c.Vote, idea=iid)
    assert room.refuse(FAC, c.SetVoting, open=False).code == "conflict"
    assert view_state(room.state, BEN).ballots == {"a": {iid: 1}}
    (event,) = decide(room.state, ANA, c.Vote(id="again", idea=iid, delta=-1), now=0.0)
    assert public_view(event) == event  # everyone sees it whole


def test_reveal_shows_totals_only() -> None:
    """Without this, revealing votes would expose who voted for what."""
    room = Room()
    room.stage("stop_start_continue")
    iid = str(room.do(BEN, c.PostIdea, category="start", text="Webinars"))
    room.stage("vote")
    room.do(ANA, c.Vote, idea=iid)
    cast = room.state
    assert view_state(cast, BEN).ballots == {}
    room.do(FAC, c.RevealVotes)
    assert room.state.revealed == {iid: 1}
    assert room.refuse(ANA, c.Vote, idea=iid).code == "conflict"


def test_timeline_changes_reset_agreement_and_finalise_freezes_it() -> None:
    """Without this, agreement given to an older timeline would count for a changed one, or be lost."""
    room = Room()
    room.stage("timeline")
    mid = str(room.do(FAC, c.SaveMilestone, title="Launch", owner="Ben", due="2027-01-31"))
    room.do(ANA, c.RespondTimeline, agree=True)
    assert room.refuse(BEN, c.RespondTimeline, agree=False).code == "invalid"  # a concern needs a comment
    room.do(FAC, c.SaveMilestone, milestone=mid, title="Launch", owner="Ben", due="2027-02-28")
    assert room.state.responses == {}
    assert room.state.round_number == 2
    assert room.state.rounds[0].responses[ANA.id].agree  # asked again, but what was said is kept
    assert room.state.rounds[0].changed == 'milestone "Launch" edited'
    assert room.refuse(FAC, c.SaveMilestone, title="X", owner="Y", due="31/01/2027").code == "invalid"
    room.do(FAC, c.FinaliseTimeline)
    assert room.refuse(ANA, c.RespondTimeline, agree=True).code == "conflict"


HOSTILE = ["", "   ", "x" * 501, "bell\x07", "esc\x1b]0;title\x07", "rtl\u202eoverride", "c1\x9b"]


@pytest.mark.parametrize("text", HOSTILE)
def test_bad_idea_text_is_refused(text: str) -> None:
    """Without this, empty, oversized or terminal-hijacking text would reach everyone's screen."""
    room = Room()
    room.stage("stop_start_continue")
    assert room.refuse(ANA, c.PostIdea, category="stop", text=text).code == "invalid"


def test_votes_are_hidden_in_the_public_view() -> None:
    """Without this, everyone would see where each dot went before the reveal."""
    room = Room()
    room.stage("stop_start_continue")
    iid = str(room.do(BEN, c.PostIdea, category="start", text="Webinars"))
    room.stage("vote")
    n = room.n + 1
    (event,) = decide(room.state, ANA, c.Vote(id=str(n), idea=iid), now=0.0)
    assert public_view(event).idea is None and public_view(event).voter is None
    assert private_view(event, ANA) == event and private_view(event, BEN) is None


def test_custom_agenda_loads_and_bad_ones_explain_themselves() -> None:
    """Without this, a facilitator's own agenda could not run or would fail without saying why."""
    stages = load_agenda(
        '[[stage]]\nkey="retro"\ntitle="Retro"\nkind="ideas"\nprompt="What went well?"\ncategories=["well","not"]\n'
    )
    assert stages[0].categories == ("well", "not")
    with pytest.raises(AgendaError, match="kind"):
        load_agenda('[[stage]]\nkey="x"\ntitle="X"\nkind="party"\nprompt="?"\n')
    with pytest.raises(AgendaError, match="unique"):
        load_agenda('[[stage]]\nkey="x"\ntitle="X"\nkind="intro"\nprompt="?"\n' * 2)
