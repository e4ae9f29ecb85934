"""Websocket subscribers in a process of their own, light enough not to be what is measured.

Thousands of sockets per process: websockets' sans-I/O `ClientProtocol` (the same protocol
code as its asyncio client, without a task, a queue and futures per message) on a bare
uvloop `Protocol`. Per message the hot path reads the type and version from the first bytes
and stamps the arrival time; the JSON of a version is parsed once per process, the first
time any socket receives it.

Driven by the harness through a `multiprocessing` pipe: commands in, one reply per command.
"""

import asyncio
import json
import random
import re
import resource
import sys
import time
from array import array
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Origin
from websockets.uri import parse_uri

NAN = float("nan")
HEAD = re.compile(rb'^\{"type":\s*"(\w+)",\s*"version":\s*(\d+)')
VERSION = re.compile(rb'"version":\s*(\d+)')

# Socket states, as the report names them.
IDLE, CONNECTING, OPEN, CLOSED, DROPPED, FAILED = "idle", "connecting", "open", "closed", "dropped", "failed"


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def parse_head(data: bytes) -> tuple[str, int] | None:
    """The message type and version from the first bytes, without decoding the JSON."""
    match = HEAD.match(data)
    if match:
        return match.group(1).decode(), int(match.group(2))
    match = VERSION.search(data)
    if match is None:
        return None
    try:
        kind = json.loads(data).get("type", "?")
    except ValueError:
        kind = "?"
    return kind, int(match.group(1))


def parse_state(data: bytes) -> dict:
    """Counts and participation of a `tally` or `snapshot` (or the baseline's look-alike)."""
    message = json.loads(data)
    kind = message.get("type")
    counts = None
    if kind == "tally" and "counts" in message:
        counts = {int(pid): (c["dots"], c["voters"]) for pid, c in message["counts"].items()}
    elif kind == "snapshot":
        counts = {
            int(p["id"]): (p["dots"], p["voters"])
            for p in message.get("proposals", [])
            if p.get("status", "published") == "published" and "dots" in p
        }
    server_time = message.get("server_time")
    try:
        built = datetime.fromisoformat(server_time).timestamp() if server_time else None
    except (TypeError, ValueError):
        built = None
    return {
        "kind": kind,
        "version": message.get("version"),
        "built": built,
        "counts": counts,
        "participation": message.get("participation"),
    }


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    origin: str
    headers: tuple = ()


class Subscriber(asyncio.Protocol):
    """One websocket: the sans-I/O protocol on a uvloop transport."""

    __slots__ = ("pool", "index", "transport", "protocol", "fragments", "ours")

    def __init__(self, pool: "Pool", index: int):
        self.pool, self.index = pool, index
        self.transport = None
        self.protocol = None
        self.fragments: list[bytes] | None = None
        self.ours = False  # we are closing it

    def connection_made(self, transport):
        self.transport = transport
        target = self.pool.targets[self.index]
        self.protocol = ClientProtocol(
            parse_uri(f"ws://{target.host}:{target.port}{target.path}"),
            origin=Origin(target.origin),
            max_size=None,
        )
        request = self.protocol.connect()
        for name, value in target.headers:
            request.headers[name] = value
        self.protocol.send_request(request)
        self.flush()

    def flush(self):
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def data_received(self, data):
        now = time.monotonic()
        protocol = self.protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    if event.fin:
                        self.pool.on_message(self, event.data, now)
                    else:
                        self.fragments = [event.data]
                elif event.opcode is Opcode.CONT and self.fragments is not None:
                    self.fragments.append(event.data)
                    if event.fin:
                        whole, self.fragments = b"".join(self.fragments), None
                        self.pool.on_message(self, whole, now)
            elif isinstance(event, Response):
                if protocol.handshake_exc is not None:
                    self.pool.on_failed_attempt(self, f"handshake: {protocol.handshake_exc}")
                else:
                    self.pool.on_open(self, now)
        self.flush()
        if protocol.close_expected() and self.transport is not None:
            self.transport.close()

    def eof_received(self):
        self.protocol.receive_eof()
        self.flush()
        return False

    def connection_lost(self, exc):
        self.pool.on_lost(self, exc)

    def close(self):
        self.ours = True
        if self.transport is None or self.transport.is_closing():
            return
        try:
            self.protocol.send_close(1000)
            self.flush()
        except Exception:
            self.transport.close()


