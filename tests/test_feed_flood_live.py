"""A client that floods the feed and never reads cannot grow the server or slow other sockets.

Real Daphne, real sockets. The flooder is a plain TCP socket with a tiny receive buffer that
speaks just enough websocket to send `resync` requests as fast as the server takes them, and
reads nothing until the end; a normal client on the same process pings and watches votes.
"""

import asyncio
import base64
import json
import os
import socket
import struct
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect

from tests import factories
from tests.feed_support import close_sync_thread_connections
from tests.live import DaphneServer
from voting.proposals import services as proposal_services

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]

FLOOD_SECONDS = 8


@pytest.fixture(autouse=True)
async def _no_connection_left_behind():
    yield
    await close_sync_thread_connections()


class RawWebsocket:
    """A websocket client that reads only when asked to (a phone app that hung, a prankster)."""

    def __init__(self, server: DaphneServer, slug: str, rcvbuf: int = 4096):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /ws/events/{slug}/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                f"Origin: {server.url}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while not head.endswith(b"\r\n\r\n"):  # byte by byte: no frame is read with it
            head += self.sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head

    @staticmethod
    def frame(text: str) -> bytes:
        payload, mask = text.encode(), os.urandom(4)
        assert len(payload) < 126
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bytes([0x81, 0x80 | len(payload)]) + mask + masked

    def read_all_frames(self, timeout: float = 15) -> list[tuple[int, bytes]]:
        """Read until the server's close frame (or the end of the connection): (opcode, payload)."""
        self.sock.settimeout(timeout)
        data, frames = b"", []
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except (ConnectionResetError, TimeoutError):
                chunk = b""
            if not chunk:
                return frames
            data += chunk
            while len(data) >= 2:
                opcode, length, offset = data[0] & 0x0F, data[1] & 0x7F, 2
                if length == 126:
                    if len(data) < 4:
                        break
                    length, offset = struct.unpack("!H", data[2:4])[0], 4
                elif length == 127:
                    if len(data) < 10:
                        break
                    length, offset = struct.unpack("!Q", data[2:10])[0], 10
                if len(data) < offset + length:
                    break
                frames.append((opcode, data[offset : offset + length]))
                data = data[offset + length :]
                if opcode == 0x8:
                    return frames


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def flood(raw: RawWebsocket, seconds: float, per_second: float | None = None) -> int:
    """Send resync requests (as fast as the server takes them, or `per_second`); how many went out."""
    frame = RawWebsocket.frame(json.dumps({"type": "resync"}))
    batch = frame * (100 if per_second is None else 1)
    sent, deadline = 0, time.monotonic() + seconds
    raw.sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            raw.sock.sendall(batch)
        except TimeoutError:
            continue  # the server is not reading right now: try again
        except OSError:
            break  # dropped
        sent += len(batch) // len(frame)
        if per_second is not None:
            time.sleep(1 / per_second)
    return sent


class Watched:
    """A Daphne with a normal client on it, and a flooder on the side: Daphne's memory and the
    client's ping times while the flooder runs."""

    def __init__(self, server: DaphneServer, event, watcher):
        self.server, self.event, self.watcher = server, event, watcher
        self.before = self.peak = rss_kib(server.process.pid)
        self.pongs: list[float] = []

    async def while_running(self, thread: threading.Thread) -> None:
        thread.start()
        while thread.is_alive():
            ping_at = time.monotonic()
            await self.watcher.send(json.dumps({"type": "ping"}))
            while json.loads(await asyncio.wait_for(self.watcher.recv(), 5))["type"] != "pong":
                pass
            self.pongs.append(time.monotonic() - ping_at)
            self.peak = max(self.peak, rss_kib(self.server.process.pid))
            await asyncio.sleep(0.2)
        thread.join()

    def figures(self) -> str:
        return (
            f"Daphne RSS {self.before // 1024} MiB before, peak +{(self.peak - self.before) / 1024:.1f} MiB; "
            f"the other socket's pongs: max {max(self.pongs) * 1000:.0f} ms"
        )


def arrange():
    event = factories.make_event()
    long_text = "An unconference session about everything. " * 46  # ~2,000 characters
    proposals = [
        proposal_services.submit_proposal(
            event=event, author=None, title=f"Session {i}", description=long_text[:2000]
        )
        for i in range(300)
    ]
    _, _, token = factories.join(event)
    return event, proposals, token


