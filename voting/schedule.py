"""The schedule as the contract shows it (section 5), read from the placed sessions."""

from .models import Event, Room, ScheduledSession, Slot


def room_dict(room: Room) -> dict:
    return {"id": room.pk, "name": room.name, "capacity": room.capacity}


def slot_dict(slot: Slot) -> dict:
    return {
        "id": slot.pk,
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
        "label": slot.label,
    }


def schedule_payload(event: Event) -> dict:
    rooms = list(Room.objects.filter(event=event))
    capacity = {room.pk: room.capacity for room in rooms}
    sessions = list(ScheduledSession.objects.filter(event=event).select_related("proposal"))
    return {
        "published": event.schedule_published,
        "clash_total": None,
        "rooms": [room_dict(r) for r in rooms],
        "slots": [slot_dict(s) for s in Slot.objects.filter(event=event)],
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
