"""HTTP through the real ASGI application (unconf.handler): the same answers as Django's own
handler, with each request's sync work on a small fixed set of request threads."""

import asyncio
import json
import threading

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.signals import request_started

from tests import factories
from tests.feed_support import call, close_sync_thread_connections
from voting.core import loop_db
from voting.feed import broadcast
from voting.models import Vote

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _no_connection_left_behind():
    yield
    await close_sync_thread_connections()  # the factories ran on asgiref's shared sync thread
    await loop_db.close()


async def test_a_vote_through_the_asgi_application_is_stored_and_answered_with_me(event, monkeypatch):
    # Not this test's subject, and its build would outlive the test: no broadcast after commit.
    monkeypatch.setattr(broadcast, "tally_changed", lambda event_id: None)
    proposal = (await sync_to_async(factories.make_proposals)(event, 1))[0]
    attendee, _, token = await sync_to_async(factories.join)(event)

    response = await call(
        "PUT",
        f"/api/events/{event.slug}/votes/{proposal.pk}",
        json.dumps({"dots": 1}).encode(),
        [(b"content-type", b"application/json"), (b"authorization", f"Attendee {token}".encode())],
    )

    assert response["status"] == 200, response["body"][:300]
    assert json.loads(response["body"])["votes"] == {str(proposal.pk): 1}
    assert await Vote.objects.filter(attendee=attendee, proposal=proposal).acount() == 1


# Static files are sync iterators that Django's ASGI side consumes with a warning, as it does
# under its own handler.
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
async def test_a_streamed_static_file_a_refusal_and_a_missing_page_come_back_whole(event):
    script = await call("GET", "/static/voting/dom.js")
    body = b'{"dots": 1, "pad": "' + b"x" * 200_000 + b'"}'
    too_large = await call(
        "PUT",
        f"/api/events/{event.slug}/votes/1",
        body,
        [(b"content-type", b"application/json")],
    )
    unknown = await call("GET", "/no/such/page")

    assert script["status"] == 200
    assert b"function" in script["body"] and len(script["body"]) > 200
    assert too_large["status"] == 413
    assert json.loads(too_large["body"])["code"] == "payload_too_large"
    assert unknown["status"] == 404


async def test_requests_run_on_at_most_the_configured_request_threads(db):
    names = set()

    def record(**kwargs):
        names.add(threading.current_thread().name)

    request_started.connect(record, weak=False)
    try:
        responses = await asyncio.gather(*(call("GET", "/healthz") for _ in range(40)))
    finally:
        request_started.disconnect(record)

    assert {r["status"] for r in responses} <= {200, 503}  # 503: Redis absent is reported, not fatal
    assert names and all(name.startswith("unconf-requests") for name in names)
    assert len(names) <= settings.UNCONF_REQUEST_THREADS
