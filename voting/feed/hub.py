"""One process's fan-out: its layer channel, its sockets, the flusher and the watchdog."""

import asyncio
import contextlib
import logging
import re
import time
import weakref

from channels.layers import get_channel_layer
from django.conf import settings

from voting.core.workers import RequestLoad, in_worker
from voting.feed import broadcast, messages, snapshots, wire
from voting.feed.broadcast import STATE, TALLY
from voting.feed.watchdog import Watchdog

logger = logging.getLogger(__name__)


def position(message: dict) -> tuple[int, int]:
    """Where a message stands: its version, then its kind. One version is one state, but a
    tally shows only its counts: a snapshot of the same version still brings the rest (a
    tally built just after a change can carry that change's version before its snapshot)."""
    return message["version"], message["kind"]


RETRY_SECONDS = 1.0
LAYER_TIMEOUT_SECONDS = 2.0
# After a layer failure, connects stop waiting for the layer for this long.
LAYER_SUSPECT_SECONDS = 30.0
# While votes queue up for the request threads, screens are refreshed at most once a second:
# with thousands of sockets, fan-out is the largest fixed cost of a process (scripts/bench),
# and every vote acknowledged matters more than the screens moving four times a second.
OVERLOADED_INTERVAL_SECONDS = 1.0
# "Behind": this many requests waiting (RequestLoad.waiting). The requests read after a
# fan-out at 200 votes/s stay well below it; past the capacity the queue grows to hundreds.
OVERLOADED_WAITING = 16


def group_name(event_id: int) -> str:
    """The layer group of an event, scoped to the database.

    Redis pub/sub channels ignore the Redis database number, so two deployments (or two test
    runs) sharing one Redis would otherwise hear each other's event ids.
    """
    from django.db import connections

    database = re.sub(r"[^a-zA-Z0-9_.-]", "-", str(connections["default"].settings_dict["NAME"]))[-40:]
    return f"unconf.{database}.event.{event_id}"


