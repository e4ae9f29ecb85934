"""build_schedule: choose, place and explain; pins and rooms."""

from collections.abc import Hashable, Mapping, Sequence

from voting.proposals import ranking
from voting.schedule.solver.explain import Explainer, counted
from voting.schedule.solver.inputs import (
    COMPACT,
    SPREAD,
    Ballots,
    Placement,
    RoomInput,
    ScheduleResult,
    SessionInput,
    SlotInput,
    Unavailability,
    Unscheduled,
    clash_total,
    constraint_conflicts,
    pair_weights_and_voters,
    ranked,
    span_indices,
)
from voting.schedule.solver.search import PROBE, RESTARTS, STEPS_PER_SESSION, arrange


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
    rank_of = {s.id: position for position, s in enumerate(order, start=1)}  # an order, ties broken
    # What sentences quote: the rank number the stage shows, shared by tied sessions.
    numbers = ranking.rank_numbers(order)
    shown_rank = {s.id: ranked_as(n, numbers) for s, n in zip(order, numbers, strict=True)}
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
                reason = f"Needs {s.length} slots in one room; only {counted(cells_left, 'cell')} left."
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
            computed[ids] = pair_weights_and_voters(ids, ballots)[0]
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
        attempt = arrange(free=chosen, seed=seed, effort=PROBE, **common)
        if not attempt.bad:
            full = arrange(free=chosen, seed=seed, effort=(RESTARTS, STEPS_PER_SESSION), **common)
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
            f"{shown_rank[s.id]}: all {counted(all_cells, 'cell')} went to pinned or higher-ranked sessions."
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
    _, shared = pair_weights_and_voters(chosen_ids, ballots)
    explainer = Explainer(
        chosen=chosen_sessions,
        rank_of=rank_of,
        shown_rank=shown_rank,
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


def ranked_as(number: int, numbers: list[int]) -> str:
    """ "Ranked #2", or "Ranked #2 (tied)" when another session shares the number."""
    return f"Ranked #{number}" + (" (tied)" if numbers.count(number) > 1 else "")


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
