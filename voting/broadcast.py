"""The only code that talks to the channel layer: coalesced, versioned state for every socket.

Why it looks like this (see shared/PERFORMANCE.md): a Channels consumer per socket with its
own layer channel costs a subscription, a queue, a task and a thread hop per message, and
reaches a few percent of what the machine can deliver. So each process keeps ONE layer
channel, subscribed once per event that has local sockets, and fans every message out to
its own sockets itself; each message is serialised once per role (public / organizers).

Producers (services, on commit, from any thread) only mark an event dirty. A per-process
flusher builds at most `UNCONF_TALLY_PER_SECOND` messages per event: the first change after
a quiet spell goes out at once, later ones are folded into one message at the end of the
interval, built from the database after the last change, so the last message reflects it.
Every message carries a version from a PostgreSQL sequence, taken before the state is read:
whichever process sends it, a higher version never shows an older state.

A watchdog compares each watched event's fingerprint in the database with the last state
delivered here and resends when they differ, so sockets converge even when Redis was down
while a change happened, or a deadline passed with nobody voting.
"""

import asyncio
import json
import logging
import weakref

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

TALLY, STATE = 1, 2  # a state change (new snapshot) supersedes a pending tally
WATCHDOG_SECONDS = 1.0
RETRY_SECONDS = 1.0


def group_name(event_id: int) -> str:
    return f"unconf.event.{event_id}"


