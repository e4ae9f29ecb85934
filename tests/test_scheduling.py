"""Behaviour of the pure schedule builder: clashes, pins, rooms, determinism, explanations."""

import itertools
import random
from dataclasses import replace

import pytest

from voting.schedule.solver.build import build_schedule
from voting.schedule.solver.inputs import (
    COMPACT,
    SPREAD,
    Placement,
    RoomInput,
    ScheduleResult,
    SessionInput,
    SlotInput,
    Unscheduled,
    clash_total,
    pair_weights,
    ranked,
)

HALL = RoomInput(id=10, name="Hall", capacity=50)
NOOK = RoomInput(id=11, name="Nook", capacity=10)
MORNING = SlotInput(id=20, label="09:00")
NOON = SlotInput(id=21, label="12:00")


def session(sid: int, dots: int, voters: int | None = None, **pins: int) -> SessionInput:
    return SessionInput(
        id=sid, title=f"Talk {sid}", dots=dots, voters=dots if voters is None else voters, **pins
    )


def placement_of(result: ScheduleResult, sid: int) -> Placement:
    return next(p for p in result.placements if p.session_id == sid)


def unscheduled_ids(result: ScheduleResult) -> tuple[int, ...]:
    return tuple(u.proposal for u in result.unscheduled)


def slots_by_session(result: ScheduleResult) -> dict[int, int]:
    return {p.session_id: p.slot_id for p in result.placements}


def test_two_sessions_sharing_all_voters_run_in_different_slots() -> None:
    ballots = {voter: {1: 1, 2: 1} for voter in range(5)}

    result = build_schedule(
        sessions=[session(1, 5), session(2, 5)],
        rooms=[HALL, NOOK],
        slots=[MORNING, NOON],
        ballots=ballots,
        fill=SPREAD,
    )

    assert slots_by_session(result)[1] != slots_by_session(result)[2]
    assert result.clash_total == 0


def test_clash_total_multiplies_stacked_dots_and_ignores_unscheduled_sessions() -> None:
    ballots = {
        "ana": {1: 2, 2: 3, 3: 1},
        "ben": {1: 1, 3: 1, 4: 5},
        "cy": {2: 1},
        "dee": {1: 0, 2: 4},
    }

    # ana: 1 and 2 together = 2*3; ben: 1 and 3 apart; session 4 is unscheduled.
    assert clash_total(slot_of={1: 20, 2: 20, 3: 21}, ballots=ballots) == 6
    # ana: 2*3 + 2*1 + 3*1 = 11; ben: 1*1 = 1.
    assert clash_total(slot_of={1: 20, 2: 20, 3: 20}, ballots=ballots) == 12
    assert clash_total(slot_of={}, ballots=ballots) == 0


def test_pair_weights_are_dot_products_summed_over_attendees() -> None:
    ballots = {"ana": {1: 2, 2: 3, 3: 1}, "ben": {2: 1, 1: 1}, "cy": {9: 4, 1: 1}}

    assert pair_weights(session_ids=[1, 2, 3], ballots=ballots) == {(1, 2): 7, (1, 3): 2, (2, 3): 3}


def test_pinned_session_stays_put_and_others_fill_the_remaining_cells() -> None:
    sessions = [session(1, 9), session(2, 8), session(3, 7), session(4, 1, pinned_room=11, pinned_slot=20)]

    result = build_schedule(sessions=sessions, rooms=[HALL, NOOK], slots=[MORNING, NOON], ballots={})

    assert placement_of(result, 4) == Placement(
        session_id=4,
        room_id=11,
        slot_id=20,
        pinned=True,
        explanation="Pinned by the organizers to Nook at 09:00. Ranked #4 with 1 dot. "
        "None of its voters picked another scheduled session, so it cannot clash. "
        "Room fixed by the pin (1 voter, capacity 10).",
        slot_ids=(20,),
    )
    assert sorted((p.room_id, p.slot_id) for p in result.placements) == [
        (10, 20),
        (10, 21),
        (11, 20),
        (11, 21),
    ]
    assert [p.pinned for p in result.placements].count(True) == 1


