"""The live feed as a websocket client sees it: roles, visibility, versions, protocol errors.

Every test talks to the real `unconf.asgi.application` (origin check, auth, routing, the
per-process hub) and changes state through the same services the HTTP API uses.
"""

import asyncio
import datetime
import json
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories
from tests.feed_support import (
    Subscriber,
    adatabase_counts,
    arecount,
    authorization,
    close_sync_thread_connections,
    cookie,
    count_leaks,
    subscribed,
)
from voting.core.workers import RequestLoad
from voting.events import services as event_services
from voting.feed import broadcast, messages
from voting.feed import hub as feed_hub
from voting.models import Event, Proposal, ProposalStatus
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db(transaction=True)

make_proposals = sync_to_async(factories.make_proposals)
join = sync_to_async(factories.join)
set_dots = sync_to_async(vote_services.set_dots)
update_event = sync_to_async(event_services.update_event)


@pytest.fixture(autouse=True)
async def _no_connection_left_behind():
    yield
    await close_sync_thread_connections()


def without_time(message: dict) -> dict:
    return {k: v for k, v in message.items() if k != "server_time"}


def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return cookie(**{settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value})


def token_header(user) -> tuple[bytes, bytes]:
    token, _ = Token.objects.get_or_create(user=user)
    return authorization(f"Token {token.key}")


