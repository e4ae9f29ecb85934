"""What the schedule builder works on, and the clash arithmetic shared with the board."""

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from voting.proposals import ranking

# Attendee key -> {session id: dots}.
Ballots = Mapping[Hashable, Mapping[int, int]]
# Host key -> slot ids that host cannot make.
Unavailability = Mapping[Hashable, Collection[int]]

COMPACT, SPREAD = "compact", "spread"


@dataclass(frozen=True)
class SessionInput:
    id: int
    title: str
    dots: int
    voters: int
    pinned_room: int | None = None
    pinned_slot: int | None = None
    hosts: frozenset = frozenset()
    length: int = 1  # consecutive slots
    created_at: datetime = datetime.min.replace(tzinfo=UTC)  # the tie-break among equals


@dataclass(frozen=True)
class RoomInput:
    id: int
    name: str
    capacity: int


@dataclass(frozen=True)
class SlotInput:
    """One time slot; the builder receives slots in chronological order.

    `day` is the slot's calendar day in the event's time zone: a long session only spans
    consecutive slots of the same day.
    """

    id: int
    label: str
    day: Hashable = None


@dataclass(frozen=True)
class Placement:
    session_id: int
    room_id: int
    slot_id: int  # the first slot
    pinned: bool
    explanation: str
    slot_ids: tuple[int, ...] = ()  # every slot it occupies, in order


@dataclass(frozen=True)
class Unscheduled:
    proposal: int
    reason: str


@dataclass(frozen=True)
class ConstraintConflict:
    proposals: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class ScheduleResult:
    """The schedule plus what the organizers need to review it.

    placements: ordered by slot (chronological), then by room in input order.
    clash_total: see `clash_total`.
    over_capacity: scheduled sessions whose voters exceed their room's capacity, by rank.
    unscheduled: sessions that did not get a cell, by rank, each with the reason.
    dropped_pins: sessions whose pin could not be honoured (half pin, unknown room or
        slot, or a cell already pinned by a higher-ranked session), by rank.
    conflicts: hard constraints broken by pinned sessions (the builder breaks none itself).
    slots_used: how many slots, from the first, the unpinned sessions were given.
    """

    placements: tuple[Placement, ...]
    clash_total: int
    over_capacity: tuple[int, ...]
    unscheduled: tuple[Unscheduled, ...]
    dropped_pins: tuple[int, ...]
    conflicts: tuple[ConstraintConflict, ...] = ()
    slots_used: int = 0


def ranked(sessions: Sequence[SessionInput]) -> list[SessionInput]:
    """The ranking every face shows (proposals/ranking.py); among tied sessions the earlier
    proposal goes first, so the order never depends on input order."""
    return ranking.ranked(sessions)


def span_indices(days: Sequence[Hashable], start: int, length: int) -> list[int]:
    """Slot indices a session of `length` starting at index `start` occupies: consecutive
    slots of the same day; shorter than `length` when the day ends first."""
    span = [start]
    while len(span) < length and span[-1] + 1 < len(days) and days[span[-1] + 1] == days[start]:
        span.append(span[-1] + 1)
    return span


def clash_total(*, slot_of: Mapping[int, int | Collection[int]], ballots: Ballots) -> int:
    """Sum over attendees of dots_a * dots_b for each pair of their sessions sharing a slot.

    `slot_of` gives a session's slot id, or all its slot ids for a long session (a pair that
    shares any slot clashes once). Sessions missing from `slot_of` (unscheduled) never clash.
    """
    if any(not isinstance(v, int) for v in slot_of.values()):
        return _clash_total_spans({k: frozenset(_as_slots(v)) for k, v in slot_of.items()}, ballots)
    total = 0
    for ballot in ballots.values():
        per_slot: dict[int, list[int]] = {}
        for session_id, dots in ballot.items():
            if dots > 0 and session_id in slot_of:
                per_slot.setdefault(slot_of[session_id], []).append(dots)
        for dots_list in per_slot.values():
            # Sum of pairwise products without the pair loop.
            total += (sum(dots_list) ** 2 - sum(d * d for d in dots_list)) // 2
    return total


