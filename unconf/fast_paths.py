"""Every fast path that reaches into a library's internals, in one place, each guarded.

A fast path is code that does what Django, Channels, Daphne, autobahn or Twisted would do,
faster, by using members they do not promise to keep (README, "Fast paths"). Each one here
names the library versions it was built and tested against and a check of the private members
it uses. Once per process (`check_all`, from unconf/asgi.py) every path is checked; one that
fails is turned off with one WARNING line on the `unconf.fast_paths` logger, and the stock
code serves instead. `UNCONF_FAST_PATHS=0` turns all of them off; `UNCONF_FAST_PATHS_OFF`
lists single ones to turn off (comparisons, debugging).

The code of each path asks `on(NAME)` where it branches off the stock path.
"""

import importlib.metadata
import inspect
import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("unconf.fast_paths")

WORKER_THREADS = "worker_threads"
POOLED_HANDLER = "pooled_handler"
VOTE_ON_LOOP = "vote_on_loop"
EARLY_413 = "early_413"
WS_FRAMES = "ws_frames"
WS_DIRECT_SEND = "ws_direct_send"
WS_BACKLOG_CLOSE = "ws_backlog_close"
WS_INPUT_PACING = "ws_input_pacing"
WS_SPREAD_KEEPALIVE = "ws_spread_keepalive"
AUTOBAHN_QUIET_CONNECT = "autobahn_quiet_connect"

# How a fast path that stands in for Django's middleware chain treats each middleware. A
# middleware added to settings.MIDDLEWARE later is in neither table: the path turns itself off
# until someone decides what it means for it.
REPLAYED = "replayed"  # run by the fast path on its answer, in settings order
NOT_NEEDED = "not needed"  # does nothing for a request this path takes (why: next to it)
RUN_AS_IS = "run as is"  # part of the chain the path runs whole, synchronously

VOTE_PATH_MIDDLEWARE = {
    "voting.core.middleware.HealthCheckMiddleware": (NOT_NEEDED, "answers /healthz only"),
    "django.middleware.security.SecurityMiddleware": (REPLAYED, "headers; an SSL redirect is Django's"),
    "whitenoise.middleware.WhiteNoiseMiddleware": (NOT_NEEDED, "serves /static/ only"),
    "voting.core.middleware.ApiBodyLimitMiddleware": (NOT_NEEDED, "a body past 256 bytes goes to Django"),
    "voting.core.middleware.ContentSecurityPolicyMiddleware": (REPLAYED, "the CSP header"),
    "django.contrib.sessions.middleware.SessionMiddleware": (
        NOT_NEEDED,
        "a request with a session cookie goes to Django; its Vary: Cookie is added by hand",
    ),
    "django.middleware.locale.LocaleMiddleware": (REPLAYED, "Content-Language and Vary"),
    "django.middleware.common.CommonMiddleware": (
        NOT_NEEDED,
        "no slash or www redirect for a matched vote URL; the host is checked by the path",
    ),
    "django.middleware.csrf.CsrfViewMiddleware": (
        NOT_NEEDED,
        "DRF views are exempt; a cookie vote gets DRF's own CSRF check (identity.csrf_failure_reason)",
    ),
    "django.contrib.auth.middleware.AuthenticationMiddleware": (NOT_NEEDED, "organizers go to Django"),
    "django.contrib.messages.middleware.MessageMiddleware": (NOT_NEEDED, "the API sends no messages"),
    "django.middleware.clickjacking.XFrameOptionsMiddleware": (REPLAYED, "X-Frame-Options"),
    "axes.middleware.AxesMiddleware": (NOT_NEEDED, "acts on login lockouts only"),
}

# The pooled handler runs the whole chain, but synchronously on a request thread, and does
# not cancel a request whose client left: fine for these, which are sync (the stock handler
# runs them on a thread as well) and keep no per-request async state. Listed on their own,
# not taken from the table above: classifying one for the vote path says nothing about this.
POOLED_HANDLER_MIDDLEWARE = dict.fromkeys(
    (
        "voting.core.middleware.HealthCheckMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "voting.core.middleware.ApiBodyLimitMiddleware",
        "voting.core.middleware.ContentSecurityPolicyMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "axes.middleware.AxesMiddleware",
    ),
    (RUN_AS_IS, "sync; the stock handler runs it on a thread too"),
)


@dataclass(frozen=True)
class FastPath:
    name: str
    speeds_up: str
    built_for: dict[str, tuple[str, ...]]  # distribution -> version prefixes it was tested on
    check: Callable[[], str | None]  # what no longer holds, or None
    instead: str  # what serves while it is off
    needs: tuple[str, ...] = ()  # fast paths it runs inside


# --- checks: each returns None, or a short reason ---------------------------------------------


@cache
def _module_source(name: str) -> str:
    return inspect.getsource(sys.modules[name])


