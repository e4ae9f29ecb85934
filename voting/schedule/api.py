"""REST API of the schedule (contract section 5): rooms, slots, generate, edit, publish, exports.

Who may do what: organizers may read and change everything; everyone else may read the
schedule, its rooms and slots and its exports once it is published (before that: 403).
Writes go through `schedule_services`; every mutation of the schedule answers with the whole
schedule, so a client sees the new clash total and explanations at once.
"""

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from voting.core.errors import Forbidden, NotFound
from voting.day.services import stars_of
from voting.events.permissions import Organizers, OrganizersWrite
from voting.events.rounds import voted_in_any_round
from voting.events.scope import ERROR, EventScoped
from voting.schedule import exports
from voting.schedule import services as schedule_services
from voting.schedule.board import clash_report, room_dict, schedule_visible, slot_dict, visible_schedule
from voting.schedule.models import Room, Slot
from voting.schedule.serializers import (
    SCHEDULE,
    GenerateSerializer,
    PlacementSerializer,
    RoomSerializer,
    SlotSerializer,
)


class ScheduleScoped(EventScoped):
    def require_visible(self):
        if not (self.is_organizer or schedule_visible(self.event)):
            raise Forbidden("The schedule is not published yet.")

    def get_room(self, pk) -> Room:
        room = Room.objects.filter(event=self.event, pk=pk).first()
        if room is None:
            raise NotFound("No such room in this event.")
        return room

    def get_slot(self, pk) -> Slot:
        slot = Slot.objects.filter(event=self.event, pk=pk).first()
        if slot is None:
            raise NotFound("No such slot in this event.")
        return slot

    def schedule_response(self, status=200, *, changed=True, **extra) -> Response:
        if changed:  # a service changed the schedule, maybe its published flag too
            self.event.refresh_from_db(fields=["schedule_published"])
        return Response({**visible_schedule(self.event, organizer=self.is_organizer), **extra}, status=status)


# --- rooms and slots -------------------------------------------------------------------------


class RoomListView(ScheduleScoped):
    permission_classes = [OrganizersWrite]

    @extend_schema(responses={200: RoomSerializer(many=True), 403: ERROR})
    def get(self, request, slug):
        """The rooms, biggest first (organizers; everyone once the schedule is published)."""
        self.require_visible()
        return Response([room_dict(room) for room in Room.objects.filter(event=self.event)])

    @extend_schema(request=RoomSerializer, responses={201: RoomSerializer, 403: ERROR})
    def post(self, request, slug):
        data = RoomSerializer(data=request.data, context={"event": self.event})
        data.is_valid(raise_exception=True)
        room = schedule_services.create_room(event=self.event, **data.validated_data)
        return Response(room_dict(room), status=201)


class RoomDetailView(ScheduleScoped):
    permission_classes = [OrganizersWrite]

    @extend_schema(responses={200: RoomSerializer, 403: ERROR, 404: ERROR})
    def get(self, request, slug, pk):
        self.require_visible()
        return Response(room_dict(self.get_room(pk)))

    @extend_schema(request=RoomSerializer, responses={200: RoomSerializer, 403: ERROR, 404: ERROR})
    def patch(self, request, slug, pk):
        room = self.get_room(pk)
        data = RoomSerializer(room, data=request.data, partial=True, context={"event": self.event})
        data.is_valid(raise_exception=True)
        room = schedule_services.update_room(room=room, changes=data.validated_data)
        return Response(room_dict(room))

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request, slug, pk):
        """Delete the room; its sessions leave the schedule."""
        schedule_services.delete_room(room=self.get_room(pk))
        return Response(status=204)


class SlotListView(ScheduleScoped):
    permission_classes = [OrganizersWrite]

    @extend_schema(responses={200: SlotSerializer(many=True), 403: ERROR})
    def get(self, request, slug):
        """The slots in time order (organizers; everyone once the schedule is published)."""
        self.require_visible()
        return Response([slot_dict(slot) for slot in Slot.objects.filter(event=self.event)])

    @extend_schema(request=SlotSerializer, responses={201: SlotSerializer, 403: ERROR})
    def post(self, request, slug):
        data = SlotSerializer(data=request.data, context={"event": self.event})
        data.is_valid(raise_exception=True)
        slot = schedule_services.create_slot(event=self.event, **data.validated_data)
        return Response(slot_dict(slot), status=201)


