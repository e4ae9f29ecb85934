"""Organizer logins (the API token, /admin/login/, any login page) throttled by django-axes.

Wrong passwords are counted per username AND address (settings: AXES_*), so a venue's
shared address full of attendees, or someone guessing another organizer's password, never
locks an organizer out; attendee traffic never calls `authenticate` and so never counts.
This module only shapes axes' refusal: the contract's JSON 429 under /api/, a short page
elsewhere, both with Retry-After.
"""

from axes.helpers import get_cool_off
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from voting.core.errors import RateLimited, error_body


def retry_after_seconds(request) -> int:
    cool_off = get_cool_off(request)
    return max(1, int(cool_off.total_seconds())) if cool_off else 3600


def locked_out(request) -> RateLimited:
    """The API's refusal of a locked-out login."""
    return RateLimited(
        _("Too many wrong passwords for this user. Try again later."),
        retry_after=retry_after_seconds(request),
    )


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: what a locked-out login attempt gets back, on any login page."""
    refusal = locked_out(request)
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(refusal.detail, refusal.code), status=429)
    else:
        response = HttpResponse(str(refusal.detail), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after_seconds(request))
    return response
