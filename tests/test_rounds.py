"""Rounds (contract 5.1): a morning and an afternoon marketplace in one event, one code.

What an organizer and the hall see: round 1 exists from the start; starting round 2 closes
round 1 at that instant, gives everyone a fresh budget, carries unscheduled proposals over at
zero, keeps round 1's results, ledger and published schedule, and refuses votes on what
round 1 scheduled. The same promises under random sequences: tests/test_counts_invariant.py.
"""

import csv
import io

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from tests import factories
from voting.models import Event, Proposal, Round

pytestmark = pytest.mark.django_db


def url(event, path=""):
    return f"/api/events/{event.slug}{path}"


def vote(client, event, proposal, dots=1):
    return client.put(url(event, f"/votes/{proposal.pk}"), {"dots": dots}, format="json")


def start_round(org_client, event, name="Afternoon"):
    created = org_client.post(url(event, "/rounds"), {"name": name}, format="json")
    assert created.status_code == 201, created.json()
    started = org_client.post(url(event, f"/rounds/{created.json()['id']}/start"))
    assert started.status_code == 200, started.json()
    return started.json()


@pytest.fixture
def morning(event, org_client):
    """Round 1: three proposals, two attendees who spent their whole budget of 2 dots, one
    session (the top proposal) scheduled in Hall at 10:00 and published."""
    Event.objects.filter(pk=event.pk).update(votes_per_attendee=2)
    top, second, third = factories.make_proposals(event, 3)
    _, ada, _ = factories.join(event, "Ada")
    _, bob, _ = factories.join(event, "Bob")
    for client, picks in ((ada, (top, second)), (bob, (top, third))):
        for proposal in picks:
            assert vote(client, event, proposal).status_code == 200
    room = org_client.post(url(event, "/rooms"), {"name": "Hall", "capacity": 30}, format="json").json()["id"]
    slot = org_client.post(
        url(event, "/slots"),
        {"starts_at": "2030-05-01T10:00:00Z", "ends_at": "2030-05-01T11:00:00Z"},
        format="json",
    ).json()["id"]
    placed = org_client.patch(
        url(event, f"/schedule/sessions/{top.pk}"), {"room": room, "slot": slot}, format="json"
    )
    assert placed.status_code == 200
    assert org_client.post(url(event, "/schedule/publish")).status_code == 200
    return {"proposals": (top, second, third), "ada": ada, "bob": bob, "room": room, "slot": slot}


def test_every_event_starts_with_round_one(event, anon):
    rounds = anon.get(url(event, "/rounds")).json()

    assert [(r["name"], r["started_at"] is not None) for r in rounds] == [("Round 1", True)]
    assert anon.get(url(event)).json()["current_round"] == rounds[0]["id"]


def test_only_organizers_prepare_and_start_rounds(event, org_client):
    _, attendee, _ = factories.join(event)

    refused = attendee.post(url(event, "/rounds"), {"name": "Mine"}, format="json")
    prepared = org_client.post(url(event, "/rounds"), {}, format="json")
    refused_start = attendee.post(url(event, f"/rounds/{prepared.json()['id']}/start"))

    assert refused.status_code == 403 and refused_start.status_code == 403
    assert prepared.status_code == 201
    assert prepared.json()["name"] == "Round 2" and prepared.json()["started_at"] is None
    assert Event.objects.get(pk=event.pk).current_round.name == "Round 1"


def test_a_round_starts_once_and_only_in_its_own_event(event, org_client):
    other = factories.make_event(factories.make_organizer())
    foreign = Round.objects.get(pk=other.current_round_id)

    started = start_round(org_client, event)
    again = org_client.post(url(event, f"/rounds/{started['id']}/start"))
    elsewhere = org_client.post(url(event, f"/rounds/{foreign.pk}/start"))

    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert elsewhere.status_code == 404


