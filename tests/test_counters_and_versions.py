"""The database is the one writer of the counters, and a version names one state."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

from tests import factories
from voting.feed import broadcast, messages, snapshots
from voting.feed import hub as feed_hub
from voting.models import Event, Proposal

pytestmark = pytest.mark.django_db(transaction=True)


def counts_of(message: dict) -> dict:
    return json.loads(message["organizers"])["counts"]


def vote(client, event, proposal, dots):
    response = client.put(f"/api/events/{event.slug}/votes/{proposal.pk}", {"dots": dots}, format="json")
    assert response.status_code == 200, response.json()


def test_a_counter_cannot_be_written_directly(event):
    [proposal] = factories.make_proposals(event, 1)

    with pytest.raises(IntegrityError, match="write votes, not counters"), transaction.atomic():
        Proposal.objects.filter(pk=proposal.pk).update(dots=3)

    assert Proposal.objects.get(pk=proposal.pk).dots == 0


def test_saving_a_proposal_read_before_a_vote_keeps_the_vote(event):
    """The phantom count of issue 13: a stale copy saved after the counters moved."""
    [proposal] = factories.make_proposals(event, 1)
    stale = Proposal.objects.get(pk=proposal.pk)
    _, client, _ = factories.join(event)
    vote(client, event, proposal, 1)

    stale.title = "Renamed while someone voted"
    stale.save()

    stored = Proposal.objects.get(pk=proposal.pk)
    assert (stored.title, stored.dots, stored.voters) == ("Renamed while someone voted", 1, 1)


def test_hide_then_publish_starts_at_zero_and_a_new_vote_counts_one(event, org_client):
    [proposal] = factories.make_proposals(event, 1)
    voters = [factories.join(event)[1] for _ in range(3)]
    for client in voters:
        vote(client, event, proposal, 1)
    url = f"/api/events/{event.slug}/proposals/{proposal.pk}"

    org_client.patch(url, {"status": "hidden"}, format="json")
    org_client.patch(url, {"status": "published"}, format="json")
    vote(voters[0], event, proposal, 1)

    results = org_client.get(f"/api/events/{event.slug}/results").json()
    assert [(r["id"], r["dots"], r["voters"]) for r in results] == [(proposal.pk, 1, 1)]
    me = voters[1].get(f"/api/events/{event.slug}/me").json()
    assert (me["votes"], me["remaining"]) == ({}, event.votes_per_attendee)


def test_sending_back_to_pending_refunds_with_its_own_cause(event, org_client):
    [proposal] = factories.make_proposals(event, 1)
    attendee, client, _ = factories.join(event)
    vote(client, event, proposal, 1)

    org_client.patch(
        f"/api/events/{event.slug}/proposals/{proposal.pk}", {"status": "pending"}, format="json"
    )

    ledger = org_client.get(f"/api/events/{event.slug}/ledger.csv").content.decode().splitlines()
    assert ledger[-1].split(",")[-3:] == ["1", "0", "pending"]
    assert client.get(f"/api/events/{event.slug}/me").json()["votes"] == {}
    assert Proposal.objects.get(pk=proposal.pk).dots == 0


@pytest.mark.parametrize("digits", ["9223372036854775808", "123456789012345678901234"])
def test_an_id_past_bigint_on_the_vote_url_is_a_404(event, digits):
    _, client, _ = factories.join(event)

    response = client.put(f"/api/events/{event.slug}/votes/{digits}", {"dots": 1}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("builder_a_reads", "builder_b_builds"),
    [
        ("before the commit", "after the commit"),
        ("after the commit", "after the commit"),
        # The order that stepped a bar back: the later-started build read the older state.
        ("after the commit", "before the commit"),
    ],
)
def test_two_builders_around_one_commit_never_give_a_higher_version_older_counts(
    event, monkeypatch, builder_a_reads, builder_b_builds
):
    """The race seen under a 20,000-socket storm, without load: builder A is held at the
    point where it reads the state, a vote commits, builder B builds from scratch, then A
    finishes. Whichever order, the higher version carries the newer counts, and one version
    is one state."""
    [proposal] = factories.make_proposals(event, 1)
    _, client, _ = factories.join(event)
    real_clock = snapshots.state_clock
    a_reached, a_may_go = threading.Event(), threading.Event()

    def held_clock(event_id):
        if threading.current_thread().name != "builder-a":
            return real_clock(event_id)
        if builder_a_reads == "after the commit":
            a_reached.set()
            a_may_go.wait(10)
            return real_clock(event_id)
        clock = real_clock(event_id)  # A's snapshot is fixed here, before the vote commits
        a_reached.set()
        a_may_go.wait(10)
        return clock

    monkeypatch.setattr(snapshots, "state_clock", held_clock)
    built = {}

    def build(name):
        try:
            built[name] = messages.build_message(event.pk, messages.TALLY)
        finally:
            connection.close()

    builder_a = threading.Thread(target=build, args=("a",), name="builder-a")
    builder_a.start()
    assert a_reached.wait(10)
    if builder_b_builds == "before the commit":
        build("b")
    vote(client, event, proposal, 1)
    if builder_b_builds == "after the commit":
        build("b")
    a_may_go.set()
    builder_a.join(10)

    dots = {name: counts_of(message)[str(proposal.pk)]["dots"] for name, message in built.items()}
    older, newer = sorted(built, key=lambda name: dots[name])
    if dots[older] == dots[newer]:
        assert built["a"]["version"] == built["b"]["version"] and counts_of(built["a"]) == counts_of(
            built["b"]
        )
    else:
        assert built[older]["version"] < built[newer]["version"]


def test_two_processes_building_around_one_commit_never_give_a_higher_version_older_counts(event):
    """The same race across processes, as two Daphnes meet it: process A reads the state and is
    held, a vote commits, this process builds its tally, then A finishes. A's message shows the
    older count, so it must carry the lower version."""
    [proposal] = factories.make_proposals(event, 1)
    _, client, _ = factories.join(event)
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    env.pop("UNCONF_TEST_DB_NAME", None)
    builder_a = subprocess.Popen(
        [sys.executable, "-m", "tests.tally_builder", str(event.pk)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert builder_a.stdout.readline().strip() == "read"  # A holds a snapshot from before the vote
        vote(client, event, proposal, 1)
        built_b = messages.build_message(event.pk, messages.TALLY)
        out, _ = builder_a.communicate("go\n", timeout=60)
    finally:
        if builder_a.poll() is None:
            builder_a.kill()
    built_a = json.loads(out)

    pid = str(proposal.pk)
    assert (counts_of(built_a)[pid]["dots"], counts_of(built_b)[pid]["dots"]) == (0, 1)
    assert built_a["version"] < built_b["version"]


def test_every_change_of_what_the_feed_shows_raises_the_version(event, org_client):
    def version():
        return snapshots.state_clock(event.pk).version

    seen = [version()]
    [proposal] = factories.make_proposals(event, 1)
    seen.append(version())
    _, client, _ = factories.join(event)
    seen.append(version())
    vote(client, event, proposal, 1)
    seen.append(version())
    org_client.patch(f"/api/events/{event.slug}", {"name": "Renamed"}, format="json")
    seen.append(version())
    org_client.post(f"/api/events/{event.slug}/rooms", {"name": "Hall", "capacity": 50}, format="json")
    seen.append(version())
    Proposal.objects.filter(pk=proposal.pk).first().delete()  # an admin deletes a voted proposal
    seen.append(version())

    assert seen == sorted(set(seen)), seen
    assert Event.objects.get(pk=event.pk).revision > 1


async def test_a_snapshot_still_arrives_after_a_tally_of_the_same_version(event, monkeypatch):
    """A tally built just after a change carries that change's version but not the change
    itself (tallies carry counts): the snapshot of the same version must still get through."""
    from asgiref.sync import sync_to_async

    from tests.feed_support import close_sync_thread_connections, subscribed

    async with subscribed(event.slug) as stage:
        hub = feed_hub.hub_for_running_loop()
        monkeypatch.setattr(broadcast, "_mark", lambda *args, **kwargs: None)
        await sync_to_async(Event.objects.filter(pk=event.pk).update)(name="Renamed on stage")
        tally = await sync_to_async(messages.build_message)(event.pk, messages.TALLY)
        snapshot = await sync_to_async(messages.build_message)(event.pk, messages.STATE)
        await hub.deliver(tally)
        await hub.deliver(snapshot)
        received = await stage.until(lambda m: m["type"] == "snapshot", 3)
    await close_sync_thread_connections()

    assert tally["version"] == snapshot["version"]
    assert (received["version"], received["event"]["name"]) == (snapshot["version"], "Renamed on stage")