def test_pinned_session_is_scheduled_even_with_the_fewest_dots() -> None:
    sessions = [session(1, 9), session(2, 8), session(3, 0, pinned_room=10, pinned_slot=21)]

    result = build_schedule(sessions=sessions, rooms=[HALL], slots=[MORNING, NOON], ballots={})

    assert slots_by_session(result) == {1: 20, 3: 21}
    assert unscheduled_ids(result) == (2,)


def test_session_with_most_voters_gets_the_biggest_room_in_its_slot() -> None:
    small, medium, big = RoomInput(1, "Small", 5), RoomInput(2, "Medium", 20), RoomInput(3, "Big", 80)
    sessions = [session(1, 30, voters=12), session(2, 25, voters=40), session(3, 20, voters=3)]

    result = build_schedule(sessions=sessions, rooms=[small, medium, big], slots=[MORNING], ballots={})

    assert {p.session_id: p.room_id for p in result.placements} == {2: 3, 1: 2, 3: 1}
    assert [p.room_id for p in result.placements] == [1, 2, 3]  # slot order, then rooms as given


def test_sessions_with_more_voters_than_seats_are_reported_over_capacity() -> None:
    sessions = [session(1, 60, voters=60), session(2, 20, voters=11), session(3, 5, voters=5)]

    result = build_schedule(sessions=sessions, rooms=[HALL, NOOK], slots=[MORNING, NOON], ballots={})

    assert result.over_capacity == (1,)
    assert placement_of(result, 1).explanation.endswith(
        "Largest room for its slot (60 voters, capacity 50). Over capacity by 10 voters."
    )


def test_explanation_says_when_a_pin_took_the_bigger_room() -> None:
    sessions = [session(1, 30, voters=30), session(2, 0, pinned_room=10, pinned_slot=20)]

    result = build_schedule(sessions=sessions, rooms=[HALL, NOOK], slots=[MORNING], ballots={})

    assert placement_of(result, 1).explanation == (
        "Ranked #1 with 30 dots. None of its voters picked another scheduled session, so it cannot clash. "
        "2nd-largest room for its slot (30 voters, capacity 10); the bigger room is pinned to another "
        "session. Over capacity by 20 voters."
    )
    assert placement_of(result, 2).explanation == (
        "Pinned by the organizers to Hall at 09:00. Ranked #2 with 0 dots. Nobody has voted for it yet. "
        "Room fixed by the pin (0 voters, capacity 50)."
    )


def random_instance(seed: int, n_sessions: int, n_rooms: int, n_slots: int, n_voters: int):
    rng = random.Random(seed)
    ballots = {
        f"voter{v}": {sid: rng.randint(1, 3) for sid in rng.sample(range(1, n_sessions + 1), 3)}
        for v in range(n_voters)
    }
    dots = {sid: sum(b.get(sid, 0) for b in ballots.values()) for sid in range(1, n_sessions + 1)}
    voters = {sid: sum(sid in b for b in ballots.values()) for sid in range(1, n_sessions + 1)}
    sessions = [
        SessionInput(id=sid, title=f"Talk {sid}", dots=dots[sid], voters=voters[sid])
        for sid in range(1, n_sessions + 1)
    ]
    rooms = [RoomInput(id=100 + r, name=f"Room {r}", capacity=10 * (r + 1)) for r in range(n_rooms)]
    slots = [SlotInput(id=200 + t, label=f"Slot {t}") for t in range(n_slots)]
    return sessions, rooms, slots, ballots


def test_same_input_twice_gives_an_identical_result() -> None:
    sessions, rooms, slots, ballots = random_instance(7, 20, 3, 5, 60)

    first = build_schedule(sessions=sessions, rooms=rooms, slots=slots, ballots=ballots)
    second = build_schedule(sessions=sessions, rooms=rooms, slots=slots, ballots=ballots)

    assert first == second


def test_input_order_of_sessions_and_ballots_does_not_change_the_result() -> None:
    sessions, rooms, slots, ballots = random_instance(8, 20, 3, 5, 60)
    shuffled = list(sessions)
    random.Random(1).shuffle(shuffled)
    reversed_ballots = {voter: dict(reversed(b.items())) for voter, b in reversed(ballots.items())}

    first = build_schedule(sessions=sessions, rooms=rooms, slots=slots, ballots=ballots)
    second = build_schedule(sessions=shuffled, rooms=rooms, slots=slots, ballots=reversed_ballots)

    assert first == second


