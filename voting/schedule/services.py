"""Schedule writes: rooms, slots, generating the draft, moving, pinning, publishing.

Locking: every write here takes the event row FOR NO KEY UPDATE. Schedule edits therefore
queue behind each other (a move never interleaves with a generate, a room is never deleted
under one), while votes — which hold the event FOR KEY SHARE — are never held up, even while
the builder runs. After commit each change goes out as a new snapshot to the stage and the
phones (`broadcast.state_changed`).

Moving a session onto a cell another session holds swaps the two, and both explanations say
so; a pinned occupant is never displaced (409: unpin it first).
"""

from dataclasses import dataclass

from django.db import transaction

from voting.core.errors import Conflict, NotFound
from voting.events.models import Event
from voting.feed import broadcast
from voting.proposals.models import Proposal, ProposalStatus
from voting.schedule import solver
from voting.schedule.board import (
    ballots_for,
    event_zone,
    same_slot_overlaps,
    slot_days,
    slot_label,
    slots_of,
    unavailability_of,
)
from voting.schedule.hosts import host_pseudonyms
from voting.schedule.models import LeftOut, Room, ScheduledSession, Slot
from voting.votes.models import Vote


def _lock(event_id: int) -> Event:
    return Event.objects.select_for_update(no_key=True).get(pk=event_id)


def _this_round(event: Event):
    """The sessions the organizers edit: the current round's. Earlier rounds' stay as they were."""
    return ScheduledSession.objects.filter(event=event, slot__round=event.current_round_id)


class OtherRound(Conflict):
    default_detail = "That slot belongs to another round: only the current round's schedule can change."


# --- rooms and slots -------------------------------------------------------------------------


def create_room(*, event: Event, name: str, capacity: int, directions: str = "") -> Room:
    with transaction.atomic():
        _lock(event.pk)
        room = Room.objects.create(event=event, name=name, capacity=capacity, directions=directions)
        broadcast.on_commit_state_changed(event.pk)
    return room


def update_room(*, room: Room, changes: dict) -> Room:
    with transaction.atomic():
        _lock(room.event_id)
        for field, value in changes.items():
            setattr(room, field, value)
        room.save()
        broadcast.on_commit_state_changed(room.event_id)
    return room


def delete_room(*, room: Room) -> None:
    """The room's sessions leave the schedule (they are unscheduled, not deleted)."""
    with transaction.atomic():
        _lock(room.event_id)
        room.delete()
        broadcast.on_commit_state_changed(room.event_id)


def create_slot(*, event: Event, starts_at, ends_at, label: str = "", round=None) -> Slot:
    """`round`: one of the event's rounds; without it, the current round."""
    with transaction.atomic():
        _lock(event.pk)
        slot = Slot.objects.create(
            event=event, starts_at=starts_at, ends_at=ends_at, label=label, round=round
        )
        broadcast.on_commit_state_changed(event.pk)
    return slot


def update_slot(*, slot: Slot, changes: dict) -> Slot:
    with transaction.atomic():
        _lock(slot.event_id)
        for field, value in changes.items():
            setattr(slot, field, value)
        slot.save()
        broadcast.on_commit_state_changed(slot.event_id)
    return slot


def delete_slot(*, slot: Slot) -> None:
    with transaction.atomic():
        _lock(slot.event_id)
        slot.delete()
        broadcast.on_commit_state_changed(slot.event_id)


# --- generating ------------------------------------------------------------------------------


class NothingToFill(Conflict):
    default_detail = "Add at least one room and one slot before generating the schedule."


@dataclass(frozen=True)
class Generated:
    result: solver.ScheduleResult
    lost_pins: tuple[int, ...]  # pinned proposals no longer published, hence dropped


