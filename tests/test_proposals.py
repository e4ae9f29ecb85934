"""Proposals: limits, moderation, visibility, ordering, duplicates, edits and hostile input."""

import json

import pytest
from django.test import override_settings

from tests import factories
from voting.events import services as event_services
from voting.models import Proposal
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db


def propose(client, event, **fields):
    return client.post(
        f"/api/events/{event.slug}/proposals", {"title": "A fine session", **fields}, format="json"
    )


def test_attendees_must_join_before_proposing(event, anon):
    response = propose(anon, event)

    assert (response.status_code, response.json()["code"]) == (401, "not_joined")


@override_settings(UNCONF_PROPOSALS_PER_ATTENDEE=2)
def test_an_attendee_may_submit_up_to_the_limit(event):
    _, client, _ = factories.join(event)

    statuses = [propose(client, event, title=f"Session {i}").status_code for i in range(3)]

    assert statuses[:2] == [201, 201]
    assert statuses[2] == 409
    assert propose(client, event).json()["code"] == "proposal_cap"


def test_no_proposals_once_they_are_closed(event):
    event_services.update_event(event=event, changes={"accepting_proposals": False})
    _, client, _ = factories.join(event)

    response = propose(client, event)

    assert (response.status_code, response.json()["code"]) == (409, "proposals_closed")


def test_pre_moderation_shows_a_proposal_to_its_author_and_organizers_until_approved(
    organizer, org_client, anon
):
    event = factories.make_event(organizer, moderation="pre")
    _, author, _ = factories.join(event)
    _, other, _ = factories.join(event)
    created = propose(author, event).json()
    listing = f"/api/events/{event.slug}/proposals"

    seen_before = ([p["id"] for p in other.get(listing).json()], [p["id"] for p in anon.get(listing).json()])
    own = author.get(listing).json()
    organizers = org_client.get(listing).json()
    org_client.patch(f"{listing}/{created['id']}", {"status": "published"}, format="json")

    assert created["status"] == "pending"
    assert seen_before == ([], [])
    assert [(p["id"], p["mine"]) for p in own] == [(created["id"], True)]
    assert [p["id"] for p in organizers] == [created["id"]]
    assert [p["id"] for p in other.get(listing).json()] == [created["id"]]


def test_authors_edit_their_own_but_not_others(event):
    _, author, _ = factories.join(event)
    _, other, _ = factories.join(event)
    created = propose(author, event).json()
    url = f"/api/events/{event.slug}/proposals/{created['id']}"

    edited = author.patch(url, {"title": "A better title", "status": "published"}, format="json")
    refused = other.patch(url, {"title": "Hijacked"}, format="json")

    assert edited.json()["title"] == "A better title"
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert Proposal.objects.get().title == "A better title"


def test_hiding_removes_a_proposal_from_attendees_and_refunds_its_dots(event, org_client):
    [proposal] = factories.make_proposals(event, 1)
    voter, client, _ = factories.join(event)
    vote_services.set_dots(attendee=voter, proposal_id=proposal.pk, dots=1)

    org_client.patch(f"/api/events/{event.slug}/proposals/{proposal.pk}", {"status": "hidden"}, format="json")

    assert client.get(f"/api/events/{event.slug}/proposals").json() == []
    assert client.get(f"/api/events/{event.slug}/proposals/{proposal.pk}").status_code == 404
    assert client.get(f"/api/events/{event.slug}/me").json()["remaining"] == 5


def test_random_order_is_a_stable_shuffle_per_attendee_and_top_ranks_by_dots(event):
    proposals = factories.make_proposals(event, 12)
    voters = [factories.join(event) for _ in range(3)]
    for i, (attendee, _, _) in enumerate(voters):
        for proposal in proposals[: i + 1]:
            vote_services.set_dots(attendee=attendee, proposal_id=proposal.pk, dots=1)
    _, first, _ = voters[0]
    _, second, _ = voters[1]
    listing = f"/api/events/{event.slug}/proposals"

    once = [p["id"] for p in first.get(listing, {"order": "random"}).json()]
    twice = [p["id"] for p in first.get(listing, {"order": "random"}).json()]
    someone_else = [p["id"] for p in second.get(listing, {"order": "random"}).json()]
    top = [(p["id"], p["dots"]) for p in first.get(listing, {"order": "top"}).json()][:3]

    assert once == twice
    assert sorted(once) == sorted(p.pk for p in proposals)
    assert once != someone_else
    assert top == [(proposals[0].pk, 3), (proposals[1].pk, 2), (proposals[2].pk, 1)]