def test_top_sessions_by_dots_fill_the_cells_with_ties_broken_by_id() -> None:
    sessions = [session(5, 3), session(1, 9), session(4, 3), session(2, 1), session(3, 7)]

    result = build_schedule(
        sessions=sessions, rooms=[HALL], slots=[MORNING, NOON, SlotInput(22, "15:00")], ballots={}
    )

    assert sorted(p.session_id for p in result.placements) == [1, 3, 4]
    assert unscheduled_ids(result) == (5, 2)
    assert [s.id for s in ranked(sessions)] == [1, 3, 4, 5, 2]


def test_explanation_names_the_clash_partner_by_plain_title() -> None:
    sessions = [
        SessionInput(id=1, title="Rust <in> prod", dots=3, voters=3),
        SessionInput(id=2, title="MLOps & scale", dots=3, voters=3),
    ]
    ballots = {voter: {1: 1, 2: 1} for voter in "abc"}

    result = build_schedule(sessions=sessions, rooms=[HALL], slots=[MORNING, NOON], ballots=ballots)

    assert placement_of(result, 1).explanation == (
        "Ranked #1 (tied) with 3 dots. Shares 3 voters with 'MLOps & scale', so they run at different times. "
        "Largest room for its slot (3 voters, capacity 50)."
    )
    assert "Shares 3 voters with 'Rust <in> prod'" in placement_of(result, 2).explanation


def test_explanation_admits_an_unavoidable_clash() -> None:
    # One slot only: the two sessions must share it. Equal on dots and voters, they are tied
    # at #1, as the stage shows them (contract 4); the earlier one is listed first.
    ballots = {voter: {1: 1, 2: 1} for voter in "ab"}

    result = build_schedule(
        sessions=[session(1, 2), session(2, 2)], rooms=[HALL, NOOK], slots=[MORNING], ballots=ballots
    )

    assert result.clash_total == 2
    assert placement_of(result, 2).explanation == (
        "Ranked #1 (tied) with 2 dots. Shares 2 voters with 'Talk 1' in the same slot; no single move or swap "
        "of sessions would lower the total clashes. 2nd-largest room for its slot (2 voters, capacity 10)."
    )


def test_two_pins_on_one_cell_keep_the_higher_ranked_and_place_the_other_freely() -> None:
    sessions = [
        session(1, 2, pinned_room=10, pinned_slot=20),
        session(2, 5, pinned_room=10, pinned_slot=20),
        session(3, 9),
        session(4, 8),
    ]

    result = build_schedule(sessions=sessions, rooms=[HALL], slots=[MORNING, NOON], ballots={})

    assert placement_of(result, 2).pinned is True
    assert (placement_of(result, 2).room_id, placement_of(result, 2).slot_id) == (10, 20)
    # The dropped pin still outranks unpinned proposals for the remaining cell.
    assert placement_of(result, 1).pinned is False
    assert placement_of(result, 1).slot_id == 21
    assert "same room and slot as higher-ranked 'Talk 2'" in placement_of(result, 1).explanation
    assert result.dropped_pins == (1,)
    assert unscheduled_ids(result) == (3, 4)


def test_more_pins_than_cells_leaves_the_lower_ranked_pins_unscheduled() -> None:
    sessions = [session(sid, 10 - sid, pinned_room=10, pinned_slot=20) for sid in (1, 2, 3)]

    result = build_schedule(sessions=sessions, rooms=[HALL], slots=[MORNING], ballots={})

    assert [p.session_id for p in result.placements] == [1]
    assert unscheduled_ids(result) == (2, 3)
    assert result.dropped_pins == (2, 3)


def test_half_pins_and_pins_to_unknown_cells_are_dropped_and_reported() -> None:
    sessions = [session(1, 5, pinned_room=10), session(2, 4, pinned_room=99, pinned_slot=20), session(3, 3)]

    result = build_schedule(sessions=sessions, rooms=[HALL], slots=[MORNING, NOON], ballots={})

    assert result.dropped_pins == (1, 2)
    assert unscheduled_ids(result) == (3,)
    assert "only a room or only a slot" in placement_of(result, 1).explanation
    assert "not in this schedule" in placement_of(result, 2).explanation
    assert not any(p.pinned for p in result.placements)


