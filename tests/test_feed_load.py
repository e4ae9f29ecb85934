"""The live feed under load in one process: a vote burst is coalesced, 1,000 sockets share a snapshot."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import patch

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from tests import factories
from tests.feed_support import (
    QueryLog,
    Subscriber,
    adatabase_counts,
    arecount,
    authorization,
    close_sync_thread_connections,
    subscribed,
)
from voting.feed import broadcast, messages
from voting.feed import hub as feed_hub
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _no_connection_left_behind():
    yield
    await close_sync_thread_connections()


def vote_burst(votes: list[tuple], threads: int = 8) -> list[float]:
    """Every (attendee, proposal id) gets one dot, from `threads` threads at once, as fast as
    the database allows. Returns when each vote committed (time.monotonic())."""

    def worker(chunk):
        committed = []
        try:
            for attendee, proposal_id in chunk:
                vote_services.set_dots(attendee=attendee, proposal_id=proposal_id, dots=1)
                committed.append(time.monotonic())
        finally:
            connection.close()
        return committed

    with ThreadPoolExecutor(threads) as pool:
        return [t for times in pool.map(worker, [votes[i::threads] for i in range(threads)]) for t in times]


def arrange_event(attendees: int, proposals: int):
    event = factories.make_event()
    made = factories.make_proposals(event, proposals)
    people = [factories.join(event) for _ in range(attendees)]
    return event, made, people


async def test_a_burst_of_500_votes_is_coalesced_into_few_tallies_and_the_last_equals_the_database(capsys):
    event, proposals, people = await sync_to_async(arrange_event)(100, 5)
    votes = [(attendee, p.pk) for attendee, _, _ in people for p in proposals]  # 100 × 5 = 500

    async with subscribed(event.slug) as stage:
        started = time.monotonic()
        committed = await sync_to_async(vote_burst, thread_sensitive=False)(votes)
        expected = await adatabase_counts(event)
        await stage.until(lambda m: m["type"] == "tally" and m["counts"] == expected, timeout=5)
        converged = time.monotonic()
        await stage.quiet(0.6)

    tallies = [m for m in stage.messages if m["type"] == "tally"]
    burst_seconds = max(committed) - started
    with capsys.disabled():
        print(
            f"\n  burst: {len(committed)} votes in {burst_seconds:.2f}s, {len(tallies)} tallies received, "
            f"converged {converged - max(committed):.2f}s after the last commit"
        )
    assert len(committed) == 500
    assert len(tallies) < 50
    assert len(tallies) <= burst_seconds * settings.UNCONF_TALLY_PER_SECOND + 3  # + the first and last
    assert tallies[-1]["counts"] == expected == await arecount(event)
    assert expected == {str(p.pk): {"dots": 100, "voters": 100} for p in proposals}
    assert tallies[-1]["participation"] == {
        "attendees": 100,
        "voters": 100,
        "dots_cast": 500,
        "dots_total": 500,
    }
    assert converged - max(committed) < 2
    versions = [m["version"] for m in stage.messages]
    assert versions == sorted(set(versions))


async def test_1000_subscribers_share_one_snapshot_build_and_attendees_cost_one_me_lookup_each(capsys):
    event, proposals, people = await sync_to_async(arrange_event)(100, 20)
    tokens = [token for _, _, token in people]
    subscribers = [Subscriber(event.slug) for _ in range(900)] + [
        Subscriber(event.slug, headers=[authorization(f"Attendee {token}")]) for token in tokens
    ]

    try:
        with QueryLog() as queries:
            started = time.monotonic()
            results = await asyncio.gather(*(s.connect(timeout=60) for s in subscribers))
            snapshots = await asyncio.gather(*(s.receive(timeout=60) for s in subscribers))
            elapsed = time.monotonic() - started
    finally:
        await asyncio.gather(*(s.close() for s in subscribers))

    with capsys.disabled():
        print(
            f"\n  1,000 subscribers connected with snapshots in {elapsed:.2f}s, {len(queries.statements)} queries"
        )
    assert all(connected for connected, _ in results)
    assert {m["type"] for m in snapshots} == {"snapshot"}
    assert len({m["version"] for m in snapshots}) == 1
    assert {len(m["proposals"]) for m in snapshots} == {20}
    assert len(queries.matching('"voting_proposal"."description"', 'FROM "voting_proposal" WHERE')) == 1
    assert len(queries.matching("UNION ALL")) == 100  # `me`: one small query per attendee
    assert [m["me"]["attendee"]["id"] for m in snapshots[900:]] == [a.public_id for a, _, _ in people]
    # Per socket: the event by its slug, and for an attendee their token; the rest is shared.
    assert len(queries.statements) <= 1000 + 100 * 2 + 60


async def test_tallies_from_several_processes_reach_a_socket_at_most_the_configured_rate(event):
    """Each process coalesces its own votes; the receiving hub also holds tallies that come too
    soon after the last one, so two (or ten) processes do not double the fan-out work."""

    await sync_to_async(factories.make_proposals)(event, 1)
    async with subscribed(event.slug) as stage:
        hub = feed_hub.hub_for_running_loop()
        built = []
        with patch.object(broadcast, "_mark", lambda *args, **kwargs: None):  # only these 20 tallies
            for _ in range(20):  # a join between builds: each tally shows a newer state
                await sync_to_async(factories.join)(event)
                built.append(await sync_to_async(messages.build_message)(event.pk, messages.TALLY))
        for message in built:  # as if 20 processes each sent one at the same moment
            await hub.deliver(message)
        received = await stage.quiet(hub.interval * 3)

    tallies = [m for m in received if m["type"] == "tally"]
    assert [m["version"] for m in tallies] == [built[0]["version"], built[-1]["version"]]
