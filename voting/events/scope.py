"""The base of every /api/events/<slug>/… view: the event, and who is calling."""

import zoneinfo

from django.utils import timezone
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS
from rest_framework.views import APIView

from voting.core.errors import Forbidden, NotFound, NotJoined
from voting.events.identity import ATTENDEE_COOKIE, csrf_failure_reason, identify
from voting.events.models import Event
from voting.schedule import hosts

ERROR = inline_serializer("Error", {"detail": serializers.CharField(), "code": serializers.CharField()})


class EventScoped(APIView):
    """Base for /api/events/<slug>/…: resolves the event, the organizer and the attendee."""

    def initial(self, request, *args, **kwargs):
        # The permission classes (events/permissions.py) ask who is calling: resolve the event
        # and the caller first, then let DRF negotiate, check permissions and throttle.
        self.event = Event.at(kwargs["slug"])
        if self.event is None:
            raise NotFound("No event with this address.")
        # Times without an offset are read, and times are shown, in the event's own zone.
        timezone.activate(zoneinfo.ZoneInfo(self.event.time_zone))
        writes = request.method not in SAFE_METHODS
        caller = identify(
            self.event,
            user=request.user,
            authorization=request.META.get("HTTP_AUTHORIZATION", ""),
            cookie_token=request.COOKIES.get(ATTENDEE_COOKIE, ""),
            csrf_failure=(lambda: csrf_failure_reason(request._request)) if writes else None,
        )
        self.is_organizer, self.attendee = caller.is_organizer, caller.attendee
        super().initial(request, *args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            timezone.deactivate()

    def permission_denied(self, request, message=None, code=None):
        raise Forbidden(message)  # 403 `forbidden`, signed in or not (DRF would say 401 to anonymous)

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