def test_starting_a_round_closes_the_last_and_opens_the_next_with_fresh_budgets(event, org_client, morning):
    top, second, third = morning["proposals"]
    assert vote(morning["ada"], event, third).json()["code"] == "budget_exhausted"  # spent in round 1

    second_round = start_round(org_client, event)
    state = org_client.get(url(event)).json()
    closed = vote(morning["ada"], event, third)
    assert org_client.patch(url(event), {"voting_open": True}, format="json").status_code == 200
    fresh = vote(morning["ada"], event, third, 1), vote(morning["ada"], event, second, 1)

    assert state["current_round"] == second_round["id"]
    assert (state["voting_open"], state["accepting_proposals"], state["results_revealed"]) == (
        False,
        True,
        False,
    )
    assert (state["schedule_published"], state["voting_closes_at"]) == (False, None)
    assert closed.json()["code"] == "voting_closed"
    assert [r.status_code for r in fresh] == [200, 200]
    assert morning["ada"].get(url(event, "/me")).json()["remaining"] == 0


def test_unscheduled_proposals_carry_over_at_zero_and_the_scheduled_one_takes_no_votes(
    event, org_client, morning
):
    top, second, third = morning["proposals"]
    start_round(org_client, event)
    org_client.patch(url(event), {"voting_open": True}, format="json")

    refused = vote(morning["bob"], event, top)
    board = morning["bob"].get(url(event, "/proposals")).json()
    results = org_client.get(url(event, "/results")).json()

    assert refused.status_code == 409 and refused.json()["code"] == "not_votable"
    assert {p["id"] for p in board} == {second.pk, third.pk}
    assert [(r["id"], r["dots"], r["voters"]) for r in results] == [(second.pk, 0, 0), (third.pk, 0, 0)]


def test_an_ended_round_keeps_its_results_ledger_and_my_votes(event, org_client, morning):
    top, second, third = morning["proposals"]
    first_round = event.current_round_id
    start_round(org_client, event)
    org_client.patch(url(event), {"voting_open": True}, format="json")
    vote(morning["ada"], event, third)

    earlier = org_client.get(url(event, f"/results?round={first_round}")).json()
    ledger = org_client.get(url(event, f"/ledger.csv?round={first_round}")).content.decode()
    now_ledger = org_client.get(url(event, "/ledger.csv")).content.decode()
    mine_then = morning["ada"].get(url(event, f"/me?round={first_round}")).json()
    mine_now = morning["ada"].get(url(event, "/me")).json()

    assert [(r["id"], r["dots"], r["voters"]) for r in earlier] == [
        (top.pk, 2, 2),
        (second.pk, 1, 1),
        (third.pk, 1, 1),
    ]
    assert len(list(csv.DictReader(io.StringIO(ledger)))) == 4  # the four votes of round 1
    assert [row["proposal"] for row in csv.DictReader(io.StringIO(now_ledger))] == [str(third.pk)]
    assert mine_then["votes"] == {str(top.pk): 1, str(second.pk): 1}
    assert mine_now["votes"] == {str(third.pk): 1} and mine_now["remaining"] == 1


def test_an_unknown_round_is_not_found(event, org_client):
    for query in ("?round=999999", "?round=abc", f"?round={factories.make_event().current_round_id}"):
        assert org_client.get(url(event, f"/results{query}")).status_code == 404


def test_blind_results_of_an_ended_round_stay_hidden_unless_they_were_revealed(event, org_client, morning):
    first_round = event.current_round_id
    org_client.patch(url(event), {"tally_visibility": "blind"}, format="json")
    start_round(org_client, event)

    hidden = morning["ada"].get(url(event, f"/results?round={first_round}"))
    organizers = org_client.get(url(event, f"/results?round={first_round}"))

    assert hidden.status_code == 403
    assert organizers.status_code == 200


