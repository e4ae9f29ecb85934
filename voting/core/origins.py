"""The websocket origin check: the page that opens the feed must be one of the site's own origins.

Channels' `AllowedHostsOriginValidator` compares only the Origin's host name with
ALLOWED_HOSTS, so a page on another port or scheme of the same host (a second app, a dev
server) could open the organizer feed with the organizer's cookie. Here an origin passes
only if scheme, host and port all match the request's own origin (the scheme the client
used, as Django reads it behind a proxy, and the Host header, which must be an allowed host)
or one of DJANGO_CSRF_TRUSTED_ORIGINS. A handshake without Origin is refused as well.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize(origin: str) -> str | None:
    """scheme://host:port with the default port spelled out, or None if it is not an origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in DEFAULT_PORTS or not host or port is None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return None
    return f"{parts.scheme.lower()}://{host}:{port}"


def _scheme(scope, headers: dict[str, str]) -> str:
    """http or https, as Django's request.scheme reads it (SECURE_PROXY_SSL_HEADER behind a proxy)."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        value = headers.get(name.removeprefix("HTTP_").replace("_", "-").lower())
        if value is not None:
            return "https" if value.split(",")[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


def own_origin(scope, headers: dict[str, str]) -> str | None:
    """The origin this request was made to, if its Host is one of ALLOWED_HOSTS."""
    host = headers.get("host", "")
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    if not domain or not validate_host(domain, allowed):
        return None
    return normalize(f"{_scheme(scope, headers)}://{host}")


def origin_allowed(scope) -> bool:
    headers = {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}
    origin = normalize(headers.get("origin", ""))
    if origin is None:
        return False
    trusted = {normalize(o) for o in settings.CSRF_TRUSTED_ORIGINS}
    return origin == own_origin(scope, headers) or origin in trusted


class ExactOriginValidator:
    """ASGI middleware: refuse (403 at the handshake) a websocket whose Origin is not ours."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
