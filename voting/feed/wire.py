"""The fan-out fast path: one websocket frame built per message, written to every socket.

Through Channels, every delivery is a `websocket.send` event that passes the consumer, the
session middleware and Daphne's reply handler, and is then encoded and framed by autobahn,
once per socket (~80 µs each, measured; see shared/PERFORMANCE.md). Under Daphne the socket
behind a consumer is an autobahn protocol, and autobahn has an API built for broadcast:
`PreparedMessage` holds the finished frame, `sendPreparedMessage` writes it. The hub builds
each message's frame once per audience and hands it to every local socket.

Any other ASGI server (or the test communicator) has no such protocol behind `send`: those
sockets simply take the regular `websocket.send` path.

Being this close to the socket, it also bounds what one client can make the server hold: output
it does not read (`close_if_backlogged`: close 4008 past a cap) and input it sends faster than
it is handled (`pace_input`: the socket is not read for a while).

Each of these uses Daphne's, autobahn's or Twisted's internals, so each is a fast path of
unconf/fast_paths.py, checked at startup and skipped (the stock behaviour) when off.
"""

import logging
import random
import time
from functools import cache, partial

from django.conf import settings

from unconf import fast_paths

logger = logging.getLogger(__name__)

SERVER_SEND = "unconf.server_send"  # scope key: the `send` the ASGI server handed to the app
CLOSE_BACKLOG = 4008  # the client does not read what it is sent
# After close 4008, a client that does start reading gets this long to take what is queued and
# the close frame, before the connection is dropped; memory stays at the cap meanwhile.
BACKLOG_CLOSE_GRACE_SECONDS = 10
# Messages a client may send per second (and in one burst) before its socket is not read for a
# while: far above what the page sends (a ping every few seconds, a resync on reconnect).
INPUT_MESSAGES_PER_SECOND = 20
INPUT_BURST = 60
INPUT_BACKLOG_MESSAGES = 20


def skip_autobahn_config_dump() -> None:
    """autobahn pretty-prints ~30 settings for a debug log line on every new connection, even
    with debug logging off: 14% of the event loop during a join storm (py-spy, scripts/bench).
    The line still appears when debug logging is on, unformatted."""
    from autobahn.websocket import protocol

    if fast_paths.on(fast_paths.AUTOBAHN_QUIET_CONNECT):
        protocol.pformat = repr


def spread_keepalive(protocol) -> None:
    """Daphne pings a socket `ping_interval` (20 s) after its last ping, checking every 2 s:
    sockets that connected together (a hall opening the page after the keynote) were pinged
    together, 1,250 per process in one pass every 20 s, and their pongs came back together,
    holding every vote up for ~100 ms (the periodic spikes of ack latency under scripts/bench).
    A random phase per socket spreads them over the interval."""
    if not fast_paths.on(fast_paths.WS_SPREAD_KEEPALIVE):
        return
    interval = getattr(getattr(protocol, "server", None), "ping_interval", None)
    if interval:
        protocol.last_ping = time.time() - random.uniform(0, interval)


def remember_server_send(scope: dict, send) -> dict:
    """Called by the ASGI entry point, before any middleware wraps `send`."""
    return {**scope, SERVER_SEND: send} if scope["type"] == "websocket" else scope


