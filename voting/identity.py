"""Who is calling: an organizer (session or token) or an attendee (cookie or header token)."""

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware

from .models import Attendee, Event

ATTENDEE_COOKIE = "unconf_attendee"
ATTENDEE_SCHEME = "attendee"


def attendee_token_from_header(value: str) -> str:
    scheme, _, token = (value or "").partition(" ")
    return token.strip() if scheme.lower() == ATTENDEE_SCHEME else ""


def attendee_from_token(event: Event, token: str) -> Attendee | None:
    return Attendee.with_token(event.pk, token)


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def csrf_failure_reason(request) -> str | None:
    """Django's own CSRF check, as DRF's SessionAuthentication applies it."""
    check = _CsrfCheck(lambda req: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


def client_address(request) -> str:
    """The caller's address; X-Forwarded-For counts only from a configured trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "")
    if remote in settings.UNCONF_TRUSTED_PROXIES:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        # Walk from the nearest hop back, skipping our own proxies.
        for hop in reversed(hops):
            if hop not in settings.UNCONF_TRUSTED_PROXIES:
                return hop
    return remote