class Hub(Watchdog):
    """Per process and event loop: local sockets per event, one layer channel, flusher, watchdog.

    A socket is any object with `role`, `attendee`, `position`, `ready`, `async push(message,
    me)` and `push_frame(message, frames)`; see consumers.EventFeed.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.layer = get_channel_layer()
        self.interval = 1.0 / max(1, settings.UNCONF_TALLY_PER_SECOND)
        self.channel: str | None = None
        self.sockets: dict[int, weakref.WeakSet] = {}
        self.joined: dict[int, float] = {}  # event id -> when its group membership was confirmed
        self.dirty: dict[int, int] = {}  # event id -> TALLY or STATE waiting for the flusher
        self.dirty_since: dict[int, float] = {}  # event id -> wall clock of its first mark
        self.me_stale: set[int] = set()
        self.next_flush: dict[int, float] = {}
        # Per event with local sockets: the newest message fanned out to all of them, when,
        # [state, tally, snapshot version] every one of them is known to show at least, and
        # the newest snapshot (for connects and resyncs).
        self.delivered: dict[int, dict] = {}
        self.delivered_at: dict[int, float] = {}
        self.shown: dict[int, list] = {}
        self.snapshots: dict[int, dict] = {}
        self.snapshot_locks: dict[int, asyncio.Lock] = {}
        self.fan_out_locks: dict[int, asyncio.Lock] = {}
        # Tallies reach local sockets at most `interval` apart, whichever process built them.
        self.tally_fanned_at: dict[int, float] = {}
        self.held_tally: dict[int, dict] = {}
        self.refreshing: set[int] = set()
        self.background: set[asyncio.Task] = set()
        self.wake = asyncio.Event()
        self.join_lock = asyncio.Lock()
        self.layer_failed_at = -1e9
        self.tasks: dict[str, asyncio.Task] = {}
        self.screens_swept: dict[int, float] = {}

    def current_interval(self) -> float:
        """The spacing of messages per event: longer while this process is behind on requests."""
        if RequestLoad.waiting() >= OVERLOADED_WAITING:
            return max(self.interval, OVERLOADED_INTERVAL_SECONDS)
        return self.interval

    def _start(self) -> None:
        """Start (or restart, should one have died) the flusher and the watchdog."""
        for name, work in (("flusher", self._flusher), ("watchdog", self._watchdog)):
            task = self.tasks.get(name)
            if task is None or task.done():
                self.tasks[name] = self.loop.create_task(work(), name=f"unconf-{name}")

    def _layer_failed(self, what: str) -> None:
        # One warning per outage, not one per message or per second.
        now = self.loop.time()
        if now - self.layer_failed_at > LAYER_SUSPECT_SECONDS:
            logger.warning("Channel layer unavailable (%s); local sockets still get updates", what)
        self.layer_failed_at = now

    # --- producers ---------------------------------------------------------------------------

    def mark(self, event_id: int, kind: int, me_stale: bool = False) -> None:
        self.dirty_since.setdefault(event_id, time.time())
        self.dirty[event_id] = max(kind, self.dirty.get(event_id, 0))
        if me_stale:
            self.me_stale.add(event_id)
        self._start()
        self.wake.set()

    async def _flusher(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.dirty:
                now = self.loop.time()
                due = [e for e in self.dirty if now >= self.next_flush.get(e, 0.0)]
                if not due:
                    wait = min(self.next_flush[e] for e in self.dirty) - now
                    # Wake early too: a first change of another event must not wait for this one.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), timeout=max(wait, 0.001))
                    self.wake.clear()
                    continue
                for event_id in due:
                    await self._flush(event_id)

    async def _flush(self, event_id: int) -> None:
        kind = self.dirty.pop(event_id, None)
        self.dirty_since.pop(event_id, None)
        if kind is None:  # another process's tally covered it meanwhile
            return
        me_stale = event_id in self.me_stale
        self.me_stale.discard(event_id)
        self.next_flush[event_id] = self.loop.time() + self.current_interval()
        try:
            message = await in_worker(messages.build_message)(event_id, kind, me_stale)
        except Exception:  # the database is away: keep the event dirty and try again
            logger.warning("Could not build the broadcast of event %s; retrying", event_id, exc_info=True)
            self.dirty[event_id] = max(kind, self.dirty.get(event_id, 0))
            if me_stale:
                self.me_stale.add(event_id)
            self.next_flush[event_id] = self.loop.time() + RETRY_SECONDS
            return
        if message is None:
            return
        # To other processes and to our own sockets side by side: a slow or dead layer never
        # delays the sockets here. Our own copy comes back too and is dropped by its version.
        self._spawn(self._send_to_layer(message))
        await self.deliver(message)

    async def _send_to_layer(self, message: dict) -> None:
        try:
            await asyncio.wait_for(
                self.layer.group_send(group_name(message["event"]), message), LAYER_TIMEOUT_SECONDS
            )
        except Exception:  # other processes' watchdogs catch up from the database
            self._layer_failed("send")

    def _spawn(self, coroutine) -> None:
        task = self.loop.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    # --- subscribers -------------------------------------------------------------------------

    async def subscribe(self, event_id: int, socket) -> None:
        """Before the socket's first snapshot is read, so that no later change can slip past it."""
        self._start()
        self.sockets.setdefault(event_id, weakref.WeakSet()).add(socket)
        if event_id not in self.joined:
            if self.loop.time() - self.layer_failed_at > LAYER_SUSPECT_SECONDS:
                await self._join(event_id)
            else:  # don't hold connects up behind layer timeouts: the watchdog covers the gap
                self._spawn(self._join(event_id))

    async def unsubscribe(self, event_id: int, socket) -> None:
        sockets = self.sockets.get(event_id)
        if sockets is None:
            return
        sockets.discard(socket)
        if not sockets:
            await self._leave(event_id)

    async def _leave(self, event_id: int) -> None:
        """The last local socket of the event is gone: forget its state, leave its group."""
        self.sockets.pop(event_id, None)
        for state in (self.delivered, self.delivered_at, self.shown, self.snapshots):
            state.pop(event_id, None)
        if self.joined.pop(event_id, None) is None:
            return
        async with self.join_lock:
            if event_id in self.sockets:  # a socket came back meanwhile and joins after us
                return
            try:
                await asyncio.wait_for(
                    self.layer.group_discard(group_name(event_id), self.channel), LAYER_TIMEOUT_SECONDS
                )
            except Exception:
                self._layer_failed("leave")

    async def _join(self, event_id: int, again: bool = False) -> None:
        async with self.join_lock:
            if event_id not in self.sockets or (event_id in self.joined and not again):
                return
            try:
                if self.channel is None:
                    channel = await asyncio.wait_for(
                        self.layer.new_channel(prefix="unconf.process."), LAYER_TIMEOUT_SECONDS
                    )
                    self.channel = channel
                    self.tasks["receiver"] = self.loop.create_task(self._receiver(), name="unconf-receiver")
                await asyncio.wait_for(
                    self.layer.group_add(group_name(event_id), self.channel), LAYER_TIMEOUT_SECONDS
                )
            except Exception:  # the watchdog tries again, and covers the gap meanwhile
                self._layer_failed("join")
                return
            self.joined[event_id] = self.loop.time()

    async def _receiver(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._layer_failed("receive")
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if message.get("type") == "unconf.broadcast":
                self._covered_by(message)
                await self.deliver(message)

    def _covered_by(self, message: dict) -> None:
        """A tally another process built after our pending changes committed shows them too:
        drop our own build, so that N processes make one stream of tallies, not N (each one
        a database read and a fan-out). Clocks are compared, which is exact on one machine;
        across machines a skewed clock can only delay a change until the watchdog's next
        comparison with the database (watchdog.WATCHDOG_SECONDS), never lose it."""
        event_id = message["event"]
        since = self.dirty_since.get(event_id)
        if (
            message["kind"] == TALLY
            and self.dirty.get(event_id) == TALLY
            and since is not None
            and message.get("read_at", 0.0) > since
        ):
            del self.dirty[event_id]
            del self.dirty_since[event_id]
            self.next_flush[event_id] = self.loop.time() + self.current_interval()

    async def deliver(self, message: dict) -> None:
        """Write one message to every local socket of its event; older messages are dropped.

        One fan-out at a time per event, in version order: a newer message never overtakes an
        older one that is still reading `me`, which would make every socket drop the older one.
        """
        event_id = message["event"]
        if event_id not in self.sockets:
            return
        if message["kind"] == TALLY and self._hold_tally(message):
            return
        async with self.fan_out_locks.setdefault(event_id, asyncio.Lock()):
            last = self.delivered.get(event_id)
            if event_id not in self.sockets or (last is not None and position(message) <= position(last)):
                return
            self.delivered[event_id] = message
            self.delivered_at[event_id] = self.loop.time()
            state_fp, tally_fp = message["fingerprint"]
            shown = self.shown.get(event_id)
            if message["kind"] == STATE:
                self.shown[event_id] = [state_fp, tally_fp, message["version"]]
                self._keep_snapshot(message)
            elif shown is not None:
                shown[1] = tally_fp
                if shown[0] != state_fp:  # its snapshot may have been overtaken on the way here
                    self._refresh_unless_caught_up(event_id, message)
            await self._fan_out(event_id, message)

    def _hold_tally(self, message: dict) -> bool:
        """Every process coalesces what it builds, but N processes would still send N times
        as many tallies: hold one that comes too soon after the last and send only the newest
        at the end of the interval. Fan-out is the most expensive thing a process does."""
        event_id = message["event"]
        wait = self.tally_fanned_at.get(event_id, -1e9) + self.current_interval() - self.loop.time()
        if wait <= 0:
            self.tally_fanned_at[event_id] = self.loop.time()
            return False
        held = self.held_tally.get(event_id)
        if held is None:
            self.loop.call_later(wait, self._release_tally, event_id)
        if held is None or message["version"] > held["version"]:
            self.held_tally[event_id] = message
        return True

    def _release_tally(self, event_id: int) -> None:
        message = self.held_tally.pop(event_id, None)
        if message is not None:
            self._spawn(self.deliver(message))

    async def _fan_out(self, event_id: int, message: dict) -> None:
        sockets = [
            s for s in list(self.sockets.get(event_id, ())) if s.ready and s.position < position(message)
        ]
        wants_me = message["kind"] == STATE and message["me_stale"]
        needs_me = [s for s in sockets if wants_me and s.attendee is not None]
        frames = wire.Frames(message)
        for socket in sockets:
            if not (wants_me and socket.attendee is not None):
                try:
                    written = socket.push_frame(message, frames)
                except Exception:  # one broken socket must not stop the others
                    logger.warning("Could not write to a socket of event %s", event_id, exc_info=True)
                    written = True
                if not written:
                    await self._push(socket, message, None)
        if not needs_me:
            return
        try:  # one query for every attendee of this process, not one per socket
            mes = await in_worker(snapshots.me_many)([s.attendee for s in needs_me], message["budget"])
        except Exception:
            logger.warning("Could not read `me` for event %s", event_id, exc_info=True)
            mes = {}
        for socket in needs_me:
            await self._push(socket, message, mes.get(socket.attendee.pk))

    async def _push(self, socket, message: dict, me: dict | None) -> None:
        try:
            await socket.push(message, me)
        except Exception:  # one broken socket must not stop the others
            logger.warning("Could not send to a socket of event %s", message["event"], exc_info=True)

    def _keep_snapshot(self, message: dict) -> None:
        event_id = message["event"]
        if event_id not in self.sockets:
            return
        kept = self.snapshots.get(event_id)
        if kept is None or message["version"] > kept["version"]:
            self.snapshots[event_id] = message
        self.shown.setdefault(event_id, [*message["fingerprint"], message["version"]])

    async def snapshot(self, event_id: int) -> dict | None:
        """The event's newest snapshot, built once per state for all sockets (None: no event)."""
        lock = self.snapshot_locks.setdefault(event_id, asyncio.Lock())
        async with lock:
            kept = self.snapshots.get(event_id)
            delivered = self.delivered.get(event_id)
            if kept is not None and (delivered is None or position(delivered) <= position(kept)):
                return kept
            message = await in_worker(messages.build_message)(event_id, STATE)
            if message is not None:
                self._keep_snapshot(message)
            return message


def hub_for_running_loop() -> Hub:
    loop = asyncio.get_running_loop()
    hub = broadcast.hubs.get(loop)
    if hub is None:
        for stale in [lp for lp in broadcast.hubs if lp.is_closed()]:
            del broadcast.hubs[stale]
        hub = broadcast.hubs[loop] = Hub(loop)
    return hub


def bind_to_running_loop() -> None:
    """Called by the ASGI entry point: changes in this process are broadcast from this loop."""
    hub_for_running_loop()
