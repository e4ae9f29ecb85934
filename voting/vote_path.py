"""The vote request without DRF: the hot path of a full hall.

`PUT /api/events/<slug>/votes/<id>` with the JSON body {"dots": n}, or `DELETE`, from an
attendee (bearer header, or cookie with a passing CSRF check), answered here with one
database round trip (services.vote_by_token). DRF's request wrapping, parsers, serializers
and renderers cost as much CPU as the vote itself (scripts/bench --votes-only).

Anything this path does not expect returns None and goes on to DRF (api.VoteView), which
answers it exactly as before: another body shape, no or an unknown attendee, a failed CSRF
check, an organizer's token or session. A refusal (budget, cap, closed…) is the contract's
error body either way.
"""

import json

from django.conf import settings
from django.http import HttpResponse

from . import services, snapshots
from .errors import UnconfError, json_error_response
from .identity import ATTENDEE_COOKIE, attendee_token_from_header, csrf_failure_reason
from .serializers import DotsSerializer

MAX_DOTS = DotsSerializer().fields["dots"].max_value


def answer(request, slug: str, proposal_id: int) -> HttpResponse | None:
    dots = _dots(request)
    token = _attendee_token(request) if dots is not None else ""
    if not token:
        return None
    try:
        found = services.vote_by_token(slug=slug, token=token, proposal_id=proposal_id, dots=dots)
    except UnconfError as refusal:
        response = json_error_response(request, refusal.status_code, refusal.code, refusal.detail)
        if refusal.retry_after is not None:
            response["Retry-After"] = str(refusal.retry_after)
        return response
    if found is None:
        return None
    voter, outcome = found
    me = snapshots.me_of(voter, outcome.budget, outcome.votes, outcome.proposals)
    body = json.dumps(me, ensure_ascii=False, separators=(",", ":"))  # as DRF renders it
    return HttpResponse(body, content_type="application/json")


def _dots(request) -> int | None:
    if request.method == "DELETE":
        return 0
    if request.method != "PUT" or request.content_type != "application/json":
        return None
    try:
        data = json.loads(request.body)
    except ValueError:
        return None
    dots = data.get("dots") if isinstance(data, dict) else None
    return dots if type(dots) is int and 0 <= dots <= MAX_DOTS else None


def _attendee_token(request) -> str:
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return ""  # a signed-in organizer: DRF's session rules apply
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        return attendee_token_from_header(header)  # "" for an organizer's token: DRF's rules
    token = request.COOKIES.get(ATTENDEE_COOKIE, "")
    return token if token and csrf_failure_reason(request) is None else ""
