"""The live feed of one event. Read-only: votes arrive over HTTP; state arrives from broadcast.py."""

import json

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from . import broadcast, snapshots
from .identity import ATTENDEE_COOKIE, attendee_from_token, attendee_token_from_header
from .models import Event

CLOSE_FORBIDDEN, CLOSE_UNKNOWN_EVENT, CLOSE_TOO_LARGE = 4403, 4404, 4009


@sync_to_async
def _identify(slug: str, scope) -> tuple[Event | None, object, bool]:
    """The event, the attendee (or None) and whether the caller organizes it."""
    from rest_framework.authtoken.models import Token

    event = Event.objects.filter(slug=slug).first()
    if event is None:
        return None, None, False
    headers = {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}
    user = scope.get("user")
    auth = headers.get("authorization", "")
    if auth.lower().startswith("token "):
        token = Token.objects.select_related("user").filter(key=auth[6:].strip()).first()
        user = token.user if token else None
        if user is None:
            return event, False, False
    is_organizer = bool(user and event.is_organizer(user))
    attendee_token = attendee_token_from_header(auth) or scope.get("cookies", {}).get(ATTENDEE_COOKIE, "")
    attendee = attendee_from_token(event, attendee_token)
    if attendee is None and attendee_token_from_header(auth):
        return event, False, is_organizer  # a program's token that is wrong: refuse, don't downgrade
    return event, attendee, is_organizer


class EventFeed(AsyncWebsocketConsumer):
    """Streams one event's state: snapshot on connect/resync, coalesced tallies, pong for ping."""

    # Deliberately not a configured layer: sockets get no layer channel of their own; the
    # per-process hub in broadcast.py is subscribed once and writes to them directly.
    channel_layer_alias = "unconf-no-per-socket-channel"

    async def connect(self):
        self.version = 0
        self.hub = None
        event, attendee, is_organizer = await _identify(self.scope["url_route"]["kwargs"]["slug"], self.scope)
        await self.accept()
        if event is None:
            await self.close(code=CLOSE_UNKNOWN_EVENT)
            return
        if attendee is False:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.event_id = event.pk
        self.attendee = attendee
        self.role = snapshots.ORGANIZERS if is_organizer else snapshots.PUBLIC
        self.hub = broadcast.hub_for_running_loop()
        await self.hub.subscribe(self.event_id, self)
        await self.send_snapshot()

    async def disconnect(self, code):
        if self.hub is not None:
            await self.hub.unsubscribe(self.event_id, self)

    async def receive(self, text_data=None, bytes_data=None):
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > settings.UNCONF_WS_MAX_MESSAGE_BYTES:
            await self.close(code=CLOSE_TOO_LARGE)
            return
        if self.hub is None:
            return
        try:
            message = json.loads(text_data) if text_data is not None else None
        except ValueError:
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong", "version": self.version})
        elif kind == "resync":
            self.version = 0
            await self.send_snapshot()
        elif message is None:
            await self.send_json({"type": "error", "code": "malformed", "version": self.version})
        else:
            await self.send_json({"type": "error", "code": "unknown_type", "version": self.version})

    async def send_json(self, content: dict) -> None:
        content.setdefault("server_time", timezone.now().isoformat())
        await self.send(text_data=json.dumps(content))

    async def send_snapshot(self) -> None:
        message = await self.hub.snapshot(self.event_id)
        await self._send_state(message, with_me=True)

    async def push(self, message: dict) -> None:
        """Called by the hub for every broadcast of this event; drops anything older."""
        if message["version"] <= self.version:
            return
        with_me = message["me_stale"] and message["kind"] == broadcast.STATE
        await self._send_state(message, with_me=with_me)

    async def _send_state(self, message: dict, *, with_me: bool) -> None:
        text = message[self.role]
        if with_me and self.attendee is not None:
            me = await sync_to_async(snapshots.me, thread_sensitive=False)(self.attendee, message["budget"])
            # The shared part is serialised once; only `me` is added per attendee.
            text = f'{text[:-1]},"me":{json.dumps(me, separators=(",", ":"))}}}'
        if message["version"] <= self.version:
            return  # a newer one went out while `me` was read
        self.version = message["version"]
        await self.base_send({"type": "websocket.send", "text": text})
