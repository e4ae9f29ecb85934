"""An attendee's vote answered on the event loop, before Django: the hot path of a full hall.

`PUT /api/events/<slug>/votes/<id>` with the JSON body {"dots": n}, or `DELETE`, from an
attendee (bearer header, or the phone's cookie with a passing CSRF check), on PostgreSQL: the
vote is one call of the function `unconf_vote` on a connection of this loop
(voting/core/loop_db.py), and the answer goes out without a hop to a request thread, Django's
middleware chain or DRF. Those cost twice what the vote costs in Daphne (scripts/bench
--votes-only).

Anything this path does not expect returns None and goes on to Django and DRF
(api.VoteView), which answer it exactly as before: another body shape, no or an unknown
attendee, a failed CSRF check, a host Django would refuse, an organizer's token or session, a
database error. Handing over a vote that may have been stored is safe: it sets, never adds.
The answer is the same `me` or contract error body, with the headers of the same middleware
that shapes every other answer (tests/test_vote_path.py compares both paths).
"""

import io
import json
import logging
import re
from functools import cache

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string

from unconf import fast_paths
from voting.core import loop_db
from voting.core.errors import UnconfError, json_error_response
from voting.events.identity import ATTENDEE_COOKIE, attendee_token_from_header, csrf_failure_reason
from voting.feed import broadcast, snapshots
from voting.votes import services as vote_services
from voting.votes.api import VoteView
from voting.votes.serializers import DotsSerializer

logger = logging.getLogger(__name__)

# An id of 19 digits or more may not fit PostgreSQL's bigint: DRF's to refuse.
VOTE_URL = re.compile(r"/api/events/(?P<slug>[-a-zA-Z0-9_]+)/votes/(?P<pk>[0-9]{1,18})")
MAX_DOTS = DotsSerializer().fields["dots"].max_value
ALLOW = ", ".join(VoteView().allowed_methods)
MAX_BODY_BYTES = 256  # {"dots": n} with room to spare; anything longer is DRF's to parse
# The middleware that adds headers to every API answer (security headers, language); why the
# rest of settings.MIDDLEWARE has nothing to do here: fast_paths.VOTE_PATH_MIDDLEWARE, which
# turns this path off when a middleware it does not know is configured.
HEADER_MIDDLEWARE = tuple(
    path
    for path, (treatment, _why) in fast_paths.VOTE_PATH_MIDDLEWARE.items()
    if treatment == fast_paths.REPLAYED
)


def may_answer(scope) -> bool:
    """Cheap look at the request line: whether to try this path at all."""
    return (
        scope["method"] in ("PUT", "DELETE")
        and not scope.get("root_path")
        and VOTE_URL.fullmatch(scope["path"]) is not None
        and loop_db.available()
        and fast_paths.on(fast_paths.VOTE_ON_LOOP)
    )


async def answer(scope, body_file) -> HttpResponse | None:
    body_file.seek(0)
    body = body_file.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return None
    try:
        request = ASGIRequest(scope, io.BytesIO(body))  # it closes its stream: not Django's file
        request.get_host()  # raises for a host Django would refuse
    except (DisallowedHost, ValueError, UnicodeDecodeError):
        return None
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return None
    dots = _dots(request)
    token = _attendee_token(request) if dots is not None else ""
    if not token:
        return None
    url = VOTE_URL.fullmatch(scope["path"])
    params = vote_services.vote_by_token_params(
        slug=url["slug"], token=token, proposal_id=int(url["pk"]), dots=dots
    )
    try:
        row = await loop_db.fetch_one(vote_services.VOTE_BY_TOKEN_SQL, params)
    except Exception:  # the database is away or refused: Django answers as it would anyway
        logger.warning("The vote on the event loop failed; handing it to Django", exc_info=True)
        return None
    try:
        found = vote_services.vote_by_token_answer(row, on_change=broadcast.tally_changed)
    except UnconfError as refusal:
        response = json_error_response(request, refusal.status_code, refusal.code, refusal.detail)
        if refusal.retry_after is not None:
            response["Retry-After"] = str(refusal.retry_after)
        return _with_headers(request, response)
    if found is None:
        return None
    voter, outcome = found
    me = snapshots.me_of(voter, outcome.budget, outcome.votes, outcome.proposals)
    content = json.dumps(me, ensure_ascii=False, separators=(",", ":"))  # as DRF renders it
    return _with_headers(request, HttpResponse(content, content_type="application/json"))


def _dots(request) -> int | None:
    if request.method == "DELETE":
        return 0
    if request.content_type != "application/json":
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


def _with_headers(request, response: HttpResponse) -> HttpResponse:
    response["Allow"] = ALLOW  # as DRF's view says it
    request.unconf_answer = response
    response = _header_chain()(request)
    patch_vary_headers(response, ["Cookie"])  # as the session middleware adds it after DRF
    return response


@cache
def _header_chain():
    """HEADER_MIDDLEWARE, in settings.MIDDLEWARE's order, around a view that returns the answer."""
    chain = lambda request: request.unconf_answer  # noqa: E731
    for path in reversed(settings.MIDDLEWARE):
        if path in HEADER_MIDDLEWARE:
            chain = import_string(path)(chain)
    return chain