async def test_a_client_flooding_resync_without_reading_grows_nothing_and_slows_no_other_socket(capsys):
    event, proposals, token = await sync_to_async(arrange)()
    server = await sync_to_async(DaphneServer().start)()
    sent: list[int] = []
    try:
        async with connect(
            f"{server.ws_url}/ws/events/{event.slug}/", origin=server.url, proxy=None
        ) as watcher:
            await watcher.recv()
            raw = RawWebsocket(server, event.slug)
            await asyncio.sleep(0.5)
            watched = Watched(server, event, watcher)
            await watched.while_running(
                threading.Thread(target=lambda: sent.append(flood(raw, FLOOD_SECONDS)))
            )
            status, _ = await sync_to_async(vote)(server, event, proposals[0].pk, token)
            tally = await until(
                watcher, lambda m: m["type"] == "tally" and m["counts"].get(str(proposals[0].pk))
            )
            frames = await sync_to_async(raw.read_all_frames)(timeout=3)
    finally:
        await sync_to_async(server.stop)()

    snapshots = [p for op, p in frames if op == 0x1 and json.loads(p)["type"] == "snapshot"]
    with capsys.disabled():
        print(
            f"\n  flooder sent {sent[0]:,} resyncs in {FLOOD_SECONDS}s, got {len(snapshots)} snapshots of "
            f"{len(snapshots[0]) // 1024} KiB; {watched.figures()}"
        )
    assert sent[0] > 10_000  # it really flooded (what the server did not read waits on its side)
    assert len(snapshots) <= FLOOD_SECONDS + 2  # merged: about one a second at most
    assert watched.peak - watched.before < 32 * 1024  # KiB; a snapshot per request was +125-180 MiB
    assert max(watched.pongs) < 1.0
    assert status == 200
    assert tally["counts"][str(proposals[0].pk)] == {"dots": 1, "voters": 1}


async def test_a_socket_that_does_not_read_what_it_is_sent_is_closed_with_4008_at_the_cap(capsys):
    event, proposals, token = await sync_to_async(arrange)()
    # Snapshots four times a second rather than once, so that the kernel's socket buffers and
    # then the 1 MiB cap fill within seconds; 10 requests a second is within a client's budget.
    server = await sync_to_async(DaphneServer(env={"UNCONF_WS_RESYNC_SECONDS": "0.25"}).start)()
    try:
        async with connect(
            f"{server.ws_url}/ws/events/{event.slug}/", origin=server.url, proxy=None
        ) as watcher:
            await watcher.recv()
            raw = RawWebsocket(server, event.slug)
            await asyncio.sleep(0.5)
            watched = Watched(server, event, watcher)
            await watched.while_running(threading.Thread(target=flood, args=(raw, FLOOD_SECONDS, 10)))
            frames = await sync_to_async(raw.read_all_frames)()  # it reads at last
            status, _ = await sync_to_async(vote)(server, event, proposals[0].pk, token)
            tally = await until(
                watcher, lambda m: m["type"] == "tally" and m["counts"].get(str(proposals[0].pk))
            )
    finally:
        await sync_to_async(server.stop)()

    received = sum(len(payload) for _, payload in frames)
    close = frames[-1]
    with capsys.disabled():
        print(
            f"\n  a socket that did not read: {received / 2**20:.1f} MiB received at last, then close; {watched.figures()}"
        )
    assert close[0] == 0x8 and struct.unpack("!H", close[1][:2])[0] == 4008
    assert watched.peak - watched.before < 32 * 1024  # KiB
    assert max(watched.pongs) < 1.0
    assert status == 200
    assert tally["counts"][str(proposals[0].pk)] == {"dots": 1, "voters": 1}


def vote(server, event, proposal_id, token):
    import urllib.request

    request = urllib.request.Request(
        f"{server.url}/api/events/{event.slug}/votes/{proposal_id}",
        data=b'{"dots": 1}',
        method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Attendee {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


async def until(socket, predicate, timeout: float = 5) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), max(0.01, deadline - time.monotonic())))
        if predicate(message):
            return message
