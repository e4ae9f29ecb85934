"""Upgrading a database of the previous release (migration 0004) to counts kept by the database."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("voting", "0004_attendee_by_event_token")]
AFTER = [("voting", "0005_counts_from_votes")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_previous_release():
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_upgrade_refunds_stranded_dots_and_recounts(at_previous_release):
    apps = at_previous_release
    Event, Attendee, Proposal, Vote = (
        apps.get_model("voting", n) for n in ("Event", "Attendee", "Proposal", "Vote")
    )
    event = Event.objects.create(slug="upgrade", name="Upgrade", join_code="UPGRAD", voting_open=True)
    ada, bob = (
        Attendee.objects.create(event=event, public_id=f"a_{n}", token_hash=n) for n in ("ada", "bob")
    )
    published = Proposal.objects.create(event=event, title="Kept", status="published", dots=9, voters=9)
    pending = Proposal.objects.create(event=event, title="Sent back", status="pending", dots=2, voters=2)
    Vote.objects.create(event=event, attendee=ada, proposal=published, dots=1)
    Vote.objects.create(event=event, attendee=ada, proposal=pending, dots=1)
    Vote.objects.create(event=event, attendee=bob, proposal=pending, dots=1)

    apps = migrate(AFTER)

    Proposal, Vote, LedgerEntry = (apps.get_model("voting", n) for n in ("Proposal", "Vote", "LedgerEntry"))
    counters = {p.title: (p.dots, p.voters) for p in Proposal.objects.filter(event_id=event.pk)}
    assert counters == {"Kept": (1, 1), "Sent back": (0, 0)}
    assert list(Vote.objects.filter(event_id=event.pk).values_list("proposal__title", "dots")) == [
        ("Kept", 1)
    ]
    refunds = LedgerEntry.objects.filter(event_id=event.pk).values_list(
        "attendee__public_id", "dots_after", "cause"
    )
    assert sorted(refunds) == [("a_ada", 0, "pending"), ("a_bob", 0, "pending")]
