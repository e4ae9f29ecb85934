"""The schedule as every face shows it (contract section 5): API, websocket snapshot, console, exports.

Read-only. Only sessions of published proposals count: a proposal hidden or withdrawn after
the schedule was generated silently leaves it (its cell reads as free). The clash total uses
the builder's own definition (`scheduling.clash_total`), over the ballots of the scheduled
sessions, read in one query. Times are given in the event's time zone, with their offset; a
long session occupies its slot and the next ones of the same day (`scheduling.span_indices`).
"""

from zoneinfo import ZoneInfo

from django.utils import timezone

from voting.events.models import Event, Round
from voting.events.rounds import ballots_of_round
from voting.proposals.models import Proposal, ProposalStatus
from voting.schedule.hosts import host_pseudonyms
from voting.schedule.models import LeftOut, Room, ScheduledSession, Slot, Unavailability
from voting.schedule.solver.inputs import Ballots, clash_total, constraint_conflicts, span_indices
from voting.votes.models import Vote


def event_zone(event: Event) -> ZoneInfo:
    return ZoneInfo(event.time_zone)


def room_dict(room: Room) -> dict:
    return {"id": room.pk, "name": room.name, "capacity": room.capacity, "directions": room.directions}


def slot_dict(slot: Slot, zone=None) -> dict:
    """`zone`: the event's; by default the active one (API requests activate the event's)."""
    return {
        "id": slot.pk,
        "round": slot.round_id,
        "starts_at": timezone.localtime(slot.starts_at, zone).isoformat(),
        "ends_at": timezone.localtime(slot.ends_at, zone).isoformat(),
        "label": slot.label,
    }


def session_dict(session: ScheduledSession, spans: dict[int, list[int]]) -> dict:
    """Where a session is: its room, first slot and every slot it spans."""
    return {
        "proposal": session.proposal_id,
        "title": session.proposal.title,
        "room": session.room_id,
        "slot": session.slot_id,
        "slots": spans[session.proposal_id],
        "length": session.proposal.length,
    }


def slot_label(slot: Slot, zone=None) -> str:
    """What a person calls the slot: its label, else its local start time."""
    return slot.label or f"{timezone.localtime(slot.starts_at, zone):%H:%M}"


def slot_days(slots: list[Slot], zone) -> list:
    """Each slot's calendar day in the event's zone: a long session stays within one."""
    return [timezone.localtime(slot.starts_at, zone).date() for slot in slots]


def spans_of(sessions: list[ScheduledSession], slots: list[Slot], zone) -> dict[int, list[int]]:
    """Proposal id -> the slot ids its session occupies (its length, within its day)."""
    days = slot_days(slots, zone)
    index = {slot.pk: i for i, slot in enumerate(slots)}
    return {
        s.proposal_id: [slots[t].pk for t in span_indices(days, index[s.slot_id], s.proposal.length)]
        for s in sessions
    }


def rooms_of(event: Event) -> list[Room]:
    """Biggest room first (the model's ordering): the order the console and the exports use."""
    return list(Room.objects.filter(event=event))


def slots_of(event: Event, round_id: int | None = None) -> list[Slot]:
    """The slots of one round: by default the current one (the one the builder fills)."""
    return list(Slot.objects.filter(event=event, round_id=round_id or event.current_round_id))


# --- what the public sees: every round whose schedule is published (contract 5.1) ------------


def published_round_ids(event: Event) -> list[int]:
    """Rounds whose schedule is public: ended ones as they ended, the current one by its flag."""
    ended = Round.objects.filter(event=event, schedule_published=True).exclude(pk=event.current_round_id)
    return [
        *ended.values_list("pk", flat=True),
        *([event.current_round_id] if event.schedule_published else []),
    ]


def schedule_visible(event: Event) -> bool:
    return bool(published_round_ids(event))


def shown_slots_of(event: Event, *, organizer: bool = False) -> list[Slot]:
    """The slots of every published round (the day as the public sees it, exports and now/next
    included); organizers also see the current round's draft."""
    shown = set(published_round_ids(event)) | ({event.current_round_id} if organizer else set())
    return list(Slot.objects.filter(event=event, round_id__in=shown))


