"""Request guards that must act before any view: the API body limit and the page CSP."""

from django.conf import settings

from .errors import PayloadTooLarge, error_body


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
