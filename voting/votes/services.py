"""Setting dots, on PostgreSQL (one SQL function) or the embedded SQLite default, and the ledger."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from voting.core.errors import BudgetExhausted, Conflict, InvalidDots, NotFound, NotVotable, VotingClosed
from voting.events.models import Attendee, Event, hash_token
from voting.feed import broadcast, snapshots
from voting.proposals.models import Proposal, ProposalStatus
from voting.votes.models import LedgerCause, LedgerEntry, Vote


def ledger_row(
    *, event: Event, attendee_id: int, proposal_id: int, before: int, after: int, cause: str, now=None
):
    """One accepted change of someone's dots in the event's current round, as the ledger (and
    its recount) records it."""
    return LedgerEntry(
        event_id=event.pk,
        round_id=event.current_round_id,
        attendee_id=attendee_id,
        proposal_id=proposal_id,
        dots_before=before,
        dots_after=after,
        cause=cause,
        created_at=now or timezone.now(),
    )


# --- votes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DotsSet:
    """What a vote leaves behind: whether it changed anything, and the caller's own state."""

    changed: bool
    budget: int
    votes: dict[int, int]  # proposal id -> the attendee's dots on it, after the vote
    proposals: list[int]  # the attendee's own proposals (not withdrawn)


# The vote is the hot path of a full hall. On PostgreSQL it is one call of the function
# `unconf_set_dots` (migration 0003): one round trip instead of ten, half the database CPU
# (scripts/bench --votes-only). SQLite, the embedded default, runs the same rules through the
# ORM (set_dots_portable). Lock order in both: event -> attendee -> proposal.
def set_dots(*, attendee: Attendee, proposal_id: int, dots: int) -> DotsSet:
    """Set (never add) the attendee's dots on a proposal. Idempotent.

    The budget and the per-proposal cap hold whatever arrives at once: the event row is held
    (see the module docstring), the attendee row is locked for the check-and-write, and the
    unique constraint backs it up.
    """
    if connection.vendor == "postgresql":
        return _set_dots_in_postgres(attendee, proposal_id, dots)
    return set_dots_portable(attendee=attendee, proposal_id=proposal_id, dots=dots)


def _set_dots_in_postgres(attendee: Attendee, proposal_id: int, dots: int) -> DotsSet:
    # Outside a transaction the call is its own (autocommit): one round trip, no BEGIN/COMMIT.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM unconf_set_dots(%s, %s, %s, %s, %s)",
            [attendee.event_id, attendee.pk, proposal_id, dots, timezone.now()],
        )
        return _dots_set(cursor.fetchone(), event_id=attendee.event_id)


def _dots_set(row, *, event_id: int, on_change=broadcast.on_commit_tally_changed) -> DotsSet:
    """The function's answer as a DotsSet, or its refusal raised."""
    outcome, max_dots, budget, vote_proposals, vote_dots, own = row
    if outcome in _REFUSALS:
        raise _REFUSALS[outcome](max_dots)
    changed = outcome == "changed"
    if changed:
        on_change(event_id)
    return DotsSet(changed, budget, dict(zip(vote_proposals, vote_dots, strict=True)), own)


@dataclass(frozen=True)
class Voter:
    """Who voted, as the vote's answer (`me`) shows them."""

    public_id: str
    display_name: str


# The API's vote on PostgreSQL: finding the attendee by token and the vote are one round trip.
VOTE_BY_TOKEN_SQL = "SELECT * FROM unconf_vote(%s, %s, %s, %s, %s)"


def vote_by_token_params(*, slug: str, token: str, proposal_id: int, dots: int) -> list:
    return [slug, hash_token(token), proposal_id, dots, timezone.now()]


def vote_by_token_answer(row, *, on_change=broadcast.on_commit_tally_changed) -> tuple[Voter, DotsSet] | None:
    """What unconf_vote returned: (who, what) for the answer, None if no attendee holds the
    token, or the refusal raised. `on_change(event_id)` runs when the vote changed something."""
    attendee_id, event_id, public_id, display_name, *outcome = row
    if attendee_id is None:
        return None
    return Voter(public_id, display_name), _dots_set(outcome, event_id=event_id, on_change=on_change)


