"""Every organizer-only endpoint refuses anonymous callers, attendees and other events' organizers."""

import pytest

from tests import factories
from voting.events import services as event_services
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db

# (method, path template, body) for every organizer-only action of the contract.
ORGANIZER_ONLY = [
    ("patch", "/api/events/{slug}", {"name": "Taken over"}),
    ("get", "/api/events/{slug}/badges", None),
    ("post", "/api/events/{slug}/badges", {"count": 2}),
    ("get", "/api/events/{slug}/badges.csv", None),
    ("post", "/api/events/{slug}/badges/{badge}/revoke", None),
    ("post", "/api/events/{slug}/badges/{badge}/reissue", None),
    ("patch", "/api/events/{slug}/proposals/{proposal}", {"status": "hidden"}),
    ("delete", "/api/events/{slug}/proposals/{proposal}", None),
    ("get", "/api/events/{slug}/proposals/{proposal}/merge?into={other}", None),
    ("post", "/api/events/{slug}/proposals/{proposal}/merge", {"into": "{other}"}),
    ("get", "/api/events/{slug}/ledger.csv", None),
]


@pytest.fixture
def scene(organizer):
    event = factories.make_event(organizer, tally_visibility="organizers")
    proposal, other = factories.make_proposals(event, 2)
    [badge] = event_services.generate_badges(event=event, count=1)
    names = {"slug": event.slug, "proposal": proposal.pk, "other": other.pk, "badge": badge.code}
    return event, names


def _call(client, method, template, body, names):
    path = template.format(**names)
    if isinstance(body, dict):
        body = {
            k: (int(v.format(**names)) if isinstance(v, str) and "{" in v else v) for k, v in body.items()
        }
    return getattr(client, method)(path, body, format="json")


@pytest.mark.parametrize(("method", "template", "body"), ORGANIZER_ONLY)
def test_anonymous_callers_are_refused(scene, anon, method, template, body):
    _, names = scene

    response = _call(anon, method, template, body, names)

    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("forbidden", "not_joined")


@pytest.mark.parametrize(("method", "template", "body"), ORGANIZER_ONLY)
def test_attendees_are_refused(scene, method, template, body):
    event, names = scene
    _, attendee_client, _ = factories.join(event)

    response = _call(attendee_client, method, template, body, names)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(("method", "template", "body"), ORGANIZER_ONLY)
def test_organizers_of_another_event_are_refused(scene, method, template, body):
    _, names = scene
    stranger = factories.make_organizer()
    factories.make_event(stranger)

    response = _call(factories.organizer_client(stranger), method, template, body, names)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(("method", "template", "body"), ORGANIZER_ONLY)
def test_the_events_organizer_is_allowed(scene, org_client, method, template, body):
    _, names = scene

    response = _call(org_client, method, template, body, names)

    assert 200 <= response.status_code < 300


def test_only_staff_create_events(anon, db):
    plain = factories.make_organizer(staff=False)
    staff = factories.make_organizer()
    body = {"slug": "new-event", "name": "New"}

    refused_anon = anon.post("/api/events", body, format="json")
    refused_plain = factories.organizer_client(plain).post("/api/events", body, format="json")
    created = factories.organizer_client(staff).post("/api/events", body, format="json")

    assert refused_anon.status_code == 403
    assert refused_plain.status_code == 403
    assert created.status_code == 201
    assert len(created.json()["join_code"]) == 6


def test_join_code_is_shown_to_organizers_only(event, org_client, anon):
    _, attendee_client, _ = factories.join(event)

    assert org_client.get(f"/api/events/{event.slug}").json()["join_code"] == event.join_code
    assert "join_code" not in anon.get(f"/api/events/{event.slug}").json()
    assert "join_code" not in attendee_client.get(f"/api/events/{event.slug}").json()


def test_results_and_counts_are_hidden_from_everyone_but_organizers_until_revealed(
    organizer, org_client, anon
):
    event = factories.make_event(organizer, tally_visibility="blind")
    [proposal] = factories.make_proposals(event, 1)
    attendee, attendee_client, _ = factories.join(event)
    vote_services.set_dots(attendee=attendee, proposal_id=proposal.pk, dots=1)
    results = f"/api/events/{event.slug}/results"

    hidden_results = anon.get(results)
    hidden_csv = attendee_client.get(results + ".csv")
    hidden_list = attendee_client.get(f"/api/events/{event.slug}/proposals").json()
    organizer_view = org_client.get(results).json()
    event_services.update_event(event=event, changes={"results_revealed": True})
    revealed = anon.get(results).json()

    assert hidden_results.status_code == 403
    assert hidden_csv.status_code == 403
    assert [set(p) & {"dots", "voters"} for p in hidden_list] == [set()]
    assert organizer_view == [
        {"id": proposal.pk, "title": proposal.title, "host_name": "", "dots": 1, "voters": 1}
    ]
    assert revealed == organizer_view