class Hub:
    """Per process and event loop: local sockets per event, one layer channel, the flusher."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.sockets: dict[int, set] = {}
        self.dirty: dict[int, int] = {}
        self.me_stale: set[int] = set()
        self.last_sent: dict[int, float] = {}
        self.delivered: dict[int, dict] = {}  # event id -> last message delivered locally
        self.snapshot_locks: dict[int, asyncio.Lock] = {}
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.interval = 1.0 / max(1, settings.UNCONF_TALLY_PER_SECOND)

    # --- producers ---------------------------------------------------------------------------

    def mark(self, event_id: int, kind: int, me_stale: bool = False) -> None:
        self.dirty[event_id] = max(kind, self.dirty.get(event_id, 0))
        if me_stale:
            self.me_stale.add(event_id)
        self._ensure_tasks()
        self.wake.set()

    def _ensure_tasks(self) -> None:
        if not self.tasks:
            self.tasks = [
                self.loop.create_task(self._flusher()),
                self.loop.create_task(self._watchdog()),
            ]

    async def _flusher(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.dirty:
                now = self.loop.time()
                due = [e for e in self.dirty if now - self.last_sent.get(e, -1e9) >= self.interval]
                if not due:
                    wait = min(self.last_sent[e] + self.interval for e in self.dirty) - now
                    await asyncio.sleep(max(wait, 0.001))
                    continue
                for event_id in due:
                    kind = self.dirty.pop(event_id)
                    me_stale = event_id in self.me_stale
                    self.me_stale.discard(event_id)
                    self.last_sent[event_id] = self.loop.time()
                    try:
                        await self.publish(event_id, kind, me_stale)
                    except Exception:  # Redis or the database away: keep it dirty and retry
                        logger.warning("Broadcast for event %s failed; retrying", event_id, exc_info=True)
                        self.dirty[event_id] = max(kind, self.dirty.get(event_id, 0))
                        self.last_sent[event_id] = self.loop.time() + RETRY_SECONDS
                        if me_stale:
                            self.me_stale.add(event_id)

    async def publish(self, event_id: int, kind: int, me_stale: bool = False) -> None:
        message = await sync_to_async(build_message, thread_sensitive=False)(event_id, kind, me_stale)
        if message is None:
            return
        await self.layer.group_send(group_name(event_id), message)

    # --- subscribers -------------------------------------------------------------------------

    async def subscribe(self, event_id: int, socket) -> None:
        if self.channel is None:
            self.channel = await self.layer.new_channel(prefix="unconf.process.")
            self.tasks.append(self.loop.create_task(self._receiver(self.channel)))
            self._ensure_tasks()
        sockets = self.sockets.setdefault(event_id, weakref.WeakSet())
        if not sockets:
            await self.layer.group_add(group_name(event_id), self.channel)
        sockets.add(socket)

    async def unsubscribe(self, event_id: int, socket) -> None:
        sockets = self.sockets.get(event_id)
        if sockets is None:
            return
        sockets.discard(socket)
        if not sockets:
            del self.sockets[event_id]
            self.delivered.pop(event_id, None)
            try:
                await self.layer.group_discard(group_name(event_id), self.channel)
            except Exception:
                logger.warning("Could not leave the group of event %s", event_id, exc_info=True)

    async def _receiver(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Channel layer receive failed; retrying", exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            await self.deliver(message)

    async def deliver(self, message: dict) -> None:
        """Write one message to every local socket of its event, serialised once per role."""
        event_id = message["event"]
        last = self.delivered.get(event_id)
        if last is None or message["version"] > last["version"]:
            self.delivered[event_id] = message
        for socket in list(self.sockets.get(event_id, ())):
            await socket.push(message)

    async def snapshot(self, event_id: int) -> dict:
        """The current snapshot message of the event, built once per state for all sockets."""
        lock = self.snapshot_locks.setdefault(event_id, asyncio.Lock())
        async with lock:
            last = self.delivered.get(event_id)
            if last is None or last["kind"] != STATE:
                last = await sync_to_async(build_message, thread_sensitive=False)(event_id, STATE)
                if last is None:
                    raise LookupError(event_id)
                previous = self.delivered.get(event_id)
                if previous is None or last["version"] > previous["version"]:
                    self.delivered[event_id] = last
            return last

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_SECONDS)
            for event_id in list(self.sockets):
                try:
                    current = await sync_to_async(fingerprint_now, thread_sensitive=False)(event_id)
                except Exception:
                    logger.warning("Watchdog could not read event %s", event_id, exc_info=True)
                    continue
                last = self.delivered.get(event_id)
                changed = current is not None and (last is None or last["fingerprint"] != current)
                if changed and event_id not in self.dirty:
                    # Deliver locally, not through the layer: the layer may be what is down.
                    message = await sync_to_async(build_message, thread_sensitive=False)(event_id, STATE)
                    if message is not None:
                        await self.deliver(message)


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub_for_running_loop() -> Hub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        for stale in [lp for lp in _hubs if lp.is_closed()]:
            del _hubs[stale]
        hub = _hubs[loop] = Hub(loop)
    return hub


def bind_to_running_loop() -> None:
    """Called by the ASGI entry point: changes in this process are broadcast from this loop."""
    hub_for_running_loop()


def _mark(event_id: int, kind: int, me_stale: bool = False) -> None:
    for loop, hub in list(_hubs.items()):
        if loop.is_closed():
            continue
        try:
            loop.call_soon_threadsafe(hub.mark, event_id, kind, me_stale)
        except RuntimeError:  # the loop closed between the check and the call
            continue


def tally_changed(event_id: int) -> None:
    """Counts or participation changed (a vote, a join): coalesced into a `tally`."""
    _mark(event_id, TALLY)


def participation_changed(event_id: int) -> None:
    _mark(event_id, TALLY)


def state_changed(event_id: int, *, me_stale: bool = False) -> None:
    """Anything else changed (proposal, phase, schedule): a new `snapshot` for everyone.

    me_stale: the change moved some attendees' dots (refund, merge), so each attendee's
    socket adds a fresh `me`.
    """
    _mark(event_id, STATE, me_stale)


# --- building messages (sync, in a worker thread) -----------------------------------------------


def fingerprint_now(event_id: int) -> list | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT e.voting_open, e.voting_closes_at, e.accepting_proposals, e.results_revealed,
                   e.schedule_published, e.tally_visibility, e.name, e.moderation,
                   e.votes_per_attendee, e.max_dots_per_proposal,
                   (SELECT max(id) FROM voting_ledgerentry WHERE event_id = e.id),
                   (SELECT max(updated_at) FROM voting_proposal WHERE event_id = e.id),
                   (SELECT count(*) FROM voting_proposal WHERE event_id = e.id),
                   (SELECT count(*) FROM voting_attendee WHERE event_id = e.id AND token_hash <> ''),
                   (SELECT count(*) FROM voting_scheduledsession WHERE event_id = e.id)
            FROM voting_event e WHERE e.id = %s
            """,
            [event_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return [str(v) for v in row]


def build_message(event_id: int, kind: int, me_stale: bool = False) -> dict | None:
    """Version first, then the state: a higher version can never carry an older state."""
    from django.db import close_old_connections

    from . import services, snapshots
    from .models import Event

    close_old_connections()
    try:
        event = Event.objects.filter(pk=event_id).first()
        if event is None:
            return None
        if event.voting_open and event.voting_closes_at:
            event = services.close_voting_if_due(event)
        version = snapshots.next_version()
        fingerprint = fingerprint_now(event_id)
        if kind == STATE:
            messages = snapshots.build_snapshots(event, version)
        else:
            messages = snapshots.build_tally(event, version)
        public = json.dumps(messages[snapshots.PUBLIC], separators=(",", ":"))
        organizers = json.dumps(messages[snapshots.ORGANIZERS], separators=(",", ":"))
        return {
            "type": "unconf.broadcast",
            "event": event_id,
            "kind": kind,
            "version": version,
            "fingerprint": fingerprint,
            "me_stale": me_stale,
            "budget": event.votes_per_attendee,
            "public": public,
            "organizers": organizers,
        }
    finally:
        close_old_connections()
