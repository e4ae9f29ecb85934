"""One ranking rule (contract 4) wherever a ranking shows: the API's `order=top`, results and
results.csv, the schedule builder's explanations; the browser's copy is held to the same
cases in tests/browser/test_ranking_js.py."""

import csv
import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from tests import factories
from tests.ranking_cases import ORDER, PROPOSALS, RANK_NUMBERS
from voting.proposals import ranking
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db


def test_the_rule_orders_by_dots_then_voters_then_age_and_numbers_ties_alike():
    start = datetime(2030, 5, 1, tzinfo=UTC)
    items = [
        SimpleNamespace(
            id=10 - i, title=name, dots=dots, voters=voters, created_at=start + timedelta(minutes=i)
        )
        for i, (name, dots, voters) in enumerate(PROPOSALS)
    ]
    ordered = ranking.ranked(reversed(items))  # input order does not matter
    assert [p.title for p in ordered] == ORDER
    assert ranking.rank_numbers(ordered) == RANK_NUMBERS


@pytest.fixture
def hall(organizer):
    """The cases, cast as real votes: each voter puts their dots on one proposal."""
    event = factories.make_event(organizer, votes_per_attendee=10, max_dots_per_proposal=5)
    made = {}
    for name, dots, voters in PROPOSALS:
        proposal = proposal_services.submit_proposal(event=event, author=None, title=f"Session {name}")
        made[name] = proposal
        shares = [dots // voters + (1 if i < dots % voters else 0) for i in range(voters)] if voters else []
        for share in shares:
            attendee, _, _ = factories.join(event)
            vote_services.set_dots(attendee=attendee, proposal_id=proposal.pk, dots=share)
    return event, made


def titles(rows):
    return [row["title"].removeprefix("Session ") for row in rows]


def test_the_api_lists_rank_and_number_by_the_one_rule(hall, org_client, anon):
    event, _ = hall
    base = f"/api/events/{event.slug}"
    assert titles(anon.get(f"{base}/proposals?order=top").json()) == ORDER
    assert titles(anon.get(f"{base}/results").json()) == ORDER
    rows = list(csv.DictReader(io.StringIO(org_client.get(f"{base}/results.csv").content.decode())))
    assert [row["title"].removeprefix("Session ") for row in rows] == ORDER
    assert [int(row["rank"]) for row in rows] == RANK_NUMBERS  # tied: same number, as on stage


def test_the_schedule_builder_quotes_the_rank_the_stage_shows(hall, org_client):
    event, made = hall
    base = f"/api/events/{event.slug}"
    room = org_client.post(f"{base}/rooms", {"name": "Hall", "capacity": 100}, format="json")
    assert room.status_code == 201
    for hour in range(10, 15):
        slot = {"starts_at": f"2030-05-01T{hour}:00:00Z", "ends_at": f"2030-05-01T{hour}:45:00Z"}
        assert org_client.post(f"{base}/slots", slot, format="json").status_code == 201
    generated = org_client.post(f"{base}/schedule/generate")
    assert generated.status_code == 200, generated.json()
    explanation = {s["proposal"]: s["explanation"] for s in generated.json()["sessions"]}
    expected = dict(zip(ORDER, RANK_NUMBERS, strict=True))
    for name, proposal in made.items():
        tied = RANK_NUMBERS.count(expected[name]) > 1
        assert explanation[proposal.pk].startswith(
            f"Ranked #{expected[name]}{' (tied)' if tied else ''} with"
        )
