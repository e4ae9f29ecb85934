"""An attendee's vote answered on the event loop (voting/fast_path.py), through the real ASGI
application: the same answers, headers included, as Django and DRF give; everything it does
not expect handed to them."""

import json
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string
from rest_framework.authtoken.models import Token
from rest_framework.views import APIView

from tests import factories
from tests.feed_support import call, close_sync_thread_connections
from voting.core import loop_db
from voting.core.errors import BudgetExhausted
from voting.events.identity import ATTENDEE_COOKIE
from voting.feed import broadcast
from voting.models import Vote
from voting.votes import fast_path

pytestmark = pytest.mark.django_db(transaction=True)

# Differ between any two answers, whichever path gave them.
UNCOMPARED_HEADERS = {b"Content-Length", b"Date"}


@pytest.fixture(autouse=True)
async def _no_connection_left_behind():
    yield
    await close_sync_thread_connections()
    await loop_db.close()


@pytest.fixture
def changed(monkeypatch):
    """Events whose tally the votes marked changed (instead of building broadcasts that would
    outlive the test)."""
    events = []
    monkeypatch.setattr(broadcast, "tally_changed", events.append)
    return events


@pytest.fixture
def drf_calls(monkeypatch):
    calls = []
    dispatch = APIView.dispatch
    monkeypatch.setattr(APIView, "dispatch", lambda *a, **k: calls.append(1) or dispatch(*a, **k))
    return calls


def vote(event, proposal_id, dots, *headers):
    body = json.dumps({"dots": dots}).encode()
    path = f"/api/events/{event.slug}/votes/{proposal_id}"
    return call("PUT", path, body, [(b"content-type", b"application/json"), *headers])


def bearer(token: str):
    return (b"authorization", f"Attendee {token}".encode())


def comparable(response) -> tuple:
    body = json.loads(response["body"])
    body.pop("server_time", None)
    headers = {k: v for k, v in response["headers"].items() if k not in UNCOMPARED_HEADERS}
    return response["status"], headers, body


async def test_a_plain_vote_is_answered_on_the_loop_with_drfs_status_headers_and_body(
    event, changed, drf_calls
):
    """{"dots": 1} is the loop's to answer; {"dots": "1"} is DRF's to parse: same answers."""
    await sync_to_async(lambda: event.__class__.objects.filter(pk=event.pk).update(votes_per_attendee=1))()
    first, second = await sync_to_async(factories.make_proposals)(event, 2)

    async def session(dots):
        attendee, _, token = await sync_to_async(factories.join)(event, "Ada <b>Lovelace</b>")
        answers = []
        for pid, value in ((first.pk, dots), (second.pk, dots), (first.pk, 0 if dots == 1 else "0")):
            answers.append(comparable(await vote(event, pid, value, bearer(token))))
        return attendee, answers

    attendee, on_loop = await session(1)
    assert drf_calls == []
    _, by_drf = await session("1")
    assert len(drf_calls) == 3

    assert [status for status, _, _ in on_loop] == [200, 409, 200]
    for (status, headers, body), (drf_status, drf_headers, drf_body) in zip(on_loop, by_drf, strict=True):
        assert (status, headers) == (drf_status, drf_headers)
        if "attendee" in body:
            assert body.pop("attendee") == {"id": attendee.public_id, "display_name": "Ada <b>Lovelace</b>"}
            drf_body.pop("attendee")
        assert body == drf_body
    assert on_loop[0][1][b"Content-Type"] == b"application/json"
    assert on_loop[0][1][b"X-Frame-Options"] == b"DENY"
    assert on_loop[0][2]["votes"] == {str(first.pk): 1} and on_loop[2][2]["votes"] == {}
    assert on_loop[1][2] == {"detail": str(BudgetExhausted.default_detail), "code": "budget_exhausted"}
    assert changed == [event.pk] * 4  # set and taken back, by each session; not the refusals
    assert await Vote.objects.filter(proposal__event=event).acount() == 0


async def test_the_phones_cookie_vote_is_answered_on_the_loop_only_with_a_passing_csrf_check(
    event, changed, drf_calls
):
    proposal = (await sync_to_async(factories.make_proposals)(event, 1))[0]
    attendee, _, token = await sync_to_async(factories.join)(event)
    csrf = _get_new_csrf_string()
    cookie = (b"cookie", f"{ATTENDEE_COOKIE}={token}; csrftoken={csrf}".encode())
    origin = (b"origin", b"http://127.0.0.1")

    forged = await vote(event, proposal.pk, 1, cookie, origin)  # no X-CSRFToken: another site's form
    assert len(drf_calls) == 1
    assert forged["status"] == 403 and json.loads(forged["body"])["code"] == "forbidden"

    phone = await vote(event, proposal.pk, 1, cookie, origin, (b"x-csrftoken", csrf.encode()))
    assert len(drf_calls) == 1
    assert phone["status"] == 200 and json.loads(phone["body"])["votes"] == {str(proposal.pk): 1}
    assert await Vote.objects.filter(attendee=attendee, dots=1).acount() == 1

    path = f"/api/events/{event.slug}/votes/{proposal.pk}"
    taken_back = await call("DELETE", path, b"", [cookie, origin, (b"x-csrftoken", csrf.encode())])
    assert len(drf_calls) == 1
    assert (
        taken_back["status"] == 200
        and json.loads(taken_back["body"])["remaining"] == event.votes_per_attendee
    )
    assert await Vote.objects.filter(attendee=attendee).acount() == 0
    assert changed == [event.pk, event.pk]


