"""REST API for events, joining, organizer tokens and badges: parse → service → serialize."""

from django.contrib.auth import authenticate
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from voting.core import ratelimit
from voting.core.csvfiles import csv_response
from voting.core.errors import Forbidden, InvalidCredentials, UnconfError
from voting.events import logins
from voting.events import services as event_services
from voting.events.identity import ATTENDEE_COOKIE, client_address
from voting.events.models import Badge, Event
from voting.events.permissions import Organizers, OrganizersWrite
from voting.events.scope import ERROR, EventScoped
from voting.events.serializers import (
    BadgeCountSerializer,
    BadgeSerializer,
    EventSerializer,
    JoinResponseSerializer,
    JoinSerializer,
    TokenRequestSerializer,
)


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
        # address and refuses a locked-out pair before any password is checked (voting/events/logins.py).
        user = authenticate(request._request, **data.validated_data)
        if getattr(request._request, "axes_locked_out", False):
            raise logins.locked_out(request._request)
        if user is None:
            raise InvalidCredentials()
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


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
        event = event_services.create_event(creator=request.user, **serializer.validated_data)
        return Response(EventSerializer(event, context={"is_organizer": True}).data, status=201)


class EventDetailView(EventScoped):
    permission_classes = [OrganizersWrite]

    @extend_schema(responses=EventSerializer)
    def get(self, request, slug):
        return Response(EventSerializer(self.event, context=self.context()).data)

    @extend_schema(request=EventSerializer, responses={200: EventSerializer, 409: ERROR})
    def patch(self, request, slug):
        serializer = EventSerializer(self.event, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        event = event_services.update_event(event=self.event, changes=serializer.validated_data)
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
        attendee, token = event_services.join_event(event=event, code=code, display_name=display_name)
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
    permission_classes = [Organizers]

    @extend_schema(responses=BadgeSerializer(many=True))
    def get(self, request, slug):
        badges = Badge.objects.filter(event=self.event).select_related("attendee")
        return Response(BadgeSerializer(badges, many=True).data)

    @extend_schema(request=BadgeCountSerializer, responses={201: BadgeSerializer(many=True)})
    def post(self, request, slug):
        data = BadgeCountSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        badges = event_services.generate_badges(event=self.event, count=data.validated_data["count"])
        return Response(BadgeSerializer(badges, many=True).data, status=201)


class BadgeCsvView(EventScoped):
    permission_classes = [Organizers]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, slug):
        badges = Badge.objects.filter(event=self.event).select_related("attendee")
        join_url = request.build_absolute_uri(f"/e/{self.event.slug}/join?code=")
        rows = ([b.code, b.attendee.public_id, b.status, join_url + b.code] for b in badges)
        return csv_response(
            f"{self.event.slug}-badges.csv", ["code", "attendee_id", "status", "join_url"], rows
        )


class BadgeRevokeView(EventScoped):
    permission_classes = [Organizers]

    @extend_schema(request=None, responses=BadgeSerializer)
    def post(self, request, slug, code):
        return Response(BadgeSerializer(event_services.revoke_badge(event=self.event, code=code)).data)


class BadgeReissueView(EventScoped):
    permission_classes = [Organizers]

    @extend_schema(request=None, responses={201: BadgeSerializer})
    def post(self, request, slug, code):
        badge = event_services.reissue_badge(event=self.event, code=code)
        return Response(BadgeSerializer(badge).data, status=201)
