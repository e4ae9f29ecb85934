"""The schedule as every face shows it (contract section 5): API, websocket snapshot, console, exports.

Read-only. Only sessions of published proposals count: a proposal hidden or withdrawn after
the schedule was generated silently leaves it (its cell reads as free). The clash total uses
the builder's own definition (`scheduling.clash_total`), over the ballots of the scheduled
sessions, read in one query. Times are given in the server's time zone, with their offset.
"""

from django.utils import timezone

from .models import Event, ProposalStatus, Room, ScheduledSession, Slot, Vote
from .scheduling import Ballots, clash_total


def room_dict(room: Room) -> dict:
    return {"id": room.pk, "name": room.name, "capacity": room.capacity, "directions": room.directions}


def slot_dict(slot: Slot) -> dict:
    return {
        "id": slot.pk,
        "starts_at": timezone.localtime(slot.starts_at).isoformat(),
        "ends_at": timezone.localtime(slot.ends_at).isoformat(),
        "label": slot.label,
    }


def slot_label(slot: Slot) -> str:
    """What a person calls the slot: its label, else its local start time."""
    return slot.label or f"{timezone.localtime(slot.starts_at):%H:%M}"


def rooms_of(event: Event) -> list[Room]:
    """Biggest room first (the model's ordering): the order the console and the exports use."""
    return list(Room.objects.filter(event=event))


def slots_of(event: Event) -> list[Slot]:
    return list(Slot.objects.filter(event=event))


def placed_sessions(event: Event, rooms: list[Room], slots: list[Slot]) -> list[ScheduledSession]:
    """Scheduled sessions of published proposals, by slot in time order, then by room order."""
    room_position = {room.pk: position for position, room in enumerate(rooms)}
    slot_position = {slot.pk: position for position, slot in enumerate(slots)}
    sessions = ScheduledSession.objects.filter(
        event=event, proposal__status=ProposalStatus.PUBLISHED
    ).select_related("proposal")
    return sorted(sessions, key=lambda s: (slot_position[s.slot_id], room_position[s.room_id]))


def ballots_for(proposal_ids) -> Ballots:
    """attendee id -> {proposal id: dots}, for the given proposals, in one query."""
    ballots: dict[int, dict[int, int]] = {}
    rows = Vote.objects.filter(proposal_id__in=list(proposal_ids)).values_list(
        "attendee_id", "proposal_id", "dots"
    )
    for attendee_id, proposal_id, dots in rows:
        ballots.setdefault(attendee_id, {})[proposal_id] = dots
    return ballots


def schedule_payload(event: Event) -> dict:
    """`GET /api/events/<slug>/schedule` and the `schedule` of a websocket snapshot."""
    rooms, slots = rooms_of(event), slots_of(event)
    sessions = placed_sessions(event, rooms, slots)
    slot_of = {s.proposal_id: s.slot_id for s in sessions}
    capacity = {room.pk: room.capacity for room in rooms}
    return {
        "published": event.schedule_published,
        "clash_total": clash_total(slot_of=slot_of, ballots=ballots_for(slot_of)) if sessions else 0,
        "rooms": [room_dict(r) for r in rooms],
        "slots": [slot_dict(s) for s in slots],
        "sessions": [
            {
                "proposal": s.proposal_id,
                "title": s.proposal.title,
                "room": s.room_id,
                "slot": s.slot_id,
                "pinned": s.pinned,
                "voters": s.proposal.voters,
                "explanation": s.explanation,
            }
            for s in sessions
        ],
        "over_capacity": [s.proposal_id for s in sessions if s.proposal.voters > capacity[s.room_id]],
    }


# What a session's entry says about votes: hidden from the public while counts are hidden.
COUNT_KEYS = ("voters", "explanation")


def visible_schedule(event: Event, *, organizer: bool) -> dict:
    """The schedule as the caller may see it (visibility itself is checked by the caller).

    While the event's counts are hidden from the public (blind or organizers-only tally, not
    revealed), so is anything that tells them: the voters per session, which sessions have
    more voters than seats, and the explanations (they quote ranks, dots and shared voters).
    """
    payload = schedule_payload(event)
    if organizer or event.counts_public():
        return payload
    payload.pop("over_capacity")
    payload["sessions"] = [{k: v for k, v in s.items() if k not in COUNT_KEYS} for s in payload["sessions"]]
    return payload


def same_slot_overlaps(slot_of: dict[int, int], ballots: Ballots) -> dict[tuple[int, int], tuple[int, int]]:
    """(lower id, higher id) of two sessions in one slot -> (shared voters, clash cost)."""
    overlaps: dict[tuple[int, int], tuple[int, int]] = {}
    for ballot in ballots.values():
        mine = sorted((pid, dots) for pid, dots in ballot.items() if dots > 0 and pid in slot_of)
        for k, (a, dots_a) in enumerate(mine):
            for b, dots_b in mine[k + 1 :]:
                if slot_of[a] == slot_of[b]:
                    voters, cost = overlaps.get((a, b), (0, 0))
                    overlaps[a, b] = (voters + 1, cost + dots_a * dots_b)
    return overlaps


def clash_report(event: Event) -> dict:
    """For the console: per slot, the pairs of sessions in it that share voters, worst first.

    The costs add up to the schedule's clash total.
    """
    rooms, slots = rooms_of(event), slots_of(event)
    sessions = placed_sessions(event, rooms, slots)
    slot_of = {s.proposal_id: s.slot_id for s in sessions}
    overlaps = same_slot_overlaps(slot_of, ballots_for(slot_of)) if sessions else {}
    by_slot: dict[int, list[dict]] = {}
    for (a, b), (voters, cost) in overlaps.items():
        by_slot.setdefault(slot_of[a], []).append({"sessions": [a, b], "voters": voters, "cost": cost})
    for pairs in by_slot.values():
        pairs.sort(key=lambda pair: (-pair["cost"], -pair["voters"], pair["sessions"]))
    return {
        "clash_total": sum(cost for _, cost in overlaps.values()),
        "slots": [{"slot": slot.pk, "pairs": by_slot[slot.pk]} for slot in slots if slot.pk in by_slot],
    }
