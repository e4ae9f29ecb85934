"""Who is calling: an organizer (session or token) or an attendee (cookie or header token).

`identify()` decides it for every caller: the REST views (events/scope.py) and the live feed
(feed/consumers.py). The vote's fast path (votes/fast_path.py) reads the same attendee token
the same way and lets the database match it (Attendee.with_token's hash, in SQL); whatever
it does not handle itself goes to the REST view, hence through identify().
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware

from voting.core.errors import CsrfFailed, NotJoined
from voting.events.models import Attendee, Event

ATTENDEE_COOKIE = "unconf_attendee"
ATTENDEE_SCHEME = "attendee"


def attendee_token_from_header(value: str) -> str:
    scheme, _, token = (value or "").partition(" ")
    return token.strip() if scheme.lower() == ATTENDEE_SCHEME else ""


def attendee_from_token(event: Event, token: str) -> Attendee | None:
    return Attendee.with_token(event.pk, token)


@dataclass(frozen=True)
class Caller:
    attendee: Attendee | None  # None: anonymous
    is_organizer: bool


def identify(
    event: Event,
    *,
    user,
    authorization: str = "",
    cookie_token: str = "",
    csrf_failure: Callable[[], str | None] | None = None,
) -> Caller:
    """Who is calling this event: `user` is the signed-in or token-authenticated user (or None).

    An attendee token in the Authorization header that matches nobody is refused (NotJoined),
    never downgraded to anonymous: a program would otherwise act as nobody without knowing.
    The cookie counts for a write only if `csrf_failure` (given for writes) finds no reason.
    """
    is_organizer = bool(user is not None and user.is_authenticated and event.is_organizer(user))
    header_token = attendee_token_from_header(authorization)
    if header_token:
        attendee = attendee_from_token(event, header_token)
        if attendee is None:
            raise NotJoined("This attendee token is not valid for this event (signed out?).")
        return Caller(attendee, is_organizer)
    attendee = attendee_from_token(event, cookie_token)
    if attendee is not None and csrf_failure is not None:
        reason = csrf_failure()
        if reason:
            raise CsrfFailed(f"CSRF check failed: {reason}")
    return Caller(attendee, is_organizer)


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
