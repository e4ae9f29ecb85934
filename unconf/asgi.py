"""ASGI entry point: HTTP through Django, websockets through Channels behind origin checks."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unconf.settings")
django.setup(set_prefix=False)  # before the consumers import models

from unconf.handler import PooledASGIHandler  # noqa: E402

django_http = PooledASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402

from voting import broadcast, wire  # noqa: E402
from voting.routing import websocket_urlpatterns  # noqa: E402

wire.skip_autobahn_config_dump()

router = ProtocolTypeRouter(
    {
        "http": django_http,
        # The Origin header must name an allowed host: no other site can open the feed.
        # Cookies only: the feed reads the session's user itself (voting/consumers.py).
        "websocket": AllowedHostsOriginValidator(CookieMiddleware(URLRouter(websocket_urlpatterns))),
    }
)


async def application(scope, receive, send):
    # Changes committed by this process's requests are broadcast from its event loop.
    broadcast.bind_to_running_loop()
    await router(wire.remember_server_send(scope, send), receive, send)
