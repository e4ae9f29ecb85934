"""Schedule API (contract section 5): rooms, slots, generate, move, pin, publish, who may do what."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.db import connections

from tests import factories
from unconf.asgi import application
from voting.models import ProposalStatus, Room, ScheduledSession, Slot, Vote
from voting.schedule import solver
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------------


def add_room(client, event, name, capacity):
    response = client.post(
        f"/api/events/{event.slug}/rooms", {"name": name, "capacity": capacity}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def add_slot(client, event, starts_at, ends_at, label=""):
    body = {"starts_at": starts_at, "ends_at": ends_at, "label": label}
    response = client.post(f"/api/events/{event.slug}/slots", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def add_slots(client, event, count):
    """Slots of 45 minutes on the hour from 10:00 UTC, labelled S1, S2, …"""
    return [
        add_slot(client, event, f"2030-05-01T{10 + i}:00:00Z", f"2030-05-01T{10 + i}:45:00Z", f"S{i + 1}")
        for i in range(count)
    ]


def cast(event, *ballots):
    """One attendee per ballot, one dot on each proposal of the ballot."""
    for ballot in ballots:
        attendee, _, _ = factories.join(event)
        for proposal in ballot:
            vote_services.set_dots(attendee=attendee, proposal_id=proposal.pk, dots=1)


def generate(client, event):
    response = client.post(f"/api/events/{event.slug}/schedule/generate")
    assert response.status_code == 200, response.json()
    return response.json()


def placement(event):
    """proposal id -> (room id, slot id, pinned), straight from the database."""
    return {
        s.proposal_id: (s.room_id, s.slot_id, s.pinned) for s in ScheduledSession.objects.filter(event=event)
    }


def clash_total_from_db(event) -> int:
    slot_of = {
        s.proposal_id: s.slot_id
        for s in ScheduledSession.objects.filter(event=event, proposal__status=ProposalStatus.PUBLISHED)
    }
    ballots = {}
    for attendee_id, proposal_id, dots in Vote.objects.filter(event=event).values_list(
        "attendee_id", "proposal_id", "dots"
    ):
        ballots.setdefault(attendee_id, {})[proposal_id] = dots
    return solver.clash_total(slot_of=slot_of, ballots=ballots)


def session_of(schedule, proposal):
    return next(s for s in schedule["sessions"] if s["proposal"] == proposal.pk)


# --- rooms and slots -------------------------------------------------------------------------


def test_rooms_are_created_listed_biggest_first_renamed_and_deleted(event, org_client):
    small = add_room(org_client, event, "Library", 12)
    big = add_room(org_client, event, "Main hall", 300)

    listed = org_client.get(f"/api/events/{event.slug}/rooms").json()
    renamed = org_client.patch(
        f"/api/events/{event.slug}/rooms/{small}", {"name": "Reading room"}, format="json"
    )
    deleted = org_client.delete(f"/api/events/{event.slug}/rooms/{big}")

    assert listed == [
        {"id": big, "name": "Main hall", "capacity": 300, "directions": ""},
        {"id": small, "name": "Library", "capacity": 12, "directions": ""},
    ]
    assert renamed.json() == {"id": small, "name": "Reading room", "capacity": 12, "directions": ""}
    assert deleted.status_code == 204
    assert org_client.get(f"/api/events/{event.slug}/rooms").json() == [
        {"id": small, "name": "Reading room", "capacity": 12, "directions": ""}
    ]


def test_room_input_is_validated(event, org_client):
    add_room(org_client, event, "Library", 12)
    url = f"/api/events/{event.slug}/rooms"

    duplicate = org_client.post(url, {"name": " library ", "capacity": 5}, format="json")
    empty = org_client.post(url, {"name": "Attic", "capacity": 0}, format="json")
    missing = org_client.post(url, {}, format="json")

    assert duplicate.status_code == 400
    assert duplicate.json() == {"name": ["This event already has a room with this name."]}
    assert empty.json() == {"capacity": ["Ensure this value is greater than or equal to 1."]}
    assert missing.json() == {"name": ["This field is required."], "capacity": ["This field is required."]}


def test_slots_are_listed_in_time_order_in_the_event_time_zone(event, org_client):
    org_client.patch(f"/api/events/{event.slug}", {"time_zone": "Europe/Berlin"}, format="json")
    late = add_slot(
        org_client, event, "2030-05-01T14:00:00+02:00", "2030-05-01T15:00:00+02:00", "After lunch"
    )
    early = add_slot(org_client, event, "2030-05-01T08:00:00Z", "2030-05-01T09:00:00Z")

    listed = org_client.get(f"/api/events/{event.slug}/slots").json()

    assert listed == [
        {
            "id": early,
            "round": event.current_round_id,
            "starts_at": "2030-05-01T10:00:00+02:00",
            "ends_at": "2030-05-01T11:00:00+02:00",
            "label": "",
        },
        {
            "id": late,
            "round": event.current_round_id,
            "starts_at": "2030-05-01T14:00:00+02:00",
            "ends_at": "2030-05-01T15:00:00+02:00",
            "label": "After lunch",
        },
    ]


def test_a_slot_without_offset_is_read_as_wall_time_in_the_event_time_zone(event, org_client):
    org_client.patch(f"/api/events/{event.slug}", {"time_zone": "Europe/Berlin"}, format="json")

    slot = add_slot(org_client, event, "2030-05-01T10:00", "2030-05-01T10:45")

    assert Slot.objects.get(pk=slot).starts_at.isoformat() == "2030-05-01T08:00:00+00:00"


def test_slot_input_is_validated(event, org_client):
    add_slot(org_client, event, "2030-05-01T10:00:00Z", "2030-05-01T11:00:00Z", "Morning")
    url = f"/api/events/{event.slug}/slots"

    backwards = org_client.post(
        url, {"starts_at": "2030-05-01T13:00:00Z", "ends_at": "2030-05-01T12:00:00Z"}, format="json"
    )
    overlapping = org_client.post(
        url, {"starts_at": "2030-05-01T10:30:00Z", "ends_at": "2030-05-01T11:30:00Z"}, format="json"
    )
    adjacent = org_client.post(
        url, {"starts_at": "2030-05-01T11:00:00Z", "ends_at": "2030-05-01T12:00:00Z"}, format="json"
    )

    assert backwards.status_code == 400
    assert backwards.json() == {"ends_at": ["A slot must end after it starts."]}
    assert overlapping.json() == {"starts_at": ["This slot overlaps the slot 'Morning' (10:00–11:00)."]}
    assert adjacent.status_code == 201


def test_a_slot_is_moved_and_relabelled_and_deleted(event, org_client):
    slot = add_slot(org_client, event, "2030-05-01T10:00:00Z", "2030-05-01T11:00:00Z")
    url = f"/api/events/{event.slug}/slots/{slot}"

    moved = org_client.patch(url, {"starts_at": "2030-05-01T09:00:00Z", "label": "Opening"}, format="json")
    too_late = org_client.patch(url, {"starts_at": "2030-05-01T11:00:00Z"}, format="json")
    deleted = org_client.delete(url)

    assert moved.json() == {
        "id": slot,
        "round": event.current_round_id,
        "starts_at": "2030-05-01T09:00:00+00:00",
        "ends_at": "2030-05-01T11:00:00+00:00",
        "label": "Opening",
    }
    assert too_late.json() == {"ends_at": ["A slot must end after it starts."]}
    assert deleted.status_code == 204
    assert Slot.objects.filter(event=event).count() == 0


def test_rooms_of_another_event_are_not_found(event, org_client):
    other = factories.make_event()
    foreign = Room.objects.create(event=other, name="Elsewhere", capacity=10)

    response = org_client.patch(
        f"/api/events/{event.slug}/rooms/{foreign.pk}", {"capacity": 1}, format="json"
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "No such room in this event.", "code": "not_found"}
    assert Room.objects.get(pk=foreign.pk).capacity == 10


# --- generating ------------------------------------------------------------------------------


def test_generating_without_rooms_or_slots_says_what_is_missing(event, org_client):
    factories.make_proposals(event, 2)
    add_room(org_client, event, "Hall", 50)

    response = org_client.post(f"/api/events/{event.slug}/schedule/generate")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Add at least one room and one slot before generating the schedule.",
        "code": "conflict",
    }


def test_sessions_that_share_voters_run_at_different_times(event, org_client):
    rust, go, cooking, gardening = factories.make_proposals(event, 4)
    cast(event, [rust, go], [rust, go], [cooking, gardening], [cooking], [rust])
    add_room(org_client, event, "A", 50)
    add_room(org_client, event, "B", 40)
    first, second = add_slots(org_client, event, 2)

    schedule = generate(org_client, event)

    slot = {s["proposal"]: s["slot"] for s in schedule["sessions"]}
    assert slot[rust.pk] != slot[go.pk]
    assert slot[cooking.pk] != slot[gardening.pk]
    assert schedule["clash_total"] == 0 == clash_total_from_db(event)
    assert schedule["unscheduled"] == []


def test_the_clash_total_reported_equals_the_builders_recount_from_the_database(event, org_client):
    proposals = factories.make_proposals(event, 6)
    a, b, c, d, e, f = proposals
    # Three slots of two rooms, and ballots that cannot all be kept apart.
    cast(event, [a, b, c], [a, b, d], [c, d, e], [e, f, a], [b, f, c], [a, c, e], [b, d, f], [a, f])
    add_room(org_client, event, "A", 50)
    add_room(org_client, event, "B", 40)
    add_slots(org_client, event, 3)

    schedule = generate(org_client, event)

    assert schedule["clash_total"] == clash_total_from_db(event)
    assert schedule["clash_total"] > 0
    assert (
        org_client.get(f"/api/events/{event.slug}/schedule").json()["clash_total"] == schedule["clash_total"]
    )
    report = org_client.get(f"/api/events/{event.slug}/schedule/clashes").json()
    assert report["clash_total"] == schedule["clash_total"]
    assert sum(pair["cost"] for slot in report["slots"] for pair in slot["pairs"]) == schedule["clash_total"]


def test_clashes_are_reported_per_slot_with_the_shared_voters(event, org_client):
    first, second = factories.make_proposals(event, 2)
    cast(event, [first, second], [first, second], [first])
    add_room(org_client, event, "A", 50)
    add_room(org_client, event, "B", 40)
    [slot] = add_slots(org_client, event, 1)
    generate(org_client, event)

    report = org_client.get(f"/api/events/{event.slug}/schedule/clashes").json()

    assert report == {
        "clash_total": 2,
        "slots": [{"slot": slot, "pairs": [{"sessions": [first.pk, second.pk], "voters": 2, "cost": 2}]}],
    }


def test_stacked_dots_weigh_a_clash_by_the_product_of_the_dots(organizer):
    event = factories.make_event(organizer, max_dots_per_proposal=3)
    client = factories.organizer_client(organizer)
    first, second = factories.make_proposals(event, 2)
    attendee, _, _ = factories.join(event)
    vote_services.set_dots(attendee=attendee, proposal_id=first.pk, dots=3)
    vote_services.set_dots(attendee=attendee, proposal_id=second.pk, dots=2)
    add_room(client, event, "A", 50)
    add_room(client, event, "B", 40)
    add_slots(client, event, 1)

    schedule = generate(client, event)

    assert schedule["clash_total"] == 6 == clash_total_from_db(event)


def test_the_top_proposals_fill_the_cells_and_the_rest_are_reported_unscheduled(event, org_client):
    top, second, third = factories.make_proposals(event, 3)
    cast(event, [top, second], [top, second], [top])
    add_room(org_client, event, "Only room", 50)
    add_slots(org_client, event, 2)

    schedule = generate(org_client, event)

    assert {s["proposal"] for s in schedule["sessions"]} == {top.pk, second.pk}
    assert schedule["unscheduled"] == [
        {"proposal": third.pk, "reason": "Ranked #3: all 2 cells went to pinned or higher-ranked sessions."}
    ]


def test_more_voters_get_the_bigger_room(event, org_client):
    popular, niche = factories.make_proposals(event, 2)
    cast(event, [popular], [popular], [popular], [niche])
    small = add_room(org_client, event, "Small", 10)
    big = add_room(org_client, event, "Big", 100)
    add_slots(org_client, event, 1)

    schedule = generate(org_client, event)

    assert session_of(schedule, popular)["room"] == big
    assert session_of(schedule, niche)["room"] == small
    assert session_of(schedule, popular)["voters"] == 3
    assert session_of(schedule, popular)["explanation"] == (
        "Ranked #1 with 3 dots. None of its voters picked another scheduled session, so it cannot clash. "
        "Largest room for its slot (3 voters, capacity 100)."
    )


def test_sessions_with_more_voters_than_seats_are_flagged_over_capacity(event, org_client):
    crowded, fine = factories.make_proposals(event, 2)
    cast(event, [crowded], [crowded], [crowded], [fine])
    add_room(org_client, event, "Closet", 2)
    add_slots(org_client, event, 2)

    schedule = generate(org_client, event)

    assert schedule["over_capacity"] == [crowded.pk]
    assert "Over capacity by 1 voter." in session_of(schedule, crowded)["explanation"]


def test_pinned_sessions_stay_where_they_are_when_regenerating(event, org_client):
    proposals = factories.make_proposals(event, 4)
    cast(event, proposals[:2], proposals[1:3], proposals[2:])
    big = add_room(org_client, event, "Big", 100)
    add_room(org_client, event, "Small", 10)
    first_slot, second_slot = add_slots(org_client, event, 2)
    generate(org_client, event)
    least = proposals[3]
    org_client.patch(
        f"/api/events/{event.slug}/schedule/sessions/{least.pk}",
        {"room": big, "slot": second_slot, "pinned": True},
        format="json",
    )

    schedule = generate(org_client, event)

    assert placement(event)[least.pk] == (big, second_slot, True)
    assert session_of(schedule, least)["pinned"] is True
    assert session_of(schedule, least)["explanation"].startswith("Pinned by the organizers to Big at S2.")
    assert len(schedule["sessions"]) == 4
    assert schedule["clash_total"] == clash_total_from_db(event)


def test_a_pin_on_a_proposal_that_left_the_board_is_reported_dropped(event, org_client):
    kept, hidden = factories.make_proposals(event, 2)
    add_room(org_client, event, "Hall", 10)
    add_slots(org_client, event, 2)
    generate(org_client, event)
    org_client.patch(
        f"/api/events/{event.slug}/schedule/sessions/{hidden.pk}", {"pinned": True}, format="json"
    )
    org_client.patch(f"/api/events/{event.slug}/proposals/{hidden.pk}", {"status": "hidden"}, format="json")

    schedule = generate(org_client, event)

    assert [s["proposal"] for s in schedule["sessions"]] == [kept.pk]
    assert schedule["dropped_pins"] == [hidden.pk]


def test_a_hidden_proposal_leaves_the_schedule_at_once(event, org_client):
    kept, hidden = factories.make_proposals(event, 2)
    add_room(org_client, event, "Hall", 10)
    add_slots(org_client, event, 2)
    generate(org_client, event)

    org_client.patch(f"/api/events/{event.slug}/proposals/{hidden.pk}", {"status": "hidden"}, format="json")

    schedule = org_client.get(f"/api/events/{event.slug}/schedule").json()
    assert [s["proposal"] for s in schedule["sessions"]] == [kept.pk]


def test_the_schedule_has_the_contract_shape(event, org_client):
    [proposal] = factories.make_proposals(event, 1)
    cast(event, [proposal])
    room = add_room(org_client, event, "Hall", 10)
    [slot] = add_slots(org_client, event, 1)
    generate(org_client, event)

    schedule = org_client.get(f"/api/events/{event.slug}/schedule").json()

    slots = [
        {
            "id": slot,
            "round": event.current_round_id,
            "starts_at": "2030-05-01T10:00:00+00:00",
            "ends_at": "2030-05-01T10:45:00+00:00",
            "label": "S1",
        }
    ]
    assert schedule == {
        "published": False,
        "clash_total": 0,
        "rooms": [{"id": room, "name": "Hall", "capacity": 10, "directions": ""}],
        "slots": slots,
        "sessions": [
            {
                "proposal": proposal.pk,
                "title": proposal.title,
                "room": room,
                "slot": slot,
                "slots": [slot],
                "length": 1,
                "pinned": False,
                "voters": 1,
                "explanation": "Ranked #1 with 1 dot. None of its voters picked another scheduled session, "
                "so it cannot clash. Largest room for its slot (1 voter, capacity 10).",
            }
        ],
        "over_capacity": [],
        "unscheduled": [],
        "rounds": [
            {
                "id": event.current_round_id,
                "name": "Round 1",
                "published": False,
                "clash_total": 0,
                "slots": slots,
                "sessions": [
                    {
                        "proposal": proposal.pk,
                        "title": proposal.title,
                        "room": room,
                        "slot": slot,
                        "slots": [slot],
                        "length": 1,
                    }
                ],
            }
        ],
        "conflicts": [],
        "constraints": {},
    }


def test_reading_the_schedule_takes_a_fixed_number_of_queries(event, org_client, django_assert_num_queries):
    proposals = factories.make_proposals(event, 8)
    cast(event, proposals[:4], proposals[4:], proposals[::2])
    for name in "ABCD":
        add_room(org_client, event, name, 20)
    add_slots(org_client, event, 2)
    generate(org_client, event)

    # token, event, organizer check; rooms, slots, sessions with their proposals, ballots,
    # proposals left out and why; the rounds and which are published; for organizers the
    # hosts (authors, co-hosts) and availability
    with django_assert_num_queries(14):
        response = org_client.get(f"/api/events/{event.slug}/schedule")

    assert len(response.json()["sessions"]) == 8


# --- editing by hand -------------------------------------------------------------------------


@pytest.fixture
def drafted(event, org_client):
    """Two rooms × two slots, four sessions, generated."""
    proposals = factories.make_proposals(event, 4)
    cast(event, proposals[:2], proposals[2:], [proposals[0]])
    rooms = [add_room(org_client, event, "Big", 100), add_room(org_client, event, "Small", 10)]
    slots = add_slots(org_client, event, 2)
    generate(org_client, event)
    return proposals, rooms, slots


def move(client, event, proposal, **body):
    return client.patch(f"/api/events/{event.slug}/schedule/sessions/{proposal.pk}", body, format="json")


def test_moving_onto_an_occupied_cell_swaps_the_two_sessions(event, org_client, drafted):
    proposals, rooms, slots = drafted
    before = placement(event)
    mover, occupant = proposals[0], proposals[2]
    target = before[occupant.pk][:2]

    response = move(org_client, event, mover, room=target[0], slot=target[1])

    after = placement(event)
    assert response.status_code == 200
    assert after[mover.pk][:2] == target
    assert after[occupant.pk][:2] == before[mover.pk][:2]
    explanations = {s["proposal"]: s["explanation"] for s in response.json()["sessions"]}
    assert explanations[mover.pk].startswith(
        f"Moved by the organizers to {_where(target)}, swapping places with '{occupant.title}'."
    )
    assert explanations[occupant.pk].startswith("Swapped by the organizers to ")
    assert f"when '{mover.title}' took its place." in explanations[occupant.pk]
    assert response.json()["clash_total"] == clash_total_from_db(event)


def _where(cell):
    room, slot = cell
    return f"{Room.objects.get(pk=room).name} at {Slot.objects.get(pk=slot).label}"


def test_moving_onto_a_free_cell_explains_the_new_place(event, org_client, drafted):
    proposals, rooms, slots = drafted
    third_slot = add_slot(org_client, event, "2030-05-01T14:00:00Z", "2030-05-01T15:00:00Z", "Late")
    mover = proposals[0]

    response = move(org_client, event, mover, slot=third_slot)

    assert placement(event)[mover.pk][1] == third_slot
    assert session_of(response.json(), mover)["explanation"] == (
        f"Moved by the organizers to {_where(placement(event)[mover.pk][:2])}. "
        f"None of its voters picked another session in this slot. "
        f"{Room.objects.get(pk=placement(event)[mover.pk][0]).name} holds "
        f"{Room.objects.get(pk=placement(event)[mover.pk][0]).capacity} (2 voters)."
    )


def test_a_pinned_occupant_is_not_displaced(event, org_client, drafted):
    proposals, rooms, slots = drafted
    before = placement(event)
    mover, occupant = proposals[0], proposals[2]
    move(org_client, event, occupant, pinned=True)

    response = move(org_client, event, mover, room=before[occupant.pk][0], slot=before[occupant.pk][1])

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"'{occupant.title}' is pinned to {_where(before[occupant.pk][:2])}. "
        "Unpin it first, or pick another cell.",
        "code": "conflict",
    }
    assert placement(event)[mover.pk] == before[mover.pk]


def test_pinning_and_unpinning_changes_only_the_pin(event, org_client, drafted):
    proposals, rooms, slots = drafted
    before = placement(event)

    pinned = move(org_client, event, proposals[1], pinned=True)
    assert placement(event)[proposals[1].pk] == (*before[proposals[1].pk][:2], True)
    unpinned = move(org_client, event, proposals[1], pinned=False)

    assert session_of(pinned.json(), proposals[1])["pinned"] is True
    assert session_of(unpinned.json(), proposals[1])["pinned"] is False
    assert placement(event) == before


def test_an_unscheduled_proposal_can_be_placed_on_a_free_cell_only(event, org_client, drafted):
    proposals, rooms, slots = drafted
    [extra] = factories.make_proposals(event, 1)
    late = add_slot(org_client, event, "2030-05-01T14:00:00Z", "2030-05-01T15:00:00Z", "Late")
    taken = placement(event)[proposals[0].pk][:2]

    refused = move(org_client, event, extra, room=taken[0], slot=taken[1])
    half = move(org_client, event, extra, room=rooms[0])
    placed = move(org_client, event, extra, room=rooms[1], slot=late)

    assert refused.status_code == 409
    assert (
        refused.json()["detail"] == f"'{proposals[0].title}' is in {_where(taken)}. Move or remove it first."
    )
    assert half.status_code == 409
    assert (
        half.json()["detail"]
        == f"'{extra.title}' is not in the schedule yet: give it both a room and a slot."
    )
    assert placed.status_code == 200
    assert placement(event)[extra.pk] == (rooms[1], late, False)
    assert (
        session_of(placed.json(), extra)["explanation"]
        == "Added by the organizers to Small at Late. Small holds 10 (0 voters)."
    )


def test_a_session_can_be_taken_out_of_the_schedule(event, org_client, drafted):
    proposals, rooms, slots = drafted

    response = org_client.delete(f"/api/events/{event.slug}/schedule/sessions/{proposals[3].pk}")
    again = org_client.delete(f"/api/events/{event.slug}/schedule/sessions/{proposals[3].pk}")

    assert proposals[3].pk not in {s["proposal"] for s in response.json()["sessions"]}
    assert again.status_code == 404


def test_placement_refuses_rooms_and_slots_of_other_events_and_unknown_proposals(event, org_client, drafted):
    proposals, rooms, slots = drafted
    other = factories.make_event()
    foreign_room = Room.objects.create(event=other, name="Elsewhere", capacity=10)
    [foreign_proposal] = factories.make_proposals(other, 1)

    wrong_room = move(org_client, event, proposals[0], room=foreign_room.pk)
    wrong_proposal = move(org_client, event, foreign_proposal, pinned=True)
    empty = move(org_client, event, proposals[0])

    assert wrong_room.status_code == 400
    assert wrong_room.json() == {"room": ["No such room in this event."]}
    assert wrong_proposal.status_code == 404
    assert wrong_proposal.json()["code"] == "not_found"
    assert empty.json() == {"non_field_errors": ["Give a room, a slot or pinned."]}


# --- publishing and who may see it -----------------------------------------------------------

READS = ["/schedule", "/rooms", "/slots", "/schedule.json", "/schedule.ics", "/schedule.xml"]


@pytest.mark.parametrize("path", READS)
def test_attendees_and_anonymous_visitors_see_nothing_before_publishing(
    event, org_client, drafted, anon, path
):
    _, attendee_client, _ = factories.join(event)

    for client in (anon, attendee_client):
        response = client.get(f"/api/events/{event.slug}{path}")

        assert response.status_code == 403
        assert response.json() == {"detail": "The schedule is not published yet.", "code": "forbidden"}


@pytest.mark.parametrize("path", READS)
def test_everyone_sees_the_schedule_once_published(event, org_client, drafted, anon, path):
    _, attendee_client, _ = factories.join(event)

    published = org_client.post(f"/api/events/{event.slug}/schedule/publish")

    assert published.status_code == 200
    assert published.json()["published"] is True
    for client in (anon, attendee_client):
        assert client.get(f"/api/events/{event.slug}{path}").status_code == 200
    organizers = org_client.get(f"/api/events/{event.slug}/schedule").json()
    assert anon.get(f"/api/events/{event.slug}/schedule").json() == {
        k: v for k, v in organizers.items() if k not in ("conflicts", "constraints")
    }


def test_unpublishing_hides_it_again(event, org_client, drafted, anon):
    org_client.post(f"/api/events/{event.slug}/schedule/publish")

    response = org_client.post(f"/api/events/{event.slug}/schedule/unpublish")

    assert response.json()["published"] is False
    assert anon.get(f"/api/events/{event.slug}/schedule").status_code == 403


def test_the_event_flag_also_publishes_and_unpublishes(event, org_client, drafted, anon):
    org_client.patch(f"/api/events/{event.slug}", {"schedule_published": True}, format="json")
    assert anon.get(f"/api/events/{event.slug}/schedule").json()["published"] is True

    org_client.patch(f"/api/events/{event.slug}", {"schedule_published": False}, format="json")

    assert anon.get(f"/api/events/{event.slug}/schedule").status_code == 403


def test_an_empty_schedule_cannot_be_published(event, org_client):
    response = org_client.post(f"/api/events/{event.slug}/schedule/publish")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "There is nothing to publish yet: generate the schedule first.",
        "code": "conflict",
    }


ORGANIZER_ONLY = [
    ("post", "/rooms", {"name": "Taken", "capacity": 5}),
    ("patch", "/rooms/{room}", {"capacity": 1}),
    ("delete", "/rooms/{room}", None),
    ("post", "/slots", {"starts_at": "2030-05-02T10:00:00Z", "ends_at": "2030-05-02T11:00:00Z"}),
    ("patch", "/slots/{slot}", {"label": "Mine"}),
    ("delete", "/slots/{slot}", None),
    ("post", "/schedule/generate", None),
    ("patch", "/schedule/sessions/{proposal}", {"pinned": True}),
    ("delete", "/schedule/sessions/{proposal}", None),
    ("post", "/schedule/publish", None),
    ("post", "/schedule/unpublish", None),
    ("get", "/schedule/clashes", None),
]


@pytest.mark.parametrize(("method", "template", "body"), ORGANIZER_ONLY)
def test_only_the_events_organizers_change_the_schedule(
    event, org_client, drafted, anon, method, template, body
):
    proposals, rooms, slots = drafted
    path = f"/api/events/{event.slug}" + template.format(
        room=rooms[0], slot=slots[0], proposal=proposals[0].pk
    )
    _, attendee_client, _ = factories.join(event)
    other_organizer = User.objects.create(username="elsewhere", is_staff=True)  # no password: no hashing
    factories.make_event(other_organizer)
    stranger = factories.organizer_client(other_organizer)
    before = (placement(event), list(Room.objects.values_list("name", "capacity")), Slot.objects.count())

    for client in (anon, attendee_client, stranger):
        response = getattr(client, method)(path, body, format="json")

        assert response.status_code == 403
        assert response.json() == {"detail": "Only the event's organizers may do this.", "code": "forbidden"}
    assert (
        placement(event),
        list(Room.objects.values_list("name", "capacity")),
        Slot.objects.count(),
    ) == before


def test_a_published_schedule_tells_the_public_no_counts_while_they_are_hidden(organizer, anon):
    event = factories.make_event(organizer, tally_visibility="blind")
    client = factories.organizer_client(organizer)
    popular, other = factories.make_proposals(event, 2)
    cast(event, [popular], [popular], [other])
    add_room(client, event, "Closet", 1)
    add_slots(client, event, 2)
    generate(client, event)
    client.post(f"/api/events/{event.slug}/schedule/publish")

    public = anon.get(f"/api/events/{event.slug}/schedule").json()
    organizers = client.get(f"/api/events/{event.slug}/schedule").json()

    assert "over_capacity" not in public
    assert [set(s) for s in public["sessions"]] == [
        {"proposal", "title", "room", "slot", "slots", "length", "pinned"}
    ] * 2
    assert organizers["over_capacity"] == [popular.pk]
    assert session_of(organizers, popular)["voters"] == 2
    client.patch(f"/api/events/{event.slug}", {"results_revealed": True}, format="json")
    assert anon.get(f"/api/events/{event.slug}/schedule").json() == {
        k: v for k, v in organizers.items() if k not in ("conflicts", "constraints")
    }


# --- the live feed and the console page ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_publishing_sends_the_schedule_to_the_stage_and_phones_at_once(organizer):
    def arrange():
        event = factories.make_event(organizer)
        client = factories.organizer_client(organizer)
        factories.make_proposals(event, 2)
        add_room(client, event, "Hall", 50)
        add_slots(client, event, 1)
        generate(client, event)
        return event, client

    event, client = await sync_to_async(arrange)()
    stage = WebsocketCommunicator(
        application,
        f"/ws/events/{event.slug}/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
    )
    connected, _ = await stage.connect()
    assert connected
    try:
        first = json.loads(await stage.receive_from(timeout=5))

        await sync_to_async(client.post)(f"/api/events/{event.slug}/schedule/publish")

        while True:
            message = json.loads(await stage.receive_from(timeout=5))
            if message["type"] == "snapshot" and message["schedule"]:
                break
        expected = await sync_to_async(lambda: client.get(f"/api/events/{event.slug}/schedule").json())()
        assert first["schedule"] is None
        # The stage gets the public schedule: no constraint details (they name hosts).
        assert message["schedule"] == {
            k: v for k, v in expected.items() if k not in ("conflicts", "constraints")
        }
        assert message["version"] > first["version"]
    finally:
        await stage.disconnect()
        await sync_to_async(connections.close_all)()


def test_the_console_page_is_for_the_events_organizers_only(event, organizer, client):
    url = f"/e/{event.slug}/organize/schedule/"
    anonymous = client.get(url)
    stranger = factories.make_organizer()
    client.force_login(stranger)
    refused = client.get(url)
    client.force_login(organizer)

    allowed = client.get(url)

    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/admin/login/?next={url}"
    assert refused.status_code == 403
    assert "You don’t organize this event" in refused.content.decode()
    assert allowed.status_code == 200
    assert "script-src 'self'" in allowed["Content-Security-Policy"]
    page = allowed.content.decode()
    assert '<script type="module" src="/static/voting/schedule-console.js">' in page
    assert page.count("<script") == 2  # the module and the json_script data, nothing inline
    assert "csrftoken" in allowed.cookies
