"""Rounds (contract 5.1): a morning and an afternoon marketplace, or day 1 and day 2, in one event.

The vote rows (`Vote`) are always the current round's, so budgets, the per-proposal cap,
`rules_locked` and the counters need no notion of rounds at all. Starting a round moves the
vote rows to `RoundVote` (the counting trigger takes every counter back to zero on the way),
marks what the ending round scheduled as done (`not_votable` from then on) and opens the new
round with the event's phase reset. An ended round's results, ledger and schedule are read
from what it left behind, never changed again.
"""

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from voting.core.errors import Conflict, NotFound
from voting.events.models import Event, Round
from voting.feed import broadcast
from voting.proposals import ranking
from voting.proposals.models import Proposal, ProposalStatus
from voting.schedule.models import LeftOut, ScheduledSession
from voting.votes.models import LedgerEntry, RoundVote, Vote


def create_round(*, event: Event, name: str = "") -> Round:
    """A round prepared for later (slots can be given to it); `start_round` opens it."""
    with transaction.atomic():
        locked = Event.objects.select_for_update(no_key=True).get(pk=event.pk)
        number = (
            Round.objects.filter(event=locked).order_by("-number").values_list("number", flat=True).first()
            or 0
        ) + 1
        return Round.objects.create(
            event=locked, number=number, name=name.strip() or Round.default_name(number)
        )


def start_round(*, event: Event, round_id: int) -> Round:
    """Close the current round at this instant and open `round_id` (see the module docstring).

    Takes the event row FOR UPDATE, so a vote in flight either committed before (it is in
    the ending round's results) or is refused after (voting is closed in the new round)."""
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        new = Round.objects.select_for_update().filter(event=locked, pk=round_id).first()
        if new is None:
            raise NotFound("No such round in this event.")
        if new.started_at is not None:
            raise Conflict("This round has already started; start a new one.")
        ending = Round.objects.select_for_update().get(pk=locked.current_round_id)
        now = timezone.now()
        scheduled_here = ScheduledSession.objects.filter(event=locked, slot__round=ending)
        Proposal.objects.filter(pk__in=scheduled_here.values("proposal_id")).update(done_in_round=ending)
        votes = Vote.objects.filter(event=locked)
        RoundVote.objects.bulk_create(
            RoundVote(round=ending, attendee_id=a, proposal_id=p, dots=d)
            for a, p, d in votes.values_list("attendee_id", "proposal_id", "dots")
        )
        votes.delete()  # not a refund: no ledger rows; the counters follow the rows to zero
        LeftOut.objects.filter(event=locked).delete()  # the next generate says what it leaves out
        ending.ended_at = now
        ending.schedule_published = locked.schedule_published
        ending.results_revealed = locked.results_revealed
        ending.save()
        new.started_at = now
        new.save(update_fields=["started_at"])
        Event.objects.filter(pk=locked.pk).update(
            current_round=new,
            accepting_proposals=True,
            voting_open=False,
            voting_closes_at=None,
            results_revealed=False,
            schedule_published=False,
        )
        transaction.on_commit(lambda: broadcast.state_changed(locked.pk, me_stale=True), robust=True)
    return new


def round_of(event: Event, round_id) -> Round:
    """`?round=<id>`: one of the event's rounds (404 otherwise); without it, the current one."""
    if round_id in (None, ""):
        return Round.objects.get(pk=event.current_round_id)
    try:
        found = Round.objects.filter(event=event, pk=int(round_id)).first()
    except (TypeError, ValueError, OverflowError):
        found = None
    if found is None or found.started_at is None:
        raise NotFound("No such round in this event (or it has not started).")
    return found


def results_visible(event: Event, round_: Round) -> bool:
    """Counts as the caller may see them: an ended round keeps its reveal as it ended."""
    if round_.is_current(event):
        return event.counts_public()
    return event.tally_visibility == "live" or round_.results_revealed


def ranked_results(event: Event, round_: Round) -> list[Proposal]:
    """The round's ranking (proposals/ranking.py), each
    proposal with `dots` and `voters` of that round."""
    if round_.is_current(event):
        return list(Proposal.objects.ranked().filter(event=event))
    totals = {
        row["proposal_id"]: row
        for row in RoundVote.objects.filter(round=round_)
        .values("proposal_id")
        .annotate(dots=Sum("dots"), voters=Count("id"))
    }
    # What it voted on: every proposal with dots then, and the others still published.
    still_published = Proposal.objects.filter(pk__in=_in_play_during(round_), status=ProposalStatus.PUBLISHED)
    proposals = list(
        Proposal.objects.filter(event=event).filter(
            pk__in=[*totals, *still_published.values_list("pk", flat=True)]
        )
    )
    for p in proposals:
        p.dots = totals.get(p.pk, {}).get("dots", 0)
        p.voters = totals.get(p.pk, {}).get("voters", 0)
    return ranking.ranked(proposals)


def _in_play_during(round_: Round):
    """Proposals a round could vote on: proposed by its end, not done in an earlier round."""
    earlier = Round.objects.filter(event=round_.event_id, number__lt=round_.number)
    return (
        Proposal.objects.filter(event=round_.event_id, created_at__lte=round_.ended_at)
        .exclude(done_in_round__in=earlier)
        .values("pk")
    )


def ballots_of_round(event: Event, round_: Round, proposal_ids) -> dict[int, dict[int, int]]:
    """attendee id -> {proposal id: dots} in that round, for the given proposals."""
    rows = (
        Vote.objects.filter(event=event)
        if round_.is_current(event)
        else RoundVote.objects.filter(round=round_)
    ).filter(proposal_id__in=list(proposal_ids))
    ballots: dict[int, dict[int, int]] = {}
    for attendee_id, proposal_id, dots in rows.values_list("attendee_id", "proposal_id", "dots"):
        ballots.setdefault(attendee_id, {})[proposal_id] = dots
    return ballots


def my_votes(attendee_id: int, round_: Round) -> dict[int, int]:
    """An attendee's dots in an ended round (`/me?round=`)."""
    return dict(
        RoundVote.objects.filter(round=round_, attendee_id=attendee_id).values_list("proposal_id", "dots")
    )


def voted_in_any_round(attendee_id: int) -> set[int]:
    """Proposals the attendee put a dot on in any round: their "my schedule"."""
    now = Vote.objects.filter(attendee_id=attendee_id).values_list("proposal_id", flat=True)
    before = RoundVote.objects.filter(attendee_id=attendee_id).values_list("proposal_id", flat=True)
    return set(now) | set(before)


def ledger_of(event: Event, round_: Round):
    return LedgerEntry.objects.filter(event=event, round=round_)


def round_dict(round_: Round) -> dict:
    return {
        "id": round_.pk,
        "name": round_.name,
        "started_at": round_.started_at.isoformat() if round_.started_at else None,
    }