def _as_slots(value: int | Collection[int]) -> Collection[int]:
    return (value,) if isinstance(value, int) else value


def _clash_total_spans(spans: Mapping[int, frozenset[int]], ballots: Ballots) -> int:
    total = 0
    for ballot in ballots.values():
        mine = [(sid, dots) for sid, dots in ballot.items() if dots > 0 and sid in spans]
        for k, (a, dots_a) in enumerate(mine):
            for b, dots_b in mine[k + 1 :]:
                if spans[a] & spans[b]:
                    total += dots_a * dots_b
    return total


def pair_weights(*, session_ids: Collection[int], ballots: Ballots) -> dict[tuple[int, int], int]:
    """Clash cost of running two sessions in the same slot, keyed by (lower id, higher id)."""
    return pair_weights_and_voters(session_ids, ballots)[0]


def pair_weights_and_voters(
    session_ids: Collection[int], ballots: Ballots
) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """Pairwise dot-product weights and shared-voter counts among `session_ids`."""
    wanted = set(session_ids)
    weights: dict[tuple[int, int], int] = {}
    shared: dict[tuple[int, int], int] = {}
    for ballot in ballots.values():
        items = sorted((sid, dots) for sid, dots in ballot.items() if dots > 0 and sid in wanted)
        for k, (a, dots_a) in enumerate(items):
            for b, dots_b in items[k + 1 :]:
                weights[a, b] = weights.get((a, b), 0) + dots_a * dots_b
                shared[a, b] = shared.get((a, b), 0) + 1
    return weights, shared


def constraint_conflicts(
    *,
    spans: Mapping[int, tuple[int, Sequence[int]]],
    lengths: Mapping[int, int],
    hosts: Mapping[int, Collection[Hashable]],
    unavailable: Unavailability,
    titles: Mapping[int, str],
    slot_labels: Mapping[int, str],
    room_names: Mapping[int, str],
) -> list[ConstraintConflict]:
    """Every hard constraint a schedule breaks. `spans`: session id -> (room id, slot ids).

    Used on the builder's answer (only pins can break one) and on a hand-edited schedule.
    """
    conflicts: list[ConstraintConflict] = []
    by_slot: dict[int, list[int]] = {}
    for sid in sorted(spans):
        room, slot_ids = spans[sid]
        if len(slot_ids) < lengths.get(sid, 1):
            conflicts.append(
                ConstraintConflict(
                    (sid,),
                    f"'{titles[sid]}' needs {lengths[sid]} consecutive slots but its day has only "
                    f"{len(slot_ids)} from {slot_labels[slot_ids[0]]}.",
                )
            )
        for slot_id in slot_ids:
            by_slot.setdefault(slot_id, []).append(sid)
            for host in sorted(hosts.get(sid, ()), key=str):
                if slot_id in unavailable.get(host, ()):
                    conflicts.append(
                        ConstraintConflict(
                            (sid,),
                            f"'{titles[sid]}' is at {slot_labels[slot_id]}, when its host {host} cannot host.",
                        )
                    )
    seen: set[tuple[int, int]] = set()
    for slot_id, here in by_slot.items():
        for k, a in enumerate(here):
            for b in here[k + 1 :]:
                if (a, b) in seen:
                    continue
                shared = sorted(set(hosts.get(a, ())) & set(hosts.get(b, ())), key=str)
                same_room = spans[a][0] == spans[b][0]
                if shared or same_room:
                    seen.add((a, b))
                if shared:
                    conflicts.append(
                        ConstraintConflict(
                            (a, b),
                            f"'{titles[a]}' and '{titles[b]}' overlap at {slot_labels[slot_id]} and share "
                            f"host {', '.join(map(str, shared))}.",
                        )
                    )
                if same_room:
                    conflicts.append(
                        ConstraintConflict(
                            (a, b),
                            f"'{titles[a]}' and '{titles[b]}' are both in {room_names[spans[a][0]]} "
                            f"at {slot_labels[slot_id]}.",
                        )
                    )
    return conflicts