def test_similar_finds_near_duplicate_titles(event, anon):
    for title in ["Rust for machine learning", "Kubernetes at home", "Machine learning with Rust?"]:
        proposal_services.submit_proposal(event=event, author=None, title=title)

    response = anon.get(f"/api/events/{event.slug}/proposals/similar", {"title": "rust machine learning"})

    assert sorted(p["title"] for p in response.json()) == [
        "Machine learning with Rust?",
        "Rust for machine learning",
    ]


def test_list_endpoint_query_count_does_not_grow_with_proposals(event, anon, django_assert_max_num_queries):
    factories.make_proposals(event, 30)

    with django_assert_max_num_queries(4):
        response = anon.get(f"/api/events/{event.slug}/proposals")

    assert len(response.json()) == 30


HOSTILE_TITLES = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "\u202eevil right-to-left override",
    "مرحبا بالعالم — ملتقى",
    "🚀" * 120,
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_are_stored_intact(event, title):
    _, client, _ = factories.join(event)

    response = propose(client, event, title=title)

    assert response.status_code == 201
    assert response.json()["title"] == title
    assert Proposal.objects.get().title == title


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x" * 10_000}, "title"),
        ({"title": "ab"}, "title"),
        ({"title": "   \n  "}, "title"),
        ({"title": "Fine", "description": "d" * 2001}, "description"),
        ({"title": "Fine", "host_name": "h" * 81}, "host_name"),
        ({"title": "Null\x00byte"}, "title"),
        ({"title": ["a", "list"]}, "title"),
    ],
)
def test_invalid_fields_are_refused_field_by_field(event, body, field):
    _, client, _ = factories.join(event)

    response = client.post(f"/api/events/{event.slug}/proposals", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Proposal.objects.count() == 0


def test_malformed_json_is_a_clear_400(event):
    _, client, _ = factories.join(event)

    response = client.generic(
        "POST", f"/api/events/{event.slug}/proposals", "{nope", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_oversized_bodies_are_refused_with_413_before_parsing(event):
    _, client, _ = factories.join(event)
    body = json.dumps({"title": "Big", "description": "x" * 200_000})

    response = client.generic(
        "POST", f"/api/events/{event.slug}/proposals", body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large.", "code": "payload_too_large"}


def test_unknown_api_paths_and_events_answer_json_404(anon, db):
    unknown_path = anon.get("/api/does-not-exist")
    unknown_event = anon.get("/api/events/nope/proposals")

    assert (unknown_path.status_code, unknown_path.json()["code"]) == (404, "not_found")
    assert (unknown_event.status_code, unknown_event.json()["code"]) == (404, "not_found")


def test_wrong_method_and_media_type_answer_json(event, anon):
    method = anon.put(f"/api/events/{event.slug}/results", {}, format="json")
    media = anon.generic("POST", f"/api/events/{event.slug}/join", "code=x", content_type="text/plain")

    assert (method.status_code, method.json()["code"]) == (405, "method_not_allowed")
    assert (media.status_code, media.json()["code"]) == (415, "unsupported_media_type")


def test_event_address_cannot_change_and_deadlines_must_be_in_the_future(event, org_client):
    moved = org_client.patch(f"/api/events/{event.slug}", {"slug": "elsewhere"}, format="json")
    past = org_client.patch(
        f"/api/events/{event.slug}", {"voting_closes_at": "2000-01-01T00:00:00Z"}, format="json"
    )
    future = org_client.patch(
        f"/api/events/{event.slug}", {"voting_closes_at": "2100-01-01T00:00:00Z"}, format="json"
    )

    assert (moved.status_code, list(moved.json())) == (400, ["slug"])
    assert (past.status_code, list(past.json())) == (400, ["voting_closes_at"])
    assert future.json()["voting_closes_at"] == "2100-01-01T00:00:00Z"
