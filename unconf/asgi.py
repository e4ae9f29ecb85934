"""ASGI entry point: HTTP through Django, websockets through Channels behind origin checks."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unconf.settings")
django_http = get_asgi_application()  # sets Django up before the consumers import models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from voting import broadcast  # noqa: E402
from voting.routing import websocket_urlpatterns  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": django_http,
        # The Origin header must name an allowed host: no other site can open the feed.
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)


async def application(scope, receive, send):
    # Changes committed by this process's requests are broadcast from its event loop.
    broadcast.bind_to_running_loop()
    await router(scope, receive, send)
