"""The live feed of one event. Read-only: votes arrive over HTTP; state arrives from feed/hub.py."""

import asyncio
import json
import uuid
from importlib import import_module
from types import SimpleNamespace

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from voting.core.errors import NotJoined
from voting.core.workers import in_worker
from voting.day import services as day_services
from voting.events.identity import ATTENDEE_COOKIE, identify
from voting.events.models import Event
from voting.feed import hub, snapshots, wire

CLOSE_FORBIDDEN, CLOSE_UNKNOWN_EVENT, CLOSE_TOO_LARGE = 4403, 4404, 4009
# Newer snapshots arriving while one is prepared for a socket: try this often for the newest.
SNAPSHOT_ATTEMPTS = 5


@in_worker
def _identify(slug: str, scope) -> tuple[Event | None, object, bool]:
    """The event, the attendee (None: anonymous; False: a bad token) and whether they organize it."""
    from rest_framework.authtoken.models import Token

    event = Event.at(slug)
    if event is None:
        return None, None, False
    headers = {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}
    user = _session_user(scope)
    auth = headers.get("authorization", "")
    if auth.lower().startswith("token "):
        token = Token.objects.select_related("user").filter(key=auth[6:].strip()).first()
        user = token.user if token and token.user.is_active else None
        if user is None:
            return event, False, False
    cookie_token = scope.get("cookies", {}).get(ATTENDEE_COOKIE, "")
    try:  # no CSRF on a socket: its Origin is checked exactly (core/origins.py)
        caller = identify(event, user=user, authorization=auth, cookie_token=cookie_token)
    except NotJoined:
        return event, False, False  # a program's token that is wrong: refuse, don't downgrade
    return event, caller.attendee, caller.is_organizer


def _session_user(scope):
    """The signed-in user of the session cookie, read by Django's own auth (None: anonymous).

    Done here, in the worker that identifies the socket anyway, rather than by Channels'
    session and auth middleware, which take two more trips through one shared thread per
    connect and keep their wrappers alive for the socket's lifetime (join time and memory
    per socket, measured by scripts/bench).
    """
    key = scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    from django.contrib.auth import get_user

    user = get_user(SimpleNamespace(session=import_module(settings.SESSION_ENGINE).SessionStore(key)))
    return user if user.is_authenticated else None


@in_worker
def _me(attendee, budget: int) -> dict:
    return snapshots.me(attendee, budget)


