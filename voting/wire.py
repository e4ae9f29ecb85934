"""The fan-out fast path: one websocket frame built per message, written to every socket.

Through Channels, every delivery is a `websocket.send` event that passes the consumer, the
session middleware and Daphne's reply handler, and is then encoded and framed by autobahn,
once per socket (~80 µs each, measured; see shared/PERFORMANCE.md). Under Daphne the socket
behind a consumer is an autobahn protocol, and autobahn has an API built for broadcast:
`PreparedMessage` holds the finished frame, `sendPreparedMessage` writes it. The hub builds
each message's frame once per audience and hands it to every local socket.

Any other ASGI server (or the test communicator) has no such protocol behind `send`: those
sockets simply take the regular `websocket.send` path.
"""

import random
import time
from functools import cache, partial

SERVER_SEND = "unconf.server_send"  # scope key: the `send` the ASGI server handed to the app


def skip_autobahn_config_dump() -> None:
    """autobahn pretty-prints ~30 settings for a debug log line on every new connection, even
    with debug logging off: 14% of the event loop during a join storm (py-spy, scripts/bench).
    The line still appears when debug logging is on, unformatted."""
    from autobahn.websocket import protocol

    if getattr(protocol, "pformat", None) is not None:
        protocol.pformat = repr


def spread_keepalive(protocol) -> None:
    """Daphne pings a socket `ping_interval` (20 s) after its last ping, checking every 2 s:
    sockets that connected together (a hall opening the page after the keynote) were pinged
    together, 1,250 per process in one pass every 20 s, and their pongs came back together,
    holding every vote up for ~100 ms (the periodic spikes of ack latency under scripts/bench).
    A random phase per socket spreads them over the interval."""
    interval = getattr(getattr(protocol, "server", None), "ping_interval", None)
    if interval:
        protocol.last_ping = time.time() - random.uniform(0, interval)


def remember_server_send(scope: dict, send) -> dict:
    """Called by the ASGI entry point, before any middleware wraps `send`."""
    return {**scope, SERVER_SEND: send} if scope["type"] == "websocket" else scope


def protocol_of(scope: dict):
    """The Daphne/autobahn protocol of this websocket, or None when not served by Daphne."""
    send = scope.get(SERVER_SEND)
    if not isinstance(send, partial) or not send.args:
        return None
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return None
    protocol = send.args[0]
    return protocol if isinstance(protocol, WebSocketProtocol) else None


@cache
def _tcp_connection():
    from twisted.internet.tcp import Connection  # only ever called under Daphne, i.e. Twisted

    return Connection


def frame(text: str):
    """One socket's own message (a snapshot with its `me`, a pong) as a prepared frame."""
    from autobahn.websocket.protocol import PreparedMessage

    return PreparedMessage(text.encode(), False, applyMask=False, doNotCompress=True)


class Frames:
    """One message's frames, built on first use per audience (public / organizers)."""

    def __init__(self, message: dict):
        self.message = message
        self.built: dict[str, object] = {}

    def for_role(self, role: str):
        built = self.built.get(role)
        if built is None:
            built = self.built[role] = frame(self.message[role])
        return built


def write(protocol, frame) -> None:
    """Write a prepared frame; a socket that is closing or closed is skipped, as Daphne would.

    When nothing is waiting in Twisted's buffer for this socket, the frame goes straight to
    the kernel with one send(), as asyncio's own transports do. Twisted's write() would
    instead buffer it, register the socket for writability (an epoll_ctl), send on the next
    loop turn and unregister it (another epoll_ctl): per socket and tally, that was the
    largest cost of the fan-out in the profile. Whatever the kernel does not take, and
    anything when data is already queued (to keep the order), goes through Twisted.
    """
    if protocol.state != protocol.STATE_OPEN:
        return
    transport = protocol.transport
    if protocol.send_queue or not _plain_and_idle(transport):
        protocol.sendPreparedMessage(frame)
        return
    data = frame.payloadHybi
    try:
        sent = transport.socket.send(data)
    except BlockingIOError:
        sent = 0
    except OSError:
        return  # the connection is going away; Twisted notices on its next read
    if sent < len(data):
        transport.write(data[sent:])


def _plain_and_idle(transport) -> bool:
    """A plain TCP connection (not TLS) with nothing in Twisted's write buffer."""
    return (
        isinstance(transport, _tcp_connection())
        and not transport.TLS
        and transport.connected
        and not transport.disconnecting
        and transport._tempDataLen == 0
        and len(transport.dataBuffer) == transport.offset
    )