class SlotDetailView(ScheduleScoped):
    permission_classes = [OrganizersWrite]

    @extend_schema(responses={200: SlotSerializer, 403: ERROR, 404: ERROR})
    def get(self, request, slug, pk):
        self.require_visible()
        return Response(slot_dict(self.get_slot(pk)))

    @extend_schema(request=SlotSerializer, responses={200: SlotSerializer, 403: ERROR, 404: ERROR})
    def patch(self, request, slug, pk):
        slot = self.get_slot(pk)
        data = SlotSerializer(slot, data=request.data, partial=True, context={"event": self.event})
        data.is_valid(raise_exception=True)
        slot = schedule_services.update_slot(slot=slot, changes=data.validated_data)
        return Response(slot_dict(slot))

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR})
    def delete(self, request, slug, pk):
        """Delete the slot; its sessions leave the schedule."""
        schedule_services.delete_slot(slot=self.get_slot(pk))
        return Response(status=204)


# --- the schedule ----------------------------------------------------------------------------


class ScheduleView(ScheduleScoped):
    @extend_schema(responses={200: SCHEDULE, 403: ERROR})
    def get(self, request, slug):
        """The schedule (organizers always; everyone once published).

        While the event's counts are hidden from the public, so are each session's `voters`
        and `explanation` and the `over_capacity` list.
        """
        self.require_visible()
        return self.schedule_response(changed=False)


class ScheduleGenerateView(ScheduleScoped):
    permission_classes = [Organizers]

    @extend_schema(
        request=GenerateSerializer,
        responses={
            200: inline_serializer(
                "GeneratedSchedule",
                {
                    "schedule": SCHEDULE,
                    "dropped_pins": serializers.ListField(child=serializers.IntegerField()),
                },
            ),
            409: ERROR,
        },
    )
    def post(self, request, slug):
        """Build a draft from the votes, keeping pinned sessions where they are.

        `fill`: `compact` (default) uses the earliest slots the sessions need, one more only
        when a host or an availability forces it; `spread` may use every slot to lower clashes.
        Answers with the schedule (its `unscheduled` say why each proposal left out was left
        out) plus `dropped_pins` (pinned proposals that could not keep their cell, or left
        the board).
        """
        data = GenerateSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        generated = schedule_services.generate_schedule(event=self.event, fill=data.validated_data["fill"])
        dropped = sorted(set(generated.result.dropped_pins) | set(generated.lost_pins))
        return self.schedule_response(dropped_pins=dropped)


class ScheduleSessionView(ScheduleScoped):
    permission_classes = [Organizers]

    @extend_schema(request=PlacementSerializer, responses={200: SCHEDULE, 400: ERROR, 404: ERROR, 409: ERROR})
    def patch(self, request, slug, proposal_id):
        """Move a session (`room`, `slot`) and/or pin it (`pinned`); answers with the schedule.

        Onto a cell another session holds, the two swap places (both explanations say so);
        a pinned occupant is never moved (409). A published proposal that is not scheduled yet
        may be placed on a free cell.
        """
        data = PlacementSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = data.validated_data
        room = slot = None
        if "room" in wanted:
            room = Room.objects.filter(event=self.event, pk=wanted["room"]).first()
            if room is None:
                raise serializers.ValidationError({"room": ["No such room in this event."]})
        if "slot" in wanted:
            slot = Slot.objects.filter(event=self.event, pk=wanted["slot"]).first()
            if slot is None:
                raise serializers.ValidationError({"slot": ["No such slot in this event."]})
        schedule_services.place_session(
            event=self.event, proposal_id=proposal_id, room=room, slot=slot, pinned=wanted.get("pinned")
        )
        return self.schedule_response()

    @extend_schema(responses={200: SCHEDULE, 404: ERROR})
    def delete(self, request, slug, proposal_id):
        """Take the session out of the schedule; the proposal stays on the board."""
        schedule_services.remove_session(event=self.event, proposal_id=proposal_id)
        return self.schedule_response()


