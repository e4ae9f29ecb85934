"""Rounds of an event (contract 5.1): list, prepare, start."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from voting.events import rounds
from voting.events.models import Round
from voting.events.permissions import Organizers, OrganizersWrite
from voting.events.scope import ERROR, EventScoped

ROUND = inline_serializer(
    "Round",
    {
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "started_at": serializers.DateTimeField(),
    },
)


class RoundNameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")

    def validate_name(self, value):
        if any(ord(ch) < 32 for ch in value):
            raise serializers.ValidationError("Control characters are not allowed.")
        return value


class RoundListView(EventScoped):
    permission_classes = [OrganizersWrite]

    @extend_schema(responses=ROUND)
    def get(self, request, slug):
        """Every round of the event, in order; `started_at` is null for one prepared for later."""
        return Response([rounds.round_dict(r) for r in Round.objects.filter(event=self.event)])

    @extend_schema(request=RoundNameSerializer, responses={201: ROUND, 403: ERROR})
    def post(self, request, slug):
        """Prepare the next round (organizers); it starts with POST .../rounds/<id>/start."""
        data = RoundNameSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = rounds.create_round(event=self.event, name=data.validated_data["name"])
        return Response(rounds.round_dict(created), status=201)


class RoundStartView(EventScoped):
    permission_classes = [Organizers]

    @extend_schema(request=None, responses={200: ROUND, 403: ERROR, 404: ERROR, 409: ERROR})
    def post(self, request, slug, pk):
        """Close the current round now and open this one: proposals open, voting closed until
        the organizers open it, every budget fresh, unscheduled proposals carried over at zero."""
        return Response(rounds.round_dict(rounds.start_round(event=self.event, round_id=pk)))
