"""Request guards that must act before any view: the health check, the API body limit, the CSP."""

from django.conf import settings

from voting.core.errors import PayloadTooLarge, error_body
from voting.core.health import healthz


class HealthCheckMiddleware:
    """/healthz answers whatever the Host header: a container's own check and a load balancer's
    probe come by address, not by the public name in ALLOWED_HOSTS, which every later
    middleware (CommonMiddleware, the HTTPS redirect) would refuse with 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)


class ApiBodyLimitMiddleware:
    """Refuse over-large bodies under /api/ with the contract's 413 before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.UNCONF_MAX_BODY_BYTES:
                from django.http import JsonResponse

                return JsonResponse(
                    error_body(PayloadTooLarge.default_detail, PayloadTooLarge.code), status=413
                )
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """A strict CSP on every page: no inline script, nothing from other origins."""

    POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.POLICY
        return response