def generate_schedule(*, event: Event, fill: str = solver.COMPACT) -> Generated:
    """Replace the draft with the builder's: top proposals into rooms × slots, pins kept.

    Reads the ballots in one query (the vote rows of published proposals), the hosts and the
    slots they cannot host in, runs the pure builder and swaps the event's scheduled sessions
    (and the reasons for what it left out) in the same transaction.
    """
    with transaction.atomic():
        locked = _lock(event.pk)
        zone = event_zone(locked)
        rooms = list(Room.objects.filter(event=locked))
        slots = slots_of(locked)  # the current round's
        if not rooms or not slots:
            raise NothingToFill()
        published = list(
            Proposal.objects.in_play()
            .filter(event=locked)
            .values_list("id", "title", "dots", "voters", "length", "created_at")
        )
        pins = list(
            _this_round(locked)
            .filter(pinned=True)
            .values_list("proposal_id", "room_id", "slot_id", "proposal__status")
        )
        pinned_cells = {pid: (room_id, slot_id) for pid, room_id, slot_id, _status in pins}
        ballots: dict[int, dict[int, int]] = {}
        votes = Vote.objects.filter(event=locked, proposal__status=ProposalStatus.PUBLISHED).values_list(
            "attendee_id", "proposal_id", "dots"
        )
        for attendee_id, proposal_id, dots in votes:
            ballots.setdefault(attendee_id, {})[proposal_id] = dots
        hosts = host_pseudonyms(pid for pid, *_ in published)
        sessions = [
            solver.SessionInput(
                id=pid,
                title=title,
                dots=dots,
                voters=voters,
                pinned_room=pinned_cells.get(pid, (None, None))[0],
                pinned_slot=pinned_cells.get(pid, (None, None))[1],
                hosts=frozenset(hosts[pid]),
                length=length,
                created_at=created_at,
            )
            for pid, title, dots, voters, length, created_at in published
        ]
        days = slot_days(slots, zone)
        result = solver.build_schedule(
            sessions=sessions,
            rooms=[solver.RoomInput(id=r.pk, name=r.name, capacity=r.capacity) for r in rooms],
            slots=[
                solver.SlotInput(id=t.pk, label=slot_label(t, zone), day=day)
                for t, day in zip(slots, days, strict=True)
            ],
            ballots=ballots,
            unavailable=unavailability_of(locked),
            fill=fill,
        )
        _this_round(locked).delete()
        ScheduledSession.objects.bulk_create(
            ScheduledSession(
                event=locked,
                proposal_id=p.session_id,
                room_id=p.room_id,
                slot_id=p.slot_id,
                pinned=p.pinned,
                explanation=p.explanation,
            )
            for p in result.placements
        )
        LeftOut.objects.filter(event=locked).delete()
        LeftOut.objects.bulk_create(
            LeftOut(event=locked, proposal_id=u.proposal, reason=u.reason) for u in result.unscheduled
        )
        broadcast.on_commit_state_changed(locked.pk)
    lost = tuple(sorted(pid for pid, _room, _slot, status in pins if status != ProposalStatus.PUBLISHED))
    return Generated(result=result, lost_pins=lost)


# --- editing by hand -------------------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _placement_sentences(session: ScheduledSession, event: Event) -> str:
    """Where a hand-placed session stands now: who it shares its slot with, and its room."""
    in_slot = list(
        ScheduledSession.objects.filter(
            event=event, slot_id=session.slot_id, proposal__status=ProposalStatus.PUBLISHED
        ).select_related("proposal")
    )
    slot_of = {s.proposal_id: s.slot_id for s in in_slot}
    overlaps = same_slot_overlaps(slot_of, ballots_for(slot_of))
    titles = {s.proposal_id: s.proposal.title for s in in_slot}
    me = session.proposal_id
    mine = sorted(
        ((voters, b if a == me else a) for (a, b), (voters, _cost) in overlaps.items() if me in (a, b)),
        key=lambda item: (-item[0], item[1]),
    )
    sentences = []
    if mine:
        voters, other = mine[0]
        sentence = f"Shares {_count(voters, 'voter')} with '{titles[other]}' in this slot"
        if len(mine) > 1:
            sentence += f" and overlaps with {_count(len(mine) - 1, 'other session')}"
        sentences.append(sentence + ".")
    elif session.proposal.voters:
        sentences.append("None of its voters picked another session in this slot.")
    room = session.room
    voters = session.proposal.voters
    sentence = f"{room.name} holds {room.capacity} ({_count(voters, 'voter')})."
    if voters > room.capacity:
        sentence += f" Over capacity by {_count(voters - room.capacity, 'voter')}."
    sentences.append(sentence)
    return " ".join(sentences)


def _explain_hand_placement(session: ScheduledSession, event: Event, how: str) -> None:
    session.explanation = f"{how} {_placement_sentences(session, event)}"
    session.save(update_fields=["explanation"])


def _published_proposal(event: Event, proposal_id: int) -> Proposal:
    proposal = Proposal.objects.filter(event=event, pk=proposal_id, status=ProposalStatus.PUBLISHED).first()
    if proposal is None:
        raise NotFound("No published proposal with this id in this event.")
    if proposal.done_in_round_id is not None:
        raise OtherRound("This session was scheduled in an earlier round; that schedule stays as it was.")
    return proposal


