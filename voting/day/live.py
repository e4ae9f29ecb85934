"""Read models of the sessions while they run (contract 5.2): now/next, occupancy, screens.

Read-only. "Running" is decided by the server's clock against the slots: a slot runs from
its start to its end, and a session takes check-ins from `UNCONF_CHECKIN_EARLY_MINUTES`
before its start. Occupancy counts open check-ins; a session with more people than its
room's capacity comes with a suggested move to a bigger room in the same slot, free or
emptier, which the organizers apply as one schedule PATCH (a move, or a swap).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.formats import time_format

from voting.day.models import CheckIn, Screen
from voting.events.models import Event
from voting.schedule.board import placed_sessions, rooms_of, schedule_visible, shown_slots_of, slots_of
from voting.schedule.models import Room, ScheduledSession, Slot

# A stage pings every 15 s (feed.js); one not seen for this long has dropped.
SCREEN_SEEN_SECONDS = 45


def local_time(moment: datetime) -> str:
    """The one place that turns a time into what a person reads (the event's zone plugs in here)."""
    return time_format(timezone.localtime(moment), "H:i")


def checkin_window(slot: Slot) -> tuple[datetime, datetime]:
    return slot.starts_at - timedelta(minutes=settings.UNCONF_CHECKIN_EARLY_MINUTES), slot.ends_at


def checked_in_counts(event: Event) -> dict[int, int]:
    """proposal id -> attendees checked in to it now."""
    rows = (
        CheckIn.objects.filter(proposal__event=event, left_at__isnull=True)
        .values("proposal_id")
        .annotate(n=Count("id"))
    )
    return {row["proposal_id"]: row["n"] for row in rows}


def _entry(session: ScheduledSession, room: Room, slot: Slot, counts: dict[int, int]) -> dict:
    return {
        "proposal": session.proposal_id,
        "title": session.proposal.title,
        "host_name": session.proposal.host_name,
        "room": room.pk,
        "room_name": room.name,
        "directions": room.directions,
        "slot": slot.pk,
        "starts_at": timezone.localtime(slot.starts_at).isoformat(),
        "ends_at": timezone.localtime(slot.ends_at).isoformat(),
        "checked_in": counts.get(session.proposal_id, 0),
    }


def now_next(event: Event, now: datetime | None = None) -> dict:
    """`GET .../now`: the sessions of the running slot(s) and of the next slot to start."""
    now = now or timezone.now()
    answer = {"server_time": now.isoformat(), "now": [], "next": []}
    rooms, slots = rooms_of(event), shown_slots_of(event)
    sessions = placed_sessions(event, rooms, slots)
    room_by_id = {r.pk: r for r in rooms}
    slot_by_id = {s.pk: s for s in slots}
    counts = checked_in_counts(event)
    starts = sorted(
        {slot_by_id[s.slot_id].starts_at for s in sessions if slot_by_id[s.slot_id].starts_at > now}
    )
    for session in sessions:
        slot = slot_by_id[session.slot_id]
        if slot.starts_at <= now < slot.ends_at:
            answer["now"].append(_entry(session, room_by_id[session.room_id], slot, counts))
        elif starts and slot.starts_at == starts[0]:
            answer["next"].append(_entry(session, room_by_id[session.room_id], slot, counts))
    return answer


def occupancy(event: Event, now: datetime | None = None) -> list[dict]:
    """Organizers: every session taking check-ins now, its people against its room's seats,
    and for one over capacity a suggested bigger room (see `suggest_room`)."""
    now = now or timezone.now()
    rooms, slots = rooms_of(event), shown_slots_of(event, organizer=True)
    sessions = placed_sessions(event, rooms, slots)
    room_by_id = {r.pk: r for r in rooms}
    slot_by_id = {s.pk: s for s in slots}
    counts = checked_in_counts(event)
    rows = []
    for session in sessions:
        slot = slot_by_id[session.slot_id]
        opens, closes = checkin_window(slot)
        if not opens <= now < closes:
            continue
        room = room_by_id[session.room_id]
        people = counts.get(session.proposal_id, 0)
        in_slot = [s for s in sessions if s.slot_id == slot.pk]
        rows.append(
            {
                **_entry(session, room, slot, counts),
                "capacity": room.capacity,
                "over_capacity": people > room.capacity,
                "suggestion": suggest_room(session, people, in_slot, rooms, counts)
                if people > room.capacity
                else None,
            }
        )
    return rows


def suggest_room(
    session: ScheduledSession, people: int, in_slot: list[ScheduledSession], rooms: list[Room], counts: dict
) -> dict | None:
    """A bigger room in the same slot for an overflowing session: a free one if any, else one
    whose (unpinned) session has fewer people, which then swaps into the smaller room.
    Among candidates, the smallest that seats everyone, else the biggest."""
    current = next(r for r in rooms if r.pk == session.room_id)
    holder = {s.room_id: s for s in in_slot}
    bigger = sorted((r for r in rooms if r.capacity > current.capacity), key=lambda r: (r.capacity, r.pk))
    free = [r for r in bigger if r.pk not in holder]
    emptier = [
        r
        for r in bigger
        if r.pk in holder and not holder[r.pk].pinned and counts.get(holder[r.pk].proposal_id, 0) < people
    ]
    for candidates in (free, emptier):
        if candidates:
            room = next((r for r in candidates if r.capacity >= people), candidates[-1])
            other = holder.get(room.pk)
            return {
                "room": room.pk,
                "room_name": room.name,
                "capacity": room.capacity,
                "swap_with": other.proposal_id if other else None,
                "swap_title": other.proposal.title if other else "",
            }
    return None


def screens(event: Event) -> int:
    """Stages connected to the live feed now. A row is written on connect and deleted on
    disconnect; one whose process died is deleted by the feed's watchdog once it has been
    silent for SCREEN_SEEN_SECONDS (live_services.forget_silent_screens). Each of these writes
    raises the event's version (migration 0008), so the count is part of the versioned state."""
    return Screen.objects.filter(event=event).count()


def snapshot_extras(event: Event, *, organizer: bool) -> dict:
    """What a websocket snapshot adds for the live sessions: the number of cells (rooms ×
    slots), check-ins per session (once the schedule is visible), and for organizers
    occupancy and connected screens."""
    # How many proposals get a room (the stage's cut line under the results).
    extras = {"cells": Room.objects.filter(event=event).count() * len(slots_of(event))}
    if organizer or schedule_visible(event):
        extras["checked_in"] = {str(pid): n for pid, n in checked_in_counts(event).items()}
    if organizer:
        extras["occupancy"] = occupancy(event)
        extras["screens"] = screens(event)
    return extras