class EventFeed(AsyncWebsocketConsumer):
    """Streams one event's state: snapshot on connect/resync, coalesced tallies, pong for ping.

    The hub (feed/hub.py) calls `push` for every message of the event; `version` is the
    highest this connection was sent, and nothing lower ever follows it. While a snapshot
    is being prepared (`ready` False) pushes are skipped and caught up right after it.
    """

    # Deliberately not a configured layer: sockets get no layer channel of their own; the
    # per-process hub in feed/hub.py is subscribed once and writes to them directly.
    channel_layer_alias = "unconf-no-per-socket-channel"

    async def dispatch(self, message):
        # Channels' dispatch first closes stale database connections, by a hop to its single
        # shared thread, before every handler: all 5,000 connects of a join storm queued
        # behind that one thread (measured by scripts/bench). No handler here touches the
        # database on that thread; the feed's own threads look after their connections.
        if self.protocol is not None and message["type"] == "websocket.receive":
            wire.pace_input(self.protocol)
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    protocol = None  # Daphne's protocol of this socket, once connected (voting/feed/wire.py)
    frames_to = None  # the same, while the fast path ws_frames is on

    async def connect(self):
        self.screen_key = None
        self.version = 0
        self.kind = 0  # of the last message sent at self.version (hub.position)
        self.ready = False
        self.hub = None
        self.attendee = None
        self.resync: asyncio.Task | None = None  # the one snapshot `resync` requests are merged into
        self.snapshot_at = -1e9
        self.protocol = wire.protocol_of(self.scope)  # None: not under Daphne, no fast path
        # Where prepared frames go (voting/feed/wire.py); None: Channels' send, one event per message.
        self.frames_to = self.protocol if wire.frames_on() else None
        if self.protocol is not None:
            wire.spread_keepalive(self.protocol)
        event, attendee, is_organizer = await _identify(self.scope["url_route"]["kwargs"]["slug"], self.scope)
        # Accept first: a close code (4404, 4403) can only be sent on an open websocket.
        await self.accept()
        if event is None:
            await self.close(code=CLOSE_UNKNOWN_EVENT)
            return
        if attendee is False:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.event_id = event.pk
        # `?view=public` or `?view=stage`: what the hall may see, even in an organizer's browser;
        # a stage is also counted among the event's connected screens (organizers see it).
        query = self.scope.get("query_string", b"").split(b"&")
        self.screen_key = uuid.uuid4().hex if b"view=stage" in query else None
        public_view = self.screen_key is not None or b"view=public" in query
        self.attendee = None if public_view else attendee
        self.role = snapshots.ORGANIZERS if is_organizer and not public_view else snapshots.PUBLIC
        self.hub = hub.hub_for_running_loop()
        await self.hub.subscribe(self.event_id, self)
        try:
            if self.screen_key is not None:
                await in_worker(day_services.screen_connected)(event_id=self.event_id, key=self.screen_key)
            await self.send_snapshot()
        except Exception:  # the database is away: the client reconnects with backoff
            await self.disconnect(None)
            raise

    async def disconnect(self, code):
        if self.resync is not None:
            self.resync.cancel()
        if self.hub is not None:
            await self.hub.unsubscribe(self.event_id, self)
            self.hub = None
            if self.screen_key is not None:
                await in_worker(day_services.screen_disconnected)(event_id=self.event_id, key=self.screen_key)

    async def receive(self, text_data=None, bytes_data=None):
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > settings.UNCONF_WS_MAX_MESSAGE_BYTES:
            await self.close(code=CLOSE_TOO_LARGE)
            return
        if self.hub is None:
            return
        try:
            message = json.loads(text_data) if text_data is not None else None
        except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested too deep
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
            if self.screen_key is not None:  # the stage is still there
                await in_worker(day_services.screen_seen)(key=self.screen_key)
        elif kind == "resync":
            self.request_snapshot()
        elif not isinstance(message, dict):
            await self.send_json({"type": "error", "code": "malformed"})
        else:
            await self.send_json({"type": "error", "code": "unknown_type"})

    def request_snapshot(self) -> None:
        """`resync`: a snapshot, at most one per UNCONF_WS_RESYNC_SECONDS; requests that come
        meanwhile are merged into the one already due, so a flood of them costs nothing."""
        if self.resync is not None and not self.resync.done():
            return
        wait = self.snapshot_at + settings.UNCONF_WS_RESYNC_SECONDS - asyncio.get_running_loop().time()
        self.resync = asyncio.create_task(self._resync_after(max(0.0, wait)))

    async def _resync_after(self, wait: float) -> None:
        if wait:
            await asyncio.sleep(wait)
        if self.hub is not None:
            await self.send_snapshot()

    async def send_json(self, content: dict) -> None:
        content = {**content, "version": self.version, "server_time": timezone.now().isoformat()}
        await self._write(json.dumps(content))

    async def send_snapshot(self) -> None:
        """The newest snapshot (with `me`), then whatever newer arrived while it was prepared."""
        self.snapshot_at = asyncio.get_running_loop().time()
        self.ready = False
        try:
            message = await self.hub.snapshot(self.event_id)
            if message is None:  # the event was deleted
                await self.close(code=CLOSE_UNKNOWN_EVENT)
                return
            for _ in range(SNAPSHOT_ATTEMPTS):
                me = await _me(self.attendee, message["budget"]) if self.attendee is not None else None
                newest = self.hub.snapshots.get(self.event_id, message)
                if newest["version"] <= message["version"]:
                    break
                message = newest  # a newer snapshot was fanned out meanwhile; its `me` may differ
            await self._send(message, me, same_version_ok=True)
        finally:
            self.ready = True
        latest = self.hub.delivered.get(self.event_id)
        if latest is not None and hub.position(latest) > self.position:
            wants_me = latest["kind"] == hub.STATE and latest["me_stale"] and self.attendee is not None
            await self.push(latest, await _me(self.attendee, latest["budget"]) if wants_me else None)

    @property
    def position(self) -> tuple[int, int]:
        return self.version, self.kind

    async def push(self, message: dict, me: dict | None) -> None:
        """Called by the hub for every message of this event; drops anything not newer."""
        if self.ready:
            await self._send(message, me)

    def push_frame(self, message: dict, frames: wire.Frames) -> bool:
        """The hub's fast path for a message without `me`: write the frame built once for
        every socket. False: this socket cannot (not under Daphne, or the fast path is off);
        use `push` instead."""
        if self.frames_to is None:
            return False
        if self.ready and hub.position(message) > self.position:
            self.version, self.kind = hub.position(message)
            wire.write(self.frames_to, frames.for_role(self.role))
        return True

    async def _send(self, message: dict, me: dict | None, *, same_version_ok: bool = False) -> None:
        at = hub.position(message)
        if at < self.position or (at == self.position and not same_version_ok):
            return
        text = message[self.role]
        if me is not None:
            # The shared part is serialised once; only `me` is added per attendee.
            text = f'{text[:-1]},"me":{json.dumps(me, separators=(",", ":"))}}}'
        self.version, self.kind = at
        self.ready = True
        await self._write(text)

    async def _write(self, text: str) -> None:
        if self.frames_to is not None:  # under Daphne: straight to the socket (voting/feed/wire.py)
            wire.write(self.frames_to, wire.frame(text))
        else:
            await self.send(text_data=text)