def assigns(owner: type, attribute: str) -> bool:
    """Whether the modules of `owner` and its bases set `self.<attribute>`: attributes made per
    instance, which hasattr on the class cannot see. (A module's text, not the class's own: the
    class's source costs an AST walk of the module, 0.1 s for Twisted's.)"""
    pattern = re.compile(rf"\bself\.{re.escape(attribute)}\s*(:[^=\n]+)?=[^=]")
    modules = {cls.__module__ for cls in owner.__mro__ if cls.__module__ != "builtins"}
    return any(pattern.search(_module_source(module)) for module in modules)


def missing(owner, *names: str) -> str | None:
    absent = [name for name in names if not hasattr(owner, name)]
    return f"{owner.__qualname__} has no {', '.join(absent)}" if absent else None


def parameters(func) -> list[str]:
    return list(inspect.signature(func).parameters)


def unclassified(table: dict) -> str | None:
    new = [path for path in settings.MIDDLEWARE if path not in table]
    return f"middleware not classified for it: {', '.join(new)}" if new else None


def _check_worker_threads() -> str | None:
    from asgiref.sync import SyncToAsync

    if parameters(SyncToAsync.thread_handler)[:2] != ["self", "loop"]:
        return "SyncToAsync.thread_handler no longer takes (loop, ...)"
    if "executor" not in parameters(SyncToAsync.__init__):
        return "SyncToAsync takes no executor"
    return None


def _check_pooled_handler() -> str | None:
    from django.core.handlers import asgi

    if not hasattr(asgi, "get_script_prefix"):
        return "django.core.handlers.asgi has no get_script_prefix"
    handler = asgi.ASGIHandler
    expected = {
        "read_body": ["self", "receive"],
        "create_request": ["self", "scope", "body_file"],
        "send_response": ["self", "response", "send"],
        "get_response": ["self", "request"],
    }
    for name, params in expected.items():
        if not hasattr(handler, name) or parameters(getattr(handler, name)) != params:
            return f"ASGIHandler.{name}{tuple(params[1:])} is gone or changed"
    absent = missing(handler, "chunk_size", "load_middleware")
    if absent:
        return absent
    not_sync = [p for p in settings.MIDDLEWARE if not getattr(import_string(p), "sync_capable", True)]
    if not_sync:
        return f"async-only middleware: {', '.join(not_sync)}"
    return unclassified(POOLED_HANDLER_MIDDLEWARE)


def _check_vote_on_loop() -> str | None:
    from django.core.handlers.asgi import ASGIRequest

    if parameters(ASGIRequest.__init__) != ["self", "scope", "body_file"]:
        return "ASGIRequest(scope, body_file) changed"
    return unclassified(VOTE_PATH_MIDDLEWARE)


def _check_early_413() -> str | None:
    from daphne.http_protocol import WebRequest
    from twisted.web.http import HTTPChannel

    absent = missing(WebRequest, "gotLength", "handleContentChunk", "process")
    if absent:
        return absent
    if not assigns(HTTPChannel, "_path"):
        return "Twisted's HTTPChannel no longer keeps the request path in _path"
    return None


def _check_ws_frames() -> str | None:
    from autobahn.websocket.protocol import PreparedMessage
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol

    if "partial(self.handle_reply, protocol)" not in inspect.getsource(Server.create_application):
        return "Daphne's `send` is no longer partial(handle_reply, protocol)"
    if parameters(PreparedMessage.__init__) != ["self", "payload", "isBinary", "applyMask", "doNotCompress"]:
        return "autobahn's PreparedMessage(payload, isBinary, applyMask, doNotCompress) changed"
    return missing(WebSocketProtocol, "sendPreparedMessage", "sendClose", "STATE_OPEN")


def _check_twisted_buffer() -> str | None:
    from autobahn.websocket.protocol import WebSocketProtocol
    from twisted.internet.abstract import FileDescriptor
    from twisted.internet.tcp import Connection

    absent = missing(FileDescriptor, "dataBuffer", "offset") or missing(Connection, "TLS")
    if absent:
        return absent
    for owner, name in (
        (FileDescriptor, "_tempDataLen"),
        (Connection, "socket"),
        (WebSocketProtocol, "send_queue"),
    ):
        if not assigns(owner, name):
            return f"{owner.__qualname__} no longer sets {name}"
    return None


def _check_ws_direct_send() -> str | None:
    from autobahn.websocket.protocol import PreparedMessage

    if not assigns(PreparedMessage, "payloadHybi"):
        return "PreparedMessage has no payloadHybi"
    return _check_twisted_buffer()


def _check_ws_input_pacing() -> str | None:
    from daphne.ws_protocol import WebSocketProtocol

    if not assigns(WebSocketProtocol, "application_queue"):
        return "Daphne's protocol has no application_queue"
    return None


def _check_ws_spread_keepalive() -> str | None:
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol

    if not (assigns(WebSocketProtocol, "last_ping") and assigns(Server, "ping_interval")):
        return "Daphne's keepalive is no longer last_ping + server.ping_interval"
    return None


def _check_autobahn_quiet_connect() -> str | None:
    from autobahn.websocket import protocol

    if not callable(getattr(protocol, "pformat", None)):
        return "autobahn.websocket.protocol has no pformat"
    if "pformat(configAttrLog)" not in inspect.getsource(protocol.WebSocketProtocol._connectionMade):
        return "autobahn no longer formats its settings on connect"
    return None