_REFUSALS = {
    "no_event": lambda _: NotFound("No event with this address."),
    "closed": lambda _: VotingClosed(),
    "invalid_dots": lambda max_dots: InvalidDots(f"Dots on one proposal must be between 0 and {max_dots}."),
    "no_proposal": lambda _: NotFound("No such proposal in this event."),
    "over_budget": lambda _: BudgetExhausted(),
    "not_open": lambda _: Conflict("This proposal is not open for votes."),
    "not_votable": lambda _: NotVotable(),
}


def set_dots_portable(*, attendee: Attendee, proposal_id: int, dots: int) -> DotsSet:
    """set_dots for databases without the function (SQLite, the embedded default): the same
    rules and lock order through the ORM. Not a hot path: a full hall runs on PostgreSQL.
    tests/test_counts_invariant.py runs the same property test on both databases."""
    with transaction.atomic():
        event = _lock_event_shared(attendee.event_id)
        if event is None:
            raise NotFound("No event with this address.")
        if not event.voting_is_open():
            raise VotingClosed()
        if not 0 <= dots <= event.max_dots_per_proposal:
            raise InvalidDots(f"Dots on one proposal must be between 0 and {event.max_dots_per_proposal}.")
        Attendee.objects.select_for_update().filter(pk=attendee.pk).values_list("pk").get()
        with connection.cursor() as cursor:
            held, own = snapshots.read_mine(cursor, [attendee.pk])[attendee.pk]
        before = held.get(proposal_id, 0)
        in_event = Proposal.objects.filter(pk=proposal_id, event_id=event.pk)
        if dots == before:
            if before == 0 and not in_event.exists():
                raise NotFound("No such proposal in this event.")
            return DotsSet(False, event.votes_per_attendee, held, own)
        if sum(held.values()) - before + dots > event.votes_per_attendee:
            raise BudgetExhausted()
        found = in_event.values_list("status", "done_in_round").first()
        if found is None:
            raise NotFound("No such proposal in this event.")
        status, done_in_round = found
        # Taking dots back is always allowed; adding needs a published proposal of this round.
        if dots > before and done_in_round is not None:
            raise NotVotable()
        if dots > before and status != ProposalStatus.PUBLISHED:
            raise Conflict("This proposal is not open for votes.")
        mine = Vote.objects.filter(attendee=attendee, proposal_id=proposal_id)
        if dots == 0:
            mine.delete()
        elif before == 0:
            Vote.objects.create(event_id=event.pk, attendee=attendee, proposal_id=proposal_id, dots=dots)
        else:
            mine.update(dots=dots, updated_at=timezone.now())
        ledger_row(
            event=event,
            attendee_id=attendee.pk,
            proposal_id=proposal_id,
            before=before,
            after=dots,
            cause=LedgerCause.VOTE,
        ).save(force_insert=True)
        broadcast.on_commit_tally_changed(event.pk)
    if dots:
        held[proposal_id] = dots
    else:
        held.pop(proposal_id, None)
    return DotsSet(True, event.votes_per_attendee, held, own)


def _lock_event_shared(event_id: int) -> Event | None:
    """Hold the event row so that no close/merge/refund can interleave with this vote."""
    if connection.vendor == "postgresql":
        return next(
            iter(Event.objects.raw("SELECT * FROM voting_event WHERE id = %s FOR KEY SHARE", [event_id])),
            None,
        )
    return Event.objects.select_for_update().filter(pk=event_id).first()  # SQLite: one writer anyway


def replay_ledger(entries: Iterable[LedgerEntry]) -> dict[int, dict[str, int]]:
    """The recount: replaying every accepted change gives each proposal's dots and voters."""
    state: dict[tuple[int, int], int] = {}
    for entry in entries:
        state[(entry.attendee_id, entry.proposal_id)] = entry.dots_after
    totals: dict[int, dict[str, int]] = {}
    for (_, proposal_id), dots in state.items():
        if dots:
            t = totals.setdefault(proposal_id, {"dots": 0, "voters": 0})
            t["dots"] += dots
            t["voters"] += 1
    return totals
