"""REST API views: parse → service → serialize. Who may do what is decided here, rules in services."""

import hashlib
import zoneinfo

from django.contrib.auth import authenticate
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from . import hosts, logins, ratelimit, rounds, services, snapshots
from .csvfiles import csv_response
from .errors import Forbidden, NotFound, NotJoined, UnconfError
from .identity import (
    ATTENDEE_COOKIE,
    attendee_from_token,
    attendee_token_from_header,
    client_address,
    csrf_failure_reason,
)
from .models import Badge, Event, Proposal, ProposalStatus, Slot
from .schedule import slot_dict
from .serializers import (
    BadgeCountSerializer,
    BadgeSerializer,
    DotsSerializer,
    EventSerializer,
    JoinResponseSerializer,
    JoinSerializer,
    MergeSerializer,
    MeSerializer,
    ProposalSerializer,
    ResultRowSerializer,
    TokenRequestSerializer,
)

ERROR = inline_serializer("Error", {"detail": serializers.CharField(), "code": serializers.CharField()})


class InvalidCredentials(UnconfError):
    status_code, code = 400, "invalid_credentials"
    default_detail = "Wrong username or password."


class CsrfFailed(UnconfError):
    status_code, code = 403, "forbidden"


class TokenView(APIView):
    """Organizer programs trade a username and password for an API token."""

    authentication_classes = []
    parser_classes = [JSONParser, FormParser, MultiPartParser]  # as DRF's own token view

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # django-axes, the first authentication backend, counts wrong passwords per username and
        # address and refuses a locked-out pair before any password is checked (voting/logins.py).
        user = authenticate(request._request, **data.validated_data)
        if getattr(request._request, "axes_locked_out", False):
            raise logins.locked_out(request._request)
        if user is None:
            raise InvalidCredentials()
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class EventScoped(APIView):
    """Base for /api/events/<slug>/…: resolves the event, the organizer and the attendee."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.event = Event.at(kwargs["slug"])
        if self.event is None:
            raise NotFound("No event with this address.")
        # Times without an offset are read, and times are shown, in the event's own zone.
        timezone.activate(zoneinfo.ZoneInfo(self.event.time_zone))
        self.is_organizer = self.event.is_organizer(request.user)
        self.attendee = self._attendee(request)

    def _attendee(self, request):
        header_token = attendee_token_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
        if header_token:
            attendee = attendee_from_token(self.event, header_token)
            if attendee is None:
                raise NotJoined("This attendee token is not valid for this event (signed out?).")
            return attendee
        cookie_token = request.COOKIES.get(ATTENDEE_COOKIE, "")
        attendee = attendee_from_token(self.event, cookie_token)
        if attendee is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
            reason = csrf_failure_reason(request._request)
            if reason:
                raise CsrfFailed(f"CSRF check failed: {reason}")
        return attendee

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            timezone.deactivate()

    def require_organizer(self):
        if not self.is_organizer:
            raise Forbidden("Only the event's organizers may do this.")

    def require_attendee(self):
        if self.attendee is None:
            raise NotJoined()
        return self.attendee

    def counts_visible(self) -> bool:
        return self.is_organizer or self.event.counts_public()

    def context(self, proposals=()) -> dict:
        return {
            "is_organizer": self.is_organizer,
            "attendee": self.attendee,
            "show_counts": self.counts_visible(),
            "hosts": self.hosts_shown(proposals),
        }

    def hosts_shown(self, proposals) -> dict[int, list[str]]:
        """`hosts` of these proposals as the caller may see them: organizers all, hosts their own."""
        if not proposals or not (self.is_organizer or self.attendee):
            return {}
        shown = hosts.host_pseudonyms(p.pk for p in proposals)
        if self.is_organizer:
            return shown
        return {pid: ids for pid, ids in shown.items() if self.attendee.public_id in ids}


class EventListView(APIView):
    @extend_schema(responses=EventSerializer(many=True))
    def get(self, request):
        """The events the caller organizes."""
        if not request.user.is_authenticated:
            raise Forbidden("Log in as an organizer.")
        events = Event.objects.all() if request.user.is_superuser else request.user.organized_events.all()
        return Response(EventSerializer(events, many=True, context={"is_organizer": True}).data)

    @extend_schema(request=EventSerializer, responses={201: EventSerializer, 403: ERROR})
    def post(self, request):
        """Staff create events and organize what they create."""
        if not (request.user.is_authenticated and request.user.is_staff):
            raise Forbidden("Only staff may create events.")
        serializer = EventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if "slug" not in serializer.validated_data:
            raise serializers.ValidationError({"slug": ["This field is required."]})
        event = services.create_event(creator=request.user, **serializer.validated_data)
        return Response(EventSerializer(event, context={"is_organizer": True}).data, status=201)


class EventDetailView(EventScoped):
    @extend_schema(responses=EventSerializer)
    def get(self, request, slug):
        return Response(EventSerializer(self.event, context=self.context()).data)

    @extend_schema(request=EventSerializer, responses={200: EventSerializer, 409: ERROR})
    def patch(self, request, slug):
        self.require_organizer()
        serializer = EventSerializer(self.event, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        event = services.update_event(event=self.event, changes=serializer.validated_data)
        return Response(EventSerializer(event, context=self.context()).data)


class JoinView(EventScoped):
    authentication_classes = []

    @extend_schema(request=JoinSerializer, responses={201: JoinResponseSerializer, 403: ERROR, 429: ERROR})
    def post(self, request, slug):
        """Join with the event code (open events) or a badge code (badge events)."""
        data = JoinSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attendee, token = join_rate_limited(request, self.event, **data.validated_data)
        body = {"token": token, "attendee": {"id": attendee.public_id, "display_name": attendee.display_name}}
        response = Response(body, status=status.HTTP_201_CREATED)
        set_attendee_cookie(request, response, token)
        return response


def join_rate_limited(request, event: Event, code: str, display_name: str = ""):
    """Join, counting new attendees per address (open events) and wrong codes per address and event.

    A correct open-event code is never refused for earlier wrong ones (it is on the projector
    anyway): for open events the code is tried first, and only a wrong one meets the limit.
    """
    address = client_address(request)
    open_event = event.identity_mode == "open"
    if open_event:
        ratelimit.refuse_if_joining_too_fast(address)
    else:
        ratelimit.refuse_if_guessing(address, event.pk)
    try:
        attendee, token = services.join_event(event=event, code=code, display_name=display_name)
    except UnconfError as error:
        if error.code == "invalid_code":
            ratelimit.count_wrong_code(address, event.pk)
        raise
    if open_event:
        ratelimit.count_join(address)
    return attendee, token


def set_attendee_cookie(request, response, token: str) -> None:
    response.set_cookie(
        ATTENDEE_COOKIE,
        token,
        max_age=60 * 60 * 24 * 30,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


class BadgeListView(EventScoped):
    @extend_schema(responses=BadgeSerializer(many=True))
    def get(self, request, slug):
        self.require_organizer()
        badges = Badge.objects.filter(event=self.event).select_related("attendee")
        return Response(BadgeSerializer(badges, many=True).data)

    @extend_schema(request=BadgeCountSerializer, responses={201: BadgeSerializer(many=True)})
    def post(self, request, slug):
        self.require_organizer()
        data = BadgeCountSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        badges = services.generate_badges(event=self.event, count=data.validated_data["count"])
        return Response(BadgeSerializer(badges, many=True).data, status=201)


class BadgeCsvView(EventScoped):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, slug):
        self.require_organizer()
        badges = Badge.objects.filter(event=self.event).select_related("attendee")
        join_url = request.build_absolute_uri(f"/e/{self.event.slug}/join?code=")
        rows = ([b.code, b.attendee.public_id, b.status, join_url + b.code] for b in badges)
        return csv_response(
            f"{self.event.slug}-badges.csv", ["code", "attendee_id", "status", "join_url"], rows
        )


class BadgeRevokeView(EventScoped):
    @extend_schema(request=None, responses=BadgeSerializer)
    def post(self, request, slug, code):
        self.require_organizer()
        return Response(BadgeSerializer(services.revoke_badge(event=self.event, code=code)).data)


class BadgeReissueView(EventScoped):
    @extend_schema(request=None, responses={201: BadgeSerializer})
    def post(self, request, slug, code):
        self.require_organizer()
        badge = services.reissue_badge(event=self.event, code=code)
        return Response(BadgeSerializer(badge).data, status=201)


def _stable_shuffle_key(seed: str):
    def key(proposal):
        return hashlib.sha256(f"{seed}:{proposal.pk}".encode()).digest()

    return key


class ProposalListView(EventScoped):
    @extend_schema(
        parameters=[OpenApiParameter("order", enum=["random", "top"], required=False)],
        responses=ProposalSerializer(many=True),
    )
    def get(self, request, slug):
        """Published proposals (and the caller's own; organizers see all)."""
        proposals = Proposal.objects.filter(event=self.event)
        if not self.is_organizer:
            visible = Proposal.objects.in_play().filter(event=self.event)
            if self.attendee is not None:
                visible = visible | Proposal.objects.filter(author=self.attendee)
                visible = visible | Proposal.objects.filter(cohosts__attendee=self.attendee)
            proposals = visible.distinct()
        order = request.query_params.get("order") or ("top" if self.counts_visible() else "random")
        if order == "top" and self.counts_visible():
            proposals = list(proposals.order_by("-dots", "-voters", "created_at", "id"))
        else:
            seed = self.attendee.public_id if self.attendee else "public"
            proposals = sorted(proposals, key=_stable_shuffle_key(seed))
        return Response(ProposalSerializer(proposals, many=True, context=self.context(proposals)).data)

    @extend_schema(request=ProposalSerializer, responses={201: ProposalSerializer, 409: ERROR})
    def post(self, request, slug):
        if self.attendee is None and not self.is_organizer:
            raise NotJoined()
        serializer = ProposalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        proposal = services.submit_proposal(
            event=self.event,
            author=None if self.is_organizer else self.attendee,
            title=data["title"],
            description=data.get("description", ""),
            host_name=data.get("host_name", ""),
            length=hosts.check_length(data.get("length", 1), by_organizer=self.is_organizer),
        )
        return Response(ProposalSerializer(proposal, context=self.context([proposal])).data, status=201)


class ProposalSimilarView(EventScoped):
    @extend_schema(
        parameters=[OpenApiParameter("title", str, required=True)],
        responses=ProposalSerializer(many=True),
    )
    def get(self, request, slug):
        """Up to 5 published proposals that look like near-duplicates of `title`."""
        title = request.query_params.get("title", "")[:200]
        similar = services.similar_proposals(event=self.event, title=title)
        return Response(ProposalSerializer(similar, many=True, context=self.context()).data)


class ProposalAccess(EventScoped):
    """Who may see and change one proposal."""

    def get_proposal(self, pk) -> Proposal:
        proposal = Proposal.objects.filter(event=self.event, pk=pk).first()
        visible = proposal is not None and (
            self.is_organizer
            or proposal.status == ProposalStatus.PUBLISHED
            or hosts.is_host(proposal, self.attendee)
        )
        if not visible:
            raise NotFound("No such proposal in this event.")
        return proposal

    def get_own_or_organized(self, pk, *, cohosts: bool = False) -> Proposal:
        """The proposal if the caller may change it: organizers, its author, and with
        `cohosts` its co-hosts too."""
        proposal = self.get_proposal(pk)
        if not self.is_organizer:
            if self.attendee is None and not self.request.user.is_authenticated:
                raise NotJoined()
            allowed = self.attendee is not None and (
                proposal.author_id == self.attendee.pk or (cohosts and hosts.is_host(proposal, self.attendee))
            )
            if not allowed:
                raise Forbidden("You can only change your own proposals.")
        return proposal


class ProposalDetailView(ProposalAccess):
    @extend_schema(responses=ProposalSerializer)
    def get(self, request, slug, pk):
        proposal = self.get_proposal(pk)
        return Response(ProposalSerializer(proposal, context=self.context([proposal])).data)

    @extend_schema(request=ProposalSerializer, responses={200: ProposalSerializer, 409: ERROR})
    def patch(self, request, slug, pk):
        """Hosts (author and co-hosts) edit while proposals are open; organizers any time."""
        proposal = self.get_own_or_organized(pk, cohosts=True)
        serializer = ProposalSerializer(proposal, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "length" in serializer.validated_data:
            hosts.check_length(serializer.validated_data["length"], by_organizer=self.is_organizer)
        updated = services.edit_proposal(
            proposal=proposal, changes=serializer.validated_data, by_organizer=self.is_organizer
        )
        return Response(ProposalSerializer(updated, context=self.context([updated])).data)

    @extend_schema(responses={200: ProposalSerializer, 409: ERROR})
    def delete(self, request, slug, pk):
        """Withdraw (author or organizers): the proposal leaves the board and every dot on it is refunded."""
        proposal = self.get_own_or_organized(pk)
        withdrawn = services.withdraw_proposal(proposal=proposal, by_organizer=self.is_organizer)
        return Response(ProposalSerializer(withdrawn, context=self.context([withdrawn])).data)


class CohostInviteView(ProposalAccess):
    @extend_schema(
        request=None, responses={201: inline_serializer("CohostInvite", {"code": serializers.CharField()})}
    )
    def post(self, request, slug, pk):
        """A single-use code that makes one attendee a co-host (the author or organizers)."""
        proposal = self.get_own_or_organized(pk)
        return Response({"code": hosts.create_invite(proposal=proposal).code}, status=201)


class CohostView(EventScoped):
    @extend_schema(
        request=inline_serializer("CohostCode", {"code": serializers.CharField()}),
        responses={200: ProposalSerializer, 403: ERROR, 409: ERROR, 429: ERROR},
    )
    def post(self, request, slug):
        """Become a co-host with an invite code (403 invalid_code, 409 cohost_cap or already_host)."""
        attendee = self.require_attendee()
        address = client_address(request)
        ratelimit.refuse_if_guessing(address, self.event.pk)
        try:
            proposal = hosts.redeem_invite(attendee=attendee, code=str(request.data.get("code", ""))[:64])
        except UnconfError as error:
            if error.code == "invalid_code":
                ratelimit.count_wrong_code(address, self.event.pk)
            raise
        return Response(ProposalSerializer(proposal, context=self.context([proposal])).data)


class AvailabilitySerializer(serializers.Serializer):
    unavailable_slots = serializers.ListField(child=serializers.IntegerField(), max_length=500)
    slots = serializers.ListField(child=serializers.DictField(), read_only=True)


class AvailabilityView(EventScoped):
    @extend_schema(responses={200: AvailabilitySerializer, 401: ERROR})
    def get(self, request, slug):
        """The slots in which the caller cannot host, and the event's slots to choose from
        (attendees see them here before the schedule is published)."""
        attendee = self.require_attendee()
        slots = [slot_dict(slot) for slot in Slot.objects.filter(event=self.event)]
        return Response({"unavailable_slots": hosts.unavailable_slots(attendee), "slots": slots})

    @extend_schema(request=AvailabilitySerializer, responses={200: AvailabilitySerializer, 401: ERROR})
    def put(self, request, slug):
        """Replace the slots in which the caller cannot host; the builder keeps their sessions out."""
        attendee = self.require_attendee()
        data = AvailabilitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        slots = hosts.set_unavailable_slots(
            attendee=attendee, slot_ids=data.validated_data["unavailable_slots"]
        )
        return Response({"unavailable_slots": slots})


class ProposalMergeView(EventScoped):
    def _pair(self, pk, into):
        source = get_object_or_404(Proposal, event=self.event, pk=pk)
        target = Proposal.objects.filter(event=self.event, pk=into).first()
        if target is None:
            raise serializers.ValidationError({"into": ["No such proposal in this event."]})
        return source, target

    @extend_schema(
        parameters=[OpenApiParameter("into", int, required=True)],
        responses=inline_serializer(
            "MergePreview",
            {
                "voters_moved": serializers.IntegerField(),
                "voters_shared": serializers.IntegerField(),
                "dots_moved": serializers.IntegerField(),
                "dots_refunded": serializers.IntegerField(),
            },
        ),
    )
    def get(self, request, slug, pk):
        """Preview of a merge: how many voters and dots move and how many dots are refunded."""
        self.require_organizer()
        try:
            into = int(request.query_params.get("into", ""))
        except ValueError:
            raise serializers.ValidationError({"into": ["A proposal id is required."]}) from None
        source, target = self._pair(pk, into)
        return Response(services.merge_preview(source=source, target=target))

    @extend_schema(request=MergeSerializer, responses={200: ProposalSerializer, 409: ERROR})
    def post(self, request, slug, pk):
        self.require_organizer()
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source, target = self._pair(pk, data.validated_data["into"])
        merged = services.merge_proposals(source=source, target=target)
        body = ProposalSerializer(merged, context=self.context([merged])).data
        # Hosts of the merged proposal that did not fit under the target's co-host cap.
        return Response({**body, "hosts_dropped": merged.hosts_dropped})


class VoteView(EventScoped):
    """An attendee's plain vote on PostgreSQL is answered before Django (voting/vote_path.py)
    with the same answers; this view answers every other vote request."""

    def _set(self, request, pk, dots):
        attendee = self.require_attendee()
        outcome = services.set_dots(attendee=attendee, proposal_id=pk, dots=dots)
        # The budget as the vote read it under its lock: a rule change may have just committed.
        return Response(snapshots.me_of(attendee, outcome.budget, outcome.votes, outcome.proposals))

    @extend_schema(request=DotsSerializer, responses={200: MeSerializer, 409: ERROR})
    def put(self, request, slug, pk):
        """Set (never add) the caller's dots on the proposal. Safe to replay."""
        data = DotsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._set(request, pk, data.validated_data["dots"])

    @extend_schema(request=None, responses={200: MeSerializer, 409: ERROR})
    def delete(self, request, slug, pk):
        return self._set(request, pk, 0)


ROUND = OpenApiParameter("round", int, description="An earlier round's id (default: the current round)")


class MeView(EventScoped):
    @extend_schema(parameters=[ROUND], responses={200: MeSerializer, 401: ERROR})
    def get(self, request, slug):
        attendee = self.require_attendee()
        round_ = rounds.round_of(self.event, request.query_params.get("round"))
        if round_.is_current(self.event):
            return Response(snapshots.me(attendee, self.event.votes_per_attendee))
        me = snapshots.me(attendee, self.event.votes_per_attendee)
        votes = {str(pid): dots for pid, dots in rounds.my_votes(attendee.pk, round_).items()}
        return Response({**me, "votes": votes, "remaining": me["budget"] - sum(votes.values())})


class ResultsMixin(EventScoped):
    def ranking(self):
        round_ = rounds.round_of(self.event, self.request.query_params.get("round"))
        if not (self.is_organizer or rounds.results_visible(self.event, round_)):
            raise Forbidden("Results are not visible yet.")
        return rounds.ranked_results(self.event, round_)


class ResultsView(ResultsMixin):
    @extend_schema(parameters=[ROUND], responses=ResultRowSerializer(many=True))
    def get(self, request, slug):
        return Response(ResultRowSerializer(self.ranking(), many=True).data)


class ResultsCsvView(ResultsMixin):
    @extend_schema(parameters=[ROUND], responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, slug):
        rows = (
            [rank, p.id, p.title, p.host_name, p.dots, p.voters]
            for rank, p in enumerate(self.ranking(), start=1)
        )
        return csv_response(
            f"{self.event.slug}-results.csv", ["rank", "id", "title", "host_name", "dots", "voters"], rows
        )


class LedgerCsvView(EventScoped):
    @extend_schema(parameters=[ROUND], responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, slug):
        """Every accepted change of anyone's dots in the round; replaying it gives its results."""
        self.require_organizer()
        round_ = rounds.round_of(self.event, request.query_params.get("round"))
        entries = (
            rounds.ledger_of(self.event, round_)
            .order_by("id")
            .values_list(
                "id", "created_at", "attendee__public_id", "proposal_id", "dots_before", "dots_after", "cause"
            )
        )
        rows = ([seq, at.isoformat(), *rest] for seq, at, *rest in entries.iterator())
        return csv_response(
            f"{self.event.slug}-ledger.csv",
            ["seq", "server_time", "attendee", "proposal", "dots_before", "dots_after", "cause"],
            rows,
        )


def healthz(request):
    """200 when the database and the channel layer answer; 503 naming what is down."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["db"] = "ok"
    except Exception as error:
        checks["db"] = f"down: {error.__class__.__name__}"
    try:
        layer = get_channel_layer()
        async_to_sync(layer.group_send)(
            "unconf.healthz", {"type": "healthz", "at": timezone.now().isoformat()}
        )
        checks["channel_layer"] = "ok"
    except Exception as error:
        checks["channel_layer"] = f"down: {error.__class__.__name__}"
    ok = all(v == "ok" for v in checks.values())
    response = JsonResponse(checks, status=200 if ok else 503)
    if not ok:
        response["Retry-After"] = "5"
    return response
