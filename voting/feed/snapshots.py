"""Read models of an event's live state: snapshot, tally, participation and an attendee's `me`.

Built once per state and role (public or organizers) and shared by every socket that sees
the same thing; only `me` is per attendee (one small query).
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from voting.day import live
from voting.events.models import Attendee, Event
from voting.events.serializers import EventSerializer
from voting.proposals.models import Proposal, ProposalStatus
from voting.proposals.serializers import ProposalSerializer
from voting.schedule.board import schedule_visible, visible_schedule
from voting.votes.models import Vote

PUBLIC, ORGANIZERS = "public", "organizers"


@dataclass(frozen=True)
class StateClock:
    """Where an event's state stands, read in the same database snapshot as the state itself.

    Every row the live state shows counts its own changes (the `revision` columns, raised by
    the database, migration 0005); each count only rises and is committed in order per row.
    So their sum, read in one snapshot, is higher in every later snapshot that saw a change,
    and equal only where nothing changed: the version names the state, whichever process
    reads it. `deadline_passed` is the one part that changes with time alone.
    """

    state: int  # the event row (with its rooms, slots, sessions) and its proposals' rows
    tally: int  # the proposals' counters and the attendees' tokens (participation)
    deadline_passed: bool

    @property
    def version(self) -> int:
        return 2 * (self.state + self.tally) + self.deadline_passed

    @property
    def fingerprint(self) -> list:
        """[state part, tally part]: what a snapshot and what a tally show."""
        return [f"{self.state}:{int(self.deadline_passed)}", str(self.tally)]


STATE_CLOCK_SQL = """
SELECT e.revision,
       e.voting_closes_at IS NOT NULL AND e.voting_closes_at <= %s,
       (SELECT coalesce(sum(p.revision), 0) FROM voting_proposal p WHERE p.event_id = e.id),
       (SELECT coalesce(sum(p.tally_revision), 0) FROM voting_proposal p WHERE p.event_id = e.id),
       (SELECT coalesce(sum(a.revision), 0) FROM voting_attendee a WHERE a.event_id = e.id)
  FROM voting_event e WHERE e.id = %s