def placed_sessions(event: Event, rooms: list[Room], slots: list[Slot]) -> list[ScheduledSession]:
    """Scheduled sessions of published proposals in these slots, by slot in time order, then
    by room order."""
    room_position = {room.pk: position for position, room in enumerate(rooms)}
    slot_position = {slot.pk: position for position, slot in enumerate(slots)}
    sessions = ScheduledSession.objects.filter(
        event=event, proposal__status=ProposalStatus.PUBLISHED, slot_id__in=list(slot_position)
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


def unavailability_of(event: Event) -> dict[str, set[int]]:
    """Host pseudonym -> slot ids they cannot host in."""
    marked: dict[str, set[int]] = {}
    rows = Unavailability.objects.filter(event=event).values_list("attendee__public_id", "slot_id")
    for public_id, slot_id in rows:
        marked.setdefault(public_id, set()).add(slot_id)
    return marked


def schedule_payload(event: Event, *, organizer: bool = True) -> dict:
    """`GET /api/events/<slug>/schedule` and the `schedule` of a websocket snapshot.

    Organizers also get `conflicts` (hard constraints the schedule breaks, after pins or hand
    edits) and `constraints`: per proposal, the slots where placing it would break one, for
    the editor's drag and drop.
    """
    zone = event_zone(event)
    rooms, slots = rooms_of(event), slots_of(event)
    sessions = placed_sessions(event, rooms, slots)
    spans = spans_of(sessions, slots, zone)
    capacity = {room.pk: room.capacity for room in rooms}
    left_out = list(
        Proposal.objects.ranked()
        .filter(event=event, scheduled__isnull=True)
        .values_list("id", "title", "length")
    )
    reasons = dict(LeftOut.objects.filter(event=event).values_list("proposal_id", "reason"))
    payload = {
        "published": event.schedule_published,
        "clash_total": clash_total(slot_of=spans, ballots=ballots_for(spans)) if sessions else 0,
        "rooms": [room_dict(r) for r in rooms],
        "slots": [slot_dict(s, zone) for s in slots],
        "sessions": [
            {
                **session_dict(s, spans),
                "pinned": s.pinned,
                "voters": s.proposal.voters,
                "explanation": s.explanation,
            }
            for s in sessions
        ],
        "over_capacity": [s.proposal_id for s in sessions if s.proposal.voters > capacity[s.room_id]],
        "unscheduled": [
            {"proposal": pid, "reason": reasons.get(pid, NOT_GENERATED)} for pid, _title, _length in left_out
        ],
    }
    payload["rounds"] = rounds_summary(
        event, organizer=organizer, rooms=rooms, current=(slots, sessions, spans, payload["clash_total"])
    )
    if organizer:
        payload.update(_constraints(event, zone, rooms, slots, sessions, spans, left_out))
    return payload


def rounds_summary(event: Event, *, organizer: bool, rooms: list[Room], current: tuple) -> list[dict]:
    """Every started round's schedule, for `rounds` in the schedule: the current one as the
    caller already read it (`current`: slots, sessions, spans, clash total), earlier ones as
    they ended, their clashes counted on their own ballots (`RoundVote`). A round whose
    schedule is not public shows no sessions to the public."""
    zone = event_zone(event)
    public = set(published_round_ids(event))
    summary = []
    for round_ in Round.objects.filter(event=event, started_at__isnull=False):
        shown = organizer or round_.pk in public
        if not shown:
            slots, sessions, spans, clashes = [], [], {}, 0
        elif round_.is_current(event):
            slots, sessions, spans, clashes = current
        else:
            slots = slots_of(event, round_.pk)
            sessions = placed_sessions(event, rooms, slots)
            spans = spans_of(sessions, slots, zone)
            clashes = (
                clash_total(slot_of=spans, ballots=ballots_of_round(event, round_, spans)) if sessions else 0
            )
        summary.append(
            {
                "id": round_.pk,
                "name": round_.name,
                "published": round_.pk in public,
                "clash_total": clashes,
                "slots": [slot_dict(t, zone) for t in slots],
                "sessions": [session_dict(s, spans) for s in sessions],
            }
        )
    return summary


NOT_GENERATED = "Not in the schedule: published after it was generated, or taken out by the organizers."


def _constraints(event, zone, rooms, slots, sessions, spans, left_out) -> dict:
    titles = {s.proposal_id: s.proposal.title for s in sessions} | {pid: t for pid, t, _ in left_out}
    lengths = {s.proposal_id: s.proposal.length for s in sessions} | {pid: n for pid, _, n in left_out}
    hosts = host_pseudonyms(titles)
    marked = unavailability_of(event)
    labels = {slot.pk: slot_label(slot, zone) for slot in slots}
    conflicts = constraint_conflicts(
        spans={s.proposal_id: (s.room_id, spans[s.proposal_id]) for s in sessions},
        lengths=lengths,
        hosts=hosts,
        unavailable=marked,
        titles=titles,
        slot_labels=labels,
        room_names={room.pk: room.name for room in rooms},
    )
    days = slot_days(slots, zone)
    blocked: dict[str, list[dict]] = {}
    for pid in titles:
        mine = set(hosts.get(pid, ()))
        if not mine and lengths[pid] == 1:
            continue
        for start, slot in enumerate(slots):
            span = [slots[t].pk for t in span_indices(days, start, lengths[pid])]
            reason = None
            if len(span) < lengths[pid]:
                reason = f"It needs {lengths[pid]} consecutive slots; the day ends first."
            for host in sorted(mine):
                away = next((t for t in span if t in marked.get(host, ())), None)
                if reason is None and away is not None:
                    reason = f"Host {host} cannot host at {labels[away]}."
            for other, other_span in spans.items():
                shared = sorted(mine & set(hosts.get(other, ())))
                if reason is None and other != pid and shared and set(span) & set(other_span):
                    reason = f"Host {shared[0]} is in '{titles[other]}' then."
            if reason is not None:
                blocked.setdefault(str(pid), []).append({"slot": slot.pk, "reason": reason})
    return {
        "conflicts": [{"proposals": list(c.proposals), "reason": c.reason} for c in conflicts],
        "constraints": blocked,
    }


# What a session's entry says about votes: hidden from the public while counts are hidden.
COUNT_KEYS = ("voters", "explanation")


def visible_schedule(event: Event, *, organizer: bool) -> dict:
    """The schedule as the caller may see it (visibility itself is checked by the caller).

    While the event's counts are hidden from the public (blind or organizers-only tally, not
    revealed), so is anything that tells them: the voters per session, which sessions have
    more voters than seats, and the explanations (they quote ranks, dots and shared voters).
    """
    payload = schedule_payload(event, organizer=organizer)
    if organizer:
        return payload
    if not event.schedule_published:
        # Visible because an earlier round's is published (in `rounds`): this round's draft is not.
        payload.update(clash_total=0, sessions=[], over_capacity=[], unscheduled=[])
    if event.counts_public():
        return payload
    payload.pop("over_capacity")
    payload["unscheduled"] = [
        {"proposal": u["proposal"]} for u in payload["unscheduled"]
    ]  # reasons quote ranks
    payload["sessions"] = [{k: v for k, v in s.items() if k not in COUNT_KEYS} for s in payload["sessions"]]
    return payload


def same_slot_overlaps(slot_of: dict, ballots: Ballots) -> dict[tuple[int, int], tuple[int, int]]:
    """(lower id, higher id) of two sessions sharing a slot -> (shared voters, clash cost).

    `slot_of`: proposal id -> its slot id, or all its slot ids (a long session)."""
    spans = {pid: {v} if isinstance(v, int) else set(v) for pid, v in slot_of.items()}
    overlaps: dict[tuple[int, int], tuple[int, int]] = {}
    for ballot in ballots.values():
        mine = sorted((pid, dots) for pid, dots in ballot.items() if dots > 0 and pid in spans)
        for k, (a, dots_a) in enumerate(mine):
            for b, dots_b in mine[k + 1 :]:
                if spans[a] & spans[b]:
                    voters, cost = overlaps.get((a, b), (0, 0))
                    overlaps[a, b] = (voters + 1, cost + dots_a * dots_b)
    return overlaps


def clash_report(event: Event) -> dict:
    """For the console: per slot, the pairs of sessions in it that share voters, worst first.

    The costs add up to the schedule's clash total (a pair of long sessions sharing two slots
    is listed under the first).
    """
    rooms, slots = rooms_of(event), slots_of(event)
    sessions = placed_sessions(event, rooms, slots)
    spans = spans_of(sessions, slots, event_zone(event))
    overlaps = same_slot_overlaps(spans, ballots_for(spans)) if sessions else {}
    order = {slot.pk: i for i, slot in enumerate(slots)}
    by_slot: dict[int, list[dict]] = {}
    for (a, b), (voters, cost) in overlaps.items():
        first = min(set(spans[a]) & set(spans[b]), key=order.get)
        by_slot.setdefault(first, []).append({"sessions": [a, b], "voters": voters, "cost": cost})
    for pairs in by_slot.values():
        pairs.sort(key=lambda pair: (-pair["cost"], -pair["voters"], pair["sessions"]))
    return {
        "clash_total": sum(cost for _, cost in overlaps.values()),
        "slots": [{"slot": slot.pk, "pairs": by_slot[slot.pk]} for slot in slots if slot.pk in by_slot],
    }