DJANGO = {"Django": ("5.2.",)}
DAPHNE = {"daphne": ("4.2.",)}
TWISTED = {"Twisted": ("25.", "26.")}
AUTOBAHN = {"autobahn": ("26.",)}

FAST_PATHS = (
    FastPath(
        WORKER_THREADS,
        "sync work on a few long-lived threads that keep their database connection (voting/core/workers.py)",
        {"asgiref": ("3.13.",)},
        _check_worker_threads,
        "Channels' database_sync_to_async on asgiref's shared thread",
    ),
    FastPath(
        POOLED_HANDLER,
        "one thread hop per request for the whole middleware chain and view (unconf/handler.py)",
        DJANGO,
        _check_pooled_handler,
        "Django's stock ASGIHandler",
        needs=(WORKER_THREADS,),
    ),
    FastPath(
        VOTE_ON_LOOP,
        "an attendee's vote answered on the event loop, no Django or DRF (voting/votes/fast_path.py)",
        {**DJANGO, "djangorestframework": ("3.16.",)},
        _check_vote_on_loop,
        "DRF's VoteView",
        needs=(POOLED_HANDLER,),
    ),
    FastPath(
        EARLY_413,
        "413 from Content-Length before Daphne reads the body (unconf/body_limit.py)",
        {**DAPHNE, **TWISTED},
        _check_early_413,
        "Django's 413, after Daphne has read the body",
    ),
    FastPath(
        WS_FRAMES,
        "fan-out: one prepared websocket frame per message, for every socket (voting/feed/wire.py)",
        {**DAPHNE, **AUTOBAHN},
        _check_ws_frames,
        "Channels' send, one websocket.send per socket",
    ),
    FastPath(
        WS_DIRECT_SEND,
        "a frame straight to the kernel when Twisted's buffer is empty (wire.write)",
        {**AUTOBAHN, **TWISTED},
        _check_ws_direct_send,
        "autobahn's sendPreparedMessage",
        needs=(WS_FRAMES,),
    ),
    FastPath(
        WS_BACKLOG_CLOSE,
        "close 4008 for a socket past UNCONF_WS_MAX_UNSENT_BYTES unread (wire.close_if_backlogged)",
        {**AUTOBAHN, **TWISTED},
        _check_twisted_buffer,
        "no cap: Daphne buffers what a client does not read",
        needs=(WS_FRAMES,),
    ),
    FastPath(
        WS_INPUT_PACING,
        "a flooding client's socket is not read for a while (wire.pace_input)",
        DAPHNE,
        _check_ws_input_pacing,
        "Daphne reads and queues every message",
    ),
    FastPath(
        WS_SPREAD_KEEPALIVE,
        "keepalive pings spread over the interval (wire.spread_keepalive)",
        DAPHNE,
        _check_ws_spread_keepalive,
        "Daphne's own ping times",
    ),
    FastPath(
        AUTOBAHN_QUIET_CONNECT,
        "no pretty-printed settings dump per new websocket (wire.skip_autobahn_config_dump)",
        AUTOBAHN,
        _check_autobahn_quiet_connect,
        "autobahn's dump on every connect",
    ),
)
BY_NAME = {path.name: path for path in FAST_PATHS}


# --- the state of this process -----------------------------------------------------------------


def installed(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def version_mismatch(path: FastPath) -> str | None:
    for distribution, prefixes in path.built_for.items():
        found = installed(distribution)
        if found is None or not found.startswith(prefixes):
            return f"built for {distribution} {'/'.join(p + '*' for p in prefixes)}, found {found}"
    return None


def why_off(path: FastPath, off: dict[str, str]) -> str | None:
    """Why this path cannot run here, or None. `off`: the paths found off so far."""
    if path.name in settings.UNCONF_FAST_PATHS_OFF:
        return "listed in UNCONF_FAST_PATHS_OFF"
    reason = version_mismatch(path)
    if reason is None:
        reason = next((f"runs inside {need}, which is off" for need in path.needs if need in off), None)
    if reason is None:
        try:
            reason = path.check()
        except Exception as error:  # a check that cannot even look is a failed check
            reason = f"its check failed: {error!r}"
    return reason


_on: dict[str, bool] | None = None


def check_all(*, force: bool = False) -> dict[str, bool]:
    """Check every fast path once per process (force: again); one log line per path off."""
    global _on
    if _on is not None and not force:
        return _on
    if not settings.UNCONF_FAST_PATHS:
        logger.warning(
            "All fast paths off (UNCONF_FAST_PATHS=0): the stock Django, Channels and Daphne paths serve"
        )
        _on = dict.fromkeys(BY_NAME, False)
        return _on
    off: dict[str, str] = {}
    for path in FAST_PATHS:  # in order: a path is checked after those it runs inside
        reason = why_off(path, off)
        if reason is not None:
            off[path.name] = reason
            logger.warning("Fast path %s off: %s. Instead: %s.", path.name, reason, path.instead)
    _on = {name: name not in off for name in BY_NAME}
    return _on


def on(name: str) -> bool:
    return check_all()[name]