async def test_what_the_loop_does_not_expect_goes_to_django_and_drf(organizer, event, changed, drf_calls):
    proposal = (await sync_to_async(factories.make_proposals)(event, 1))[0]
    _, _, token = await sync_to_async(factories.join)(event)
    organizer_token = await sync_to_async(lambda: Token.objects.create(user=organizer).key)()

    unknown = await vote(event, proposal.pk, 1, bearer("not-a-token"))
    organizer = await vote(event, proposal.pk, 1, (b"authorization", f"Token {organizer_token}".encode()))
    no_one = await vote(event, proposal.pk, 1)
    assert len(drf_calls) == 3
    assert [unknown["status"], organizer["status"], no_one["status"]] == [401, 401, 401]  # not attendees

    other_host = await call(
        "PUT",
        f"/api/events/{event.slug}/votes/{proposal.pk}",
        b'{"dots": 1}',
        [(b"content-type", b"application/json"), bearer(token), (b"host", b"evil.example")],
    )
    assert other_host["status"] == 400  # Django's own refusal of a host it does not serve
    assert await Vote.objects.filter(proposal=proposal).acount() == 0
    assert changed == []


async def test_with_the_database_away_from_the_loop_the_vote_is_stored_once_through_django(
    event, changed, drf_calls, monkeypatch
):
    proposal = (await sync_to_async(factories.make_proposals)(event, 1))[0]
    attendee, _, token = await sync_to_async(factories.join)(event)
    sent = []

    async def stored_but_lost(sql, params):  # the call reached PostgreSQL; its answer did not come back
        sent.append(params)
        await real_fetch_one(sql, params)
        raise ConnectionResetError("server closed the connection unexpectedly")

    real_fetch_one = loop_db.fetch_one
    monkeypatch.setattr(loop_db, "fetch_one", stored_but_lost)

    response = await vote(event, proposal.pk, 1, bearer(token))

    assert len(sent) == 1 and len(drf_calls) == 1
    assert response["status"] == 200 and json.loads(response["body"])["votes"] == {str(proposal.pk): 1}
    votes = await sync_to_async(lambda: list(Vote.objects.filter(attendee=attendee).values_list("dots")))()
    assert votes == [(1,)]  # set, never added: replaying it stores it once


async def test_the_loop_leaves_other_methods_and_paths_to_django(settings):
    assert fast_path.may_answer({"method": "PUT", "path": "/api/events/devconf/votes/12"})
    assert fast_path.may_answer({"method": "DELETE", "path": "/api/events/devconf/votes/12"})
    assert not fast_path.may_answer({"method": "GET", "path": "/api/events/devconf/votes/12"})
    assert not fast_path.may_answer({"method": "PUT", "path": "/api/events/devconf/votes/12/"})
    assert not fast_path.may_answer({"method": "PUT", "path": "/api/events/devconf/proposals/12"})
    assert not fast_path.may_answer({"method": "PUT", "path": "/api/events/devconf/votes/" + "9" * 19})
    settings.UNCONF_VOTES_ON_LOOP = False
    assert not fast_path.may_answer({"method": "PUT", "path": "/api/events/devconf/votes/12"})


async def test_after_postgresql_drops_the_loops_connections_no_vote_is_lost(event, changed, drf_calls):
    """A restart or a failover closes every connection: the first vote after it finds its
    connection dead and is answered through Django; the next one gets a new connection."""
    first, second = await sync_to_async(factories.make_proposals)(event, 2)
    attendee, _, token = await sync_to_async(factories.join)(event)
    assert (await vote(event, first.pk, 1, bearer(token)))["status"] == 200
    assert drf_calls == []

    def drop_loop_connections():
        # This test database's only: other test runs may share the server.
        mine = "FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(pg_terminate_backend(pid)) {mine}", [loop_db.APPLICATION_NAME])
            dropped = cursor.fetchone()[0]
            for _ in range(100):  # termination is a signal: wait until the backends are gone
                cursor.execute(f"SELECT count(*) {mine}", [loop_db.APPLICATION_NAME])
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.02)
        return dropped

    assert await sync_to_async(drop_loop_connections)() >= 1
    after_drop = await vote(event, second.pk, 1, bearer(token))
    # Answered either way: through Django if the pool handed out the dead connection, on the
    # loop if it had already seen it closed and opened a new one.
    assert after_drop["status"] == 200 and len(drf_calls) <= 1
    handed_over = len(drf_calls)
    again = await vote(event, second.pk, 0, bearer(token))
    assert again["status"] == 200 and len(drf_calls) == handed_over  # on the loop, on a new connection

    votes = await sync_to_async(
        lambda: sorted(Vote.objects.filter(attendee=attendee, dots__gt=0).values_list("proposal_id", "dots"))
    )()
    assert votes == [(first.pk, 1)]
