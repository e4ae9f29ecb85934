"""Both modes end to end on a real Daphne: with every fast path on, and with UNCONF_FAST_PATHS=0
(the stock Django, Channels and Daphne code), the key flows answer the same way: join, vote,
413 for a body too large, a websocket seeing the tally of a vote."""

import contextlib
import json
import socket

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from tests import factories
from tests.feed_support import close_sync_thread_connections
from tests.live import DaphneServer
from tests.test_body_limit_live import parse, send_headers_only
from tests.test_feed_live import LiveSubscriber, http
from voting.core.loop_db import APPLICATION_NAME

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]

ALL_OFF = "All fast paths off (UNCONF_FAST_PATHS=0)"
TOO_LARGE = {"detail": "The request body is too large.", "code": "payload_too_large"}


@pytest.fixture(autouse=True)
async def _no_connection_left_behind():
    yield
    await close_sync_thread_connections()


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker):
    fast, stock = DaphneServer(), DaphneServer(env={"UNCONF_FAST_PATHS": "0"})
    try:
        fast.start()
        stock.start()
        yield {"fast": fast, "stock": stock}
    finally:
        fast.stop()
        stock.stop()


def loop_connections() -> int:
    """Connections of the vote path's pool (voting/core/loop_db.py) to this test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
            [APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


def join_and_vote(server: DaphneServer, event, proposal_id: int) -> tuple:
    joined = http("POST", f"{server.url}/api/events/{event.slug}/join", {"code": event.join_code})
    token = joined[1]["token"]
    voted = http("PUT", f"{server.url}/api/events/{event.slug}/votes/{proposal_id}", {"dots": 1}, token)
    return joined, voted


def shape(value):
    """The keys and value types of a JSON answer, all the way down."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return type(value).__name__


def test_only_the_switched_off_server_says_so_once_and_the_other_logs_no_path_off(servers):
    stock_log = servers["stock"].log_path.read_text()
    fast_log = servers["fast"].log_path.read_text()

    assert stock_log.count(ALL_OFF) == 1
    assert "Fast path" not in stock_log
    assert ALL_OFF not in fast_log and "Fast path" not in fast_log


def test_join_and_vote_answer_the_same_in_both_modes_and_only_the_fast_one_votes_on_the_loop(servers, event):
    proposal = factories.make_proposals(event, 1)[0]

    before = loop_connections()
    stock_joined, stock_voted = join_and_vote(servers["stock"], event, proposal.pk)
    after_stock = loop_connections()
    fast_joined, fast_voted = join_and_vote(servers["fast"], event, proposal.pk)

    assert stock_joined[0] == fast_joined[0] == 201
    assert shape(stock_joined[1]) == shape(fast_joined[1])
    assert stock_voted[0] == fast_voted[0] == 200
    assert set(stock_voted[1]) >= {"votes", "budget"}
    assert shape(stock_voted[1]) == shape(fast_voted[1])
    assert stock_voted[1]["votes"] == fast_voted[1]["votes"] == {str(proposal.pk): 1}
    # The stock server answered through DRF: no connection of the loop's pool appeared for it.
    assert after_stock == before
    assert loop_connections() >= 1


@pytest.mark.parametrize("mode", ["fast", "stock"])
def test_a_body_too_large_gets_the_contracts_413_in_both_modes(servers, event, mode):
    server = servers[mode]
    body = json.dumps({"title": "x" * 70_000}).encode()
    request = (
        f"POST /api/events/{event.slug}/proposals HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    response = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        # The fast path answers from the headers and closes: the rest may not be read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request.encode() + body)
        try:
            while chunk := sock.recv(65536):
                response += chunk
        except ConnectionResetError:
            pass

    head, _, body = response.partition(b"\r\n\r\n")
    if b"Transfer-Encoding: chunked" in head:  # Django's own 413 (stock Daphne) has no length
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    assert parse(head + b"\r\n\r\n" + body) == (413, TOO_LARGE)


def test_only_the_fast_mode_answers_413_before_the_body_arrives(servers, event):
    head = (
        f"POST /api/events/{event.slug}/proposals HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 209715200\r\n\r\n"
    )

    fast, _ = send_headers_only(servers["fast"], head, timeout=2)
    stock, _ = send_headers_only(servers["stock"], head, timeout=2)

    assert parse(fast) == (413, TOO_LARGE)
    assert stock == b""  # Daphne as shipped waits for the body first (then Django says 413)


@pytest.mark.parametrize("mode", ["fast", "stock"])
async def test_a_websocket_receives_the_tally_of_a_vote_in_both_modes(servers, event, mode):
    server = servers[mode]
    proposal = (await sync_to_async(factories.make_proposals)(event, 1))[0]
    _, _, token = await sync_to_async(factories.join)(event)
    url = f"{server.url}/api/events/{event.slug}/votes/{proposal.pk}"

    async with LiveSubscriber(server, event) as subscriber:
        status, _ = await sync_to_async(http)("PUT", url, {"dots": 1}, token)
        tally = await subscriber.until(
            lambda m: m["type"] in ("tally", "snapshot") and m["version"] > subscriber.messages[0]["version"]
        )

    assert status == 200
    counts = tally["counts"] if tally["type"] == "tally" else {str(p["id"]): p for p in tally["proposals"]}
    assert counts[str(proposal.pk)]["dots"] == 1
