"""The builder's hard constraints (contract 5.1): hosts, availability, long sessions, filling."""

import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voting.schedule.solver.build import build_schedule
from voting.schedule.solver.inputs import (
    COMPACT,
    SPREAD,
    ConstraintConflict,
    RoomInput,
    SessionInput,
    SlotInput,
    clash_total,
    constraint_conflicts,
    span_indices,
)

HALL = RoomInput(id=10, name="Hall", capacity=50)
NOOK = RoomInput(id=11, name="Nook", capacity=10)
DAY1 = [SlotInput(id=20 + t, label=f"D1 {9 + t}:00", day=1) for t in range(3)]
DAY2 = [SlotInput(id=30 + t, label=f"D2 {9 + t}:00", day=2) for t in range(3)]


def talk(sid: int, dots: int, *hosts: str, length: int = 1, **pins: int) -> SessionInput:
    return SessionInput(
        id=sid, title=f"Talk {sid}", dots=dots, voters=dots, hosts=frozenset(hosts), length=length, **pins
    )


def placed(result) -> dict[int, tuple[int, tuple[int, ...]]]:
    return {p.session_id: (p.room_id, p.slot_ids) for p in result.placements}


def test_a_host_with_two_winning_sessions_is_never_in_two_rooms_at_once() -> None:
    # Disjoint voters: a pure clash minimiser would happily put them side by side.
    ballots = {f"v{i}": {1: 1} for i in range(9)} | {f"w{i}": {2: 1} for i in range(8)}

    result = build_schedule(
        sessions=[talk(1, 9, "ana"), talk(2, 8, "ana")], rooms=[HALL, NOOK], slots=DAY1, ballots=ballots
    )

    slots = placed(result)
    assert set(slots[1][1]).isdisjoint(slots[2][1])
    assert result.conflicts == ()
    assert "Shares a host with 'Talk 2', so they run at different times." in result.placements[0].explanation


def test_no_session_lands_in_a_slot_its_cohost_cannot_make() -> None:
    result = build_schedule(
        sessions=[talk(1, 9, "ana", "ben"), talk(2, 8, "cy")],
        rooms=[HALL],
        slots=DAY1[:2],
        ballots={},
        unavailable={"ben": [20]},
    )

    assert placed(result) == {1: (10, (21,)), 2: (10, (20,))}


def test_compact_filling_uses_the_earliest_slots_and_the_top_session_the_biggest_room() -> None:
    sessions = [talk(sid, 20 - sid) for sid in range(1, 5)]

    result = build_schedule(sessions=sessions, rooms=[NOOK, HALL], slots=DAY1 + DAY2, ballots={})

    assert sorted(slot for _, slots in placed(result).values() for slot in slots) == [20, 20, 21, 21]
    assert result.slots_used == 2
    assert placed(result)[1][0] == HALL.id


def test_spread_filling_may_use_every_slot_to_avoid_clashes() -> None:
    ballots = {f"v{i}": {1: 1, 2: 1, 3: 1} for i in range(5)}
    sessions = [talk(1, 5), talk(2, 5), talk(3, 5)]

    compact = build_schedule(sessions=sessions, rooms=[HALL, NOOK], slots=DAY1, ballots=ballots)
    spread = build_schedule(sessions=sessions, rooms=[HALL, NOOK], slots=DAY1, ballots=ballots, fill=SPREAD)

    assert (compact.slots_used, compact.clash_total) == (2, 5)
    assert (spread.slots_used, spread.clash_total) == (3, 0)


def test_compact_filling_opens_one_more_slot_when_a_host_forces_it() -> None:
    sessions = [talk(1, 9, "ana"), talk(2, 8, "ana")]

    result = build_schedule(sessions=sessions, rooms=[HALL, NOOK], slots=DAY1, ballots={})

    assert result.slots_used == 2
    assert [u.proposal for u in result.unscheduled] == []


def test_when_constraints_cannot_be_met_the_next_session_down_is_skipped() -> None:
    # One slot: ana cannot host both, so her lower-ranked talk is skipped and #3 runs instead.
    sessions = [talk(1, 9, "ana"), talk(2, 8, "ana"), talk(3, 7, "ben")]

    result = build_schedule(sessions=sessions, rooms=[HALL, NOOK], slots=DAY1[:1], ballots={})

    assert sorted(placed(result)) == [1, 3]
    assert [(u.proposal, u.reason) for u in result.unscheduled] == [
        (
            2,
            "Skipped: it shares a host with 'Talk 1' and no arrangement of the 1 slots kept that host "
            "in one place at a time.",
        )
    ]


