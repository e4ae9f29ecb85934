"""Pure-Python schedule builder: top proposals into rooms x slots with few attendee clashes.

Hard constraints, never broken by the builder (pins aside, which are reported instead): no
host in two sessions that overlap in time; no session in a slot one of its hosts cannot
make; a long session holds one room for consecutive slots of one day and nothing else sits
in those cells. When the top proposals cannot all be placed that way, the builder first
opens one more slot (compact filling), then skips sessions down the ranking.
"""

import math
import random
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass

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
    """Dots, then voters, most first; sessions equal on both are tied and the earlier proposal
    (lower id) goes first, so the order never depends on input order."""
    return sorted(sessions, key=lambda s: (-s.dots, -s.voters, s.id))


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
    return _co_votes(session_ids, ballots)[0]


def _co_votes(
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


def build_schedule(
    *,
    sessions: Sequence[SessionInput],
    rooms: Sequence[RoomInput],
    slots: Sequence[SlotInput],
    ballots: Ballots,
    unavailable: Unavailability | None = None,
    fill: str = COMPACT,
    seed: int = 0,
) -> ScheduleResult:
    """Fill rooms x slots with the top proposals, minimising clashes, and explain every placement.

    Pins: a pin needs both a room and a slot that exist. When two pinned sessions would share
    a cell the higher-ranked one keeps it. Every session whose pin was dropped is reported in
    `dropped_pins` and gets first claim, in rank order, on the cells left after the pins,
    since the organizers clearly want it to run; everything else fills the rest by rank.
    Sessions without votes still fill otherwise empty cells. `fill`: COMPACT uses the earliest
    slots that hold the sessions (one more only when a hard constraint forces it); SPREAD may
    use every slot to lower clashes further.
    """
    _require_unique_ids("session", [s.id for s in sessions])
    _require_unique_ids("room", [r.id for r in rooms])
    _require_unique_ids("slot", [t.id for t in slots])
    if fill not in (COMPACT, SPREAD):
        raise ValueError(f"fill must be {COMPACT!r} or {SPREAD!r}")
    unavailable = unavailable or {}

    order = ranked(sessions)
    rank_of = {s.id: position for position, s in enumerate(order, start=1)}
    by_id = {s.id: s for s in order}
    room_by_id = {r.id: r for r in rooms}
    slot_index = {t.id: index for index, t in enumerate(slots)}
    days = [t.day for t in slots]
    labels = {t.id: t.label for t in slots}

    pin_spans, pin_notes = _resolve_pins(order, room_by_id, slot_index, days)
    pinned_ids = set(pin_spans)
    taken_cells = sum(len(span) for _, span in pin_spans.values())
    per_slot_free = [len(rooms) - sum(t in span for _, span in pin_spans.values()) for t in range(len(slots))]

    def blocked_of(s: SessionInput) -> set[int]:
        return {slot_index[t] for h in s.hosts for t in unavailable.get(h, ()) if t in slot_index}

    def why_never(s: SessionInput) -> str | None:
        starts = [t for t in range(len(slots)) if len(span_indices(days, t, s.length)) == s.length]
        if not starts:
            return f"Needs {s.length} consecutive slots of one day; no day has that many."
        blocked = blocked_of(s)
        if all(blocked.intersection(span_indices(days, t, s.length)) for t in starts):
            return "Its hosts cannot host at any slot it could run in."
        return None

    candidates = [s for s in order if s.id in pin_notes] + [
        s for s in order if s.id not in pin_notes and s.id not in pinned_ids
    ]
    left_out: dict[int, str] = {}
    chosen: list[SessionInput] = []
    cells_left = len(rooms) * len(slots) - taken_cells
    pointer = 0

    def take_next() -> None:
        nonlocal pointer, cells_left
        while pointer < len(candidates) and cells_left > 0:
            s = candidates[pointer]
            pointer += 1
            reason = why_never(s)
            if reason is None and s.length > cells_left:
                reason = f"Needs {s.length} slots in one room; only {_count(cells_left, 'cell')} left."
            if reason is not None:
                left_out[s.id] = reason
            else:
                chosen.append(s)
                cells_left -= s.length

    take_next()
    if fill == SPREAD:
        k = len(slots)
    else:
        needed = sum(s.length for s in chosen)
        k = next((n for n in range(len(slots) + 1) if sum(per_slot_free[:n]) >= needed), len(slots))
    pinned = [(by_id[sid], span) for sid, (_, span) in sorted(pin_spans.items())]
    computed: dict[frozenset, dict[tuple[int, int], int]] = {}

    def co_votes(ids: frozenset) -> dict[tuple[int, int], int]:
        if ids not in computed:  # the probe and the full search weigh the same sessions
            computed.clear()
            computed[ids] = _co_votes(ids, ballots)[0]
        return computed[ids]

    while True:
        # A short search first: when the constraints cannot be met it says so cheaply, and
        # only an arrangement that can be met gets the full search for fewer clashes.
        common = {
            "pinned": pinned,
            "k": k,
            "days": days,
            "n_rooms": len(rooms),
            "blocked_of": blocked_of,
            "co_votes": co_votes,
        }
        attempt = _arrange(free=chosen, seed=seed, effort=_PROBE, **common)
        if not attempt.bad:
            full = _arrange(free=chosen, seed=seed, effort=(_RESTARTS, _STEPS_PER_SESSION), **common)
            if not full.bad:
                attempt = full
        if not attempt.bad:
            room_of, no_room = _assign_rooms(attempt.spans, pin_spans, rooms, by_id, rank_of)
            if not no_room:
                break
            attempt.bad.update(dict.fromkeys(no_room, ("room", None)))
        if k < len(slots):
            k += 1
            continue
        victim = max((by_id[sid] for sid in attempt.bad), key=lambda s: rank_of[s.id])
        chosen.remove(victim)
        cells_left += victim.length
        left_out[victim.id] = _skip_reason(attempt.bad[victim.id], by_id, len(slots))
        take_next()

    all_cells = len(rooms) * len(slots)
    for s in candidates[pointer:]:
        left_out[s.id] = (
            f"Ranked #{rank_of[s.id]}: all {_count(all_cells, 'cell')} went to pinned or higher-ranked sessions."
            if all_cells
            else "There are no rooms or slots to put it in."
        )
    chosen_ids = pinned_ids | {s.id for s in chosen}
    cut_ties = _cut_line_ties(order, chosen_ids, pinned_ids, left_out)
    for sid, other in cut_ties.items():
        if sid not in chosen_ids:
            left_out[sid] = (
                f"Tied with '{by_id[other].title}' on dots and voters at the cut line; "
                "the earlier proposal goes first."
            )
    spans = {sid: [slots[t].id for t in span] for sid, span in attempt.spans.items()}
    spans.update({sid: [slots[t].id for t in span] for sid, (_, span) in pin_spans.items()})
    room_of.update({sid: room for sid, (room, _) in pin_spans.items()})
    conflicts = constraint_conflicts(
        spans={sid: (room_of[sid], spans[sid]) for sid in pinned_ids},
        lengths={sid: by_id[sid].length for sid in pinned_ids},
        hosts={sid: by_id[sid].hosts for sid in pinned_ids},
        unavailable=unavailable,
        titles={sid: s.title for sid, s in by_id.items()},
        slot_labels=labels,
        room_names={r.id: r.name for r in rooms},
    )
    unscheduled = tuple(Unscheduled(s.id, left_out[s.id]) for s in order if s.id not in chosen_ids)
    dropped = tuple(s.id for s in order if s.id in pin_notes)
    if not chosen_ids:
        return ScheduleResult((), 0, (), unscheduled, dropped, tuple(conflicts), 0)

    chosen_sessions = [s for s in order if s.id in chosen_ids]
    _, shared = _co_votes(chosen_ids, ballots)
    explainer = _Explainer(
        chosen=chosen_sessions,
        rank_of=rank_of,
        spans={sid: tuple(v) for sid, v in spans.items()},
        room_of=room_of,
        room_by_id=room_by_id,
        slot_by_id={t.id: t for t in slots},
        shared=shared,
        pinned_ids=pinned_ids,
        pin_notes=pin_notes,
        cut_ties={sid: other for sid, other in cut_ties.items() if sid in chosen_ids},
        titles={sid: s.title for sid, s in by_id.items()},
    )
    room_position = {r.id: position for position, r in enumerate(rooms)}
    placements = tuple(
        sorted(
            (
                Placement(
                    session_id=s.id,
                    room_id=room_of[s.id],
                    slot_id=spans[s.id][0],
                    pinned=s.id in pinned_ids,
                    explanation=explainer.explain(s),
                    slot_ids=tuple(spans[s.id]),
                )
                for s in chosen_sessions
            ),
            key=lambda p: (slot_index[p.slot_id], room_position[p.room_id]),
        )
    )
    over = tuple(s.id for s in chosen_sessions if s.voters > room_by_id[room_of[s.id]].capacity)
    return ScheduleResult(
        placements=placements,
        clash_total=clash_total(slot_of={sid: tuple(v) for sid, v in spans.items()}, ballots=ballots),
        over_capacity=over,
        unscheduled=unscheduled,
        dropped_pins=dropped,
        conflicts=tuple(conflicts),
        slots_used=max(
            (slot_index[t] + 1 for sid, v in spans.items() if sid not in pinned_ids for t in v), default=0
        ),
    )


def _cut_line_ties(
    order: list[SessionInput], chosen_ids: set[int], pinned_ids: set[int], left_out: Mapping[int, str]
) -> dict[int, int]:
    """Sessions on either side of the cut line that are tied on dots and voters -> the one
    across the line (the lowest-ranked scheduled one, the highest-ranked one left out)."""
    ties: dict[int, int] = {}
    by_key: dict[tuple[int, int], list[SessionInput]] = {}
    for s in order:
        if s.id not in pinned_ids:
            by_key.setdefault((s.dots, s.voters), []).append(s)
    for group in by_key.values():
        inside = [s for s in group if s.id in chosen_ids]
        outside = [s for s in group if s.id not in chosen_ids and left_out.get(s.id, "").startswith("Ranked")]
        if inside and outside:
            ties[inside[-1].id] = outside[0].id
            ties[outside[0].id] = inside[-1].id
    return ties


def _skip_reason(kind: tuple[str, int | None], by_id: Mapping[int, SessionInput], n_slots: int) -> str:
    what, other = kind
    if what == "host":
        return (
            f"Skipped: it shares a host with '{by_id[other].title}' and no arrangement of the "
            f"{n_slots} slots kept that host in one place at a time."
        )
    if what == "unavailable":
        return "Skipped: its hosts cannot host at any slot left free for it."
    return "Skipped: no room was free for all its consecutive slots."


def _resolve_pins(
    order: list[SessionInput],
    room_by_id: Mapping[int, RoomInput],
    slot_index: Mapping[int, int],
    days: Sequence[Hashable],
) -> tuple[dict[int, tuple[int, list[int]]], dict[int, str]]:
    """Honoured pins: session id -> (room id, slot indices); why each other pin was dropped."""
    holder_of: dict[tuple[int, int], SessionInput] = {}
    pin_spans: dict[int, tuple[int, list[int]]] = {}
    pin_notes: dict[int, str] = {}
    for s in order:
        if s.pinned_room is None and s.pinned_slot is None:
            continue
        if s.pinned_room is None or s.pinned_slot is None:
            pin_notes[s.id] = "Its pin names only a room or only a slot, so it was placed freely."
            continue
        if s.pinned_room not in room_by_id or s.pinned_slot not in slot_index:
            pin_notes[s.id] = (
                "It was pinned to a room or slot that is not in this schedule, so it was placed freely."
            )
            continue
        span = span_indices(days, slot_index[s.pinned_slot], s.length)
        holders = [holder_of[s.pinned_room, t] for t in span if (s.pinned_room, t) in holder_of]
        if holders:
            pin_notes[s.id] = (
                f"It was pinned to the same room and slot as higher-ranked '{holders[0].title}', "
                "so it was placed freely."
            )
            continue
        pin_spans[s.id] = (s.pinned_room, span)
        for t in span:
            holder_of[s.pinned_room, t] = s
    return pin_spans, pin_notes


def _assign_rooms(
    spans: Mapping[int, list[int]],
    pin_spans: Mapping[int, tuple[int, list[int]]],
    rooms: Sequence[RoomInput],
    by_id: Mapping[int, SessionInput],
    rank_of: Mapping[int, int],
) -> tuple[dict[int, int], list[int]]:
    """Room id per unpinned session (most voters to the biggest room free for all its slots),
    and the sessions no room could take.

    Most voters first can leave a long session without one room free for both its slots;
    then long sessions go first, by start (interval colouring, which always succeeds without
    pins), and the rest by voters.
    """
    position = {r.id: index for index, r in enumerate(rooms)}
    by_size = sorted(rooms, key=lambda r: (-r.capacity, position[r.id]))

    def attempt(order: list[int]) -> tuple[dict[int, int], list[int]]:
        occupied: dict[int, set[int]] = {}
        for room, span in pin_spans.values():
            for t in span:
                occupied.setdefault(t, set()).add(room)
        room_of: dict[int, int] = {}
        failed = []
        for sid in order:
            room = next(
                (r for r in by_size if all(r.id not in occupied.get(t, ()) for t in spans[sid])), None
            )
            if room is None:
                failed.append(sid)
                continue
            room_of[sid] = room.id
            for t in spans[sid]:
                occupied.setdefault(t, set()).add(room.id)
        return room_of, failed

    by_voters = sorted(spans, key=lambda sid: (-by_id[sid].voters, rank_of[sid]))
    room_of, failed = attempt(by_voters)
    if failed:
        longs_first = sorted(
            spans, key=lambda sid: (len(spans[sid]) == 1, spans[sid][0], -by_id[sid].voters, rank_of[sid])
        )
        second = attempt(longs_first)
        if len(second[1]) < len(failed):
            room_of, failed = second
    return room_of, failed


def _require_unique_ids(kind: str, ids: list[int]) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate {kind} ids")


@dataclass
class _Arrangement:
    spans: dict[int, list[int]]  # unpinned session id -> slot indices
    bad: dict[int, tuple[str, int | None]]  # session id -> broken constraint (kind, other session)


def _arrange(
    *,
    pinned: list[tuple[SessionInput, list[int]]],
    free: list[SessionInput],
    k: int,
    days: Sequence[Hashable],
    n_rooms: int,
    blocked_of,
    seed: int,
    effort: tuple[int, int],
    co_votes,
) -> _Arrangement:
    """Slots for the free sessions within the first `k` slots, around the pinned ones.

    Clash weights plus a penalty larger than every clash together for each broken hard
    constraint, so the search never trades one for fewer clashes; what is still broken at
    the end is reported in `bad` (the caller opens a slot or skips a session).
    """
    units = [s for s, _ in pinned] + list(free)
    n, n_slots = len(units), len(days)
    index_of = {s.id: i for i, s in enumerate(units)}
    weights = co_votes(frozenset(index_of))
    rows = [[0] * n for _ in range(n)]
    for (a, b), w in weights.items():
        rows[index_of[a]][index_of[b]] = w
        rows[index_of[b]][index_of[a]] = w
    positive = [w for w in weights.values() if w > 0]
    mean_weight = sum(positive) / len(positive) if positive else 0.0
    big = (sum(weights.values()) + 1) * max((s.length for s in units), default=1) * 2
    hard_of: list[list[int]] = [[] for _ in range(n)]
    for i, a in enumerate(units):
        if not a.hosts:
            continue
        for j in range(i + 1, n):
            if a.hosts & units[j].hosts:
                rows[i][j] += big
                rows[j][i] += big
                hard_of[i].append(j)
                hard_of[j].append(i)
    block = []
    for s in units:
        blocked = blocked_of(s)
        block.append([big if t in blocked else 0 for t in range(n_slots)])
    options: list[dict[int, tuple[int, ...]]] = []
    fixed: list[int | None] = []
    for _, span in pinned:
        options.append({span[0]: tuple(span)})
        fixed.append(span[0])
    for s in free:
        starts = {}
        for t in range(k):
            span = span_indices(days, t, s.length)
            if len(span) == s.length and span[-1] < k:
                starts[t] = tuple(span)
        options.append(starts)
        fixed.append(None)

    rng = random.Random(seed)
    runs = []
    restarts, steps_per_session = effort
    for _ in range(restarts):
        state = _SlotState(rows, block, options, fixed, n_slots, n_rooms, k)
        state.greedy_fill(rng, hard_of)
        if state.unplaced:
            return _Arrangement({}, {units[i].id: ("room", None) for i in state.unplaced})
        state.anneal(rng, steps_per_session * n, mean_weight)
        runs.append((state.best_cost, state.best_start))
    _, best = min(runs, key=lambda run: run[0])  # earliest run wins ties
    state = _SlotState(rows, block, options, fixed, n_slots, n_rooms, k)
    state.load(best)
    state.descend()
    spans = {units[i].id: list(options[i][state.start[i]]) for i in state.free}
    bad: dict[int, tuple[str, int | None]] = {}
    for i in state.free:
        span = set(options[i][state.start[i]])
        if any(block[i][t] for t in span):
            bad[units[i].id] = ("unavailable", None)
        for j in hard_of[i]:
            if span.intersection(options[j][state.start[j]]):
                bad[units[i].id] = ("host", units[j].id)
    return _Arrangement(spans, bad)


# Simulated-annealing proposals per session per restart; sized so that 100 sessions with
# 5,000 ballots take about half a second in CPython while small instances reach the optimum.
_STEPS_PER_SESSION = 2000
_RESTARTS = 3
_PROBE = (1, 300)  # restarts, steps per session: enough to meet the hard constraints when they can be


class _SlotState:
    """Start slot per session plus, per slot, each session's total weight to that slot's members.

    A session of one slot moves and swaps in O(1) evaluation; a long session shifts to
    another start, moving a single session out of each slot it newly fills into a slot it
    leaves, evaluated in O(its length).
    """

    def __init__(
        self,
        weights: list[list[int]],
        block: list[list[int]],
        options: list[dict[int, tuple[int, ...]]],
        fixed: list[int | None],
        n_slots: int,
        per_slot: int,
        k: int,
    ) -> None:
        self.weights = weights
        self.block = block
        self.options = options
        self.n_slots = n_slots
        self.per_slot = per_slot
        self.k = k
        n = len(weights)
        self.free = [i for i in range(n) if fixed[i] is None]
        self.is_single = [
            fixed[i] is None and all(len(sp) == 1 for sp in options[i].values()) for i in range(n)
        ]
        self.singles = [i for i in self.free if self.is_single[i]]
        self.longs = [i for i in self.free if not self.is_single[i]]
        self.multi = [i for i in range(n) if any(len(sp) > 1 for sp in options[i].values())]
        self.span_sets = [{start: frozenset(span) for start, span in options[i].items()} for i in range(n)]
        self.max_length = max((len(span) for spans in options for span in spans.values()), default=1)
        self.start = [-1] * n
        self.count = [0] * n_slots
        self.members: list[list[int]] = [[] for _ in range(n_slots)]  # free single-slot sessions
        self.to_slot = [[0] * n for _ in range(n_slots)]  # to_slot[t][i]
        self.cost = 0
        self.best_start: list[int] = []
        self.best_cost = 0
        self.unplaced: list[int] = []
        for i, t in enumerate(fixed):
            if t is not None:
                self._add(i, t)

    def cost_at(self, i: int, s: int) -> int:
        block = self.block[i]
        span = self.options[i][s]
        if len(span) == 1:
            t = span[0]
            return self.to_slot[t][i] + block[t]
        cost = sum(self.to_slot[t][i] + block[t] for t in span)
        # Two long sessions sharing several slots clash once, not once per shared slot.
        mine = self.span_sets[i][s]
        reach = self.max_length - 2  # spans starting further apart share at most one slot
        for j in self.multi:
            start = self.start[j]
            if j != i and start >= 0 and abs(start - s) <= reach:
                shared = len(mine & self.span_sets[j][start])
                if shared > 1:
                    cost -= self.weights[i][j] * (shared - 1)
        return cost

    def _add(self, i: int, s: int) -> None:
        self.cost += self.cost_at(i, s)
        row = self.weights[i]
        for t in self.options[i][s]:
            self.to_slot[t] = [x + w for x, w in zip(self.to_slot[t], row, strict=True)]
            self.count[t] += 1
        if self.is_single[i]:
            self.members[s].append(i)
        self.start[i] = s

    def _remove(self, i: int) -> None:
        s = self.start[i]
        row = self.weights[i]
        for t in self.options[i][s]:
            self.to_slot[t] = [x - w for x, w in zip(self.to_slot[t], row, strict=True)]
            self.count[t] -= 1
        self.cost -= self.cost_at(i, s)
        if self.is_single[i]:
            self.members[s].remove(i)
        self.start[i] = -1

    def load(self, start: list[int]) -> None:
        for i in self.free:
            self._add(i, start[i])

    def greedy_fill(self, rng: random.Random, hard_of: list[list[int]]) -> None:
        # Long sessions first (they need room in several slots), then the most constrained,
        # then the heaviest, each into the open start where it costs least; random
        # tie-breaks make restarts differ.
        degree = [sum(w for w in row if w) for row in self.weights]
        keys = {i: rng.random() for i in self.free}
        order = sorted(
            self.free,
            key=lambda i: (
                self.is_single[i],
                -len(hard_of[i]),
                -sum(map(bool, self.block[i])),
                -degree[i],
                keys[i],
            ),
        )
        for i in order:
            fits = [
                s for s, span in self.options[i].items() if all(self.count[t] < self.per_slot for t in span)
            ]
            if not fits:
                self.unplaced.append(i)
                continue
            s = min(fits, key=lambda s: (self.cost_at(i, s), self.count[s], rng.random()))
            self._add(i, s)
        self.best_start, self.best_cost = list(self.start), self.cost

    def _move(self, i: int, a: int, b: int) -> None:
        row = self.weights[i]
        self.to_slot[a] = [x - w for x, w in zip(self.to_slot[a], row, strict=True)]
        self.to_slot[b] = [x + w for x, w in zip(self.to_slot[b], row, strict=True)]
        self.members[a].remove(i)
        self.members[b].append(i)
        self.count[a] -= 1
        self.count[b] += 1
        self.start[i] = b

    def _swap(self, i: int, j: int, a: int, b: int) -> None:
        diff = [wi - wj for wi, wj in zip(self.weights[i], self.weights[j], strict=True)]
        self.to_slot[a] = [x - d for x, d in zip(self.to_slot[a], diff, strict=True)]
        self.to_slot[b] = [x + d for x, d in zip(self.to_slot[b], diff, strict=True)]
        members_a, members_b = self.members[a], self.members[b]
        members_a[members_a.index(i)] = j
        members_b[members_b.index(j)] = i
        self.start[i], self.start[j] = b, a

    def _shift_plan(self, i: int, s_b: int, pick) -> list[tuple[int, int, int]] | None:
        """To move long session i to start s_b: which single session leaves each newly filled
        full slot, and for which slot i frees: [(j, from, to)]; None when one cannot."""
        old, new = self.options[i][self.start[i]], self.options[i][s_b]
        gained = [t for t in new if t not in old]
        freed = [t for t in old if t not in new]
        plan = []
        for t, destination in zip(gained, freed, strict=True):
            if self.count[t] >= self.per_slot:
                if not self.members[t]:
                    return None
                plan.append((pick(self.members[t]), t, destination))
        return plan

    def _shift_delta(self, i: int, s_b: int, plan: list[tuple[int, int, int]]) -> int:
        """The cost change of `_shift`, without changing anything: the evicted sessions leave
        slots i newly covers for slots it leaves, so they never meet each other or i."""
        weights, to_slot, block = self.weights[i], self.to_slot, self.block
        delta = self.cost_at(i, s_b) - self.cost_at(i, self.start[i])
        for j, t, destination in plan:
            delta += to_slot[destination][j] - weights[j] + block[j][destination]
            delta -= to_slot[t][j] + block[j][t] + weights[j]
        return delta

    def _shift(self, i: int, s_b: int, plan: list[tuple[int, int, int]]) -> None:
        """Move long session i to start s_b along `plan`."""
        self._remove(i)
        for j, _, destination in plan:
            self._remove(j)
            self._add(j, destination)
        self._add(i, s_b)

    def _cheapest_to_evict(self, members: list[int]) -> int:
        return min(members, key=lambda j: (self.to_slot[self.start[j]][j], j))

    def anneal(self, rng: random.Random, steps: int, mean_weight: float) -> None:
        if not self.free or self.k < 2 or mean_weight <= 0:
            return
        singles, start, count, members = self.singles, self.start, self.count, self.members
        weights, to_slot, per_slot, block = self.weights, self.to_slot, self.per_slot, self.block
        longs = self.longs
        # Start at half a typical pair weight; end where a +1 change (weights are whole dots)
        # is accepted ~4% of the time. Tuned on the benchmark instances.
        temp = 0.5 * mean_weight
        cooling = (0.3 / temp) ** (1.0 / steps)
        rand = rng.random
        n_singles, last = len(singles), self.k - 1
        long_share = len(longs) / len(self.free)
        for _ in range(steps):
            temp *= cooling
            if longs and rand() < long_share:
                i = longs[int(rand() * len(longs))]
                starts = [s for s in self.options[i] if s != start[i]]
                if not starts:
                    continue
                s_b = starts[int(rand() * len(starts))]
                plan = self._shift_plan(i, s_b, lambda m: m[int(rand() * len(m))])
                if plan is None:
                    continue
                delta = self._shift_delta(i, s_b, plan)
                if delta > 0 and rand() >= math.exp(-delta / temp):
                    continue
                self._shift(i, s_b, plan)
                if self.cost < self.best_cost:
                    self.best_cost, self.best_start = self.cost, list(start)
                continue
            if not n_singles:
                continue
            i = singles[int(rand() * n_singles)]
            a = start[i]
            b = int(rand() * last)
            if b >= a:
                b += 1
            row_a, row_b = to_slot[a], to_slot[b]
            if count[b] < per_slot:
                j = -1
                delta = row_b[i] - row_a[i] + block[i][b] - block[i][a]
            else:
                others = members[b]
                if not others:
                    continue
                j = others[int(rand() * len(others))]
                delta = (
                    row_b[i]
                    - row_a[i]
                    + row_a[j]
                    - row_b[j]
                    - 2 * weights[i][j]
                    + block[i][b]
                    - block[i][a]
                    + block[j][a]
                    - block[j][b]
                )
            if delta > 0 and rand() >= math.exp(-delta / temp):
                continue
            if j < 0:
                self._move(i, a, b)
            else:
                self._swap(i, j, a, b)
            self.cost += delta
            if self.cost < self.best_cost:
                self.best_cost, self.best_start = self.cost, list(start)

    def descend(self) -> None:
        """Apply improving moves, swaps and shifts until none is left."""
        improved = True
        block = self.block
        while improved:
            improved = False
            for i in self.singles:
                a = self.start[i]
                for b in range(self.k):
                    if b == a:
                        continue
                    if self.count[b] < self.per_slot:
                        delta = self.to_slot[b][i] - self.to_slot[a][i] + block[i][b] - block[i][a]
                        if delta < 0:
                            self._move(i, a, b)
                            self.cost += delta
                            improved = True
                            break
                    for j in self.members[b]:
                        delta = (
                            self.to_slot[b][i]
                            - self.to_slot[a][i]
                            + self.to_slot[a][j]
                            - self.to_slot[b][j]
                            - 2 * self.weights[i][j]
                            + block[i][b]
                            - block[i][a]
                            + block[j][a]
                            - block[j][b]
                        )
                        if delta < 0:
                            self._swap(i, j, a, b)
                            self.cost += delta
                            improved = True
                            break
                    if self.start[i] != a:
                        break
            for i in self.longs:
                for s in list(self.options[i]):
                    if s == self.start[i]:
                        continue
                    plan = self._shift_plan(i, s, self._cheapest_to_evict)
                    if plan is not None and self._shift_delta(i, s, plan) < 0:
                        self._shift(i, s, plan)
                        improved = True


class _Explainer:
    """Turns a finished schedule into one plain-text paragraph per session."""

    def __init__(
        self,
        *,
        chosen: list[SessionInput],
        rank_of: dict[int, int],
        spans: dict[int, tuple[int, ...]],
        room_of: dict[int, int],
        room_by_id: dict[int, RoomInput],
        slot_by_id: dict[int, SlotInput],
        shared: dict[tuple[int, int], int],
        pinned_ids: set[int],
        pin_notes: dict[int, str],
        cut_ties: dict[int, int],
        titles: dict[int, str],
    ) -> None:
        self.titles = titles
        self.rank_of = rank_of
        self.spans = spans
        self.room_of = room_of
        self.room_by_id = room_by_id
        self.slot_by_id = slot_by_id
        self.pinned_ids = pinned_ids
        self.pin_notes = pin_notes
        self.cut_ties = cut_ties
        self.by_id = {s.id: s for s in chosen}
        self.pinned_rooms: dict[int, set[int]] = {}
        for sid in pinned_ids:
            for slot_id in spans[sid]:
                self.pinned_rooms.setdefault(slot_id, set()).add(room_of[sid])
        self.partners: dict[int, list[tuple[int, int]]] = {s.id: [] for s in chosen}
        for (a, b), count in shared.items():
            self.partners[a].append((count, b))
            self.partners[b].append((count, a))
        for partner_list in self.partners.values():
            partner_list.sort(key=lambda item: (-item[0], rank_of[item[1]]))

    def _together(self, a: int, b: int) -> bool:
        return bool(set(self.spans[a]) & set(self.spans[b]))

    def explain(self, s: SessionInput) -> str:
        room = self.room_by_id[self.room_of[s.id]]
        span = self.spans[s.id]
        parts = []
        if s.id in self.pinned_ids:
            slot = self.slot_by_id[span[0]]
            parts.append(f"Pinned by the organizers to {room.name} at {slot.label}.")
        parts.append(f"Ranked #{self.rank_of[s.id]} with {_count(s.dots, 'dot')}.")
        if s.id in self.cut_ties:
            other = self.cut_ties[s.id]
            parts.append(
                f"Tied with '{self.titles[other]}' on dots and voters at the cut line; "
                "the earlier proposal goes first."
            )
        if s.id in self.pin_notes:
            parts.append(self.pin_notes[s.id])
        if len(span) > 1:
            first, last = self.slot_by_id[span[0]].label, self.slot_by_id[span[-1]].label
            parts.append(f"Runs {len(span)} consecutive slots ({first} to {last}) in one room.")
        cohosted = [
            o
            for o in self.by_id.values()
            if o.id != s.id and s.hosts & o.hosts and not self._together(s.id, o.id)
        ]
        if cohosted:
            parts.append(f"Shares a host with '{cohosted[0].title}', so they run at different times.")
        parts.extend(self._clash_sentences(s))
        parts.append(self._room_sentence(s, room))
        return " ".join(parts)

    def _clash_sentences(self, s: SessionInput) -> list[str]:
        partners = self.partners[s.id]
        if not partners:
            if s.voters == 0 and s.dots == 0:
                if s.id in self.pinned_ids:
                    return ["Nobody has voted for it yet."]
                return ["Nobody has voted for it yet, so it simply fills a free cell."]
            return ["None of its voters picked another scheduled session, so it cannot clash."]
        sentences = []
        apart = next((p for p in partners if not self._together(s.id, p[1])), None)
        together = [p for p in partners if self._together(s.id, p[1])]
        if apart is not None:
            count, other = apart
            sentences.append(
                f"Shares {_count(count, 'voter')} with '{self.by_id[other].title}', "
                "so they run at different times."
            )
        if together:
            count, other = together[0]
            verb = "Still shares" if apart is not None else "Shares"
            overlap = f"{verb} {_count(count, 'voter')} with '{self.by_id[other].title}'"
            if len(together) > 1:
                overlap += f" and overlaps with {_count(len(together) - 1, 'other session')}"
            if s.id in self.pinned_ids and other in self.pinned_ids:
                sentences.append(f"{overlap} in the same slot; both are pinned there.")
            else:
                sentences.append(
                    f"{overlap} in the same slot; no single move or swap of sessions "
                    "would lower the total clashes."
                )
        return sentences

    def _room_sentence(self, s: SessionInput, room: RoomInput) -> str:
        figures = f"({_count(s.voters, 'voter')}, capacity {room.capacity})"
        if s.id in self.pinned_ids:
            sentence = f"Room fixed by the pin {figures}."
        else:
            bigger = [r for r in self.room_by_id.values() if r.capacity > room.capacity]
            if not bigger:
                sentence = f"Largest room for its slot {figures}."
            else:
                sentence = f"{_ordinal(len(bigger) + 1)}-largest room for its slot {figures}"
                held: set[int] = set()
                for slot_id in self.spans[s.id]:
                    held |= self.pinned_rooms.get(slot_id, set())
                pinned_bigger = sum(1 for r in bigger if r.id in held)
                if pinned_bigger == len(bigger) == 1:
                    sentence += "; the bigger room is pinned to another session"
                elif pinned_bigger == len(bigger):
                    sentence += "; the bigger rooms are pinned to other sessions"
                elif pinned_bigger:
                    verb = "is" if pinned_bigger == 1 else "are"
                    sentence += (
                        f"; {pinned_bigger} of the {len(bigger)} bigger rooms {verb} pinned to other sessions"
                    )
                sentence += "."
        if s.voters > room.capacity:
            sentence += f" Over capacity by {_count(s.voters - room.capacity, 'voter')}."
        return sentence


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _ordinal(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"
