"""JSON shapes of the contract for votes, /me and results."""

from rest_framework import serializers

from voting.events.serializers import AttendeeSerializer
from voting.proposals.models import Proposal


class DotsSerializer(serializers.Serializer):
    dots = serializers.IntegerField(min_value=0, max_value=1000)


class MeSerializer(serializers.Serializer):
    attendee = AttendeeSerializer()
    budget = serializers.IntegerField()
    remaining = serializers.IntegerField()
    votes = serializers.DictField(child=serializers.IntegerField())
    proposals = serializers.ListField(child=serializers.IntegerField())
    server_time = serializers.DateTimeField()


class ResultRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = Proposal
        fields = ["id", "title", "host_name", "dots", "voters"]