def test_the_next_round_schedules_only_its_own_slots_and_the_last_schedule_stays(event, org_client, morning):
    top, second, third = morning["proposals"]
    start_round(org_client, event)
    later = org_client.post(
        url(event, "/slots"),
        {"starts_at": "2030-05-01T14:00:00Z", "ends_at": "2030-05-01T15:00:00Z"},
        format="json",
    ).json()
    org_client.patch(url(event), {"voting_open": True}, format="json")
    vote(morning["ada"], event, third)

    generated = org_client.post(url(event, "/schedule/generate"), {}, format="json").json()
    moved_back = org_client.patch(
        url(event, f"/schedule/sessions/{second.pk}"),
        {"room": morning["room"], "slot": morning["slot"]},
        format="json",
    )
    org_client.post(url(event, "/schedule/publish"))
    public = APIClient().get(url(event, "/schedule")).json()
    exported = APIClient().get(url(event, "/schedule.json")).json()

    assert later["round"] == Event.objects.get(pk=event.pk).current_round_id
    assert [s["slot"] for s in generated["sessions"]] == [later["id"]]
    assert [s["proposal"] for s in generated["sessions"]] == [third.pk]  # the most dots this round
    assert moved_back.status_code == 409  # round 1's slot is round 1's
    assert [(r["name"], [s["proposal"] for s in r["sessions"]]) for r in public["rounds"]] == [
        ("Round 1", [top.pk]),
        ("Afternoon", [third.pk]),
    ]
    assert [s["proposal"] for s in exported["sessions"]] == [top.pk, third.pk]


def test_the_public_sees_an_earlier_published_schedule_but_not_the_next_draft(event, org_client, morning):
    top, second, third = morning["proposals"]
    start_round(org_client, event)
    org_client.post(
        url(event, "/slots"),
        {"starts_at": "2030-05-01T14:00:00Z", "ends_at": "2030-05-01T15:00:00Z"},
        format="json",
    )
    org_client.post(url(event, "/schedule/generate"), {}, format="json")

    public = APIClient().get(url(event, "/schedule"))

    assert public.status_code == 200
    assert public.json()["published"] is False and public.json()["sessions"] == []
    assert [(r["published"], len(r["sessions"])) for r in public.json()["rounds"]] == [(True, 1), (False, 0)]
    assert public.json()["rounds"][0]["sessions"][0]["title"] == top.title


def test_a_scheduled_session_of_an_ended_round_cannot_be_merged(event, org_client, morning):
    top, second, _ = morning["proposals"]
    start_round(org_client, event)

    merged = org_client.post(url(event, f"/proposals/{second.pk}/merge"), {"into": top.pk}, format="json")

    assert merged.status_code == 409
    assert Proposal.objects.get(pk=second.pk).status == "published"


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_gives_every_event_round_one():
    executor = MigrationExecutor(connection)
    before = [("voting", "0008_live_tables_touch_event")]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    OldEvent, OldProposal, OldSlot, OldAttendee, OldLedgerEntry = (
        apps.get_model("voting", n) for n in ("Event", "Proposal", "Slot", "Attendee", "LedgerEntry")
    )
    event = OldEvent.objects.create(slug="upgrade", name="Upgrade", join_code="UPGRAD")
    proposal = OldProposal.objects.create(event=event, title="Kept")
    attendee = OldAttendee.objects.create(event=event, public_id="a_ada")
    OldSlot.objects.create(event=event, starts_at="2030-05-01T10:00Z", ends_at="2030-05-01T11:00Z")
    OldLedgerEntry.objects.create(
        event=event, attendee=attendee, proposal=proposal, dots_before=0, dots_after=1, cause="vote"
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    upgraded = Event.objects.get(slug="upgrade")  # the current models
    first = upgraded.current_round
    assert (first.number, first.name) == (1, "Round 1")
    assert set(upgraded.proposals.values_list("round", flat=True)) == {first.pk}
    assert set(upgraded.slots.values_list("round", flat=True)) == {first.pk}
    assert set(upgraded.ledger.values_list("round", flat=True)) == {first.pk}