def frames_on() -> bool:
    """Whether the hub and the consumers write prepared frames themselves (else Channels' send)."""
    return fast_paths.on(fast_paths.WS_FRAMES)


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
    anything when data is already queued (to keep the order), goes through Twisted. With
    that fast path off, every frame goes through autobahn's sendPreparedMessage.
    """
    if protocol.state != protocol.STATE_OPEN:
        return
    transport = protocol.transport
    if not fast_paths.on(fast_paths.WS_DIRECT_SEND) or protocol.send_queue or not _plain_and_idle(transport):
        protocol.sendPreparedMessage(frame)
        close_if_backlogged(protocol)
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
        close_if_backlogged(protocol)


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


def unsent_bytes(protocol) -> int | None:
    """What this socket was sent that its client has not taken yet: Twisted's write buffer and
    autobahn's queue (the kernel's buffer aside). None: not measurable (TLS, or the fast path
    ws_backlog_close is off: another Twisted or autobahn)."""
    transport = protocol.transport
    if not fast_paths.on(fast_paths.WS_BACKLOG_CLOSE):
        return None
    if transport is None or not isinstance(transport, _tcp_connection()):
        return None
    buffered = len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    return buffered + sum(len(data) for data, _sync in protocol.send_queue)


def close_if_backlogged(protocol) -> bool:
    """A client that does not read cannot make the server hold more than the cap for it: past
    UNCONF_WS_MAX_UNSENT_BYTES the socket is closed with 4008 (nothing more is queued after the
    close frame) and dropped if it has not finished closing BACKLOG_CLOSE_GRACE_SECONDS later."""
    unsent = unsent_bytes(protocol)
    if unsent is None or unsent <= settings.UNCONF_WS_MAX_UNSENT_BYTES:
        return False
    if protocol.state == protocol.STATE_OPEN:
        logger.info("Closing a websocket that does not read (%d bytes unsent) with %d", unsent, CLOSE_BACKLOG)
        protocol.closeHandshakeTimeout = BACKLOG_CLOSE_GRACE_SECONDS
        protocol.sendClose(code=CLOSE_BACKLOG)
    return True


def pace_input(protocol) -> None:
    """Called before each message from the client is handled. Daphne reads whatever a client
    sends and queues every message for its consumer, unbounded, and a flood of them starves
    the consumer itself (autobahn parses a whole read of frames per loop turn; the consumer
    handles one): a client sending `resync` as fast as it could grew the process by 150 MB
    in 8 s (measured). So a socket with more than INPUT_BACKLOG_MESSAGES waiting, or past
    INPUT_MESSAGES_PER_SECOND (bursts of INPUT_BURST), is not read again until its queue is
    handled and it is back within budget: the flood waits in the client's own buffers (TCP
    pushes back) and the other sockets keep the loop. A phone sends a ping every few seconds."""
    transport = protocol.transport
    if transport is None or not fast_paths.on(fast_paths.WS_INPUT_PACING):
        return
    now = time.monotonic()
    tokens = getattr(protocol, "unconf_input_tokens", INPUT_BURST)
    elapsed = now - getattr(protocol, "unconf_input_at", now)
    tokens = min(INPUT_BURST, tokens + elapsed * INPUT_MESSAGES_PER_SECOND) - 1
    protocol.unconf_input_tokens, protocol.unconf_input_at = tokens, now
    if getattr(protocol, "unconf_input_paused", False):
        return
    if tokens < 0 or _input_backlog(protocol) > INPUT_BACKLOG_MESSAGES:
        transport.pauseProducing()
        protocol.unconf_input_paused = True
        _resume_input_later(protocol)


def _input_backlog(protocol) -> int:
    queue = getattr(protocol, "application_queue", None)  # Daphne's queue for the consumer
    return queue.qsize() if queue is not None else 0


def _resume_input_later(protocol) -> None:
    from twisted.internet import reactor

    elapsed = time.monotonic() - protocol.unconf_input_at
    owed = -(protocol.unconf_input_tokens + elapsed * INPUT_MESSAGES_PER_SECOND)
    reactor.callLater(max(owed / INPUT_MESSAGES_PER_SECOND, 0.05), _resume_input, protocol)


def _resume_input(protocol) -> None:
    """Read again once the queue is handled and the budget is back (handling the queue used it)."""
    transport = protocol.transport
    if transport is None or not transport.connected or transport.disconnecting:
        return  # gone meanwhile: nothing to resume, nothing kept
    elapsed = time.monotonic() - protocol.unconf_input_at
    if _input_backlog(protocol) or protocol.unconf_input_tokens + elapsed * INPUT_MESSAGES_PER_SECOND < 0:
        _resume_input_later(protocol)
        return
    protocol.unconf_input_paused = False
    transport.resumeProducing()