def vote_in_threads(votes: list[tuple], threads: int = 8) -> None:
    """(attendee, proposal id, dots) triples, set concurrently from worker threads."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def one(vote):
        attendee, proposal_id, dots = vote
        try:
            return vote_services.set_dots(attendee=attendee, proposal_id=proposal_id, dots=dots)
        finally:
            connection.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, votes))


avote_in_threads = sync_to_async(vote_in_threads, thread_sensitive=False)


async def counts_reached(subscriber: Subscriber, event) -> dict:
    """The first tally from now on whose counts equal the database."""
    expected = await adatabase_counts(event)
    return await subscriber.until(lambda m: m["type"] == "tally" and m.get("counts") == expected)


# --- what each role receives ---------------------------------------------------------------------


async def test_anonymous_snapshot_is_the_public_state_with_counts_in_live_mode(event):
    first, second = await make_proposals(event, 2)
    attendee, _, _ = await join(event)
    await set_dots(attendee=attendee, proposal_id=second.pk, dots=1)

    async with subscribed(event.slug) as stage:
        snapshot = stage.messages[0]

    assert snapshot["type"] == "snapshot"
    assert snapshot["participation"] == {"attendees": 1, "voters": 1, "dots_cast": 1, "dots_total": 5}
    assert [(p["id"], p["title"], p["status"], p["dots"], p["voters"]) for p in snapshot["proposals"]] == [
        (first.pk, first.title, "published", 0, 0),
        (second.pk, second.title, "published", 1, 1),
    ]
    assert snapshot["event"]["slug"] == event.slug
    assert snapshot["event"]["voting_open"] is True
    assert "join_code" not in snapshot["event"]
    assert "me" not in snapshot
    assert snapshot["schedule"] is None


async def test_attendee_by_cookie_gets_their_own_state_in_me(event):
    first, second = await make_proposals(event, 2)
    attendee, _, token = await join(event, "Ada")
    await set_dots(attendee=attendee, proposal_id=first.pk, dots=1)

    async with subscribed(event.slug, headers=[cookie(unconf_attendee=token)]) as phone:
        snapshot = phone.messages[0]

    assert without_time(snapshot["me"]) == {
        "attendee": {"id": attendee.public_id, "display_name": "Ada"},
        "budget": 5,
        "remaining": 4,
        "votes": {str(first.pk): 1},
        "proposals": [],
    }
    assert "join_code" not in snapshot["event"]


async def test_attendee_by_header_token_gets_me_including_their_pending_proposal(organizer):
    event = await sync_to_async(factories.make_event)(organizer, moderation="pre")
    attendee, _, token = await join(event)
    pending = await sync_to_async(proposal_services.submit_proposal)(
        event=event, author=attendee, title="My idea"
    )

    async with subscribed(event.slug, headers=[authorization(f"Attendee {token}")]) as program:
        snapshot = program.messages[0]

    assert snapshot["me"]["attendee"]["id"] == attendee.public_id
    assert snapshot["me"]["proposals"] == [pending.pk]
    assert snapshot["proposals"] == []  # not approved yet: not public


async def test_a_stale_attendee_cookie_is_served_the_public_state(event):
    async with subscribed(event.slug, headers=[cookie(unconf_attendee="signed-out-long-ago")]) as phone:
        snapshot = phone.messages[0]

    assert snapshot["type"] == "snapshot"
    assert "me" not in snapshot


async def test_an_invalid_token_in_the_header_is_closed_with_4403(event):
    attendee_program = Subscriber(event.slug, headers=[authorization("Attendee not-a-real-token")])
    organizer_program = Subscriber(event.slug, headers=[authorization("Token 0123456789abcdef")])

    closed = []
    for program in (attendee_program, organizer_program):
        await program.connect()
        closed.append(await program.communicator.receive_output())
        await program.close()

    assert closed == [{"type": "websocket.close", "code": 4403}] * 2


@pytest.mark.parametrize("credentials", [session_cookie, token_header], ids=["session", "token"])
async def test_organizer_snapshot_has_join_code_hidden_and_pending_proposals_and_counts(
    organizer, credentials
):
    event = await sync_to_async(factories.make_event)(organizer, tally_visibility="blind", moderation="pre")
    published, hidden = await make_proposals(event, 2)
    await sync_to_async(proposal_services.edit_proposal)(
        proposal=hidden, changes={"status": ProposalStatus.HIDDEN}, by_organizer=True
    )
    attendee, _, _ = await join(event)
    pending = await sync_to_async(proposal_services.submit_proposal)(
        event=event, author=attendee, title="Pending one"
    )
    await set_dots(attendee=attendee, proposal_id=published.pk, dots=1)
    header = await sync_to_async(credentials)(organizer)

    async with subscribed(event.slug, headers=[header]) as console:
        snapshot = console.messages[0]

    assert snapshot["event"]["join_code"] == event.join_code
    assert [(p["id"], p["status"], p["dots"], p["voters"]) for p in snapshot["proposals"]] == [
        (published.pk, "published", 1, 1),
        (hidden.pk, "hidden", 0, 0),
        (pending.pk, "pending", 0, 0),
    ]
    assert "me" not in snapshot


async def test_unknown_event_is_closed_with_4404(db):
    stage = Subscriber("no-such-event")

    await stage.connect()
    closed = await stage.communicator.receive_output()
    await stage.close()

    assert closed == {"type": "websocket.close", "code": 4404}


async def test_a_foreign_null_or_missing_origin_is_refused(event):
    origins = [(b"origin", b"http://evil.example"), (b"origin", b"http://127.0.0.1.evil.example"), None]
    strangers = [Subscriber(event.slug, origin=origin) for origin in origins]

    connected = []
    for stranger in strangers:
        connected.append((await stranger.connect())[0])
        await stranger.close()

    assert connected == [False, False, False]


async def test_only_the_exact_origin_scheme_host_and_port_opens_the_feed(event, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://unconf.example.org"]
    host = (b"host", b"127.0.0.1:8000")
    tries = {
        "http://127.0.0.1:8000": (host,),  # the page's own origin
        "https://unconf.example.org": (host,),  # a trusted origin (behind a proxy)
        "https://unconf.example.org:443": (host,),  # the same, its default port spelled out
        "http://127.0.0.1": (host,),  # another port of the same host
        "http://127.0.0.1:8001": (host,),
        "https://127.0.0.1:8000": (host,),  # another scheme
        "http://unconf.example.org": (host,),
        "https://unconf.example.org:8443": (host,),
        "http://evil.example:8000": ((b"host", b"evil.example:8000"),),  # a host we do not serve
    }

    connected = {}
    for origin, headers in tries.items():
        subscriber = Subscriber(event.slug, origin=(b"origin", origin.encode()), headers=headers)
        connected[origin] = (await subscriber.connect())[0]
        await subscriber.close()

    assert connected == {
        "http://127.0.0.1:8000": True,
        "https://unconf.example.org": True,
        "https://unconf.example.org:443": True,
        "http://127.0.0.1": False,
        "http://127.0.0.1:8001": False,
        "https://127.0.0.1:8000": False,
        "http://unconf.example.org": False,
        "https://unconf.example.org:8443": False,
        "http://evil.example:8000": False,
    }


async def test_behind_the_proxy_the_origin_scheme_is_the_one_the_proxy_reports(event, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["unconf.example.org"]
    behind_tls = [(b"host", b"unconf.example.org"), (b"x-forwarded-proto", b"https")]

    results = []
    for origin in (b"https://unconf.example.org", b"http://unconf.example.org"):
        subscriber = Subscriber(event.slug, origin=(b"origin", origin), headers=behind_tls)
        results.append((await subscriber.connect())[0])
        await subscriber.close()

    assert results == [True, False]


# --- visibility modes --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["blind", "organizers"])
async def test_hidden_counts_never_reach_attendees_or_the_public_until_revealed(organizer, mode):
    event = await sync_to_async(factories.make_event)(organizer, tally_visibility=mode)
    proposals = await make_proposals(event, 3)
    voters = [await join(event) for _ in range(3)]
    _, attendee_api, token = voters[0]
    header = await sync_to_async(token_header)(organizer)

    async with (
        subscribed(event.slug) as stage,
        subscribed(event.slug, headers=[authorization(f"Attendee {token}")]) as phone,
        subscribed(event.slug, headers=[header]) as console,
    ):
        await avote_in_threads([(a, p.pk, 1) for a, _, _ in voters for p in proposals[:2]])
        organizer_tally = await counts_reached(console, event)
        participation = organizer_tally["participation"]
        for public in (stage, phone):
            await public.until(lambda m: m["type"] == "tally" and m["participation"] == participation)
            await public.send({"type": "resync"})
            await public.until(lambda m: m["type"] == "snapshot")

        attendee_sees = await sync_to_async(api_answers)(attendee_api, event)
        public_sees = await sync_to_async(api_answers)(APIClient(), event)

        hidden_messages = stage.messages + phone.messages  # all read before the reveal
        await update_event(event=event, changes={"results_revealed": True})
        revealed = await stage.until(lambda m: m["type"] == "snapshot" and m["event"]["results_revealed"])
        await set_dots(attendee=voters[0][0], proposal_id=proposals[2].pk, dots=1)
        revealed_tally = await counts_reached(stage, event)

    assert participation == {"attendees": 3, "voters": 3, "dots_cast": 6, "dots_total": 15}
    assert [leak for m in hidden_messages for leak in count_leaks(m)] == []
    assert organizer_tally["counts"] == {
        str(proposals[0].pk): {"dots": 3, "voters": 3},
        str(proposals[1].pk): {"dots": 3, "voters": 3},
        str(proposals[2].pk): {"dots": 0, "voters": 0},
    }
    assert all("dots" in p for p in console.messages[0]["proposals"])
    assert {path: status for path, (status, _) in attendee_sees.items()} == {
        "proposals": 200,
        "proposals?order=top": 200,
        "results": 403,
        "me": 200,
    }
    assert {path: status for path, (status, _) in public_sees.items()} == {
        "proposals": 200,
        "proposals?order=top": 200,
        "results": 403,
        "me": 401,
    }
    for answers in (attendee_sees, public_sees):
        for path in ("proposals", "proposals?order=top"):
            assert len(answers[path][1]) == 3
            assert count_leaks({"type": "api", "proposals": answers[path][1]}) == []
    assert [(p["id"], p["dots"]) for p in revealed["proposals"]] == [
        (proposals[0].pk, 3),
        (proposals[1].pk, 3),
        (proposals[2].pk, 0),
    ]
    assert revealed_tally["counts"][str(proposals[2].pk)] == {"dots": 1, "voters": 1}


def api_answers(client, event) -> dict[str, tuple[int, object]]:
    """What a client gets from the read endpoints that could carry counts."""
    answers = {}
    for path in ("proposals", "proposals?order=top", "results", "me"):
        response = client.get(f"/api/events/{event.slug}/{path}")
        answers[path] = (response.status_code, response.json())
    return answers


async def test_a_published_schedule_shows_no_voters_to_the_public_while_counts_are_hidden(organizer):
    from voting.models import Room, ScheduledSession, Slot

    event = await sync_to_async(factories.make_event)(organizer, tally_visibility="blind")
    (proposal,) = await make_proposals(event, 1)
    attendee, _, _ = await join(event)
    await set_dots(attendee=attendee, proposal_id=proposal.pk, dots=1)

    def place():
        room = Room.objects.create(event=event, name="Hall", capacity=0)
        start = timezone.now()
        slot = Slot.objects.create(event=event, starts_at=start, ends_at=start + datetime.timedelta(hours=1))
        ScheduledSession.objects.create(
            event=event, proposal=proposal, room=room, slot=slot, explanation="Rank 1 with 1 voter"
        )

    await sync_to_async(place)()
    await update_event(event=event, changes={"schedule_published": True})
    header = await sync_to_async(token_header)(organizer)

    async with subscribed(event.slug) as stage, subscribed(event.slug, headers=[header]) as console:
        public, organizers = stage.messages[0], console.messages[0]

    assert [s["proposal"] for s in public["schedule"]["sessions"]] == [proposal.pk]
    assert count_leaks(public) == []
    assert {k: organizers["schedule"]["sessions"][0][k] for k in ("voters", "explanation")} == {
        "voters": 1,
        "explanation": "Rank 1 with 1 voter",
    }
    assert organizers["schedule"]["over_capacity"] == [proposal.pk]


# --- versions, tallies, snapshots ------------------------------------------------------------------


async def test_versions_rise_strictly_on_one_connection_through_every_kind_of_change(event):
    attendee, _, token = await join(event)

    async with subscribed(event.slug, headers=[authorization(f"Attendee {token}")]) as phone:
        (proposal,) = await make_proposals(event, 1)
        await phone.until(lambda m: m["type"] == "snapshot" and m["proposals"])
        await set_dots(attendee=attendee, proposal_id=proposal.pk, dots=1)
        await phone.until(lambda m: m["type"] == "tally" and m["participation"]["dots_cast"] == 1)
        await update_event(event=event, changes={"accepting_proposals": False})
        await phone.until(lambda m: m["type"] == "snapshot" and not m["event"]["accepting_proposals"])
        await phone.send({"type": "ping"})
        pong = await phone.until(lambda m: m["type"] == "pong")
        await phone.send({"type": "resync"})
        resynced = await phone.until(lambda m: m["type"] == "snapshot")

    state = [m["version"] for m in phone.messages if m["type"] in ("snapshot", "tally") and m is not resynced]
    assert state == sorted(set(state))
    assert pong["version"] == state[-1]
    assert resynced["version"] >= state[-1]
    assert resynced["me"]["votes"] == {str(proposal.pk): 1}


async def test_tally_after_concurrent_votes_equals_the_database(event):
    proposals = await make_proposals(event, 4)
    voters = [(await join(event))[0] for _ in range(12)]

    async with subscribed(event.slug) as stage:
        await avote_in_threads([(a, p.pk, 1) for a in voters for p in proposals[: 1 + a.pk % 4]])
        await counts_reached(stage, event)
        after = await stage.quiet(0.6)

    last_tally = [m for m in stage.messages if m["type"] == "tally"][-1]
    assert last_tally["counts"] == await adatabase_counts(event) == await arecount(event)
    assert [m["type"] for m in after] in ([], ["tally"])
    assert last_tally["participation"]["dots_cast"] == sum(c["dots"] for c in last_tally["counts"].values())


async def test_a_change_to_a_proposal_reaches_subscribers_as_a_snapshot(event):
    first, second = await make_proposals(event, 2)

    async with subscribed(event.slug) as stage:
        await sync_to_async(proposal_services.edit_proposal)(
            proposal=first, changes={"status": ProposalStatus.HIDDEN}, by_organizer=True
        )
        snapshot = await stage.until(lambda m: m["type"] == "snapshot")

    assert [p["id"] for p in snapshot["proposals"]] == [second.pk]


async def test_a_merge_sends_each_affected_attendee_their_refund_in_me(organizer):
    event = await sync_to_async(factories.make_event)(organizer)
    source, target = await make_proposals(event, 2)
    both, _, both_token = await join(event)
    only_source, _, only_token = await join(event)
    await set_dots(attendee=both, proposal_id=source.pk, dots=1)
    await set_dots(attendee=both, proposal_id=target.pk, dots=1)
    await set_dots(attendee=only_source, proposal_id=source.pk, dots=1)

    async with (
        subscribed(event.slug, headers=[authorization(f"Attendee {both_token}")]) as refunded,
        subscribed(event.slug, headers=[authorization(f"Attendee {only_token}")]) as moved,
        subscribed(event.slug) as stage,
    ):
        await sync_to_async(proposal_services.merge_proposals)(source=source, target=target)
        after = [await s.until(lambda m: m["type"] == "snapshot") for s in (refunded, moved, stage)]

    assert [(m["me"]["remaining"], m["me"]["votes"]) for m in after[:2]] == [
        (4, {str(target.pk): 1}),
        (4, {str(target.pk): 1}),
    ]
    assert "me" not in after[2]
    assert [(p["id"], p["dots"], p["voters"]) for p in after[2]["proposals"]] == [(target.pk, 2, 2)]


async def test_a_vote_is_broadcast_only_after_it_commits(event):
    (proposal,) = await make_proposals(event, 1)
    attendee, _, _ = await join(event)
    voted, release = threading.Event(), threading.Event()

    def vote_in_open_transaction():
        from django.db import connection

        try:
            with transaction.atomic():
                vote_services.set_dots(attendee=attendee, proposal_id=proposal.pk, dots=1)
                voted.set()
                release.wait(5)
        finally:
            connection.close()

    async with subscribed(event.slug) as stage:
        committing = asyncio.get_running_loop().run_in_executor(None, vote_in_open_transaction)
        await asyncio.get_running_loop().run_in_executor(None, voted.wait, 5)
        before_commit = await stage.quiet(0.7)
        release.set()
        await committing
        after_commit = await stage.until(lambda m: m["type"] == "tally")

    assert before_commit == []
    assert after_commit["counts"] == {str(proposal.pk): {"dots": 1, "voters": 1}}


async def test_a_passed_deadline_reaches_subscribers_within_two_seconds(organizer):
    closes_at = timezone.now() + datetime.timedelta(seconds=1)
    event = await sync_to_async(factories.make_event)(organizer, voting_closes_at=closes_at)

    async with subscribed(event.slug) as stage:
        assert stage.messages[0]["event"]["voting_open"] is True
        closed = await stage.until(lambda m: m["type"] == "snapshot" and not m["event"]["voting_open"], 4)
        seen_at = timezone.now()

    assert (seen_at - closes_at).total_seconds() < 2.0
    assert closed["event"]["voting_closes_at"] is not None
    stored = await sync_to_async(Event.objects.get)(pk=event.pk)
    # Derived, not written: the organizer's flag stands, and the deadline closes voting.
    assert stored.voting_open is True and stored.voting_is_open() is False


# --- the client protocol ---------------------------------------------------------------------------


async def test_a_bad_client_message_gets_an_error_and_the_connection_stays_usable(event):
    bad = [
        ("{not json", "malformed"),
        ("[" * 4000, "malformed"),  # too deep for the parser: must not crash the consumer
        ("[]", "malformed"),
        ("null", "malformed"),
        (b'{"type": "ping"}', "malformed"),  # a binary frame
        ('{"type": "vote", "proposal": 1}', "unknown_type"),
        ("{}", "unknown_type"),
    ]

    answers = []
    async with subscribed(event.slug) as stage:
        version = stage.messages[0]["version"]
        for sent, _ in bad:
            if isinstance(sent, bytes):
                await stage.communicator.send_to(bytes_data=sent)
            else:
                await stage.send(sent)
            answers.append(await stage.receive())
        await stage.send({"type": "ping"})
        pong = await stage.receive()

    assert [without_time(a) for a in answers] == [
        {"type": "error", "code": code, "version": version} for _, code in bad
    ]
    assert without_time(pong) == {"type": "pong", "version": version}
    assert all("server_time" in m for m in [*answers, pong])


async def test_a_message_of_exactly_4_kib_is_accepted_and_one_byte_more_closes_with_4009(event):
    padding = 4096 - len(json.dumps({"type": "ping", "pad": ""}))
    largest = json.dumps({"type": "ping", "pad": "x" * padding})
    too_large = json.dumps({"type": "ping", "pad": "é" * (padding // 2 + 1)}, ensure_ascii=False)

    async with subscribed(event.slug) as stage:
        await stage.send(largest)
        pong = await stage.receive()
        await stage.send(too_large)
        closed = await stage.communicator.receive_output()

    assert (len(largest.encode()), len(too_large) < 4096 < len(too_large.encode())) == (4096, True)
    assert pong["type"] == "pong"
    assert closed == {"type": "websocket.close", "code": 4009}


async def test_resync_answers_with_a_full_snapshot(event):
    async with subscribed(event.slug) as stage:
        (proposal,) = await make_proposals(event, 1)
        await stage.until(lambda m: m["type"] == "snapshot" and m["proposals"])
        await stage.send({"type": "resync"})
        resynced = await stage.receive()

    assert resynced["type"] == "snapshot"
    assert [p["id"] for p in resynced["proposals"]] == [proposal.pk]
    assert resynced["version"] >= stage.messages[-2]["version"]


async def test_a_flood_of_resyncs_is_merged_into_about_one_snapshot_a_second(event):
    async with subscribed(event.slug) as stage:
        started = time.monotonic()
        for _ in range(200):
            await stage.send({"type": "resync"})
        first = await stage.until(lambda m: m["type"] == "snapshot", timeout=3)
        first_after = time.monotonic() - started
        for _ in range(200):
            await stage.send({"type": "resync"})
        later = await stage.quiet(2.5)

    snapshots = [first] + [m for m in later if m["type"] == "snapshot"]
    # 400 requests in well under a second: one snapshot when the second since connecting is up,
    # then one more for everything asked meanwhile.
    assert len(snapshots) == 2
    assert 0.5 < first_after < 1.5


# --- no event loop ---------------------------------------------------------------------------------


def test_a_vote_outside_any_event_loop_is_stored_even_after_a_feed_loop_closed(event):
    async def bind():
        feed_hub.bind_to_running_loop()

    loop = asyncio.new_event_loop()
    loop.run_until_complete(bind())
    loop.close()
    (proposal,) = factories.make_proposals(event, 1)
    attendee, client, _ = factories.join(event)

    response = client.put(f"/api/events/{event.slug}/votes/{proposal.pk}", {"dots": 1}, format="json")

    assert response.status_code == 200
    assert Proposal.objects.get(pk=proposal.pk).dots == 1


async def test_each_test_loop_gets_a_hub_that_delivers(event):
    # Runs after tests whose loops are closed: their hubs must neither leak into nor block this one.
    start = time.monotonic()

    async with subscribed(event.slug) as stage:
        await make_proposals(event, 1)
        await stage.until(lambda m: m["type"] == "snapshot" and m["proposals"])

    assert time.monotonic() - start < 2
    assert all(not loop.is_closed() for loop in broadcast.hubs)


async def test_the_stage_opened_in_an_organizers_browser_gets_only_the_public_view(organizer):
    event = await sync_to_async(factories.make_event)(organizer, tally_visibility="blind")
    [proposal] = await make_proposals(event, 1)
    attendee, _, _ = await join(event)
    await set_dots(attendee=attendee, proposal_id=proposal.pk, dots=1)
    session = await sync_to_async(session_cookie)(organizer)

    async with subscribed(event.slug, headers=[session], query="view=public") as stage:
        snapshot = stage.messages[0]
    async with subscribed(event.slug, headers=[session]) as console:
        console_snapshot = console.messages[0]

    assert count_leaks(snapshot) == []
    assert "join_code" not in snapshot["event"]
    assert snapshot["participation"]["voters"] == 1
    assert console_snapshot["proposals"][0]["dots"] == 1


async def test_a_tally_another_process_built_after_a_vote_committed_stands_in_for_this_process_build(
    event,
):
    """N processes share one stream of tallies: a vote that another process's tally already
    shows is not read and fanned out a second time here."""
    proposal = (await make_proposals(event, 1))[0]
    first, second = (await join(event))[0], (await join(event))[0]

    async with subscribed(event.slug) as stage:
        hub = feed_hub.hub_for_running_loop()
        await avote_in_threads([(first, proposal.pk, 1)])  # goes out at once: a quiet spell before
        await stage.until(lambda m: m["type"] == "tally" and m["counts"][str(proposal.pk)]["dots"] == 1)
        await avote_in_threads([(second, proposal.pk, 1)])  # folded into the end of the interval
        elsewhere = await sync_to_async(messages.build_message)(event.pk, messages.TALLY)
        await hub.layer.group_send(feed_hub.group_name(event.pk), elsewhere)
        after = await stage.quiet(hub.interval * 4)

    tallies = [m for m in after if m["type"] == "tally"]
    assert [m["version"] for m in tallies] == [elsewhere["version"]]
    assert tallies[0]["counts"][str(proposal.pk)]["dots"] == 2


@pytest.mark.parametrize("votes_waiting", [False, True])
async def test_while_votes_queue_up_screens_are_refreshed_once_a_second(event, monkeypatch, votes_waiting):
    """Under a backlog of requests the fan-out (the largest fixed cost) backs off to 1/s;
    at an ordinary load a change waits at most the usual interval."""
    proposal = (await make_proposals(event, 1))[0]
    first, second = (await join(event))[0], (await join(event))[0]
    if votes_waiting:
        busy = settings.UNCONF_REQUEST_THREADS + feed_hub.OVERLOADED_WAITING
        monkeypatch.setattr(RequestLoad, "in_flight", busy)

    def shows(dots):
        return lambda m: m["type"] == "tally" and m["counts"][str(proposal.pk)]["dots"] == dots

    async with subscribed(event.slug) as stage:
        await avote_in_threads([(first, proposal.pk, 1)])  # a quiet spell before: at once
        await stage.until(shows(1))
        shown_first = time.monotonic()
        await avote_in_threads([(second, proposal.pk, 1)])
        await stage.until(shows(2))
        gap = time.monotonic() - shown_first

    if votes_waiting:
        assert gap >= 0.9 * feed_hub.OVERLOADED_INTERVAL_SECONDS
    else:
        assert gap < feed_hub.OVERLOADED_INTERVAL_SECONDS * 0.6


def test_keepalive_pings_of_sockets_that_connected_together_are_spread_over_the_interval():
    """Daphne pings a socket ping_interval after its last ping, checking every 2 s; a hall
    that connected in one second would be pinged (and pong back) in one pass."""
    from types import SimpleNamespace

    from voting.feed import wire

    server = SimpleNamespace(ping_interval=20)
    sockets = [SimpleNamespace(server=server, last_ping=time.time()) for _ in range(1000)]
    for socket in sockets:
        wire.spread_keepalive(socket)
    # Read the clock after spreading: every phase is then in the interval before `now`, however
    # long the loop above took on a busy machine (read before, a socket spread by less than that
    # time would fall outside the ten passes: 998 of 1,000 pinged, seen under the full suite).
    now = time.time()

    # Daphne's check, every 2 s over one interval: how many sockets each pass pings.
    pings_per_pass = []
    for tick in range(1, 11):
        due = [s for s in sockets if now + 2 * tick - s.last_ping > server.ping_interval]
        for socket in due:
            socket.last_ping = now + 2 * tick
        pings_per_pass.append(len(due))

    assert all(s.last_ping <= now + 20 for s in sockets)
    assert sum(pings_per_pass) == 1000  # every socket still pinged once per interval
    assert max(pings_per_pass) < 200  # not all 1,000 in one pass
    wire.spread_keepalive(SimpleNamespace())  # not under Daphne: nothing to spread