def place_session(
    *,
    event: Event,
    proposal_id: int,
    room: Room | None = None,
    slot: Slot | None = None,
    pinned: bool | None = None,
) -> None:
    """Move a session (or add an unscheduled proposal), and/or pin or unpin it.

    Onto a free cell it simply moves. Onto a cell another session holds, the two swap places;
    a pinned occupant stays (Conflict). An unscheduled proposal needs a free cell.
    """
    with transaction.atomic():
        locked = _lock(event.pk)
        proposal = _published_proposal(locked, proposal_id)
        if slot is not None and slot.round_id != locked.current_round_id:
            raise OtherRound()
        current = ScheduledSession.objects.filter(proposal=proposal).select_related("room", "slot").first()
        if current is None and (room is None or slot is None):
            raise Conflict(f"'{proposal.title}' is not in the schedule yet: give it both a room and a slot.")
        target_room = room or current.room
        target_slot = slot or current.slot
        moving = current is None or (current.room_id, current.slot_id) != (target_room.pk, target_slot.pk)
        if moving:
            _move(locked, proposal, current, target_room, target_slot, pinned)
        if pinned is not None and current is not None and not moving and current.pinned != pinned:
            current.pinned = pinned
            current.save(update_fields=["pinned"])
        broadcast.on_commit_state_changed(locked.pk)


def _move(event: Event, proposal: Proposal, current, room: Room, slot: Slot, pinned: bool | None) -> None:
    occupant = ScheduledSession.objects.filter(room=room, slot=slot).select_related("proposal").first()
    if occupant is not None and occupant.proposal.status != ProposalStatus.PUBLISHED:
        occupant.delete()  # a hidden or withdrawn proposal's leftover: the cell is free
        occupant = None
    where = f"{room.name} at {slot_label(slot, event_zone(event))}"
    if occupant is None:
        if current is None:
            current = ScheduledSession(event=event, proposal=proposal, room=room, slot=slot)
            how = f"Added by the organizers to {where}."
        else:
            current.room, current.slot = room, slot
            how = f"Moved by the organizers to {where}."
        if pinned is not None:
            current.pinned = pinned
        current.save()
        _explain_hand_placement(current, event, how)
        return
    if current is None:
        raise Conflict(f"'{occupant.proposal.title}' is in {where}. Move or remove it first.")
    if occupant.pinned:
        raise Conflict(
            f"'{occupant.proposal.title}' is pinned to {where}. Unpin it first, or pick another cell."
        )
    # The unique (room, slot) constraint is checked per statement: free the cell first.
    old_room, old_slot = current.room, current.slot
    occupant.delete()
    current.room, current.slot = room, slot
    if pinned is not None:
        current.pinned = pinned
    current.save()
    displaced = ScheduledSession.objects.create(
        event=event, proposal=occupant.proposal, room=old_room, slot=old_slot, pinned=False
    )
    _explain_hand_placement(
        current,
        event,
        f"Moved by the organizers to {where}, swapping places with '{occupant.proposal.title}'.",
    )
    _explain_hand_placement(
        displaced,
        event,
        f"Swapped by the organizers to {old_room.name} at {slot_label(old_slot, event_zone(event))} "
        f"when '{proposal.title}' took its place.",
    )


def remove_session(*, event: Event, proposal_id: int) -> None:
    """Take a proposal out of the schedule (it stays on the board and may be placed again)."""
    with transaction.atomic():
        locked = _lock(event.pk)
        deleted, _ = _this_round(locked).filter(proposal_id=proposal_id).delete()
        if not deleted:
            raise NotFound("This proposal is not in the schedule.")
        broadcast.on_commit_state_changed(locked.pk)


# --- publishing ------------------------------------------------------------------------------


def set_schedule_published(*, event: Event, published: bool) -> Event:
    """Publishing shows the schedule to everyone (stage, phones, exports); it needs a session."""
    with transaction.atomic():
        locked = _lock(event.pk)
        if published:
            has_sessions = _this_round(locked).filter(proposal__status=ProposalStatus.PUBLISHED).exists()
            if not has_sessions:
                raise Conflict("There is nothing to publish yet: generate the schedule first.")
        if locked.schedule_published != published:
            locked.schedule_published = published
            locked.save(update_fields=["schedule_published"])
            broadcast.on_commit_state_changed(locked.pk)
    return locked
