"""The live feed across real processes: Daphne × 2 on one PostgreSQL and Redis, real sockets.

Votes go through one process's HTTP API; subscribers listen on the other. One test stops its
own Redis (never the machine's shared one) in the middle and starts it again.
"""

import asyncio
import contextlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from asgiref.sync import sync_to_async
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests import factories
from tests.feed_support import adatabase_counts, arecount, close_sync_thread_connections
from tests.live import DaphneServer, free_port

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]

SHARED_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
async def _no_connection_left_behind():
    yield
    await close_sync_thread_connections()


def start_all(*servers: DaphneServer) -> list[DaphneServer]:
    """Start the processes side by side (each takes a second or two to import Django)."""
    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(DaphneServer.start, servers))
    except Exception:
        stop_all(servers)
        raise
    return list(servers)


def stop_all(servers) -> None:
    with ThreadPoolExecutor(len(servers)) as pool:
        list(pool.map(DaphneServer.stop, servers))


@pytest.fixture(scope="module")
def shared_redis_pair(django_db_setup, django_db_blocker):
    servers = start_all(DaphneServer(redis_url=SHARED_REDIS_URL), DaphneServer(redis_url=SHARED_REDIS_URL))
    yield servers
    stop_all(servers)


class RedisProcess:
    """A private redis-server for this test run, so that stopping it disturbs nobody else."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/1"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def private_redis_pair(django_db_setup, django_db_blocker):
    own_redis = RedisProcess()
    own_redis.start()
    try:
        servers = start_all(DaphneServer(redis_url=own_redis.url), DaphneServer(redis_url=own_redis.url))
        yield own_redis, servers
        stop_all(servers)
    finally:
        own_redis.kill()


# --- clients ---------------------------------------------------------------------------------------


def http(method: str, url: str, body=None, token: str = "", scheme: str = "Attendee") -> tuple[int, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"{scheme} {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def vote_over_http(server: DaphneServer, event, votes: list[tuple[str, int]]) -> tuple[list[int], float]:
    """(attendee token, proposal id) pairs, one dot each, 8 at a time. Statuses and when the last answered."""

    def one(vote):
        token, proposal_id = vote
        status, _ = http(
            "PUT", f"{server.url}/api/events/{event.slug}/votes/{proposal_id}", {"dots": 1}, token
        )
        return status

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, votes))
    return statuses, time.monotonic()


avote_over_http = sync_to_async(vote_over_http, thread_sensitive=False)


class LiveSubscriber:
    """A real websocket client (the `websockets` library) that records every message."""

    def __init__(self, server: DaphneServer, event):
        self.url = f"{server.ws_url}/ws/events/{event.slug}/"
        self.origin = server.url
        self.messages: list[dict] = []
        self.queue: asyncio.Queue = asyncio.Queue()

    async def __aenter__(self):
        self.socket = await connect(self.url, origin=self.origin, proxy=None, open_timeout=5)
        self.reader = asyncio.create_task(self._read())
        await self.until(lambda m: m["type"] == "snapshot")
        return self

    async def __aexit__(self, *exc):
        self.reader.cancel()
        await self.socket.close()

    async def _read(self):
        async for text in self.socket:
            await self.queue.put(json.loads(text))

    async def until(self, predicate, timeout: float = 5) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no such message within {timeout}s; last: {self.messages[-2:]}")
            try:
                message = await asyncio.wait_for(self.queue.get(), remaining)
            except TimeoutError:
                continue
            self.messages.append(message)
            if predicate(message):
                return message

    async def converged(self, event, timeout: float = 5) -> tuple[dict, float]:
        """The first state message showing the database's counts, and when it arrived."""
        expected = await adatabase_counts(event)

        def shows(message):
            if message["type"] == "tally":
                return message.get("counts") == expected
            if message["type"] == "snapshot":
                return {
                    str(p["id"]): {"dots": p["dots"], "voters": p["voters"]} for p in message["proposals"]
                } == (expected)
            return False

        message = await self.until(shows, timeout)
        return message, time.monotonic()


def arrange(attendees: int, proposals: int):
    event = factories.make_event()
    made = factories.make_proposals(event, proposals)
    tokens = [factories.join(event)[2] for _ in range(attendees)]
    return event, made, tokens


# --- the tests -------------------------------------------------------------------------------------


async def test_votes_through_one_process_reach_a_subscriber_on_another_within_2_seconds(
    shared_redis_pair, capsys
):
    a, b = shared_redis_pair
    event, proposals, tokens = await sync_to_async(arrange)(40, 4)
    votes = [(token, p.pk) for i, token in enumerate(tokens) for p in proposals[: 1 + i % 4]]

    async with LiveSubscriber(b, event) as on_b, LiveSubscriber(a, event) as on_a:
        statuses, last_answer = await avote_over_http(a, event, votes)
        seen_on_b, b_at = await on_b.converged(event, timeout=5)
        seen_on_a, a_at = await on_a.converged(event, timeout=5)

    with capsys.disabled():
        print(
            f"\n  2 processes: {len(votes)} votes via A; B converged {b_at - last_answer:.2f}s and A "
            f"{a_at - last_answer:.2f}s after the last answer; B got {len(on_b.messages)} messages"
        )
    assert statuses == [200] * len(votes)
    assert seen_on_b["counts"] == await arecount(event)
    assert b_at - last_answer < 2
    assert a_at - last_answer < 2
    versions = [m["version"] for m in on_b.messages]
    assert versions == sorted(set(versions))


