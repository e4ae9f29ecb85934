"""Domain errors and the one place that turns any failure under /api/ into the contract's JSON."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class UnconfError(exceptions.APIException):
    """A refusal a user can understand: HTTP status, machine code, sentence.

    A DRF APIException, so DRF views raise it like their own; the fast vote path and the
    feed, which run outside DRF, answer it with the same body (`error_body`)."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    default_detail = _("The request was not valid.")

    def __init__(self, detail=None, *, retry_after: int | None = None):
        super().__init__(str(detail or self.default_detail), self.code)
        self.detail = str(self.detail)  # one sentence, never DRF's list or dict shapes
        self.retry_after = retry_after


class NotJoined(UnconfError):
    status_code, code = 401, "not_joined"
    default_detail = _("Join the event first.")


class Forbidden(UnconfError):
    status_code, code = 403, "forbidden"
    default_detail = _("You are not allowed to do that.")


class InvalidCode(UnconfError):
    status_code, code = 403, "invalid_code"
    default_detail = _("That code is not valid for this event.")


class NotFound(UnconfError):
    status_code, code = 404, "not_found"
    default_detail = _("Not found.")


class VotingClosed(UnconfError):
    status_code, code = 409, "voting_closed"
    default_detail = _("Voting is closed.")


class ProposalsClosed(UnconfError):
    status_code, code = 409, "proposals_closed"
    default_detail = _("Proposals are closed.")


class BudgetExhausted(UnconfError):
    status_code, code = 409, "budget_exhausted"
    default_detail = _("You have no dots left. Take a dot back from another proposal first.")


class ProposalCap(UnconfError):
    status_code, code = 409, "proposal_cap"
    default_detail = _("You have reached the limit of proposals for this event.")


class RulesLocked(UnconfError):
    status_code, code = 409, "rules_locked"
    default_detail = _("The voting rules cannot change once dots have been cast.")


class NotVotable(UnconfError):
    status_code, code = 409, "not_votable"
    default_detail = _("This session was scheduled in an earlier round: it takes no more votes.")


class Conflict(UnconfError):
    status_code, code = 409, "conflict"
    default_detail = _("That cannot be done in the current state.")


class PayloadTooLarge(UnconfError):
    status_code, code = 413, "payload_too_large"
    default_detail = _("The request body is too large.")


class RateLimited(UnconfError):
    status_code, code = 429, "rate_limited"
    default_detail = _("Too many attempts. Wait a moment and try again.")


class Unavailable(UnconfError):
    status_code, code = 503, "unavailable"
    default_detail = _("The service is briefly unavailable. Try again in a few seconds.")


class InvalidDots(UnconfError):
    code = "invalid_dots"


class InvalidCredentials(UnconfError):
    status_code, code = 400, "invalid_credentials"
    default_detail = _("Wrong username or password.")


class CsrfFailed(UnconfError):
    status_code, code = 403, "forbidden"


def error_body(detail, code: str) -> dict:
    return {"detail": str(detail), "code": code}


# DRF's own exceptions, mapped to the contract's codes.
_DRF_CODES = {
    exceptions.NotAuthenticated: "not_joined",
    exceptions.AuthenticationFailed: "not_joined",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.ParseError: "malformed_request",
}


def api_exception_handler(exc, context):
    """DRF exception handler: every error is {"detail", "code"} (field errors stay as DRF's)."""
    if isinstance(exc, UnconfError):
        response = Response(error_body(exc.detail, exc.code), status=exc.status_code)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(PayloadTooLarge.default_detail, PayloadTooLarge.code), status=413)
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("Database unavailable: %s", exc)
        response = Response(error_body(Unavailable.default_detail, Unavailable.code), status=503)
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        if isinstance(exc, DatabaseError):
            logger.exception("Database error")
        return None  # a real bug: Django's handler500 answers with JSON under /api/
    if isinstance(exc, exceptions.ValidationError):
        return response  # field errors exactly as DRF shapes them
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
    if code is None:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
    response.data = error_body(response.data.get("detail", exc.detail), code)
    return response


def json_error_response(request, status_code: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(error_body(detail, code), status=status_code)