def test_a_long_session_holds_one_room_for_consecutive_slots_of_one_day() -> None:
    sessions = [talk(1, 9, length=2), talk(2, 8), talk(3, 7), talk(4, 6)]
    slots = [DAY1[2], *DAY2[:1]] + [SlotInput(id=40, label="D3 9:00", day=3)]

    result = build_schedule(sessions=sessions, rooms=[HALL], slots=DAY1[:2] + slots, ballots={})

    room, span = placed(result)[1]
    assert span in ((20, 21), (21, 22))
    cells = [(r, s) for r, spans in placed(result).values() for s in spans]
    assert len(cells) == len(set(cells)) == 5
    assert "Runs 2 consecutive slots" in next(p for p in result.placements if p.session_id == 1).explanation


def test_a_long_session_no_day_can_hold_is_left_out_with_the_reason() -> None:
    result = build_schedule(
        sessions=[talk(1, 9, length=3), talk(2, 1)], rooms=[HALL], slots=DAY1[:2] + DAY2[:1], ballots={}
    )

    assert [(u.proposal, u.reason) for u in result.unscheduled] == [
        (1, "Needs 3 consecutive slots of one day; no day has that many.")
    ]


def test_pins_are_honoured_against_a_constraint_and_each_breach_is_reported() -> None:
    sessions = [
        talk(1, 9, "ana", pinned_room=10, pinned_slot=20),
        talk(2, 8, "ana", pinned_room=11, pinned_slot=20),
    ]

    result = build_schedule(
        sessions=sessions, rooms=[HALL, NOOK], slots=DAY1, ballots={}, unavailable={"ana": [20]}
    )

    assert placed(result) == {1: (10, (20,)), 2: (11, (20,))}
    assert result.conflicts == (
        ConstraintConflict((1,), "'Talk 1' is at D1 9:00, when its host ana cannot host."),
        ConstraintConflict((2,), "'Talk 2' is at D1 9:00, when its host ana cannot host."),
        ConstraintConflict((1, 2), "'Talk 1' and 'Talk 2' overlap at D1 9:00 and share host ana."),
    )


def test_the_cut_line_between_tied_sessions_takes_the_earlier_proposal_and_says_so() -> None:
    result = build_schedule(
        sessions=[talk(7, 3), talk(5, 3), talk(1, 9)], rooms=[HALL], slots=DAY1[:2], ballots={}
    )

    assert sorted(placed(result)) == [1, 5]
    assert [(u.proposal, u.reason) for u in result.unscheduled] == [
        (7, "Tied with 'Talk 5' on dots and voters at the cut line; the earlier proposal goes first.")
    ]
    explanation = next(p.explanation for p in result.placements if p.session_id == 5)
    assert (
        "Tied with 'Talk 7' on dots and voters at the cut line; the earlier proposal goes first."
        in explanation
    )


# --- property: whatever the input, the builder breaks no hard constraint -----------------------

HOSTS = ["ana", "ben", "cy", "dee", "eve"]


@st.composite
def instances(draw):
    n_rooms = draw(st.integers(1, 3))
    n_days = draw(st.integers(1, 2))
    slots = []
    for day in range(n_days):
        for t in range(draw(st.integers(1, 3))):
            slots.append(SlotInput(id=100 + len(slots), label=f"day {day} slot {t}", day=day))
    rooms = [
        RoomInput(id=10 + r, name=f"Room {r}", capacity=draw(st.integers(1, 30))) for r in range(n_rooms)
    ]
    sessions = []
    for sid in range(1, draw(st.integers(1, 9)) + 1):
        pin = draw(st.booleans()) and draw(st.integers(0, 5)) == 0
        sessions.append(
            SessionInput(
                id=sid,
                title=f"Talk {sid}",
                dots=draw(st.integers(0, 12)),
                voters=draw(st.integers(0, 12)),
                hosts=frozenset(draw(st.lists(st.sampled_from(HOSTS), min_size=0, max_size=2))),
                length=draw(st.sampled_from([1, 1, 1, 2])),
                pinned_room=draw(st.sampled_from(rooms)).id if pin else None,
                pinned_slot=draw(st.sampled_from(slots)).id if pin else None,
            )
        )
    unavailable = {h: draw(st.lists(st.sampled_from([t.id for t in slots]), max_size=2)) for h in HOSTS}
    ballots = {
        f"v{k}": {
            sid: draw(st.integers(1, 2)) for sid in draw(st.sets(st.integers(1, len(sessions)), max_size=3))
        }
        for k in range(draw(st.integers(0, 12)))
    }
    return sessions, rooms, slots, unavailable, ballots


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from([COMPACT, SPREAD]))
def test_the_builder_never_breaks_a_hard_constraint_except_for_reported_pins(instance, fill) -> None:
    sessions, rooms, slots, unavailable, ballots = instance

    result = build_schedule(
        sessions=sessions, rooms=rooms, slots=slots, ballots=ballots, unavailable=unavailable, fill=fill
    )

    by_id = {s.id: s for s in sessions}
    spans = placed(result)
    days = [t.day for t in slots]
    index = {t.id: i for i, t in enumerate(slots)}
    # Every session is either placed once or left out with a reason.
    assert sorted([*spans, *(u.proposal for u in result.unscheduled)]) == sorted(by_id)
    assert all(u.reason for u in result.unscheduled)
    # What the builder reports is exactly what the schedule breaks, and only pins break anything.
    assert list(result.conflicts) == constraint_conflicts(
        spans=spans,
        lengths={sid: s.length for sid, s in by_id.items()},
        hosts={sid: s.hosts for sid, s in by_id.items()},
        unavailable=unavailable,
        titles={sid: s.title for sid, s in by_id.items()},
        slot_labels={t.id: t.label for t in slots},
        room_names={r.id: r.name for r in rooms},
    )
    pinned = {p.session_id for p in result.placements if p.pinned}
    for conflict in result.conflicts:
        assert set(conflict.proposals) <= pinned
    for p in result.placements:
        if not p.pinned:
            first = index[p.slot_ids[0]]
            assert [index[t] for t in p.slot_ids] == span_indices(days, first, by_id[p.session_id].length)
            assert len(p.slot_ids) == by_id[p.session_id].length
            if fill == COMPACT:
                assert index[p.slot_ids[-1]] < result.slots_used
    assert result.clash_total == clash_total(
        slot_of={sid: span for sid, (_, span) in spans.items()}, ballots=ballots
    )