async def test_a_new_proposal_through_one_process_reaches_the_other_as_a_snapshot(
    shared_redis_pair, organizer
):
    a, b = shared_redis_pair
    event = await sync_to_async(factories.make_event)(organizer)
    token, _ = await sync_to_async(Token.objects.get_or_create)(user=organizer)
    url = f"{a.url}/api/events/{event.slug}/proposals"

    async with LiveSubscriber(b, event) as on_b:
        status, created = await sync_to_async(http)(
            "POST", url, {"title": "Cross-process"}, token.key, "Token"
        )
        snapshot = await on_b.until(lambda m: m["type"] == "snapshot" and m["proposals"], timeout=2)

    assert status == 201
    assert [(p["id"], p["title"]) for p in snapshot["proposals"]] == [(created["id"], "Cross-process")]


async def test_daphne_refuses_a_websocket_from_another_origin_port_or_scheme(shared_redis_pair, event):
    a, _ = shared_redis_pair
    other_port = f"http://127.0.0.1:{a.port + 1}"
    other_scheme = f"https://127.0.0.1:{a.port}"
    statuses = []

    for origin in ("http://evil.example", other_port, other_scheme, None):
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{a.ws_url}/ws/events/{event.slug}/", origin=origin, proxy=None)
        statuses.append(refused.value.response.status_code)

    assert statuses == [403, 403, 403, 403]


async def test_daphne_closes_with_4009_over_the_app_limit_and_cuts_off_frames_over_its_own(
    shared_redis_pair, event
):
    a, _ = shared_redis_pair
    url = f"{a.ws_url}/ws/events/{event.slug}/"
    closes = []

    for size in (4097, 1024 * 1024 + 1):
        async with connect(url, origin=a.url, proxy=None, max_size=None, compression=None) as socket:
            await socket.recv()  # the snapshot
            # Autobahn may drop the connection while the frame is still being written: the send
            # itself then fails (reset, broken pipe, or closed), which is that same refusal.
            with contextlib.suppress(ConnectionClosed, ConnectionResetError, BrokenPipeError):
                await socket.send("x" * size)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)
            closes.append(closed.value.rcvd.code if closed.value.rcvd else "dropped")

    assert closes[0] == 4009
    # Autobahn (under Daphne) fails an oversized message by dropping the TCP connection
    # (its failByDrop default) rather than sending close 1009; either way it is refused.
    assert closes[1] in (1009, "dropped")


async def test_with_redis_stopped_votes_are_stored_and_subscribers_converge_again_when_it_returns(
    private_redis_pair, capsys
):
    own_redis, (a, b) = private_redis_pair
    event, proposals, tokens = await sync_to_async(arrange)(30, 3)
    rounds = [[(token, p.pk) for token in tokens[i * 10 : (i + 1) * 10]] for i, p in enumerate(proposals)]
    timings = []

    async with LiveSubscriber(b, event) as on_b, LiveSubscriber(a, event) as on_a:
        statuses, answered = await avote_over_http(a, event, rounds[0])
        await on_b.converged(event)
        assert statuses == [200] * 10

        await sync_to_async(own_redis.kill)()
        statuses_while_down, answered = await avote_over_http(a, event, rounds[1])
        _, a_at = await on_a.converged(event, timeout=5)  # the process that took the votes
        _, b_at = await on_b.converged(event, timeout=5)  # the other one, from the database
        timings.append(("redis down", a_at - answered, b_at - answered))
        stored_while_down = await arecount(event)

        await sync_to_async(own_redis.start)()
        statuses_after, answered = await avote_over_http(a, event, rounds[2])
        _, a_at = await on_a.converged(event, timeout=5)
        _, b_at = await on_b.converged(event, timeout=5)
        timings.append(("redis back", a_at - answered, b_at - answered))

    with capsys.disabled():
        for label, on_a_after, on_b_after in timings:
            print(
                f"\n  {label}: A converged {on_a_after:.2f}s, B {on_b_after:.2f}s after the last vote answer"
            )
    assert statuses_while_down == [200] * 10
    assert statuses_after == [200] * 10
    assert stored_while_down == {
        str(proposals[0].pk): {"dots": 10, "voters": 10},
        str(proposals[1].pk): {"dots": 10, "voters": 10},
        str(proposals[2].pk): {"dots": 0, "voters": 0},
    }
    assert await adatabase_counts(event) == {str(p.pk): {"dots": 10, "voters": 10} for p in proposals}
