"""Hosts, co-host invites, availability, long sessions and the event's time zone (contract 5.1)."""

import pytest

from tests import factories
from tests.test_schedule_api import add_room, add_slots, cast, generate, session_of
from voting.proposals import services as proposal_services

pytestmark = pytest.mark.django_db


def propose(client, event, title="Mapping the venue wifi", **fields):
    response = client.post(f"/api/events/{event.slug}/proposals", {"title": title, **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def invite(client, event, proposal_id):
    response = client.post(f"/api/events/{event.slug}/proposals/{proposal_id}/cohost-invite")
    assert response.status_code == 201, response.json()
    return response.json()["code"]


def test_an_invited_attendee_becomes_a_cohost_and_may_edit_but_not_withdraw(event, anon):
    author, author_client, _ = factories.join(event)
    cohost, cohost_client, _ = factories.join(event)
    proposal = propose(author_client, event)
    code = invite(author_client, event, proposal["id"])

    joined = cohost_client.post(f"/api/events/{event.slug}/cohost", {"code": code}, format="json")
    edited = cohost_client.patch(
        f"/api/events/{event.slug}/proposals/{proposal['id']}",
        {"title": "Mapping the wifi, together"},
        format="json",
    )
    withdraw = cohost_client.delete(f"/api/events/{event.slug}/proposals/{proposal['id']}")

    assert joined.status_code == 200
    assert joined.json()["hosts"] == [author.public_id, cohost.public_id]
    assert edited.status_code == 200
    assert edited.json()["title"] == "Mapping the wifi, together"
    assert withdraw.status_code == 403
    # The public sees the host label, never the pseudonyms.
    public = anon.get(f"/api/events/{event.slug}/proposals/{proposal['id']}").json()
    assert "hosts" not in public


def test_invite_codes_work_once_and_the_errors_say_why(event, settings):
    settings.UNCONF_COHOSTS_MAX = 1
    author, author_client, _ = factories.join(event)
    _, first_client, _ = factories.join(event)
    _, second_client, _ = factories.join(event)
    _, stranger_client, _ = factories.join(event)
    proposal = propose(author_client, event)
    code = invite(author_client, event, proposal["id"])
    url = f"/api/events/{event.slug}/cohost"

    first = first_client.post(url, {"code": code}, format="json")
    reused = second_client.post(url, {"code": code}, format="json")
    capped = second_client.post(url, {"code": invite(author_client, event, proposal["id"])}, format="json")
    self_invite = author_client.post(
        url, {"code": invite(author_client, event, proposal["id"])}, format="json"
    )
    not_author = stranger_client.post(f"/api/events/{event.slug}/proposals/{proposal['id']}/cohost-invite")

    assert first.status_code == 200
    assert (reused.status_code, reused.json()["code"]) == (403, "invalid_code")
    assert (capped.status_code, capped.json()["code"]) == (409, "cohost_cap")
    assert (self_invite.status_code, self_invite.json()["code"]) == (409, "already_host")
    assert not_author.status_code == 403


def test_organizers_see_every_proposals_hosts(event, org_client):
    author, author_client, _ = factories.join(event)
    proposal = propose(author_client, event)

    listed = org_client.get(f"/api/events/{event.slug}/proposals").json()

    assert [p["hosts"] for p in listed if p["id"] == proposal["id"]] == [[author.public_id]]


def test_a_merge_adds_the_merged_proposals_hosts_up_to_the_cap_and_lists_the_rest(
    event, org_client, settings
):
    settings.UNCONF_COHOSTS_MAX = 1
    target_author, target_client, _ = factories.join(event)
    source_author, source_client, _ = factories.join(event)
    extra, extra_client, _ = factories.join(event)
    target = propose(target_client, event, "Wifi for everyone")
    source = propose(source_client, event, "Wifi for all of us")
    joined = extra_client.post(
        f"/api/events/{event.slug}/cohost",
        {"code": invite(source_client, event, source["id"])},
        format="json",
    )
    assert joined.status_code == 200, joined.json()

    merged = org_client.post(
        f"/api/events/{event.slug}/proposals/{source['id']}/merge", {"into": target["id"]}, format="json"
    )

    assert merged.json()["hosts_dropped"] == [extra.public_id]
    hosts = org_client.get(f"/api/events/{event.slug}/proposals/{target['id']}").json()["hosts"]
    assert hosts == [target_author.public_id, source_author.public_id]


def test_authors_ask_for_one_or_two_slots_organizers_for_more(event, org_client):
    _, author_client, _ = factories.join(event)

    double = propose(author_client, event, length=2)
    triple = author_client.patch(
        f"/api/events/{event.slug}/proposals/{double['id']}", {"length": 3}, format="json"
    )
    by_organizer = org_client.patch(
        f"/api/events/{event.slug}/proposals/{double['id']}", {"length": 3}, format="json"
    )

    assert double["length"] == 2
    assert triple.status_code == 400
    assert triple.json() == {"length": ["A session lasts 1 to 2 slots."]}
    assert by_organizer.json()["length"] == 3


def test_availability_is_read_and_replaced(event, org_client):
    _, client, _ = factories.join(event)
    add_room(org_client, event, "Hall", 50)
    first, second, _third = add_slots(org_client, event, 3)
    url = f"/api/events/{event.slug}/me/availability"

    put = client.put(url, {"unavailable_slots": [second, first]}, format="json")
    replaced = client.put(url, {"unavailable_slots": [second]}, format="json")
    unknown = client.put(url, {"unavailable_slots": [999999]}, format="json")

    assert put.json() == {"unavailable_slots": sorted([first, second])}
    assert replaced.json() == {"unavailable_slots": [second]}
    assert client.get(url).json()["unavailable_slots"] == [second]
    assert [s["id"] for s in client.get(url).json()["slots"]] == [first, second, _third]
    assert unknown.status_code == 400


def test_generate_keeps_a_host_out_of_two_rooms_and_out_of_slots_they_cannot_make(event, org_client):
    host, host_client, _ = factories.join(event)
    first = propose(host_client, event, "Soldering for beginners")
    second = propose(host_client, event, "Repairing phones")
    others = factories.make_proposals(event, 2)
    add_room(org_client, event, "Hall", 50)
    add_room(org_client, event, "Nook", 10)
    slots = add_slots(org_client, event, 3)
    host_client.put(
        f"/api/events/{event.slug}/me/availability", {"unavailable_slots": [slots[0]]}, format="json"
    )
    cast(event, *([others[0]] for _ in range(3)), *([others[1]] for _ in range(2)))

    schedule = generate(org_client, event)

    mine = [s for s in schedule["sessions"] if s["proposal"] in (first["id"], second["id"])]
    assert len(mine) == 2
    assert mine[0]["slot"] != mine[1]["slot"]
    assert slots[0] not in {s["slot"] for s in mine}
    assert schedule["conflicts"] == []


def test_pinning_a_session_against_a_constraint_is_reported_as_a_conflict(event, org_client):
    host, host_client, _ = factories.join(event)
    first = propose(host_client, event, "Soldering for beginners")
    second = propose(host_client, event, "Repairing phones")
    hall = add_room(org_client, event, "Hall", 50)
    nook = add_room(org_client, event, "Nook", 10)
    [slot] = add_slots(org_client, event, 1)
    url = f"/api/events/{event.slug}/schedule/sessions"
    org_client.patch(f"{url}/{first['id']}", {"room": hall, "slot": slot, "pinned": True}, format="json")

    placed = org_client.patch(
        f"{url}/{second['id']}", {"room": nook, "slot": slot, "pinned": True}, format="json"
    )

    assert placed.json()["conflicts"] == [
        {
            "proposals": sorted([first["id"], second["id"]]),
            "reason": "'Soldering for beginners' and 'Repairing phones' overlap at S1 and share host "
            f"{host.public_id}.",
        }
    ]


def test_the_editor_is_told_where_a_session_would_break_a_constraint(event, org_client):
    host, host_client, _ = factories.join(event)
    proposal = propose(host_client, event, "Soldering for beginners")
    add_room(org_client, event, "Hall", 50)
    slots = add_slots(org_client, event, 2)
    host_client.put(
        f"/api/events/{event.slug}/me/availability", {"unavailable_slots": [slots[1]]}, format="json"
    )

    schedule = generate(org_client, event)

    assert schedule["constraints"] == {
        str(proposal["id"]): [{"slot": slots[1], "reason": f"Host {host.public_id} cannot host at S2."}]
    }


def test_a_long_session_takes_consecutive_slots_of_one_room_and_compact_fills_early(event, org_client):
    workshop, talk = factories.make_proposals(event, 2)
    proposal_services.edit_proposal(proposal=workshop, changes={"length": 2}, by_organizer=True)
    cast(event, [workshop], [workshop], [talk])
    add_room(org_client, event, "Hall", 50)
    add_room(org_client, event, "Nook", 10)
    slots = add_slots(org_client, event, 4)

    schedule = generate(org_client, event)

    assert session_of(schedule, workshop)["slots"] == slots[:2]
    assert session_of(schedule, workshop)["length"] == 2
    assert session_of(schedule, talk)["slot"] in slots[:2]


def test_spread_filling_is_on_request(event, org_client):
    proposals = factories.make_proposals(event, 2)
    cast(event, proposals, proposals)
    add_room(org_client, event, "Hall", 50)
    add_room(org_client, event, "Nook", 10)
    add_slots(org_client, event, 2)

    compact = generate(org_client, event)
    spread = org_client.post(f"/api/events/{event.slug}/schedule/generate", {"fill": "spread"}, format="json")
    wrong = org_client.post(
        f"/api/events/{event.slug}/schedule/generate", {"fill": "sideways"}, format="json"
    )

    assert compact["clash_total"] == 2
    assert spread.json()["clash_total"] == 0
    assert wrong.status_code == 400


def test_an_event_has_its_own_time_zone_for_slots_and_deadlines(organizer, org_client, settings):
    settings.TIME_ZONE = "Europe/Lisbon"
    event = factories.make_event(organizer)
    assert org_client.get(f"/api/events/{event.slug}").json()["time_zone"] == "Europe/Lisbon"

    changed = org_client.patch(f"/api/events/{event.slug}", {"time_zone": "Asia/Tokyo"}, format="json")
    bad = org_client.patch(f"/api/events/{event.slug}", {"time_zone": "Mars/Olympus"}, format="json")
    slot = org_client.post(
        f"/api/events/{event.slug}/slots",
        {"starts_at": "2030-05-01T10:00", "ends_at": "2030-05-01T11:00"},
        format="json",
    ).json()

    assert changed.json()["time_zone"] == "Asia/Tokyo"
    assert bad.status_code == 400
    assert slot["starts_at"] == "2030-05-01T10:00:00+09:00"


def test_exports_give_a_long_session_the_end_of_its_last_slot_in_the_event_zone(event, org_client):
    org_client.patch(f"/api/events/{event.slug}", {"time_zone": "Europe/Berlin"}, format="json")
    [workshop] = factories.make_proposals(event, 1)
    proposal_services.edit_proposal(proposal=workshop, changes={"length": 2}, by_organizer=True)
    add_room(org_client, event, "Hall", 50)
    add_slots(org_client, event, 2)  # 10:00–10:45 and 11:00–11:45 UTC
    generate(org_client, event)

    exported = org_client.get(f"/api/events/{event.slug}/schedule.json").json()

    assert exported["time_zone"] == "Europe/Berlin"
    assert [(s["starts_at"], s["ends_at"]) for s in exported["sessions"]] == [
        ("2030-05-01T12:00:00+02:00", "2030-05-01T13:45:00+02:00")
    ]