def test_fewer_sessions_than_cells_leaves_cells_empty() -> None:
    result = build_schedule(
        sessions=[session(1, 3), session(2, 2)], rooms=[HALL, NOOK], slots=[MORNING, NOON], ballots={}
    )

    assert len(result.placements) == 2
    assert unscheduled_ids(result) == ()


@pytest.mark.parametrize(("rooms", "slots"), [([], [MORNING]), ([HALL], []), ([], [])])
def test_no_rooms_or_no_slots_gives_an_empty_schedule(rooms: list[RoomInput], slots: list[SlotInput]) -> None:
    sessions = [session(1, 3), session(2, 2, pinned_room=10, pinned_slot=20)]

    result = build_schedule(sessions=sessions, rooms=rooms, slots=slots, ballots={"a": {1: 1, 2: 1}})

    assert result == ScheduleResult(
        placements=(),
        clash_total=0,
        over_capacity=(),
        unscheduled=(
            Unscheduled(1, "There are no rooms or slots to put it in."),
            Unscheduled(2, "There are no rooms or slots to put it in."),
        ),
        dropped_pins=(2,),
    )


def test_sessions_without_voters_fill_free_cells_and_say_so() -> None:
    result = build_schedule(
        sessions=[session(1, 0), session(2, 0)], rooms=[HALL], slots=[MORNING, NOON], ballots={}
    )

    assert placement_of(result, 1).explanation == (
        "Ranked #1 (tied) with 0 dots. Nobody has voted for it yet, so it simply fills a free cell. "
        "Largest room for its slot (0 voters, capacity 50)."
    )
    assert result.clash_total == 0


def test_duplicate_session_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate session ids"):
        build_schedule(sessions=[session(1, 1), session(1, 2)], rooms=[HALL], slots=[MORNING], ballots={})


def brute_force_optimum(sessions, rooms, slots, ballots, *, compact: bool = False) -> int:
    """Lowest clash total over every slot assignment of the builder's chosen sessions; with
    `compact`, the unpinned ones only in the earliest slots that can hold them."""
    chosen = ranked(sessions)[: len(rooms) * len(slots)]
    pinned = {s.id: s.pinned_slot for s in chosen if s.pinned_slot is not None}
    free = [s.id for s in chosen if s.id not in pinned]
    usable = [t.id for t in slots]
    if compact:
        room_left = [len(rooms) - list(pinned.values()).count(t.id) for t in slots]
        usable = usable[: next(n for n in range(len(slots) + 1) if sum(room_left[:n]) >= len(free))]
    best = None
    for assignment in itertools.product(usable, repeat=len(free)):
        slot_of = {**pinned, **dict(zip(free, assignment, strict=True))}
        loads = [list(slot_of.values()).count(t.id) for t in slots]
        if max(loads) <= len(rooms):
            total = clash_total(slot_of=slot_of, ballots=ballots)
            best = total if best is None else min(best, total)
    return best


@pytest.mark.parametrize("fill", [COMPACT, SPREAD])
@pytest.mark.parametrize("seed", range(12))
def test_builder_matches_the_brute_force_optimum_on_small_instances(seed: int, fill: str) -> None:
    rng = random.Random(seed)
    n_rooms, n_slots = rng.choice([(2, 3), (2, 4), (3, 3), (4, 2)])
    n_sessions = rng.randint(5, 8)
    sessions, rooms, slots, ballots = random_instance(seed, n_sessions, n_rooms, n_slots, rng.randint(8, 25))
    if seed % 3 == 0:
        # Pin the top session into the last slot, so search has to work around a fixed point.
        top = ranked(sessions)[0]
        sessions = [
            replace(s, pinned_room=rooms[0].id, pinned_slot=slots[-1].id) if s == top else s for s in sessions
        ]

    result = build_schedule(sessions=sessions, rooms=rooms, slots=slots, ballots=ballots, fill=fill)

    assert result.clash_total == brute_force_optimum(sessions, rooms, slots, ballots, compact=fill == COMPACT)
