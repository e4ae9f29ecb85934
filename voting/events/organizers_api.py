"""REST API for an event's co-organizers: GET lists, POST adds, DELETE removes (organizers only)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from voting.events import organizers
from voting.events.permissions import Organizers
from voting.events.scope import ERROR, EventScoped


class UsernameSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)


ORGANIZER = inline_serializer(
    "Organizer",
    {
        "username": serializers.CharField(),
        "name": serializers.CharField(),
        "is_staff": serializers.BooleanField(),
    },
    many=True,
)


def _listing(event) -> list[dict]:
    # is_staff matters to the console: only staff accounts can sign in to the admin login page.
    return [
        {"username": user.get_username(), "name": user.get_full_name(), "is_staff": user.is_staff}
        for user in organizers.organizers_of(event)
    ]


class OrganizerListView(EventScoped):
    permission_classes = [Organizers]

    @extend_schema(responses={200: ORGANIZER, 403: ERROR})
    def get(self, request, slug):
        """The event's organizers (superusers organize every event without being listed)."""
        return Response(_listing(self.event))

    @extend_schema(request=UsernameSerializer, responses={200: ORGANIZER, 201: ORGANIZER, 404: ERROR})
    def post(self, request, slug):
        """Add a co-organizer by username: 201 when added, 200 when they already were one."""
        data = UsernameSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        added = organizers.add_organizer(event=self.event, username=data.validated_data["username"])
        return Response(_listing(self.event), status=201 if added else 200)

    @extend_schema(request=UsernameSerializer, responses={200: ORGANIZER, 404: ERROR, 409: ERROR})
    def delete(self, request, slug):
        """Remove a co-organizer by username (never the last one: 409 conflict)."""
        data = UsernameSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organizers.remove_organizer(event=self.event, username=data.validated_data["username"])
        return Response(_listing(self.event))