class Pool:
    """The sockets of this process and everything measured about them."""

    def __init__(self, targets: list[Target], *, concurrency: int, attempts: int = 4, timeout: float = 20.0):
        self.targets = targets
        n = len(targets)
        self.n = n
        self.concurrency = concurrency
        self.max_attempts = attempts
        self.timeout = timeout
        self.subs: list[Subscriber | None] = [None] * n
        self.state = [IDLE] * n
        self.attempts = [0] * n
        self.t_start = [NAN] * n
        self.t_open = [NAN] * n
        self.t_snapshot = [NAN] * n
        self.last_version = [0] * n
        self.messages = [0] * n
        self.waiters: list[asyncio.Future | None] = [None] * n
        self.nan_row = array("d", [NAN]) * n
        self.arrivals: dict[int, array] = {}
        self.contents: dict[int, dict] = {}
        self.kinds: Counter = Counter()
        self.drops: list[tuple] = []
        self.errors: Counter = Counter()
        self.regressions = 0
        self.unparsed = 0

    # --- events from the sockets ---------------------------------------------------------------

    def on_message(self, sub: Subscriber, data: bytes, now: float) -> None:
        index = sub.index
        if self.subs[index] is not sub:
            return
        head = parse_head(data)
        if head is None:
            self.unparsed += 1
            return
        kind, version = head
        row = self.arrivals.get(version)
        if row is None:
            row = self.arrivals[version] = array("d", self.nan_row)
            try:
                self.contents[version] = parse_state(data)
            except (ValueError, KeyError, TypeError) as exc:
                self.contents[version] = {"kind": kind, "version": version, "error": repr(exc)}
        row[index] = now
        self.messages[index] += 1
        self.kinds[kind] += 1
        if version <= self.last_version[index]:
            self.regressions += 1
        else:
            self.last_version[index] = version
        if kind == "snapshot" and self.state[index] == CONNECTING:
            self.t_snapshot[index] = now
            self.state[index] = OPEN
            waiter = self.waiters[index]
            if waiter is not None and not waiter.done():
                waiter.set_result(True)

    def on_open(self, sub: Subscriber, now: float) -> None:
        if self.subs[sub.index] is sub:
            self.t_open[sub.index] = now

    def on_failed_attempt(self, sub: Subscriber, reason: str) -> None:
        if self.subs[sub.index] is not sub:
            return
        waiter = self.waiters[sub.index]
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError(reason))
        if sub.transport is not None:
            sub.transport.close()

    def on_lost(self, sub: Subscriber, exc) -> None:
        index = sub.index
        if self.subs[index] is not sub:
            return
        code = sub.protocol.close_code if sub.protocol is not None else None
        if self.state[index] == CONNECTING:
            waiter = self.waiters[index]
            if waiter is not None and not waiter.done():
                waiter.set_exception(ConnectionError(f"closed before the snapshot (code {code}, {exc!r})"))
            return
        if sub.ours:
            self.state[index] = CLOSED
        elif self.state[index] == OPEN:
            self.state[index] = DROPPED
            self.drops.append((index, time.monotonic(), code, repr(exc) if exc else ""))

    # --- commands ------------------------------------------------------------------------------

    async def join_all(self, deadline_seconds: float = 240.0) -> dict:
        """Open every socket (bounded handshakes in flight, retry with backoff) until each has its snapshot.

        Bounded in time: a socket without its snapshot when the deadline passes is `failed`.
        """
        gate = asyncio.Semaphore(self.concurrency)
        started = time.monotonic()
        joins = [asyncio.ensure_future(self._join(index, gate)) for index in range(self.n)]
        _, pending = await asyncio.wait(joins, timeout=deadline_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for index, sub in enumerate(self.subs):
            if self.state[index] == CONNECTING:
                self.state[index] = FAILED
                self.errors["no snapshot before the join deadline"] += 1
                if sub is not None and sub.transport is not None:
                    sub.transport.abort()
        return {
            "seconds": time.monotonic() - started,
            "open": self.state.count(OPEN),
            "failed": self.state.count(FAILED),
            "retries": sum(max(0, a - 1) for a in self.attempts),
        }

    async def _join(self, index: int, gate: asyncio.Semaphore) -> None:
        loop = asyncio.get_running_loop()
        target = self.targets[index]
        for attempt in range(1, self.max_attempts + 1):
            self.attempts[index] = attempt
            async with gate:
                if attempt == 1:
                    self.t_start[index] = time.monotonic()
                self.state[index] = CONNECTING
                waiter = self.waiters[index] = loop.create_future()
                sub = Subscriber(self, index)
                self.subs[index] = sub
                try:
                    await asyncio.wait_for(
                        loop.create_connection(lambda sub=sub: sub, target.host, target.port), self.timeout
                    )
                    await asyncio.wait_for(waiter, self.timeout)
                    return
                except (OSError, TimeoutError, ConnectionError) as exc:
                    self.errors[type(exc).__name__ + ": " + str(exc)[:120]] += 1
                    self.subs[index] = None
                    if sub.transport is not None:
                        sub.transport.abort()
            # Back off with jitter, as the phones' feed.js does.
            await asyncio.sleep(min(0.25 * 2**attempt, 4.0) * random.uniform(0.5, 1.0))
        self.state[index] = FAILED

    def progress(self) -> dict:
        return {
            "open": self.state.count(OPEN),
            "connecting": self.state.count(CONNECTING),
            "failed": self.state.count(FAILED),
            "dropped": self.state.count(DROPPED),
            "messages": sum(self.messages),
        }

    def expect(self, counts: dict) -> dict:
        """How many open sockets last saw exactly these counts."""
        matches: dict[int, bool] = {}
        good = bad = 0
        for index in range(self.n):
            if self.state[index] != OPEN:
                continue
            version = self.last_version[index]
            if version not in matches:
                content = self.contents.get(version) or {}
                matches[version] = content.get("counts") == counts
            if matches[version]:
                good += 1
            else:
                bad += 1
        return {"matching": good, "other": bad}

    async def close_all(self, timeout: float = 10.0) -> dict:
        for sub in self.subs:
            if sub is not None:
                sub.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(s == OPEN for s in self.state):
            await asyncio.sleep(0.05)
        for sub in self.subs:
            if sub is not None and sub.transport is not None and not sub.transport.is_closing():
                sub.transport.abort()
        return {"closed": self.state.count(CLOSED)}

    def dump(self) -> dict:
        import numpy as np

        versions = sorted(self.arrivals)
        matrix = np.full((len(versions), self.n), np.nan)
        for row, version in enumerate(versions):
            matrix[row] = np.frombuffer(self.arrivals[version], dtype=np.float64)
        return {
            "n": self.n,
            "versions": versions,
            "arrivals": matrix,
            "contents": self.contents,
            "state": list(self.state),
            "attempts": list(self.attempts),
            "t_start": list(self.t_start),
            "t_open": list(self.t_open),
            "t_snapshot": list(self.t_snapshot),
            "last_version": list(self.last_version),
            "messages": list(self.messages),
            "kinds": dict(self.kinds),
            "drops": list(self.drops),
            "errors": dict(self.errors.most_common(10)),
            "regressions": self.regressions,
            "unparsed": self.unparsed,
        }


async def serve(conn, targets: list[Target], concurrency: int, label: str) -> None:
    """Answer the harness's commands until it says `close` (or goes away)."""
    loop = asyncio.get_running_loop()
    pool = Pool(targets, concurrency=concurrency)

    async def next_command() -> tuple:
        # A thread waits on the pipe: an event-loop reader would make its socket non-blocking,
        # and a large reply (`dump`) would then fail half-way with EAGAIN.
        try:
            return await loop.run_in_executor(None, conn.recv)
        except (EOFError, OSError):
            return ("close",)

    async def report_progress(stop: asyncio.Event):
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 2.0)
            except TimeoutError:
                p = pool.progress()
                print(
                    f"           {label}: {p['open']}/{pool.n} with snapshot, "
                    f"{p['connecting']} connecting, {p['failed']} failed",
                    file=sys.stderr,
                    flush=True,
                )

    while True:
        command = await next_command()
        name = command[0]
        if name == "join":
            stop = asyncio.Event()
            reporter = loop.create_task(report_progress(stop))
            reply = await pool.join_all(command[1])
            stop.set()
            await reporter
        elif name == "progress":
            reply = pool.progress()
        elif name == "expect":
            reply = pool.expect(command[1])
        elif name == "dump":
            reply = pool.dump()
        elif name == "close":
            reply = await pool.close_all()
        else:
            reply = {"error": f"unknown command {name}"}
        try:
            conn.send(reply)
        except OSError:
            break
        if name == "close":
            break


def main(conn, targets: list[Target], concurrency: int, label: str) -> None:
    """Process entry point (multiprocessing, spawn)."""
    import uvloop

    raise_fd_limit()
    uvloop.run(serve(conn, targets, concurrency, label))