"""


def state_clock(event_id: int) -> StateClock | None:
    """The event's clock (None: no such event). In a REPEATABLE READ transaction, read it
    first: every later read of that transaction shows the state it names."""
    with connection.cursor() as cursor:
        cursor.execute(STATE_CLOCK_SQL, [timezone.now(), event_id])
        row = cursor.fetchone()
    if row is None:
        return None
    revision, passed, proposals, counters, attendees = (int(value) for value in row)  # sums: numeric
    return StateClock(state=revision + proposals, tally=counters + attendees, deadline_passed=bool(passed))


def participation(event: Event) -> dict:
    attendees = Attendee.objects.filter(event=event).exclude(token_hash="").count()
    votes = Vote.objects.filter(event=event).aggregate(
        voters=Count("attendee", distinct=True), dots=Sum("dots")
    )
    return {
        "attendees": attendees,
        "voters": votes["voters"],
        "dots_cast": votes["dots"] or 0,
        "dots_total": attendees * event.votes_per_attendee,
    }


def counts(event: Event) -> dict[str, dict[str, int]]:
    rows = Proposal.objects.in_play().filter(event=event).values_list("id", "dots", "voters")
    return {str(pk): {"dots": dots, "voters": voters} for pk, dots, voters in rows}


def role_sees_counts(event: Event, role: str) -> bool:
    return role == ORGANIZERS or event.counts_public()


def build_tally(event: Event, version: int) -> dict[str, dict]:
    """One `tally` message per role; the public one carries counts only when they are public."""
    shared = {
        "type": "tally",
        "version": version,
        "server_time": timezone.now().isoformat(),
        "participation": participation(event),
    }
    with_counts = {**shared, "counts": counts(event)}
    return {
        ORGANIZERS: with_counts,
        PUBLIC: with_counts if event.counts_public() else shared,
    }


def build_snapshots(event: Event, version: int) -> dict[str, dict]:
    """The whole state per role, without `me` (added per attendee by the consumer)."""
    # The live state is the current round's: sessions scheduled in an earlier round are in
    # that round's schedule, not on the board.
    proposals = list(
        Proposal.objects.filter(event=event, done_in_round__isnull=True)
        .exclude(status__in=[ProposalStatus.WITHDRAWN])
        .order_by("created_at", "id")
    )
    shared = {
        "type": "snapshot",
        "version": version,
        "server_time": timezone.now().isoformat(),
        "participation": participation(event),
    }
    snapshots = {}
    for role in (PUBLIC, ORGANIZERS):
        show_counts = role_sees_counts(event, role)
        visible = [p for p in proposals if role == ORGANIZERS or p.status == ProposalStatus.PUBLISHED]
        snapshots[role] = {
            **shared,
            "event": EventSerializer(event, context={"is_organizer": role == ORGANIZERS}).data,
            "proposals": ProposalSerializer(visible, many=True, context={"show_counts": show_counts}).data,
            "schedule": schedule_state(event, organizer=role == ORGANIZERS),
            **live.snapshot_extras(event, organizer=role == ORGANIZERS),
        }
    return snapshots


def schedule_state(event: Event, *, organizer: bool) -> dict | None:
    """The schedule when visible to the role: organizers always, everyone once published.

    The same view as the schedule API: while counts are hidden from the public, so is what
    a schedule tells about them (voters per session, over capacity, explanations).
    """
    if not (organizer or schedule_visible(event)):
        return None

    return visible_schedule(event, organizer=organizer)


def me(attendee: Attendee, budget: int) -> dict:
    """The attendee's own state in one query: their dots and their proposals."""
    return me_many([attendee], budget)[attendee.pk]


def me_many(attendees: list[Attendee], budget: int) -> dict[int, dict]:
    """`me` of many attendees (by attendee pk) in one query: a broadcast that moved dots."""
    with connection.cursor() as cursor:
        mine = read_mine(cursor, [a.pk for a in attendees])
    return {a.pk: me_of(a, budget, *mine[a.pk]) for a in attendees}


def read_mine(cursor, attendee_ids: list[int]) -> dict[int, tuple[dict[int, int], list[int]]]:
    """Per attendee: their dots by proposal id, and their own proposals (not withdrawn).

    One statement, in SQL: it runs for every socket that connects and for every `me` of a broadcast,
    where the ORM's query building cost more CPU than the query (see scripts/bench).
    """
    marks = ", ".join(["%s"] * len(attendee_ids))
    cursor.execute(
        f"SELECT attendee_id, proposal_id, dots FROM voting_vote WHERE attendee_id IN ({marks}) "
        f"UNION ALL SELECT author_id, id, -1 FROM voting_proposal "
        f"WHERE author_id IN ({marks}) AND status <> %s",
        [*attendee_ids, *attendee_ids, ProposalStatus.WITHDRAWN],
    )
    mine: dict[int, tuple[dict[int, int], list[int]]] = {pk: ({}, []) for pk in attendee_ids}
    for attendee_id, proposal_id, dots in cursor.fetchall():
        votes, own = mine[attendee_id]
        if dots < 0:
            own.append(proposal_id)
        else:
            votes[proposal_id] = dots
    return mine


def me_of(attendee: Attendee, budget: int, votes: dict, proposals: list[int]) -> dict:
    """`me` from what the caller already read (a vote reads it anyway, under its lock)."""
    votes = {str(pid): dots for pid, dots in votes.items()}
    return {
        "attendee": {"id": attendee.public_id, "display_name": attendee.display_name},
        "budget": budget,
        "remaining": budget - sum(votes.values()),
        "votes": votes,
        "proposals": sorted(proposals),
        "server_time": timezone.now().isoformat(),
    }
