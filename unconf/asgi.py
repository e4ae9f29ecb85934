"""ASGI entry point: HTTP through Django, websockets through Channels behind origin checks."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unconf.settings")
django.setup(set_prefix=False)  # before the consumers import models

from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.db import connections  # noqa: E402

from unconf import body_limit, fast_paths  # noqa: E402
from unconf.handler import PooledASGIHandler  # noqa: E402

fast_paths.check_all()  # once per process: a path that fails its check is off, logged once
if fast_paths.on(fast_paths.POOLED_HANDLER):
    django_http = PooledASGIHandler()
else:
    django_http = ASGIHandler()
    # Stock Django runs each request on a thread of its own: a persistent connection would be
    # left open per request (PostgreSQL ran out of connections within 100 requests, measured).
    # Django's advice under ASGI: no persistent connections.
    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = 0

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402

from voting.core.origins import ExactOriginValidator  # noqa: E402
from voting.feed import hub, wire  # noqa: E402
from voting.feed.routing import websocket_urlpatterns  # noqa: E402

wire.skip_autobahn_config_dump()
body_limit.install()  # 413 from Content-Length, before Daphne reads the body

# Python's full garbage collection walks every object of every open socket: with 2,500 sockets
# per process it paused the event loop for 0.4-0.7 s every ~10 s of a vote storm (measured with
# gc.callbacks under scripts/bench), which was the p99 of both vote acks and vote-to-screen.
# Startup objects (Django, DRF, autobahn...) live forever: freeze them out of every
# collection. Request garbage dies young, so collect the young generations less often and
# the old one rarely.
gc.freeze()
gc.set_threshold(50_000, 20, 100)

router = ProtocolTypeRouter(
    {
        "http": django_http,
        # The Origin must be one of the site's own, exactly (scheme, host, port): no other page
        # can open the feed. Cookies only: the feed reads the session's user itself (feed/consumers.py).
        "websocket": ExactOriginValidator(CookieMiddleware(URLRouter(websocket_urlpatterns))),
    }
)


async def application(scope, receive, send):
    # Changes committed by this process's requests are broadcast from its event loop.
    hub.bind_to_running_loop()
    await router(wire.remember_server_send(scope, send), receive, send)