class SchedulePublishView(ScheduleScoped):
    permission_classes = [Organizers]

    @extend_schema(request=None, responses={200: SCHEDULE, 409: ERROR})
    def post(self, request, slug):
        """Show the schedule to everyone: stage, phones, the schedule page and the exports."""
        schedule_services.set_schedule_published(event=self.event, published=True)
        return self.schedule_response()


class ScheduleUnpublishView(ScheduleScoped):
    permission_classes = [Organizers]

    @extend_schema(request=None, responses={200: SCHEDULE})
    def post(self, request, slug):
        """Hide the schedule again (same as PATCH of the event's `schedule_published`)."""
        schedule_services.set_schedule_published(event=self.event, published=False)
        return self.schedule_response()


class ScheduleClashesView(ScheduleScoped):
    permission_classes = [Organizers]

    @extend_schema(
        responses={
            200: inline_serializer(
                "ScheduleClashes",
                {
                    "clash_total": serializers.IntegerField(),
                    "slots": inline_serializer(
                        "SlotClashes",
                        {
                            "slot": serializers.IntegerField(),
                            "pairs": inline_serializer(
                                "ClashPair",
                                {
                                    "sessions": serializers.ListField(child=serializers.IntegerField()),
                                    "voters": serializers.IntegerField(),
                                    "cost": serializers.IntegerField(),
                                },
                                many=True,
                            ),
                        },
                        many=True,
                    ),
                },
            ),
            403: ERROR,
        }
    )
    def get(self, request, slug):
        """Organizers: per slot, the pairs of its sessions that share voters (how many, what cost)."""
        return Response(clash_report(self.event))


# --- exports ---------------------------------------------------------------------------------

MINE = OpenApiParameter(
    "mine", OpenApiTypes.BOOL, required=False, description="1: only the calling attendee's picks"
)


class ScheduleExportView(ScheduleScoped):
    """Base of the three exports: visibility, `?mine=1`, and no 406 for calendar clients."""

    def perform_content_negotiation(self, request, force=False):
        # Calendar apps send `Accept: text/calendar`: the body is ours, errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    def export(self, request) -> exports.ScheduleExport:
        self.require_visible()
        only = None
        if request.query_params.get("mine") in ("1", "true", "yes"):
            attendee = self.require_attendee()
            # my picks: voted (in any round) or starred (contract 5.2)
            only = voted_in_any_round(attendee.pk) | set(stars_of(attendee))
        self.mine = only is not None
        schedule_url = request.build_absolute_uri(reverse("schedule-page", args=[self.event.slug]))
        return exports.collect(
            self.event,
            schedule_url=schedule_url,
            host=request.get_host(),
            only=only,
            organizer=self.is_organizer,
        )

    def file_response(self, body: bytes, content_type: str, extension: str) -> HttpResponse:
        response = HttpResponse(body, content_type=content_type)
        suffix = "-mine" if self.mine else ""
        response["Content-Disposition"] = f'inline; filename="{self.event.slug}-schedule{suffix}.{extension}"'
        return response


class ScheduleJsonView(ScheduleExportView):
    @extend_schema(parameters=[MINE], responses={200: OpenApiTypes.OBJECT, 401: ERROR, 403: ERROR})
    def get(self, request, slug):
        """The schedule for programs: rooms, slots and sessions with times, rooms, hosts."""
        return Response(exports.schedule_json(self.export(request)))


class ScheduleIcsView(ScheduleExportView):
    @extend_schema(
        parameters=[MINE], responses={(200, "text/calendar"): OpenApiTypes.STR, 401: ERROR, 403: ERROR}
    )
    def get(self, request, slug):
        """iCalendar: one event per session; `?mine=1` (attendee) gives only my picks."""
        export = self.export(request)
        name = f"{self.event.name} – my sessions" if self.mine else self.event.name
        body = exports.schedule_ics(export, calendar_name=name)
        return self.file_response(body, "text/calendar; charset=utf-8", "ics")


class ScheduleXmlView(ScheduleExportView):
    @extend_schema(
        parameters=[MINE], responses={(200, "application/xml"): OpenApiTypes.STR, 401: ERROR, 403: ERROR}
    )
    def get(self, request, slug):
        """frab schedule.xml, for conference apps and room screens."""
        body = exports.schedule_frab(self.export(request))
        return self.file_response(body, "application/xml; charset=utf-8", "xml")
