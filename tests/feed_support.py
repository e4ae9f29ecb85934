"""Helpers for the live-feed tests: a subscriber that records what a websocket client receives."""

import asyncio
import contextlib
import json
import time

from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.db.backends.signals import connection_created

from unconf.asgi import application
from voting.models import Proposal, ProposalStatus, Vote

ORIGIN = (b"origin", b"http://127.0.0.1")
# What a browser on http://127.0.0.1/ sends with it (the feed compares scheme, host and port).
HOST = (b"host", b"127.0.0.1")


class Subscriber:
    """One websocket client of /ws/events/<slug>/ on the real ASGI application."""

    def __init__(self, slug: str, *, headers=(), origin=ORIGIN, query: str = ""):
        all_headers = [origin, *headers] if origin else list(headers)
        if not any(name == b"host" for name, _ in all_headers):
            all_headers.append(HOST)
        path = f"/ws/events/{slug}/" + (f"?{query}" if query else "")
        self.communicator = WebsocketCommunicator(application, path, headers=all_headers)
        self.messages: list[dict] = []

    async def connect(self, timeout: float = 5):
        return await self.communicator.connect(timeout=timeout)

    async def receive(self, timeout: float = 3) -> dict:
        """The next message. Waits on the output queue itself: the communicator's own
        receive cancels the application when it times out, which would end the connection."""
        if self.communicator.future.done():
            self.communicator.future.result()  # the consumer crashed: raise its error here
        output = await asyncio.wait_for(self.communicator.output_queue.get(), timeout)
        assert output["type"] == "websocket.send", f"expected a message, got {output}"
        message = json.loads(output["text"])
        self.messages.append(message)
        return message

    async def send(self, payload) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        await self.communicator.send_to(text_data=text)

    async def until(self, predicate, timeout: float = 5) -> dict:
        """The first message from now on for which predicate(message) holds."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no such message within {timeout}s; got {self.messages[-3:]}")
            try:
                message = await self.receive(timeout=remaining)
            except TimeoutError:
                continue
            if predicate(message):
                return message

    async def quiet(self, seconds: float = 0.5) -> list[dict]:
        """Everything that arrives until nothing has arrived for `seconds`."""
        received = []
        while True:
            try:
                received.append(await self.receive(timeout=seconds))
            except TimeoutError:
                return received

    async def close(self) -> None:
        await self.communicator.disconnect()


@contextlib.asynccontextmanager
async def subscribed(slug: str, *, headers=(), origin=ORIGIN, query: str = ""):
    """A connected subscriber whose first message (the snapshot) is already read; always closed."""
    subscriber = Subscriber(slug, headers=headers, origin=origin, query=query)
    connected, code = await subscriber.connect()
    assert connected, f"refused with {code}"
    try:
        await subscriber.receive()
        yield subscriber
    finally:
        await subscriber.close()


def cookie(**values) -> tuple[bytes, bytes]:
    return (b"cookie", "; ".join(f"{k}={v}" for k, v in values.items()).encode())


def authorization(value: str) -> tuple[bytes, bytes]:
    return (b"authorization", value.encode())


def database_counts(event) -> dict[str, dict[str, int]]:
    """What a tally must show: the denormalised counters of every published proposal."""
    rows = Proposal.objects.filter(event=event, status=ProposalStatus.PUBLISHED)
    return {str(p.pk): {"dots": p.dots, "voters": p.voters} for p in rows}


def recount(event) -> dict[str, dict[str, int]]:
    """The same, recounted from the vote rows (zeros included)."""
    counted = Vote.objects.filter(event=event).recount()
    published = Proposal.objects.filter(event=event, status=ProposalStatus.PUBLISHED)
    return {str(p.pk): counted.get(p.pk, {"dots": 0, "voters": 0}) for p in published}


adatabase_counts = sync_to_async(database_counts)
arecount = sync_to_async(recount)


def count_leaks(message: dict) -> list[str]:
    """Where a message shows a per-proposal count (participation and `me` are not counts)."""
    leaks = [f"counts in {message['type']}"] if "counts" in message else []
    for proposal in message.get("proposals", []):
        leaks += [f"{key} of proposal {proposal['id']}" for key in ("dots", "voters") if key in proposal]
    schedule = message.get("schedule") or {}
    for session in schedule.get("sessions", []):
        leaks += [
            f"{key} of session {session['proposal']}" for key in ("voters", "explanation") if key in session
        ]
    if "over_capacity" in schedule:
        leaks.append("over_capacity")
    return leaks


class QueryLog:
    """Every SQL statement run by any thread, on connections opened while it is active.

    The feed's workers open a connection per call (CONN_MAX_AGE = 0), so this sees them all.
    """

    def __init__(self):
        self.statements: list[str] = []
        self.active = False

    def _wrapper(self, execute, sql, params, many, context):
        if self.active:
            self.statements.append(sql)
        return execute(sql, params, many, context)

    def _install(self, sender, connection, **kwargs):
        if self._wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(self._wrapper)

    def __enter__(self):
        self.active = True
        connection_created.connect(self._install)
        return self

    def __exit__(self, *exc):
        self.active = False
        connection_created.disconnect(self._install)

    def matching(self, *fragments: str) -> list[str]:
        return [sql for sql in self.statements if all(f in sql for f in fragments)]


async def close_sync_thread_connections() -> None:
    """Close the connection of asgiref's shared sync thread (sync_to_async, channels' auth).

    Channels' test communicator switches its connection clean-up off, so that thread would
    keep a connection to the test database open and block dropping it at the end.
    """
    await sync_to_async(connections.close_all)()


async def wait_for(predicate, timeout: float = 5, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s")
        await asyncio.sleep(every)


async def call(method: str, path: str, body: bytes = b"", headers=()) -> dict:
    """One request to the ASGI application, as Daphne sends it; the whole response back."""
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": body})
    start = await communicator.receive_output(10)
    content = b""
    while True:
        message = await communicator.receive_output(10)
        content += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(10)
    return {"status": start["status"], "headers": dict(start["headers"]), "body": content}