def brute_force_with_constraints(
    result, sessions, rooms, slots, unavailable, ballots, usable: int
) -> int | None:
    """Lowest clash total over every arrangement of the builder's unpinned sessions in the
    first `usable` slots that breaks no hard constraint (rooms checked by interval count)."""
    by_id = {s.id: s for s in sessions}
    days = [t.day for t in slots]
    fixed = {p.session_id: p.slot_ids for p in result.placements if p.pinned}
    free = [p.session_id for p in result.placements if not p.pinned]
    options = []
    for sid in free:
        spans = []
        for start in range(usable):
            span = span_indices(days, start, by_id[sid].length)
            if len(span) == by_id[sid].length and span[-1] < usable:
                ids = tuple(slots[t].id for t in span)
                if not any(t in unavailable.get(h, ()) for h in by_id[sid].hosts for t in ids):
                    spans.append(ids)
        options.append(spans)
    best = None
    for choice in itertools.product(*options):
        spans = {**fixed, **dict(zip(free, choice, strict=True))}
        load: dict[int, int] = {}
        for span in spans.values():
            for t in span:
                load[t] = load.get(t, 0) + 1
        if max(load.values(), default=0) > len(rooms):
            continue
        if any(
            set(spans[a]) & set(spans[b]) and by_id[a].hosts & by_id[b].hosts
            for a, b in itertools.combinations(free, 2)
        ):
            continue
        total = clash_total(slot_of=spans, ballots=ballots)
        best = total if best is None else min(best, total)
    return best


def test_with_hosts_availability_and_long_sessions_the_builder_still_finds_the_optimum() -> None:
    for seed in range(20):
        rng = random.Random(seed)
        slots = [SlotInput(id=100 + t, label=f"s{t}", day=t // 3) for t in range(rng.choice([3, 4, 6]))]
        rooms = [RoomInput(id=10 + r, name=f"R{r}", capacity=20) for r in range(rng.choice([2, 3]))]
        sessions = [
            SessionInput(
                id=sid,
                title=f"T{sid}",
                dots=rng.randint(1, 20),
                voters=rng.randint(1, 20),
                hosts=frozenset(rng.sample(HOSTS, rng.choice([1, 1, 2]))),
                length=rng.choice([1, 1, 1, 2]),
            )
            for sid in range(1, rng.randint(4, 7))
        ]
        unavailable = {h: rng.sample([t.id for t in slots], rng.choice([0, 1])) for h in HOSTS}
        ballots = {
            f"v{k}": dict.fromkeys(rng.sample(range(1, len(sessions) + 1), min(3, len(sessions))), 1)
            for k in range(rng.randint(8, 25))
        }

        result = build_schedule(
            sessions=sessions, rooms=rooms, slots=slots, ballots=ballots, unavailable=unavailable, fill=SPREAD
        )

        optimum = brute_force_with_constraints(
            result, sessions, rooms, slots, unavailable, ballots, len(slots)
        )
        assert result.clash_total == optimum, seed
